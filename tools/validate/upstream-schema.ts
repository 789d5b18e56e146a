/**
 * Layer 2 — the pinned upstream schemas, from the committed imports/upstream/*.yaml that
 * `npm run import` writes from the pins in cdk8s.yaml (header: source URL, git blob sha):
 * Kubernetes 1.28 OpenAPI v2 definitions for built-ins (k8s-1.28.yaml), each CRD's
 * openAPIV3Schema for the rest. This is what an independent kubeconform-style checker runs, so
 * our output must pass it too; every clone has the files, so every clone validates the same.
 *
 * Schemas are made strict the way the API server is: `additionalProperties: false` on every
 * object schema that lists `properties` (unless it preserves unknown fields), int-or-string and
 * Quantity accept both representations, CEL rules and formats are not evaluated.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { ErrorObject } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { cachedValidator, cachedValidators, cacheKey, fileSha1, readCache, sha1, writeCache } from './cache';
import { REPO_ROOT } from '../repo-root';
import { child, fromPointer } from './paths';
import { shareRepeatedSubschemas } from './schema-dedupe';
import { apiGroup, Entry, finding, isRecord, QUANTITY_PATTERN, RawFinding } from './types';

const RULE = 'upstream-schema';
/** Default location: the committed, generated copies of the pinned upstream files. */
export const DEFAULT_SCHEMA_DIR = path.join(REPO_ROOT, 'imports', 'upstream');

type Validate = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

/**
 * `open`: where the schema declares properties yet keeps unknown fields
 * (`x-kubernetes-preserve-unknown-fields`), e.g. an OpenTelemetryCollector's `spec.config`: the API
 * server accepts any field there, but the program reading it may not. An object with a field there
 * that is not declared is left to the in-repo layers, which know the type.
 */
interface OpenNode { path: string[]; declared: string[] }
interface CrdVersion { name: string; served: boolean; storage: boolean; open?: OpenNode[] }
interface CrdKind { group: string; kind: string; versions: CrdVersion[]; file: string; doc: number; fileSha: string }
/** What one schema file holds, cached by its content hash so a warm run parses no YAML. */
interface FileIndex {
  crds: Omit<CrdKind, 'file' | 'fileSha'>[];
  /** Kubernetes definitions file: `apiVersion kind` → definition name. */
  gvks?: Record<string, string>;
}

/**
 * Where the upstream layer reads from (null → off, with a report note). The default is
 * imports/upstream; a folder that does not exist is an error, never a silent skip.
 */
export function resolveSchemaDir(option: string | null | undefined): { dir: string | null; note?: string } {
  if (option === null) return { dir: null, note: 'upstream schema layer disabled (schemaDir: null)' };
  const dir = option ?? DEFAULT_SCHEMA_DIR;
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new Error(`upstream schema folder ${dir} not found${option === undefined ? ' (it is committed: restore it, or regenerate it with `npm run import`)' : ''}`);
  }
  return { dir };
}

// ------------------------------------------------------------------ schema transform

/** apiVersion/kind/metadata: accepted on every object, whatever its schema lists. */
const ENVELOPE = { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' } };
const SCHEMA_MAPS = ['properties', 'patternProperties', 'definitions'];
const SCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf'];
const SCHEMA_ONE = ['additionalProperties', 'items', 'not'];

/** Makes a Kubernetes structural schema strict and ajv-friendly (see the file comment). */
export function strictSchema(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(strictSchema);
  if (!isRecord(s)) return s;
  const out: Record<string, any> = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'description' || k === 'x-kubernetes-validations' || k === 'default' || k === 'example') continue;
    if (SCHEMA_MAPS.includes(k) && isRecord(v)) out[k] = Object.fromEntries(Object.entries(v).map(([n, sub]) => [n, strictSchema(sub)]));
    else if (SCHEMA_LISTS.includes(k) && Array.isArray(v)) out[k] = v.map(strictSchema);
    else if (SCHEMA_ONE.includes(k)) out[k] = strictSchema(v);
    else out[k] = v;
  }
  if (out['x-kubernetes-int-or-string'] === true || out.format === 'int-or-string') {
    delete out.anyOf;
    delete out.oneOf;
    delete out.format;
    out.type = ['integer', 'string'];
  }
  if (out['x-kubernetes-embedded-resource'] === true && isRecord(out.properties)) {
    out.properties = { ...ENVELOPE, ...out.properties };
  }
  if (isRecord(out.properties) && out.additionalProperties === undefined && out['x-kubernetes-preserve-unknown-fields'] !== true) {
    out.additionalProperties = false;
  }
  if (typeof out.pattern === 'string') {
    try {
      new RegExp(out.pattern);
    } catch {
      delete out.pattern; // Go RE2 syntax JavaScript cannot compile: not worth a false alarm
    }
  }
  return out;
}

