/**
 * The upstream layer compiles each schema with its repeated subschemas shared (one definition,
 * `$ref`s to it) instead of spelt out: 20× less code for ApplicationSet, which is what a run
 * loads (tools/validate/schema-dedupe.ts). That is only allowed if nothing else changes:
 * - every pinned schema, its shared references expanded again, is exactly the schema upstream
 *   wrote (a `$ref` alone stands for the schema it names, JSON Schema draft-07 §8.3);
 * - ajv then reports the same: compiled as written (ajv's defaults) and in the shared form, a kind
 *   gives the same verdict and the same errors (path, keyword, parameters) for rendered objects
 *   and broken variants of them. Checked on the kinds that compile in well under a second
 *   (built-ins, Istio, the Rollout...): compiling ApplicationSet as written alone takes 2 s.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { describe, expect, it } from 'vitest';
import { shareRepeatedSubschemas } from '../../tools/validate/schema-dedupe';
import { DEFAULT_SCHEMA_DIR, strictSchema } from '../../tools/validate/upstream-schema';
import { renderShipped } from '../support/rendered';
import { parseAllCached } from '../support/yaml-cache';

const ajvOptions = { strict: false, allErrors: true, validateFormats: false, validateSchema: false, unicodeRegExp: false } as const;
/** The reference: ajv as it comes (refs inlined where it likes). */
const referenceAjv = () => new Ajv(ajvOptions);
/** As the upstream layer compiles the shared form: every `$ref` a call. */
const sharedAjv = () => new Ajv({ ...ajvOptions, inlineRefs: false });

type Doc = Record<string, any>;
/** Parsed once per file for all tests here (6 MB of YAML; across runs kept as JSON: yaml-cache.ts). */
const parsed = new Map<string, Doc[]>();
function docsOf(file: string): Doc[] {
  if (!parsed.has(file)) parsed.set(file, parseAllCached(fs.readFileSync(path.join(DEFAULT_SCHEMA_DIR, file), 'utf8')) as Doc[]);
  return parsed.get(file)!;
}

const sizeOf = (schema: unknown) => JSON.stringify(schema).length;

/** The Kubernetes definitions document both ways, each compiled by one ajv: kinds share definitions. */
function kubernetesAjvs(k8s: Doc) {
  const doc = { $id: 'k8s.json', definitions: Object.fromEntries(Object.entries(k8s.definitions).map(([n, s]) => [n, strictSchema(s)])) };
  return { reference: referenceAjv().addSchema(doc), shared: sharedAjv().addSchema(shareRepeatedSubschemas(doc)) };
}

/** Both validators of one kind, or undefined when the pinned files do not define it. */
function validatorsFor(apiVersion: string, kind: string, k8s: Doc, crds: Doc[], k8sAjvs: () => ReturnType<typeof kubernetesAjvs>): { reference: ValidateFunction; shared: ValidateFunction } | undefined {
  const gvk = (d: Doc) => (d['x-kubernetes-group-version-kind'] ?? []).some((g: Doc) => (g.group ? `${g.group}/${g.version}` : g.version) === apiVersion && g.kind === kind);
  const defName = Object.keys(k8s.definitions).find((n) => gvk(k8s.definitions[n]));
  if (defName) {
    const ajvs = k8sAjvs();
    return { reference: ajvs.reference.getSchema(`k8s.json#/definitions/${defName}`)!, shared: ajvs.shared.getSchema(`k8s.json#/definitions/${defName}`)! };
  }
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  const crd = crds.find((d) => d.spec.group === group && d.spec.names.kind === kind);
  const version = crd?.spec.versions.find((v: Doc) => v.name === apiVersion.slice(apiVersion.indexOf('/') + 1));
  if (!version) return undefined;
  const schema = strictSchema(version.schema.openAPIV3Schema) as Doc;
  return { reference: referenceAjv().compile(schema), shared: sharedAjv().compile(shareRepeatedSubschemas(schema)) };
}

const comparable = (errors: ErrorObject[] | null | undefined) =>
  (errors ?? []).map((e) => ({ instancePath: e.instancePath, keyword: e.keyword, params: e.params, message: e.message }));

