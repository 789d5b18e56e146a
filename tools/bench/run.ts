/**
 * `npm run bench [-- --repeat N] [--tests] [--keep]`: the six targets of issue 16,
 * measured in one run on this machine, each printed as met or missed with its numbers, then where
 * synth spends its time, phase by phase.
 *
 *   1. `npm run synth` of the shipped regions (as a user types it, npm included, full validation)
 *      <= 3x the baseline `node -e "require('cdk8s-plus-28')"`. Also shown: the same forced onto
 *      two threads (BOOKEDBARBER_THREADS=2), run alternately with the default.
 *   2. The first `npm run synth` in a fresh clone <= 5x the baseline. The clone is `git clone` of
 *      HEAD, or, when the working tree has changes, a copy of its tracked and untracked-not-ignored
 *      files (what a commit would hold); its node_modules is a hard-linked copy of this one without
 *      .cache (what `npm ci` installs, without the network), then `npm run prepare` (what `npm ci`
 *      runs next: tools/prepare.cjs). Also shown: the second synth there, and the first synth in a
 *      clone without the prepare step (`npm ci --ignore-scripts`: every cache cold).
 *   3. 64 synthetic regions (tools/bench/regions.ts) <= 6x the shipped regions, peak memory
 *      <= 1 GiB (the largest set the region model allows, if it ever allows fewer than 64: then
 *      the target is reported missed with the reason).
 *   4. `npm run diff -- --from A --to B` over two 64-region trees <= 2 s for a PR-like change
 *      (mutateTree), <= 10 s when every object of the 64 regions changes (touchEveryObject). The
 *      64-region tree is the 64-region synth, or, while the model refuses 64, two 32-region synths
 *      with disjoint names side by side (each valid; argocd/ from the first).
 *   5. `npm test` <= 2 minutes: only with --tests (it takes minutes).
 *   6. This report: every target with its numbers, and the phases.
 *
 * Phases: from `npm run synth -- --timings <file>` (main thread, then the worker thread if any).
 * Peak memory: every Node process of a measured command reports `process.resourceUsage().maxRSS`
 * at exit (a preload given through NODE_OPTIONS); the peak is the largest single process. Wall
 * times are the best of --repeat runs (default 3) unless said otherwise. Not a test: numbers
 * depend on the machine and on what else runs on it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { regionFiles } from '../../regions/load';
import { maxRegionsPerSet, writeSyntheticRegions } from './regions';

const ROOT = path.resolve(__dirname, '..', '..');
const MIB = 1024 * 1024;

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

function run(label: string, command: string, args: readonly string[], work: string, options: { cwd?: string; okStatus?: readonly number[]; env?: Record<string, string> } = {}): Run {
  const rssFile = path.join(work, `rss-${Date.now()}-${Math.random().toString(36).slice(2)}.txt`);
  const preload = path.join(work, 'rss-preload.cjs');
  if (!fs.existsSync(preload)) fs.writeFileSync(preload, PRELOAD);
  const env = {
    ...process.env,
    ...options.env,
    BENCH_RSS_FILE: rssFile,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${preload}`.trim(),
  };
  const started = process.hrtime.bigint();
  const result = spawnSync(command, [...args], { cwd: options.cwd ?? ROOT, env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const kb = fs.existsSync(rssFile)
    ? Math.max(0, ...fs.readFileSync(rssFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => Number(l.split(' ')[1])))
    : 0;
  const ok = (options.okStatus ?? [0]).includes(result.status ?? -1);
  return {
    label,
    wallMs,
    peakRssMb: kb / 1024,
    ok,
    note: ok ? undefined : `exit ${result.status ?? result.signal}: ${(result.stderr || result.stdout).trim().split('\n').slice(-3).join(' / ')}`,
    status: result.status,
    stdout: result.stdout ?? '',
    stderr: result.stderr ?? '',
  };
}

/**
 * Why `npm test` failed, in one line: vitest's FAIL lines (the failed tests by file and name),
 * and where its whole output is kept (outside the bench's work folder, which is removed): a
 * failure under a loaded machine must be findable after the run.
 */
