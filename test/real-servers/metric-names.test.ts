/**
 * Issue 12 item 6: metric names are real.
 *
 * 1. Every metric name a rule (`ruleFiles(plan)`, every region), a dashboard panel, an
 *    AnalysisTemplate or the prometheus-adapter rule reads is in a pinned list of what its
 *    exporter exposes (test/fixtures/metrics/*.txt, each headed with its source and version),
 *    with every label the query filters on set by the exporter or by the scrape, and not dropped
 *    by the scrape (kube-state-metrics' allowlist, the kubelet's keep list).
 * 2. The real Prometheus (Debian's `prometheus` and `promtool`) evaluates every one of them over
 *    series written only from those lists (`promtool tsdb create-blocks-from openmetrics`), the
 *    recording rules backfilled level by level (`promtool tsdb create-blocks-from rules`), and
 *    each returns at least one series (alerts and filtered panels judged by `probeQueries`:
 *    comparisons as `bool`, `unless` as `and`, `absent(x)` as `x`, each side of an `or` alone).
 * 3. Postgres and Redis: Debian's exporters run against the real servers (the rendered
 *    Postgres pair of test/support/real-servers.ts, a Redis master, replica and Sentinel), and
 *    what they expose agrees with the pinned lists except the names `# debian-lacks:` records
 *    (Debian bookworm ships postgres_exporter 0.11.1 and redis_exporter 1.45.0; we pin v0.15.0
 *    and v1.62.0, whose source the pinned lists are read from).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BOOTSTRAP_PASSWORDS } from '../../charts/postgres/bootstrap';
import { regionPlan, shippedPlan } from '../support/charts';
import {
  droppedByScrape,
  groupingLabelsOf,
  loadCatalogue,
  loadCatalogueFiles,
  platformExpressions,
  probeQueries,
  selectorsOf,
  seriesForSelector,
  type SyntheticSeries,
} from '../support/metric-catalogue';
import { shardPairOptions } from '../support/postgres-pair';
import {
  cleanup,
  describeWithPrograms,
  findProgram,
  freePort,
  makeOwnedDir,
  makeTempDir,
  POSTGRES_PROGRAMS,
  removeAtCleanup,
  runCommand,
  serverUser,
  startServer,
  startShardPair,
  stopServer,
  waitFor,
  writeOwnedFile,
  type Server,
} from '../support/real-servers';

const plans = shippedPlan().regions;
const catalogue = loadCatalogue();
const { expressions, recordingRules } = platformExpressions(plans);
const recorded = new Set(recordingRules.map((r) => r.record));
const allQueries = [...expressions, ...recordingRules.map((r) => ({ where: `recording rule ${r.record}${JSON.stringify(r.labels)}`, expr: r.expr }))];

/** Labels rules and panels may group by without any exporter setting them. */
const DERIVED_LABELS = new Set([
  'le',
  // label_replace() targets and recording-rule labels of our own rules
  'certificate', 'service', 'patroni_scope', 'tier',
  // Set only where a global store (federation, remote write) adds the external label; a
  // region's own Prometheus has no `region` label, and the dashboards' "All" (`.*`) matches that.
  'region',
]);

/** Every problem with the names and labels the queries read (empty when all are real). */
function nameProblems(): string[] {
  const problems = new Set<string>();
  for (const q of allQueries) {
    const plan = plans.find((p) => q.where.startsWith(p.region.name)) ?? plans[0]!;
    const sels = selectorsOf(q.expr);
    const known = new Set(DERIVED_LABELS);
    for (const s of sels) {
      const dropped = droppedByScrape(s.metric);
      if (dropped) problems.add(`${q.where}: ${s.metric} is ${dropped}`);
      const r = seriesForSelector(s, plan, catalogue, recorded);
      if (!Array.isArray(r)) problems.add(`${q.where}: ${r.problem} in ${r.selector}`);
      else for (const series of r) for (const l of Object.keys(series.labels)) known.add(l);
      for (const l of catalogue.get(s.metric)?.labels.keys() ?? []) known.add(l);
    }
    for (const l of groupingLabelsOf(q.expr)) if (!known.has(l)) problems.add(`${q.where}: groups by ${l}, which none of its series has`);
  }
  return [...problems].sort();
}

