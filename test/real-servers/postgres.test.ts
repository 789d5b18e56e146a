/**
 * Issue 4 item 7: the rendered postgresql.conf / pg_hba.conf / bootstrap SQL on a real
 * Postgres (Debian's postgresql package), only host, port and paths rewritten. WAL-G is not
 * installed here, so archive_command / restore_command become a local `cp` (same %p/%f
 * contract); Patroni is not either, so the test does what it would: initdb, its roles, the
 * rendered post_bootstrap. Meshed clients reach Postgres through an in-process forwarder that
 * connects from 127.0.0.6, as the Istio sidecar does.
 */
import { existsSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { postgresSettings } from '../../regions/capacity';
import { BOOTSTRAP_PASSWORDS } from '../../charts/postgres/bootstrap';
import { postgresParameters } from '../../charts/postgres/conf';
import { patroniConfig } from '../../charts/postgres/patroni';
import { BOOKINGS_DATABASE, POSTGRES_USERS } from '../../charts/postgres/names';
import { regionPlan } from '../support/charts';
import { MESH_SOURCE, shardPairOptions } from '../support/postgres-pair';
import {
  cleanup,
  describeWithPrograms,
  findProgram,
  POSTGRES_PROGRAMS,
  psql,
  psqlOk,
  connString,
  runCommand,
  startShardPair,
  waitFor,
  type PgConn,
  type ShardPair,
} from '../support/real-servers';

const plan = regionPlan('us-east-1');
const shard = plan.region.shards[0];
const u = POSTGRES_USERS;
const PASSWORDS = { superuser: 'su-pw-1', replication: 'repl-pw-1', rewind: 'rewind-pw-1' };
const BOOTSTRAP_ENV = Object.fromEntries(BOOTSTRAP_PASSWORDS.map((p) => [p.env, `${p.variable}-secret`]));
const passwordOf = (variable: string) => BOOTSTRAP_ENV[BOOTSTRAP_PASSWORDS.find((p) => p.variable === variable)!.env];
/** Settings the test rewrote (host, port, paths, WAL-G → cp); every other one must load as rendered. */
const REWRITTEN = new Set(['listen_addresses', 'port', 'unix_socket_directories', 'hba_file', 'ssl_cert_file', 'ssl_key_file', 'ssl_ca_file', 'archive_command', 'restore_command']);

describeWithPrograms('Postgres on the rendered configuration (real server)', POSTGRES_PROGRAMS, (bins) => {
  let pair: ShardPair;
  /** Started at the end of setup so its wait (up to archive_timeout) overlaps the other tests. */
  let archiveProbe: Promise<{ segment: string; elapsed: number }>;
  let mesh: (node: 'primary' | 'replica', user: string, password: string, dbname?: string, sslmode?: string) => PgConn;

  beforeAll(async () => {
    pair = await startShardPair('pg-real', shardPairOptions(plan, shard, bins, PASSWORDS, BOOTSTRAP_ENV));
    mesh = (node, user, password, dbname = BOOKINGS_DATABASE, sslmode = 'verify-full') => ({
      host: '127.0.0.1',
      port: node === 'primary' ? pair.primaryMesh.port : pair.replicaMesh.port,
      user,
      password,
      dbname,
      sslmode,
      sslrootcert: pair.tls.ca,
    });
    archiveProbe = measureArchiving(pair, mesh('primary', u.api, passwordOf('api_password')));
    archiveProbe.catch(() => undefined); // reported by its test, not as an unhandled rejection
  }, 60000);

  afterAll(cleanup, 30000);

  const su = () => pair.primary.local(u.superuser, PASSWORDS.superuser);

  it('accepts the rendered postgresql.conf: every setting loads with the rendered value', async () => {
    const rendered = postgresParameters(plan, shard);
    const rows = await psqlOk(bins.psql, su(), "SELECT name || '|' || setting || '|' || coalesce(unit, '') || '|' || vartype FROM pg_settings");
    const actual = new Map(rows.split('\n').map((line) => {
      const [name, setting, unit, vartype] = line.split('|');
      return [name, { setting, unit, vartype }] as const;
    }));
    const mismatches: string[] = [];
    for (const [name, value] of Object.entries(rendered)) {
      if (REWRITTEN.has(name)) continue;
      const got = actual.get(name);
      if (!got) {
        mismatches.push(`${name}: unknown to Postgres`);
        continue;
      }
      if (normalise(String(value), got.unit, got.vartype) !== normalise(got.setting, got.unit, got.vartype, true)) {
        mismatches.push(`${name}: rendered ${String(value)}, server has ${got.setting}${got.unit}`);
      }
    }
    expect(mismatches).toEqual([]);
    // The numbers come from capacity.ts, not from anywhere else.
    const settings = postgresSettings(plan.global);
    expect(await psqlOk(bins.psql, su(), 'SHOW max_connections')).toBe(String(settings.maxConnections));
    expect(await psqlOk(bins.psql, su(), 'SHOW shared_buffers')).toBe(`${settings.sharedBuffersMb / 1024}GB`);
    expect(await psqlOk(bins.psql, su(), 'SHOW ssl')).toBe('on');
    expect(await psqlOk(bins.psql, su(), 'SHOW archive_mode')).toBe('always');
    expect(await psqlOk(bins.psql, su(), 'SHOW archive_timeout')).toBe(`${plan.global.postgres.archiveTimeoutSeconds}s`);
    // Nothing in the file was ignored or refused.
    expect(await psqlOk(bins.psql, su(), "SELECT count(*) FROM pg_file_settings WHERE error IS NOT NULL OR NOT applied")).toBe('0');
  });

  it('streams to a replica cloned with pg_basebackup: a write on the primary is read on the replica', async () => {
    const api = mesh('primary', u.api, passwordOf('api_password'));
    await psqlOk(bins.psql, api, 'CREATE TABLE IF NOT EXISTS bookings_probe (id int PRIMARY KEY, note text)');
    await psqlOk(bins.psql, api, "INSERT INTO bookings_probe VALUES (1, 'streamed') ON CONFLICT DO NOTHING");
    const onReplica = mesh('replica', u.api, passwordOf('api_password'));
    const note = await waitFor('the row on the replica', async () => {
      const r = await psql(bins.psql, onReplica, 'SELECT note FROM bookings_probe WHERE id = 1');
      return r.code === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : undefined;
    });
    expect(note).toBe('streamed');
    expect(await psqlOk(bins.psql, onReplica, 'SELECT pg_is_in_recovery()')).toBe('t');
    const replication = await psqlOk(bins.psql, su(), 'SELECT state || \'|\' || usename || \'|\' || host(client_addr) FROM pg_stat_replication');
    // Streaming, as the replication user, from the sidecar address (as under Istio).
    expect(replication.split('\n')).toContain(`streaming|${u.replication}|${MESH_SOURCE}`);
    const write = await psql(bins.psql, onReplica, "INSERT INTO bookings_probe VALUES (2, 'no')");
    expect(write.code).not.toBe(0);
    expect(write.stderr).toMatch(/read-only transaction/);
  });

  it('pg_hba.conf admits only the rendered users, over TLS, from the mesh address', async () => {
    const apiPassword = passwordOf('api_password');
    // Allowed: the API's role over TLS through the "sidecar"; PgBouncer's auth_user likewise.
    expect((await psql(bins.psql, mesh('primary', u.api, apiPassword), 'SELECT 1')).code).toBe(0);
    expect((await psql(bins.psql, mesh('primary', u.pgbouncer, passwordOf('pgbouncer_password')), 'SELECT 1')).code).toBe(0);
    // The exporter over the pod-local socket.
    expect((await psql(bins.psql, pair.primary.local(u.exporter, passwordOf('exporter_password')), 'SELECT 1')).code).toBe(0);

    const sidecar = MESH_SOURCE;
    const refusedBy = (host: string, user: string, db: string, tls: boolean) =>
      new RegExp(`pg_hba\\.conf rejects connection for host "${host.replace(/\./g, '\\.')}", user "${user}", database "${db}", ${tls ? 'SSL encryption' : 'no encryption'}`);
    const refused: Array<[string, PgConn, RegExp]> = [
      ['a client not coming through the mesh (127.0.0.1)', { ...mesh('primary', u.api, apiPassword), port: pair.primary.port }, refusedBy('127.0.0.1', u.api, BOOKINGS_DATABASE, true)],
      ['plaintext from the mesh', mesh('primary', u.api, apiPassword, BOOKINGS_DATABASE, 'disable'), refusedBy(sidecar, u.api, BOOKINGS_DATABASE, false)],
      ['the superuser over the network', mesh('primary', u.superuser, PASSWORDS.superuser), refusedBy(sidecar, u.superuser, BOOKINGS_DATABASE, true)],
      ['the API to another database', mesh('primary', u.api, apiPassword, 'postgres'), refusedBy(sidecar, u.api, 'postgres', true)],
      ['the API over the local socket', pair.primary.local(u.api, apiPassword, BOOKINGS_DATABASE), /pg_hba\.conf rejects connection for host "\[local\]", user "bookings_api"/],
      ['a wrong password', mesh('primary', u.api, 'not-the-password'), /password authentication failed for user "bookings_api"/],
    ];
    await psqlOk(bins.psql, su(), "DO $$ BEGIN CREATE ROLE intruder LOGIN PASSWORD 'intruder'; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
    refused.push(['a role pg_hba.conf does not name', mesh('primary', 'intruder', 'intruder'), refusedBy(sidecar, 'intruder', BOOKINGS_DATABASE, true)]);
    const results = await Promise.all(refused.map(([, conn]) => psql(bins.psql, conn, 'SELECT 1')));
    refused.forEach(([what, , message], i) => {
      expect(results[i].code, what).not.toBe(0);
      expect(results[i].stderr, what).toMatch(message);
    });
  });

  it("admits Patroni's own replication connection to its member over the socket (the timeline pg_rewind decisions read), not over localhost", async () => {
    // What Patroni opens with use_unix_socket_repl (patroni/postgresql/__init__.py get_replica_timeline).
    const identify = (conn: PgConn) => runCommand(bins.psql, ['-X', '-A', '-t', '-q', '-d', `${connString(conn)} replication='true'`, '-c', 'IDENTIFY_SYSTEM']);
    // With Patroni's own replication settings (sslmode verify-ca: libpq uses no TLS on a socket).
    const replication = (patroniConfig(plan, shard) as any).postgresql.authentication.replication;
    expect(replication.username).toBe(u.replication);
    const socket = await identify({ ...pair.replica.local(u.replication, PASSWORDS.replication, 'postgres'), sslmode: replication.sslmode, sslrootcert: pair.tls.ca });
    expect(socket.code, socket.stderr).toBe(0);
    expect(socket.stdout.split('|')[1]).toMatch(/^\d+$/); // the timeline
    // Without the socket Patroni would use TCP to localhost, which only the sidecar's address may reach.
    const tcp = await identify({ ...mesh('replica', u.replication, PASSWORDS.replication, 'postgres'), host: '127.0.0.1', port: pair.replica.port });
    expect(tcp.code).not.toBe(0);
    expect(tcp.stderr).toMatch(/no pg_hba\.conf entry for replication connection from host "127\.0\.0\.1", user "standby"/);
    expect((patroniConfig(plan, shard) as any).postgresql.use_unix_socket_repl).toBe(true);
  });

  it('runs the bootstrap the way PgBouncer relies on: auth_query finds the API role, never a superuser', async () => {
    const auth = mesh('primary', u.pgbouncer, passwordOf('pgbouncer_password'));
    expect(await psqlOk(bins.psql, auth, `SELECT usename FROM pgbouncer.get_auth('${u.api}')`)).toBe(u.api);
    expect(await psqlOk(bins.psql, auth, `SELECT passwd FROM pgbouncer.get_auth('${u.api}')`)).toMatch(/^SCRAM-SHA-256\$/);
    expect(await psqlOk(bins.psql, auth, `SELECT count(*) FROM pgbouncer.get_auth('${u.superuser}')`)).toBe('0');
    expect(await psqlOk(bins.psql, auth, `SELECT count(*) FROM pgbouncer.get_auth('${u.replication}')`)).toBe('0');
  });
  it('archived WAL within archive_timeout after a write, without any forced switch', async () => {
    const { segment, elapsed } = await archiveProbe;
    const timeout = plan.global.postgres.archiveTimeoutSeconds;
    expect(existsSync(`${pair.archiveDir}/${segment}`)).toBe(true);
    // archive_timeout plus the archiver's own poll: well inside the RPO.
    expect(elapsed).toBeLessThanOrEqual(timeout + 5);
    expect(timeout).toBeLessThanOrEqual(plan.global.postgres.rpoSeconds);
  }, 60000);
});

/**
 * Writes one row, then waits for a WAL segment to appear in the archive without forcing a
 * switch: only archive_timeout can ship a segment this small.
 */
async function measureArchiving(pair: ShardPair, api: PgConn): Promise<{ segment: string; elapsed: number }> {
  const bin = findProgram('psql')!;
  await psqlOk(bin, api, 'CREATE TABLE IF NOT EXISTS archive_probe (at timestamptz)');
  const before = new Set(readdirSync(pair.archiveDir));
  const start = Date.now();
  await psqlOk(bin, api, 'INSERT INTO archive_probe VALUES (now())');
  const timeout = plan.global.postgres.archiveTimeoutSeconds;
  const segment = await waitFor('a new archived WAL segment', async () => {
    const fresh = readdirSync(pair.archiveDir).filter((f) => !before.has(f) && /^[0-9A-F]{24}$/.test(f));
    return fresh.length > 0 ? fresh[0] : undefined;
  }, (timeout + 15) * 1000, 250);
  return { segment, elapsed: (Date.now() - start) / 1000 };
}

/** A setting in comparable form: memory in bytes, time in ms, booleans and strings as text. */
function normalise(value: string, unit: string, vartype: string, fromServer = false): string {
  const v = value.replace(/^'(.*)'$/, '$1');
  if (vartype === 'bool') return ['on', 'true', 'yes', '1'].includes(v.toLowerCase()) ? 'on' : 'off';
  if (vartype !== 'integer' && vartype !== 'real') return v;
  const factors: Record<string, number> = { B: 1, kB: 1024, '8kB': 8192, MB: 1024 ** 2, '16MB': 16 * 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4, ms: 1, s: 1000, min: 60000, h: 3600000, d: 86400000 };
  if (fromServer) return String(Number(v) * (factors[unit] ?? 1));
  const m = /^(-?[0-9.]+)\s*([A-Za-z]*)$/.exec(v);
  if (!m) return v;
  return String(Number(m[1]) * (m[2] ? factors[m[2]] : (factors[unit] ?? 1)));
}