function failedTestsNote(r: Run): string {
  const plain = `${r.stdout}\n${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
  const failed = [...new Set(plain.split('\n').filter((l) => /^ FAIL /.test(l)).map((l) => l.slice(6).trim()))];
  const log = path.join(os.tmpdir(), `bench-npm-test-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
  fs.writeFileSync(log, plain);
  const shown = failed.slice(0, 3).join('; ') || (r.note ?? `exit ${r.status}`);
  return `exit ${r.status}: ${shown}${failed.length > 3 ? ` (and ${failed.length - 3} more)` : ''}; whole output: ${log}`;
}

/** The best (lowest wall time) of `repeat` runs; peak RSS is the maximum over the runs. */
function best(repeat: number, once: (i: number) => Run): Run {
  return bestOf(Array.from({ length: repeat }, (_, i) => once(i)));
}

/** Where the fastest of `runs` is (its --timings file is numbered so). */
function fastestIndex(runs: readonly Run[]): number {
  return runs.indexOf(runs.reduce((a, b) => (b.wallMs < a.wallMs ? b : a)));
}

/** The best (lowest wall time) of runs made; peak RSS is the maximum over them. */
function bestOf(runs: readonly Run[]): Run {
  const fastest = runs[fastestIndex(runs)]!;
  return { ...fastest, peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)), ok: runs.every((r) => r.ok), note: runs.find((r) => !r.ok)?.note };
}

const fmt = (n: number, digits = 0) => n.toFixed(digits);

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r, ri) => r.map((c, i) => (i === 0 || ri === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

function git(args: string[], cwd = ROOT): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
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

const TOUCH = '    bench.bookedbarber.com/touched: "yes"';

/** One more annotation on a document's top-level metadata (added to `annotations`, or a new `annotations`). */
function touchDocument(doc: string): { text: string; touched: boolean } {
  const m = /^metadata:\n((?: {2}.*\n|\n)*)/m.exec(doc);
  if (!m) return { text: doc, touched: false };
  const block = /^ {2}annotations:\n/m.test(m[1]) ? m[1].replace(/^ {2}annotations:\n/m, `  annotations:\n${TOUCH}\n`) : `  annotations:\n${TOUCH}\n${m[1]}`;
  return { text: `${doc.slice(0, m.index)}metadata:\n${block}${doc.slice(m.index + m[0].length)}`, touched: true };
}

/** A copy of a rendered tree in which every object differs (one annotation more), on the text. Returns the number of objects. */
function touchEveryObject(from: string, to: string): number {
  fs.cpSync(from, to, { recursive: true });
  let objects = 0;
  for (const folder of fs.readdirSync(to)) {
    const dir = path.join(to, folder);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const name of fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
      const file = path.join(dir, name);
      const docs = fs.readFileSync(file, 'utf8').split(/^(?=---$)/m).map(touchDocument);
      objects += docs.filter((d) => d.touched).length;
      fs.writeFileSync(file, docs.map((d) => d.text).join(''));
    }
  }
  return objects;
}

/** Region folders of `sources` side by side in `to`; argocd/ from the first. */
function mergeTrees(sources: readonly string[], to: string): void {
  fs.mkdirSync(to, { recursive: true });
  sources.forEach((source, i) => {
    for (const entry of fs.readdirSync(source)) {
      if (i > 0 && entry === 'argocd') continue;
      if (fs.existsSync(path.join(to, entry))) throw new Error(`${entry} in two trees`);
      fs.cpSync(path.join(source, entry), path.join(to, entry), { recursive: true });
    }
  });
}

/**
 * A fresh clone in `dir`: `git clone` of HEAD when the working tree is clean, else a copy of the
 * files a commit would hold (tracked and untracked-not-ignored), so uncommitted work is measured.
 * node_modules: hard links to this one's files, without .cache (the synth bundle cache).
 */
function freshClone(dir: string): string {
  const dirty = git(['status', '--porcelain']).trim() !== '';
  let how: string;
  if (!dirty) {
    git(['clone', '--quiet', ROOT, dir]);
    how = `git clone of HEAD ${git(['rev-parse', '--short=12', 'HEAD']).trim()}`;
  } else {
    const files = git(['ls-files', '-z', '--cached', '--others', '--exclude-standard']).split('\0').filter(Boolean);
    let copied = 0;
    for (const rel of files) {
      const from = path.join(ROOT, rel);
      if (!fs.existsSync(from)) continue; // deleted in the working tree
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.copyFileSync(from, path.join(dir, rel));
      copied++;
    }
    how = `the working tree has uncommitted changes: a copy of its ${copied} tracked and untracked-not-ignored files (HEAD ${git(['rev-parse', '--short=12', 'HEAD']).trim()} + changes)`;
  }
  const modules = path.join(dir, 'node_modules');
  fs.mkdirSync(modules, { recursive: true });
  const entries = fs.readdirSync(path.join(ROOT, 'node_modules')).filter((e) => e !== '.cache').map((e) => path.join(ROOT, 'node_modules', e));
  const cp = spawnSync('cp', ['-al', ...entries, modules], { encoding: 'utf8' });
  if (cp.status !== 0) throw new Error(`cp -al node_modules: ${cp.stderr.trim()}`);
  return `${how}; node_modules hard-linked without .cache`;
}

interface Timings {
  readonly phases: Record<string, number>;
  readonly processMs?: number;
  readonly wallMs?: number;
  /** The worker thread's phases (synth on two threads). */
  readonly workerThread?: Timings;
}

function readTimings(file: string): Timings | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Timings;
  } catch {
    return undefined;
  }
}

