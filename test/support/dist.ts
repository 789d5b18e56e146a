/**
 * The committed dist/ tree as objects, for whole-tree tests.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from './regions';
import type { LoadedObject } from '../../tools/validate';
import { regionOfRelative } from '../../tools/validate/load';
import type { Obj } from './charts';
import { parseAllCached } from './yaml-cache';

export const DIST = path.join(REPO_ROOT, 'dist');

export interface DistObject {
  readonly folder: string;
  readonly file: string;
  readonly object: Obj;
}

/** Every YAML file of a tree (`<folder>/<file>`, in the order distObjects reads them) and its text. */
function yamlTexts(root: string): Array<{ folder: string; file: string; text: string }> {
  const out: Array<{ folder: string; file: string; text: string }> = [];
  for (const folder of fs.readdirSync(root).sort()) {
    for (const file of fs.readdirSync(path.join(root, folder)).filter((f) => f.endsWith('.yaml')).sort()) {
      out.push({ folder, file, text: fs.readFileSync(path.join(root, folder, file), 'utf8') });
    }
  }
  return out;
}

/**
 * Each file's text and its parse, by `<folder>/<file>` (not by root: a fresh synth of the
 * shipped regions is the committed tree again, and a changed tree, such as a promotion, differs
 * from it in a few files): whole-tree tests parse the same 3 MB of YAML (~1.5 s of CPU each), and
 * with `isolate: false` a worker runs several of them. The files are read on every call and a
 * file is parsed again only when its text differs from the one kept; each caller gets its own
 * deep copy. Across workers and runs the parses are kept on disk (./yaml-cache.ts).
 */
const parsedFiles = new Map<string, { text: string; objects: DistObject[] }>();

/** A file's objects (its empty documents dropped), parsed as YAML 1.1 as the validator's loader reads dist/. */
function parseDocuments(text: string): Obj[] {
  return parseAllCached(text, '1.1').filter((o): o is Obj => o !== null);
}

function parseFile(folder: string, file: string, text: string): DistObject[] {
  const key = `${folder}/${file}`;
  const kept = parsedFiles.get(key);
  if (kept?.text === text) return kept.objects;
  const objects = parseDocuments(text).map((object) => ({ folder, file, object }));
  parsedFiles.set(key, { text, objects });
  return objects;
}

/** The parsed tree, shared: callers copy what they take. */
function parsedTree(root: string): DistObject[] {
  return yamlTexts(root).flatMap(({ folder, file, text }) => parseFile(folder, file, text));
}

/**
 * Objects of a tree, in distObjects' order: at least every one whose YAML document mentions one
 * of `words` (a file already parsed whole gives all its objects, and is not parsed again). A
 * document whose kind is one of the words always mentions it, so filtering the result by kind
 * gives what filtering distObjects() would, without parsing the documents that cannot match.
 * Each caller gets its own copy.
 */
export function distObjectsMentioning(words: readonly string[], root = DIST): DistObject[] {
  const out: DistObject[] = [];
  for (const { folder, file, text } of yamlTexts(root)) {
    if (!words.some((w) => text.includes(w))) continue;
    const kept = parsedFiles.get(`${folder}/${file}`);
    if (kept?.text === text) {
      out.push(...structuredClone(kept.objects));
      continue;
    }
    // Documents start at a `---` line (never inside a block scalar: its lines are indented).
    for (const chunk of text.split(/^(?=---[ \t]*$)/m)) {
      if (!words.some((w) => chunk.includes(w))) continue;
      for (const doc of parseAllDocuments(chunk, { version: '1.1' })) {
        const object = doc.toJS() as Obj | null;
        if (object) out.push({ folder, file, object });
      }
    }
  }
  return out;
}

export function distObjects(root = DIST): DistObject[] {
  return structuredClone(parsedTree(root));
}

/** The committed objects of these dist/ folders as the validator loads them (file, index in the file, region). */
export function distLoadedObjects(folders: readonly string[]): LoadedObject[] {
  const indexes = new Map<string, number>();
  // Only the folders asked for are copied (a test edits its copy): not the whole tree each time.
  return structuredClone(parsedTree(DIST).filter((o) => folders.includes(o.folder)))
    .map((o) => {
      const file = `${o.folder}/${o.file}`;
      const index = indexes.get(file) ?? 0;
      indexes.set(file, index + 1);
      // As the validator's loader reads a tree: the global folder belongs to no region.
      return { file, index, object: o.object, region: regionOfRelative(file) };
    });
}
