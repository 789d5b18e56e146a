/**
 * The synth command line of the sources in this process (`main` of tools/synth/run.ts, what
 * tools/synth/cli.ts calls), with what it prints captured: the exit status, stdout and stderr a
 * user would see, without a child process (one costs ~1 s of CPU through tsx). For what only the
 * launcher or the bundle does (code caches, threads), run it as a user does: test/support/run.ts.
 */
import { main, type SynthDefinition } from '../../tools/synth/run';
import { REPO_ROOT } from './regions';

export interface InProcessRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function synthInProcess(definition: SynthDefinition, args: readonly string[]): InProcessRun {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write;
  const err = process.stderr.write;
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  try {
    const status = main(definition, args, REPO_ROOT);
    return { status, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}
