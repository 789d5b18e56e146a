/**
 * Synth on two threads (tools/synth/parallel.ts) must be the same synth: the same files byte for
 * byte, the same progress lines, and — when something is wrong — the same findings as one run of
 * the validator over the whole tree.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { definition } from '../../main';
import { loadPlan } from '../../regions/load';
import type { PlatformPlan } from '../../regions/plan';
import { answerShare, shareRegions, wantsWorker } from '../../tools/synth/parallel';
import type { RenderedFile } from '../../tools/synth/render';
import { failureMessage } from '../../tools/synth/run';
import { mergeReports, treeFindings, validateRendered, validateRenderedRegions } from '../../tools/validate';
import { REGIONS_DIR, REPO_ROOT, tempDir } from '../support/regions';
import { renderShipped, shippedProgress } from '../support/rendered';
import { readTree } from '../support/tree';

type Obj = Record<string, any>;

let plan: PlatformPlan;
let files: RenderedFile[];
/** The progress lines of the one-thread render. */
const progress: string[] = [];

beforeAll(() => {
  plan = loadPlan(REGIONS_DIR);
  // renderAll(definition, plan, { log }), made once per worker (test/support/rendered.ts).
  files = renderShipped();
  progress.push(...shippedProgress().map((line) => `synth: ${line}`));
});

const connections = (region: string) => {
  const regionPlan = plan.regions.find((r) => r.region.name === region);
  return regionPlan ? definition.connections!(regionPlan) : undefined;
};

/** A copy of the rendered files with `change` applied to their documents. */
function broken(change: (file: string, documents: Obj[]) => Obj[]): RenderedFile[] {
  return files.map((f) => (f.documents ? { ...f, documents: change(f.path, structuredClone(f.documents) as Obj[]) } : f));
}

describe('sharing the regions between two threads', () => {
  it('gives every region to exactly one thread, the same way every time, standby regions counting less', () => {
    const names = plan.regions.map((r) => r.region.name);
    const [mine, theirs] = shareRegions(plan, names, { global: true });
    expect([...mine, ...theirs].sort()).toEqual([...names].sort());
    expect(mine.filter((n) => theirs.includes(n))).toEqual([]);
    expect(theirs.length).toBeGreaterThan(0);
    expect(shareRegions(plan, names, { global: true })).toEqual([mine, theirs]);
    // The main thread also writes argocd/: it never takes more of the regions than the worker, and both take serving ones.
    const weight = (names: string[]) => names.reduce((n, name) => n + (plan.regions.find((r) => r.region.name === name)!.region.role === 'standby' ? 1 : 4), 0);
    expect(weight(mine)).toBeLessThanOrEqual(weight(theirs));
    for (const share of [mine, theirs]) expect(share.some((name) => plan.regions.find((r) => r.region.name === name)!.region.role !== 'standby')).toBe(true);
  });

  it('finds exactly what one validator run over the whole tree finds', () => {
    // Break a region folder of each thread and the global folder.
    const tree = broken((file, docs) => {
      if (file === 'eu-west-1/api.yaml') return docs.filter((d) => !(d.kind === 'Service' && d.metadata.name === 'bookedbarber-api'));
      if (file === 'us-east-1/web.yaml') for (const d of docs) if (d.kind === 'Rollout') d.spec.replica = 3;
      if (file === 'us-west-2/namespaces.yaml') return docs.filter((d) => d.kind !== 'Namespace' || !d.metadata.name.endsWith('-app'));
      if (file.startsWith('argocd/')) for (const d of docs) if (d.kind === 'Application') d.spec.destination.namespac = 'x';
      // A whole-tree rule: us-east-1's shard 1 archiving to us-west-2's shard-2 prefix. Seen whole: two
      // writers of one prefix. Seen from us-east-1 alone, it would instead look as if its DR site of
      // shard 2 restored from a cluster of its own region.
      if (file === 'us-east-1/postgres.yaml') {
        for (const d of docs) {
          if (d.kind !== 'StatefulSet' || d.metadata.name !== 'bookedbarber-postgres-shard-1') continue;
          for (const c of d.spec.template.spec.containers) for (const env of c.env ?? []) if (env.name === 'WALG_S3_PREFIX') env.value = 's3://bookedbarber-pitr-us-west-2/shard-2';
        }
      }
      return docs;
    });
    const root = '/dist';
    const whole = validateRendered(root, tree, { connections });
    expect(whole.findings.length).toBeGreaterThan(10);
    // Its two containers and shard 2's two in us-west-2; and us-west-2's DR site of shard 1 (files and topology Job) now reads a prefix nobody writes.
    expect(whole.findings.filter((f) => f.rule === 'walg-prefix').map((f) => `${f.file} ${f.object}`)).toEqual([
      ...Array(2).fill('/dist/us-east-1/postgres.yaml StatefulSet bookedbarber-data/bookedbarber-postgres-shard-1'),
      '/dist/us-west-2/postgres.yaml ConfigMap bookedbarber-data/bookedbarber-postgres-shard-1-dr-files',
      ...Array(2).fill('/dist/us-west-2/postgres.yaml StatefulSet bookedbarber-data/bookedbarber-postgres-shard-2'),
      '/dist/us-west-2/postgres.yaml Job bookedbarber-data/bookedbarber-postgres-shard-1-dr-topology',
    ]);
    const regions = plan.regions.map((r) => r.region.name);
    for (const [mine, theirs] of [shareRegions(plan, regions, { global: true }), [regions.slice(0, 1), regions.slice(1)], [[], regions]]) {
      const inFolders = (names: readonly string[]) => tree.filter((f) => names.includes(f.path.split('/')[0]!));
      const global = tree.filter((f) => f.path.startsWith('argocd/'));
      // As synthInParallel: each thread without the whole-tree rules, then those over both shares.
      const main = validateRendered(root, [...inFolders(mine), ...global], { connections, treeRules: false });
      const worker = validateRenderedRegions(root, inFolders(theirs), global, { connections, treeRules: false });
      const merged = mergeReports([main, worker, treeFindings(root, tree)]);
      expect(merged.findings).toEqual(whole.findings);
      expect([merged.files, merged.objects]).toEqual([whole.files, whole.objects]);
      expect([...merged.notes].sort()).toEqual([...whole.notes].sort());
    }
  });

  it('answers a failed render with the message the user would see from one thread', () => {
    const reply = answerShare(
      { distDir: '/dist', validate: true },
      plan,
      ['eu-west-1'],
      () => {
        throw new Error('boom');
      },
      (error) => failureMessage(error),
    );
    expect(reply.files).toBeUndefined();
    expect(reply.failure).toBe(failureMessage(new Error('boom')));
    expect(reply.failure).toContain('internal error');
  });
});

