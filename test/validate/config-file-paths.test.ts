/**
 * Rule ref-config-file (tools/validate/config-file-paths.ts): the files pgbouncer.ini names must
 * be where the PgBouncer container mounts them. Each hand edit below applies cleanly and leaves
 * PgBouncer unable to open a file (no users to check logins against, or no TLS); each working
 * variant must give nothing.
 */
import { describe, expect, it } from 'vitest';
import type { LoadedObject } from '../../tools/validate';
import { distLoadedObjects } from '../support/dist';
import { pick } from './fixtures/valid';
import { check } from './helpers';

const CONFIG = 'bookedbarber-pgbouncer-shard-2-config';
const DEPLOYMENT = 'bookedbarber-pgbouncer-shard-2';
const AUTH = 'auth_file = /etc/pgbouncer/auth/userlist.txt';
const CA = 'server_tls_ca_file = /etc/pgbouncer/ca/ca.crt';

const folder = () => distLoadedObjects(['us-east-1', 'argocd']);
const found = (objects: LoadedObject[]) => check(objects).filter((f) => f.rule === 'ref-config-file');
const iniOf = (objects: LoadedObject[]) => {
  const data = pick(objects, 'ConfigMap', CONFIG).data as Record<string, string>;
  const key = Object.keys(data).find((k) => k.endsWith('pgbouncer.ini'))!;
  return { data, key };
};
const editIni = (objects: LoadedObject[], from: string, to: string) => {
  const { data, key } = iniOf(objects);
  expect(data[key]).toContain(from);
  data[key] = data[key]!.replace(from, to);
};
const pod = (objects: LoadedObject[]) => pick(objects, 'Deployment', DEPLOYMENT).spec.template.spec;
const pgbouncer = (objects: LoadedObject[]) => pod(objects).containers.find((c: any) => c.name === 'pgbouncer');
const volume = (objects: LoadedObject[], name: string) => pod(objects).volumes.find((v: any) => v.name === name);

describe('ref-config-file: the files pgbouncer.ini names are mounted', () => {
  it('the committed folder has no finding (every auth_file and TLS file is mounted)', () => {
    const objects = folder();
    expect(iniOf(objects).data[iniOf(objects).key]).toContain(AUTH);
    expect(found(objects)).toEqual([]);
  });

  it('auth_file in a folder beside the mounts (auths/ for auth/): none holds it', () => {
    const objects = folder();
    editIni(objects, AUTH, 'auth_file = /etc/pgbouncer/auths/userlist.txt');
    const findings = found(objects);
    expect(findings.map((f) => `${f.file} ${f.path}`)).toEqual([expect.stringMatching(/^us-east-1\/pgbouncer\.yaml spec\.template\.spec\.containers\[\d+\]\.volumeMounts$/)]);
    expect(findings[0]!.message).toContain('auth_file = /etc/pgbouncer/auths/userlist.txt');
    expect(findings[0]!.message).toContain('/etc/pgbouncer/auth,');
    expect(findings[0]!.message).toContain('logins fail');
  });

  it('the auth Secret mounted under another file name (items path), and a CA file name the volume does not hold', () => {
    const objects = folder();
    volume(objects, 'auth').secret.items[0].path = 'users.txt';
    editIni(objects, CA, 'server_tls_ca_file = /etc/pgbouncer/ca/root.crt');
    const findings = found(objects);
    expect(findings.map((f) => f.path)).toEqual(['spec.template.spec.volumes', 'spec.template.spec.volumes']);
    const messages = findings.map((f) => f.message).join('\n');
    expect(messages).toContain('holds users.txt, not userlist.txt');
    expect(messages).toContain('holds ca.crt, not root.crt');
    expect(messages).toContain('cannot set up TLS');
    expect(findings.map((f) => f.hint).join('\n')).toContain('point auth_file at /etc/pgbouncer/auth/users.txt');
  });

  it('working variants: a file of the image outside the mounts, a Secret mounted whole whose keys are not rendered, a file mounted by subPath, a sidecar mounting the ini alone, a projected volume', () => {
    const outside = folder();
    editIni(outside, CA, 'server_tls_ca_file = /etc/ssl/certs/ca-certificates.crt');
    expect(found(outside)).toEqual([]);

    // A Secret mounted whole: its files are the keys the ExternalSecret producing it writes, and
    // not judged when that is not rendered here.
    const whole = folder();
    const secretName = volume(whole, 'ca').secret.secretName;
    delete volume(whole, 'ca').secret.items;
    editIni(whole, CA, 'server_tls_ca_file = /etc/pgbouncer/ca/anything.crt');
    expect(found(whole).map((f) => f.message).join('\n')).toMatch(/holds .*, not anything\.crt/);
    const producer = whole.findIndex((o) => (o.object as any).kind === 'ExternalSecret' && ((o.object as any).spec.target?.name ?? (o.object as any).metadata.name) === secretName);
    expect(producer).toBeGreaterThanOrEqual(0);
    whole.splice(producer, 1);
    expect(found(whole)).toEqual([]);

    const subPath = folder();
    const auth = pgbouncer(subPath).volumeMounts.find((m: any) => m.name === 'auth');
    auth.mountPath = '/etc/pgbouncer/userlist.txt';
    auth.subPath = 'userlist.txt';
    editIni(subPath, AUTH, 'auth_file = /etc/pgbouncer/userlist.txt');
    expect(found(subPath)).toEqual([]);

    // A sidecar mounting the ini alone (a config reloader): PgBouncer itself mounts the files.
    const sidecar = folder();
    const config = pgbouncer(sidecar).volumeMounts.find((m: any) => m.name === 'config');
    pod(sidecar).containers.push({ ...structuredClone(pgbouncer(sidecar)), name: 'reloader', ports: [], volumeMounts: [structuredClone(config)] });
    expect(found(sidecar)).toEqual([]);

    const projected = folder();
    const ca = volume(projected, 'ca');
    ca.projected = { sources: [{ secret: { name: ca.secret.secretName, items: ca.secret.items } }] };
    delete ca.secret;
    expect(found(projected)).toEqual([]);
    editIni(projected, CA, 'server_tls_ca_file = /etc/pgbouncer/ca/other.crt');
    expect(found(projected).map((f) => f.message).join('\n')).toContain('holds ca.crt, not other.crt');
  });
});
