/**
 * Shares repeated subschemas of an upstream schema before ajv compiles it.
 *
 * CRD schemas have no `$ref`: every repetition is spelt out. Argo CD's ApplicationSet repeats
 * its Application template under every generator and every nested matrix/merge generator, so its
 * strict schema is 290 KB of which 23 KB are distinct, and ajv's standalone code for it was
 * 6.8 MB; Prometheus, Alertmanager and the Rollout repeat their container schemas the same way.
 * Loading that code is most of what the upstream layer costs per run (V8 reads and
 * deserializes all of it). Here each subschema that occurs twice or more becomes one entry of
 * the root's `definitions` and every occurrence a `$ref` to it: ajv then compiles it once, as a
 * function the occurrences call (ApplicationSet: 6.8 MB → 0.3 MB of code).
 *
 * Same results: a `$ref` to a schema validates exactly as that schema in place (CRD schemas have
 * no `$id` or `$ref` of their own, and a whole subschema is replaced, never one with siblings),
 * and ajv reports its errors at the same instance paths with the same keywords and parameters
 * (test/validate/schema-dedupe.test.ts compares both on every rendered object and broken variants).
 */
import { createHash } from 'node:crypto';
import { isRecord } from './types';

/** Where a schema holds subschemas: keyword maps, lists and single subschemas (strictSchema's walk). */
const SCHEMA_MAPS = ['properties', 'patternProperties', 'definitions'];
const SCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf'];
const SCHEMA_ONE = ['additionalProperties', 'items', 'not'];

/** Shorter subschemas stay in place: a call costs more than it saves. */
const MIN_SHARED_LENGTH = 200;

/** JSON with keys sorted: equal schemas, equal text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isRecord(value)) return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

/** Calls `visit` on each direct subschema of `schema`, with a function that replaces it. */
function eachSubschema(schema: Record<string, unknown>, visit: (sub: unknown) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (SCHEMA_MAPS.includes(key) && isRecord(value)) out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, visit(sub)]));
    else if (SCHEMA_LISTS.includes(key) && Array.isArray(value)) out[key] = value.map(visit);
    else if (SCHEMA_ONE.includes(key) && isRecord(value)) out[key] = visit(value);
    else out[key] = value;
  }
  return out;
}

/**
 * `root` with every subschema that occurs at least twice (and is not tiny) moved to
 * `root.definitions` under a name derived from its content (`shared-<sha1 prefix>`), each
 * occurrence replaced by `{ $ref: '#/definitions/<name>' }` (a reference within the same document,
 * also when the document is registered under an `$id`, as the Kubernetes definitions are). The
 * root itself is never moved.
 */
export function shareRepeatedSubschemas(root: Record<string, unknown>): Record<string, unknown> {
  const canonicalOf = new Map<unknown, string>();
  const occurrences = new Map<string, number>();
  const count = (schema: unknown, isRoot: boolean): void => {
    if (!isRecord(schema)) return;
    eachSubschema(schema, (sub) => count(sub, false));
    const text = canonical(schema);
    canonicalOf.set(schema, text);
    if (!isRoot && text.length >= MIN_SHARED_LENGTH) occurrences.set(text, (occurrences.get(text) ?? 0) + 1);
  };
  count(root, true);

  const shared: Record<string, unknown> = {};
  const nameOf = new Map<string, string>();
  const rewrite = (schema: unknown, isShared: boolean): unknown => {
    if (!isRecord(schema)) return schema;
    const text = canonicalOf.get(schema) ?? canonical(schema);
    if (!isShared && (occurrences.get(text) ?? 0) >= 2) {
      let name = nameOf.get(text);
      if (!name) {
        name = `shared-${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
        nameOf.set(text, name);
        shared[name] = rewrite(schema, true);
      }
      return { $ref: `#/definitions/${name}` };
    }
    return eachSubschema(schema, (sub) => rewrite(sub, false));
  };
  const out = eachSubschema(root, (sub) => rewrite(sub, false));
  if (Object.keys(shared).length === 0) return out;
  const existing = isRecord(out.definitions) ? out.definitions : {};
  // Sorted: the same schema gives the same compiled code on every machine.
  const sorted = Object.fromEntries(Object.entries(shared).sort(([a], [b]) => (a < b ? -1 : 1)));
  return { ...out, definitions: { ...existing, ...sorted } };
}
