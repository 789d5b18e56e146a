/**
 * Issue 15 item 5: every case of the broken-config corpus (test/corpus/cases) against the CLI's
 * `main` (the function `npx tsx main.ts` runs), in process with its output captured: exit 1,
 * the problem at the expected file, line and field with found / expected / fix, no stack trace,
 * and the out folder byte for byte as it was. A few cases also run as a real subprocess (`npm run synth`'s launcher).
 *
 * Cases marked `pending:` wait for work in progress elsewhere; they are todos. Run them anyway
 * with CORPUS_PENDING=1 to see which now pass (then delete their `pending:` line).
 */
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { definition } from '../../main';
import { tempDir } from '../support/regions';
import { runSynth } from '../support/run';
import { synthInProcess } from '../support/synth-in-process';
import { readTree, writeTree } from '../support/tree';
import { judge, loadCases, regionsForCase } from './corpus';

const cases = loadCases();
const runPending = process.env.CORPUS_PENDING === '1';

/** An out folder with content of its own, to prove a failed run leaves it alone. */
function outFolder(): { dir: string; before: Record<string, string> } {
  const dir = path.join(tempDir('bb-corpus-out-'), 'out');
  writeTree(dir, { 'us-east-1/namespaces.yaml': 'kept: as it was\n', 'argocd/argocd.yaml': 'kept: too\n' });
  return { dir, before: readTree(dir) };
}

const tally = { passed: 0, pending: 0 };
afterAll(() => {
  process.stdout.write(`corpus: ${cases.length} cases, ${tally.passed} passed, ${cases.filter((c) => c.pending).length} pending\n`);
});

describe('the broken-config corpus', () => {
  it('holds at least 60 cases, each naming the file, line and field to fix', () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
    for (const c of cases) {
      expect(c.expect.field, c.name).toBeTruthy();
      expect(c.pending !== undefined || c.expect.line !== undefined, `${c.name}: expect.line`).toBe(true);
    }
  });

  for (const c of cases) {
    const title = `${c.name}: ${c.description} → ${c.expect.file} ${c.expect.field}`;
    if (c.pending && !runPending) {
      it.todo(`${title} (pending: ${c.pending})`);
      continue;
    }
    it(title, () => {
      const regions = regionsForCase(c);
      const out = outFolder();
      const result = synthInProcess(definition, ['--regions', regions, '--out', out.dir]);
      const problems = judge(c, regions, result, JSON.stringify(readTree(out.dir)) === JSON.stringify(out.before));
      expect(problems, `${problems.join('; ')}\n--- stderr ---\n${result.stderr.slice(0, 3000)}`).toEqual([]);
      tally.passed++;
    });
  }
});

describe('the corpus through the real command line', () => {
  // Three cases in a child process, as a user runs them (`npm run synth` runs tools/synth/launch.cjs: the
  // prebuilt bundle): a schema error, an invariant across files, and a derived limit that used to be a
  // chart's raw throw.
  for (const name of ['06-unknown-field-typo-did-you-mean', '10-shards-overlap', '40-request-above-limit-postgres']) {
    it(name, () => {
      const c = cases.find((k) => k.name === name);
      expect(c, name).toBeDefined();
      const regions = regionsForCase(c!);
      const out = outFolder();
      const result = runSynth(['--regions', regions, '--out', out.dir]);
      const problems = judge(c!, regions, result, JSON.stringify(readTree(out.dir)) === JSON.stringify(out.before));
      expect(problems, result.stderr.slice(0, 3000)).toEqual([]);
    });
  }
});