it('every pinned list names its source and version', () => {
  const files = loadCatalogueFiles();
  expect(files.length).toBeGreaterThanOrEqual(9);
  for (const f of files) {
    expect(f.source, f.file).toMatch(/https?:\/\/|this repository/);
    expect(f.version, f.file).not.toBe('');
  }
});

it('every metric name of every rule, panel, analysis template and the adapter is in what its exporter exposes', () => {
  // The four kinds of reader are all there (the check is not vacuous).
  for (const kind of [' rule ', ' dashboard ', 'AnalysisTemplate', 'prometheus-adapter', 'recording rule']) {
    expect(allQueries.some((q) => q.where.includes(kind)), kind).toBe(true);
  }
  expect(nameProblems()).toEqual([]);
});

// ------------------------------------------------------------------ the real Prometheus

/** Evaluation time: a fixed instant (blocks in the past; retention counts from the newest block). */
const T = 1_735_689_600; // 2025-01-01T00:00:00Z
const MINUTE = 60;
const HOUR = 3600;
const DAY = 24 * HOUR;

/** Sample times: hourly over 31 days (30-day panels), every minute for the last 3 h and around one week ago (offset 1w). */
function sampleTimes(): number[] {
  const times = new Set<number>();
  for (let t = T - 31 * DAY; t < T - 3 * HOUR; t += HOUR) times.add(t);
  for (let t = T - 3 * HOUR; t <= T; t += MINUTE) times.add(t);
  for (let t = T - 7 * DAY - 2 * HOUR; t <= T - 7 * DAY + 10 * MINUTE; t += MINUTE) times.add(t);
  return [...times].sort((a, b) => a - b);
}

