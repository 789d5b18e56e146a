/**
 * pgbouncer.ini of a shard, rendered as plain text from the plan (mounted from a ConfigMap and
 * fed to a real PgBouncer by test/real-servers). Pool sizes come from regions/capacity.ts.
 *
 * Two databases: `bookings` → the read-write Service (Patroni's primary), `bookings_ro` → the
 * read-only Service (the streaming replicas). Clients authenticate with SCRAM; PgBouncer looks
 * their secret up with auth_query as `pgbouncer` (whose own password is in userlist.txt, from
 * the secret store) and logs in to Postgres as the client with the same SCRAM keys.
 */
import type { ShardConfig } from '../../regions/model';
import { shardPools } from '../../regions/capacity';
import type { RegionPlan } from '../../regions/plan';
import { PGBOUNCER_AUTH_FUNCTION } from '../postgres/bootstrap';
import { BOOKINGS_DATABASE, POSTGRES_PORTS, POSTGRES_USERS, postgresNames } from '../postgres/names';

export const PGBOUNCER_PATHS = {
  configDir: '/etc/pgbouncer/conf',
  /** userlist.txt (auth_user and the stats user), from the secret store. */
  authDir: '/etc/pgbouncer/auth',
  /** CA that signed the Postgres server certificates. */
  caDir: '/etc/pgbouncer/ca',
} as const;

export const PGBOUNCER_EXPORTER_PORT = { name: 'http-metrics', port: 9127 } as const;

/** The admin-console user pgbouncer_exporter logs in as (SHOW commands only). */
export const PGBOUNCER_STATS_USER = 'pgbouncer_exporter';

/**
 * Named prepared statements PgBouncer keeps per server connection (`max_prepared_statements`,
 * PgBouncer 1.21+): with 0, a statement a client prepared in one transaction is gone when its next
 * transaction lands on another server connection. 200 is PgBouncer 1.24's own default.
 */
export const PGBOUNCER_MAX_PREPARED_STATEMENTS = 200;

/**
 * The lookup PgBouncer runs (as auth_user) for a client's SCRAM secret: the SECURITY DEFINER
 * function from charts/postgres/bootstrap.ts (login roles only, never a superuser or replication
 * role), and only while the role's password is valid (`rolvaliduntil` from pg_roles, readable by
 * everyone). Every name and operator is schema-qualified so a client-supplied search_path cannot
 * put its own in between.
 */
export const PGBOUNCER_AUTH_QUERY =
  `SELECT a.usename, a.passwd FROM ${PGBOUNCER_AUTH_FUNCTION}($1) a` +
  ' JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) a.usename' +
  ' WHERE r.rolvaliduntil IS NULL OR r.rolvaliduntil OPERATOR(pg_catalog.>) pg_catalog.now()';

export interface PgbouncerPoolOptions {
  /**
   * Connections a pool may add beyond default_pool_size when clients wait longer than
   * reserve_pool_timeout. Taken out of the per-pod server budget (default_pool_size shrinks by
   * the same amount), so the capacity invariant still holds. @default 0
   */
  readonly reservePoolSize?: number;
}

export interface PgbouncerPools {
  readonly maxClientConn: number;
  readonly defaultPoolSize: number;
  readonly reservePoolSize: number;
  /** Hard cap of server connections per database and pod: the shard's per-pod budget. */
  readonly maxDbConnections: number;
}

export function pgbouncerPools(plan: RegionPlan, shard: ShardConfig, options: PgbouncerPoolOptions = {}): PgbouncerPools {
  const pools = shardPools(plan.global, shard);
  const reserve = options.reservePoolSize ?? 0;
  if (reserve < 0 || reserve >= pools.poolSizePerReplica) {
    throw new Error(`reservePoolSize (${reserve}) must be >= 0 and < the pool size per PgBouncer pod (${pools.poolSizePerReplica})`);
  }
  return {
    maxClientConn: pools.maxClientConnectionsPerReplica,
    defaultPoolSize: pools.poolSizePerReplica - reserve,
    reservePoolSize: reserve,
    maxDbConnections: pools.poolSizePerReplica,
  };
}

