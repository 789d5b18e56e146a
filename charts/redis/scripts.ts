/**
 * The start scripts of the Redis and Sentinel containers (POSIX sh, run by the redis image's
 * /bin/sh). They turn the rendered, pod-independent config into the one a pod runs with:
 * the password from the mounted Secret, the pod's stable DNS name to announce, and whom to
 * replicate (asked from the Sentinels, as the Bitnami and redis-ha charts do).
 *
 * Why the main container and not an init container: with the istio-cni plugin, an init
 * container's traffic is redirected to a sidecar that is not running yet, and under STRICT
 * mTLS a plain-text connection is refused anyway, so an init container cannot ask Sentinel.
 * The main container starts after the sidecar (holdApplicationUntilProxyStarts).
 *
 * Every setting comes from the environment (`REDIS_START_ENV` / `SENTINEL_START_ENV` name
 * them), so the real-server tests run these very scripts on loopback ports.
 */
import { STARTED_PASSWORD_FILE, SYNCED_MARKER_FILE } from './config';

/** Environment the Redis start script reads. */
export const REDIS_START_ENV = {
  template: 'REDIS_CONFIG_TEMPLATE',
  runtimeDir: 'REDIS_RUNTIME_DIR',
  passwordFile: 'REDIS_PASSWORD_FILE',
  port: 'REDIS_PORT',
  announceHost: 'REDIS_ANNOUNCE_HOST',
  /** Unset for remote replicas: their rendered file already names whom to replicate. */
  sentinelHost: 'REDIS_SENTINEL_HOST',
  sentinelPort: 'REDIS_SENTINEL_PORT',
  masterName: 'REDIS_MASTER_NAME',
  /** `host:port` of pod 0: the master on the tier's first start. */
  bootstrapMaster: 'REDIS_BOOTSTRAP_MASTER',
  /** Space-separated `host:port` of every Redis pod of the tier (asked when no Sentinel answers). */
  peers: 'REDIS_PEERS',
  queryAttempts: 'REDIS_SENTINEL_QUERY_ATTEMPTS',
  staleMasterWaitSeconds: 'REDIS_STALE_MASTER_WAIT_SECONDS',
} as const;

/** Environment the Sentinel start script reads. */
export const SENTINEL_START_ENV = {
  template: 'SENTINEL_CONFIG_TEMPLATE',
  runtimeDir: 'SENTINEL_RUNTIME_DIR',
  passwordFile: 'REDIS_PASSWORD_FILE',
  port: 'SENTINEL_PORT',
  announceHost: 'SENTINEL_ANNOUNCE_HOST',
  masterName: 'REDIS_MASTER_NAME',
  /** `host:port` of the Sentinel Service (the running peers). */
  peersService: 'SENTINEL_PEERS_SERVICE',
  /** Space-separated `host:port` of every Redis pod of the tier. */
  redisPeers: 'REDIS_PEERS',
  queryAttempts: 'SENTINEL_QUERY_ATTEMPTS',
  resolveWaitSeconds: 'SENTINEL_RESOLVE_WAIT_SECONDS',
} as const;