function openMetrics(series: readonly SyntheticSeries[]): string {
  const byName = new Map<string, SyntheticSeries[]>();
  for (const s of series) byName.set(s.labels.__name__!, [...(byName.get(s.labels.__name__!) ?? []), s]);
  const times = sampleTimes();
  const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  const lines: string[] = [];
  for (const [name, list] of [...byName.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    for (const s of list) {
      const labels = Object.entries(s.labels).filter(([k]) => k !== '__name__').sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}="${esc(v)}"`).join(',');
      for (const t of times) {
        const value = s.kind === 'counter' ? (s.weight * (t - (T - 32 * DAY))) / MINUTE : 1;
        lines.push(`${name}{${labels}} ${value} ${t}`);
      }
    }
  }
  return `${lines.join('\n')}\n# EOF\n`;
}

describeWithPrograms('metric names on the real Prometheus', ['prometheus', 'promtool'], (bins) => {
  let dir = '';
  let dataDir = '';
  let port = 0;
  let server: Server | undefined;
  const user = serverUser();

  async function startPrometheus(): Promise<void> {
    const config = writeOwnedFile(path.join(dir, 'prometheus.yml'), 'global:\n  evaluation_interval: 1m\nscrape_configs: []\n');
    server = startServer('prometheus', bins.prometheus!, [
      `--config.file=${config}`, `--storage.tsdb.path=${dataDir}`, `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=3650d', '--query.lookback-delta=5m',
    ], { cwd: dir });
    await waitFor('prometheus to be ready', async () => {
      if (server!.child.exitCode !== null) throw new Error(`prometheus exited:\n${server!.output()}`);
      const r = await fetch(`http://127.0.0.1:${port}/-/ready`).catch(() => undefined);
      return r?.ok ? true : undefined;
    }, 30000);
  }

  async function query(expr: string): Promise<{ status: string; error?: string; resultType?: string; result?: unknown[] }> {
    const url = `http://127.0.0.1:${port}/api/v1/query?${new URLSearchParams({ query: expr, time: String(T) })}`;
    const body = (await (await fetch(url)).json()) as { status: string; error?: string; data?: { resultType: string; result: unknown[] } };
    return { status: body.status, error: body.error, resultType: body.data?.resultType, result: body.data?.result };
  }

  async function promtool(args: string[]): Promise<void> {
    const r = await runCommand(bins.promtool!, args, { user, timeoutMs: 300_000, cwd: dir });
    if (r.code !== 0) throw new Error(`promtool ${args.slice(0, 3).join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  }

  /** Moves the blocks promtool wrote into the data folder and restarts Prometheus so it loads them. */
  async function loadBlocks(outDir: string): Promise<void> {
    if (server) await stopServer(server);
    for (const block of fs.readdirSync(outDir)) fs.renameSync(path.join(outDir, block), path.join(dataDir, block));
    await startPrometheus();
  }

  beforeAll(async () => {
    dir = makeTempDir('bb-metric-names');
    removeAtCleanup(dir);
    dataDir = makeOwnedDir(path.join(dir, 'data'));
    port = await freePort();
    // Series for every selector of every query, from the pinned lists only.
    const series = new Map<string, SyntheticSeries>();
    for (const q of allQueries) {
      const plan = plans.find((p) => q.where.startsWith(p.region.name)) ?? plans[0]!;
      for (const s of selectorsOf(q.expr)) {
        const r = seriesForSelector(s, plan, catalogue, recorded);
        if (Array.isArray(r)) for (const x of r) series.set(JSON.stringify(Object.entries(x.labels).sort()), x);
      }
    }
    writeOwnedFile(path.join(dir, 'series.om'), openMetrics([...series.values()]));
    const raw = makeOwnedDir(path.join(dir, 'raw-blocks'));
    await promtool(['tsdb', 'create-blocks-from', 'openmetrics', '--max-block-duration=768h', 'series.om', raw]);
    await loadBlocks(raw);
    // Recording rules, level by level (promtool's rule backfill cannot see what it records itself).
    const level = new Map<string, number>();
    const levelOf = (r: (typeof recordingRules)[number]): number => {
      const deps = selectorsOf(r.expr).filter((s) => recorded.has(s.metric)).map((s) => s.metric);
      return 1 + Math.max(0, ...deps.map((d) => Math.max(...recordingRules.filter((x) => x.record === d).map((x) => level.get(JSON.stringify(x)) ?? levelOf(x)))));
    };
    for (const r of recordingRules) level.set(JSON.stringify(r), levelOf(r));
    const levels = [...new Set(level.values())].sort();
    for (const l of levels) {
      const rules = recordingRules.filter((r) => level.get(JSON.stringify(r)) === l).map((r) => ({ record: r.record, expr: r.expr, labels: r.labels }));
      const file = writeOwnedFile(path.join(dir, `rules-${l}.json`), JSON.stringify({ groups: [{ name: `level-${l}`, interval: '1m', rules }] }));
      const out = makeOwnedDir(path.join(dir, `rule-blocks-${l}`));
      await promtool(['tsdb', 'create-blocks-from', 'rules', `--start=${T - 40 * MINUTE}`, `--end=${T}`, `--url=http://127.0.0.1:${port}`, `--output-dir=${out}`, '--eval-interval=60s', file]);
      await loadBlocks(out);
    }
  }, 300_000);

  afterAll(cleanup, 30000);

  it(`holds the series of ${allQueries.length} queries, none of them from a name outside the lists`, async () => {
    const r = await query('count({__name__=~".+"})');
    expect(r.status).toBe('success');
    const names = await query('count by (__name__) ({__name__=~".+"})');
    const stored = new Set((names.result as { metric: { __name__: string } }[]).map((x) => x.metric.__name__));
    const foreign = [...stored].filter((n) => !catalogue.has(n) && !recorded.has(n));
    expect(foreign).toEqual([]);
    // Every recording rule recorded something at the evaluation time.
    expect([...recorded].filter((n) => !stored.has(n))).toEqual([]);
  });

  it('evaluates every rule expression, panel query, analysis query and adapter query to at least one series', async () => {
    const failures: string[] = [];
    for (const q of allQueries) {
      const whole = await query(q.expr);
      if (whole.status !== 'success') {
        failures.push(`${q.where}: Prometheus refuses it: ${whole.error}\n  ${q.expr}`);
        continue;
      }
      for (const probe of probeQueries(q.expr)) {
        const r = await query(probe);
        const n = r.resultType === 'scalar' ? 1 : (r.result?.length ?? 0);
        if (r.status !== 'success' || n === 0) failures.push(`${q.where}: no series${r.error ? ` (${r.error})` : ''}\n  ${probe}`);
      }
    }
    expect(failures).toEqual([]);
  }, 120_000);
});

// ------------------------------------------------------------------ Debian's exporters, live

/** Metric names (and their label names) in a Prometheus text exposition. */
function parseExposition(text: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s/.exec(line);
    if (!m) continue;
    const labels = out.get(m[1]!) ?? new Set<string>();
    for (const pair of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) labels.add(pair[1]!);
    out.set(m[1]!, labels);
  }
  return out;
}