/** Where a schema keeps unknown fields next to declared ones (CrdVersion.open). */
function openPaths(schema: unknown, at: string[] = [], out: OpenNode[] = []): OpenNode[] {
  if (!isRecord(schema)) return out;
  if (schema['x-kubernetes-preserve-unknown-fields'] === true && isRecord(schema.properties)) out.push({ path: at, declared: Object.keys(schema.properties) });
  if (isRecord(schema.properties)) for (const [name, sub] of Object.entries(schema.properties)) openPaths(sub, [...at, name], out);
  if (isRecord(schema.items)) openPaths(schema.items, at, out);
  if (isRecord(schema.additionalProperties)) openPaths(schema.additionalProperties, at, out);
  return out;
}

/** Whether `obj` has a field the schema does not declare at an open node (arrays: any element). */
function undeclaredAt(obj: unknown, node: OpenNode, depth = 0): boolean {
  if (Array.isArray(obj)) return obj.some((item) => undeclaredAt(item, node, depth));
  if (!isRecord(obj)) return false;
  if (depth === node.path.length) return Object.keys(obj).some((key) => !node.declared.includes(key));
  return node.path[depth]! in obj && undeclaredAt(obj[node.path[depth]!], node, depth + 1);
}

const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

function strictDefinitions(defs: Record<string, unknown>): Record<string, unknown> {
  const out = Object.fromEntries(Object.entries(defs).map(([n, s]) => [n, strictSchema(s)]));
  out['io.k8s.apimachinery.pkg.util.intstr.IntOrString'] = { type: ['integer', 'string'] };
  out['io.k8s.apimachinery.pkg.api.resource.Quantity'] = { type: ['string', 'number'], pattern: QUANTITY_PATTERN };
  return out;
}

function newAjv(): Ajv {
  // validateSchema off: the schemas are upstream's, transformed here; checking them against the
  // meta-schema costs a cold run seconds and finds nothing a compile would not.
  // inlineRefs off: a definition is compiled once and called, never copied into each user of it
  // (schema-dedupe.ts: the shared subschemas are there to be shared).
  return new Ajv({ strict: false, allErrors: true, validateFormats: false, validateSchema: false, unicodeRegExp: false, inlineRefs: false, code: { source: true, optimize: false } });
}

// ------------------------------------------------------------------ the layer

/** `apiVersion kind` → definition name, from each definition's x-kubernetes-group-version-kind. */
function gvkIndex(defs: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, schema] of Object.entries(defs)) {
    const gvks = isRecord(schema) && Array.isArray(schema['x-kubernetes-group-version-kind']) ? schema['x-kubernetes-group-version-kind'] : [];
    for (const gvk of gvks.filter(isRecord)) {
      const apiVersion = gvk.group ? `${String(gvk.group)}/${String(gvk.version)}` : String(gvk.version);
      const key = `${apiVersion} ${String(gvk.kind)}`;
      if (!(key in out)) out[key] = name;
    }
  }
  return out;
}

export class UpstreamSchemas {
  private readonly crds = new Map<string, CrdKind>();
  private readonly validators = new Map<string, Validate | string>();
  private readonly parsedFiles = new Map<string, unknown[]>();
  private defs?: { file: string; sha: string; index: Map<string, string> };
  /** The strict Kubernetes definitions document (`k8s.json`), made once. */
  private k8sDocument?: Record<string, unknown>;
  /** The validators of every built-in kind, by exportName() of its definition: one module. */
  private builtins?: Record<string, Validate>;

  constructor(readonly dir: string) {
    for (const name of fs.readdirSync(dir).sort()) {
      if (name.endsWith('.yaml')) this.indexFile(path.join(dir, name));
    }
  }

