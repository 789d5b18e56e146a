/**
 * Capacity derived from the model, computed once so charts render it and invariants check it
 * from the same numbers: Postgres settings from the pod's memory, PgBouncer pool sizes from the
 * Postgres limits, and each shard's client capacity and client demand.
 */
import type { GlobalConfig, ServingRegionConfig, ShardConfig } from './model';
import { parseQuantity } from './quantity';

/**
 * Memory a Redis master uses beyond maxmemory, which eviction does not see (evict.c,
 * freeMemoryGetNotCountedMemory: replica output buffers and the replication backlog): the
 * backlog we render (charts/redis/config.ts repl-backlog-size) and the replica output buffer's
 * hard limit (redis.conf's default `client-output-buffer-limit replica 256mb 64mb 60`, which we
 * keep) during a full sync. Plus a share of the limit for fragmentation and the copy-on-write of
 * the fork that every full sync and AOF rewrite starts.
 */
export const REDIS_MEMORY_HEADROOM = { replBacklogMib: 64, replicaOutputBufferMib: 256, forkAndFragmentationPercent: 10, maxmemoryPercent: 80 } as const;

/** The largest maxmemory a Redis container with this memory limit (bytes) keeps safe, in bytes. */
export function redisMaxmemoryCeiling(limitBytes: number): number {
  const h = REDIS_MEMORY_HEADROOM;
  const buffers = (h.replBacklogMib + h.replicaOutputBufferMib) * 1024 ** 2;
  return Math.min((limitBytes * h.maxmemoryPercent) / 100, limitBytes - buffers - (limitBytes * h.forkAndFragmentationPercent) / 100);
}

/** The seed system's promise: every shard accepts at least this many client connections. */
export const MIN_CLIENT_CONNECTIONS_PER_SHARD = 2000;

/**
 * Headroom on the API's connections to a shard: each API pod's sidecar (and each east-west
 * gateway) picks a PgBouncer pod per connection on its own, so the pods left after a failure
 * never hold exactly equal shares.
 */
export const CLIENT_SPREAD_MARGIN_PERCENT = 5;

/**
 * Console connections of each PgBouncer pod's own exporter (one). PgBouncer counts them against
 * max_client_conn like any client (src/client.c: get_active_client_count() includes them; only
 * the refusal skips the admin database), so they come off what the pod holds for the API.
 */
export const PGBOUNCER_ADMIN_CLIENTS_PER_POD = 1;

/**
 * How an API pod's `postgres.apiPoolPerPod` connections to one shard split over its two
 * endpoints, the read-write and the read-only database of the same PgBouncer (one client limit
 * for both): rendered into the shard map, which the API's pools must honour. The odd one goes to
 * read-write, whose transactions wait on locks and commits.
 */
export function apiPoolSplit(apiPoolPerPod: number): { readonly readWrite: number; readonly readOnly: number } {
  return { readWrite: Math.ceil(apiPoolPerPod / 2), readOnly: Math.floor(apiPoolPerPod / 2) };
}

export interface PostgresSettings {
  readonly maxConnections: number;
  /** postgresql.conf memory settings, in whole megabytes. */
  readonly sharedBuffersMb: number;
  readonly effectiveCacheSizeMb: number;
  readonly workMemMb: number;
  readonly maintenanceWorkMemMb: number;
}

const MB = 1024 ** 2;

/**
 * Postgres memory settings from the container memory limit, by the usual rules: shared_buffers
 * 25 % of memory, effective_cache_size 75 %, maintenance_work_mem 1/16 (at most 2 GB), and
 * max_connections such that every backend can use a few work_mem buffers without the sum
 * leaving the limit: 25 connections per GiB, between 100 and 800.
 */
export function postgresSettings(global: GlobalConfig): PostgresSettings {
  const memory = parseQuantity(global.postgres.resources.limits.memory);
  const gib = memory / 1024 ** 3;
  const maxConnections = Math.max(100, Math.min(800, Math.floor(gib * 25)));
  const sharedBuffersMb = Math.floor((memory * 0.25) / MB);
  const effectiveCacheSizeMb = Math.floor((memory * 0.75) / MB);
  const maintenanceWorkMemMb = Math.min(2048, Math.floor(memory / 16 / MB));
  // What is left after shared buffers, shared by all connections at ~3 sorts/hashes each.
  const workMemMb = Math.max(4, Math.floor((memory - sharedBuffersMb * MB) / MB / (maxConnections * 3)));
  return { maxConnections, sharedBuffersMb, effectiveCacheSizeMb, workMemMb, maintenanceWorkMemMb };
}

