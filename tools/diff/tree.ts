/**
 * Loads a rendered tree (dist/<folder>/<file>.yaml, multi-document YAML) into objects keyed by
 * identity. Two trees are loaded together so that what is identical on both sides is never
 * parsed: a file with the same bytes at the same path is dropped whole (without being split or
 * even decoded), then documents whose text is identical in the same region folder. Only the
 * documents that changed go through the YAML reader (tools/diff/fast-yaml.ts), once each.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseYaml } from './fast-yaml';

/** One rendered file: path relative to the tree root (e.g. us-east-1/api.yaml) and its text. */
export interface TreeFile {
  readonly path: string;
  readonly content: string;
  /** The file's bytes, when it was read from disk: compared before `content` is decoded. */
  readonly bytes?: Buffer;
}

/** A file read from disk: its text is decoded only when something reads `content`. */
class DiskFile implements TreeFile {
  private text?: string;

  constructor(
    readonly path: string,
    readonly bytes: Buffer,
  ) {}

  get content(): string {
    if (this.text === undefined) this.text = this.bytes.toString('utf8');
    return this.text;
  }
}

/** Whether two files have the same text (bytes when both have them). */
function sameFile(a: TreeFile, b: TreeFile): boolean {
  if (a.bytes && b.bytes) return a.bytes.length === b.bytes.length && a.bytes.equals(b.bytes);
  return a.content === b.content;
}

/** The paths of the files that are identical at the same path in both trees. */
export function identicalPaths(filesA: readonly TreeFile[], filesB: readonly TreeFile[]): Set<string> {
  const byPathB = new Map(filesB.map((f) => [f.path, f]));
  const identical = new Set<string>();
  for (const f of filesA) {
    const other = byPathB.get(f.path);
    if (other && sameFile(f, other)) identical.add(f.path);
  }
  return identical;
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
  /** Files dropped unread because they are identical at the same path on both sides, and documents split from the others. */
  readonly counts: { readonly identicalFiles: number; readonly documentsA: number; readonly documentsB: number };
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
        files.push(new DiskFile(path.relative(root, full).split(path.sep).join('/'), fs.readFileSync(full)));
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
    value = parseYaml(doc.text);
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
  // A file identical at the same path holds the same documents on both sides: dropping them from
  // both leaves the same documents without a twin as matching document by document would.
  const identical = identicalPaths(filesA, filesB);
  const docsA = splitDocuments(filesA.filter((f) => !identical.has(f.path)));
  const docsB = splitDocuments(filesB.filter((f) => !identical.has(f.path)));
  // Per region folder: how many times each document text occurs in A and has no twin in B yet.
  const countA = new Map<string, Map<string, number>>();
  const countsOf = (region: string): Map<string, number> => {
    let m = countA.get(region);
    if (!m) countA.set(region, (m = new Map()));
    return m;
  };
  for (const d of docsA) {
    const m = countsOf(d.region);
    m.set(d.text, (m.get(d.text) ?? 0) + 1);
  }
  const onlyB: RawDoc[] = [];
  for (const d of docsB) {
    const m = countsOf(d.region);
    const n = m.get(d.text) ?? 0;
    if (n > 0) m.set(d.text, n - 1);
    else onlyB.push(d);
  }
  // What is left in countA is the documents of A without an identical twin in B.
  const onlyA: RawDoc[] = [];
  for (const d of docsA) {
    const m = countsOf(d.region);
    const n = m.get(d.text) ?? 0;
    if (n > 0) {
      m.set(d.text, n - 1);
      onlyA.push(d);
    }
  }
  return {
    regionsA: new Set(filesA.map((f) => regionOf(f.path).region)),
    regionsB: new Set(filesB.map((f) => regionOf(f.path).region)),
    a: onlyA.map(parseDoc),
    b: onlyB.map(parseDoc),
    counts: { identicalFiles: identical.size, documentsA: docsA.length, documentsB: docsB.length },
  };
}
