/**
 * Runs the project's command-line entry points in a child process, as a user would.
 */
import { spawnSync } from 'node:child_process';
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