/** Every mapping of a document with its path (where variants break something). */
function mappings(value: unknown, at: (string | number)[] = [], out: { node: Doc; at: (string | number)[] }[] = []) {
  if (Array.isArray(value)) value.forEach((v, i) => mappings(v, [...at, i], out));
  else if (value !== null && typeof value === 'object') {
    out.push({ node: value as Doc, at });
    for (const [k, v] of Object.entries(value)) mappings(v, [...at, k], out);
  }
  return out;
}

function changed(obj: Doc, at: (string | number)[], change: (node: Doc) => void): Doc {
  const copy = structuredClone(obj);
  change(at.reduce<any>((node, segment) => node[segment], copy));
  return copy;
}

/** The object and broken copies of it: an unknown field, a misspelt key, a value of the wrong type. */
function variantsOf(obj: Doc): Doc[] {
  const out = [obj];
  const nodes = mappings(obj).filter(({ node }) => Object.keys(node).length > 0);
  const step = Math.max(1, Math.floor(nodes.length / 25));
  for (let i = 0; i < nodes.length; i += step) {
    const { node, at } = nodes[i]!;
    const key = Object.keys(node)[i % Object.keys(node).length]!;
    const value = node[key];
    out.push(changed(obj, at, (n) => (n.zzUnknownField = 'x')));
    out.push(changed(obj, at, (n) => {
      n[`${key}x`] = n[key];
      delete n[key];
    }));
    if (typeof value === 'string') out.push(changed(obj, at, (n) => (n[key] = 5)));
    if (typeof value === 'number' || typeof value === 'boolean') out.push(changed(obj, at, (n) => (n[key] = 'five')));
    if (Array.isArray(value)) out.push(changed(obj, at, (n) => (n[key] = { first: value[0] })));
  }
  return out;
}

