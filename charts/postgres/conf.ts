/**
 * postgresql.conf and pg_hba.conf of a shard, rendered as plain text from the plan. The same
 * files are mounted into the pods (Patroni includes postgresql.conf as its `custom_conf` and
 * points `hba_file` at pg_hba.conf) and fed to a real Postgres by test/real-servers.
 *
 * Every number comes from regions/capacity.ts; nothing is recomputed here.
 */
import type { ShardConfig } from '../../regions/model';
import { postgresSettings } from '../../regions/capacity';
import type { RegionPlan } from '../../regions/plan';
import { parseQuantity } from '../../regions/quantity';
import { BOOKINGS_DATABASE, POSTGRES_PORTS, POSTGRES_USERS } from './names';
import { ARCHIVE_WAL_SCRIPT } from './archive';

/** Where the pods mount the files of this module and the TLS Secret. */
export const POSTGRES_PATHS = {
  /** ConfigMap with postgresql.conf, pg_hba.conf, patroni.yml, bootstrap files. */
  configDir: '/etc/patroni',
  tlsDir: '/etc/postgresql/tls',
  /** PersistentVolume mount (Spilo's PGHOME/pgdata). */
  volumeDir: '/home/postgres/pgdata',
  dataDir: '/home/postgres/pgdata/pgroot/data',
  socketDir: '/run/postgresql',
} as const;

/**
 * Sources Postgres sees for meshed clients. With Istio's default REDIRECT interception the
 * sidecar terminates mTLS and opens its own connection to the app from 127.0.0.6 (::6 on
 * IPv6), so *every* meshed peer (PgBouncer, replicas, the topology Job) arrives from there;
 * pod IPs never reach pg_hba. Direct, non-mesh connections are refused by PeerAuthentication
 * STRICT before they reach Postgres, and any that did (an excluded port, TPROXY mode) come
 * from a pod IP and hit the final reject lines. Which workload may connect is decided by
 * Istio AuthorizationPolicy (by ServiceAccount), which user by these lines plus SCRAM.
 */
export const MESH_INBOUND_SOURCES = ['127.0.0.6/32', '::6/128'] as const;

/**
 * Parameters Patroni insists on managing itself (it passes them on the postgres command line
 * from its dynamic configuration, overriding any file). They are rendered into both
 * postgresql.conf and patroni.yml's bootstrap.dcs from this one function, so they cannot
 * disagree (test/charts/postgres.test.ts checks it).
 */
export function patroniManagedParameters(plan: RegionPlan, shard: ShardConfig): Record<string, string | number> {
  const settings = postgresSettings(plan.global);
  // Replicas + the other site's standby leader + spares for re-seeding replicas (base backups
  // read the data directory and need no WAL sender).
  const walSenders = shard.readReplicas + 3;
  return {
    max_connections: settings.maxConnections,
    max_wal_senders: walSenders,
    max_replication_slots: walSenders,
    max_worker_processes: 8,
    max_locks_per_transaction: 64,
    max_prepared_transactions: 0,
    track_commit_timestamp: 'off',
    wal_level: 'replica',
    // pg_rewind needs it, so a failed primary rejoins as a replica without a full copy.
    wal_log_hints: 'on',
    hot_standby: 'on',
    // Enough WAL on the primary for a replica that restarts to resume streaming.
    wal_keep_size: '1024MB',
  };
}

/** archive_command (charts/postgres/archive.ts: every member pushes) / restore_command through WAL-G (environment from the pod: WALG_*_PREFIX, credentials). */
const WALG_ARCHIVE_COMMAND = `${POSTGRES_PATHS.configDir}/${ARCHIVE_WAL_SCRIPT} "%p"`;
export const WALG_RESTORE_COMMAND = 'wal-g wal-fetch "%f" "%p"';

/** Every parameter of postgresql.conf, in file order. Exported for tests and patroni.yml. */
export function postgresParameters(plan: RegionPlan, shard: ShardConfig): Record<string, string | number> {
  const settings = postgresSettings(plan.global);
  const pg = plan.global.postgres;
  return {
    listen_addresses: '*',
    port: POSTGRES_PORTS.postgres.port,
    unix_socket_directories: POSTGRES_PATHS.socketDir,
    hba_file: `${POSTGRES_PATHS.configDir}/pg_hba.conf`,
    ...patroniManagedParameters(plan, shard),
    // superusers only: Patroni and an operator at 3 a.m.; the rest of reservedConnections is
    // headroom for the exporter and replication-adjacent sessions (capacity.ts keeps it free).
    superuser_reserved_connections: 3,
    shared_buffers: `${settings.sharedBuffersMb}MB`,
    effective_cache_size: `${settings.effectiveCacheSizeMb}MB`,
    work_mem: `${settings.workMemMb}MB`,
    maintenance_work_mem: `${settings.maintenanceWorkMemMb}MB`,
    huge_pages: 'try',
    // always, on both sites and every member: a standby site archives what it receives, so the
    // shard's WAL is in a second bucket of its residency whichever site is active, and replicas
    // archive what the primary may not have (archive.ts). The same on both sites: a
    // promotion changes no parameter that needs a restart.
    archive_mode: 'always',
    archive_command: WALG_ARCHIVE_COMMAND,
    // A quiet shard still ships a segment this often: the bound on data lost with the pod (RPO).
    archive_timeout: pg.archiveTimeoutSeconds,
    restore_command: WALG_RESTORE_COMMAND,
    // A standby whose stream broke polls the archive this often (part of the DR site's RPO).
    wal_retrieve_retry_interval: `${pg.walRetrieveRetryIntervalSeconds}s`,
    // The other site's replication slot holds WAL while that site is away; past a fifth of the
    // volume the slot is dropped (it then catches up from the archive) rather than fill pg_wal.
    max_slot_wal_keep_size: `${Math.floor(parseQuantity(shard.storage.size) / 5 / 1024 ** 2)}MB`,
    hot_standby_feedback: 'on',
    ssl: 'on',
    ssl_cert_file: `${POSTGRES_PATHS.tlsDir}/tls.crt`,
    ssl_key_file: `${POSTGRES_PATHS.tlsDir}/tls.key`,
    ssl_ca_file: `${POSTGRES_PATHS.tlsDir}/ca.crt`,
    ssl_min_protocol_version: 'TLSv1.2',
    password_encryption: 'scram-sha-256',
    // Logs go to the container's stderr (collected by the node), never to the data volume.
    logging_collector: 'off',
    log_line_prefix: '%m [%p] %q%u@%d ',
    log_connections: 'off',
    log_min_duration_statement: 500,
    shared_preload_libraries: 'pg_stat_statements',
  };
}