/** Shared shell functions: logging, required variables, the password, asking Redis/Sentinel. */
const COMMON = `set -eu
set -f

log() { echo "$SCRIPT: $*" >&2; }
need() {
  for v in "$@"; do
    eval "value=\\\${$v:-}"
    if [ -z "$value" ]; then log "environment variable $v is not set"; exit 1; fi
  done
}

# The password goes into config files unquoted: refuse characters the config parser would split
# or unescape (generate it from letters and digits).
read_password() {
  password="$(cat "$1")"
  case "$password" in
    '' | *[!A-Za-z0-9._~+=/-]*)
      log "the password in $1 must be non-empty and use only letters, digits and . _ ~ + = / -"
      exit 1 ;;
  esac
  export REDISCLI_AUTH="$password"
}

# valid_address HOST PORT: a non-empty host and a numeric port.
valid_address() {
  [ "$#" -eq 2 ] && [ -n "$1" ] && [ "$2" -gt 0 ] 2>/dev/null
}

# ask_sentinels HOST PORT NAME ATTEMPTS: sets found_host/found_port to the master the Sentinels
# know; fails when none answers with an address.
ask_sentinels() {
  tries=0
  while [ "$tries" -lt "$4" ]; do
    tries=$((tries + 1))
    reply="$(redis-cli --raw -h "$1" -p "$2" SENTINEL get-master-addr-by-name "$3" 2>/dev/null | tr '\\r\\n' '  ')" || reply=''
    # shellcheck disable=SC2086
    if valid_address $reply; then
      set -- $reply
      found_host="$1"; found_port="$2"
      return 0
    fi
    if [ "$tries" -lt "$4" ]; then sleep 1; fi
  done
  return 1
}

# ask_peers "host:port ...": sets found_host/found_port to a Redis pod that reports being a master
# with at least one replica (an empty restarted pod 0 is a master with none).
# (peer_host/peer_port: sh has no local variables, and start-sentinel.sh keeps its own host/port.)
ask_peers() {
  for peer in $1; do
    peer_host="\${peer%:*}"; peer_port="\${peer#*:}"
    reply="$(redis-cli --raw -h "$peer_host" -p "$peer_port" INFO replication 2>/dev/null | tr -d '\\r')" || reply=''
    case "$reply" in
      *role:master*connected_slaves:[1-9]*) found_host="$peer_host"; found_port="$peer_port"; return 0 ;;
    esac
  done
  return 1
}
`;

/**
 * start-redis.sh. Decides the pod's role, writes its runtime config, execs redis-server (which
 * then gets the container's SIGTERM and shuts down gracefully, see `shutdown-timeout`).
 */
export function renderRedisStartScript(): string {
  const e = REDIS_START_ENV;
  return `#!/bin/sh
# start-redis.sh (rendered by charts/redis/scripts.ts). Role of this pod:
#  1. Ask the Sentinels (their Service) for the current master.
#  2. They name another pod: start as its replica.
#  3. They name this pod: it was the master and restarted before a failover. Coming back as
#     master would make the replicas resynchronise from this copy, which may lack acknowledged
#     writes (the AOF fsyncs once a second; non-persistent tiers restart empty). Wait for the
#     Sentinels to promote a replica and follow it; if none is promoted in time, start as master
#     with what is on disk (the only copy left).
#  4. No Sentinel answers: follow a pod that reports being a master with replicas; if there is
#     none this is the tier's first start: pod 0 is the master, the others replicate it.
#  Remote replicas (no ${e.sentinelHost}) replicate what their rendered file names.
SCRIPT=start-redis
${COMMON}
need ${e.template} ${e.runtimeDir} ${e.passwordFile} ${e.port} ${e.announceHost}
read_password "$${e.passwordFile}"

is_me() { [ "$1" = "$${e.announceHost}" ] && [ "$2" = "$${e.port}" ]; }

role=master
found_host=''
found_port=''
if [ -n "\${${e.sentinelHost}:-}" ]; then
  need ${e.sentinelPort} ${e.masterName} ${e.bootstrapMaster}
  attempts="\${${e.queryAttempts}:-5}"
  if ask_sentinels "$${e.sentinelHost}" "$${e.sentinelPort}" "$${e.masterName}" "$attempts"; then
    if is_me "$found_host" "$found_port"; then
      wait_max="\${${e.staleMasterWaitSeconds}:-65}"
      log "the Sentinels still name this pod the master: waiting up to \${wait_max}s for them to promote a replica"
      waited=0
      while is_me "$found_host" "$found_port" && [ "$waited" -lt "$wait_max" ]; do
        sleep 2
        waited=$((waited + 2))
        ask_sentinels "$${e.sentinelHost}" "$${e.sentinelPort}" "$${e.masterName}" 1 || true
      done
      if is_me "$found_host" "$found_port"; then
        log "no replica was promoted: starting as master with the data on disk"
      else
        role=replica
      fi
    else
      role=replica
    fi
  elif ask_peers "\${${e.peers}:-}" && ! is_me "$found_host" "$found_port"; then
    log "no Sentinel answered; $found_host:$found_port reports being the master"
    role=replica
  else
    bootstrap="$${e.bootstrapMaster}"
    if ! is_me "\${bootstrap%:*}" "\${bootstrap#*:}"; then
      role=replica
      found_host="\${bootstrap%:*}"
      found_port="\${bootstrap#*:}"
    fi
    log "no Sentinel answered and no master is running: first start of the tier"
  fi
else
  role=static
fi

umask 077
# The probes' fallback password (probe.sh), and a fresh start is not synced yet (the runtime
# folder outlives a container restart).
printf '%s\n' "$password" > "$${e.runtimeDir}/${STARTED_PASSWORD_FILE}"
rm -f "$${e.runtimeDir}/${SYNCED_MARKER_FILE}"
conf="$${e.runtimeDir}/redis.conf"
{
  cat "$${e.template}"
  echo
  echo "# ---- appended by start-redis.sh for this pod"
  echo "requirepass $password"
  echo "masterauth $password"
  # Behind the Istio sidecar the master sees every replica connect from 127.0.0.6: announce the
  # pod's stable DNS name instead, or the Sentinels learn an address that reaches nobody.
  echo "replica-announce-ip $${e.announceHost}"
  echo "replica-announce-port $${e.port}"
  if [ "$role" = replica ]; then echo "replicaof $found_host $found_port"; fi
} > "$conf.tmp"
mv "$conf.tmp" "$conf"
if [ "$role" = replica ]; then log "starting as a replica of $found_host:$found_port"; else log "starting as $role"; fi
exec redis-server "$conf"
`;
}

