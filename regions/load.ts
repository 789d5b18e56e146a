/**
 * Reads regions/: global.yaml, versions.yaml (every third-party pin) plus one <region>.yaml per
 * region, checks every file against its schema, then the invariants across files, and returns the plan the charts are built from.
 * Nothing is rendered unless all of it holds; every problem found is reported at once.
 * Every entry of the folder is read, known or refused by name (regions/region-files.ts), and every
 * file is read within bounds (regions/source-file.ts).
 */
import * as path from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import { ConfigError, type ConfigIssue } from './config-error';
import { checkInvariants, type LoadedGlobal, type LoadedModel, type LoadedRegion, type LoadedVersions } from './invariants';
import { GlobalConfig, RegionConfig } from './model';
import { buildPlan, type CheckedConfig, type PlatformPlan } from './plan';
import { GLOBAL_FILE, scanRegionFolder, VERSIONS_FILE } from './region-files';
import { checkSchema } from './schema-check';
import { SourceFile } from './source-file';
import { VersionsConfig } from './versions-model';

export { GLOBAL_FILE, VERSIONS_FILE };

/** Region files in a stable, locale-independent order (every readable *.yaml but global and versions). */
export function regionFiles(dir: string): string[] {
  return [...scanRegionFolder(dir).regionFiles];
}

export interface LoadOptions {
  /**
   * How a file is read and parsed. @default SourceFile.read. The boundary-case tests, which load
   * the same folder hundreds of times with one file changed, reuse the parse of the others.
   */
  readonly readSource?: (file: string) => SourceFile;
}

/** Loads and checks the model; throws ConfigError listing every problem. */
export function loadModel(dir: string, options: LoadOptions = {}): LoadedModel {
  const read = options.readSource ?? ((file: string) => SourceFile.read(file));
  const folder = scanRegionFolder(dir);
  const globalPath = folder.globalFile;
  const versionsPath = folder.versionsFile;
  const issues: ConfigIssue[] = [...folder.issues];
  const missing: ConfigIssue[] = (
    [
      [globalPath, folder.hasGlobal, `${GLOBAL_FILE} with the settings shared by all regions`],
      [versionsPath, folder.hasVersions, `${VERSIONS_FILE} with every third-party image, Helm chart and CRD version`],
    ] as const
  )
    .filter(([, present]) => !present)
    .map(([file, , expected]) => ({
      file, line: 1, column: 1, path: [], found: 'no such file', expected,
      // Every region file relies on both: a deleted one is restored, never rewritten from memory.
      fix: `restore it from git (git checkout -- ${path.relative(process.cwd(), file) || file}), or point --regions at the folder that holds it`,
    }));
  if (missing.length > 0 || folder.issues.some((i) => i.file === globalPath || i.file === versionsPath || i.file === dir)) {
    throw new ConfigError(sortIssues([...issues, ...missing]));
  }
  const check = (source: SourceFile, schema: TSchema) => {
    issues.push(...capped(source.syntaxIssues.length > 0 ? source.syntaxIssues : checkSchema(source, schema)));
  };
  const globalSource = read(globalPath);
  check(globalSource, GlobalConfig);
  const versionsSource = read(versionsPath);
  check(versionsSource, VersionsConfig);
  const { kept, duplicates } = oneFilePerRegion(folder.regionFiles.map(read));
  issues.push(...duplicates);
  kept.forEach((source) => check(source, RegionConfig));
  if (kept.length === 0) {
    issues.push(globalSource.issue([], 'no region files', `at least one <region>.yaml next to ${globalPath}`, 'add a region file, e.g. copy a shipped one and rename it and its name:'));
  }
  if (issues.length > 0) throw new ConfigError(sortIssues(issues));

  const global: LoadedGlobal = { source: globalSource, config: globalSource.data as GlobalConfig };
  const regions: LoadedRegion[] = kept.map((source) => ({ source, config: source.data as RegionConfig }));
  const versions: LoadedVersions = { source: versionsSource, config: versionsSource.data as VersionsConfig };
  const model: LoadedModel = { global, versions, regions };
  const broken = checkInvariants(model);
  if (broken.length > 0) throw new ConfigError(broken);
  return model;
}

