/**
 * The shard's scheduled base backup: a sidecar in every member pod (same Spilo image, same WAL-G
 * environment as archive_command, the data volume read-only, the pod-local Postgres socket) that
 * on `postgres.baseBackupSchedule` (cron, UTC) runs `wal-g backup-push $PGDATA` if and only if
 * this member holds Patroni's leader lock, then `wal-g delete retain FULL <retainFullBackups>
 * --confirm`. Together with continuous WAL archiving (archive_command) this is the point-in-time
 * recovery of docs/postgres-restore.md.
 *
 * Why not a CronJob: a Job cannot read the leader's data volume, so it would have to use WAL-G's
 * remote mode (BASE_BACKUP over the replication protocol), which the WAL-G bundled in the pinned
 * Spilo image (3.0.x) fails on Postgres 15/16 (wal-g issues #1385, #1784, #2005) — and the
 * retention step after it never ran. Reading the data directory on the leader is what Spilo
 * itself does (scripts/postgres_backup.sh from its crontab); our pods run `patroni` directly,
 * without Spilo's runit and cron, so the sidecar carries its own minute loop.
 *
 * Which member backs up: the one holding the leader lock (Patroni REST `GET /leader`: 200 on the
 * primary and on a standby cluster's standby leader, 503 elsewhere). So a DR site's standby
 * leader backs up too, into its own region's bucket, where it also archives every WAL segment it
 * receives (archive_mode = always): each site's bucket restores on its own (docs/disaster-
 * recovery.md). WAL-G backs up a server in recovery with the same command (non-exclusive
 * pg_backup_start / pg_backup_stop work on a standby). Spilo skips standbys unless
 * WALG_BACKUP_FROM_REPLICA is set; here only the standby *leader* does, never a replica.
 */
import type { k8s } from 'cdk8s-plus-28';
import type { RegionPlan } from '../../regions/plan';
import type { HardenedContainerProps } from '../lib/hardened-pod';
import { POSTGRES_PATHS } from './conf';
import { CREDENTIAL_PROPERTIES, POSTGRES_PORTS, POSTGRES_USERS, type PostgresShardNames } from './names';
import type { WalgEnvironment } from './walg';

/** Name of the sidecar (and of the container the wiring declaration names for its WAL-G keys). */
export const BASE_BACKUP_CONTAINER = 'base-backup';

/** Key of the script in the shard's Files ConfigMap (mounted at POSTGRES_PATHS.configDir). */
export const BASE_BACKUP_SCRIPT = 'base-backup.sh';

/** Where the sidecar keeps its lock, heartbeat and last-success time (an emptyDir). */
export const BASE_BACKUP_STATE_DIR = '/tmp/base-backup';

export interface BaseBackupOptions {
  /** Longest one `wal-g backup-push` may run before it is stopped. @default 21600 (6 h) */
  readonly timeoutSeconds?: number;
  /**
   * @default { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } } — idle
   * all day; during the backup WAL-G compresses (CPU beyond the request, no CPU limit) and holds
   * its upload buffers (a restart would mark the whole pod, i.e. the primary, unready: keep the
   * memory limit generous)
   */
  readonly resources?: HardenedContainerProps['resources'];
}

/** Cron fields the sidecar's matcher understands: `*`, `n`, `a-b`, `*\/s`, `a-b/s`, `n/s`, lists of these; numbers only. */
const CRON_FIELD = /^(\*|[0-9]+(-[0-9]+)?)(\/[1-9][0-9]*)?(,(\*|[0-9]+(-[0-9]+)?)(\/[1-9][0-9]*)?)*$/;
const CRON_RANGES: ReadonlyArray<[string, number, number]> = [['minute', 0, 59], ['hour', 0, 23], ['day of month', 1, 31], ['month', 1, 12], ['day of week', 0, 7]];

/** Throws unless the sidecar's matcher evaluates `schedule` exactly as cron does. */
export function checkBackupSchedule(schedule: string): void {
  const fields = schedule.trim().split(/\s+/);
  const where = `global.postgres.baseBackupSchedule "${schedule}"`;
  if (fields.length !== 5) throw new Error(`${where}: expected 5 cron fields (minute hour day-of-month month day-of-week)`);
  fields.forEach((field, i) => {
    const [name, min, max] = CRON_RANGES[i];
    if (!CRON_FIELD.test(field)) throw new Error(`${where}: ${name} "${field}" is not supported (numbers, *, ranges, steps and lists only; no names)`);
    for (const n of field.match(/[0-9]+/g) ?? []) {
      if (/^0[0-9]/.test(n)) throw new Error(`${where}: ${name} "${field}": write ${Number(n)}, not ${n}`);
    }
    for (const part of field.split(',')) {
      const [range] = part.split('/');
      if (range === '*') continue;
      const [lo, hi = lo] = range.split('-').map(Number);
      if (lo < min || hi > max || lo > hi) throw new Error(`${where}: ${name} "${part}" is outside ${min}-${max}`);
    }
  });
}

