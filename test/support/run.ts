/**
 * Runs the project's command-line entry points in a child process, as a user would.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './regions';

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runTsx(script: string, args: string[], env: Record<string, string> = {}): RunResult {
  const result = spawnSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), [path.join(REPO_ROOT, script), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * `npm run synth` as users run it: tools/synth/launch.cjs (the prebuilt bundle, two threads), with
 * plain node (npm adds nothing but its own start-up).
 */
export function runSynth(args: string[], env: Record<string, string> = {}): RunResult {
  const result = spawnSync(process.execPath, [path.join(REPO_ROOT, 'tools', 'synth', 'launch.cjs'), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * A copy of the prebuilt bundle `name` (synth, validate) in a folder of its own, run as its
 * launcher runs it (tools/bundle.cjs runBundle): a test can watch that copy's V8 code cache
 * without another test's run writing it meanwhile. The folder is inside the clone, since the
 * bundle finds the repository and node_modules above itself. Build the bundle first (run its
 * launcher once); `remove` when done. `nodeFlags` go to node itself (before the script).
 */
export function isolatedBundle(name: string): { dir: string; run: (args: string[], nodeFlags?: string[]) => number | null; codeCaches: () => string[]; remove: () => void } {
  const cache = path.join(REPO_ROOT, 'node_modules', '.cache');
  const dir = fs.mkdtempSync(path.join(cache, `${name}-code-cache-test-`));
  const runner = path.join(dir, 'run.cjs');
  fs.copyFileSync(path.join(cache, 'bookedbarber', `${name}.cjs`), path.join(dir, `${name}.cjs`));
  fs.writeFileSync(runner, `require(${JSON.stringify(path.join(REPO_ROOT, 'tools', 'bundle.cjs'))}).runBundle(__dirname + '/${name}.cjs');\n`);
  return {
    dir,
    run: (args, nodeFlags = []) => spawnSync(process.execPath, [...nodeFlags, runner, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 }).status,
    codeCaches: () => fs.readdirSync(dir).filter((file) => file.endsWith('.v8')),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * The files of the shared bundle `name` as they are now (the bundle, its key file and V8 code
 * caches: tools/bundle.cjs bundleFiles), put back by `restore()`. A test that touches a source
 * makes the launcher rebuild the shared bundle and drop its caches; with the source's time
 * restored, the bundle as it was (same sources, same bytes) is current again, and the other files'
 * runs need neither a second rebuild nor a cold start.
 */
export function keptBundle(name: string): { restore: () => void } {
  const { bundleFiles } = require('../../tools/bundle.cjs') as { bundleFiles: (name: string) => string[] };
  const saved = new Map(bundleFiles(name).map((file) => [file, fs.readFileSync(file)]));
  return {
    restore: () => {
      for (const file of bundleFiles(name).filter((f) => !saved.has(f))) fs.rmSync(file, { force: true });
      // Written aside and renamed: another file's launcher may read the bundle meanwhile.
      for (const [file, bytes] of saved) {
        const temp = `${file}.${process.pid}.restore`;
        fs.writeFileSync(temp, bytes);
        fs.renameSync(temp, file);
      }
    },
  };
}
