/**
 * Layer 1a — unknown fields, for every kind we render, from the cdk8s L1 mappers.
 *
 * A mapper (`toJson_KubeDeploymentProps`) reads exactly the properties its type declares.
 * We hand it the parsed YAML wrapped in a recording Proxy: every property read on an object
 * node is recorded. Afterwards, on each object node where at least one key was read, an own
 * key that was never read is a field Kubernetes (or the CRD) does not know: the API server
 * would prune it silently (`replica: 3` → one replica). A node on which nothing was read is
 * free-form (`x-kubernetes-preserve-unknown-fields`, `any`): its subtree is skipped.
 *
 * Map fields (`labels`, `data`) go through `Object.entries` → `ownKeys` + `get`, so all their
 * keys count as read. Quantities and int-or-string are read as `obj.x?.value` on a primitive,
 * which is never proxied, so they are harmless. Fields `cdk8s import` renamed (`hostPID` read
 * as `obj.hostPid`) are recognised through the mapper's output (which uses the JSON name)
 * and, failing that, through the renamed-field table scanned from the mapper sources.
 */
import { child, item } from './paths';
import { findMapper, jsonNamesOf, knownKinds, objectMetaMapper, renamedFields } from './mapper-registry';
import { closest } from './suggest';
import { Entry, finding, isRecord, RawFinding } from './types';

type Segment = string | number;

class Recorder {
  readonly reads = new WeakMap<object, Set<string>>();
  private readonly proxies = new WeakMap<object, object>();
  private readonly isProxy = new WeakSet<object>();
  /** Where each proxied node sits in the object, to locate a value that crashed the mapper. */
  private readonly segments = new WeakMap<object, Segment[]>();
  /** The last property read: when a mapper throws, the culprit is at (or is) this spot. */
  private last?: { target: object; key: string };

  wrap<T extends object>(target: T, segs: Segment[] = []): T {
    const cached = this.proxies.get(target);
    if (cached) return cached as T;
    const self = this;
    this.segments.set(target, segs);
    const proxy = new Proxy(target, {
      get(t, key, receiver) {
        const value = Reflect.get(t, key, receiver);
        if (typeof key !== 'string') return value;
        self.last = { target: t, key };
        if (!Array.isArray(t)) {
          let set = self.reads.get(t);
          if (!set) self.reads.set(t, (set = new Set()));
          set.add(key);
        }
        // Only own data is proxied: prototype members (`map`, `length`) are returned as is.
        if (value !== null && typeof value === 'object' && Object.prototype.hasOwnProperty.call(t, key)) {
          return self.wrap(value, [...segs, Array.isArray(t) ? Number(key) : key]);
        }
        return value;
      },
    });
    this.proxies.set(target, proxy);
    this.isProxy.add(proxy);
    return proxy;
  }

  /**
   * The field that made the mapper throw: the value just read (`null.x`, a string where a
   * Date is expected), or the node a method was looked up on (`{}.map` — a map, not a list).
   */
  culprit(): Segment[] | undefined {
    if (!this.last) return undefined;
    const { target, key } = this.last;
    const segs = this.segments.get(target) ?? [];
    if (Object.prototype.hasOwnProperty.call(target, key)) return [...segs, Array.isArray(target) ? Number(key) : key];
    return segs.length > 0 ? segs : undefined;
  }

  /** An output node that is one of our proxies is a pass-through, not a mapped object. */
  mappedOutput(out: unknown, data: object): Record<string, unknown> | undefined {
    if (!isRecord(out) || out === data || this.isProxy.has(out)) return undefined;
    return out;
  }
}

function pathOf(segs: Segment[]): string {
  return segs.reduce<string>((p, s) => (typeof s === 'number' ? item(p, s) : child(p, s)), '');
}

/** Deletes the value at `segs` (in a clone we own), so the mapper can run past it. */
function remove(obj: Record<string, any>, segs: Segment[]): void {
  let node: any = obj;
  for (const s of segs.slice(0, -1)) node = node?.[s];
  if (node !== null && typeof node === 'object') delete node[segs[segs.length - 1] as any];
}

function isKnown(key: string, read: Set<string>, out: Record<string, unknown> | undefined): boolean {
  if (read.has(key) || (out !== undefined && Object.prototype.hasOwnProperty.call(out, key))) return true;
  const tsKeys = renamedFields().get(key);
  return tsKeys !== undefined && [...tsKeys].some((k) => read.has(k));
}

