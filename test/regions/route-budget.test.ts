/**
 * Issue #13 item 3: the route timeouts and per-try timeouts the mesh renders come from the
 * latency objectives, and a config that would stretch them past what a user waits for fails
 * before any chart is built, naming the file, the field and the fix.
 */
import { describe, expect, it } from 'vitest';
import { formatPath, type ConfigIssue } from '../../regions/config-error';
import { MAX_PAGE_WAIT_MS, publicRouteBudgets, routeBudget } from '../../regions/route-budget';
import { issuesFor, shippedRegionFiles, type RegionFiles } from '../support/regions';

/** Issues about the route budgets only (other invariants are tested elsewhere). */
function budgetIssues(mutate: (files: RegionFiles) => void): ConfigIssue[] {
  return issuesFor(mutate).filter((i) => /^delivery\.(api|web)\.analysis\.maxLatencyP95Ms$/.test(formatPath(i.path)));
}

describe('route budgets', () => {
  it('derive the shipped budgets: API 3 x 300 ms tries in 1 s, web 2 x 1100 ms tries in 2.3 s', () => {
    const global = shippedRegionFiles()['global.yaml'];
    expect(publicRouteBudgets(global)).toEqual({
      api: { attempts: 2, perTryTimeoutMs: 300, timeoutMs: 1000 },
      web: { attempts: 1, perTryTimeoutMs: 1100, timeoutMs: 2300 },
    });
    expect(budgetIssues(() => undefined)).toEqual([]);
  });

  it('cut a try at 3 x p95 and cover every try plus back-off; a caller try outlasts the callee route', () => {
    expect(routeBudget(100, 2)).toEqual({ attempts: 2, perTryTimeoutMs: 300, timeoutMs: 1000 });
    expect(routeBudget(300, 1, 1000).perTryTimeoutMs).toBe(1100);
  });

  it('refuse objectives that would keep a page waiting past MAX_PAGE_WAIT_MS, naming file, field and fix', () => {
    const issues = budgetIssues((f) => (f['global.yaml'].delivery.web.analysis.maxLatencyP95Ms = 3000));
    expect(issues).toHaveLength(1);
    const [issue] = issues;
    expect(issue!.file).toMatch(/global\.yaml$/);
    expect(formatPath(issue!.path)).toBe('delivery.web.analysis.maxLatencyP95Ms');
    expect(issue!.found).toBe('web route timeout 18100 ms (API p95 100 ms, web p95 3000 ms)');
    expect(issue!.expected).toContain(`<= ${MAX_PAGE_WAIT_MS} ms`);
    expect(issue!.fix).toMatch(/lower delivery\.web\.analysis\.maxLatencyP95Ms/);
  });
});
