/**
 * What every entry of regions/ is. Nothing is skipped silently: an entry is read (global.yaml,
 * versions.yaml, every other `*.yaml` as a region), known and left alone (README.md, the model's
 * `*.ts`, the editor schemas in schema/), or refused with its name and what to do with it.
 * The table is in docs/regions.md ("What regions/ may hold").
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ConfigIssue } from './config-error';
import { MAX_FILE_BYTES } from './source-file';

export const GLOBAL_FILE = 'global.yaml';
export const VERSIONS_FILE = 'versions.yaml';

/**
 * The most bytes all files of regions/ together may have: 2 MiB. The shipped ones have 46 KiB,
 * 64 synthetic regions (npm run bench) about 330 KiB; parsing 2 MiB takes about 2 s.
 */
export const MAX_TOTAL_BYTES = 2 * 1024 * 1024;

/** Entries the loader knows and does not read. */
const KNOWN_FOLDERS = new Set(['schema']);
const KNOWN_FILES = new Set(['README.md']);
/** The region model's own source lives in regions/ too. */
const KNOWN_SUFFIXES = ['.ts'];

/** Editor backups, swap and lock files, merge and patch leftovers, OS litter. */
const LEFTOVER = /(~|\.bak|\.orig|\.rej|\.old|\.tmp|\.swp|\.swo|\.swn|\.swx|\.sw[a-p]|\.backup|\.save|\.BASE|\.LOCAL|\.REMOTE)$|^\.#|^#.*#$|^\.DS_Store$|^Thumbs\.db$|^\._/i;

export interface RegionFolder {
  /** Paths of global.yaml and versions.yaml (whether or not they exist). */
  readonly globalFile: string;
  readonly versionsFile: string;
  /** Whether global.yaml / versions.yaml are present (possibly refused: see issues). */
  readonly hasGlobal: boolean;
  readonly hasVersions: boolean;
  /** Every other readable `*.yaml`, sorted by name (locale-independent). */
  readonly regionFiles: readonly string[];
  /** Entries refused, each with its name and what to do. */
  readonly issues: readonly ConfigIssue[];
}

