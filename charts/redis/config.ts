/**
 * redis.conf and sentinel.conf of each tier, rendered as text from the plan.
 *
 * What is NOT here, on purpose:
 * - passwords (`requirepass`, `masterauth`, `sentinel auth-pass`): the start scripts append
 *   them from the mounted Secret, so the ConfigMap (and dist/) never holds one;
 * - what only a pod knows (its announce name, whom it replicates at start): appended by the
 *   start scripts (charts/redis/scripts.ts);
 * - key TTLs: the API sets them per key (`global.redis.ttlSeconds` reaches the API's
 *   ConfigMap). Redis has no per-database default TTL, and a second copy would drift.
 *
 * Every directive is accepted by Redis 7.0 (Debian's, used by the real-server tests) and by
 * the 7.2 image we run.
 */
import type { RegionPlan } from '../../regions/plan';
import { REDIS_MEMORY_HEADROOM } from '../../regions/capacity';
import { parseQuantity } from '../../regions/quantity';
import {
  type PrimaryRegionRef, primaryRegionOf, type RedisTierKey, redisTopology, SENTINEL_QUORUM, SENTINEL_TIMING, sessionsProxyNames,
} from './topology';

/** Where things live inside the pods. */
export const REDIS_PATHS = {
  /** ConfigMap mount: the rendered files and scripts (read-only). */
  config: '/etc/redis/conf',
  /** Secret mount: `password`. */
  auth: '/etc/redis/auth',
  /** emptyDir: the config a pod actually runs with (rendered file + pod-specific lines). */
  runtime: '/run/redis',
  sentinelRuntime: '/run/sentinel',
  /** Data: a PVC on the sessions tier, an emptyDir elsewhere (replication temp files). */
  data: '/data',
} as const;

/** File names in the tier ConfigMap. */
export const REDIS_FILES = {
  redisConf: 'redis.conf',
  sentinelConf: 'sentinel.conf',
  startRedis: 'start-redis.sh',
  startSentinel: 'start-sentinel.sh',
  probe: 'probe.sh',
} as const;

/**
 * In a pod's runtime folder (emptyDir, 0600): the password the server was started with, which
 * the probes use when the mounted one is refused (it changed in the store, the server not yet).
 */
export const STARTED_PASSWORD_FILE = 'started-password';
/** In a pod's runtime folder: written by the readiness probe once the replica's link was up since this start. */
export const SYNCED_MARKER_FILE = 'synced';

/** One directive: name, value (as Redis reads it) and why it is set. */
export interface Directive {
  readonly name: string;
  readonly value: string;
  readonly why?: string;
}

/** Eviction policy per tier (see the `why` of each in redisDirectives). */
export const EVICTION_POLICY: Readonly<Record<RedisTierKey, string>> = {
  cache: 'allkeys-lru',
  sessions: 'noeviction',
  rateLimit: 'volatile-ttl',
};

/** Tiers whose data survives a restart (AOF on a PersistentVolume). */
export function isPersistent(tier: RedisTierKey): boolean {
  return tier === 'sessions';
}

/** Kubernetes quantity → bytes, exactly (Redis reads `3gb` as 3 GiB and `3g` as 3e9: bytes avoid both). */
export function maxmemoryBytes(quantity: string): number {
  return Math.floor(parseQuantity(quantity));
}

const EVICTION_WHY: Readonly<Record<RedisTierKey, string>> = {
  cache: 'Any key may go: every entry can be recomputed, and least-recently-used is what a cache evicts.',
  sessions:
    'A session must never disappear because memory is full (that logs a user out). Writes fail instead, which the API reports and alerts fire on well before (maxmemory is sized for the peak).',
  rateLimit:
    'Every rate-limit key carries a TTL (the window). Under pressure evict the windows closest to expiring: they are about to reset anyway, so the least information is lost; LRU could evict a busy window and hand an abusive client a fresh budget. Keys without a TTL are never evicted.',
};

