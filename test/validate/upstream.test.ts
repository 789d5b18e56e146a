import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateObjects } from '../../tools/validate';
import { pick, validObjects } from './fixtures/valid';

/** The pinned upstream schemas live outside the repo (never copied in); CI may not have them. */
const shared = process.env.SCHEMA_DIR ?? path.resolve(__dirname, '../../../shared/crds');
const present = fs.existsSync(shared);
if (!present) console.log(`upstream schema tests skipped: ${shared} not found (set SCHEMA_DIR to the pinned schema folder)`);

describe.skipIf(!present)('layer 2: upstream schemas (../shared/crds)', () => {
  const upstream = (objects = validObjects()) => validateObjects(objects, { schemaDir: shared }).findings.filter((f) => f.rule === 'upstream-schema');

  it('the valid fixture set passes the upstream Kubernetes and CRD schemas', () => {
    expect(validateObjects(validObjects(), { schemaDir: shared }).findings).toEqual([]);
  });

  it('a typo in a built-in kind fails with upstream-schema (as well as the in-repo layer)', () => {
    const objects = validObjects();
    const spec = pick(objects, 'Deployment', 'bookedbarber-api').spec;
    spec.replica = spec.replicas;
    delete spec.replicas;
    const all = validateObjects(objects, { schemaDir: shared }).findings;
    expect(all.map((f) => `${f.rule} ${f.path}`).sort()).toEqual(['schema-unknown-field spec.replica', 'upstream-schema spec.replica']);
  });

  it('a typo inside a CRD fails with upstream-schema', () => {
    const objects = validObjects();
    pick(objects, 'Rollout', 'bookedbarber-web').spec.strategy.canary.stepz = [];
    expect(upstream(objects).map((f) => f.path)).toEqual(['spec.strategy.canary.stepz']);
  });

  it('types, int-or-string and quantities follow the API server', () => {
    const objects = validObjects();
    const c = pick(objects, 'Deployment', 'bookedbarber-api').spec.template.spec.containers[0];
    c.resources.requests.cpu = 0.5; // a number is a valid Quantity
    c.livenessProbe.httpGet.port = 8080; // int-or-string
    c.ports[0].containerPort = '8080'; // must be an integer
    expect(upstream(objects).map((f) => f.path)).toEqual(['spec.template.spec.containers[0].ports[0].containerPort']);
  });

  it('an apiVersion the CRD does not serve fails', () => {
    const objects = validObjects();
    pick(objects, 'ExternalSecret', 'bookedbarber-api-db').apiVersion = 'external-secrets.io/v1';
    const findings = upstream(objects);
    expect(findings).toHaveLength(1);
    expect(findings[0].message).toContain('does not define version v1');
  });

  it('notes when the folder is missing, and can be switched off', () => {
    expect(validateObjects(validObjects(), { schemaDir: '/nonexistent/crds' }).notes.join()).toContain('not found');
    expect(validateObjects(validObjects(), { schemaDir: null }).notes.join()).toContain('disabled');
  });
});