function unknownField(e: Entry, path: string, key: string, read: Set<string>): RawFinding {
  const candidates = [...read].flatMap((k) => {
    const json = jsonNamesOf(k);
    return json.length > 0 ? json : [k];
  });
  const guess = closest(key, candidates);
  const fieldPath = child(path, key);
  return finding(e, fieldPath, 'schema-unknown-field',
    `unknown field "${key}" at ${fieldPath}: ${e.obj.apiVersion} ${e.obj.kind} has no such field: the API server drops it silently (or rejects the object under strict field validation)`,
    guess ? `did you mean "${guess}"? (${child(path, guess)})` : `remove it, or check the field name against the ${e.obj.kind} API reference`);
}

function walk(e: Entry, rec: Recorder, node: unknown, out: unknown, path: string, findings: RawFinding[]): void {
  if (Array.isArray(node)) {
    node.forEach((el, i) => walk(e, rec, el, Array.isArray(out) ? out[i] : undefined, item(path, i), findings));
    return;
  }
  if (!isRecord(node)) return;
  const read = rec.reads.get(node);
  if (!read || read.size === 0) return; // free-form: nothing in the schema describes it
  const mapped = rec.mappedOutput(out, node);
  for (const key of Object.keys(node)) {
    if (!isKnown(key, read, mapped)) {
      findings.push(unknownField(e, path, key, read));
      continue;
    }
    walk(e, rec, node[key], mapped?.[key], child(path, key), findings);
  }
}

function unknownKind(e: Entry): RawFinding {
  const { apiVersion, kind } = e.obj;
  const kinds = knownKinds();
  const sameKind = kinds.filter(([, k]) => k === kind).map(([v, k]) => `${v} ${k}`).sort();
  const guess = closest(String(kind), new Set(kinds.map(([, k]) => k)));
  const hint = sameKind.length > 0
    ? `known versions of ${kind}: ${sameKind.join(', ')}`
    : guess
      ? `did you mean kind "${guess}" (${kinds.filter(([, k]) => k === guess).map(([v]) => v).sort().join(', ')})?`
      : 'if this is a new CRD, pin it in cdk8s.yaml and run `npm run import` so imports/ knows its schema';
  return finding(e, 'kind', 'schema-unknown-kind', `no schema for apiVersion "${apiVersion}" kind "${kind}" (not Kubernetes 1.28, not a CRD in imports/)`, hint);
}

export function checkKnownFields(e: Entry): RawFinding[] {
  const { apiVersion, kind } = e.obj;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || !apiVersion || !kind) {
    const missing = typeof apiVersion !== 'string' || !apiVersion ? 'apiVersion' : 'kind';
    return [finding(e, missing, 'schema-required', `the object has no ${missing}`, 'Every document must be a complete Kubernetes object with apiVersion and kind.')];
  }
  const info = findMapper(apiVersion, kind);
  if (!info) return [unknownKind(e)];
  // A value of the wrong type can make the mapper throw. Report it, drop it from a private
  // copy and map again, so one bad field does not hide the unknown fields elsewhere.
  const typeFindings: RawFinding[] = [];
  let data: Record<string, any> = e.obj;
  let rec: Recorder;
  let out: unknown;
  let metaOut: unknown;
  for (let attempt = 0; ; attempt++) {
    rec = new Recorder();
    const proxy = rec.wrap(data);
    try {
      out = info.mapper(proxy);
      // CRD mappers pass metadata through untouched: read it with the ObjectMeta mapper.
      metaOut = objectMetaMapper()((proxy as Record<string, unknown>).metadata);
      break;
    } catch (err) {
      const culprit = rec.culprit();
      const at = culprit ? pathOf(culprit) : '';
      typeFindings.push(finding(e, at, 'schema-type', `${at || 'the object'} does not have the type ${apiVersion} ${kind} expects (${(err as Error).message})`,
        'a field has the wrong type (e.g. a map where a list is expected); compare it with the API reference'));
      if (!culprit || attempt >= 20) return typeFindings;
      if (data === e.obj) data = structuredClone(e.obj);
      remove(data, culprit);
    }
  }
  const findings: RawFinding[] = [...typeFindings];
  const read = rec.reads.get(data) ?? new Set<string>();
  const mapped = rec.mappedOutput(out, data);
  for (const key of Object.keys(data)) {
    if (key === 'apiVersion' || key === 'kind') continue;
    if (key === 'metadata') walk(e, rec, data.metadata, metaOut, 'metadata', findings);
    else if (!isKnown(key, read, mapped)) findings.push(unknownField(e, '', key, read));
    else walk(e, rec, data[key], mapped?.[key], key, findings);
  }
  return findings;
}