  private indexFile(file: string): void {
    // The file is read only when its index has to be built (or its content is not known yet).
    let { sha: fileSha, text } = fileSha1(file);
    let name = `schema-index-${cacheKey(fileSha)}.json`;
    let cached = readCache(name);
    if (!cached && text === undefined) {
      // Built from what is read now, under that text's own hash (the file may have changed since).
      text = fs.readFileSync(file, 'utf8');
      fileSha = sha1(text);
      name = `schema-index-${cacheKey(fileSha)}.json`;
      cached = readCache(name);
    }
    let index: FileIndex;
    if (cached) index = JSON.parse(cached) as FileIndex;
    else {
      index = { crds: [] };
      this.parseFile(file, text).forEach((doc, i) => {
        if (!isRecord(doc)) return;
        if (doc.kind === 'CustomResourceDefinition' && isRecord(doc.spec)) {
          const spec = doc.spec;
          const versions = Array.isArray(spec.versions) ? spec.versions.filter(isRecord) : [];
          index.crds.push({ group: String(spec.group), kind: String(isRecord(spec.names) ? spec.names.kind : ''), doc: i,
            versions: versions.map((v) => ({ name: String(v.name), served: v.served === true, storage: v.storage === true, open: openPaths(isRecord(v.schema) ? v.schema.openAPIV3Schema : undefined) })) });
        } else if (doc.kind === undefined && isRecord(doc.definitions)) {
          index.gvks = gvkIndex(doc.definitions);
        }
      });
      writeCache(name, JSON.stringify(index));
    }
    for (const k of index.crds) this.crds.set(`${k.group}/${k.kind}`, { ...k, file, fileSha });
    if (index.gvks && !this.defs) this.defs = { file, sha: fileSha, index: new Map(Object.entries(index.gvks)) };
  }

  private parseFile(file: string, text?: string): unknown[] {
    let docs = this.parsedFiles.get(file);
    if (!docs) {
      docs = Array.from(parseAllDocuments(text ?? fs.readFileSync(file, 'utf8')), (d) => d.toJS());
      this.parsedFiles.set(file, docs);
    }
    return docs;
  }

  /** The Kubernetes definitions (parsed only when a validator has to be compiled). */
  private definitions(): Record<string, unknown> {
    const doc = this.parseFile(this.defs!.file).find((d) => isRecord(d) && isRecord(d.definitions)) as { definitions: Record<string, unknown> };
    return doc.definitions;
  }

  /** The strict definitions as one schema document, `$id` k8s.json, repeated subschemas shared. */
  private kubernetesDocument(): Record<string, unknown> {
    this.k8sDocument ??= shareRepeatedSubschemas({ $id: 'k8s.json', definitions: strictDefinitions(this.definitions()) });
    return this.k8sDocument;
  }

  /**
   * The validators of all built-in kinds the definitions file has, compiled into one module:
   * PodSpec and the rest of what the workload kinds share are compiled and loaded once.
   */
  private builtinValidators(): Record<string, Validate> {
    this.builtins ??= cachedValidators<Validate>(`validators-k8s-${cacheKey(this.defs!.sha)}.js`, () => {
      const ajv = newAjv();
      ajv.addSchema(this.kubernetesDocument());
      const refs: Record<string, string> = {};
      for (const defName of [...new Set(this.defs!.index.values())].sort()) refs[exportName(defName)] = `k8s.json#/definitions/${defName}`;
      return [ajv, refs];
    });
    return this.builtins;
  }

  /** Compiled validator (memory → disk cache → compile), or a reason there is none. */
  private validatorFor(apiVersion: string, kind: string): Validate | string {
    const memo = `${apiVersion} ${kind}`;
    const hit = this.validators.get(memo);
    if (hit !== undefined) return hit;
    const result = this.build(apiVersion, kind);
    this.validators.set(memo, result);
    return result;
  }

  private build(apiVersion: string, kind: string): Validate | string {
    const defName = this.defs?.index.get(`${apiVersion} ${kind}`);
    if (defName) {
      return this.builtinValidators()[exportName(defName)] ?? `no validator compiled for ${apiVersion} ${kind} (definition ${defName})`;
    }
    const crd = this.crds.get(`${apiGroup(apiVersion)}/${kind}`);
    if (!crd) return `no upstream schema for ${apiVersion} ${kind} in ${path.relative(process.cwd(), this.dir) || '.'}`;
    const version = apiVersion.slice(apiVersion.indexOf('/') + 1);
    const v = crd.versions.find((x) => x.name === version);
    if (!v) return `the ${kind} CRD does not define version ${version} (it has ${crd.versions.map((x) => x.name).join(', ')})`;
    if (!v.served) return `the ${kind} CRD does not serve version ${version} (served: ${crd.versions.filter((x) => x.served).map((x) => x.name).join(', ')})`;
    return this.cached(cacheKey(crd.fileSha, this.defs?.sha ?? '', crd.group, kind, version), () => {
      const doc = this.parseFile(crd.file)[crd.doc] as any;
      const entry = (doc.spec.versions as any[]).find((x) => x.name === version);
      const schema = entry?.schema?.openAPIV3Schema ?? { type: 'object' };
      // The API server always accepts the object envelope; some CRDs (Istio) omit it from
      // their schema, which would otherwise make apiVersion/kind/metadata "unknown".
      const root = strictSchema(schema) as Record<string, any>;
      if (isRecord(root.properties)) root.properties = { ...ENVELOPE, ...root.properties };
      const ajv = newAjv();
      // CRDs leave metadata as `type: object`, but the API server checks it as every object's
      // ObjectMeta (a misspelt `namespac` is refused, not kept): the same definition here.
      if (this.defs && isRecord(root.properties) && JSON.stringify(root.properties.metadata) === JSON.stringify(ENVELOPE.metadata)) {
        ajv.addSchema(this.kubernetesDocument());
        root.properties.metadata = { $ref: `k8s.json#/definitions/${OBJECT_META}` };
      }
      return [ajv, ajv.compile(shareRepeatedSubschemas(root))];
    });
  }

