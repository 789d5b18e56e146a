/**
 * cdk8s' `ApiObject.toJson()`, the same result with a fraction of the work (issue 16).
 *
 * cdk8s 2.70 resolves an object value by value: for every string and number it looks up the App
 * by walking up the construct tree, allocates a ResolutionContext and a copy of the key path, and
 * asks each resolver in turn; then `sanitizeValue` copies the whole result again to drop empty
 * values and sort keys. That was a third of rendering, most of it garbage collection. Here both
 * happen in one pass with the resolvers' checks inlined — only when the App has exactly the three
 * built-in resolvers (LazyResolver, ImplicitTokenResolver, NumberStringUnionResolver, in that
 * order, as `new App()` makes them); any other App, and anything unexpected, takes cdk8s' own
 * code. Same order of evaluation (a Lazy is produced when cdk8s would produce it), same errors.
 * The metadata (cdk8s' `ApiObjectMetadataDefinition.toJson()`: the same resolve, then keys always
 * sorted and empty arrays and objects dropped) goes through the same pass.
 *
 * Installed by `useFastToJson()` on ApiObject.prototype, so the generated L1 classes, whose
 * `toJson()` maps the result of `super.toJson()`, get it too. test/synth/fast-to-json.test.ts
 * compares it with cdk8s' own `toJson` on every object synth renders.
 */
import { ApiObject, App, ImplicitTokenResolver, JsonPatch, Lazy, LazyResolver, NumberStringUnionResolver } from 'cdk8s';

/** cdk8s' own implementation, kept to fall back on and to compare with. */
export const cdk8sToJson: (this: ApiObject) => unknown = ApiObject.prototype.toJson;

const UNION_TYPES = ['number', 'string'];

/** Whether an App resolves with exactly the built-in resolvers, in their order. */
function builtInResolvers(app: App): boolean {
  const r = (app as { resolvers?: unknown }).resolvers;
  return Array.isArray(r) && r.length === 3 && r[0] instanceof LazyResolver && r[1] instanceof ImplicitTokenResolver && r[2] instanceof NumberStringUnionResolver
    && r[0].constructor === LazyResolver && r[1].constructor === ImplicitTokenResolver && r[2].constructor === NumberStringUnionResolver;
}

/**
 * What the three built-in resolvers turn `value` into (repeated until none applies, as cdk8s'
 * `resolve` does), or `value` itself.
 */
function replaced(value: any): any {
  for (;;) {
    if (value instanceof Lazy) value = value.produce();
    else if (typeof value.resolve === 'function') value = value.resolve();
    else if (value.constructor !== Object && UNION_TYPES.includes(typeof value.value)) value = { value: value.value };
    else return value;
    if (value == null) return value;
  }
}

/**
 * How sanitizeValue is asked to clean: `sortKeys` (true unless CDK8S_DISABLE_SORT, for the body;
 * always for metadata) and `filterEmpty` (drop empty arrays and objects: metadata only).
 */
interface Sanitize {
  readonly sortKeys: boolean;
  readonly filterEmpty: boolean;
}

/**
 * `sanitizeValue(resolve([], value, obj), options)` in one pass: a plain object's values are
 * resolved in their own order (as `resolve` does), then written in sorted key order without
 * null/undefined ones (as `sanitizeValue` does); array items keep their place (undefined too).
 */