/**
 * The sidecar's script (POSIX sh: Spilo's /bin/sh is dash). `run` is the schedule loop, `now`
 * one backup (if this member is the leader; an operator runs it with kubectl exec), `matches
 * <cron> "<M H DOM MON DOW>"` tells whether the schedule fires at that time (for tests and
 * operators). Environment: BASE_BACKUP_SCHEDULE, RETAIN_FULL_BACKUPS, BACKUP_TIMEOUT_SECONDS,
 * PATRONI_URL, PGDATA, the PG* connection and WAL-G's storage settings.
 */
export function renderBaseBackupScript(): string {
  return `#!/bin/sh
# Base backups of this Postgres shard site (generated by charts/postgres/backup.ts; do not edit).
# Usage: ${BASE_BACKUP_SCRIPT} run | now | matches '<cron>' '<M H DOM MON DOW>'
set -u
set -f   # cron fields contain '*': never glob
state=\${BACKUP_STATE_DIR:-${BASE_BACKUP_STATE_DIR}}
mkdir -p "$state"

log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) base-backup: $*"; }

# One cron field ("*", "5", "1-5", "*/15", "0-30/10", "5/10", lists of these) against a value.
# $1 field, $2 value, $3 the field's smallest value (where "*" and "n/s" steps start from).
field_matches() {
  for part in $(echo "$1" | tr ',' ' '); do
    step=1
    case $part in */*) step=\${part#*/}; part=\${part%/*} ;; esac
    case $part in
      '*') lo=$3; hi=99 ;;
      *-*) lo=\${part%-*}; hi=\${part#*-} ;;
      *) lo=$part; if [ "$step" -eq 1 ]; then hi=$part; else hi=99; fi ;;
    esac
    if [ "$2" -ge "$lo" ] && [ "$2" -le "$hi" ] && [ $(( ($2 - lo) % step )) -eq 0 ]; then return 0; fi
  done
  return 1
}

# $1 the schedule, $2 "M H DOM MON DOW" (numbers, no leading zeros; DOW 0 = Sunday).
cron_matches() {
  set -- $1 $2
  field_matches "$1" "$6" 0 || return 1
  field_matches "$2" "$7" 0 || return 1
  field_matches "$4" "$9" 1 || return 1
  dom=0; dow=0
  field_matches "$3" "$8" 1 && dom=1
  if field_matches "$5" "\${10}" 0 || { [ "\${10}" -eq 0 ] && field_matches "$5" 7 0; }; then dow=1; fi
  # cron: with both day fields restricted, either may match; otherwise both must.
  if [ "$3" != '*' ] && [ "$5" != '*' ]; then [ $dom -eq 1 ] || [ $dow -eq 1 ]; else [ $dom -eq 1 ] && [ $dow -eq 1 ]; fi
}

# Exit codes: 0 backed up (and pruned), 3 not the leader (nothing done), 4 another backup runs, 1 failed.
backup_now() {
  exec 9>"$state/lock"
  if ! flock -n 9; then log "another backup is running"; return 4; fi
  # Patroni answers 200 only on the member holding the leader lock (primary or standby leader).
  if ! curl -fsS -o /dev/null --max-time 10 "$PATRONI_URL/leader"; then
    log "this member is not the leader: no backup here"
    return 3
  fi
  log "leader: wal-g backup-push $PGDATA"
  if ! nice -n 5 timeout "$BACKUP_TIMEOUT_SECONDS" wal-g backup-push "$PGDATA"; then
    log "FAILED: wal-g backup-push (no retention run)"
    return 1
  fi
  log "retention: wal-g delete retain FULL $RETAIN_FULL_BACKUPS --confirm"
  if ! wal-g delete retain FULL "$RETAIN_FULL_BACKUPS" --confirm; then
    log "FAILED: wal-g delete retain"
    return 1
  fi
  date -u +%s >"$state/last-success"
  log "done"
  return 0
}

run() {
  log "schedule '$BASE_BACKUP_SCHEDULE' (UTC), keeping $RETAIN_FULL_BACKUPS full backups"
  child=''
  trap 'log "stopping"; [ -n "$child" ] && kill "$child" 2>/dev/null; exit 0' TERM INT
  last=''
  while :; do
    touch "$state/heartbeat"
    set -- $(date -u '+%Y%m%d%H%M %M %H %d %m %w')
    if [ "$1" != "$last" ]; then
      last=$1
      if cron_matches "$BASE_BACKUP_SCHEDULE" "\${2#0} \${3#0} \${4#0} \${5#0} $6"; then
        ( backup_now ) &
        child=$!
        # The heartbeat stays fresh while the backup runs (the liveness probe reads it).
        while kill -0 "$child" 2>/dev/null; do touch "$state/heartbeat"; sleep 15 & wait $!; done
        wait "$child"
        child=''
      fi
    fi
    sleep 15 & wait $!
  done
}

case \${1:-} in
  run) run ;;
  now) backup_now ;;
  matches) cron_matches "$2" "$3" ;;
  *) echo "usage: $0 run | now | matches '<cron>' '<M H DOM MON DOW>'" >&2; exit 2 ;;
esac
`;
}