/** The entry point charts use: a checked model turned into a plan. */
export function loadPlan(dir: string, options: LoadOptions = {}): PlatformPlan {
  return buildPlan(checkedConfig(loadModel(dir, options)));
}

/**
 * What buildPlan needs of a checked model: plain data, so a synth worker thread can be handed
 * it (structured clone) instead of reading and checking the same files again.
 */
export function checkedConfig(model: LoadedModel): CheckedConfig {
  return {
    global: model.global.config,
    versions: model.versions.config,
    regions: model.regions.map((r) => ({ file: r.source.file, config: r.config })),
  };
}

/** Folder problems first in file order, then each file's problems in line order (stable otherwise). */
function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  const order = new Map<string, number>();
  issues.forEach((issue) => order.has(issue.file) || order.set(issue.file, order.size));
  return issues
    .map((issue, index) => ({ issue, index }))
    .sort((a, b) => order.get(a.issue.file)! - order.get(b.issue.file)! || a.index - b.index)
    .map(({ issue }) => issue);
}

/**
 * The most problems listed per file. A generated or wrong file (a JSON dump, someone else's
 * YAML) can have thousands; the first ones say what is wrong, the rest would bury the others.
 */
export const MAX_ISSUES_PER_FILE = 50;

function capped(issues: ConfigIssue[]): ConfigIssue[] {
  if (issues.length <= MAX_ISSUES_PER_FILE) return issues;
  const last = issues[MAX_ISSUES_PER_FILE];
  return [
    ...issues.slice(0, MAX_ISSUES_PER_FILE),
    {
      file: last.file,
      line: last.line,
      column: last.column,
      path: last.path,
      found: `${(issues.length - MAX_ISSUES_PER_FILE).toLocaleString('en-US')} more problems in this file from here on (${issues.length.toLocaleString('en-US')} in all), not listed`,
      expected: `a region file: the first ${MAX_ISSUES_PER_FILE} problems above show what is wrong`,
      fix: 'fix the problems above (is this the right file?) and run again',
    },
  ];
}

const COUNT = ['', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];

/**
 * Two files with the same `name:` (typically `us-east-1 copy.yaml` next to `us-east-1.yaml`) are
 * one problem, said as such, not a cascade of schema and invariant errors from the copy: the file
 * named after the region is kept and checked, the others are reported once and set aside.
 */
function oneFilePerRegion(sources: SourceFile[]): { kept: SourceFile[]; duplicates: ConfigIssue[] } {
  const byName = new Map<string, SourceFile[]>();
  for (const source of sources) {
    const name = (source.data as { name?: unknown } | null | undefined)?.name;
    if (typeof name !== 'string') continue;
    byName.set(name, [...(byName.get(name) ?? []), source]);
  }
  const dropped = new Set<SourceFile>();
  const duplicates: ConfigIssue[] = [];
  for (const [name, group] of byName) {
    if (group.length < 2) continue;
    const own = group.find((s) => path.basename(s.file) === `${name}.yaml`) ?? group[0];
    const files = [own, ...group.filter((s) => s !== own)].map((s) => path.basename(s.file));
    const list = `${files.slice(0, -1).join(', ')} and ${files[files.length - 1]}`;
    for (const other of group) {
      if (other === own) continue;
      dropped.add(other);
      const base = path.basename(other.file);
      const stem = base.replace(/\.yaml$/, '');
      duplicates.push(
        other.issue(
          ['name'],
          `${COUNT[group.length] ?? group.length} files define ${name}: ${list}`,
          `one file per region, named after it: a region name not used by ${path.basename(own.file)}`,
          /^[a-z0-9-]+$/.test(stem)
            ? `delete ${base} if it is a copy; otherwise set its name to "${stem}", its file name`
            : `delete ${base} if it is a copy; if it is a new region, give it its own name and rename the file to match`,
        ),
      );
    }
  }
  return { kept: sources.filter((s) => !dropped.has(s)), duplicates };
}