function resolveSanitized(value: any, options: Sanitize): any {
  if (value == null) return undefined;
  // Most values: no resolver touches a string, number or boolean (no Lazy, no resolve(), no .value).
  const type = typeof value;
  if (type === 'string' || type === 'number' || type === 'boolean') return value;
  value = replaced(value);
  if (value == null) return undefined;
  if (typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    if (options.filterEmpty && value.length === 0) return undefined;
    return value.map((item) => resolveSanitized(item, options));
  }
  if (value.constructor == Object) {
    const keys = Object.keys(value);
    const n = keys.length;
    const out: Record<string, unknown> = {};
    let written = 0;
    // Most key lists are short and already sorted (cdk8s' generated classes write them so): then
    // resolving in their order is writing in sorted order, in one loop.
    let sorted = true;
    if (options.sortKeys) for (let i = 1; i < n && sorted; i++) sorted = keys[i - 1]! < keys[i]!;
    if (sorted) {
      for (let i = 0; i < n; i++) {
        const item = resolveSanitized(value[keys[i]!], options);
        if (item != null) (out[keys[i]!] = item, written++);
      }
    } else {
      // Resolved in their own order, written by sorted index (not [key, index] pairs: an
      // allocation per key).
      const resolved = new Array<unknown>(n);
      for (let i = 0; i < n; i++) resolved[i] = resolveSanitized(value[keys[i]!], options);
      const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0));
      for (const i of order) if (resolved[i] != null) (out[keys[i]!] = resolved[i], written++);
    }
    return options.filterEmpty && written === 0 ? undefined : out;
  }
  // Left unresolved by cdk8s (not a plain object of this realm): its sanitizeValue goes on.
  return sanitized(value, options);
}

/** cdk8s' sanitizeValue (lib/_util.js, not exported), for what its resolve leaves as it is. */
function sanitized(value: any, options: Sanitize): any {
  if (value == null) return undefined;
  if (typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    if (options.filterEmpty && value.length === 0) return undefined;
    return value.map((item) => sanitized(item, options));
  }
  if (value.constructor.name !== 'Object') throw new Error(`can't render non-simple object of type '${value.constructor.name}'`);
  const out: Record<string, unknown> = {};
  for (const key of options.sortKeys ? Object.keys(value).sort() : Object.keys(value)) {
    const item = sanitized(value[key], options);
    if (item != null) out[key] = item;
  }
  return options.filterEmpty && Object.keys(out).length === 0 ? undefined : out;
}

const BODY: Sanitize = { sortKeys: true, filterEmpty: false };
const BODY_UNSORTED: Sanitize = { sortKeys: false, filterEmpty: false };
/** ApiObjectMetadataDefinition.toJson: `sanitizeValue(.., { filterEmptyArrays, filterEmptyObjects })`, keys sorted. */
const METADATA: Sanitize = { sortKeys: true, filterEmpty: true };

/**
 * cdk8s' `ApiObjectMetadataDefinition.toJson()` (lib/metadata.js) in one pass: the same object
 * of its fields, resolved and sanitized with its options. Its fields are private in the types only.
 */
function metadataJson(metadata: ApiObject['metadata']): unknown {
  const m = metadata as unknown as {
    _additionalAttributes: object; name?: string; namespace?: string; annotations: object; finalizers: string[]; ownerReferences: object[]; labels: object;
  };
  return resolveSanitized({
    ...m._additionalAttributes,
    name: m.name,
    namespace: m.namespace,
    annotations: m.annotations,
    finalizers: m.finalizers,
    ownerReferences: m.ownerReferences,
    labels: m.labels,
  }, METADATA);
}

function fastToJson(this: ApiObject): unknown {
  if (!builtInResolvers(App.of(this) as App)) return cdk8sToJson.call(this);
  try {
    const data = { ...(this as unknown as { props: object }).props, metadata: metadataJson(this.metadata) };
    const json = resolveSanitized(data, process.env.CDK8S_DISABLE_SORT ? BODY_UNSORTED : BODY);
    const patched = JsonPatch.apply(json, ...(this as unknown as { patches: JsonPatch[] }).patches);
    // apiVersion, kind and metadata first, then the rest (cdk8s' order).
    const result: Record<string, unknown> = {};
    for (const key of ['apiVersion', 'kind', 'metadata', ...Object.keys(patched)]) {
      if (key in patched) result[key] = patched[key];
    }
    return result;
  } catch (e) {
    throw new Error(`Failed serializing construct at path '${this.node.path}' with name '${this.name}': ${e}`);
  }
}

/** Makes every ApiObject render with fastToJson (idempotent). */
export function useFastToJson(): void {
  ApiObject.prototype.toJson = fastToJson;
}
