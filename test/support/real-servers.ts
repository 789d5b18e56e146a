/**
 * Helpers for tests that run the real server programs from Debian's packages (postgres,
 * pgbouncer, redis-server, ...) on loopback ports in a temporary folder.
 *
 * - Programs are looked up on PATH and in Debian's versioned folders (/usr/lib/postgresql/N/bin).
 *   Missing programs skip the suite with a clear message locally, and fail it under CI
 *   (`process.env.CI` set): CI installs them (.ci/run), so missing there is a bug.
 * - Servers refuse to run as root: when the tests run as root, servers (and the files they own)
 *   run as `nobody`; as a normal user they run as that user.
 * - Every process starts in its own process group and is killed with the group, also when a
 *   test fails (call `cleanup()` from afterAll; it is idempotent).
 * - Client commands run asynchronously (never spawnSync): an in-process TCP forwarder (see
 *   `startForwarder`) must keep serving while a client waits.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, chownSync, constants, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'vitest';

// ------------------------------------------------------------------ programs

const VERSIONED_BIN_DIRS = ['/usr/lib/postgresql'];

/** Absolute path of a program, or undefined. Debian's versioned dirs are searched newest first. */
export function findProgram(name: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const root of VERSIONED_BIN_DIRS) {
    try {
      const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
      dirs.push(...versions.map((v) => path.join(root, v, 'bin')));
    } catch {
      // not installed
    }
  }
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return undefined;
}

/**
 * `describe` that runs only when every program exists. Otherwise: skipped with the reason
 * locally; under CI a single failing test names what is missing.
 */
export function describeWithPrograms(title: string, programs: readonly string[], body: (bins: Record<string, string>) => void): void {
  const found = Object.fromEntries(programs.map((p) => [p, findProgram(p)]));
  const missing = programs.filter((p) => !found[p]);
  if (missing.length === 0) {
    describe(title, () => body(found as Record<string, string>));
    return;
  }
  const why = `needs ${missing.join(', ')} (Debian packages; .ci/run installs them)`;
  if (process.env.CI) {
    describe(title, () => {
      it(`has its programs installed (CI is set, so this must not be skipped): ${why}`, () => {
        throw new Error(`missing programs under CI: ${missing.join(', ')}`);
      });
    });
  } else {
    describe.skip(`${title} [skipped: ${why}]`, () => body({}));
  }
}

// ------------------------------------------------------------------ users and folders

export interface RunAs {
  readonly uid: number;
  readonly gid: number;
  /** True when we switched from root to an unprivileged user. */
  readonly switched: boolean;
}

/** Who servers run as: `nobody` when we are root, else ourselves. */
export function serverUser(): RunAs {
  const uid = process.getuid?.() ?? 0;
  if (uid !== 0) return { uid, gid: process.getgid?.() ?? uid, switched: false };
  return { uid: 65534, gid: 65534, switched: true };
}

/** A fresh temporary folder owned by the server user. */
export function makeTempDir(prefix: string, user: RunAs = serverUser()): string {
  // As root, TMPDIR may point somewhere `nobody` cannot traverse: use /tmp then.
  const base = user.switched ? '/tmp' : os.tmpdir();
  const dir = mkdtempSync(path.join(base, `${prefix}-`));
  if (user.switched) chownSync(dir, user.uid, user.gid);
  return dir;
}

/** Writes a file the server user owns, with the given mode (keys need 0600). */
export function writeOwnedFile(file: string, content: string, mode = 0o644, user: RunAs = serverUser()): string {
  writeFileSync(file, content, { mode });
  if (user.switched) chownSync(file, user.uid, user.gid);
  return file;
}

// ------------------------------------------------------------------ ports

/**
 * A TCP port free on 127.0.0.1 right now, below Linux's ephemeral range (32768-60999): a port the
 * kernel hands out with listen(0) is also what it hands out next as the source port of some
 * client connection (another test file's, running in parallel), which then takes it before our
 * server binds it. Checked by binding, and never handed out twice by this process.
 *
 * Each vitest worker draws from its own slice of 20000-32767 (VITEST_POOL_ID): a port is reserved
 * seconds before its server binds it (the Sentinels start after the Redis pods replicate), and a
 * check by binding cannot see another worker's reservation. Shared, a second worker could take
 * the port in that window; the first server then failed to bind, and once the other test killed
 * its server the port refused connections (a CI run: "every Sentinel to know ...: ECONNREFUSED").
 */