  /**
   * A validator from the disk cache (cachedValidator). The code for one key can differ between
   * processes (ajv numbers its functions per instance, and which kinds were compiled first
   * differs): runCommonJs keys V8's code cache by the code.
   */
  private cached(key: string, compile: () => [Ajv, Validate]): Validate {
    return cachedValidator(`validator-${key}.js`, compile);
  }

  /**
   * Whether this layer alone settles the fields of `e`: its schema accepts the object and it has
   * no undeclared field where the schema keeps unknown fields (CrdVersion.open). Then the in-repo
   * schema layers have nothing to add (test/validate/schema-layers.test.ts).
   */
  settles(e: Entry, findings: readonly RawFinding[]): boolean {
    if (findings.length > 0) return false;
    const { apiVersion, kind } = e.obj;
    if (typeof apiVersion !== 'string' || typeof kind !== 'string') return false;
    const crd = this.defs?.index.has(`${apiVersion} ${kind}`) ? undefined : this.crds.get(`${apiGroup(apiVersion)}/${kind}`);
    const open = crd?.versions.find((v) => v.name === apiVersion.slice(apiVersion.indexOf('/') + 1))?.open ?? [];
    return !open.some((node) => undeclaredAt(e.obj, node));
  }

  validate(e: Entry): RawFinding[] {
    const { apiVersion, kind } = e.obj;
    if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
      const missing = typeof apiVersion !== 'string' ? 'apiVersion' : 'kind';
      return [finding(e, missing, RULE, `required field ${missing} is missing or not a string: no upstream schema applies`, `set ${missing}`)];
    }
    const v = this.validatorFor(apiVersion, kind);
    if (typeof v === 'string') return [finding(e, '', RULE, v, 'an independent schema check (kubeconform) would fail here too; use a kind/version the pinned upstream schemas define, or pin the CRD in cdk8s.yaml and run `npm run import`')];
    if (v(e.obj)) return [];
    const seen = new Set<string>();
    const out: RawFinding[] = [];
    for (const err of v.errors ?? []) {
      const f = toFinding(e, err);
      const key = `${f.path}\0${f.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(f);
    }
    return out;
  }
}

function toFinding(e: Entry, err: ErrorObject): RawFinding {
  const base = fromPointer(err.instancePath, e.obj);
  const where = `${String(e.obj.apiVersion)} ${String(e.obj.kind)}`;
  const p = err.params as Record<string, any>;
  switch (err.keyword) {
    case 'additionalProperties': {
      const at = child(base, String(p.additionalProperty));
      return finding(e, at, RULE, `unknown field ${at} (not in the upstream ${where} schema)`, 'remove the field or fix its name; the API server would prune or reject it');
    }
    case 'required': {
      const at = child(base, String(p.missingProperty));
      return finding(e, at, RULE, `required field ${at} is missing (upstream ${where} schema)`, `set ${at}`);
    }
    case 'enum':
      return finding(e, base, RULE, `${base || 'value'} must be one of ${(p.allowedValues as unknown[]).map((x) => JSON.stringify(x)).join(', ')} (upstream ${where} schema)`, 'use one of the allowed values');
    case 'type':
      return finding(e, base, RULE, `${base || 'value'} must be ${Array.isArray(p.type) ? p.type.join(' or ') : String(p.type)} (upstream ${where} schema)`, 'fix the YAML type (quote strings that look like numbers, unquote numbers)');
    default:
      return finding(e, base, RULE, `${base || 'the object'} ${err.message ?? err.keyword} (upstream ${where} schema)`, 'compare the field with the upstream schema');
  }
}

/** A definition's export name in the built-in kinds' module: `io.k8s.api.apps.v1.Deployment` → `io_k8s_api_apps_v1_Deployment`. */
function exportName(defName: string): string {
  return defName.replace(/[^A-Za-z0-9_$]/g, '_');
}

const instances = new Map<string, UpstreamSchemas>();

/** One instance per schema folder per process: compiled validators are reused across runs. */
export function upstreamSchemas(dir: string): UpstreamSchemas {
  const key = path.resolve(dir);
  let s = instances.get(key);
  if (!s) instances.set(key, (s = new UpstreamSchemas(key)));
  return s;
}
