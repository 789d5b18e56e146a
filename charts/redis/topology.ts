/**
 * The Redis tiers of a region as plain data: names, hosts, ports and the Sentinel timings,
 * computed once so the chart, the rendered config files, the API's endpoints and the tests
 * agree. No cdk8s here: `redisTopology(plan, tier)` can be called from anywhere.
 *
 * Roles per region:
 * - primary region: every tier is 1 master + 2 replicas watched by 3 Sentinels (quorum 2);
 *   the sessions tier also gets the Sentinel-aware proxy (HAProxy) that other regions use to
 *   reach its master (writes) and its replicas (cross-region replication);
 * - secondary regions: cache and rate-limit as above (they are region-local data); sessions
 *   run as read replicas of the primary region's sessions tier, without Sentinels (nothing to
 *   promote locally: promoting a replica here would fork the session data set).
 */
import type { RedisTierConfig } from '../../regions/model';
import type { RegionPlan } from '../../regions/plan';

/** Tier keys as the model spells them (`global.redis.tiers.<key>`). */
export type RedisTierKey = 'cache' | 'sessions' | 'rateLimit';
export const REDIS_TIERS: readonly RedisTierKey[] = ['cache', 'sessions', 'rateLimit'];

/** DNS-label spelling of a tier: object names, Sentinel master names, labels. */
export const TIER_SLUG: Readonly<Record<RedisTierKey, string>> = { cache: 'cache', sessions: 'sessions', rateLimit: 'rate-limit' };

/** What a tier runs in a region (see the file comment). */
export type RedisTierMode = 'sentinel' | 'remote-replica';

/** Redis server pods per tier: one master and two replicas, one per zone. */
export const REDIS_REPLICAS = 3;
/** Sentinels per tier: an odd number, so a majority survives losing one (a zone). */
export const SENTINEL_REPLICAS = 3;
/** Sentinels that must agree the master is down (ODOWN); the failover itself needs a majority. */
export const SENTINEL_QUORUM = 2;

/**
 * Sentinel timings. Named constants until the model has them (proposed as
 * `global.redis.sentinel` in the report); every rendered file and test reads them from here.
 */
export const SENTINEL_TIMING = {
  /**
   * A master that answers no PING for 5 s is subjectively down. Low enough that a lost master
   * costs seconds of writes; high enough to ride out a GC-free Redis' worst fork pause and an
   * Envoy restart (a few hundred ms).
   */
  downAfterMilliseconds: 5000,
  /**
   * Upper bound of one failover attempt (and 2x this before the same master is retried).
   * Redis itself needs ~1 s to promote; the rest is slack for reconfiguring replicas.
   */
  failoverTimeoutMilliseconds: 60000,
  /** Replicas resynchronising with a new master at a time: the others keep serving reads. */
  parallelSyncs: 1,
} as const;

/** Metrics port of redis_exporter (its default). */
export const EXPORTER_PORT = 9121;
/** HAProxy: health endpoint for probes and its built-in Prometheus endpoint. */
export const PROXY_HEALTH_PORT = 8888;
export const PROXY_METRICS_PORT = 8404;
/** HAProxy frontend that forwards to a replica of the primary's sessions tier. */
export const PROXY_REPLICA_PORT = 6380;

/** The region that owns the session data set (the plan only knows its own region, see report). */
export interface PrimaryRegionRef {
  readonly name: string;
  readonly eastWestGateway: string;
}