async function scrape(portNumber: number, what: string, ready: (names: Map<string, Set<string>>) => boolean): Promise<Map<string, Set<string>>> {
  return waitFor(`${what} /metrics`, async () => {
    const r = await fetch(`http://127.0.0.1:${portNumber}/metrics`).catch(() => undefined);
    if (!r?.ok) return undefined;
    const names = parseExposition(await r.text());
    return ready(names) ? names : undefined;
  }, 30000, 500);
}

/** Compares a live scrape with a pinned list: names and label names, `# debian-lacks:` excepted. */
function compareWithPinned(file: string, live: Map<string, Set<string>>): { missing: string[]; lacksButHas: string[]; labelGaps: string[] } {
  const pinned = loadCatalogueFiles().find((f) => f.file === file)!;
  const lacks = new Set(pinned.debianLacks);
  const missing: string[] = [];
  const labelGaps: string[] = [];
  for (const e of pinned.entries) {
    if (lacks.has(e.metric)) continue;
    const labels = live.get(e.metric);
    if (!labels) {
      missing.push(e.metric);
      continue;
    }
    for (const l of e.labels.keys()) if (!labels.has(l)) labelGaps.push(`${e.metric} has no label ${l} (live: ${[...labels].join(',')})`);
  }
  return { missing, lacksButHas: pinned.debianLacks.filter((n) => live.has(n)), labelGaps };
}

const EXPORTERS = ['prometheus-postgres-exporter', 'prometheus-redis-exporter', 'redis-server', 'redis-sentinel'];