/**
 * What the release-gate Jobs request (charts/api/load-test.ts: k6; charts/web/smoke-test.ts: the
 * Node.js smoke suite). They run in the app namespace during a release, beside both stacks, so
 * the app quota must hold them at the release peak too (appQuotaHoldsPeak).
 */
export const RELEASE_GATE_JOBS = {
  apiLoadTest: { requests: { cpu: '500m', memory: '256Mi' }, limits: { memory: '512Mi' } },
  webSmokeTest: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
} as const;

/**
 * How a shard's PgBouncer Deployment rolls and how many of its pods may be gone, set once here:
 * charts/pgbouncer renders these numbers and the connection invariants count with them.
 *
 * - `maxSurge`: pods a rolling update adds above `replicas` (maxUnavailable 0, so none of the
 *   old ones leave before a new one is ready), each with a full server pool.
 * - `drainingPods`: a replaced pod still stopping. The Deployment controller does not count
 *   terminating pods against maxSurge and starts the next pod meanwhile. A stopping pod gets
 *   PgBouncer's safe shutdown (run-pgbouncer.sh: transactions in flight finish, then it exits),
 *   so it holds server connections only while a transaction is open, at most the grace period;
 *   minReadySeconds past the grace period lets the next old pod go only after the previous one
 *   is gone, so at most one is counted, with a whole pool. The server budget is split over
 *   `replicas + maxSurge + drainingPods`.
 * - `disruptionBudgetMaxUnavailable`: the PodDisruptionBudget; a drain takes at most this many
 *   at once (an evicted pod's open transactions end within seconds, before its replacement is
 *   up, so evictions in a row do not stack whole pools).
 */
export const PGBOUNCER_ROLLOUT = {
  maxSurge: 1,
  maxUnavailable: 0,
  disruptionBudgetMaxUnavailable: 1,
  /** Clients hold transactions at most query_wait_timeout; time to finish them on a drain. */
  graceSeconds: 45,
  minReadySeconds: 50,
  drainingPods: 1,
} as const;

/**
 * Largest jump between consecutive canary weights, 0 → steps → 100 (50 % for [10, 50]): at that
 * step the canary ReplicaSet runs that share of the API on top of the stable one. The same sum as
 * `appQuotaHoldsPeak` and the connection budget in regions/invariants.ts.
 */
export function canarySurgePercent(global: GlobalConfig): number {
  const weights = [0, ...global.delivery.api.canarySteps, 100];
  return Math.max(...weights.slice(1).map((w, i) => w - weights[i]));
}

/** How the API canary scales its stable side (`delivery.api.abortScaling`, default instant). */
export function apiAbortScaling(global: GlobalConfig): 'instant' | 'dynamic' {
  return global.delivery.api.abortScaling ?? 'instant';
}

/**
 * API pods the canary runs on top of a full stable side, in % of the API. Argo Rollouts' canary
 * docs ("Dynamic Stable Scale (with Traffic Routing)"): by default the stable ReplicaSet is left
 * at 100 % during the update so an abort shifts traffic back without delay, and "there will
 * eventually exist double the number of replica pods" (at the promotion the canary is scaled to
 * 100 % before the old stable one scales down, scaleDownDelaySeconds later): 100 % when instant.
 * With dynamicStableScale stable shrinks as the canary's weight grows, and the surge is the
 * largest weight step (canarySurgePercent).
 */
export function apiCanaryExtraPercent(global: GlobalConfig): number {
  return apiAbortScaling(global) === 'instant' ? 100 : canarySurgePercent(global);
}

/** API pods a serving region can run at once: autoscaling.api.maxReplicas plus the canary on top (apiCanaryExtraPercent). */
export function apiPeakPods(global: GlobalConfig, region: Pick<ServingRegionConfig, 'autoscaling'>): number {
  return Math.ceil((region.autoscaling.api.maxReplicas * (100 + apiCanaryExtraPercent(global))) / 100);
}

/** The `why` of the canary's share in messages: names the setting that decides it. */
export function apiCanaryExtraWhy(global: GlobalConfig): string {
  return apiAbortScaling(global) === 'instant'
    ? 'a 100 % canary beside a full stable side (delivery.api.abortScaling: instant keeps stable at full size for an instant abort; dynamic would need only the largest weight step)'
    : `${canarySurgePercent(global)} % canary surge (delivery.api.abortScaling: dynamic, the largest weight step; an abort then waits for stable pods to start)`;
}

export interface ShardClientDemand {
  /** Per serving region: its API pods at peak and the client connections they open to the shard. */
  readonly regions: ReadonlyArray<{ readonly region: string; readonly apiPods: number; readonly clients: number }>;
  /** Every client connection that can reach the shard at once. */
  readonly clients: number;
  /** `clients` plus CLIENT_SPREAD_MARGIN_PERCENT, rounded up. */
  readonly withMargin: number;
  /** What the shard's PgBouncer must accept: `withMargin`, and at least MIN_CLIENT_CONNECTIONS_PER_SHARD. */
  readonly required: number;
}

