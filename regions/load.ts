/**
 * Reads regions/: global.yaml, versions.yaml (every third-party pin) plus one <region>.yaml per
 * region, checks every file against its schema, then the invariants across files, and returns the plan the charts are built from.
 * Nothing is rendered unless all of it holds; every problem found is reported at once.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import { ConfigError, type ConfigIssue } from './config-error';
import { checkInvariants, type LoadedGlobal, type LoadedModel, type LoadedRegion, type LoadedVersions } from './invariants';
import { GlobalConfig, RegionConfig } from './model';
import { buildPlan, type PlatformPlan } from './plan';
import { checkSchema } from './schema-check';
import { SourceFile } from './source-file';
import { VersionsConfig } from './versions-model';

export const GLOBAL_FILE = 'global.yaml';
export const VERSIONS_FILE = 'versions.yaml';

/** Region files in a stable, locale-independent order. */
export function regionFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.yaml') && name !== GLOBAL_FILE && name !== VERSIONS_FILE)
    .sort()
    .map((name) => path.join(dir, name));
}

/** Loads and checks the model; throws ConfigError listing every problem. */
export function loadModel(dir: string): LoadedModel {
  const globalPath = path.join(dir, GLOBAL_FILE);
  const versionsPath = path.join(dir, VERSIONS_FILE);
  const missing: ConfigIssue[] = [
    [globalPath, `${GLOBAL_FILE} with the settings shared by all regions`],
    [versionsPath, `${VERSIONS_FILE} with every third-party image, Helm chart and CRD version`],
  ]
    .filter(([file]) => !fs.existsSync(file))
    .map(([file, expected]) => ({ file, line: 1, column: 1, path: [], found: 'no such file', expected }));
  if (missing.length > 0) throw new ConfigError(missing);
  const issues: ConfigIssue[] = [];
  const check = (source: SourceFile, schema: TSchema) => {
    issues.push(...source.syntaxIssues);
    if (source.syntaxIssues.length === 0) issues.push(...checkSchema(source, schema));
  };
  const globalSource = SourceFile.read(globalPath);
  check(globalSource, GlobalConfig);
  const versionsSource = SourceFile.read(versionsPath);
  check(versionsSource, VersionsConfig);
  const regionSources = regionFiles(dir).map((file) => SourceFile.read(file));
  regionSources.forEach((source) => check(source, RegionConfig));
  if (regionSources.length === 0) {
    issues.push(globalSource.issue([], 'no region files', `at least one <region>.yaml next to ${globalPath}`));
  }
  if (issues.length > 0) throw new ConfigError(issues);

  const global: LoadedGlobal = { source: globalSource, config: globalSource.data as GlobalConfig };
  const regions: LoadedRegion[] = regionSources.map((source) => ({ source, config: source.data as RegionConfig }));
  const versions: LoadedVersions = { source: versionsSource, config: versionsSource.data as VersionsConfig };
  const model: LoadedModel = { global, versions, regions };
  const broken = checkInvariants(model);
  if (broken.length > 0) throw new ConfigError(broken);
  return model;
}

/** The entry point charts use: a checked model turned into a plan. */
export function loadPlan(dir: string): PlatformPlan {
  return buildPlan(loadModel(dir));
}
