/**
 * Issue 4 item 7: the rendered pgbouncer.ini (hosts, ports and paths rewritten) on a real
 * PgBouncer in front of a real primary + streaming replica (see postgres.test.ts for how those
 * run). Proves: PgBouncer accepts the file; `bookings` reaches the primary and `bookings_ro` a
 * replica; clients authenticate with SCRAM via auth_query and PgBouncer logs in to Postgres as
 * them over verified TLS; the userlist and exporter connection-string templates work.
 */
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BOOTSTRAP_PASSWORDS } from '../../charts/postgres/bootstrap';
import { CREDENTIAL_PROPERTIES, POSTGRES_USERS } from '../../charts/postgres/names';
import { exporterConnectionTemplate, pgbouncerPools, PGBOUNCER_STATS_USER, renderPgbouncerIni, userlistTemplate } from '../../charts/pgbouncer/config';
import { PGBOUNCER_AUTH_KEYS } from '../../charts/pgbouncer/shard';
import { regionPlan } from '../support/charts';
import { MESH_SOURCE, shardPairOptions } from '../support/postgres-pair';
import {
  cleanup,
  describeWithPrograms,
  freePort,
  POSTGRES_PROGRAMS,
  psql,
  psqlOk,
  readSettings,
  rewriteSettings,
  runCommand,
  startServer,
  startShardPair,
  waitFor,
  writeOwnedFile,
  type PgConn,
  type ShardPair,
} from '../support/real-servers';

const plan = regionPlan('us-east-1');
const shard = plan.region.shards[0];
const data = plan.names.data;
const u = POSTGRES_USERS;
const PASSWORDS = { superuser: 'su-pw-2', replication: 'repl-pw-2', rewind: 'rewind-pw-2' };
const BOOTSTRAP_ENV = Object.fromEntries(BOOTSTRAP_PASSWORDS.map((p) => [p.env, `${p.variable}-bouncer`]));
const secretOf = (property: string) => BOOTSTRAP_ENV[BOOTSTRAP_PASSWORDS.find((p) => p.property === property)!.env];
const STATS_PASSWORD = 'stats-pw/with:odd&chars';

/** The Go-template subset our ExternalSecret templates use: `{{ .key }}` and `{{ .key | urlquery }}`. */
function renderGoTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{\{\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*(\|\s*urlquery\s*)?\}\}/g, (_m, key: string, query?: string) => {
    if (!(key in values)) throw new Error(`template names unknown key ${key}`);
    return query ? encodeURIComponent(values[key]) : values[key];
  });
}

