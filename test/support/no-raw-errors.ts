/**
 * Runs boundary cases (test/support/boundary-cases.ts) through the loader and the charts in
 * process, and collects every failure that would reach the user unlocated: anything but a
 * ConfigError whose issues all carry file, line, field and a found/expected pair.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import type { TSchema } from '@sinclair/typebox';
import { definition } from '../../main';
import { ConfigError, formatPath } from '../../regions/config-error';
import { loadPlan } from '../../regions/load';
import { SourceFile } from '../../regions/source-file';
import { failureMessage, renderAll } from '../../tools/synth/run';
import { applyCase, boundaryCases, type BoundaryCase } from './boundary-cases';
import { REGIONS_DIR, tempDir } from './regions';

export interface Outcome {
  readonly rendered: number;
  readonly located: number;
  /** One line per unlocated failure: the case and what the user would have seen. */
  readonly raw: string[];
}

/** Everything frozen: a cached file's data is shared by every case, so nothing may change it. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * A reader for loadPlan that parses each shipped file of `dir` once: every case changes one file
 * and loads all of them again, and parsing the unchanged ones was a quarter of the run's CPU. A
 * file is served from the first read only while its bytes are the shipped ones (the changed file
 * of a case, or any other text, is read as always), its data frozen so that a loader or chart
 * that changed it would fail the case.
 */
function shippedFilesParsedOnce(dir: string, texts: Readonly<Record<string, string>>): (file: string) => SourceFile {
  const parsed = new Map<string, SourceFile>();
  return (file) => {
    const name = path.basename(file);
    const shipped = path.dirname(file) === dir ? texts[name] : undefined;
    if (shipped === undefined || fs.readFileSync(file, 'utf8') !== shipped) return SourceFile.read(file);
    let source = parsed.get(name);
    if (!source) {
      source = SourceFile.read(file);
      deepFreeze(source.data);
      parsed.set(name, source);
    }
    return source;
  };
}

/**
 * `part`: every `of`-th case from the `index`-th, so that two test files run the halves of one long
 * list on two workers (each case is independent; together the parts are the whole list).
 */
export function runBoundaryCases(targets: ReadonlyArray<{ file: string; schema: TSchema }>, part: { index: number; of: number } = { index: 0, of: 1 }): Outcome & { cases: number } {
  const dir = tempDir('bb-boundary-');
  const texts: Record<string, string> = {};
  for (const name of fs.readdirSync(REGIONS_DIR).filter((n) => n.endsWith('.yaml'))) {
    texts[name] = fs.readFileSync(path.join(REGIONS_DIR, name), 'utf8');
    fs.writeFileSync(path.join(dir, name), texts[name]!);
  }
  return runCases(dir, texts, targets, shippedFilesParsedOnce(dir, texts), part);
}

function runCases(
  dir: string,
  texts: Readonly<Record<string, string>>,
  targets: ReadonlyArray<{ file: string; schema: TSchema }>,
  readSource: (file: string) => SourceFile,
  part: { index: number; of: number },
): Outcome & { cases: number } {
  const cases: BoundaryCase[] = targets.flatMap((t) => boundaryCases(t.file, t.schema, parse(texts[t.file]!))).filter((_, i) => i % part.of === part.index);
  let rendered = 0;
  let located = 0;
  const raw: string[] = [];
  for (const c of cases) {
    const label = `${c.file} ${formatPath(c.path)} ${c.label}`;
    fs.writeFileSync(path.join(dir, c.file), applyCase(texts[c.file]!, c));
    try {
      const plan = loadPlan(dir, { readSource });
      // A region file's change renders that region; a global one the primary region (and the
      // global Argo CD charts, which every run builds).
      renderAll(definition, plan, { only: [c.file === 'global.yaml' ? 'us-east-1' : c.file.replace(/\.yaml$/, '')], buildOnly: true });
      rendered++;
    } catch (error) {
      const message = failureMessage(error);
      if (!(error instanceof ConfigError)) raw.push(`${label}: ${message.slice(0, 300)}`);
      else {
        const bad = error.issues.filter((i) => !i.file || !(i.line >= 1) || !i.found || !i.expected);
        if (bad.length > 0 || / at .*\(.*:\d+:\d+\)/.test(message)) raw.push(`${label}: unlocated issue in ${message.slice(0, 300)}`);
        else located++;
      }
    } finally {
      fs.writeFileSync(path.join(dir, c.file), texts[c.file]!);
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return { cases: cases.length, rendered, located, raw };
}
