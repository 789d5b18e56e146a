/**
 * `npm run synth` runs tools/synth/launch.cjs: the synth sources as a prebuilt bundle run by plain
 * node (issue 16), rebuilt whenever a source file changes. It must write exactly what the sources
 * write, and never run a stale bundle.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, tempDir } from '../support/regions';
import { runTsx } from '../support/run';
import { readTree } from '../support/tree';

const LAUNCH = path.join(REPO_ROOT, 'tools', 'synth', 'launch.cjs');
const BUNDLE = path.join(REPO_ROOT, 'node_modules', '.cache', 'bookedbarber', 'synth.cjs');

const launch = (args: string[]) => spawnSync(process.execPath, [LAUNCH, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });

describe('npm run synth (the bundled launcher)', () => {
  it('writes byte for byte what the sources write, and exits as they do on a broken config', () => {
    const bundled = tempDir('bb-launch-a-');
    const sources = tempDir('bb-launch-b-');
    const a = launch(['--out', bundled]);
    expect(a.status, a.stderr).toBe(0);
    const b = runTsx('tools/synth/cli.ts', ['--out', sources]);
    expect(b.status, b.stderr).toBe(0);
    expect(readTree(bundled)).toEqual(readTree(sources));
    const usage = launch(['--no-such-flag']);
    expect(usage.status).toBe(2);
  }, 180_000);

  it('rebuilds the bundle when a source file changes, and only then', () => {
    // The launcher checks (and rebuilds) the bundle before it parses any argument, so --help
    // starts the bundle without a render; the run after the change renders everything.
    expect(launch(['--help']).status).toBe(0);
    const built = fs.statSync(BUNDLE).mtimeMs;
    expect(launch(['--help']).status).toBe(0);
    expect(fs.statSync(BUNDLE).mtimeMs).toBe(built);
    // Touch a chart (its content unchanged): the launcher must not trust the old bundle.
    const source = path.join(REPO_ROOT, 'charts', 'web', 'smoke-test.ts');
    const { atime, mtime } = fs.statSync(source);
    try {
      fs.utimesSync(source, atime, new Date(mtime.getTime() + 5000));
      expect(launch(['--out', tempDir('bb-launch-e-')]).status).toBe(0);
      expect(fs.statSync(BUNDLE).mtimeMs).toBeGreaterThan(built);
    } finally {
      fs.utimesSync(source, atime, mtime);
    }
  }, 180_000);
});
