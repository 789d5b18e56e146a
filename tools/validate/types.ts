/**
 * Shared shapes of the validator. Kept in one small module so every layer (schema, policy,
 * references) speaks the same vocabulary and the public API in index.ts only re-exports.
 */

/** One problem found in the rendered YAML, phrased for the person who has to fix the chart. */
export interface Finding {
  /** File the object came from, as given (e.g. `dist/us-east-1/namespaces.yaml`). */
  file: string;
  /** `Kind namespace/name`, or `Kind name` for an object without a namespace. */
  object: string;
  /** Field path inside the object, e.g. `spec.template.spec.containers[0].image`; '' = whole object. */
  path: string;
  /** Stable rule id (`schema-unknown-field`, `pod-security`, `ref-config`, ...). */
  rule: string;
  message: string;
  hint: string;
}

export interface ValidationReport {
  findings: Finding[];
  files: number;
  objects: number;
  /** Things the reader should know that are not findings (e.g. a layer that was skipped). */
  notes: string[];
}

/** One YAML document, already parsed. `region` is the region folder (null: global/argocd). */
export interface LoadedObject {
  file: string;
  /** 0-based position of the document in its file (for sorting and for the reader). */
  index: number;
  object: unknown;
  /** Region folder the file lives in; undefined → derived from the file's parent folder. */
  region?: string | null;
}

export interface ValidateOptions {
  /**
   * Folder with the pinned upstream schemas (see ../shared/crds/README.md).
   * undefined → $SCHEMA_DIR, else `<repo>/../shared/crds` when present; null → layer off.
   */
  schemaDir?: string | null;
}

/** A parsed Kubernetes object. The YAML is untrusted, so every field access is defensive. */
export type KubeObject = Record<string, any>;

/** A loaded object that is a mapping, with its region resolved: what every rule works on. */
export interface Entry {
  file: string;
  index: number;
  obj: KubeObject;
  region: string | null;
  /** Human id used in findings (`Kind ns/name`). */
  id: string;
}

/** Internal finding: carries the document index so the report can sort by position. */
export interface RawFinding extends Finding {
  index: number;
}

export function isRecord(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `Kind ns/name` or `Kind name`, with placeholders so a broken object still gets an id. */
export function describeObject(obj: unknown): string {
  const o = isRecord(obj) ? obj : {};
  const kind = typeof o.kind === 'string' && o.kind ? o.kind : '<no kind>';
  const meta = isRecord(o.metadata) ? o.metadata : {};
  const name = typeof meta.name === 'string' && meta.name ? meta.name : '<no name>';
  return typeof meta.namespace === 'string' && meta.namespace ? `${kind} ${meta.namespace}/${name}` : `${kind} ${name}`;
}

export function finding(e: Pick<Entry, 'file' | 'index' | 'id'>, path: string, rule: string, message: string, hint: string): RawFinding {
  return { file: e.file, index: e.index, object: e.id, path, rule, message, hint };
}

/** `group` part of an apiVersion ('' for the core group `v1`). */
export function apiGroup(apiVersion: unknown): string {
  if (typeof apiVersion !== 'string') return '';
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** True when the object is `kind` in API group `group` (any version). */
export function isKind(obj: KubeObject, group: string, kind: string): boolean {
  return obj.kind === kind && apiGroup(obj.apiVersion) === group;
}

export function namespaceOf(obj: KubeObject): string | undefined {
  const ns = isRecord(obj.metadata) ? obj.metadata.namespace : undefined;
  return typeof ns === 'string' && ns ? ns : undefined;
}

export function nameOf(obj: KubeObject): string | undefined {
  const n = isRecord(obj.metadata) ? obj.metadata.name : undefined;
  return typeof n === 'string' && n ? n : undefined;
}

export function labelsOf(meta: unknown): Record<string, unknown> {
  return isRecord(meta) && isRecord(meta.labels) ? meta.labels : {};
}

export function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