/** Sorts every entry of `dir` into read, known, or refused. */
export function scanRegionFolder(dir: string): RegionFolder {
  const globalFile = path.join(dir, GLOBAL_FILE);
  const versionsFile = path.join(dir, VERSIONS_FILE);
  const issues: ConfigIssue[] = [];
  const refuse = (file: string, found: string, expected: string, fix: string) => issues.push({ file, line: 1, column: 1, path: [], found, expected, fix });
  let names: string[];
  try {
    names = fs.readdirSync(dir).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    refuse(
      dir,
      code === 'ENOENT' ? 'no such folder' : code === 'ENOTDIR' ? 'a file, not a folder' : code === 'ELOOP' ? 'a symbolic link that loops' : `a folder that cannot be read (${code})`,
      'the regions folder: global.yaml, versions.yaml and one <region>.yaml per region',
      'check the --regions argument',
    );
    return { globalFile, versionsFile, hasGlobal: false, hasVersions: false, regionFiles: [], issues };
  }
  let root: string;
  try {
    root = fs.realpathSync(dir);
  } catch {
    root = path.resolve(dir);
  }
  const regionFiles: string[] = [];
  let hasGlobal = false;
  let hasVersions = false;
  const sizes: [string, number][] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    if (LEFTOVER.test(name)) {
      refuse(file, `"${name}", an editor backup, swap or lock file or a merge leftover`, 'only global.yaml, versions.yaml and <region>.yaml files (see docs/regions.md)', `delete ${name} or move it out of regions/ (it is not read, and a stale copy must not look like config)`);
      continue;
    }
    if (KNOWN_FILES.has(name) || KNOWN_SUFFIXES.some((suffix) => name.endsWith(suffix))) continue;
    const yaml = name.endsWith('.yaml');
    if (!yaml) {
      if (KNOWN_FOLDERS.has(name) && isFolder(file)) continue;
      if (/\.(ya?ml|json)$/i.test(name)) {
        const stem = name.replace(/\.(ya?ml|json)$/i, '');
        const target = `${stem}.yaml`;
        const taken = names.includes(target);
        const json = /\.json$/i.test(name);
        refuse(
          file,
          `"${name}": region files must end in .yaml${json ? ' (JSON syntax is fine inside a .yaml file)' : ''}`,
          'global.yaml, versions.yaml or <region>.yaml',
          taken ? `${target} exists too: merge what you need into it and delete ${name}` : `rename ${name} to ${target}`,
        );
        continue;
      }
      refuse(
        file,
        `"${name}", ${isFolder(file) ? 'a folder' : 'a file'} the loader does not read`,
        'only global.yaml, versions.yaml, <region>.yaml, README.md, the model\'s *.ts files and the schema/ folder',
        `move ${name} out of regions/ or delete it`,
      );
      continue;
    }
    // A *.yaml entry is read: it must be a regular file inside regions/ (links may point within).
    const link = linkProblem(file, root);
    if (link) {
      refuse(file, link.found, 'a file, or a symbolic link to a file inside regions/', link.fix);
      if (name === GLOBAL_FILE) hasGlobal = true;
      if (name === VERSIONS_FILE) hasVersions = true;
      continue;
    }
    const stat = fs.statSync(file);
    if (!stat.isFile()) {
      refuse(file, `"${name}" is ${stat.isDirectory() ? 'a folder' : 'not a regular file (a pipe, socket or device)'}`, 'a YAML file', `rename or remove ${name}`);
      if (name === GLOBAL_FILE) hasGlobal = true;
      if (name === VERSIONS_FILE) hasVersions = true;
      continue;
    }
    sizes.push([name, stat.size]);
    if (name === GLOBAL_FILE) hasGlobal = true;
    else if (name === VERSIONS_FILE) hasVersions = true;
    else regionFiles.push(file);
  }
  // Files over MAX_FILE_BYTES are refused one by one when read; this bounds the rest together.
  const counted = sizes.filter(([, size]) => size <= MAX_FILE_BYTES);
  const counting = counted.reduce((sum, [, size]) => sum + size, 0);
  if (counting > MAX_TOTAL_BYTES) {
    const largest = [...counted].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([name, size]) => `${name} ${Math.ceil(size / 1024)} KiB`);
    refuse(
      dir,
      `${counted.length} YAML files of ${(counting / 1024 / 1024).toFixed(1)} MiB together (largest: ${largest.join(', ')}); none was read`,
      `at most ${MAX_TOTAL_BYTES / 1024 / 1024} MiB of region files together`,
      'remove generated or copied files from regions/',
    );
    return { globalFile, versionsFile, hasGlobal, hasVersions, regionFiles: [], issues };
  }
  return { globalFile, versionsFile, hasGlobal, hasVersions, regionFiles, issues };
}

function isFolder(file: string): boolean {
  try {
    return fs.statSync(file).isDirectory();
  } catch {
    return false;
  }
}

/** Why a symbolic link cannot be read: it loops, dangles, or leaves regions/. */
function linkProblem(file: string, root: string): { found: string; fix: string } | undefined {
  let isLink: boolean;
  try {
    isLink = fs.lstatSync(file).isSymbolicLink();
  } catch {
    return undefined;
  }
  if (!isLink) return undefined;
  const name = path.basename(file);
  const target = fs.readlinkSync(file);
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') {
      return { found: `"${name}" is a symbolic link that loops (${name} -> ${target} -> ... never reaches a file)`, fix: `replace ${name} with the file it should point to` };
    }
    return { found: `"${name}" is a symbolic link to ${target}, which does not exist`, fix: `replace ${name} with the file it should point to, or delete it` };
  }
  const relative = path.relative(root, real);
  if (relative.startsWith('..') || path.isAbsolute(relative)) {
    return {
      found: `"${name}" is a symbolic link to ${real}, outside ${root}`,
      fix: `copy the file into regions/ (what is rendered must be what is committed here), or link to a file inside regions/`,
    };
  }
  return undefined;
}
