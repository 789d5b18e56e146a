/**
 * Test helpers: copies of the shipped regions/ folder, changed in one place, in a temp dir.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { ConfigError, type ConfigIssue } from '../../regions/config-error';
import { loadModel } from '../../regions/load';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const REGIONS_DIR = path.join(REPO_ROOT, 'regions');

/** Region YAML files (global.yaml and <region>.yaml) by file name, parsed. */
export type RegionFiles = Record<string, any>;

/**
 * Each shipped file's text and its parse, kept between calls: tests call this a hundred times,
 * and parsing all of regions/ costs ~15 ms each time, a copy of the parse well under 1 ms. The
 * file is still read every call and parsed anew when its text changed; callers get their own copy.
 */
const parsedShipped = new Map<string, { text: string; data: unknown }>();

export function shippedRegionFiles(): RegionFiles {
  const files: RegionFiles = {};
  for (const name of fs.readdirSync(REGIONS_DIR).filter((n) => n.endsWith('.yaml'))) {
    const text = fs.readFileSync(path.join(REGIONS_DIR, name), 'utf8');
    let entry = parsedShipped.get(name);
    if (entry?.text !== text) {
      entry = { text, data: parse(text) };
      parsedShipped.set(name, entry);
    }
    files[name] = structuredClone(entry.data);
  }
  return files;
}

export function tempDir(prefix = 'bb-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Writes the files (after `mutate`) to a fresh temp folder and returns it. */
export function regionsWith(mutate: (files: RegionFiles) => void): string {
  const files = shippedRegionFiles();
  mutate(files);
  const dir = tempDir('bb-regions-');
  for (const [name, data] of Object.entries(files)) {
    if (data !== undefined) fs.writeFileSync(path.join(dir, name), typeof data === 'string' ? data : stringify(data));
  }
  return dir;
}

/** Copies the shipped folder and replaces text in one file (to test line numbers). */
export function regionsWithText(file: string, from: string | RegExp, to: string): string {
  const dir = tempDir('bb-regions-');
  for (const name of fs.readdirSync(REGIONS_DIR).filter((n) => n.endsWith('.yaml'))) {
    let text = fs.readFileSync(path.join(REGIONS_DIR, name), 'utf8');
    if (name === file) {
      const changed = text.replace(from, to);
      if (changed === text) throw new Error(`test setup: ${String(from)} not found in ${file}`);
      text = changed;
    }
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** The ConfigError loading the region files of `dir` raises (a test fails if it loads). */
export function configError(dir: string): ConfigError {
  try {
    loadModel(dir);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

/** Every issue loading a copy of the shipped regions changed by `mutate` raises ([] when it loads). */
export function issuesFor(mutate: (files: RegionFiles) => void): ConfigIssue[] {
  try {
    loadModel(regionsWith(mutate));
  } catch (error) {
    if (error instanceof ConfigError) return [...error.issues];
    throw error;
  }
  return [];
}
