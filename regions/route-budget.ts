/**
 * Timeouts and retries of the public routes, derived from the latency objectives of the region
 * model (`delivery.<service>.analysis.maxLatencyP95Ms`). Plain functions shared by the mesh
 * chart (charts/mesh/routing.ts renders them) and the config invariants
 * (route-budget-invariants.ts checks them before any chart is built).
 */
import type { GlobalConfig } from './model';

export interface RouteBudget {
  /** Whole request, retries included (VirtualService `timeout`). */
  readonly timeoutMs: number;
  readonly attempts: number;
  readonly perTryTimeoutMs: number;
}

/** A try slower than this many times the p95 objective is stuck, not slow. */
export const PER_TRY_P95_MULTIPLE = 3;

/** Allowance for Envoy's retry back-off (25 ms base, jittered) between tries. */
export const RETRY_BACKOFF_MS = 100;

/** Retries after the first try of the API route and of the web route (VirtualService `attempts`). */
export const API_RETRY_ATTEMPTS = 2;
export const WEB_RETRY_ATTEMPTS = 1;

/**
 * Longest a browser waits for a page, all hops and tries included: past it a user has reloaded
 * or left, and the work only holds connections.
 */
export const MAX_PAGE_WAIT_MS = 10_000;

/**
 * Timeout and retries of a route from its p95 objective. A try is cut at 3 × p95 (for the API:
 * 300 ms against a 100 ms p95, so it only ever cuts the pathological tail); the whole request is
 * capped at all tries plus back-off, since a try is retried only when it failed (never after a
 * timeout: see charts/mesh/routing.ts). When the service itself calls a route with its own
 * budget (web → API), each try must outlast that budget, or the caller gives up while the
 * callee is still retrying and the work is wasted.
 */
export function routeBudget(p95LatencyMs: number, attempts: number, downstreamTimeoutMs = 0): RouteBudget {
  if (!(p95LatencyMs > 0)) throw new Error(`p95LatencyMs (${p95LatencyMs}) must be > 0`);
  if (!Number.isInteger(attempts) || attempts < 0) throw new Error(`attempts (${attempts}) must be an integer >= 0`);
  const perTryTimeoutMs = roundUp(Math.max(PER_TRY_P95_MULTIPLE * p95LatencyMs, downstreamTimeoutMs + RETRY_BACKOFF_MS), 50);
  const timeoutMs = roundUp(perTryTimeoutMs * (attempts + 1) + RETRY_BACKOFF_MS, 100);
  return { timeoutMs, attempts, perTryTimeoutMs };
}

/** The API's and the web's route budgets for a global config (web tries outlast the API route). */
export function publicRouteBudgets(global: Pick<GlobalConfig, 'delivery'>, apiAttempts = API_RETRY_ATTEMPTS, webAttempts = WEB_RETRY_ATTEMPTS): { api: RouteBudget; web: RouteBudget } {
  const api = routeBudget(global.delivery.api.analysis.maxLatencyP95Ms, apiAttempts);
  const web = routeBudget(global.delivery.web.analysis.maxLatencyP95Ms, webAttempts, api.timeoutMs);
  return { api, web };
}

function roundUp(value: number, step: number): number {
  return Math.ceil(value / step) * step;
}
