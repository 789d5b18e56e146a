/**
 * Patroni's failover timing and its worst case (charts/postgres/patroni.ts renders it into
 * patroni.yml). Here, in plain data, so regions/derived-invariants.ts can hold the worst case to
 * global.postgres.rtoSeconds before any chart is built.
 */
export interface PatroniTiming {
  /** Seconds the leader lock lives without renewal. @default 30 */
  readonly ttl: number;
  /** Seconds between two HA-loop runs (lock renewal, health checks). @default 10 */
  readonly loopWait: number;
  /** Seconds Patroni retries a Kubernetes API or Postgres call before giving up (and demoting). @default 10 */
  readonly retryTimeout: number;
  /**
   * Seconds a primary whose Postgres crashed may take to restart before Patroni fails over
   * (Patroni's default, 300, alone would spend the whole RTO). @default 30
   */
  readonly primaryStartTimeout: number;
  /** Replicas further behind than this many bytes are never promoted (bounds data loss). @default 1 MiB */
  readonly maximumLagOnFailover: number;
}

export const DEFAULT_PATRONI_TIMING: PatroniTiming = {
  ttl: 30,
  loopWait: 10,
  retryTimeout: 10,
  primaryStartTimeout: 30,
  maximumLagOnFailover: 1024 * 1024,
};

/**
 * Time budgets for what Patroni does not bound itself: `pg_ctl promote` plus the end-of-recovery
 * checkpoint, and Kubernetes moving the read-write Service's endpoints to the new primary's pod
 * (label patch → EndpointSlice → kube-proxy / Istio EDS push).
 */
export const FAILOVER_BUDGETS = { promoteSeconds: 30, endpointPropagationSeconds: 15 } as const;

export interface FailoverWorstCase {
  /** Pod, node or zone lost (Patroni gone): the lock must expire before a replica may take it. */
  readonly primaryLost: number;
  /** Postgres crashed under a live Patroni: restart attempts first, then a normal failover. */
  readonly postgresCrashed: number;
  /** The worse of the two: what must stay within rtoSeconds. */
  readonly seconds: number;
}

/**
 * Worst-case seconds from the primary failing to writes succeeding on the new one:
 * - primary lost: the lock was renewed just before the failure and lives `ttl`; replicas notice
 *   on their next loop (+`loop_wait`); taking the lock may retry the API (+`retry_timeout`);
 *   then promotion and Service endpoints.
 * - Postgres crashed: noticed on the next loop, restarted for up to `primary_start_timeout`,
 *   the lock released on the loop after, then as above without the ttl wait.
 */
export function failoverWorstCase(t: PatroniTiming = DEFAULT_PATRONI_TIMING): FailoverWorstCase {
  const tail = t.retryTimeout + FAILOVER_BUDGETS.promoteSeconds + FAILOVER_BUDGETS.endpointPropagationSeconds;
  const primaryLost = t.ttl + t.loopWait + tail;
  const postgresCrashed = t.loopWait + t.primaryStartTimeout + t.loopWait + tail;
  return { primaryLost, postgresCrashed, seconds: Math.max(primaryLost, postgresCrashed) };
}
