/**
 * The committed dist/ tree as objects, for whole-tree tests.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from './regions';
import type { Obj } from './charts';

export const DIST = path.join(REPO_ROOT, 'dist');

export interface DistObject {
  readonly folder: string;
  readonly file: string;
  readonly object: Obj;
}

export function distObjects(root = DIST): DistObject[] {
  const out: DistObject[] = [];
  for (const folder of fs.readdirSync(root).sort()) {
    for (const file of fs.readdirSync(path.join(root, folder)).filter((f) => f.endsWith('.yaml')).sort()) {
      const text = fs.readFileSync(path.join(root, folder, file), 'utf8');
      for (const doc of parseAllDocuments(text, { version: '1.1' })) {
        const object = doc.toJS() as Obj | null;
        if (object) out.push({ folder, file, object });
      }
    }
  }
  return out;
}