/** The phase table: `a: b` is a part of `a` (indented, not added again); npm's start-up is the wall time minus the process's own. */
/**
 * The worker's table has no wall time of its own (`wallMs` undefined): its shares are of the sum
 * of its phases, and it has no npm start-up row.
 */
function phaseTable(title: string, t: Timings, wallMs?: number): string {
  const names = Object.keys(t.phases);
  const isPart = (k: string) => k.includes(': ') && names.includes(k.slice(0, k.indexOf(': ')));
  const top = names.filter((k) => !isPart(k));
  const total = top.reduce((a, k) => a + t.phases[k], 0);
  const thread = wallMs === undefined ? 'worker' : 'main';
  const processMs = thread === 'worker' ? total : (t.processMs ?? t.wallMs ?? total);
  if (wallMs === undefined) wallMs = total;
  const rows: string[][] = [['phase', 'ms', 'share of wall']];
  const share = (v: number) => `${fmt((100 * v) / wallMs)}%`;
  for (const k of top) {
    rows.push([k, fmt(t.phases[k]), share(t.phases[k])]);
    for (const part of names.filter((p) => isPart(p) && p.startsWith(`${k}: `))) rows.push([`  ${part.slice(k.length + 2)}`, fmt(t.phases[part]), share(t.phases[part])]);
  }
  if (processMs - total > 1) rows.push(['(in the process, not in a phase)', fmt(processMs - total), share(processMs - total)]);
  if (thread === 'main') rows.push(['npm start-up and exit (wall - process)', fmt(wallMs - processMs), share(wallMs - processMs)]);
  return `\n${title} (${fmt(wallMs)} ms ${thread === 'main' ? 'wall' : 'in its phases'}):\n${table(rows)}\n`;
}

/** The main thread's phase table, then the worker thread's (its own clock: from its start). */
function phaseTables(title: string, t: Timings, wallMs: number): string {
  const worker = t.workerThread;
  const workerTable = worker
    ? phaseTable(`${title}, worker thread (started with the process)`, worker)
    : '';
  return phaseTable(`${title}, main thread`, t, wallMs) + workerTable;
}