export interface RedisTopology {
  readonly tier: RedisTierKey;
  readonly slug: string;
  readonly mode: RedisTierMode;
  readonly config: RedisTierConfig;
  readonly namespace: string;
  /** Sentinel master name (`SENTINEL get-master-addr-by-name <masterName>`). */
  readonly masterName: string;
  /** StatefulSet of the Redis pods, and its headless Service (stable per-pod DNS names). */
  readonly statefulSet: string;
  readonly headlessService: string;
  /** StatefulSet of the Sentinels, its headless Service, and the client Service on 26379. */
  readonly sentinelStatefulSet: string;
  readonly sentinelHeadlessService: string;
  readonly sentinelService: string;
  /** ConfigMap with redis.conf, sentinel.conf and the start scripts. */
  readonly configMap: string;
  /** Secret (from an ExternalSecret) holding `password`, in the data namespace. */
  readonly authSecret: string;
  /** The same password as a Secret in the app namespace, for the API. */
  readonly clientSecret: string;
  /** Remote key of the password in the secret store. */
  readonly passwordRemoteKey: string;
  /** ClusterIP Service over all Redis pods: reads in remote-replica mode. */
  readonly readService: string;
  readonly redisPort: number;
  readonly sentinelPort: number;
  /** Stable DNS name of Redis pod `ordinal` (what replicas and Sentinels announce). */
  podHost(ordinal: number): string;
  sentinelPodHost(ordinal: number): string;
  /** Pod 0: the master when the tier starts for the first time. */
  readonly bootstrapMasterHost: string;
  readonly sentinelServiceHost: string;
}

/** Names of the sessions proxy (primary region) and how other regions address it. */
export interface SessionsProxyNames {
  readonly deployment: string;
  readonly service: string;
  readonly configMap: string;
  /** In-cluster host of the proxy Service in the primary region. */
  readonly localHost: string;
  /** Host other regions use; Istio routes it to the primary region's east-west gateway. */
  readonly globalHost: string;
  readonly masterPort: number;
  readonly replicaPort: number;
  /** The proxy pods' service account: the sessions tier's (their mesh identity). */
  readonly serviceAccount: string;
}

/**
 * The service account of one tier's Redis servers and Sentinels: their mesh identity. One per
 * tier, so a cache or rate-limit pod is not a sessions pod to the AuthorizationPolicies of
 * another tier (each tier's policies allow its own identity only). The sessions tier (and its
 * proxy, part of the same data path) keeps the name all tiers once shared: its identity crosses
 * regions (the proxy's SAN in the other regions' imports, the remote replicas' principal here),
 * and regions sync in rollout waves, so renaming it would break session replication between
 * one wave and the next.
 */
export function redisServiceAccount(plan: RegionPlan, tier: RedisTierKey): string {
  return tier === 'sessions' ? `${plan.global.platform.name}-redis` : `${plan.global.platform.name}-redis-${TIER_SLUG[tier]}`;
}

export function isPrimaryRegion(plan: RegionPlan): boolean {
  return plan.region.role === 'primary';
}

function tierMode(plan: RegionPlan, tier: RedisTierKey): RedisTierMode {
  return tier === 'sessions' && !isPrimaryRegion(plan) ? 'remote-replica' : 'sentinel';
}

export function redisTopology(plan: RegionPlan, tier: RedisTierKey): RedisTopology {
  const p = plan.global.platform.name;
  const ns = plan.namespaces.data;
  const slug = TIER_SLUG[tier];
  const base = `${p}-redis-${slug}`;
  const headless = `${base}-headless`;
  const sentinelHeadless = `${base}-sentinel-headless`;
  const fqdn = (pod: string, service: string) => `${pod}.${service}.${ns}.svc.cluster.local`;
  const data = plan.names.data;
  return {
    tier,
    slug,
    mode: tierMode(plan, tier),
    config: plan.global.redis.tiers[tier],
    namespace: ns,
    masterName: slug,
    statefulSet: base,
    headlessService: headless,
    sentinelStatefulSet: `${base}-sentinel`,
    sentinelHeadlessService: sentinelHeadless,
    sentinelService: `${base}-sentinel`,
    configMap: base,
    authSecret: `${base}-auth`,
    clientSecret: `${base}-client-auth`,
    // Sessions replicate across regions, so every region must hold the same password; the
    // region-local tiers get one password per region (a leaked cache password opens one region).
    passwordRemoteKey: tier === 'sessions' ? `${p}/redis/${slug}` : `${p}/${plan.region.name}/redis/${slug}`,
    readService: base,
    redisPort: data.redisPort,
    sentinelPort: data.sentinelPort,
    podHost: (ordinal) => fqdn(`${base}-${ordinal}`, headless),
    sentinelPodHost: (ordinal) => fqdn(`${base}-sentinel-${ordinal}`, sentinelHeadless),
    bootstrapMasterHost: fqdn(`${base}-0`, headless),
    sentinelServiceHost: `${base}-sentinel.${ns}.svc.cluster.local`,
  };
}

