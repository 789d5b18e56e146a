/**
 * Numbers of the mesh's traffic policies, derived from the region model in plain functions
 * (tests call them without synthesising): connection pools from the fleet's capacity, route
 * timeouts and retries from the latency objective.
 */

/** What a service can serve at most: the inputs of its connection pool. */
export interface ServiceCapacity {
  /** HPA maximum pods in the region. */
  readonly maxReplicas: number;
  /** Requests per second per pod the HPA scales at. */
  readonly targetRequestsPerSecond: number;
  /** p95 latency objective, in milliseconds (the release analysis threshold). */
  readonly p95LatencyMs: number;
}

/**
 * Headroom over the HPA target: a pod at its scaling target is, by design, not at its limit
 * (CPU targets of 65-70 % leave ~1.5x), and p95 latency under load is worse than at rest.
 */
const CAPACITY_HEADROOM = 2;

/** Smallest pool we render, so a small region is not throttled by its own breaker. */
const MIN_IN_FLIGHT = 1024;

/** Share of the pool retries may add on top (Envoy's retry breaker): stops retry storms. */
const RETRY_SHARE = 0.1;

export interface ConnectionPoolSizing {
  /** Concurrent requests one client proxy may have outstanding to the service. */
  readonly maxInFlight: number;
  /** Concurrent connections one client proxy may hold to the service. */
  readonly maxConnections: number;
  /** Requests allowed to wait for a free connection before failing fast (503 UO). */
  readonly maxPending: number;
  /** Concurrent retries allowed to the service. */
  readonly maxRetries: number;
}

/**
 * Circuit-breaker sizes for one service. Envoy applies them per client proxy (an ingress
 * gateway replica, a web pod's sidecar) to the whole destination cluster, so they are a safety
 * valve, not a throttle: no single client can usefully have more requests in flight than the
 * whole fleet serves at its maximum size (Little's law: pods × rps per pod × headroom ×
 * latency). For the API in us-east-1: 1000 × 40 × 2 × 0.1 s = 8000. Past that, requests only
 * queue inside the fleet and add latency, so the proxy fails fast instead.
 *
 * Sidecar-to-sidecar HTTP stays HTTP/1.1 (Istio's default h2UpgradePolicy), where each
 * in-flight request holds one connection: maxConnections equals maxInFlight.
 */
export function connectionPoolSizing(c: ServiceCapacity): ConnectionPoolSizing {
  for (const [field, value] of Object.entries(c)) {
    if (!(value > 0)) throw new Error(`${field} (${value}) must be > 0`);
  }
  const littles = c.maxReplicas * c.targetRequestsPerSecond * CAPACITY_HEADROOM * (c.p95LatencyMs / 1000);
  const maxInFlight = Math.max(MIN_IN_FLIGHT, roundUp(littles, 100));
  return {
    maxInFlight,
    maxConnections: maxInFlight,
    maxPending: roundUp(maxInFlight * RETRY_SHARE, 1),
    maxRetries: roundUp(maxInFlight * RETRY_SHARE, 1),
  };
}

// Route budgets live with the region model, whose invariants check them (regions/route-budget.ts).
export { routeBudget, type RouteBudget } from '../../regions/route-budget';

/** Istio duration string of whole milliseconds (`300ms`, `1s`). */
export function duration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function roundUp(value: number, step: number): number {
  return Math.ceil(value / step) * step;
}
