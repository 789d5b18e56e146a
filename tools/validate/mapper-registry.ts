/**
 * GVK → cdk8s L1 mapper (`toJson_<Class>Props`), the in-repo source of truth for which
 * fields a kind has. Built-ins come from cdk8s-plus-28's `k8s` module (Kubernetes 1.28);
 * CRDs from the generated `imports/*.ts` (pinned upstream CRDs).
 *
 * The imports are several MB of TypeScript (≈1.2 s to load all), so they are indexed by
 * scanning their text for `class X extends ApiObject` + its static GVK, and a module is
 * only loaded when a rendered object needs one of its kinds.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { REPO_ROOT } from '../repo-root';
import { cachedCode, cacheKey, runCommonJs, sha1 } from './cache';

export type Mapper = (obj: any) => unknown;

export interface MapperInfo {
  mapper: Mapper;
  /** True for Kubernetes built-in kinds (cdk8s-plus-28 `k8s`), false for imported CRDs. */
  builtin: boolean;
}

/** Folder of the `cdk8s import` output. */
export const IMPORTS_DIR = path.join(REPO_ROOT, 'imports');

const gvkKey = (apiVersion: string, kind: string): string => `${apiVersion} ${kind}`;

let builtins: Map<string, Mapper> | undefined;
let importIndex: Map<string, { file: string; className: string }> | undefined;
const loadedModules = new Map<string, Record<string, unknown>>();

/** cdk8s-plus-28's generated L1 module (`k8s`), the Kubernetes 1.28 classes and mappers. */
const K8S_FILE = require.resolve('cdk8s-plus-28/lib/imports/k8s.js');
let k8sModule: Record<string, any> | undefined;

/**
 * The `k8s` export of cdk8s-plus-28. Loaded from its file with a V8 code cache (40 ms instead
 * of 180 ms through tsx's require hooks); plain `require` if that fails.
 */
function k8s(): Record<string, any> {
  if (k8sModule) return k8sModule;
  try {
    const code = fs.readFileSync(K8S_FILE, 'utf8');
    k8sModule = runCommonJs(`k8s-${cacheKey(sha1(code))}.js`, code, createRequire(K8S_FILE), K8S_FILE) as Record<string, any>;
  } catch {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    k8sModule = (require('cdk8s-plus-28') as { k8s: Record<string, any> }).k8s;
  }
  return k8sModule;
}

function builtinMap(): Map<string, Mapper> {
  if (builtins) return builtins;
  builtins = new Map();
  const mod = k8s();
  for (const [name, value] of Object.entries(mod)) {
    const gvk = typeof value === 'function' ? value.GVK : undefined;
    const mapper = mod[`toJson_${name}Props`];
    if (gvk && typeof mapper === 'function') builtins.set(gvkKey(gvk.apiVersion, gvk.kind), mapper);
  }
  return builtins;
}

const CLASS_GVK = /export class (\w+) extends ApiObject \{[\s\S]*?apiVersion: '([^']+)',\s*kind: '([^']+)'/g;

function importsIndex(): Map<string, { file: string; className: string }> {
  if (importIndex) return importIndex;
  importIndex = new Map();
  if (!fs.existsSync(IMPORTS_DIR)) return importIndex;
  for (const name of fs.readdirSync(IMPORTS_DIR).sort()) {
    if (!name.endsWith('.ts')) continue;
    const file = path.join(IMPORTS_DIR, name);
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(CLASS_GVK)) importIndex.set(gvkKey(m[2], m[3]), { file, className: m[1] });
  }
  return importIndex;
}

/**
 * Loads a generated TypeScript module synchronously. Fast path: transpile it once with esbuild
 * (tsx's own transpiler) into the disk cache and run the plain JavaScript (≈6× faster than
 * loading 11 MB of TypeScript through tsx, see cache.ts). Fallback: tsx's CJS API, which works
 * the same under the tsx CLI and inside vitest (whose transform would not apply to `require`).
 */
function loadTs(file: string): Record<string, unknown> {
  const cached = loadedModules.get(file);
  if (cached) return cached;
  let mod: Record<string, unknown>;
  try {
    mod = loadTranspiled(file);
  } catch {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const tsx = require('tsx/cjs/api') as { require: (id: string, from: string) => any };
    mod = tsx.require(file, __filename);
  }
  loadedModules.set(file, mod);
  return mod;
}

function loadTranspiled(file: string): Record<string, unknown> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as { version: string; transformSync(src: string, o: object): { code: string } };
  const source = fs.readFileSync(file, 'utf8');
  const name = `import-${cacheKey(esbuild.version, sha1(source))}.js`;
  const code = cachedCode(name, () => esbuild.transformSync(source, { loader: 'ts', format: 'cjs', target: 'node20' }).code);
  return runCommonJs(name, code, createRequire(file), file);
}

export function findMapper(apiVersion: string, kind: string): MapperInfo | undefined {
  const key = gvkKey(apiVersion, kind);
  const builtin = builtinMap().get(key);
  if (builtin) return { mapper: builtin, builtin: true };
  const entry = importsIndex().get(key);
  if (!entry) return undefined;
  const mapper = loadTs(entry.file)[`toJson_${entry.className}Props`];
  return typeof mapper === 'function' ? { mapper: mapper as Mapper, builtin: false } : undefined;
}

export function isBuiltinKind(apiVersion: string, kind: string): boolean {
  return builtinMap().has(gvkKey(apiVersion, kind));
}

/** Every GVK we have a mapper for, as `[apiVersion, kind]` (for "did you mean" hints). */
export function knownKinds(): Array<[string, string]> {
  const keys = [...builtinMap().keys(), ...importsIndex().keys()];
  return keys.map((k) => k.split(' ') as [string, string]);
}

/** The mapper for metadata: CRD mappers pass `metadata` through unchecked, so we run this. */
export function objectMetaMapper(): Mapper {
  return k8s().toJson_ObjectMeta as Mapper;
}

const renames = new Map<string, Set<string>>();
const scanned = new Set<string>();
const RENAMED = /'([^'\n]+)': [^\n]*?\bobj\.([A-Za-z0-9_$]+)/g;

/**
 * JSON field name → TypeScript property names the mappers read it under, for the fields
 * `cdk8s import` renamed (`hostPID` is read as `obj.hostPid`). Built lazily from the mapper
 * sources, only when a field looks unknown, so a clean run never pays for the scan.
 */
export function renamedFields(): Map<string, Set<string>> {
  const sources = [K8S_FILE, ...loadedModules.keys()];
  for (const file of sources) {
    if (scanned.has(file)) continue;
    scanned.add(file);
    for (const m of fs.readFileSync(file, 'utf8').matchAll(RENAMED)) {
      if (m[1] === m[2]) continue;
      const set = renames.get(m[1]) ?? new Set<string>();
      set.add(m[2]);
      renames.set(m[1], set);
    }
  }
  return renames;
}

/** Inverse of renamedFields for one property: the JSON names a TS property stands for. */
export function jsonNamesOf(tsKey: string): string[] {
  const out: string[] = [];
  for (const [json, tsKeys] of renamedFields()) if (tsKeys.has(tsKey)) out.push(json);
  return out;
}