/**
 * Client connections that can reach one shard: every serving region's API reaches every shard
 * (regions/router.ts: local ones by cluster DNS, the others through the east-west gateways), each
 * pod with `postgres.apiPoolPerPod` connections, at the HPA maximum plus what the canary adds. Standby
 * regions run no API. The shard's DR site sees the same clients after a promotion.
 */
export function shardClientDemand(global: GlobalConfig, servingRegions: ReadonlyArray<Pick<ServingRegionConfig, 'name' | 'autoscaling'>>): ShardClientDemand {
  const regions = servingRegions.map((r) => {
    const apiPods = apiPeakPods(global, r);
    return { region: r.name, apiPods, clients: apiPods * global.postgres.apiPoolPerPod };
  });
  const clients = regions.reduce((sum, r) => sum + r.clients, 0);
  const withMargin = Math.ceil((clients * (100 + CLIENT_SPREAD_MARGIN_PERCENT)) / 100);
  return { regions, clients, withMargin, required: Math.max(withMargin, MIN_CLIENT_CONNECTIONS_PER_SHARD) };
}

export interface ShardPools {
  /** max_client_conn of one PgBouncer pod. */
  readonly maxClientConnectionsPerReplica: number;
  /** shards[].pgbouncer.replicas: the pods of the Deployment outside a rollout. */
  readonly replicas: number;
  /** Pods that can hold a full server pool during a rolling update: replicas + maxSurge + the one draining. */
  readonly rolloutPods: number;
  /** Server connections one PgBouncer pod opens per database (read-write to the primary, read-only to the replicas). */
  readonly poolSizePerReplica: number;
  /** Server connections all PgBouncer pods that can exist at once may open to one Postgres instance. */
  readonly serverConnections: number;
  /** Connections Postgres gives to PgBouncer: max_connections minus the reserved ones. */
  readonly serverBudget: number;
}

/**
 * PgBouncer pool sizes from the Postgres limit: every PgBouncer pod that can exist at once
 * (replicas + maxSurge + the pod still draining during a rollout, PGBOUNCER_ROLLOUT) gets an equal share of what Postgres can give them
 * (max_connections - reserved), so even mid-rollout they never open more than Postgres allows.
 * The read-only pool goes through the replicas' Service, which may land all pods on one replica,
 * so it gets the same size rather than `readReplicas` times more.
 */
export function shardPools(global: GlobalConfig, shard: ShardConfig): ShardPools {
  const serverBudget = postgresSettings(global).maxConnections - global.postgres.reservedConnections;
  const replicas = shard.pgbouncer.replicas;
  const rolloutPods = replicas + PGBOUNCER_ROLLOUT.maxSurge + PGBOUNCER_ROLLOUT.drainingPods;
  const poolSizePerReplica = Math.floor(serverBudget / rolloutPods);
  return {
    maxClientConnectionsPerReplica: shard.pgbouncer.maxClientConnectionsPerReplica,
    replicas,
    rolloutPods,
    poolSizePerReplica,
    serverConnections: rolloutPods * poolSizePerReplica,
    serverBudget,
  };
}

export interface ShardClientCapacity {
  /** Pods a zone outage (zone spread, maxSkew 1) or a drain (the PDB) can take at once. */
  readonly podsLost: number;
  /** Pods left after that: the ones that must hold every client. */
  readonly podsLeft: number;
  /** podsLeft x (max_client_conn - the exporter's console connection). */
  readonly clients: number;
}

/**
 * Clients the shard's PgBouncer accepts when it is one failure down: the pods are spread over
 * `zones` zones with maxSkew 1, so a zone outage takes ceil(replicas / zones) of them, and the
 * PodDisruptionBudget lets a drain take `disruptionBudgetMaxUnavailable`. (A rollout takes none:
 * maxUnavailable 0.) `zones` is the smaller zone count of the shard's two sites.
 */
export function shardClientCapacity(shard: ShardConfig, zones: number): ShardClientCapacity {
  const replicas = shard.pgbouncer.replicas;
  const podsLost = Math.min(replicas, Math.max(PGBOUNCER_ROLLOUT.disruptionBudgetMaxUnavailable, Math.ceil(replicas / Math.max(1, zones))));
  const podsLeft = replicas - podsLost;
  return { podsLost, podsLeft, clients: podsLeft * (shard.pgbouncer.maxClientConnectionsPerReplica - PGBOUNCER_ADMIN_CLIENTS_PER_POD) };
}