export function renderPgbouncerIni(plan: RegionPlan, shard: ShardConfig, options: PgbouncerPoolOptions = {}): string {
  const names = postgresNames(plan, shard.id);
  const data = plan.names.data;
  const pools = pgbouncerPools(plan, shard, options);
  const server = (host: string) => `host=${host} port=${POSTGRES_PORTS.postgres.port} dbname=${BOOKINGS_DATABASE}`;
  const settings: Array<[string, string | number] | string> = [
    '; Clients: the booking API over the mesh (Istio mTLS on this hop; AuthorizationPolicy admits',
    '; only its ServiceAccount), so PgBouncer itself listens without TLS.',
    ['listen_addr', '0.0.0.0'],
    ['listen_port', data.pgbouncerPort],
    ['unix_socket_dir', ''],
    ['auth_type', 'scram-sha-256'],
    ['auth_file', `${PGBOUNCER_PATHS.authDir}/userlist.txt`],
    ['auth_user', POSTGRES_USERS.pgbouncer],
    '; auth_query refuses a role whose password expired (VALID UNTIL in the past; CVE-2025-2291):',
    '; Postgres checks it only when PgBouncer opens a new server connection, not when a client reuses',
    '; a pooled one. Names and operators schema-qualified, whatever search_path a client sends.',
    ['auth_query', PGBOUNCER_AUTH_QUERY],
    ['stats_users', PGBOUNCER_STATS_USER],
    '; Transaction pooling: a server connection serves one transaction, then the next client.',
    ['pool_mode', 'transaction'],
    '; Named (protocol-level) prepared statements across transactions: PgBouncer re-prepares them on',
    '; whichever server connection runs the next one (1.21+; 0 turns this off). 200 is 1.24\'s default.',
    ['max_prepared_statements', PGBOUNCER_MAX_PREPARED_STATEMENTS],
    ['max_client_conn', pools.maxClientConn],
    '; Per pod and database: the shard\'s server budget (max_connections - reserved) / the PgBouncer pods',
    '; that can run at once (replicas + maxSurge + the one stopping, during a rollout).',
    ['default_pool_size', pools.defaultPoolSize],
    ['reserve_pool_size', pools.reservePoolSize],
    ['reserve_pool_timeout', 3],
    ['max_db_connections', pools.maxDbConnections],
    ['min_pool_size', 0],
    ['server_lifetime', 3600],
    ['server_idle_timeout', 600],
    ['server_connect_timeout', 5],
    ['query_wait_timeout', 30],
    ['server_reset_query', ''],
    ['ignore_startup_parameters', 'extra_float_digits'],
    '; Server TLS: the certificate must name the rw and ro Services (verify-full).',
    ['server_tls_sslmode', 'verify-full'],
    ['server_tls_ca_file', `${PGBOUNCER_PATHS.caDir}/ca.crt`],
    ['server_tls_protocols', 'secure'],
    ['client_tls_sslmode', 'disable'],
    ['tcp_keepalive', 1],
    ['log_connections', 0],
    ['log_disconnections', 0],
    ['log_pooler_errors', 1],
    ['stats_period', 60],
  ];
  const lines = settings.map((s) => (typeof s === 'string' ? s : `${s[0]} = ${s[1]}`));
  return `${[
    `; pgbouncer.ini of ${plan.global.platform.name} Postgres shard ${shard.id} (${plan.region.name}); generated by charts/pgbouncer/config.ts, do not edit.`,
    '[databases]',
    `${data.readWriteDatabase} = ${server(names.readWriteHost)}`,
    `${data.readOnlyDatabase} = ${server(names.readOnlyHost)}`,
    '',
    '[pgbouncer]',
    ...lines,
  ].join('\n')}\n`;
}

/**
 * userlist.txt as an External Secrets template (Go template over the fetched keys): the
 * auth_user's password (PgBouncer logs in to Postgres with it to run auth_query) and the stats
 * user's (admin console; auth_query does not serve it).
 */
export function userlistTemplate(keys: { pgbouncerPassword: string; statsPassword: string }): string {
  return [
    `"${POSTGRES_USERS.pgbouncer}" "{{ .${goKey(keys.pgbouncerPassword)} ${AUTH_FILE_FIELD} }}"`,
    `"${PGBOUNCER_STATS_USER}" "{{ .${goKey(keys.statsPassword)} ${AUTH_FILE_FIELD} }}"`,
    '',
  ].join('\n');
}

/**
 * A value inside a quoted auth_file field: PgBouncer reads `""` there as one `"` (a lone one
 * would end the field, and the password with it). Sprig's `replace`, which ESO's template
 * engine v2 has.
 */
const AUTH_FILE_FIELD = '| replace "\\"" "\\"\\""';

/**
 * pgbouncer_exporter's connection string as a template: the admin console over loopback. The
 * password is percent-encoded for the user-info part: Go's `urlquery` writes a space as `+`,
 * which a URL's user info keeps as a `+` (only a query string reads it as a space), so each `+`
 * it wrote becomes `%20` (a `+` of the password itself was already `%2B`).
 */
export function exporterConnectionTemplate(statsPasswordKey: string, port: number): string {
  return `postgres://${PGBOUNCER_STATS_USER}:{{ .${goKey(statsPasswordKey)} | urlquery | replace "+" "%20" }}@127.0.0.1:${port}/pgbouncer?sslmode=disable`;
}

/** Go templates address map keys with dashes through `index`; keep keys identifier-like instead. */
function goKey(key: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new Error(`template key "${key}" must be an identifier (letters, digits, _)`);
  return key;
}
