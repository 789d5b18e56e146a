/**
 * Reads regions/: global.yaml plus one <region>.yaml per region, checks every file against its
 * schema, then the invariants across files, and returns the plan the charts are built from.
 * Nothing is rendered unless all of it holds; every problem found is reported at once.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, type ConfigIssue } from './config-error';
import { checkInvariants, type LoadedGlobal, type LoadedModel, type LoadedRegion } from './invariants';
import { GlobalConfig, RegionConfig } from './model';
import { buildPlan, type PlatformPlan } from './plan';
import { checkSchema } from './schema-check';
import { SourceFile } from './source-file';

export const GLOBAL_FILE = 'global.yaml';

/** Region files in a stable, locale-independent order. */
export function regionFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.yaml') && name !== GLOBAL_FILE)
    .sort()
    .map((name) => path.join(dir, name));
}

/** Loads and checks the model; throws ConfigError listing every problem. */
export function loadModel(dir: string): LoadedModel {
  const globalPath = path.join(dir, GLOBAL_FILE);
  if (!fs.existsSync(globalPath)) {
    throw new ConfigError([
      { file: globalPath, line: 1, column: 1, path: [], found: 'no such file', expected: `${GLOBAL_FILE} with the settings shared by all regions` },
    ]);
  }
  const issues: ConfigIssue[] = [];
  const check = (source: SourceFile, schema: typeof GlobalConfig | typeof RegionConfig) => {
    issues.push(...source.syntaxIssues);
    if (source.syntaxIssues.length === 0) issues.push(...checkSchema(source, schema));
  };
  const globalSource = SourceFile.read(globalPath);
  check(globalSource, GlobalConfig);
  const regionSources = regionFiles(dir).map((file) => SourceFile.read(file));
  regionSources.forEach((source) => check(source, RegionConfig));
  if (regionSources.length === 0) {
    issues.push(globalSource.issue([], 'no region files', `at least one <region>.yaml next to ${globalPath}`));
  }
  if (issues.length > 0) throw new ConfigError(issues);

  const global: LoadedGlobal = { source: globalSource, config: globalSource.data as GlobalConfig };
  const regions: LoadedRegion[] = regionSources.map((source) => ({ source, config: source.data as RegionConfig }));
  const model: LoadedModel = { global, regions };
  const broken = checkInvariants(model);
  if (broken.length > 0) throw new ConfigError(broken);
  return model;
}

/** The entry point charts use: a checked model turned into a plan. */
export function loadPlan(dir: string): PlatformPlan {
  return buildPlan(loadModel(dir));
}