export async function freePort(): Promise<number> {
  const { first, size } = portSlice(process.env.VITEST_POOL_ID);
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = first + Math.floor(Math.random() * size);
    const free = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.unref();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free TCP port in ${first}-${first + size - 1} on 127.0.0.1 after 100 tries`);
}

/** Ports 20000-32767 in PORT_SLICES slices, one a worker (pool IDs 1..n); all of them outside vitest. */
export function portSlice(poolId: string | undefined): { first: number; size: number } {
  const id = Number(poolId);
  if (!Number.isInteger(id) || id < 1) return { first: PORT_RANGE.first, size: PORT_RANGE.size };
  const size = Math.floor(PORT_RANGE.size / PORT_SLICES);
  return { first: PORT_RANGE.first + ((id - 1) % PORT_SLICES) * size, size };
}

const PORT_RANGE = { first: 20000, size: 12768 };
/** More than any worker count we run (vitest.config.mts: 5, VITEST_MAX_WORKERS); 798 ports each. */
const PORT_SLICES = 16;

/** Ports this process already handed out (a server may not have bound its port yet). */
const handedOut = new Set<number>();

// ------------------------------------------------------------------ processes

export interface Server {
  readonly name: string;
  /** Signal that stops the program cleanly (Postgres: SIGINT, "fast" shutdown). */
  readonly stopSignal: NodeJS.Signals;
  readonly child: ChildProcess;
  /** Everything the process printed so far (for failure messages). */
  output(): string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<number | null>;
}

const running = new Set<Server>();
const cleanups: Array<() => void | Promise<void>> = [];

/** Starts a long-running program in its own process group as the server user. */
export function startServer(
  name: string,
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string>; user?: RunAs; stopSignal?: NodeJS.Signals } = {},
): Server {
  const user = options.user ?? serverUser();
  const child = spawn(command, [...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', ...options.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(user.switched ? { uid: user.uid, gid: user.gid } : {}),
  });
  let out = '';
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString()).slice(-20000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const server: Server = { name, child, stopSignal: options.stopSignal ?? 'SIGTERM', output: () => out, exited };
  running.add(server);
  void exited.then(() => running.delete(server));
  return server;
}

/** The server's stop signal to its process group, SIGKILL after `graceMs`. */
export async function stopServer(server: Server, graceMs = 5000): Promise<void> {
  const pid = server.child.pid;
  if (pid === undefined || server.child.exitCode !== null || server.child.signalCode !== null) return;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      // already gone
    }
  };
  signal(server.stopSignal);
  const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
  if ((await Promise.race([server.exited, timer])) === 'timeout') {
    signal('SIGKILL');
    await server.exited;
  }
}

/** Registers extra cleanup (servers, forwarders, folders) run by `cleanup()`, last first. */
export function onCleanup(fn: () => void | Promise<void>): void {
  cleanups.push(fn);
}

/** Stops every server this process started and runs registered cleanups. Safe to call twice. */
export async function cleanup(): Promise<void> {
  await Promise.all([...running].map((s) => stopServer(s)));
  while (cleanups.length > 0) {
    const fn = cleanups.pop()!;
    try {
      await fn();
    } catch {
      // keep cleaning
    }
  }
}

/** Removes a temporary folder at cleanup (after the servers using it stopped). */
export function removeAtCleanup(dir: string): void {
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
}

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion (asynchronously), optionally as the server user. */
export function runCommand(command: string, args: readonly string[], options: { env?: Record<string, string>; user?: RunAs; input?: string; timeoutMs?: number; cwd?: string } = {}): Promise<CommandResult> {
  const user = options.user;
  return new Promise((resolve) => {
    const child = execFile(
      command,
      [...args],
      {
        cwd: options.cwd,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', ...options.env },
        timeout: options.timeoutMs ?? 30000,
        killSignal: 'SIGKILL',
        ...(user?.switched ? { uid: user.uid, gid: user.gid } : {}),
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Polls `check` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// ------------------------------------------------------------------ TCP forwarder

export interface Forwarder {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Forwards 127.0.0.1:<port> to 127.0.0.1:<targetPort>, connecting *from* `localAddress`. With
 * 127.0.0.6 it reproduces what an Istio sidecar (REDIRECT mode) does on the server side: the
 * server sees every meshed client arrive from 127.0.0.6.
 */
export async function startForwarder(targetPort: number, localAddress: string): Promise<Forwarder> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort, localAddress });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
  const forwarder: Forwarder = {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  onCleanup(() => forwarder.close());
  return forwarder;
}

// ------------------------------------------------------------------ TLS

/**
 * A throwaway self-signed certificate (its own CA) for 127.0.0.1/localhost, written as
 * tls.crt / tls.key / ca.crt (the names of a kubernetes.io/tls Secret) into `dir`, owned by
 * the server user, key mode 0600 as Postgres demands.
 */
export async function selfSignedCertificate(openssl: string, dir: string, user: RunAs = serverUser()): Promise<{ cert: string; key: string; ca: string }> {
  const cert = path.join(dir, 'tls.crt');
  const key = path.join(dir, 'tls.key');
  const ca = path.join(dir, 'ca.crt');
  const result = await runCommand(openssl, [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-keyout', key, '-out', cert,
  ]);
  if (result.code !== 0) throw new Error(`openssl failed: ${result.stderr}`);
  writeFileSync(ca, readFileSync(cert));
  chmodSync(key, 0o600);
  for (const f of [cert, key, ca]) if (user.switched) chownSync(f, user.uid, user.gid);
  return { cert, key, ca };
}

/** Creates a folder (and parents) owned by the server user. */
export function makeOwnedDir(dir: string, user: RunAs = serverUser()): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (user.switched) chownSync(dir, user.uid, user.gid);
  return dir;
}

/**
 * A folder laid out as the kubelet writes a Secret or ConfigMap volume (its AtomicWriter): the
 * files in a hidden versioned folder, `..data` linking to it, and each file a link through
 * `..data`. An update (updateKubeletVolume) writes a new version and swaps `..data` in one rename.
 */
export function kubeletVolume(dir: string, files: Readonly<Record<string, string>>, user: RunAs = serverUser()): string {
  makeOwnedDir(dir, user);
  writeVolumeVersion(dir, files, user);
  for (const name of Object.keys(files)) symlinkSync(path.join('..data', name), path.join(dir, name));
  return dir;
}

/** The kubelet's update of a volume made by kubeletVolume (same file names, new contents). */
export function updateKubeletVolume(dir: string, files: Readonly<Record<string, string>>, user: RunAs = serverUser()): void {
  writeVolumeVersion(dir, files, user);
}

let volumeVersions = 0;

function writeVolumeVersion(dir: string, files: Readonly<Record<string, string>>, user: RunAs): void {
  volumeVersions += 1;
  const version = `..${process.pid}_${volumeVersions}`;
  makeOwnedDir(path.join(dir, version), user);
  for (const [name, content] of Object.entries(files)) writeOwnedFile(path.join(dir, version, name), content, 0o600, user);
  const tmp = path.join(dir, '..data_tmp');
  symlinkSync(version, tmp);
  renameSync(tmp, path.join(dir, '..data'));
}

// ------------------------------------------------------------------ config files

/**
 * Replaces the values of `key <sep> value` lines (postgresql.conf: ' = ', pgbouncer.ini ' = ',
 * redis.conf ' '). Only keys that exist may be replaced, so a test cannot silently add settings
 * the rendered file lacks; every other line stays byte for byte.
 */
export function rewriteSettings(text: string, overrides: Readonly<Record<string, string>>, sep = ' = '): string {
  const seen = new Set<string>();
  const out = text.split('\n').map((line) => {
    const at = line.indexOf(sep);
    if (at <= 0 || /^\s*[#;]/.test(line)) return line;
    const key = line.slice(0, at).trim();
    if (!(key in overrides)) return line;
    seen.add(key);
    return `${line.slice(0, at)}${sep}${overrides[key]}`;
  });
  const missing = Object.keys(overrides).filter((k) => !seen.has(k));
  if (missing.length > 0) throw new Error(`rewriteSettings: the file has no ${missing.join(', ')} to rewrite`);
  return out.join('\n');
}

/** Values of `key <sep> value` lines (first occurrence wins). */
export function readSettings(text: string, sep = ' = '): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const at = line.indexOf(sep);
    if (at <= 0 || /^\s*[#;[]/.test(line)) continue;
    const key = line.slice(0, at).trim();
    if (!(key in out)) out[key] = line.slice(at + sep.length).trim();
  }
  return out;
}

// ------------------------------------------------------------------ Postgres
// Used by the Postgres and PgBouncer tests; takes rendered files as text, imports no chart.

export const POSTGRES_PROGRAMS = ['initdb', 'postgres', 'psql', 'pg_basebackup', 'openssl'] as const;

export interface PgConn {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly dbname: string;
  readonly password?: string;
  readonly sslmode?: string;
  readonly sslrootcert?: string;
}

export function connString(c: PgConn): string {
  const parts: Record<string, string | number | undefined> = {
    host: c.host, port: c.port, user: c.user, dbname: c.dbname, password: c.password,
    sslmode: c.sslmode, sslrootcert: c.sslrootcert, connect_timeout: 5,
  };
  return Object.entries(parts)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}='${String(v).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`)
    .join(' ');
}

