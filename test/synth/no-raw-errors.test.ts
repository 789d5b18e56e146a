/**
 * Issue 15 item 1: no raw errors. Every field of global.yaml (GlobalConfig) at its boundaries,
 * one change at a time on a copy of the shipped regions/: the loader and every chart run in
 * process, and a failure must be a located config problem (file:line:col field, found,
 * expected), never a chart's raw message, a stack trace or an internal error. The region files'
 * fields: no-raw-errors-regions.test.ts (a second file, so vitest runs both at once). And a chart
 * that throws anyway is a bug: one line, "internal error in chart X", its stack only with --debug.
 */
import * as path from 'node:path';
import { Chart } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { definition } from '../../main';
import { GlobalConfig } from '../../regions/model';
import type { SynthDefinition } from '../../tools/synth/run';
import { runBoundaryCases } from '../support/no-raw-errors';
import { tempDir } from '../support/regions';
import { synthInProcess } from '../support/synth-in-process';
import { readTree, writeTree } from '../support/tree';

describe('global.yaml at its boundaries', () => {
  // Half of the cases; no-raw-errors-global.test.ts runs the other half on another worker.
  it('every boundary value of every field either renders or fails with a located problem (first half)', () => {
    const outcome = runBoundaryCases([{ file: 'global.yaml', schema: GlobalConfig }], { index: 0, of: 2 });
    expect(outcome.raw).toEqual([]);
    expect(outcome.cases).toBeGreaterThan(150);
    // Both paths are exercised: values that render and values the checks refuse.
    expect(outcome.rendered).toBeGreaterThan(25);
    expect(outcome.located).toBeGreaterThan(25);
  }, 240_000);
});

describe('a chart that throws anyway (a generator bug)', () => {
  /** `main` in process, with a region chart that throws after the config passed its checks. */
  function runWithBrokenChart(extra: string[]): { status: number; stderr: string; out: string; before: Record<string, string> } {
    const broken: SynthDefinition = {
      ...definition,
      buildRegion: (app, plan) => {
        definition.buildRegion(app, plan);
        new Chart(app, 'exploding');
        throw new Error('boom: the chart found 3 of 2\n  (a second line the user does not need)');
      },
    };
    const out = path.join(tempDir('bb-internal-'), 'out');
    writeTree(out, { 'us-east-1/namespaces.yaml': 'kept\n' });
    const before = readTree(out);
    const { status, stderr } = synthInProcess(broken, ['--out', out, ...extra]);
    return { status, stderr, out, before };
  }

  it('is reported as a one-line internal error naming the chart and region, without a stack trace', () => {
    const run = runWithBrokenChart([]);
    expect(run.status).toBe(1);
    const [first, ...rest] = run.stderr.trim().split('\n').filter((l) => l.trim() !== '');
    expect(first).toBe('internal error in chart exploding (region us-east-1): boom: the chart found 3 of 2 — please report it (the config passed its checks; --debug prints the stack trace)');
    expect(rest).toEqual([expect.stringMatching(/^synth: nothing written; .* is unchanged\.$/)]);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.stderr).not.toContain('synth failed');
    expect(readTree(run.out)).toEqual(run.before);
  });

  it('--debug adds the stack trace', () => {
    const run = runWithBrokenChart(['--debug']);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('internal error in chart exploding (region us-east-1)');
    expect(run.stderr).toMatch(/^\s+at .+no-raw-errors\.test\.ts/m);
  });
});
