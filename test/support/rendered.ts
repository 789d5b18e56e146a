/**
 * A fresh in-memory render of the shipped regions: for checks over the whole tree that must not
 * depend on the committed dist/, which may lag the source during a change.
 *
 * The objects are the documents each YAML file was written from (`RenderedFile.documents`), not
 * a parse of its text: test/synth/in-memory-validation.test.ts proves every file parses back
 * (YAML 1.1, as Argo CD reads it) to exactly those documents, and parsing the whole render again
 * cost ~2 s of CPU in every worker that asked for it.
 *
 * The render is made once per worker while regions/ stays the same: a dozen test files check the
 * same shipped render, at ~1 s of CPU each. Each caller gets its own deep copy, so what one file
 * does with it cannot reach another; the key is the content of every entry of regions/, so an
 * edit there renders anew.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { definition } from '../../main';
import { loadPlan } from '../../regions/load';
import type { RenderedFile } from '../../tools/synth/render';
import { renderAll } from '../../tools/synth/run';
import type { Obj } from './charts';
import { REGIONS_DIR } from './regions';

export interface RenderedObject {
  /** dist/ folder: the region, or argocd. */
  readonly folder: string;
  /** Path below dist/, e.g. us-east-1/web.yaml. */
  readonly file: string;
  readonly object: Obj;
  /** `<file> <kind> <namespace>/<name>`, for failure messages. */
  readonly where: string;
}

/** Every entry of regions/ with its content: what the shipped render depends on besides the code. */
function regionsKey(): string {
  return fs
    .readdirSync(REGIONS_DIR)
    .sort()
    .map((name) => {
      const file = path.join(REGIONS_DIR, name);
      return `${name}\0${fs.statSync(file).isFile() ? fs.readFileSync(file, 'utf8') : '(not a file)'}`;
    })
    .join('\0\0');
}

let shipped: { key: string; files: RenderedFile[]; progress: string[]; objects?: RenderedObject[] } | undefined;

function shippedRender(): NonNullable<typeof shipped> {
  const key = regionsKey();
  if (shipped?.key !== key) {
    const progress: string[] = [];
    shipped = { key, files: renderAll(definition, loadPlan(REGIONS_DIR), { log: (line) => progress.push(line) }), progress };
  }
  return shipped;
}

/** `renderAll(definition, loadPlan(REGIONS_DIR), {})`: every file of the shipped render (a copy of its own). */
export function renderShipped(): RenderedFile[] {
  return structuredClone(shippedRender().files);
}

/** The progress lines (`log`) of that render, in order, as synth prints them after `synth: `. */
export function shippedProgress(): string[] {
  return [...shippedRender().progress];
}

export function renderedObjects(): RenderedObject[] {
  const render = shippedRender();
  render.objects ??= render.files.flatMap((f) => {
    if (!f.path.endsWith('.yaml')) return [];
    if (f.documents === undefined) throw new Error(`test setup: ${f.path} was rendered without its documents`);
    return (f.documents as Obj[]).map((object) => ({ folder: f.path.split('/')[0]!, file: f.path, object, where: `${f.path} ${object.kind} ${object.metadata?.namespace ?? ''}/${object.metadata?.name}` }));
  });
  return structuredClone(render.objects);
}
