/**
 * The Redis real-server tests' shared parts (test/real-servers/redis*.test.ts): a minimal RESP
 * client, the cluster of processes, and the rendered files rewritten for loopback. Two test files
 * (the in-region Sentinel suite and the primary-region loss) so that vitest runs them at once.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { expect } from 'vitest';
import { REDIS_FILES, redisDirectives } from '../../charts/redis/config';
import { RedisChart } from '../../charts/redis/chart';
import { PROXY_HEALTH_PORT, PROXY_METRICS_PORT, type RedisTierKey, redisTopology, sessionsProxyNames } from '../../charts/redis/topology';
import type { RegionPlan } from '../../regions/plan';
import { newApp, regionPlan } from './charts';
import { findProgram, freePort, makeOwnedDir, makeTempDir, removeAtCleanup, type Server, serverUser, startServer, stopServer, waitFor, writeOwnedFile } from './real-servers';

// ------------------------------------------------------------------ programs, skip or fail

/** Programs the start scripts call by name (Debian packages redis-server, redis-sentinel, redis-tools). */
export const PROGRAMS = ['redis-server', 'redis-sentinel', 'redis-cli'];
export const IN_CI = Boolean(process.env.CI);
/** HAProxy (the sessions proxy): Debian's haproxy, in /usr/sbin. Optional locally, required under CI. */
export const HAPROXY = findProgram('haproxy') ?? ['/usr/sbin/haproxy'].find((p) => fs.existsSync(p));
if (!HAPROXY && !IN_CI) {
  console.warn('test/real-servers/redis.test.ts: sessions proxy tests SKIPPED, haproxy not installed (apt-get install haproxy); under CI=true this fails instead');
}

// ------------------------------------------------------------------ a minimal RESP client

export type Reply = string | number | null | Reply[] | ReplyError;
export class ReplyError extends Error {}

/** Just enough RESP2 to AUTH, SET, GET, WAIT, INFO, CONFIG GET and ask Sentinel. */
export class Resp {
  private buffer = Buffer.alloc(0);
  private readonly pending: Array<{ resolve: (r: Reply) => void; reject: (e: Error) => void }> = [];
  private closed: Error | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      for (;;) {
        const parsed = parse(this.buffer, 0);
        if (!parsed) break;
        this.buffer = this.buffer.subarray(parsed.end);
        this.pending.shift()?.resolve(parsed.value);
      }
    });
    const fail = (error: Error) => {
      this.closed ??= error;
      while (this.pending.length > 0) this.pending.shift()!.reject(this.closed);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  static connect(port: number, password: string, timeoutMs = 1000): Promise<Resp> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      const timer = setTimeout(() => { socket.destroy(); reject(new Error(`connect to ${port} timed out`)); }, timeoutMs);
      socket.once('error', (e) => { clearTimeout(timer); reject(e); });
      socket.once('connect', () => {
        clearTimeout(timer);
        const client = new Resp(socket);
        client.command('AUTH', password).then(() => resolve(client), reject);
      });
    });
  }

  command(...args: Array<string | number>): Promise<Reply> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve: (r) => (r instanceof ReplyError ? reject(r) : resolve(r)), reject });
      const parts = args.map(String);
      this.socket.write(`*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join('')}`);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

export function parse(buf: Buffer, at: number): { value: Reply; end: number } | undefined {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return undefined;
  const line = buf.toString('utf8', at + 1, eol);
  const next = eol + 2;
  switch (String.fromCharCode(buf[at])) {
    case '+': return { value: line, end: next };
    case '-': return { value: new ReplyError(line), end: next };
    case ':': return { value: Number(line), end: next };
    case '$': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      if (buf.length < next + n + 2) return undefined;
      return { value: buf.toString('utf8', next, next + n), end: next + n + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const items: Reply[] = [];
      let end = next;
      for (let i = 0; i < n; i++) {
        const item = parse(buf, end);
        if (!item) return undefined;
        items.push(item.value);
        end = item.end;
      }
      return { value: items, end };
    }
    default: throw new Error(`unexpected RESP type byte ${buf[at]}`);
  }
}

/** One command on a fresh connection. */
export async function once(port: number, password: string, ...args: Array<string | number>): Promise<Reply> {
  const c = await Resp.connect(port, password);
  try {
    return await c.command(...args);
  } finally {
    c.close();
  }
}

/** INFO section as a map. */
export async function info(port: number, password: string, section: string): Promise<Record<string, string>> {
  const text = String(await once(port, password, 'INFO', section));
  return Object.fromEntries(text.split('\r\n').filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]));
}

/** A Sentinel reply of alternating names and values as a map. */
export function pairs(reply: Reply): Record<string, string> {
  const list = reply as string[];
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[list[i]] = list[i + 1];
  return out;
}

/** waitFor (test/support/real-servers.ts) for a probe that answers false while not yet. */
export function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false>): Promise<T> {
  return waitFor(what, async () => {
    const value = await probe();
    return value === false ? undefined : value;
  }, timeoutMs, 100);
}

// ------------------------------------------------------------------ processes

/** The servers of one test run: temp folder, password, processes (test/support/real-servers.ts). */
export class Cluster {
  readonly user = serverUser();
  readonly dir = makeTempDir('bb-redis', this.user);
  readonly password = 'Test0nlyPassw0rd';
  readonly passwordFile = path.join(this.dir, 'password');
  private readonly started: Server[] = [];

