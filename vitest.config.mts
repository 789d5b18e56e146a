import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * Files that take longest (most of them wait on real servers, child processes or a deliberately
 * slow test site rather than compute), started first so that no long file starts last and the
 * run ends with one worker busy. Vitest's own order (slowest of the previous run first) needs
 * its results cache, which a fresh clone (CI) does not have; this list is that order, measured in a
 * fresh clone under `CI=true ./.ci/run` (2026-12-07, at 029be86).
 */
const LONGEST_FIRST = [
  'test/real-servers/redis-region-loss.test.ts',
  'test/real-servers/redis.test.ts',
  'test/real-servers/promtool.test.ts',
  'test/ci/promote-regions.test.ts',
  'test/real-servers/postgres.test.ts',
  'test/synth/no-raw-errors.test.ts',
  'test/synth/no-raw-errors-global.test.ts',
  'test/validate/runtime-refs.test.ts',
  'test/charts/web-smoke-suite.test.ts',
  'test/synth/synth-cli.test.ts',
  'test/validate/launch.test.ts',
  'test/real-servers/metric-names.test.ts',
  'test/charts/topology-job-script.test.ts',
  'test/synth/launch.test.ts',
  'test/real-servers/redis-probes.test.ts',
  'test/real-servers/pgbouncer.test.ts',
  'test/synth/no-raw-errors-regions.test.ts',
  'test/validate/schema-dedupe.test.ts',
  'test/real-servers/postgres-restore.test.ts',
  'test/imports.test.ts',
  'test/charts/promotion.test.ts',
  'test/ci/security-scan.test.ts',
  'test/validate/tree.test.ts',
  'test/real-servers/postgres-backup-age.test.ts',
  'test/diff/promotion.test.ts',
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

// One config for the whole repo. `forks`: each worker is a child process. `isolate: false`: a
// worker runs its files one after another in one module graph, so cdk8s, the generated imports/
// modules and the compiled schema validators load once per worker, not once per file (about a
// second of CPU per file, a third of the whole run). Test files must therefore leave no state
// behind: restore what they patch (process.stdout.write, ...) and start no server they do not
// stop in afterAll.
// More workers than the usual one per core: many files spend most of their time waiting (real
// servers, timeouts, child processes), and the other workers compute meanwhile. Five: the four
// longest files start first and mostly wait, so a fifth keeps the cores busy. `npm test` on the
// 2-core machine (one run each, 2026-12-07): 3 workers 137 s, 4 130-131 s, 5 104 s, 6 106-108 s,
// 8 121 s (more module loading per worker than waiting to fill).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60000,
    pool: 'forks',
    isolate: false,
    // Young generation up to 64 MB a semi-space (16 by default), as `npm run synth` runs: the
    // tests render and validate whole trees and keep them, so most of what they allocate survives
    // a scavenge; 5 % less CPU over the heaviest in-process files (4 files, alternating runs,
    // 2026-12-07: 39.9-40.8 s vs 41.8-42.9 s user+sys).
    execArgv: ['--max-semi-space-size=64'],
    maxWorkers: process.env.VITEST_MAX_WORKERS ? Number(process.env.VITEST_MAX_WORKERS) : 5,
    sequence: { sequencer: LongestFirst },
    // Transformed TypeScript kept between runs (node_modules/.experimental-vitest-cache, keyed
    // by file content and config; `vitest --clearCache` empties it): a rerun skips esbuild.
    experimental: { fsModuleCache: true },
  },
});