describe('the number of threads', () => {
  it('is two with three cores or more, one on two cores or for a single region, or what BOOKEDBARBER_THREADS says', () => {
    const before = process.env.BOOKEDBARBER_THREADS;
    try {
      delete process.env.BOOKEDBARBER_THREADS;
      expect([wantsWorker(6, 1), wantsWorker(6, 2), wantsWorker(6, 3), wantsWorker(6, 8), wantsWorker(1, 8)]).toEqual([false, false, true, true, false]);
      process.env.BOOKEDBARBER_THREADS = '1';
      expect(wantsWorker(6, 8)).toBe(false);
      process.env.BOOKEDBARBER_THREADS = '2';
      expect([wantsWorker(6, 2), wantsWorker(6, 1), wantsWorker(1, 2)]).toEqual([true, true, false]);
      // Anything else: the cores decide.
      process.env.BOOKEDBARBER_THREADS = 'many';
      expect([wantsWorker(6, 2), wantsWorker(6, 4)]).toEqual([false, true]);
    } finally {
      if (before === undefined) delete process.env.BOOKEDBARBER_THREADS;
      else process.env.BOOKEDBARBER_THREADS = before;
    }
  });
});

describe('npm run synth on two threads', () => {
  it('writes the same tree and prints the same lines as one thread renders', () => {
    const out = tempDir('bb-threads-');
    const timings = path.join(tempDir('bb-threads-timings-'), 't.json');
    const run = spawnSync(process.execPath, [path.join(REPO_ROOT, 'tools', 'synth', 'launch.cjs'), '--out', out, '--timings', timings], {
      cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, BOOKEDBARBER_THREADS: '2' },
    });
    expect(run.status, run.stderr).toBe(0);
    expect(readTree(out)).toEqual(Object.fromEntries(files.map((f) => [f.path, f.content])));
    const withoutTimes = (lines: string[]) => lines.map((l) => l.replace(/\s+[0-9]+ ms$/, ''));
    const printed = run.stdout.trim().split('\n');
    expect(printed.pop()).toMatch(new RegExp(`^synth: wrote ${files.length} files to \\S+ in [0-9]+ ms$`));
    expect(withoutTimes(printed)).toEqual(withoutTimes(progress));
    // It did run a worker thread: its phases are in the timings.
    expect(JSON.parse(fs.readFileSync(timings, 'utf8')).workerThread?.phases).toBeDefined();
  }, 180_000);
});