/** Runs SQL with psql (unaligned, tuples only); the result carries stderr for failures. */
export function psql(bin: string, conn: PgConn, sql: string): Promise<CommandResult> {
  return runCommand(bin, ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-d', connString(conn), '-c', sql], { env: { PGAPPNAME: 'real-server-test' } });
}

/** psql that throws on failure and returns trimmed output. */
export async function psqlOk(bin: string, conn: PgConn, sql: string): Promise<string> {
  const r = await psql(bin, conn, sql);
  if (r.code !== 0) throw new Error(`psql ${conn.user}@${conn.host}:${conn.port}/${conn.dbname} failed: ${r.stderr.trim()}\nSQL: ${sql}`);
  return r.stdout.trim();
}

export interface PostgresNode {
  readonly name: string;
  readonly dataDir: string;
  readonly port: number;
  readonly socketDir: string;
  readonly server: Server;
  /** A connection over the unix socket. */
  local(user: string, password: string, dbname?: string): PgConn;
}

/** initdb as the server user (SCRAM, checksums, UTF-8: what Patroni's bootstrap.initdb asks for). */
export async function initPostgres(bins: Record<string, string>, dataDir: string, superuser: string, password: string): Promise<void> {
  const pwfile = writeOwnedFile(`${dataDir}.pw`, `${password}\n`, 0o600);
  const r = await runCommand(
    bins.initdb,
    ['-D', dataDir, '-U', superuser, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8', '--data-checksums'],
    { user: serverUser(), timeoutMs: 60000 },
  );
  rmSync(pwfile, { force: true });
  if (r.code !== 0) throw new Error(`initdb failed: ${r.stderr}`);
}

/** Starts `postgres -D <dataDir> -c config_file=<confFile>` and waits until it accepts logins. */
export async function startPostgres(
  bins: Record<string, string>,
  options: { name: string; dataDir: string; confFile: string; port: number; socketDir: string; superuser: string; password: string },
): Promise<PostgresNode> {
  // SIGINT = "fast" shutdown: no waiting for clients, shared memory released.
  const server = startServer(options.name, bins.postgres, ['-D', options.dataDir, '-c', `config_file=${options.confFile}`], { stopSignal: 'SIGINT' });
  const local = (user: string, password: string, dbname = 'postgres'): PgConn => ({ host: options.socketDir, port: options.port, user, password, dbname });
  const state = await waitFor(`${options.name} to accept connections`, async () => {
    if (server.child.exitCode !== null || server.child.signalCode !== null) return 'exited';
    const r = await psql(bins.psql, local(options.superuser, options.password), 'SELECT 1');
    return r.code === 0 ? 'up' : undefined;
  }, 30000);
  if (state === 'exited') throw new Error(`${options.name} exited (${String(server.child.exitCode)}):\n${server.output()}`);
  return { name: options.name, dataDir: options.dataDir, port: options.port, socketDir: options.socketDir, server, local };
}

/** The files a shard renders, as text (charts/lib/postgres-*.ts). */
export interface RenderedPostgresFiles {
  readonly postgresqlConf: string;
  readonly pgHba: string;
  readonly bootstrapSql: string;
  readonly postBootstrapScript: string;
  /** Directory the script names for bootstrap.sql in the pods (rewritten to the temp folder). */
  readonly configDir: string;
}

export interface ShardPair {
  readonly dir: string;
  readonly primary: PostgresNode;
  readonly replica: PostgresNode;
  /** "Sidecars": 127.0.0.1 ports that reach the primary / replica from 127.0.0.6. */
  readonly primaryMesh: Forwarder;
  readonly replicaMesh: Forwarder;
  readonly archiveDir: string;
  readonly tls: { cert: string; key: string; ca: string };
  /** The postgresql.conf each node loaded (after the host/port/path rewrite). */
  readonly loadedConf: { primary: string; replica: string };
}

export interface ShardPairOptions {
  readonly bins: Record<string, string>;
  readonly files: RenderedPostgresFiles;
  readonly users: { superuser: string; replication: string; rewind: string };
  /** Passwords: superuser, replication, rewind, plus the environment the bootstrap SQL reads. */
  readonly passwords: { superuser: string; replication: string; rewind: string };
  readonly bootstrapEnv: Readonly<Record<string, string>>;
  /** Source address meshed clients arrive from (the sidecar's). */
  readonly meshSource: string;
}

/**
 * A primary set up the way Patroni would (initdb, replication and rewind roles, the rendered
 * post_bootstrap), and a streaming replica cloned with pg_basebackup through the "sidecar",
 * both loading the rendered postgresql.conf / pg_hba.conf with only host, port and paths
 * rewritten. WAL-G is not installed here: archive_command / restore_command become a local
 * `cp` into an archive folder (same %p / %f contract).
 */
export async function startShardPair(prefix: string, o: ShardPairOptions): Promise<ShardPair> {
  const dir = makeTempDir(prefix);
  removeAtCleanup(dir);
  const tlsDir = makeOwnedDir(path.join(dir, 'tls'));
  const tls = await selfSignedCertificate(o.bins.openssl, tlsDir);
  const archiveDir = makeOwnedDir(path.join(dir, 'archive'));
  const hbaFile = writeOwnedFile(path.join(dir, 'pg_hba.conf'), o.files.pgHba);
  const confFor = (port: number, socketDir: string) =>
    rewriteSettings(o.files.postgresqlConf, {
      listen_addresses: "'127.0.0.1'",
      port: String(port),
      unix_socket_directories: `'${socketDir}'`,
      hba_file: `'${hbaFile}'`,
      ssl_cert_file: `'${tls.cert}'`,
      ssl_key_file: `'${tls.key}'`,
      ssl_ca_file: `'${tls.ca}'`,
      // As WAL-G with WALG_PREVENT_WAL_OVERWRITE: a new segment is copied, the same segment again
      // (archive_mode always: the replica archives what the primary already did) is accepted, a
      // different one under the same name is refused.
      archive_command: `'if [ -f ${archiveDir}/%f ]; then cmp -s %p ${archiveDir}/%f; else cp %p ${archiveDir}/%f; fi'`,
      restore_command: `'cp ${archiveDir}/%f %p'`,
    });
  const node = async (name: string, initialise: (dataDir: string) => Promise<void>) => {
    const port = await freePort();
    const socketDir = makeOwnedDir(path.join(dir, `${name}-socket`));
    const dataDir = path.join(dir, `${name}-data`);
    const conf = confFor(port, socketDir);
    const confFile = writeOwnedFile(path.join(dir, `${name}.conf`), conf);
    await initialise(dataDir);
    const started = await startPostgres(o.bins, { name, dataDir, confFile, port, socketDir, superuser: o.users.superuser, password: o.passwords.superuser });
    return { started, conf };
  };

  const primary = await node('primary', (dataDir) => initPostgres(o.bins, dataDir, o.users.superuser, o.passwords.superuser));
  const su = primary.started.local(o.users.superuser, o.passwords.superuser);
  // What Patroni does after initdb: its replication and rewind roles, then post_bootstrap.
  await psqlOk(o.bins.psql, su, `CREATE ROLE ${o.users.replication} LOGIN REPLICATION PASSWORD '${o.passwords.replication}'`);
  await psqlOk(o.bins.psql, su, `CREATE ROLE ${o.users.rewind} LOGIN PASSWORD '${o.passwords.rewind}'`);
  writeOwnedFile(path.join(dir, 'bootstrap.sql'), o.files.bootstrapSql);
  const script = writeOwnedFile(path.join(dir, 'post-bootstrap.sh'), o.files.postBootstrapScript.split(o.files.configDir).join(dir), 0o755);
  const boot = await runCommand('/bin/sh', [script, connString(su)], { env: { ...o.bootstrapEnv } });
  if (boot.code !== 0) throw new Error(`post-bootstrap failed: ${boot.stderr}`);

  const primaryMesh = await startForwarder(primary.started.port, o.meshSource);
  const replica = await node('replica', async (dataDir) => {
    const source: PgConn = {
      host: '127.0.0.1', port: primaryMesh.port, user: o.users.replication, dbname: 'replication',
      password: o.passwords.replication, sslmode: 'verify-ca', sslrootcert: tls.ca,
    };
    // -R writes primary_conninfo (through the "sidecar") and standby.signal, as Patroni's basebackup does.
    const r = await runCommand(o.bins.pg_basebackup, ['-d', connString(source), '-D', dataDir, '-R', '-X', 'stream', '-c', 'fast'], { user: serverUser(), timeoutMs: 60000 });
    if (r.code !== 0) throw new Error(`pg_basebackup failed: ${r.stderr}`);
  });
  const replicaMesh = await startForwarder(replica.started.port, o.meshSource);
  return {
    dir,
    primary: primary.started,
    replica: replica.started,
    primaryMesh,
    replicaMesh,
    archiveDir,
    tls,
    loadedConf: { primary: primary.conf, replica: replica.conf },
  };
}