/**
 * start-sentinel.sh. A restarted container reuses the config its Sentinel rewrote (it holds the
 * current master, the epoch and the known peers); a new pod asks the running Sentinels which
 * master to monitor, falls back to the Redis pods themselves, then to pod 0.
 */
export function renderSentinelStartScript(): string {
  const e = SENTINEL_START_ENV;
  return `#!/bin/sh
# start-sentinel.sh (rendered by charts/redis/scripts.ts).
SCRIPT=start-sentinel
${COMMON}
need ${e.template} ${e.runtimeDir} ${e.passwordFile} ${e.port} ${e.announceHost} ${e.masterName}
read_password "$${e.passwordFile}"

conf="$${e.runtimeDir}/sentinel.conf"
if [ -s "$conf" ]; then
  # With the password it was written with (started-password, kept beside it): the Secret may
  # have changed since, and the rest of the tier still runs with the old one until it restarts.
  log "reusing $conf: a restarted container keeps what this Sentinel learnt"
  exec redis-server "$conf" --sentinel
fi

# The rendered file monitors pod 0; a running tier may have failed over since.
found_host=''
found_port=''
set -- $(awk '$1 == "sentinel" && $2 == "monitor" { print $4, $5; exit }' "$${e.template}")
host="$1"
port="$2"
service="\${${e.peersService}:-}"
attempts="\${${e.queryAttempts}:-5}"
if [ -n "$service" ] && ask_sentinels "\${service%:*}" "\${service#*:}" "$${e.masterName}" "$attempts"; then
  host="$found_host"; port="$found_port"
  log "the running Sentinels report the master at $host:$port"
elif ask_peers "\${${e.redisPeers}:-}"; then
  host="$found_host"; port="$found_port"
  log "no Sentinel answered; $host:$port reports being the master"
else
  log "no Sentinel answered and no master is running: monitoring $host:$port (first start)"
fi

# With resolve-hostnames Sentinel refuses to start while the name does not resolve (pod 0 is
# still being created): wait for it rather than crash-loop.
waited=0
until getent hosts "$host" > /dev/null 2>&1; do
  if [ "$waited" -ge "\${${e.resolveWaitSeconds}:-120}" ]; then log "$host does not resolve; starting anyway"; break; fi
  sleep 1
  waited=$((waited + 1))
done

umask 077
printf '%s\n' "$password" > "$${e.runtimeDir}/${STARTED_PASSWORD_FILE}"
awk -v h="$host" -v p="$port" '$1 == "sentinel" && $2 == "monitor" { $4 = h; $5 = p } { print }' "$${e.template}" > "$conf.tmp"
{
  echo
  echo "# ---- appended by start-sentinel.sh for this pod"
  echo "sentinel announce-ip $${e.announceHost}"
  echo "sentinel announce-port $${e.port}"
  echo "sentinel auth-pass $${e.masterName} $password"
  echo "sentinel sentinel-pass $password"
  echo "requirepass $password"
} >> "$conf.tmp"
mv "$conf.tmp" "$conf"
exec redis-server "$conf" --sentinel
`;
}