describeWithPrograms('PgBouncer on the rendered pgbouncer.ini (real server)', [...POSTGRES_PROGRAMS, 'pgbouncer'], (bins) => {
  let pair: ShardPair;
  let port: number;
  let ini: string;
  const client = (dbname: string, user: string = u.api, password: string = secretOf(CREDENTIAL_PROPERTIES.apiPassword)): PgConn => ({
    host: '127.0.0.1', port, user, password, dbname, sslmode: 'disable',
  });

  beforeAll(async () => {
    pair = await startShardPair('pgbouncer-real', shardPairOptions(plan, shard, bins, PASSWORDS, BOOTSTRAP_ENV));
    port = await freePort();
    const k = PGBOUNCER_AUTH_KEYS;
    const userlist = renderGoTemplate(userlistTemplate({ pgbouncerPassword: k.pgbouncerPassword, statsPassword: k.statsPassword }), {
      [k.pgbouncerPassword]: secretOf(CREDENTIAL_PROPERTIES.pgbouncerPassword),
      [k.statsPassword]: STATS_PASSWORD,
    });
    const authFile = writeOwnedFile(path.join(pair.dir, 'userlist.txt'), userlist, 0o600);
    ini = renderPgbouncerIni(plan, shard);
    const rendered = readSettings(ini);
    // Only hosts and ports: the Services become the "sidecars" in front of primary and replica.
    const target = (value: string, mesh: number) => value.replace(/host=\S+/, 'host=127.0.0.1').replace(/port=\d+/, `port=${mesh}`);
    const loaded = rewriteSettings(ini, {
      [data.readWriteDatabase]: target(rendered[data.readWriteDatabase], pair.primaryMesh.port),
      [data.readOnlyDatabase]: target(rendered[data.readOnlyDatabase], pair.replicaMesh.port),
      listen_addr: '127.0.0.1',
      listen_port: String(port),
      auth_file: authFile,
      server_tls_ca_file: pair.tls.ca,
    });
    const iniFile = writeOwnedFile(path.join(pair.dir, 'pgbouncer.ini'), loaded);
    const bouncer = startServer('pgbouncer', bins.pgbouncer, [iniFile]);
    const state = await waitFor('PgBouncer to accept logins', async () => {
      if (bouncer.child.exitCode !== null) return 'exited';
      const r = await psql(bins.psql, client(data.readWriteDatabase), 'SELECT 1');
      return r.code === 0 ? 'up' : undefined;
    });
    if (state === 'exited') throw new Error(`pgbouncer exited:\n${bouncer.output()}`);
  }, 60000);

  afterAll(cleanup, 30000);

  const admin = (): PgConn => ({ host: '127.0.0.1', port, user: PGBOUNCER_STATS_USER, password: STATS_PASSWORD, dbname: 'pgbouncer', sslmode: 'disable' });

  it('accepts the rendered ini: pooling mode and sizes as rendered from capacity.ts', async () => {
    const rows = await psqlOk(bins.psql, admin(), 'SHOW CONFIG');
    const config = Object.fromEntries(rows.split('\n').map((line) => line.split('|')).map(([key, value]) => [key, value]));
    const pools = pgbouncerPools(plan, shard);
    expect(config.pool_mode).toBe('transaction');
    expect(config.auth_type).toBe('scram-sha-256');
    expect(config.max_client_conn).toBe(String(shard.pgbouncer.maxClientConnectionsPerReplica));
    expect(config.default_pool_size).toBe(String(pools.defaultPoolSize));
    expect(config.reserve_pool_size).toBe(String(pools.reservePoolSize));
    expect(config.max_db_connections).toBe(String(pools.maxDbConnections));
    expect(config.server_tls_sslmode).toBe('verify-full');
  });

  it(`routes ${data.readWriteDatabase} to the primary: not in recovery, writes work`, async () => {
    const rw = client(data.readWriteDatabase);
    expect(await psqlOk(bins.psql, rw, 'SELECT pg_is_in_recovery()')).toBe('f');
    await psqlOk(bins.psql, rw, 'CREATE TABLE IF NOT EXISTS pooled (id int PRIMARY KEY, note text)');
    await psqlOk(bins.psql, rw, "INSERT INTO pooled VALUES (1, 'through pgbouncer') ON CONFLICT DO NOTHING");
    // PgBouncer logged in to Postgres as the client (SCRAM pass-through), over TLS, from the "sidecar".
    const seen = await psqlOk(
      bins.psql,
      pair.primary.local(u.superuser, PASSWORDS.superuser),
      `SELECT DISTINCT a.usename || '|' || s.ssl || '|' || host(a.client_addr) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.usename = '${u.api}'`,
    );
    expect(seen).toBe(`${u.api}|true|${MESH_SOURCE}`);
  });

  it(`routes ${data.readOnlyDatabase} to a replica: in recovery, reads replicated rows, refuses writes`, async () => {
    const ro = client(data.readOnlyDatabase);
    expect(await psqlOk(bins.psql, ro, 'SELECT pg_is_in_recovery()')).toBe('t');
    const note = await waitFor('the row on the replica', async () => {
      const r = await psql(bins.psql, ro, 'SELECT note FROM pooled WHERE id = 1');
      return r.code === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : undefined;
    });
    expect(note).toBe('through pgbouncer');
    const write = await psql(bins.psql, ro, "INSERT INTO pooled VALUES (2, 'no')");
    expect(write.code).not.toBe(0);
    expect(write.stderr).toMatch(/read-only transaction/);
  });

  it('refuses wrong passwords, unknown users and the superuser', async () => {
    const cases: Array<[string, PgConn]> = [
      ['wrong password', client(data.readWriteDatabase, u.api, 'wrong')],
      ['unknown user', client(data.readWriteDatabase, 'nobody_here', 'x')],
      ['superuser (auth_query never returns one)', client(data.readWriteDatabase, u.superuser, PASSWORDS.superuser)],
    ];
    for (const [what, conn] of cases) {
      const r = await psql(bins.psql, conn, 'SELECT 1');
      expect(r.code, what).not.toBe(0);
      expect(r.stderr, what).toMatch(/password authentication failed|SASL authentication failed|no such user/);
    }
  });

  it("lets the exporter in with the rendered connection string (stats user, admin console)", async () => {
    const url = renderGoTemplate(exporterConnectionTemplate(PGBOUNCER_AUTH_KEYS.statsPassword, data.pgbouncerPort), { [PGBOUNCER_AUTH_KEYS.statsPassword]: STATS_PASSWORD })
      .replace(`:${data.pgbouncerPort}/`, `:${port}/`);
    const pools = await runCommand(bins.psql, ['-X', '-A', '-t', '-d', url, '-c', 'SHOW POOLS']);
    expect(pools.stderr).toBe('');
    expect(pools.stdout).toContain(data.readWriteDatabase);
  });
});
