/**
 * The route budgets the mesh renders (regions/route-budget.ts) hold together: every try outlasts
 * the p95 objective with margin, the route timeout covers every try, a web try outlasts the
 * whole API route it calls, and the page a user waits for stays within MAX_PAGE_WAIT_MS.
 */
import type { ConfigIssue } from './config-error';
import type { Invariant } from './invariants';
import { MAX_PAGE_WAIT_MS, PER_TRY_P95_MULTIPLE, publicRouteBudgets, RETRY_BACKOFF_MS, type RouteBudget } from './route-budget';

export const routeBudgetsHold: Invariant = ({ global }) => {
  const delivery = global.config.delivery;
  const p95 = { api: delivery.api.analysis.maxLatencyP95Ms, web: delivery.web.analysis.maxLatencyP95Ms };
  if (!(p95.api > 0) || !(p95.web > 0)) return []; // the schema reports these
  const budgets = publicRouteBudgets(global.config);
  const issues: ConfigIssue[] = [];
  const field = (service: 'api' | 'web') => ['delivery', service, 'analysis', 'maxLatencyP95Ms'];
  const check = (service: 'api' | 'web', b: RouteBudget) => {
    if (b.perTryTimeoutMs < PER_TRY_P95_MULTIPLE * p95[service]) {
      issues.push(global.source.issue(field(service), `perTryTimeout ${b.perTryTimeoutMs} ms`, `>= ${PER_TRY_P95_MULTIPLE} x p95 (${PER_TRY_P95_MULTIPLE * p95[service]} ms)`, 'derive the budget with routeBudget() (regions/route-budget.ts)'));
    }
    if (b.timeoutMs < b.perTryTimeoutMs * (b.attempts + 1) + RETRY_BACKOFF_MS) {
      issues.push(global.source.issue(field(service), `timeout ${b.timeoutMs} ms`, `>= ${b.attempts + 1} tries x ${b.perTryTimeoutMs} ms + back-off`, 'derive the budget with routeBudget() (regions/route-budget.ts)'));
    }
  };
  check('api', budgets.api);
  check('web', budgets.web);
  if (budgets.web.perTryTimeoutMs <= budgets.api.timeoutMs) {
    issues.push(global.source.issue(field('web'), `web perTryTimeout ${budgets.web.perTryTimeoutMs} ms`, `> the API route timeout (${budgets.api.timeoutMs} ms): a page try must outlast the API call it makes`, 'derive the web budget with the API timeout as downstreamTimeoutMs'));
  }
  if (budgets.web.timeoutMs > MAX_PAGE_WAIT_MS) {
    issues.push(
      global.source.issue(
        field('web'),
        `web route timeout ${budgets.web.timeoutMs} ms (API p95 ${p95.api} ms, web p95 ${p95.web} ms)`,
        `<= ${MAX_PAGE_WAIT_MS} ms: longer, a user has given up while the retries still run`,
        'lower delivery.web.analysis.maxLatencyP95Ms or delivery.api.analysis.maxLatencyP95Ms',
      ),
    );
  }
  return issues;
};