/** The directives of a tier's redis.conf, in file order. */
export function redisDirectives(plan: RegionPlan, tier: RedisTierKey, primary?: PrimaryRegionRef): Directive[] {
  const t = redisTopology(plan, tier);
  const persistent = isPersistent(tier);
  const remote = t.mode === 'remote-replica';
  const d: Directive[] = [
    // ---- network
    { name: 'bind', value: '* -::*', why: 'Istio\'s sidecar delivers inbound traffic to the pod IP (not loopback), so listen on every interface; "-::*" skips IPv6 when the pod has none.' },
    { name: 'port', value: String(t.redisPort) },
    { name: 'protected-mode', value: 'no', why: 'A password is always set (appended at start) and only the mesh reaches the pod; protected mode would only matter without one.' },
    { name: 'tcp-keepalive', value: '60', why: 'Detect dead peers (a killed pod, a dropped cross-region link) within minutes, not hours.' },
    { name: 'timeout', value: '0' },
    { name: 'maxclients', value: '10000' },
    // ---- process
    { name: 'daemonize', value: 'no' },
    { name: 'logfile', value: '""', why: 'Log to stdout: the container runtime collects it.' },
    { name: 'loglevel', value: 'notice' },
    { name: 'dir', value: REDIS_PATHS.data },
    // ---- memory
    { name: 'maxmemory', value: String(maxmemoryBytes(t.config.maxmemory)), why: `${t.config.maxmemory} from global.redis.tiers.${tier}.maxmemory; the invariants keep it <= 80 % of the ${t.config.resources.limits.memory} limit (buffers, fork copy-on-write).` },
    { name: 'maxmemory-policy', value: EVICTION_POLICY[tier], why: EVICTION_WHY[tier] },
    { name: 'lazyfree-lazy-eviction', value: 'yes', why: 'Free evicted and expired values in a background thread: a large value never stalls the event loop.' },
    { name: 'lazyfree-lazy-expire', value: 'yes' },
    { name: 'lazyfree-lazy-server-del', value: 'yes' },
    { name: 'replica-lazy-flush', value: 'yes' },
    // ---- persistence
    { name: 'save', value: '""', why: persistent ? 'No RDB snapshots: the AOF is the durable copy, and one forking mechanism halves the copy-on-write risk.' : 'No persistence: this tier\'s data is cheap to lose (recomputed, or a window that resets within a minute), and disk writes and forks cost latency.' },
    { name: 'appendonly', value: persistent ? 'yes' : 'no' },
  ];
  if (persistent) {
    d.push(
      { name: 'appendfsync', value: 'everysec', why: 'fsync once a second: at most one second of writes lost when a node loses power; the WAIT-acknowledged copy on a replica covers that second.' },
      { name: 'appendfilename', value: '"appendonly.aof"' },
      { name: 'appenddirname', value: '"appendonlydir"' },
      { name: 'aof-use-rdb-preamble', value: 'yes', why: 'Rewrites start with a compact RDB snapshot: faster restarts.' },
      { name: 'aof-load-truncated', value: 'yes', why: 'A power cut may truncate the last command; load what is whole instead of refusing to start.' },
      { name: 'no-appendfsync-on-rewrite', value: 'no' },
      { name: 'auto-aof-rewrite-percentage', value: '100' },
      { name: 'auto-aof-rewrite-min-size', value: '64mb' },
    );
  }
  // ---- replication
  d.push(
    { name: 'replica-read-only', value: 'yes' },
    { name: 'replica-serve-stale-data', value: 'yes', why: 'A replica that lost its master keeps answering reads (sessions stay readable while a failover or a cross-region outage lasts).' },
    { name: 'repl-diskless-sync', value: 'yes', why: 'Stream the snapshot to replicas straight from memory: no disk I/O on the master.' },
    { name: 'repl-diskless-sync-delay', value: '5' },
    { name: 'repl-backlog-size', value: `${REDIS_MEMORY_HEADROOM.replBacklogMib}mb`, why: 'Room for a replica that was away for a failover (or a cross-region blip) to resume by partial sync instead of a full copy.' },
    { name: 'repl-timeout', value: '60' },
  );
  if (!persistent) {
    d.push({ name: 'repl-diskless-load', value: 'on-empty-db', why: 'A replica of a non-persistent tier loads the snapshot from the socket when it has nothing to lose: no disk needed.' });
  }
  if (remote) {
    const proxy = sessionsProxyNames(plan, primaryRegionOf(plan, primary).name);
    d.push(
      { name: 'replicaof', value: `${proxy.globalHost} ${proxy.replicaPort}`, why: 'Read replica of the primary region\'s sessions: through its proxy\'s replica port (a replica there, so this link never counts towards the master\'s min-replicas or WAIT) over the mesh and the east-west gateway.' },
      { name: 'replica-priority', value: '0', why: 'Never promoted by a Sentinel: a regional failover of sessions is a decision (docs/redis-sessions.md).' },
      { name: 'replica-announced', value: 'no', why: 'Invisible to the primary region\'s Sentinels and their clients.' },
    );
  } else {
    d.push({ name: 'replica-priority', value: '100' });
  }
  if (persistent && !remote) {
    d.push(
      { name: 'min-replicas-to-write', value: '1', why: 'Refuse writes unless at least one replica is connected and current: an isolated master (partitioned, about to be replaced by a failover) stops acknowledging sessions that the failover would discard. Cost: with both replicas gone, logins fail until one is back (reads go on).' },
      { name: 'min-replicas-max-lag', value: String(SENTINEL_TIMING.downAfterMilliseconds / 1000), why: 'Seconds since the replica\'s last ACK: the same window after which Sentinel declares a silent master down.' },
    );
  }
  // ---- shutdown and hardening
  d.push(
    { name: 'shutdown-timeout', value: '10', why: 'On SIGTERM a master pauses writes and waits up to 10 s for its replicas to catch up before exiting, so a rolling restart loses nothing.' },
    { name: 'enable-debug-command', value: 'no' },
    { name: 'enable-module-command', value: 'no' },
    { name: 'enable-protected-configs', value: 'no' },
  );
  return d;
}

