/**
 * `npm run bench [-- --repeat N] [--profile] [--keep]`: wall time and peak memory, measured in
 * one run, of
 *   - the baseline `node -e "require('cdk8s-plus-28')"`,
 *   - a full synth of the shipped regions,
 *   - synths of 16 and 64 synthetic regions made from the shipped ones (tools/bench/regions.ts),
 *   - `npm run diff -- --from A --to B` over two 64-region trees (if tools/diff/cli.ts exists),
 * with the targets of issue #6 (4-region synth <= 3x baseline, 64 regions <= 6x 4 regions,
 * diff <= 2 s), each marked met or missed. When a target is missed (or with --profile) it
 * shows where synth spends its time, phase by phase (tools/bench/profile.ts).
 *
 * Synth runs as a user types it: `npm run synth` (npm's own start-up included, issue 16), which
 * runs the prebuilt bundle (tools/synth/launch.cjs; the first run after a change rebuilds it). Peak
 * memory: every Node process of the
 * measured command reports `process.resourceUsage().maxRSS` at exit (a preload given through
 * NODE_OPTIONS); the peak is the largest single process. Not a test: numbers depend on the machine.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { regionFiles } from '../../regions/load';
import { writeSyntheticRegions } from './regions';

const ROOT = path.resolve(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

interface Measurement {
  readonly label: string;
  readonly wallMs: number;
  readonly peakRssMb: number;
  readonly ok: boolean;
  readonly note?: string;
}

const PRELOAD = `
const fs = require('node:fs');
process.on('exit', () => {
  try { fs.appendFileSync(process.env.BENCH_RSS_FILE, process.pid + ' ' + process.resourceUsage().maxRSS + '\\n'); } catch {}
});
`;

type Run = Measurement & { readonly stdout: string; readonly stderr: string; readonly status: number | null };

function run(label: string, command: string, args: readonly string[], work: string, options: { cwd?: string } = {}): Run {
  const rssFile = path.join(work, `rss-${Date.now()}-${Math.random().toString(36).slice(2)}.txt`);
  const preload = path.join(work, 'rss-preload.cjs');
  if (!fs.existsSync(preload)) fs.writeFileSync(preload, PRELOAD);
  const env = {
    ...process.env,
    BENCH_RSS_FILE: rssFile,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${preload}`.trim(),
  };
  const started = process.hrtime.bigint();
  const result = spawnSync(command, [...args], { cwd: options.cwd ?? ROOT, env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const kb = fs.existsSync(rssFile)
    ? Math.max(0, ...fs.readFileSync(rssFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => Number(l.split(' ')[1])))
    : 0;
  return {
    label,
    wallMs,
    peakRssMb: kb / 1024,
    ok: result.status === 0,
    note: result.status === 0 ? undefined : `exit ${result.status ?? result.signal}: ${(result.stderr || result.stdout).trim().split('\n').slice(-3).join(' / ')}`,
    status: result.status,
    stdout: result.stdout ?? '',
    stderr: result.stderr ?? '',
  };
}

/** The best (lowest wall time) of `repeat` runs; peak RSS is the maximum over the runs. */
function best(repeat: number, once: () => Run): Run {
  const runs = Array.from({ length: repeat }, once);
  const fastest = runs.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
  return { ...fastest, peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)), ok: runs.every((r) => r.ok), note: runs.find((r) => !r.ok)?.note };
}

const fmt = (n: number, digits = 0) => n.toFixed(digits);

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r, ri) => r.map((c, i) => (i === 0 || ri === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

/** Changes a copy of a rendered tree the way a real PR would (scale and pool settings of one region). */
function mutateTree(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true });
  const region = fs.readdirSync(to).filter((d) => d !== 'argocd').sort()[0];
  const api = path.join(to, region, 'api.yaml');
  fs.writeFileSync(api, fs.readFileSync(api, 'utf8').replace(/maxReplicas: ([0-9]+)/, (_, n) => `maxReplicas: ${Math.max(1, Number(n) - 100)}`));
  const pgb = path.join(to, region, 'pgbouncer.yaml');
  fs.writeFileSync(pgb, fs.readFileSync(pgb, 'utf8').replace(/default_pool_size = ([0-9]+)/, (_, n) => `default_pool_size = ${Math.max(1, Number(n) - 5)}`));
}

function profile(regionsDir: string, work: string, label: string): void {
  const out = path.join(work, `profile-${label}`);
  const r = run(`profile ${label}`, TSX, [path.join(ROOT, 'tools', 'bench', 'profile.ts'), regionsDir, out], work);
  if (!r.ok) {
    process.stdout.write(`profile ${label}: failed (${r.note})\n`);
    return;
  }
  const { phases } = JSON.parse(r.stdout.trim().split('\n').pop()!) as { phases: Record<string, number> };
  const total = Object.values(phases).reduce((a, b) => a + b, 0);
  process.stdout.write(`\nWhere synth spends its time, ${label} (in-process phases, ${fmt(total)} ms of ${fmt(r.wallMs)} ms wall; the rest is Node/tsx start-up):\n`);
  process.stdout.write(
    `${table([
      ['phase', 'ms', 'share'],
      ...Object.entries(phases).map(([k, v]) => [k, fmt(v), `${fmt((100 * v) / total)}%`]),
    ])}\n`,
  );
}