export function sessionsProxyNames(plan: RegionPlan, primaryRegion: string): SessionsProxyNames {
  const p = plan.global.platform.name;
  const name = `${p}-redis-sessions-proxy`;
  return {
    deployment: name,
    // The sessions tier's identity (see redisServiceAccount): it carries that tier's data only.
    serviceAccount: redisServiceAccount(plan, 'sessions'),
    service: name,
    configMap: name,
    localHost: `${name}.${plan.namespaces.data}.svc.cluster.local`,
    // Same scheme as the remote Postgres shards (plan.names.data.remoteShardHost).
    globalHost: `${name}.${primaryRegion}.${p}.global`,
    masterPort: plan.names.data.redisPort,
    replicaPort: PROXY_REPLICA_PORT,
  };
}

/**
 * The primary region as this region sees it (the owner of the session data set): the plan's,
 * unless a caller (a test) gives another one.
 */
export function primaryRegionOf(plan: RegionPlan, given?: PrimaryRegionRef): PrimaryRegionRef {
  if (isPrimaryRegion(plan)) return { name: plan.region.name, eastWestGateway: plan.region.eastWestGateway };
  const primary = given ?? plan.primaryRegion;
  if (primary.name === plan.region.name) throw new Error(`region ${plan.region.name} is secondary but was given itself as the primary region`);
  return primary;
}

/** Where the API finds one tier. Sentinel-aware clients (ioredis, go-redis, Lettuce) use `sentinels`. */
export interface RedisClientEndpoint {
  /** Sentinel master name and the Sentinel Service (host:port), when the tier is Sentinel-managed here. */
  readonly masterName?: string;
  readonly sentinels?: string;
  /** Where writes go (sessions: the primary region's master, through the mesh outside it). */
  readonly write: string;
  /** Where reads go (sessions: a local replica; elsewhere the master, read-your-writes). */
  readonly read: string;
  /** Secret in the app namespace with key `password`. */
  readonly passwordSecret: string;
}

/**
 * The endpoints the API's ConfigMap should carry (for the API chart; see the report). In
 * Sentinel mode `write`/`read` name `sentinel://` URLs; clients must ask Sentinel, because the
 * master moves on failover. Sessions in a secondary region write through the primary's proxy
 * (a fixed host that always reaches the current master) and read the local replicas; on a
 * local miss the API re-reads from `write` (the session may not have replicated yet).
 */
export function redisClientEndpoints(plan: RegionPlan, primary?: PrimaryRegionRef): Record<RedisTierKey, RedisClientEndpoint> {
  const out = {} as Record<RedisTierKey, RedisClientEndpoint>;
  for (const tier of REDIS_TIERS) {
    const t = redisTopology(plan, tier);
    const sentinels = `${t.sentinelServiceHost}:${t.sentinelPort}`;
    if (t.mode === 'sentinel') {
      const url = `sentinel://${sentinels}/${t.masterName}`;
      out[tier] = { masterName: t.masterName, sentinels, write: url, read: url, passwordSecret: t.clientSecret };
    } else {
      const proxy = sessionsProxyNames(plan, primaryRegionOf(plan, primary).name);
      out[tier] = {
        write: `redis://${proxy.globalHost}:${proxy.masterPort}`,
        read: `redis://${t.readService}.${t.namespace}.svc.cluster.local:${t.redisPort}`,
        passwordSecret: t.clientSecret,
      };
    }
  }
  return out;
}