describeWithPrograms('metric names of Debian\'s exporters on the real servers', [...POSTGRES_PROGRAMS, ...EXPORTERS], (bins) => {
  const plan = regionPlan('us-east-1');
  const PASSWORDS = { superuser: 'su-pw-m', replication: 'repl-pw-m', rewind: 'rewind-pw-m' };
  const BOOTSTRAP_ENV = Object.fromEntries(BOOTSTRAP_PASSWORDS.map((p) => [p.env, `${p.variable}-secret`]));
  const postgresLive: Record<'primary' | 'replica', Map<string, Set<string>>> = { primary: new Map(), replica: new Map() };
  const redisLive: Record<'master' | 'replica' | 'sentinel', Map<string, Set<string>>> = { master: new Map(), replica: new Map(), sentinel: new Map() };
  const versions: Record<string, string> = {};

  beforeAll(async () => {
    for (const p of ['prometheus-postgres-exporter', 'prometheus-redis-exporter']) {
      try {
        versions[p] = execFileSync('dpkg-query', ['-W', '-f=${Version}', p], { encoding: 'utf8' });
      } catch {
        versions[p] = 'not a Debian package';
      }
    }
    // Postgres: the rendered configuration, a primary and a streaming replica.
    const pair = await startShardPair('pg-metrics', shardPairOptions(plan, plan.region.shards[0]!, bins, PASSWORDS, BOOTSTRAP_ENV));
    const superuser = shardPairOptions(plan, plan.region.shards[0]!, bins, PASSWORDS, BOOTSTRAP_ENV).users.superuser;
    for (const node of ['primary', 'replica'] as const) {
      const pg = pair[node];
      const exporterPort = await freePort();
      startServer(`postgres-exporter-${node}`, bins['prometheus-postgres-exporter']!, [`--web.listen-address=127.0.0.1:${exporterPort}`], {
        env: { DATA_SOURCE_NAME: `host=${pg.socketDir} port=${pg.port} user=${superuser} password=${PASSWORDS.superuser} dbname=postgres sslmode=disable` },
      });
      postgresLive[node] = await scrape(exporterPort, `postgres_exporter (${node})`, (n) => n.get('pg_up') !== undefined && n.has('pg_stat_archiver_archived_count'));
    }
    // Redis: a master with maxmemory, a replica, a Sentinel watching the master.
    const dir = makeTempDir('bb-redis-metrics');
    removeAtCleanup(dir);
    const [master, replica, sentinel] = [await freePort(), await freePort(), await freePort()];
    const redisServer = findProgram('redis-server')!;
    const common = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory', '64mb', '--dir', dir];
    startServer('redis-master', redisServer, ['--port', String(master), ...common]);
    startServer('redis-replica', redisServer, ['--port', String(replica), '--replicaof', '127.0.0.1', String(master), ...common]);
    const conf = writeOwnedFile(path.join(dir, 'sentinel.conf'), `port ${sentinel}\nbind 127.0.0.1\ndir ${dir}\nsentinel monitor cache 127.0.0.1 ${master} 1\n`);
    startServer('redis-sentinel', findProgram('redis-sentinel')!, [conf]);
    const redisExporter = async (target: number, what: 'master' | 'replica' | 'sentinel', ready: (n: Map<string, Set<string>>) => boolean) => {
      const exporterPort = await freePort();
      startServer(`redis-exporter-${what}`, bins['prometheus-redis-exporter']!, [`--redis.addr=redis://127.0.0.1:${target}`, `--web.listen-address=127.0.0.1:${exporterPort}`]);
      redisLive[what] = await scrape(exporterPort, `redis_exporter (${what})`, ready);
    };
    await redisExporter(master, 'master', (n) => n.has('redis_instance_info') && n.has('redis_memory_max_bytes'));
    await redisExporter(replica, 'replica', (n) => n.has('redis_instance_info'));
    await redisExporter(sentinel, 'sentinel', (n) => n.has('redis_sentinel_master_status'));
  }, 180_000);

  afterAll(cleanup, 30000);

  it('postgres_exporter on the primary and the replica exposes the pinned names, except the ones v0.15.0 added', () => {
    const live = new Map([...postgresLive.primary, ...postgresLive.replica]);
    const c = compareWithPinned('postgres-exporter-v0.15.0.txt', live);
    expect({ debian: versions['prometheus-postgres-exporter'], ...c }).toEqual({ debian: versions['prometheus-postgres-exporter'], missing: [], lacksButHas: [], labelGaps: [] });
  });

  it('redis_exporter on a master, a replica and a Sentinel exposes the pinned names', () => {
    const live = new Map([...redisLive.master, ...redisLive.replica, ...redisLive.sentinel]);
    const c = compareWithPinned('redis-exporter-v1.62.0.txt', live);
    expect({ debian: versions['prometheus-redis-exporter'], ...c }).toEqual({ debian: versions['prometheus-redis-exporter'], missing: [], lacksButHas: [], labelGaps: [] });
    // The role values the alerts select on, as the exporter writes them.
    expect(redisLive.master.get('redis_instance_info')?.has('role')).toBe(true);
  });
});
