import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateObjects } from '../../tools/validate';
import { DEFAULT_SCHEMA_DIR } from '../../tools/validate/upstream-schema';
import { tempDir } from '../support/regions';
import { pick, validObjects } from './fixtures/valid';

/**
 * Layer 2 reads the committed imports/upstream (issue 9 item 3: the same validation on every
 * clone), so none of this skips: no folder outside the repository is involved.
 */
describe('layer 2: upstream schemas (committed imports/upstream)', () => {
  const upstream = (objects = validObjects()) => validateObjects(objects).findings.filter((f) => f.rule === 'upstream-schema');

  it('reads the committed imports/upstream by default, inside the repository', () => {
    expect(path.relative(path.resolve(__dirname, '../..'), DEFAULT_SCHEMA_DIR)).toBe(path.join('imports', 'upstream'));
    expect(fs.existsSync(path.join(DEFAULT_SCHEMA_DIR, 'k8s-1.28.yaml'))).toBe(true);
  });

  it('the valid fixture set passes the upstream Kubernetes and CRD schemas', () => {
    expect(validateObjects(validObjects()).findings).toEqual([]);
  });

  it('a typo in a built-in kind fails with upstream-schema (as well as the in-repo layer)', () => {
    const objects = validObjects();
    const spec = pick(objects, 'Deployment', 'bookedbarber-api').spec;
    spec.replica = spec.replicas;
    delete spec.replicas;
    const all = validateObjects(objects).findings;
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

  it('a kind with no pinned schema is a finding, not a skip', () => {
    const objects = validObjects();
    const crd = pick(objects, 'Rollout', 'bookedbarber-web');
    crd.apiVersion = 'example.com/v1';
    crd.kind = 'Widget';
    const findings = upstream([objects.find((o) => o.object === crd)!]);
    expect(findings.map((f) => f.message)).toEqual([expect.stringContaining('no upstream schema for example.com/v1 Widget')]);
  });

  it('reads another folder in the same format when asked, fails on a missing one, and can be switched off', () => {
    const dir = tempDir('bb-upstream-');
    fs.copyFileSync(path.join(DEFAULT_SCHEMA_DIR, 'k8s-1.28.yaml'), path.join(dir, 'k8s-1.28.yaml'));
    const objects = validObjects();
    const messages = validateObjects(objects, { schemaDir: dir }).findings.filter((f) => f.rule === 'upstream-schema').map((f) => f.message);
    expect(messages).toContain(`no upstream schema for argoproj.io/v1alpha1 Rollout in ${path.relative(process.cwd(), dir)}`);
    expect(messages.some((m) => m.includes('apps/v1'))).toBe(false); // built-ins still validate
    expect(() => validateObjects(objects, { schemaDir: '/nonexistent/crds' })).toThrow('/nonexistent/crds not found');
    expect(validateObjects(objects, { schemaDir: null }).notes.join()).toContain('disabled');
  });
});
