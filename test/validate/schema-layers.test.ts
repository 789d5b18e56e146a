/**
 * The validator runs the in-repo schema layers (unknown fields from the cdk8s mappers, built-in
 * types from kubernetes-models) only on objects the upstream layer refuses (issue 16: they were
 * half of validation). That is safe only if they never find a problem in an object the strict
 * upstream schema accepts. This test breaks every rendered object in thousands of ways (an
 * unknown field at some depth, a field name one letter off, a value of the wrong type) and checks
 * exactly that: whatever the in-repo layers find, the upstream layer finds too.
 */
import { describe, expect, it } from 'vitest';
import { definition } from '../../main';
import { loadPlan } from '../../regions/load';
import { renderAll } from '../../tools/synth/run';
import { validateObjects } from '../../tools/validate';
import { checkKnownFields } from '../../tools/validate/known-fields';
import { checkKubernetesTypes } from '../../tools/validate/kubernetes-types';
import { describeObject, type Entry } from '../../tools/validate/types';
import { resolveSchemaDir, upstreamSchemas } from '../../tools/validate/upstream-schema';
import { REGIONS_DIR } from '../support/regions';
import { renderShipped } from '../support/rendered';

type Node = Record<string, unknown> | unknown[];

/** Every object node (mapping) of a document with the path to it, skipping free-form maps. */
function mappings(value: unknown, path: (string | number)[] = [], out: { node: Record<string, unknown>; path: (string | number)[] }[] = []) {
  if (Array.isArray(value)) value.forEach((v, i) => mappings(v, [...path, i], out));
  else if (value !== null && typeof value === 'object') {
    out.push({ node: value as Record<string, unknown>, path });
    for (const [k, v] of Object.entries(value)) mappings(v, [...path, k], out);
  }
  return out;
}

function entryOf(obj: Record<string, unknown>, file: string): Entry {
  return { file, index: 0, obj, region: 'us-east-1', id: describeObject(obj) };
}

/** A copy of `obj` with `change` applied to the node at `path`. */
function changed(obj: Record<string, unknown>, path: (string | number)[], change: (node: Record<string, unknown>) => void) {
  const copy = structuredClone(obj);
  let node: unknown = copy;
  for (const segment of path) node = (node as Node as Record<string, unknown>)[segment as string];
  change(node as Record<string, unknown>);
  return copy;
}

describe('the in-repo schema layers find nothing the upstream schemas accept', () => {
  it('holds for every object of the shipped render and thousands of broken variants of them', () => {
    const { dir } = resolveSchemaDir(undefined);
    const upstream = upstreamSchemas(dir!);
    const files = renderShipped().filter((f) => f.path.startsWith('us-east-1/') || f.path.startsWith('argocd/'));
    // Two objects of each kind in each file: more of the same kind add time, not shapes.
    const perKind = new Map<string, number>();
    const objects = files
      .flatMap((f) => (f.documents ?? []).map((d) => ({ obj: d as Record<string, unknown>, file: f.path })))
      .filter(({ obj, file }) => {
        const key = `${file} ${String(obj.kind)}`;
        perKind.set(key, (perKind.get(key) ?? 0) + 1);
        return perKind.get(key)! <= 2;
      });
    expect(new Set(objects.map(({ obj }) => obj.kind)).size).toBeGreaterThan(40);
    const misses: string[] = [];
    let variants = 0;
    let refused = 0;
    for (const { obj, file } of objects) {
      const nodes = mappings(obj).filter(({ node }) => Object.keys(node).length > 0);
      // A spread of nodes through the object: every one for small objects, every 7th for large ones.
      const step = nodes.length > 40 ? 7 : 1;
      for (let i = 0; i < nodes.length; i += step) {
        const { path, node } = nodes[i]!;
        const keys = Object.keys(node);
        const key = keys[i % keys.length]!;
        const value = node[key];
        const breaks: Record<string, unknown>[] = [
          changed(obj, path, (n) => (n.zzUnknownField = 'x')),
          changed(obj, path, (n) => {
            n[key.length > 3 ? key.slice(0, -1) : `${key}x`] = n[key];
            delete n[key];
          }),
        ];
        if (typeof value === 'string') breaks.push(changed(obj, path, (n) => (n[key] = 5)));
        if (typeof value === 'number') breaks.push(changed(obj, path, (n) => (n[key] = 'five')));
        if (typeof value === 'boolean') breaks.push(changed(obj, path, (n) => (n[key] = 'yes')));
        if (Array.isArray(value)) breaks.push(changed(obj, path, (n) => (n[key] = { first: value[0] })));
        for (const broken of breaks) {
          variants += 1;
          const entry = entryOf(broken, file);
          const inRepo = [...checkKnownFields(entry), ...checkKubernetesTypes(entry)];
          const fromUpstream = upstream.validate(entry);
          if (fromUpstream.length > 0) refused += 1;
          if (inRepo.length > 0 && upstream.settles(entry, fromUpstream)) misses.push(`${entry.id} ${inRepo.map((f) => `${f.rule} ${f.path}`).join(', ')}`);
        }
      }
    }
    expect(misses).toEqual([]);
    // The breaks are real: most are refused (the rest land in free-form maps such as labels or data).
    expect(variants).toBeGreaterThan(3000);
    expect(refused / variants).toBeGreaterThan(0.5);
  });

  it('still words a refused object with the in-repo layers (a misspelt field gets its "did you mean")', () => {
    const files = renderAll(definition, loadPlan(REGIONS_DIR), { only: ['us-east-1'] }).filter((f) => f.path === 'us-east-1/api.yaml');
    const rollout = structuredClone(files[0]!.documents!.find((d) => (d as { kind: string }).kind === 'Rollout')) as Record<string, any>;
    rollout.spec.replica = rollout.spec.replicas;
    delete rollout.spec.replicas;
    const report = validateObjects([{ file: 'us-east-1/api.yaml', index: 0, object: rollout, region: 'us-east-1' }]);
    const unknown = report.findings.find((f) => f.rule === 'schema-unknown-field' && f.path === 'spec.replica');
    expect(unknown?.hint).toContain('replicas');
    expect(report.findings.some((f) => f.rule === 'upstream-schema' && f.path === 'spec.replica')).toBe(true);
  });
});
