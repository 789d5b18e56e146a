/**
 * Loads a rendered tree (dist/<folder>/<file>.yaml, multi-document YAML) into objects keyed by
 * identity. Two trees are loaded together so that documents whose text is byte-identical on
 * both sides (in the same region folder) are never parsed: they cannot differ. Only the
 * documents that changed go through the YAML parser, once each.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';

/** One rendered file: path relative to the tree root (e.g. us-east-1/api.yaml) and its text. */
export interface TreeFile {
  readonly path: string;
  readonly content: string;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string } & Record<string, unknown>;
  [key: string]: unknown;
}

/** An object of a tree with where it came from. */
export interface Entry {
  /** Region folder, e.g. us-east-1 or argocd. */
  readonly region: string;
  /** File relative to the region folder, e.g. api.yaml. */
  readonly file: string;
  readonly id: string;
  readonly group: string;
  readonly object: KubeObject;
}

/** The objects that may differ between two trees, per region folder; plus all region names. */
export interface LoadedPair {
  readonly regionsA: ReadonlySet<string>;
  readonly regionsB: ReadonlySet<string>;
  /** Objects of A whose document text has no identical twin in B's region, and vice versa. */
  readonly a: Entry[];
  readonly b: Entry[];
  /** Number of documents on each side (parsed or not). */
  readonly documents: { readonly a: number; readonly b: number };
}

/** Plain code-unit comparison: never localeCompare, whose order depends on LANG. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Reads every *.yaml / *.yml file below root (one level of region folders). */
export function readTreeFiles(root: string): TreeFile[] {
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new Error(`${root} is not a folder`);
  const files: TreeFile[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.ya?ml$/.test(entry.name)) {
        files.push({ path: path.relative(root, full).split(path.sep).join('/'), content: fs.readFileSync(full, 'utf8') });
      }
    }
  };
  walk(root);
  return files.sort((x, y) => compareText(x.path, y.path));
}

/** The API group of an apiVersion: "" for the core group (v1). */
function apiGroup(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash === -1 ? '' : apiVersion.slice(0, slash);
}

/** Identity within a region: group, kind, namespace, name (the version is not part of it). */
function identity(object: KubeObject): string {
  return `${apiGroup(object.apiVersion)}\u0000${object.kind}\u0000${object.metadata.namespace ?? ''}\u0000${object.metadata.name}`;
}

interface RawDoc {
  readonly region: string;
  readonly file: string;
  readonly text: string;
}

function regionOf(filePath: string): { region: string; file: string } {
  const slash = filePath.indexOf('/');
  // Files at the top level of the tree belong to the folder ".".
  return slash === -1 ? { region: '.', file: filePath } : { region: filePath.slice(0, slash), file: filePath.slice(slash + 1) };
}

/** Splits a multi-document file on its `---` lines. Generated files never hold `---` at column 0 elsewhere. */
function splitDocuments(files: readonly TreeFile[]): RawDoc[] {
  const docs: RawDoc[] = [];
  for (const f of files) {
    const { region, file } = regionOf(f.path);
    for (const text of f.content.split(/^---[ \t]*$/m)) {
      // Skip the header comment and empty documents without parsing them.
      if (!/^[ \t]*[^#\s]/m.test(text)) continue;
      docs.push({ region, file, text });
    }
  }
  return docs;
}

function parseDoc(doc: RawDoc): Entry {
  let value: unknown;
  try {
    value = parse(doc.text);
  } catch (error) {
    throw new Error(`${doc.region}/${doc.file}: ${(error as Error).message}`);
  }
  const o = value as KubeObject;
  if (!o || typeof o !== 'object' || typeof o.apiVersion !== 'string' || typeof o.kind !== 'string' || typeof o.metadata?.name !== 'string') {
    throw new Error(`${doc.region}/${doc.file}: a document without apiVersion, kind and metadata.name`);
  }
  return { region: doc.region, file: doc.file, id: identity(o), group: apiGroup(o.apiVersion), object: o };
}

/** Splits both trees into documents, drops the documents present identically on both sides, parses the rest. */
export function loadPair(filesA: readonly TreeFile[], filesB: readonly TreeFile[]): LoadedPair {
  const docsA = splitDocuments(filesA);
  const docsB = splitDocuments(filesB);
  const key = (d: RawDoc): string => `${d.region}\u0000${d.text}`;
  const countA = new Map<string, number>();
  for (const d of docsA) countA.set(key(d), (countA.get(key(d)) ?? 0) + 1);
  const onlyB: RawDoc[] = [];
  for (const d of docsB) {
    const k = key(d);
    const n = countA.get(k) ?? 0;
    if (n > 0) countA.set(k, n - 1);
    else onlyB.push(d);
  }
  const onlyA: RawDoc[] = [];
  // What is left in countA is the documents of A without an identical twin in B.
  const left = new Map(countA);
  for (const d of docsA) {
    const k = key(d);
    const n = left.get(k) ?? 0;
    if (n > 0) {
      left.set(k, n - 1);
      onlyA.push(d);
    }
  }
  return {
    regionsA: new Set(filesA.map((f) => regionOf(f.path).region)),
    regionsB: new Set(filesB.map((f) => regionOf(f.path).region)),
    a: onlyA.map(parseDoc),
    b: onlyB.map(parseDoc),
    documents: { a: docsA.length, b: docsB.length },
  };
}