describe('sharing repeated subschemas (tools/validate/schema-dedupe.ts)', () => {
  it('moves a subschema that occurs twice into definitions once and refers to it from both places', () => {
    const address = { type: 'object', properties: { street: { type: 'string', description: 'x'.repeat(40) }, city: { type: 'string', minLength: 1 }, zip: { type: 'string', pattern: '^[0-9]{5}$' }, country: { type: 'string', enum: ['DE', 'FR', 'NL', 'US'] } }, required: ['street', 'city'] };
    const schema = { type: 'object', properties: { home: structuredClone(address), work: structuredClone(address), note: { type: 'string' } } };
    const out = shareRepeatedSubschemas(schema) as Doc;
    const names = Object.keys(out.definitions);
    expect(names).toHaveLength(1);
    expect(out.properties.home).toEqual({ $ref: `#/definitions/${names[0]}` });
    expect(out.properties.work).toEqual(out.properties.home);
    expect(out.definitions[names[0]!]).toEqual(address);
    // Small or single subschemas stay where they are, and so does the input.
    expect(out.properties.note).toEqual({ type: 'string' });
    expect(schema.properties.home).toEqual(address);
    // Same input, same output (the compiled code is cached by content on every machine).
    expect(JSON.stringify(shareRepeatedSubschemas(structuredClone(schema)))).toBe(JSON.stringify(out));
  });

  it('leaves a schema without repetitions as it was', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' }, b: { type: 'array', items: { type: 'integer' } } }, required: ['a'] };
    expect(shareRepeatedSubschemas(schema)).toEqual(schema);
  });

  it('shrinks the pinned ApplicationSet schema to a fraction', () => {
    const crd = docsOf('applicationset.yaml').find((d) => d?.kind === 'CustomResourceDefinition')!;
    const schema = strictSchema(crd.spec.versions[0].schema.openAPIV3Schema);
    expect(sizeOf(shareRepeatedSubschemas(schema as Doc))).toBeLessThan(sizeOf(schema) / 5);
  });

  it('expands back to exactly the schema upstream wrote, for every pinned schema', () => {
    const k8s = docsOf('k8s-1.28.yaml').find((d) => d?.definitions)!;
    const crdSchemas = fs.readdirSync(DEFAULT_SCHEMA_DIR).filter((f) => f.endsWith('.yaml') && !f.startsWith('k8s-'))
      .flatMap(docsOf).filter((d) => d?.kind === 'CustomResourceDefinition')
      .flatMap((crd) => crd.spec.versions.map((v: Doc) => ({ name: `${crd.spec.names.kind} ${v.name}`, schema: strictSchema(v.schema.openAPIV3Schema) as Doc })));
    const k8sDoc = { $id: 'k8s.json', definitions: Object.fromEntries(Object.entries(k8s.definitions).map(([n, s]) => [n, strictSchema(s)])) };
    let sharedTotal = 0;
    for (const { name, schema } of [...crdSchemas, { name: 'k8s definitions', schema: k8sDoc }]) {
      const out = shareRepeatedSubschemas(schema);
      const definitions = (out.definitions ?? {}) as Doc;
      const shared = Object.keys(definitions).filter((n) => n.startsWith('shared-'));
      sharedTotal += shared.length;
      // Only the shared references expand: the Kubernetes definitions' own `$ref`s stay.
      const expand = (node: unknown): unknown => {
        if (Array.isArray(node)) return node.map(expand);
        if (node === null || typeof node !== 'object') return node;
        const ref = (node as Doc).$ref;
        if (typeof ref === 'string' && ref.startsWith('#/definitions/shared-')) return expand(definitions[ref.slice('#/definitions/'.length)]);
        return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, expand(v)]));
      };
      const { definitions: _, ...rest } = out;
      const kept = Object.fromEntries(Object.entries(definitions).filter(([n]) => !n.startsWith('shared-')));
      const expanded = expand(Object.keys(kept).length > 0 || 'definitions' in schema ? { ...rest, definitions: kept } : rest);
      expect(expanded, name).toEqual(schema);
    }
    // Not vacuous: the pinned schemas do repeat themselves.
    expect(sharedTotal).toBeGreaterThan(100);
  });

  it('gives the verdict and errors of the schema as written, for rendered objects and broken variants', () => {
    const k8s = docsOf('k8s-1.28.yaml').find((d) => d?.definitions)!;
    const crds = fs.readdirSync(DEFAULT_SCHEMA_DIR).filter((f) => f.endsWith('.yaml') && !f.startsWith('k8s-'))
      .flatMap(docsOf).filter((d) => d?.kind === 'CustomResourceDefinition');
    const files = renderShipped();
    // Two objects of each kind: more of the same kind add time, not shapes.
    const byKind = new Map<string, Doc[]>();
    for (const obj of files.flatMap((f) => (f.documents ?? []) as Doc[])) {
      const key = `${obj.apiVersion} ${obj.kind}`;
      const list = byKind.get(key) ?? [];
      if (list.length < 2) byKind.set(key, [...list, obj]);
    }
    expect(byKind.size).toBeGreaterThan(40);
    // Compiled as written, these take 0.4 to 2 s each; the expansion test above covers them.
    const SLOW_TO_COMPILE = ['ApplicationSet', 'Application', 'Prometheus', 'Alertmanager', 'AlertmanagerConfig', 'OpenTelemetryCollector', 'AnalysisTemplate'];
    let ajvs: ReturnType<typeof kubernetesAjvs> | undefined;
    const k8sAjvs = () => (ajvs ??= kubernetesAjvs(k8s));
    let compared = 0;
    let refused = 0;
    const differences: string[] = [];
    for (const [key, objects] of byKind) {
      const [apiVersion, kind] = key.split(' ') as [string, string];
      if (SLOW_TO_COMPILE.includes(kind)) continue;
      const validators = validatorsFor(apiVersion, kind, k8s, crds, k8sAjvs);
      expect(validators, key).toBeDefined();
      for (const variant of objects.flatMap(variantsOf)) {
        const verdict = validators!.reference(variant);
        if (validators!.shared(variant) !== verdict) differences.push(`${key}: verdict`);
        else if (JSON.stringify(comparable(validators!.shared.errors)) !== JSON.stringify(comparable(validators!.reference.errors))) differences.push(`${key}: errors`);
        compared += 1;
        if (!verdict) refused += 1;
      }
    }
    expect(differences).toEqual([]);
    // The variants are real breaks: most of them are refused.
    expect(compared).toBeGreaterThan(1500);
    expect(refused / compared).toBeGreaterThan(0.5);
  });
});
