/**
 * Issue 4 item 7: the rendered pgbouncer.ini (hosts, ports and paths rewritten) on a real
 * PgBouncer in front of a real primary + streaming replica (see postgres.test.ts for how those
 * run). Proves: PgBouncer accepts the file; `bookings` reaches the primary and `bookings_ro` a
 * replica; clients authenticate with SCRAM via auth_query and PgBouncer logs in to Postgres as
 * them over verified TLS; the userlist and exporter connection-string templates work.
 *
 * Issue 12 item 2: auth_query refuses a client whose password expired (VALID UNTIL) even when its
 * server connection is still pooled (the previous query, run as a control, lets it in), and named
 * prepared statements survive transaction pooling (max_prepared_statements). The machine's
 * PgBouncer may predate settings the rendered file uses; those, and only those, are listed in
 * SETTINGS_SINCE with the release that added them, stripped when the installed PgBouncer is
 * older, and every other rendered setting must still load. A test that needs a stripped setting
 * is skipped with the reason in its title (Debian bookworm ships PgBouncer 1.18.0, older than
 * max_prepared_statements, so the prepared-statement proof does not run there).
 */
import { execFileSync, spawn } from 'node:child_process';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOTSTRAP_PASSWORDS } from '../../charts/postgres/bootstrap';
import { CREDENTIAL_PROPERTIES, POSTGRES_USERS } from '../../charts/postgres/names';
import { exporterConnectionTemplate, pgbouncerPools, PGBOUNCER_AUTH_QUERY, PGBOUNCER_MAX_PREPARED_STATEMENTS, PGBOUNCER_STATS_USER, renderPgbouncerIni, userlistTemplate } from '../../charts/pgbouncer/config';
import { PGBOUNCER_RUN_SCRIPT, renderPgbouncerRunScript } from '../../charts/pgbouncer/run-script';
import { PGBOUNCER_AUTH_KEYS } from '../../charts/pgbouncer/shard';
import { regionPlan } from '../support/charts';
import { MESH_SOURCE, shardPairOptions } from '../support/postgres-pair';
import {
  cleanup,
  describeWithPrograms,
  findProgram,
  freePort,
  kubeletVolume,
  POSTGRES_PROGRAMS,
  psql,
  psqlOk,
  readSettings,
  rewriteSettings,
  runCommand,
  startServer,
  startShardPair,
  updateKubeletVolume,
  waitFor,
  writeOwnedFile,
  type PgConn,
  type Server,
  type ShardPair,
} from '../support/real-servers';

const plan = regionPlan('us-east-1');
const shard = plan.region.shards[0];
const data = plan.names.data;
const u = POSTGRES_USERS;
const PASSWORDS = { superuser: 'su-pw-2', replication: 'repl-pw-2', rewind: 'rewind-pw-2' };
const BOOTSTRAP_ENV = Object.fromEntries(BOOTSTRAP_PASSWORDS.map((p) => [p.env, `${p.variable}-bouncer`]));
const secretOf = (property: string) => BOOTSTRAP_ENV[BOOTSTRAP_PASSWORDS.find((p) => p.property === property)!.env];
/** Characters a generated password may hold that the auth_file (`"`) and a URL (space, `+`, `/`, `:`, `&`, `%`) treat specially. */
const STATS_PASSWORD = 'stats pw/"quoted":odd&chars+plus%';

/**
 * Rendered pgbouncer.ini settings newer than some PgBouncer a test machine may have, with the
 * release that added them. Written down by hand on purpose: a setting missing here that the
 * installed PgBouncer does not know makes it refuse the file, and the test fails.
 */
const SETTINGS_SINCE: Readonly<Record<string, string>> = {
  max_prepared_statements: '1.21.0',
};

const versionNumber = (v: string) => {
  const [major, minor, patch] = v.split('.').map(Number);
  return major * 10000 + minor * 100 + (patch ?? 0);
};

/** `pgbouncer --version` → "1.18.0". */
function installedPgbouncerVersion(bin: string): string {
  const out = execFileSync(bin, ['--version'], { encoding: 'utf8' });
  const match = /PgBouncer (\d+\.\d+\.\d+)/.exec(out);
  if (!match) throw new Error(`cannot read the PgBouncer version from: ${out}`);
  return match[1];
}

