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
 * The last tree parsed, by folder, file and text (not by root: a fresh synth of the shipped
 * regions is the committed tree again): whole-tree tests parse the same 3 MB of YAML (~1.5 s of
 * CPU each), and with `isolate: false` a worker runs several of them. The files are read on
 * every call and parsed again when any of them differs; each caller gets its own deep copy.
 */
let parsed: { texts: ReturnType<typeof yamlTexts>; objects: DistObject[] } | undefined;

function sameTexts(a: ReturnType<typeof yamlTexts>, b: ReturnType<typeof yamlTexts>): boolean {
  return a.length === b.length && a.every((x, i) => x.folder === b[i]!.folder && x.file === b[i]!.file && x.text === b[i]!.text);
}

/** The parsed tree, shared: callers copy what they take. */
function parsedTree(root: string): DistObject[] {
  const texts = yamlTexts(root);
  if (!parsed || !sameTexts(parsed.texts, texts)) {
    const objects: DistObject[] = [];
    for (const { folder, file, text } of texts) {
      for (const doc of parseAllDocuments(text, { version: '1.1' })) {
        const object = doc.toJS() as Obj | null;
        if (object) objects.push({ folder, file, object });
      }
    }
    parsed = { texts, objects };
  }
  return parsed.objects;
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
