/**
 * Field-level comparison of two plain objects (parsed YAML). Lists whose items all carry a
 * unique `name` on both sides (containers, initContainers, env, ports, volumes, volumeMounts,
 * AnalysisTemplate metrics, ...) are matched by name, the way Kubernetes merges them, so a
 * reorder is no change; other lists are matched by index.
 */
import { compareText } from './tree';

/** One changed field. `before` / `after` are absent when the field was added / removed. */
export interface FieldChange {
  readonly path: string;
  /** The path as segments: strings are keys, `{ name }` a list item matched by name, numbers an index. */
  readonly segments: readonly Segment[];
  readonly before?: unknown;
  readonly after?: unknown;
}

export type Segment = string | number | { readonly name: string };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (isPlainObject(a)) {
    if (!isPlainObject(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    for (const k of ka) if (!(k in b) || !deepEqual(a[k], b[k])) return false;
    return true;
  }
  return false;
}

/** The names of a list's items if every item is an object with a unique string `name`; else undefined. */
function uniqueNames(list: readonly unknown[]): string[] | undefined {
  const names: string[] = [];
  const seen = new Set<string>();
  for (const item of list) {
    if (!isPlainObject(item) || typeof item.name !== 'string' || seen.has(item.name)) return undefined;
    seen.add(item.name);
    names.push(item.name);
  }
  return names;
}

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

export function formatPath(segments: readonly Segment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (typeof s === 'string') out += PLAIN_KEY.test(s) ? (out === '' ? s : `.${s}`) : `[${JSON.stringify(s)}]`;
    else out += `[${s.name}]`;
  }
  return out;
}

function push(out: FieldChange[], segments: Segment[], has: { before: boolean; after: boolean }, before: unknown, after: unknown): void {
  const change: { path: string; segments: Segment[]; before?: unknown; after?: unknown } = { path: formatPath(segments), segments: [...segments] };
  if (has.before) change.before = before;
  if (has.after) change.after = after;
  out.push(change);
}

function walk(a: unknown, b: unknown, segments: Segment[], out: FieldChange[]): void {
  if (a === b) return;
  if (isPlainObject(a) && isPlainObject(b)) {
    // Only the keys whose values differ, in code-unit order: equal subtrees (most of an object
    // whose one label changed) are compared once, without allocating paths or key lists.
    const keys: string[] = [];
    for (const k of Object.keys(a)) {
      const inA = a[k] !== undefined;
      const inB = Object.prototype.hasOwnProperty.call(b, k) && b[k] !== undefined;
      if (inA !== inB || (inA && !deepEqual(a[k], b[k]))) keys.push(k);
    }
    for (const k of Object.keys(b)) if (b[k] !== undefined && !Object.prototype.hasOwnProperty.call(a, k)) keys.push(k);
    keys.sort(compareText);
    for (const k of keys) {
      const inA = Object.prototype.hasOwnProperty.call(a, k) && a[k] !== undefined;
      const inB = Object.prototype.hasOwnProperty.call(b, k) && b[k] !== undefined;
      segments.push(k);
      if (inA && inB) walk(a[k], b[k], segments, out);
      else if (inA) push(out, segments, { before: true, after: false }, a[k], undefined);
      else if (inB) push(out, segments, { before: false, after: true }, undefined, b[k]);
      segments.pop();
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const namesA = uniqueNames(a);
    const namesB = namesA && uniqueNames(b);
    if (namesA && namesB && a.length + b.length > 0) {
      const byNameB = new Map(namesB.map((n, i) => [n, b[i]]));
      const inA = new Set(namesA);
      // Old order first (removed and changed items), then the items only in the new list.
      for (let i = 0; i < a.length; i++) {
        const name = namesA[i];
        segments.push({ name });
        if (byNameB.has(name)) walk(a[i], byNameB.get(name), segments, out);
        else push(out, segments, { before: true, after: false }, a[i], undefined);
        segments.pop();
      }
      for (let i = 0; i < b.length; i++) {
        if (inA.has(namesB[i])) continue;
        segments.push({ name: namesB[i] });
        push(out, segments, { before: false, after: true }, undefined, b[i]);
        segments.pop();
      }
      return;
    }
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) {
      segments.push(i);
      if (i < a.length && i < b.length) walk(a[i], b[i], segments, out);
      else if (i < a.length) push(out, segments, { before: true, after: false }, a[i], undefined);
      else push(out, segments, { before: false, after: true }, undefined, b[i]);
      segments.pop();
    }
    return;
  }
  if (!deepEqual(a, b)) push(out, segments, { before: true, after: true }, a, b);
}

/** Every changed leaf (or added / removed subtree) between two values, in a deterministic order. */
export function diffValues(a: unknown, b: unknown): FieldChange[] {
  const out: FieldChange[] = [];
  walk(a, b, [], out);
  return out;
}