function main(): number {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      repeat: { type: 'string', default: '3' },
      tests: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
    },
  });
  const repeat = Math.max(1, Number(values.repeat));
  // The default is what is measured (the two-thread runs set their own): a caller's setting is dropped.
  delete process.env.BOOKEDBARBER_THREADS;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bb-bench-'));
  const log = (line: string) => process.stdout.write(`bench: ${line}\n`);
  const cpus = os.cpus();
  process.stdout.write(
    `machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${fmt(os.totalmem() / 1024 / MIB, 1)} GiB RAM, Node ${process.version}, ${os.platform()} ${os.release()}; load average ${os.loadavg().map((l) => fmt(l, 2)).join(' ')} at start\n`,
  );
  try {
    const shippedDir = path.join(ROOT, 'regions');
    const shipped = regionFiles(shippedDir).length;
    const serving = regionFiles(shippedDir).filter((f) => !/^role: standby$/m.test(fs.readFileSync(f, 'utf8'))).length;
    const shippedLabel = `${shipped} shipped regions (${serving} serving)`;
    const maxSet = maxRegionsPerSet();
    const big = Math.min(64, maxSet - (maxSet % 2));
    const r16 = path.join(work, 'regions-16');
    const rBig = path.join(work, `regions-${big}`);
    writeSyntheticRegions(shippedDir, r16, 16);
    writeSyntheticRegions(shippedDir, rBig, big);
    const help = run('synth --help', 'npm', ['run', '-s', 'synth', '--', '--help'], work);
    const hasTimings = /--timings/.test(help.stdout + help.stderr);
    const timingsArgs = (name: string) => (hasTimings ? ['--timings', path.join(work, `timings-${name}.json`)] : []);

    // The ratios of targets 1 and 2 divide one measurement by another, and this VM's speed moves
    // by a third within minutes: the baseline, the floors and the synth (by default, then forced
    // onto two threads) are measured in rounds, one of each per round, so a slow minute slows all
    // of them alike; each is the best of its `repeat` runs. What the floors measure is what any
    // `npm run synth` costs before it does anything: npm starting a node script, and the launcher
    // checking and loading the synth bundle (`--help` stops there). The two-thread runs show
    // whether one thread (the default below three cores, tools/synth/parallel.ts) still wins.
    log(`baseline, floors (npm running an empty node script, the synth launcher with --help) and synth ${shippedLabel} by default and on two threads, in ${repeat} rounds of one each (best of ${repeat} each)`);
    fs.writeFileSync(path.join(work, 'package.json'), JSON.stringify({ name: 'bench-floor', private: true, scripts: { empty: 'node -e 0' } }));
    const baselineRuns: Run[] = [];
    const floorNpmRuns: Run[] = [];
    const floorBundleRuns: Run[] = [];
    const shippedRuns: Run[] = [];
    const twoThreadRuns: Run[] = [];
    for (let i = 0; i < repeat; i++) {
      baselineRuns.push(run('baseline: require(cdk8s-plus-28)', process.execPath, ['-e', "require('cdk8s-plus-28')"], work));
      floorNpmRuns.push(run('floor: npm run of `node -e 0`', 'npm', ['run', '-s', 'empty'], work, { cwd: work }));
      floorBundleRuns.push(run('floor: npm run synth -- --help (bundle loaded, no work)', 'npm', ['run', '-s', 'synth', '--', '--help'], work));
      shippedRuns.push(run(`npm run synth (${shippedLabel})`, 'npm', ['run', '-s', 'synth', '--', '--out', path.join(work, `out-shipped-${i}`), ...timingsArgs(`shipped-${i}`)], work));
      twoThreadRuns.push(run(`npm run synth, two threads (BOOKEDBARBER_THREADS=2)`, 'npm', ['run', '-s', 'synth', '--', '--out', path.join(work, `out-shipped-2t-${i}`), ...timingsArgs(`shipped-2t-${i}`)], work, { env: { BOOKEDBARBER_THREADS: '2' } }));
    }
    const baseline = bestOf(baselineRuns);
    const floorNpm = bestOf(floorNpmRuns);
    const floorBundle = bestOf(floorBundleRuns);
    const synthShipped = bestOf(shippedRuns);
    const synthTwoThreads = bestOf(twoThreadRuns);
    // The phases of the fastest run.
    const shippedTimings = hasTimings ? readTimings(path.join(work, `timings-shipped-${fastestIndex(shippedRuns)}.json`)) : undefined;

    // A fresh clone is `git clone` + `npm ci`: npm ci runs the project's prepare step, which
    // warms the bundles and validators (tools/prepare.cjs). Measured as a user gets it, and also
    // without that step (npm ci --ignore-scripts: every cache cold, built by the first synth).
    log('fresh clone: npm ci\'s prepare step, then the first and a second synth; and a clone without the prepare step');
    const clone = path.join(work, 'clone');
    const bare = path.join(work, 'clone-no-prepare');
    let cloneHow = '';
    let prepare: Run | undefined;
    let cold: Run | undefined;
    let warm: Run | undefined;
    let unprepared: Run | undefined;
    try {
      cloneHow = freshClone(clone);
      freshClone(bare);
      prepare = run("fresh clone: npm ci's prepare step", 'npm', ['run', '-s', 'prepare'], work, { cwd: clone });
      cold = run('fresh clone: first npm run synth', 'npm', ['run', '-s', 'synth'], work, { cwd: clone });
      warm = run('fresh clone: second npm run synth', 'npm', ['run', '-s', 'synth'], work, { cwd: clone });
      unprepared = run('fresh clone without prepare: first npm run synth (all cold)', 'npm', ['run', '-s', 'synth'], work, { cwd: bare });
    } catch (error) {
      cloneHow = `failed: ${(error as Error).message}`;
    }

    log('synth 16 synthetic regions');
    const synth16 = run('npm run synth (16 synthetic regions)', 'npm', ['run', '-s', 'synth', '--', '--regions', r16, '--out', path.join(work, 'out-16')], work);
    // Target 3 divides the 64-region time by the shipped regions' time: as for targets 1 and 2,
    // both are measured in rounds, a synth of the shipped regions beside each 64-region synth, so
    // that a slow minute slows both; each is the best of its runs. Three rounds at most: a
    // 64-region synth takes 7-12 s here.
    const bigRounds = Math.min(repeat, 3);
    log(`synth ${big} synthetic regions, in ${bigRounds} rounds with a synth of the ${shippedLabel} beside each (best of ${bigRounds} each)`);
    const bigRuns: Run[] = [];
    const besideRuns: Run[] = [];
    for (let i = 0; i < bigRounds; i++) {
      besideRuns.push(run(`npm run synth (${shippedLabel}), beside the ${big}-region runs`, 'npm', ['run', '-s', 'synth', '--', '--out', path.join(work, `out-shipped-beside-${i}`)], work));
      bigRuns.push(run(`npm run synth (${big} synthetic regions)`, 'npm', ['run', '-s', 'synth', '--', '--regions', rBig, '--out', path.join(work, `out-${big}-${i}`), ...timingsArgs(`big-${i}`)], work));
    }
    const synthBig = bestOf(bigRuns);
    const shippedBeside = bestOf(besideRuns);
    const bigFastest = fastestIndex(bigRuns);

    // The 64-region trees for the diff.
    let diffNote = '';
    const tree64 = path.join(work, 'tree-64');
    let treeOk = false;
    if (big === 64) {
      treeOk = synthBig.ok;
      if (treeOk) fs.renameSync(path.join(work, `out-64-${bigFastest}`), tree64);
      diffNote = 'the 64-region synth';
    } else {
      log('two 32-region synths with disjoint names, for the 64-region diff trees');
      const halves = [0, 32].map((first) => {
        const dir = path.join(work, `regions-32-from-${first}`);
        writeSyntheticRegions(shippedDir, dir, 32, { firstIndex: first });
        return run(`synth 32 regions from ${first}`, 'npm', ['run', '-s', 'synth', '--', '--regions', dir, '--out', path.join(work, `out-32-from-${first}`)], work);
      });
      treeOk = halves.every((h) => h.ok);
      if (treeOk) mergeTrees([0, 32].map((first) => path.join(work, `out-32-from-${first}`)), tree64);
      diffNote = `two 32-region synths side by side (the model refuses one set of 64)${treeOk ? '' : `: failed (${halves.find((h) => !h.ok)?.note})`}`;
    }

    const script = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts ?? {}).diff as string | undefined;
    const diffRows: Run[] = [];
    let diffTypical: Run | undefined;
    let diffAll: Run | undefined;
    let touched = 0;
    if (!treeOk) {
      log('diff: skipped, no 64-region tree');
    } else if (!script) {
      log('diff: skipped, no "diff" npm script');
    } else {
      const typical = path.join(work, 'tree-64-pr');
      const every = path.join(work, 'tree-64-every-object');
      mutateTree(tree64, typical);
      touched = touchEveryObject(tree64, every);
      // A diff that finds changes may exit 1 by design (older CLIs); anything else is a failure.
      const diff = (label: string, to: string, command: string, args: string[]) => best(repeat, () => run(label, command, [...args, '--from', tree64, '--to', to], work, { okStatus: [0, 1] }));
      log(`diff over two 64-region trees, PR-like change and every object changed (\`${script}\`, best of ${repeat})`);
      diffTypical = diff('npm run diff, 64 regions, PR-like change', typical, 'npm', ['run', '-s', 'diff', '--']);
      diffAll = diff(`npm run diff, 64 regions, all ${touched} objects changed`, every, 'npm', ['run', '-s', 'diff', '--']);
      diffRows.push(diffTypical, diffAll);
      const launcher = path.join(ROOT, 'tools', 'diff', 'launch.cjs');
      if (!/launch\.cjs/.test(script) && fs.existsSync(launcher)) {
        log('diff through tools/diff/launch.cjs (not yet the npm script), for comparison');
        run('warm-up', process.execPath, [launcher, '--from', tree64, '--to', tree64], work);
        diffRows.push(
          diff('node tools/diff/launch.cjs, PR-like change', typical, process.execPath, [launcher]),
          diff(`node tools/diff/launch.cjs, all ${touched} objects changed`, every, process.execPath, [launcher]),
        );
      }
    }

    let tests: Run | undefined;
    if (values.tests) {
      log('npm test (one run; minutes)');
      tests = run('npm test', 'npm', ['test'], work);
      if (!tests.ok) tests = { ...tests, note: failedTestsNote(tests) };
    }

    const rows = [
      ['command', 'wall ms', 'peak RSS MB', 'status'],
      ...[baseline, floorNpm, floorBundle, synthShipped, synthTwoThreads, ...[prepare, cold, warm, unprepared].filter((m): m is Run => m !== undefined), synth16, shippedBeside, synthBig, ...diffRows, ...(tests ? [tests] : [])].map((m) => [
        m.label,
        fmt(m.wallMs),
        fmt(m.peakRssMb, 1),
        m.ok ? 'ok' : `FAILED ${m.note ?? ''}`,
      ]),
    ];
    process.stdout.write(`\n${table(rows)}\n`);
    process.stdout.write(`fresh clone: ${cloneHow}\n`);
    process.stdout.write(`64-region diff trees: ${diffNote}; diff script: ${script ?? '(none)'}\n\n`);

    const lines: string[] = [];
    const target = (n: number, what: string, met: boolean | undefined, numbers: string) =>
      lines.push(`target ${n}: ${met === undefined ? 'not measured' : met ? 'met' : 'MISSED'}: ${what}: ${numbers}`);
    const ratio = (a: Run, b: Run) => a.wallMs / b.wallMs;
    const b = baseline.wallMs;
    target(1, `npm run synth, ${shippedLabel}, <= 3x baseline`, synthShipped.ok && ratio(synthShipped, baseline) <= 3,
      `${fmt(synthShipped.wallMs)} ms vs baseline ${fmt(b)} ms = ${fmt(ratio(synthShipped, baseline), 2)}x (limit 3x = ${fmt(3 * b)} ms)${synthShipped.ok ? '' : `; failed: ${synthShipped.note}`}; ` +
      `before any work: npm starting node ${fmt(floorNpm.wallMs)} ms = ${fmt(ratio(floorNpm, baseline), 2)}x, with the synth bundle loaded ${fmt(floorBundle.wallMs)} ms = ${fmt(ratio(floorBundle, baseline), 2)}x; ` +
      `forced onto two threads (BOOKEDBARBER_THREADS=2, run alternately) ${fmt(synthTwoThreads.wallMs)} ms = ${fmt(ratio(synthTwoThreads, baseline), 2)}x`);
    if (cold && warm && prepare && unprepared) {
      target(2, 'first npm run synth in a fresh clone (git clone + npm ci), <= 5x baseline', cold.ok && prepare.ok && ratio(cold, baseline) <= 5,
        `${fmt(cold.wallMs)} ms = ${fmt(ratio(cold, baseline), 2)}x (limit 5x = ${fmt(5 * b)} ms); second run ${fmt(warm.wallMs)} ms = ${fmt(ratio(warm, baseline), 2)}x; ` +
        `npm ci's prepare step took ${fmt(prepare.wallMs)} ms${prepare.ok ? '' : ` and failed: ${prepare.note}`}; without it (npm ci --ignore-scripts, every cache cold) the first synth takes ${fmt(unprepared.wallMs)} ms = ${fmt(ratio(unprepared, baseline), 2)}x${cold.ok ? '' : `; failed: ${cold.note}`}`);
    } else target(2, 'first npm run synth in a fresh clone (git clone + npm ci), <= 5x baseline', false, `no clone (${cloneHow})`);
    const bigNumbers = `${big} regions ${fmt(synthBig.wallMs)} ms = ${fmt(ratio(synthBig, shippedBeside), 2)}x the shipped regions synthesised beside them, ${fmt(shippedBeside.wallMs)} ms (limit 6x = ${fmt(6 * shippedBeside.wallMs)} ms; best of ${bigRounds} rounds each), peak RSS ${fmt(synthBig.peakRssMb)} MiB (limit 1024)${synthBig.ok && shippedBeside.ok ? '' : `; failed: ${synthBig.note ?? shippedBeside.note}`}`;
    if (big === 64) target(3, '64 synthetic regions <= 6x shipped, peak <= 1 GiB', synthBig.ok && shippedBeside.ok && ratio(synthBig, shippedBeside) <= 6 && synthBig.peakRssMb <= 1024, bigNumbers);
    else target(3, '64 synthetic regions <= 6x shipped, peak <= 1 GiB', false, `64 regions cannot be synthesised: the region model allows at most ${maxSet} (rolloutWave unique, 1 to ${maxSet}); measured instead: ${bigNumbers}`);
    if (diffTypical && diffAll) {
      target(4, 'npm run diff over two 64-region trees, <= 2 s PR-like, <= 10 s every object', diffTypical.ok && diffAll.ok && diffTypical.wallMs <= 2000 && diffAll.wallMs <= 10000,
        `PR-like ${fmt(diffTypical.wallMs)} ms (limit 2000, ${fmt(diffTypical.wallMs / 2000, 2)}x of it), every object (${touched}) ${fmt(diffAll.wallMs)} ms (limit 10000, ${fmt(diffAll.wallMs / 10000, 2)}x of it)${diffTypical.ok && diffAll.ok ? '' : `; failed: ${diffTypical.note ?? diffAll.note}`}`);
    } else target(4, 'npm run diff over two 64-region trees', false, `not run (${diffNote})`);
    if (tests) target(5, 'npm test <= 2 minutes', tests.ok && tests.wallMs <= 120_000, `${fmt(tests.wallMs / 1000, 1)} s (limit 120 s, ${fmt(tests.wallMs / 120_000, 2)}x of it)${tests.ok ? '' : `; failed: ${tests.note}`}`);
    else lines.push('target 5: not measured (use --tests): npm test <= 2 minutes');
    lines.push(`target 6: ${hasTimings ? 'met' : 'MISSED'}: this report (each target with its numbers; synth phases below, from npm run synth -- --timings${hasTimings ? '' : ', which this synth does not have'})`);
    process.stdout.write(`${lines.join('\n')}\n`);

    if (hasTimings) {
      const bigTimings = readTimings(path.join(work, `timings-big-${bigFastest}.json`));
      if (shippedTimings) process.stdout.write(phaseTables(`Where synth spends its time, ${shippedLabel} (npm run synth -- --timings)`, shippedTimings, synthShipped.wallMs));
      const twoThreadTimings = readTimings(path.join(work, `timings-shipped-2t-${fastestIndex(twoThreadRuns)}.json`));
      if (twoThreadTimings) process.stdout.write(phaseTables(`Where synth spends its time, ${shippedLabel}, two threads (BOOKEDBARBER_THREADS=2)`, twoThreadTimings, synthTwoThreads.wallMs));
      if (bigTimings) process.stdout.write(phaseTables(`Where synth spends its time, ${big} synthetic regions (npm run synth -- --timings)`, bigTimings, synthBig.wallMs));
    }
    if (values.keep) log(`kept ${work}`);
    return 0;
  } finally {
    if (!values.keep) fs.rmSync(work, { recursive: true, force: true });
  }
}

process.exitCode = main();