/** The directives of a tier's sentinel.conf, in file order (Sentinel-mode tiers only). */
export function sentinelDirectives(plan: RegionPlan, tier: RedisTierKey): Directive[] {
  const t = redisTopology(plan, tier);
  if (t.mode !== 'sentinel') throw new Error(`tier ${tier} runs no Sentinels in region ${plan.region.name} (it replicates the primary region)`);
  const m = t.masterName;
  return [
    { name: 'port', value: String(t.sentinelPort) },
    { name: 'bind', value: '* -::*', why: 'Traffic arrives from the Istio sidecar on the pod IP.' },
    { name: 'protected-mode', value: 'no', why: 'Sentinel requires a password (appended at start).' },
    { name: 'daemonize', value: 'no' },
    { name: 'logfile', value: '""' },
    { name: 'dir', value: REDIS_PATHS.sentinelRuntime, why: 'Sentinel rewrites its config file with what it learns (epochs, replicas, peers).' },
    {
      name: 'sentinel resolve-hostnames',
      value: 'yes',
      why: 'Before "monitor": instances are named by their stable per-pod DNS names (a pod IP changes on every restart, and behind the sidecar a peer\'s source address is 127.0.0.6).',
    },
    { name: 'sentinel announce-hostnames', value: 'yes', why: 'Tell clients and peers names, not IPs: the names stay valid across pod restarts.' },
    { name: 'sentinel deny-scripts-reconfig', value: 'yes' },
    { name: 'sentinel monitor', value: `${m} ${t.bootstrapMasterHost} ${t.redisPort} ${SENTINEL_QUORUM}`, why: 'Pod 0 is the first master; start-sentinel.sh replaces the host when the running Sentinels know a newer one.' },
    { name: 'sentinel down-after-milliseconds', value: `${m} ${SENTINEL_TIMING.downAfterMilliseconds}` },
    { name: 'sentinel failover-timeout', value: `${m} ${SENTINEL_TIMING.failoverTimeoutMilliseconds}` },
    { name: 'sentinel parallel-syncs', value: `${m} ${SENTINEL_TIMING.parallelSyncs}` },
  ];
}

function render(header: string[], directives: readonly Directive[]): string {
  const lines = header.map((h) => `# ${h}`);
  for (const d of directives) {
    lines.push('');
    if (d.why) lines.push(...wrap(d.why).map((w) => `# ${w}`));
    lines.push(`${d.name} ${d.value}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Wraps a comment at ~96 columns. */
function wrap(text: string): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > 96) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}

function headerFor(plan: RegionPlan, tier: RedisTierKey, what: string): string[] {
  return [
    `${what} of the Redis ${redisTopology(plan, tier).slug} tier in ${plan.region.name} (Redis ${plan.versions.images.redis.version}).`,
    'Rendered by charts/redis/config.ts from regions/global.yaml: change the source, not this file.',
    'Passwords and the pod\'s own name are appended at start by the start script.',
  ];
}

export function renderRedisConf(plan: RegionPlan, tier: RedisTierKey, primary?: PrimaryRegionRef): string {
  return render(headerFor(plan, tier, 'redis.conf'), redisDirectives(plan, tier, primary));
}

export function renderSentinelConf(plan: RegionPlan, tier: RedisTierKey): string {
  return render(headerFor(plan, tier, 'sentinel.conf'), sentinelDirectives(plan, tier));
}

/** Parses a rendered file back into (name, value) pairs; `sentinel x` names keep their prefix. */
export function parseConf(text: string): Array<[string, string]> {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const parts = l.split(/\s+/);
      const n = parts[0] === 'sentinel' ? 2 : 1;
      return [parts.slice(0, n).join(' '), parts.slice(n).join(' ')] as [string, string];
    });
}
