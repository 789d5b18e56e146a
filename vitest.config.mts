import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * Files that take longest (most of them wait on real servers, child processes or a deliberately
 * slow test site rather than compute), started first so that no long file starts last and the
 * run ends with one worker busy. Vitest's own order (slowest of the previous run first) needs
 * its results cache, which a fresh clone (CI) does not have; this list is that order, measured.
 */
const LONGEST_FIRST = [
  'test/real-servers/redis-region-loss.test.ts',
  'test/real-servers/redis.test.ts',
  'test/synth/no-raw-errors.test.ts',
  'test/real-servers/postgres.test.ts',
  'test/imports.test.ts',
  'test/charts/web-smoke-suite.test.ts',
  'test/real-servers/metric-names.test.ts',
  'test/real-servers/promtool.test.ts',
  'test/real-servers/postgres-restore.test.ts',
  'test/charts/topology-job-script.test.ts',
  'test/synth/synth-cli.test.ts',
  'test/synth/launch.test.ts',
  'test/synth/no-raw-errors-regions.test.ts',
  'test/ci/promote-regions.test.ts',
];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = LONGEST_FIRST.findIndex((name) => f.moduleId.endsWith(name));
      return i < 0 ? LONGEST_FIRST.length : i;
    };
    // Stable: files not listed keep vitest's order after the listed ones.
    return sorted.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map(({ f }) => f);
  }
}

// One config for the whole repo. `forks` keeps each test file in its own process, so the
// large generated imports/ modules and compiled schema validators never leak between files.
// More workers than the usual one per core: many files spend most of their time waiting (real
// servers, timeouts, child processes), and a third and fourth worker compute meanwhile.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60000,
    pool: 'forks',
    maxWorkers: process.env.VITEST_MAX_WORKERS ? Number(process.env.VITEST_MAX_WORKERS) : 4,
    sequence: { sequencer: LongestFirst },
    setupFiles: process.env.BB_CPU_PROBE ? [process.env.BB_CPU_PROBE] : [],
  },
});
