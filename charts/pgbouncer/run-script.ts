/**
 * run-pgbouncer.sh: the PgBouncer container's command. PgBouncer reads its auth_file
 * (userlist.txt: the auth_user's and the stats user's passwords, a Secret volume) only at start
 * and on a reload: SIGHUP or the admin console's RELOAD. It used to check the file on its own;
 * 1.17 removed that (NEWS.md, "Remove automatic auth_file reload"; src/main.c calls
 * loader_users_check() from load_config() only). Nothing else in the pod can send RELOAD (no
 * admin user) or a signal, so a rotated auth_user password would reach PgBouncer only at the
 * next restart, and new server logins would fail from the moment Postgres has the new one.
 *
 * The script starts PgBouncer, stops it on the container's SIGTERM (or SIGINT) with PgBouncer's
 * *safe* shutdown (SIGINT: the transactions in flight finish, then it exits and releases its
 * server connections), exits with its status, and sends it SIGHUP when the files of the watched
 * folder change (the kubelet swaps a Secret volume's files atomically; the checksum of the files
 * sees the new content whatever the layout). test/real-servers/pgbouncer.test.ts runs it.
 *
 * Why not PgBouncer's own SIGTERM: since 1.23 that is a "super safe shutdown", which waits for
 * every client to disconnect. The API's pooled connections never do, so a stopping pod kept its
 * whole server pool until the kubelet killed it at the end of the grace period, mid-transaction,
 * while its replacement already had its own pool (the server budget, regions/capacity.ts,
 * counted one such pod; a node drain could stack several). With SIGINT the pool is gone within
 * a transaction's time, and clients see their connection close between transactions.
 */

/** Seconds between two looks at the auth folder; the kubelet's own Secret sync takes ~1 min. */
export const AUTH_RELOAD_INTERVAL_SECONDS = 10;

export const PGBOUNCER_RUN_SCRIPT = 'run-pgbouncer.sh';

/** `sh run-pgbouncer.sh <pgbouncer binary> <pgbouncer.ini> <folder to watch> [interval seconds]`. */
export function renderPgbouncerRunScript(): string {
  return `#!/bin/sh
# ${PGBOUNCER_RUN_SCRIPT} (rendered by charts/pgbouncer/run-script.ts): PgBouncer, reloaded (SIGHUP)
# when the mounted auth_file changes, which PgBouncer >= 1.17 no longer notices by itself.
# Usage: ${PGBOUNCER_RUN_SCRIPT} PGBOUNCER_BINARY PGBOUNCER_INI WATCHED_FOLDER [INTERVAL_SECONDS]
set -eu
binary="$1"
config="$2"
watched="$3"
interval="\${4:-${AUTH_RELOAD_INTERVAL_SECONDS}}"
log() { echo "${PGBOUNCER_RUN_SCRIPT}: $*" >&2; }
# The content of every file in the folder (through the kubelet's ..data link).
state() { cat "$watched"/* 2>/dev/null | cksum; }

# Stop signals, caught before PgBouncer starts (PID 1 ignores a signal it has no handler for):
# PgBouncer's safe shutdown (SIGINT), its server connections released as transactions finish.
pid=''
stopping=''
stop() {
  stopping=1
  if [ -n "$pid" ]; then kill -INT "$pid" 2>/dev/null || true; fi
}
trap stop TERM INT

"$binary" "$config" &
pid=$!
if [ -n "$stopping" ]; then kill -INT "$pid" 2>/dev/null || true; fi

# The watcher: a subshell, so that the main shell only ever waits for PgBouncer.
(
  trap - TERM INT
  seen="$(state)"
  while kill -0 "$pid" 2>/dev/null; do
    sleep "$interval" || true
    now="$(state)"
    if [ "$now" != "$seen" ]; then
      seen="$now"
      log "$watched changed: reloading PgBouncer (SIGHUP)"
      kill -HUP "$pid" 2>/dev/null || exit 0
    fi
  done
) &
watcher=$!

# This shell keeps waiting until PgBouncer has exited, and exits with its status.
status=0
while :; do
  if wait "$pid"; then status=0; else status=$?; fi
  # A trapped signal ends \`wait\` early: PgBouncer still runs (or is not reaped yet), wait again.
  kill -0 "$pid" 2>/dev/null || break
done
kill "$watcher" 2>/dev/null || true
exit "$status"
`;
}