/**
 * The sidecar container. It reads the data directory (read-only mount of the member's volume),
 * talks to Postgres over the pod-local socket as the superuser (pg_backup_start/stop; Spilo's
 * backup does the same), and reaches object storage with the same WAL-G settings as the
 * archive_command in the postgres container.
 */
export function baseBackupContainer(plan: RegionPlan, names: PostgresShardNames, walg: WalgEnvironment, options: BaseBackupOptions = {}): HardenedContainerProps {
  const pg = plan.global.postgres;
  checkBackupSchedule(pg.baseBackupSchedule);
  const heartbeat = `${BASE_BACKUP_STATE_DIR}/heartbeat`;
  return {
    name: BASE_BACKUP_CONTAINER,
    image: plan.versions.images.spilo,
    command: ['/bin/sh', `${POSTGRES_PATHS.configDir}/${BASE_BACKUP_SCRIPT}`, 'run'],
    env: [
      { name: 'BASE_BACKUP_SCHEDULE', value: pg.baseBackupSchedule },
      { name: 'RETAIN_FULL_BACKUPS', value: String(pg.retainFullBackups) },
      { name: 'BACKUP_TIMEOUT_SECONDS', value: String(options.timeoutSeconds ?? 21600) },
      { name: 'PATRONI_URL', value: `http://127.0.0.1:${POSTGRES_PORTS.patroni.port}` },
      { name: 'PGDATA', value: POSTGRES_PATHS.dataDir },
      { name: 'PGHOST', value: POSTGRES_PATHS.socketDir },
      { name: 'PGPORT', value: String(POSTGRES_PORTS.postgres.port) },
      { name: 'PGUSER', value: POSTGRES_USERS.superuser },
      { name: 'PGDATABASE', value: 'postgres' },
      { name: 'PGPASSWORD', valueFrom: { secretKeyRef: { name: names.credentialsSecret, key: CREDENTIAL_PROPERTIES.superuserPassword } } },
      ...walg.env,
    ],
    resources: options.resources ?? { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } },
    // Liveness: the loop touches its heartbeat every 15 s, also while a backup runs (a backup is
    // bounded by BACKUP_TIMEOUT_SECONDS, not by this probe). Readiness: the loop has started.
    // Either failing marks the whole pod unready, so neither depends on a backup's outcome.
    livenessProbe: { exec: { command: ['/bin/sh', '-c', `test -n "$(find ${heartbeat} -mmin -3)"`] }, initialDelaySeconds: 30, periodSeconds: 60, failureThreshold: 3 },
    readinessProbe: { exec: { command: ['test', '-e', heartbeat] }, periodSeconds: 10 },
    writablePaths: ['/tmp'],
    volumeMounts: [
      // Read-only: the backup reads the files, and nothing in this container can damage them.
      { name: 'pgdata', mountPath: POSTGRES_PATHS.volumeDir, readOnly: true },
      { name: 'files', mountPath: POSTGRES_PATHS.configDir, readOnly: true },
      { name: 'socket', mountPath: POSTGRES_PATHS.socketDir, readOnly: true },
      ...walg.volumeMounts,
    ],
  };
}

/** The Files ConfigMap item of the script (executable). */
export const BASE_BACKUP_SCRIPT_ITEM: k8s.KeyToPath = { key: BASE_BACKUP_SCRIPT, path: BASE_BACKUP_SCRIPT, mode: 0o555 };