function main(): number {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { repeat: { type: 'string', default: '3' }, profile: { type: 'boolean', default: false }, keep: { type: 'boolean', default: false } },
  });
  const repeat = Math.max(1, Number(values.repeat));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bb-bench-'));
  const log = (line: string) => process.stdout.write(`bench: ${line}\n`);
  try {
    const r16 = path.join(work, 'regions-16');
    const r64 = path.join(work, 'regions-64');
    writeSyntheticRegions(path.join(ROOT, 'regions'), r16, 16);
    writeSyntheticRegions(path.join(ROOT, 'regions'), r64, 64);
    const shipped = regionFiles(path.join(ROOT, 'regions')).length;

    log(`baseline (best of ${repeat})`);
    const baseline = best(repeat, () => run('baseline: require(cdk8s-plus-28)', process.execPath, ['-e', "require('cdk8s-plus-28')"], work));
    log(`synth ${shipped} shipped regions (best of ${repeat})`);
    let n = 0;
    const synth4 = best(repeat, () => run(`npm run synth (${shipped} regions)`, 'npm', ['run', '-s', 'synth', '--', '--out', path.join(work, `out-4-${n++}`)], work));
    log('synth 16 regions');
    const synth16 = run('npm run synth (16 regions)', 'npm', ['run', '-s', 'synth', '--', '--regions', r16, '--out', path.join(work, 'out-16')], work);
    log('synth 64 regions');
    const synth64 = run('npm run synth (64 regions)', 'npm', ['run', '-s', 'synth', '--', '--regions', r64, '--out', path.join(work, 'out-64')], work);

    let diff: Measurement | undefined;
    const diffCli = path.join(ROOT, 'tools', 'diff', 'cli.ts');
    const hasScript = Boolean((JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts ?? {}).diff);
    if (!fs.existsSync(diffCli)) {
      log('diff: skipped, tools/diff/cli.ts does not exist yet');
    } else if (!synth64.ok) {
      log('diff: skipped, the 64-region synth failed');
    } else {
      const a = path.join(work, 'out-64');
      const b = path.join(work, 'out-64-changed');
      mutateTree(a, b);
      log(`diff over two 64-region trees (${hasScript ? 'npm run diff' : 'tsx tools/diff/cli.ts: no "diff" npm script yet'})`);
      const m = hasScript
        ? run('diff 64 vs 64 regions', 'npm', ['run', '-s', 'diff', '--', '--from', a, '--to', b], work)
        : run('diff 64 vs 64 regions', TSX, [diffCli, '--from', a, '--to', b], work);
      // A diff that finds changes may exit 1 by design; anything else is a failure.
      diff = { ...m, ok: m.status === 0 || m.status === 1 };
    }

    const rows = [['command', 'wall ms', 'peak RSS MB', 'status'], ...[baseline, synth4, synth16, synth64, ...(diff ? [diff] : [])].map((m) => [m.label, fmt(m.wallMs), fmt(m.peakRssMb, 1), m.ok ? 'ok' : `FAILED ${m.note ?? ''}`])];
    process.stdout.write(`\n${table(rows)}\n\n`);

    const ratio4 = synth4.wallMs / baseline.wallMs;
    const ratio64 = synth64.wallMs / synth4.wallMs;
    const targets: [string, string, string, boolean][] = [
      [`${shipped}-region synth / baseline`, `${fmt(ratio4, 2)}x`, '<= 3x', synth4.ok && ratio4 <= 3],
      ['16-region synth / 4-region', `${fmt(synth16.wallMs / synth4.wallMs, 2)}x`, '(info)', true],
      ['64-region synth / 4-region', `${fmt(ratio64, 2)}x`, '<= 6x', synth64.ok && ratio64 <= 6],
      ['64-region synth / baseline', `${fmt(synth64.wallMs / baseline.wallMs, 2)}x`, '(info)', true],
      ['64-region diff', diff ? `${fmt(diff.wallMs / 1000, 2)} s (${fmt(diff.wallMs / baseline.wallMs, 2)}x baseline)` : 'not run', '<= 2 s', Boolean(diff && diff.ok && diff.wallMs <= 2000)],
    ];
    process.stdout.write(
      `${table([['ratio', 'value', 'target', 'result'], ...targets.map(([k, v, t, ok]) => [k, v, t, t === '(info)' ? '' : v === 'not run' ? 'not measured' : ok ? 'met' : 'MISSED'])])}\n`,
    );
    const missed = targets.some(([, v, t, ok]) => t !== '(info)' && v !== 'not run' && !ok);
    if (values.profile || missed) {
      profile(path.join(ROOT, 'regions'), work, `${shipped} regions`);
      profile(r64, work, '64 regions');
    }
    if (values.keep) log(`kept ${work}`);
    return 0;
  } finally {
    if (!values.keep) fs.rmSync(work, { recursive: true, force: true });
  }
}

process.exitCode = main();