  constructor() {
    removeAtCleanup(this.dir);
    writeOwnedFile(this.passwordFile, this.password, 0o600, this.user);
  }

  /** A folder the servers may write (theirs when they run as nobody). */
  folder(name: string): string {
    return makeOwnedDir(path.join(this.dir, name), this.user);
  }

  file(name: string, text: string): string {
    return writeOwnedFile(path.join(this.dir, name), text, 0o644, this.user);
  }

  /** `sh script` (a rendered start script, which execs the server) in its own process group. */
  run(name: string, script: string, env: Record<string, string>): Server {
    return this.exec(name, 'sh', [script], env);
  }

  exec(name: string, command: string, args: string[], env: Record<string, string>): Server {
    // SIGKILL at cleanup: a graceful Redis shutdown waits for its replicas (shutdown-timeout).
    const server = startServer(name, command, args, { env, user: this.user, stopSignal: 'SIGKILL' });
    this.started.push(server);
    return server;
  }

  /** SIGKILL to the server's process group, as a node or container loss would. */
  async kill(server: Server): Promise<void> {
    await stopServer(server, 0);
  }

  logs(): string {
    return this.started.map((s) => `---- ${s.name}\n${s.output().split('\n').slice(-25).join('\n')}`).join('\n');
  }
}

// ------------------------------------------------------------------ rendered files, rewritten

export const plan = regionPlan('us-east-1');
export const chart = new RedisChart(newApp(), { plan });

/** The tier's ConfigMap files exactly as rendered into dist/. */
export function filesOf(tier: RedisTierKey): Readonly<Record<string, string>> {
  return chart.tiers[tier].files;
}

/** Rewrites only a directive's value; fails when the directive is not there (no silent no-op). */
export function rewrite(text: string, directive: string, value: string): string {
  const re = new RegExp(`^${directive} .*$`, 'm');
  if (!re.test(text)) throw new Error(`rendered file has no "${directive}" line to rewrite`);
  return text.replace(re, `${directive} ${value}`);
}

export function redisConfFor(tier: RedisTierKey, port: number, dataDir: string): string {
  let conf = filesOf(tier)[REDIS_FILES.redisConf];
  conf = rewrite(conf, 'bind', '127.0.0.1');
  conf = rewrite(conf, 'port', String(port));
  return rewrite(conf, 'dir', dataDir);
}

/** CONFIG GET spelling of a rendered value: quotes gone, memory units in bytes. */
export function normalise(value: string): string {
  const unquoted = value.replace(/^"(.*)"$/, '$1');
  const m = /^(\d+)(kb|mb|gb)$/i.exec(unquoted);
  return m ? String(Number(m[1]) * 1024 ** ({ kb: 1, mb: 2, gb: 3 } as Record<string, number>)[m[2].toLowerCase()]) : unquoted;
}

/** Directives a server reports as rendered (those rewritten for loopback, and replicaof, excepted). */
export const NOT_COMPARED = new Set(['bind', 'port', 'dir', 'replicaof']);

export async function expectRunsWithRenderedConfig(port: number, password: string, tier: RedisTierKey): Promise<void> {
  const expected = redisDirectives(plan, tier).filter((d) => !NOT_COMPARED.has(d.name));
  for (const d of expected) {
    const reply = pairs(await once(port, password, 'CONFIG', 'GET', d.name));
    expect({ directive: d.name, value: reply[d.name] }).toEqual({ directive: d.name, value: normalise(d.value) });
  }
}

/** Runs a test body; on failure, the servers' logs go with the message (what ran, what they said). */
export async function withLogsOf(cluster: { logs(): string }, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${cluster.logs()}`);
  }
}

/**
 * A region's rendered sessions-proxy haproxy.cfg on loopback: each Redis pod and Sentinel name
 * rewritten to its port (the Sentinel check then expects a pod's port, the only thing that tells
 * loopback pods apart), the master and replica listeners to `ports`, the health and metrics
 * listeners to free ports. Fails on a rewrite that finds nothing (no silent no-op).
 */
export async function loopbackHaproxyCfg(
  cfg: string,
  p: RegionPlan,
  ports: { readonly redis: readonly number[]; readonly sentinels: readonly number[]; readonly master: number; readonly replica: number },
): Promise<string> {
  const t = redisTopology(p, 'sessions');
  const names = sessionsProxyNames(p, p.region.name);
  const replace = (from: string, to: string) => {
    if (!cfg.includes(from)) throw new Error(`rendered haproxy.cfg of ${p.region.name} has no "${from}" to rewrite`);
    cfg = cfg.split(from).join(to);
  };
  ports.redis.forEach((port, i) => {
    replace(`tcp-check expect string ${t.podHost(i)}`, `tcp-check expect string ${port}`);
    replace(`${t.podHost(i)}:${t.redisPort}`, `127.0.0.1:${port}`);
  });
  ports.sentinels.forEach((port, i) => replace(`${t.sentinelPodHost(i)}:${t.sentinelPort}`, `127.0.0.1:${port}`));
  replace(`bind :${names.masterPort}\n`, `bind 127.0.0.1:${ports.master}\n`);
  replace(`bind :${names.replicaPort}\n`, `bind 127.0.0.1:${ports.replica}\n`);
  replace(`bind :${PROXY_HEALTH_PORT}\n`, `bind 127.0.0.1:${await freePort()}\n`);
  replace(`bind :${PROXY_METRICS_PORT}\n`, `bind 127.0.0.1:${await freePort()}\n`);
  return cfg;
}
