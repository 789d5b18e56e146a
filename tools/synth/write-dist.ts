/**
 * Writes rendered files into dist/ so that a failure never leaves a half-written tree: all files
 * go to a staging folder next to dist/, which is checked and then swapped in with renames.
 * Folders we render are replaced whole, so files of removed components disappear; with a region
 * filter only that region's folder is replaced and every other file stays as it was. When the
 * folders already hold exactly the rendered files, nothing is written: no file's timestamp moves
 * (editors, file watchers and make see no change), and the run skips ~100 writes and a swap.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RenderedFile } from './render';

export interface WriteOptions {
  /** The output root, e.g. /repo/dist. */
  readonly distDir: string;
  /** Top-level folders of distDir this run replaces (e.g. ['us-east-1']), or 'all'. */
  readonly replace: readonly string[] | 'all';
  /** Runs on the staging folder before the swap; throwing aborts and leaves distDir untouched. */
  readonly check?: (stagingDir: string) => void;
}

let counter = 0;

function siblingDir(distDir: string, label: string): string {
  counter += 1;
  return path.join(path.dirname(distDir), `.synth-${label}-${process.pid}-${counter}`);
}

/** Moves `fresh` to `target`, keeping the old `target` at `retired`; restores it if the move fails. */
function swap(fresh: string, target: string, retired: string): void {
  const hadTarget = fs.existsSync(target);
  if (hadTarget) fs.renameSync(target, retired);
  try {
    if (fs.existsSync(fresh)) fs.renameSync(fresh, target);
  } catch (error) {
    if (hadTarget) fs.renameSync(retired, target);
    throw error;
  }
}

/**
 * Whether the folders `replace` names (all of distDir for 'all') hold exactly `files`: the same
 * paths, byte for byte, as plain files without an execute bit, and nothing else (no extra file or
 * folder, which a swap would remove).
 */
export function alreadyWritten(files: readonly RenderedFile[], distDir: string, replace: readonly string[] | 'all'): boolean {
  const expected = new Map(files.map((f) => [f.path, f.content]));
  let found = 0;
  const matches = (rel: string): boolean => {
    const full = path.join(distDir, rel);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(full, { withFileTypes: true });
    } catch {
      return false;
    }
    for (const entry of entries) {
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!matches(child)) return false;
        continue;
      }
      const content = expected.get(child);
      if (content === undefined || !entry.isFile()) return false;
      if ((fs.statSync(path.join(distDir, child)).mode & 0o111) !== 0) return false;
      if (fs.readFileSync(path.join(distDir, child), 'utf8') !== content) return false;
      found += 1;
    }
    // An empty folder would not survive the swap (the staging tree has none).
    return entries.length > 0 || rel === '';
  };
  const roots = replace === 'all' ? [''] : [...new Set(replace)];
  return roots.every((root) => matches(root)) && found === expected.size;
}

export function writeDist(files: readonly RenderedFile[], options: WriteOptions): void {
  const { distDir, replace } = options;
  if (alreadyWritten(files, distDir, replace)) {
    // The check still runs (it vets what the run would have swapped in): on the files in place.
    options.check?.(distDir);
    return;
  }
  const staging = siblingDir(distDir, 'staging');
  const retired = siblingDir(distDir, 'old');
  try {
    for (const file of files) {
      const top = file.path.split('/')[0];
      if (replace !== 'all' && !replace.includes(top)) {
        throw new Error(`rendered ${file.path} outside the folders this run replaces (${replace.join(', ')})`);
      }
      const target = path.join(staging, file.path);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, file.content);
    }
    fs.mkdirSync(staging, { recursive: true });
    options.check?.(staging);

    if (replace === 'all') {
      swap(staging, distDir, retired);
    } else {
      fs.mkdirSync(distDir, { recursive: true });
      fs.mkdirSync(retired, { recursive: true });
      // A folder named twice (`--region x --region x`) is swapped once: the second swap would meet its own result.
      for (const folder of new Set(replace)) {
        swap(path.join(staging, folder), path.join(distDir, folder), path.join(retired, folder));
      }
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
    fs.rmSync(retired, { recursive: true, force: true });
  }
}
