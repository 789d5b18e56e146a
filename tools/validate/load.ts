/**
 * Reads a rendered tree: `<root>/<region>/<component>.yaml` and `<root>/argocd/*.yaml`.
 * Only `*.yaml` files are read (READMEs and other siblings are ignored). Every document
 * becomes one LoadedObject; a document that does not parse becomes a `yaml` finding rather
 * than an exception, so one broken file does not hide the findings in the others.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describeObject, LoadedObject, RawFinding } from './types';

/** Folder of global objects (Argo CD), whose objects carry no region. */
export const GLOBAL_FOLDER = 'argocd';

export interface LoadedTree {
  objects: LoadedObject[];
  files: number;
  findings: RawFinding[];
}

function listYaml(dir: string, rel: string, out: string[]): void {
  // Plain `<` sort, never localeCompare: output order must not depend on the machine's locale.
  const names = fs.readdirSync(path.join(dir, rel)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const name of names) {
    const relPath = rel ? `${rel}/${name}` : name;
    const stat = fs.statSync(path.join(dir, relPath));
    if (stat.isDirectory()) listYaml(dir, relPath, out);
    else if (stat.isFile() && name.endsWith('.yaml')) out.push(relPath);
  }
}

/** Region of a file from its path below the root: the first folder, unless it is argocd. */
export function regionOfRelative(rel: string): string | null {
  const parts = rel.split('/');
  if (parts.length < 2 || parts[0] === GLOBAL_FOLDER) return null;
  return parts[0];
}

/** Region of a file path when the root is unknown (validateObjects): its parent folder. */
export function regionOfFile(file: string): string | null {
  const parent = path.basename(path.dirname(file.split(path.sep).join('/')));
  return parent === GLOBAL_FOLDER || parent === '.' || parent === '' ? null : parent;
}

export function parseYamlFile(file: string, text: string, region: string | null): { objects: LoadedObject[]; findings: RawFinding[] } {
  const objects: LoadedObject[] = [];
  const findings: RawFinding[] = [];
  // YAML 1.1, as Argo CD and kubectl read it (sigs.k8s.io/yaml): an unquoted `on`/`yes` is a
  // boolean there, so it must be one here too (and then fail as a label value, for example).
  const docs = parseAllDocuments(text, { version: '1.1' });
  // parseAllDocuments returns an EmptyStream (not an array) for an empty file.
  const list = Array.isArray(docs) ? docs : [];
  list.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      findings.push({
        file, index, object: `document ${index}`, path: '', rule: 'yaml',
        message: `YAML does not parse: ${doc.errors[0].message.split('\n')[0]}`,
        hint: 'The renderer should only ever write YAML it serialised itself; regenerate with `npm run synth`.',
      });
      return;
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return; // empty document (e.g. a trailing `---`)
    if (typeof value !== 'object' || Array.isArray(value)) {
      findings.push({
        file, index, object: describeObject(value), path: '', rule: 'yaml',
        message: 'document is not a mapping (one Kubernetes object per document is expected)',
        hint: 'Write exactly one Kubernetes object per YAML document.',
      });
      return;
    }
    objects.push({ file, index, object: value, region });
  });
  return { objects, findings };
}

export function loadTree(root: string): LoadedTree {
  const rels: string[] = [];
  listYaml(root, '', rels);
  const objects: LoadedObject[] = [];
  const findings: RawFinding[] = [];
  for (const rel of rels) {
    const file = path.join(root, rel).split(path.sep).join('/');
    const parsed = parseYamlFile(file, fs.readFileSync(path.join(root, rel), 'utf8'), regionOfRelative(rel));
    objects.push(...parsed.objects);
    findings.push(...parsed.findings);
  }
  return { objects, files: rels.length, findings };
}