function quote(value: string | number): string {
  if (typeof value === 'number') return String(value);
  // Booleans, sizes and plain words read best unquoted; anything else is a string literal.
  return /^([a-z][a-z0-9_]*|[0-9]+(kB|MB|GB|TB|ms|s|min|h|d)?)$/.test(value) ? value : `'${value.replace(/'/g, "''")}'`;
}

export function renderPostgresqlConf(plan: RegionPlan, shard: ShardConfig): string {
  const header = [
    `# postgresql.conf of ${plan.global.platform.name} Postgres shard ${shard.id} (${plan.region.name}).`,
    `# Generated from regions/${plan.region.name}.yaml and regions/global.yaml by charts/postgres/conf.ts; do not edit.`,
    `# Patroni includes this file (custom_conf) and passes the same max_connections, wal_level, ...`,
    '# on the command line from its dynamic configuration.',
  ];
  const lines = Object.entries(postgresParameters(plan, shard)).map(([k, v]) => `${k} = ${quote(v)}`);
  return `${[...header, '', ...lines].join('\n')}\n`;
}

/**
 * pg_hba.conf: TLS + SCRAM for every network login, each user only to the database it needs,
 * only from the mesh's inbound address; everything else rejected explicitly. The exporter and
 * Patroni (superuser, and its local replication connection) use the pod-local unix socket
 * (nothing on the network can reach it).
 */
export function renderPgHba(plan: RegionPlan, shard: ShardConfig): string {
  const u = POSTGRES_USERS;
  const rows: Array<[string, string, string, string | undefined, string]> = [
    ['local', 'all', u.superuser, undefined, 'scram-sha-256'],
    ['local', 'postgres', u.exporter, undefined, 'scram-sha-256'],
    // Patroni reads its member's timeline over a local replication connection (use_unix_socket_repl).
    ['local', 'replication', u.replication, undefined, 'scram-sha-256'],
  ];
  const network: Array<[string, string, string]> = [
    // Replicas stream from the primary; pg_rewind of a former primary reads the new one.
    ['replication', u.replication, 'streaming replication between the Patroni members'],
    ['postgres', u.rewind, 'pg_rewind of a former primary'],
    // PgBouncer logs in as its auth_user to run auth_query, then as the client (SCRAM pass-through).
    [BOOKINGS_DATABASE, u.pgbouncer, 'PgBouncer auth_query'],
    [BOOKINGS_DATABASE, u.api, 'the booking API, through PgBouncer'],
  ];
  for (const [db, user] of network) {
    for (const source of MESH_INBOUND_SOURCES) rows.push(['hostssl', db, user, source, 'scram-sha-256']);
  }
  const body = rows.map(([type, db, user, addr, method]) => [type.padEnd(8), db.padEnd(12), user.padEnd(18), (addr ?? '').padEnd(16), method].join(' ').replace(/\s+$/, ''));
  const reject = [
    `${'local'.padEnd(8)} ${'all'.padEnd(12)} ${'all'.padEnd(18)} ${''.padEnd(16)} reject`,
    `${'host'.padEnd(8)} ${'all'.padEnd(12)} ${'all'.padEnd(18)} ${'0.0.0.0/0'.padEnd(16)} reject`,
    `${'host'.padEnd(8)} ${'all'.padEnd(12)} ${'all'.padEnd(18)} ${'::/0'.padEnd(16)} reject`,
  ];
  return `${[
    `# pg_hba.conf of ${plan.global.platform.name} Postgres shard ${shard.id} (${plan.region.name}); generated, do not edit.`,
    '# Meshed peers reach Postgres from the Istio sidecar (127.0.0.6 / ::6, REDIRECT mode), never from',
    '# their pod IP; Istio AuthorizationPolicy decides which ServiceAccounts may connect at all.',
    '# TYPE  DATABASE     USER               ADDRESS          METHOD',
    ...body,
    '# Anything else: refused, including plaintext (no hostnossl line) and unknown users.',
    ...reject,
  ].join('\n')}\n`;
}