/** What a probe checks (probe.sh's first argument). */
export type RedisProbeCheck =
  /** Liveness and start-up: PONG, or LOADING (a large AOF loading is alive). */
  | 'alive'
  /** PONG (Sentinels). */
  | 'serving'
  /**
   * Readiness of a Redis server: PONG, and a replica only once its link to the master has been
   * up since this start (INFO's master_link_status is "up" only after the full sync is loaded).
   * A replica answers PONG during its resync (replica-serve-stale-data), so PONG alone would let
   * a rolling update restart the next pod, and the master, while every replica is still syncing.
   * Once synced it stays ready through a broken link: a remote replica keeps serving stale
   * session reads while the primary region is unreachable.
   */
  | 'synced';

/**
 * probe.sh CHECK PORT RUNTIME_DIR PASSWORD_FILE: asks the local server with the mounted password,
 * then with the one it was started with. The mounted file changes in place when the password is
 * rotated in the store, while the server keeps the one its start script wrote into its config
 * until it restarts: probing with the mounted password alone would fail every pod of every tier
 * within a minute of a rotation and restart them all at once.
 */
export function renderProbeScript(): string {
  return `#!/bin/sh
# probe.sh (rendered by charts/redis/scripts.ts): CHECK PORT RUNTIME_DIR PASSWORD_FILE.
set -u
check="$1"; port="$2"; run="$3"
reply=''
for file in "$4" "$run/${STARTED_PASSWORD_FILE}"; do
  reply="$(REDISCLI_AUTH="$(cat "$file" 2>/dev/null)" redis-cli -h 127.0.0.1 -p "$port" PING 2>/dev/null)" || reply=''
  case "$reply" in
    PONG* | LOADING*) break ;;
  esac
done
case "$check:$reply" in
  alive:PONG* | alive:LOADING* | serving:PONG*) exit 0 ;;
  synced:PONG*) ;;
  *) echo "PING: \${reply:-no answer}"; exit 1 ;;
esac
replication="$(REDISCLI_AUTH="$(cat "$file" 2>/dev/null)" redis-cli -h 127.0.0.1 -p "$port" INFO replication 2>/dev/null | tr -d '\\r')" || replication=''
case "$replication" in
  *role:master*) exit 0 ;;
  *master_link_status:up*) touch "$run/${SYNCED_MARKER_FILE}"; exit 0 ;;
esac
if [ -e "$run/${SYNCED_MARKER_FILE}" ]; then exit 0; fi
echo "replica not synced with its master since it started"
exit 1
`;
}

/** Exec probe command: probe.sh (mounted from the tier's ConfigMap at `scriptPath`). */
export function redisProbeCommand(scriptPath: string, check: RedisProbeCheck, port: number, runtimeDir: string, passwordFile: string): string[] {
  return ['sh', scriptPath, check, String(port), runtimeDir, passwordFile];
}