/** Drops `key = value` lines of the given settings from an ini. */
function withoutSettings(ini: string, keys: readonly string[]): string {
  return ini
    .split('\n')
    .filter((line) => !keys.some((key) => line.startsWith(`${key} = `)))
    .join('\n');
}

/**
 * The Go-template subset our ExternalSecret templates use: `{{ .key }}` piped through Go's
 * `urlquery` (url.QueryEscape: all but A-Z a-z 0-9 - _ . ~ percent-encoded, a space as `+`) and
 * Sprig's `replace "old" "new"` (every occurrence), with Go string literals as arguments.
 */
function renderGoTemplate(template: string, values: Readonly<Record<string, string>>): string {
  const goString = String.raw`"(?:[^"\\]|\\.)*"`;
  const stage = new RegExp(String.raw`\|\s*(urlquery|replace\s+(${goString})\s+(${goString}))\s*`, 'y');
  return template.replace(new RegExp(String.raw`\{\{\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*((?:\|\s*(?:urlquery|replace\s+${goString}\s+${goString})\s*)*)\}\}`, 'g'), (_m, key: string, pipeline: string) => {
    if (!(key in values)) throw new Error(`template names unknown key ${key}`);
    let value = values[key]!;
    let at = 0;
    for (;;) {
      stage.lastIndex = at;
      const m = stage.exec(pipeline);
      if (!m) break;
      at = stage.lastIndex;
      if (m[1] === 'urlquery') {
        value = encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%20/g, '+');
      } else {
        value = value.split(JSON.parse(m[2]!) as string).join(JSON.parse(m[3]!) as string);
      }
    }
    if (at !== pipeline.length) throw new Error(`template pipeline not understood: ${pipeline}`);
    return value;
  });
}

/** The auth_query shipped before issue 12: the same function, no VALID UNTIL check (the control). */
const AUTH_QUERY_WITHOUT_EXPIRY = 'SELECT usename, passwd FROM pgbouncer.get_auth($1)';

describeWithPrograms('PgBouncer on the rendered pgbouncer.ini (real server)', [...POSTGRES_PROGRAMS, 'pgbouncer'], (bins) => {
  // describe.skip still collects the body, without programs.
  const installed = bins.pgbouncer ? installedPgbouncerVersion(bins.pgbouncer) : '0.0.0';
  const tooNew = Object.keys(SETTINGS_SINCE).filter((key) => versionNumber(SETTINGS_SINCE[key]) > versionNumber(installed));
  const hasPreparedStatements = !tooNew.includes('max_prepared_statements');
  let pair: ShardPair;
  let port: number;
  let controlPort: number;
  let ini: string;
  let userlistFile: string;
  const client = (dbname: string, user: string = u.api, password: string = secretOf(CREDENTIAL_PROPERTIES.apiPassword), at: number = port): PgConn => ({
    host: '127.0.0.1', port: at, user, password, dbname, sslmode: 'disable',
  });

  /** The rendered ini with hosts, ports and paths rewritten, minus settings this PgBouncer predates. */
  async function startBouncer(name: string, overrides: Readonly<Record<string, string>> = {}): Promise<number> {
    return (await startBouncerProcess(name, overrides)).port;
  }

  /**
   * PgBouncer on the rewritten rendered ini, run plainly or, with `supervised`, the way the pod
   * runs it: under the rendered run-pgbouncer.sh watching `authDir` (every `intervalSeconds`).
   */
  async function startBouncerProcess(
    name: string,
    overrides: Readonly<Record<string, string>> = {},
    supervised?: { readonly authDir: string; readonly intervalSeconds: number },
  ): Promise<{ port: number; server: Server }> {
    const at = await freePort();
    const rendered = readSettings(ini);
    // Only hosts and ports: the Services become the "sidecars" in front of primary and replica.
    const target = (value: string, mesh: number) => value.replace(/host=\S+/, 'host=127.0.0.1').replace(/port=\d+/, `port=${mesh}`);
    const loaded = rewriteSettings(withoutSettings(ini, tooNew), {
      [data.readWriteDatabase]: target(rendered[data.readWriteDatabase], pair.primaryMesh.port),
      [data.readOnlyDatabase]: target(rendered[data.readOnlyDatabase], pair.replicaMesh.port),
      listen_addr: '127.0.0.1',
      listen_port: String(at),
      auth_file: userlistFile,
      server_tls_ca_file: pair.tls.ca,
      ...overrides,
    });
    const iniFile = writeOwnedFile(path.join(pair.dir, `${name}.ini`), loaded);
    const bouncer = supervised
      ? startServer(name, 'sh', [writeOwnedFile(path.join(pair.dir, `${name}-${PGBOUNCER_RUN_SCRIPT}`), renderPgbouncerRunScript()), bins.pgbouncer, iniFile, supervised.authDir, String(supervised.intervalSeconds)])
      : startServer(name, bins.pgbouncer, [iniFile]);
    const state = await waitFor(`${name} to accept logins`, async () => {
      if (bouncer.child.exitCode !== null) return 'exited';
      const r = await psql(bins.psql, client(data.readWriteDatabase, u.api, secretOf(CREDENTIAL_PROPERTIES.apiPassword), at), 'SELECT 1');
      return r.code === 0 ? 'up' : undefined;
    });
    if (state === 'exited') throw new Error(`${name} exited:\n${bouncer.output()}`);
    return { port: at, server: bouncer };
  }

  beforeAll(async () => {
    pair = await startShardPair('pgbouncer-real', shardPairOptions(plan, shard, bins, PASSWORDS, BOOTSTRAP_ENV));
    const k = PGBOUNCER_AUTH_KEYS;
    const userlist = renderGoTemplate(userlistTemplate({ pgbouncerPassword: k.pgbouncerPassword, statsPassword: k.statsPassword }), {
      [k.pgbouncerPassword]: secretOf(CREDENTIAL_PROPERTIES.pgbouncerPassword),
      [k.statsPassword]: STATS_PASSWORD,
    });
    userlistFile = writeOwnedFile(path.join(pair.dir, 'userlist.txt'), userlist, 0o600);
    ini = renderPgbouncerIni(plan, shard);
    port = await startBouncer('pgbouncer');
    controlPort = await startBouncer('pgbouncer-control', { auth_query: AUTH_QUERY_WITHOUT_EXPIRY });
  }, 60000);

  afterAll(cleanup, 30000);

  const admin = (): PgConn => ({ host: '127.0.0.1', port, user: PGBOUNCER_STATS_USER, password: STATS_PASSWORD, dbname: 'pgbouncer', sslmode: 'disable' });

  /** userlist.txt with `statsPassword` for the stats user (the auth_user's password as bootstrapped). */
  const userlistWith = (statsPassword: string) => renderGoTemplate(userlistTemplate({ pgbouncerPassword: PGBOUNCER_AUTH_KEYS.pgbouncerPassword, statsPassword: PGBOUNCER_AUTH_KEYS.statsPassword }), {
    [PGBOUNCER_AUTH_KEYS.pgbouncerPassword]: secretOf(CREDENTIAL_PROPERTIES.pgbouncerPassword),
    [PGBOUNCER_AUTH_KEYS.statsPassword]: statsPassword,
  });
  /** Whether the stats user gets into the admin console of the PgBouncer at `at` with `password`. */
  const statsLogin = async (at: number, password: string) =>
    (await psql(bins.psql, { host: '127.0.0.1', port: at, user: PGBOUNCER_STATS_USER, password, dbname: 'pgbouncer', sslmode: 'disable' }, 'SHOW VERSION')).code === 0;

  // A rotated auth_user or stats password reaches the pods as a new userlist.txt in the Secret
  // volume; PgBouncer >= 1.17 reads its auth_file only at start and on a reload (SIGHUP/RELOAD).
  describe('a rotated userlist.txt (Secret volume, swapped as the kubelet does)', () => {
    const NEW_STATS_PASSWORD = 'rotated-stats-pw';

    it('is never read by a plain PgBouncer (the premise: no automatic auth_file reload)', async () => {
      const authDir = kubeletVolume(path.join(pair.dir, 'auth-plain'), { 'userlist.txt': userlistWith(STATS_PASSWORD) });
      const { port: at } = await startBouncerProcess('pgbouncer-plain-auth', { auth_file: path.join(authDir, 'userlist.txt') });
      expect(await statsLogin(at, STATS_PASSWORD)).toBe(true);
      updateKubeletVolume(authDir, { 'userlist.txt': userlistWith(NEW_STATS_PASSWORD) });
      // Longer than the supervised case below needs.
      await new Promise((r) => setTimeout(r, 4000));
      expect([await statsLogin(at, NEW_STATS_PASSWORD), await statsLogin(at, STATS_PASSWORD)]).toEqual([false, true]);
    }, 30000);

    it('is reloaded by the rendered run-pgbouncer.sh within its interval, and the old password stops working', async () => {
      const authDir = kubeletVolume(path.join(pair.dir, 'auth-supervised'), { 'userlist.txt': userlistWith(STATS_PASSWORD) });
      const { port: at, server } = await startBouncerProcess('pgbouncer-supervised', { auth_file: path.join(authDir, 'userlist.txt') }, { authDir, intervalSeconds: 1 });
      expect(await statsLogin(at, STATS_PASSWORD)).toBe(true);
      updateKubeletVolume(authDir, { 'userlist.txt': userlistWith(NEW_STATS_PASSWORD) });
      await waitFor('the supervised PgBouncer to accept the rotated stats password', async () => ((await statsLogin(at, NEW_STATS_PASSWORD)) ? true : undefined), 10000, 250);
      expect(await statsLogin(at, STATS_PASSWORD)).toBe(false);
      expect(server.output()).toContain(`${PGBOUNCER_RUN_SCRIPT}: ${authDir} changed: reloading PgBouncer (SIGHUP)`);
      // Clients keep working through the reload (the API's login goes through auth_query).
      expect(await psqlOk(bins.psql, client(data.readWriteDatabase, u.api, secretOf(CREDENTIAL_PROPERTIES.apiPassword), at), 'SELECT 1')).toBe('1');
    }, 30000);

    it('stops PgBouncer on the container\'s SIGTERM with its safe shutdown (SIGINT) and exits with its status', async () => {
      const authDir = kubeletVolume(path.join(pair.dir, 'auth-stop'), { 'userlist.txt': userlistWith(STATS_PASSWORD) });
      const { port: at, server } = await startBouncerProcess('pgbouncer-stop', { auth_file: path.join(authDir, 'userlist.txt') }, { authDir, intervalSeconds: 1 });
      // SIGTERM to the shell only (the kubelet signals the container's first process).
      process.kill(server.child.pid!, 'SIGTERM');
      const code = await Promise.race([server.exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 10000))]);
      // Not PgBouncer's own SIGTERM (before 1.23 an immediate exit(1), since a shutdown that
      // waits for every client to leave): its safe shutdown, in every version, then exit 0.
      expect(server.output()).toMatch(/got SIGINT/);
      expect(server.output()).not.toMatch(/got SIGTERM/);
      expect(code, server.output()).toBe(0);
      expect(await statsLogin(at, STATS_PASSWORD)).toBe(false);
    }, 30000);

    it('passes SIGINT on too, and its status is PgBouncer\'s (a safe shutdown with no clients: 0)', async () => {
      const authDir = kubeletVolume(path.join(pair.dir, 'auth-interrupt'), { 'userlist.txt': userlistWith(STATS_PASSWORD) });
      const { server } = await startBouncerProcess('pgbouncer-interrupt', { auth_file: path.join(authDir, 'userlist.txt') }, { authDir, intervalSeconds: 1 });
      process.kill(server.child.pid!, 'SIGINT');
      const code = await Promise.race([server.exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 10000))]);
      expect(server.output()).toMatch(/got SIGINT/);
      expect(code, server.output()).toBe(0);
    }, 30000);

    // The point of the safe shutdown: a transaction in flight when the pod is told to stop
    // commits, and then PgBouncer goes (releasing its server connections) without waiting for
    // the client to disconnect, which a pooled API connection never does.
    it('lets a transaction in flight at SIGTERM commit, then exits without waiting for the client to leave', async () => {
      const authDir = kubeletVolume(path.join(pair.dir, 'auth-in-flight'), { 'userlist.txt': userlistWith(STATS_PASSWORD) });
      const { port: at, server } = await startBouncerProcess('pgbouncer-in-flight', { auth_file: path.join(authDir, 'userlist.txt') }, { authDir, intervalSeconds: 1 });
      const rw = client(data.readWriteDatabase, u.api, secretOf(CREDENTIAL_PROPERTIES.apiPassword), at);
      await psqlOk(bins.psql, client(data.readWriteDatabase), 'CREATE TABLE IF NOT EXISTS in_flight (id int PRIMARY KEY)');
      // An interactive session: BEGIN and a write now, COMMIT after the stop signal.
      const session = spawn(bins.psql, ['-X', '-v', 'ON_ERROR_STOP=1', '-h', rw.host, '-p', String(rw.port), '-U', rw.user, '-d', rw.dbname], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PGPASSWORD: rw.password, PGSSLMODE: 'disable' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let out = '';
      session.stdout.on('data', (c: Buffer) => (out += c.toString()));
      session.stderr.on('data', (c: Buffer) => (out += c.toString()));
      const sessionExit = new Promise<number | null>((r) => session.on('exit', r));
      session.stdin.write('BEGIN;\nINSERT INTO in_flight VALUES (1);\n');
      await waitFor('the session\'s INSERT', async () => (out.includes('INSERT 0 1') ? true : undefined), 10000, 100);
      process.kill(server.child.pid!, 'SIGTERM');
      await new Promise((r) => setTimeout(r, 1500));
      // Still running: the transaction holds its server connection.
      expect(server.child.exitCode, server.output()).toBeNull();
      session.stdin.write('COMMIT;\n');
      const code = await Promise.race([server.exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 10000))]);
      // The client never disconnected; PgBouncer went anyway once the transaction was over.
      expect(code, server.output()).toBe(0);
      expect(out).toContain('COMMIT');
      session.stdin.end();
      await sessionExit;
      expect(await psqlOk(bins.psql, client(data.readWriteDatabase), 'SELECT count(*) FROM in_flight WHERE id = 1')).toBe('1');
    }, 30000);
  });

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
    expect(config.auth_query).toBe(PGBOUNCER_AUTH_QUERY);
    // Every rendered setting loaded, except the ones written down as newer than this PgBouncer.
    const renderedKeys = Object.keys(readSettings(ini)).filter((key) => !key.startsWith(data.readWriteDatabase) && key !== data.readOnlyDatabase);
    expect(renderedKeys.filter((key) => !(key in config) && !tooNew.includes(key))).toEqual([]);
    if (hasPreparedStatements) expect(config.max_prepared_statements).toBe(String(PGBOUNCER_MAX_PREPARED_STATEMENTS));
    else expect(tooNew).toEqual(['max_prepared_statements']);
  });

  it(`reports the installed PgBouncer (${installed}) and what it predates: ${tooNew.length === 0 ? 'nothing' : tooNew.join(', ')}`, () => {
    // The list only ever strips settings the chart renders.
    for (const key of Object.keys(SETTINGS_SINCE)) expect(readSettings(ini), key).toHaveProperty(key);
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

  // CVE-2025-2291: Postgres checks VALID UNTIL only when a new server connection logs in; a client
  // that PgBouncer lets in on a pooled one is never checked. auth_query must refuse it first.
  it('refuses a client whose password expired (VALID UNTIL), even with its server connection pooled, through the rendered auth_query and through the auth function alone', async () => {
    const su = pair.primary.local(u.superuser, PASSWORDS.superuser);
    const rw = (at: number) => client(data.readWriteDatabase, u.api, secretOf(CREDENTIAL_PROPERTIES.apiPassword), at);
    // Server connections PgBouncer holds for the client's pool (SHOW SERVERS: type|user|database|...).
    const pooled = async (at: number) =>
      (await psqlOk(bins.psql, { ...admin(), port: at }, 'SHOW SERVERS')).split('\n').map((l) => l.split('|')).filter((c) => c[1] === u.api && c[2] === data.readWriteDatabase).length;
    try {
      await psqlOk(bins.psql, su, `ALTER ROLE ${u.api} VALID UNTIL '2999-01-01 00:00:00+00'`);
      for (const at of [port, controlPort]) expect(await psqlOk(bins.psql, rw(at), 'SELECT 1'), `valid password via port ${at}`).toBe('1');
      await psqlOk(bins.psql, su, `ALTER ROLE ${u.api} VALID UNTIL '2000-01-01 00:00:00+00'`);
      // Both PgBouncers still hold the server connection the valid login opened.
      for (const at of [port, controlPort]) expect(await pooled(at), `pooled server connections on ${at}`).toBeGreaterThan(0);
      const refused = await psql(bins.psql, rw(port), 'SELECT 1');
      expect(refused.code).not.toBe(0);
      // auth_query returns no row: PgBouncer answers as for an unknown user.
      expect(refused.stderr).toMatch(/no such user|password authentication failed|SASL authentication failed/);
      // The control runs the pre-issue-12 auth_query (no VALID UNTIL check of its own) against the
      // rendered pgbouncer.get_auth, which now checks valuntil itself: refused too (defence in depth).
      const control = await psql(bins.psql, rw(controlPort), 'SELECT current_user');
      expect(control.code).not.toBe(0);
      expect(control.stderr).toMatch(/no such user|password authentication failed|SASL authentication failed/);
    } finally {
      await psqlOk(bins.psql, su, `ALTER ROLE ${u.api} VALID UNTIL 'infinity'`);
    }
    // Valid again ('infinity'), and never set (NULL) is what every other test here logs in with.
    expect(await psqlOk(bins.psql, rw(port), 'SELECT 1')).toBe('1');
  });

  // Named (protocol-level) prepared statements in transaction mode: pgbench -M prepared prepares
  // each statement once per client connection and then only executes it; with fewer server
  // connections than clients every transaction may land on a connection that never saw the
  // statement. Only max_prepared_statements (PgBouncer >= 1.21) makes that work.
  const preparedTitle = 'keeps named prepared statements across pooled server connections in transaction mode (max_prepared_statements)';
  it.skipIf(!hasPreparedStatements)(
    hasPreparedStatements ? preparedTitle : `${preparedTitle} [skipped: PgBouncer ${installed} predates max_prepared_statements (1.21); blocked on this machine]`,
    async () => {
      const pgbench = findProgram('pgbench');
      if (!pgbench) throw new Error('pgbench (postgresql-client) is needed for the prepared-statement proof');
      await psqlOk(bins.psql, client(data.readWriteDatabase), 'CREATE TABLE IF NOT EXISTS prepared_probe (id int PRIMARY KEY, n int NOT NULL DEFAULT 0)');
      await psqlOk(bins.psql, client(data.readWriteDatabase), 'INSERT INTO prepared_probe VALUES (1) ON CONFLICT DO NOTHING');
      // Two server connections for eight clients: the statements must cross connections.
      const narrow = await startBouncer('pgbouncer-narrow', { default_pool_size: '2', max_db_connections: '2' });
      const script = writeOwnedFile(path.join(pair.dir, 'prepared.sql'), 'BEGIN;\nUPDATE prepared_probe SET n = n + 1 WHERE id = 1;\nSELECT n FROM prepared_probe WHERE id = 1;\nCOMMIT;\n');
      const run = await runCommand(pgbench, ['-n', '-M', 'prepared', '-c', '8', '-j', '2', '-t', '50', '-f', script, '-h', '127.0.0.1', '-p', String(narrow), '-U', u.api, data.readWriteDatabase], {
        env: { PGPASSWORD: secretOf(CREDENTIAL_PROPERTIES.apiPassword), PGSSLMODE: 'disable' },
        timeoutMs: 60000,
      });
      expect(run.stderr).not.toMatch(/prepared statement .* (does not exist|already exists)/);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/number of failed transactions: 0/);
      expect(await psqlOk(bins.psql, client(data.readWriteDatabase), 'SELECT n FROM prepared_probe WHERE id = 1')).toBe('400');
    },
    90000,
  );
});
