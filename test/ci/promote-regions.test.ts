// Checks on .github/workflows/promote-regions.yml, the progressive region rollout (issue #3 item
// 5): it must pass the GitHub workflow schema check, pin its actions, hold write access only where
// it pushes, never overlap, and - run for real against a scratch git remote and a fake Argo CD
// API - move wave n's branch only once every Application of wave n-1 is Synced and Healthy at
// the promoted commit, and stop at a wave that degrades.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ArgoCdChart, rolloutWaves } from '../../charts/argocd/chart';
import { renderApp } from '../../tools/synth/render';
import { newApp, shippedPlan } from '../support/charts';
import { describeWorkflowSchemaCheck } from '../support/workflow-lint';

const root = resolve(__dirname, '..', '..');
const workflowPath = join(root, '.github', 'workflows', 'promote-regions.yml');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  env?: Record<string, unknown>;
  with?: Record<string, unknown>;
}
interface Job {
  if?: string;
  'runs-on'?: unknown;
  'timeout-minutes'?: number;
  permissions?: unknown;
  env?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: Record<string, any>;
  permissions?: unknown;
  concurrency?: { group?: unknown; 'cancel-in-progress'?: unknown };
  jobs: Record<string, Job>;
}

const workflowText = readFileSync(workflowPath, 'utf8');
const workflow = parse(workflowText) as Workflow;
const jobs = Object.entries(workflow.jobs);
const steps = jobs.flatMap(([, job]) => job.steps);
const stepRun = (name: string): string => {
  const step = steps.find((s) => s.name === name);
  if (!step?.run) throw new Error(`no step "${name}" with a run script`);
  return step.run;
};

describeWorkflowSchemaCheck(workflowPath);

describe('promote-regions.yml: triggers, privileges, pins', () => {
  it('runs after a CI run on main, or by hand; never on pull requests', () => {
    expect(Object.keys(workflow.on).sort()).toEqual(['workflow_dispatch', 'workflow_run']);
    expect(workflow.on.workflow_run).toEqual({ workflows: ['CI'], types: ['completed'], branches: ['main'] });
    expect(workflowText).not.toMatch(/pull_request/);
  });

  it('promotes only green CI runs of pushes to this repository (a fork branch named main is not main)', () => {
    const [, job] = jobs[0]!;
    expect(job.if).toContain("github.event.workflow_run.conclusion == 'success'");
    expect(job.if).toContain("github.event.workflow_run.event == 'push'");
    expect(job.if).toContain('github.event.workflow_run.head_repository.full_name == github.repository');
    // A manual run uses the workflow file of the ref it starts from: only main's may push.
    expect(job.if).toContain("(github.event_name == 'workflow_dispatch' && github.ref == 'refs/heads/main')");
  });

  it('grants nothing by default and only contents: write (and actions: read, for CI runs) to the one job that pushes', () => {
    expect(workflow.permissions).toEqual({});
    expect(jobs).toHaveLength(1);
    expect(jobs[0]![1].permissions).toEqual({ contents: 'write', actions: 'read' });
    expect(workflowText).not.toMatch(/write-all|id-token|pull_request_target/);
  });

  it('never runs two promotions at once and never cancels one half-way, and a skipped run never joins the queue', () => {
    // On the job: a workflow-level group would let a run the job's `if` skips replace a pending promotion.
    expect(workflow.concurrency).toBeUndefined();
    const job = jobs[0]![1] as { concurrency?: { group?: unknown; 'cancel-in-progress'?: unknown }; if?: unknown };
    expect(job.if).toBeTypeOf('string');
    expect(job.concurrency?.group).toBe('promote-regions');
    expect(job.concurrency?.['cancel-in-progress']).toBe(false);
  });

  it('pins every action to a full commit SHA with the version in a comment', () => {
    const uses = steps.map((s) => s.uses).filter((u): u is string => typeof u === 'string');
    expect(uses.length).toBeGreaterThan(0);
    for (const u of uses) expect(u, `${u} is not pinned to a commit`).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
    for (const line of workflowText.split('\n').filter((l) => /^\s*(-\s+)?uses:/.test(l))) {
      expect(line).toMatch(/uses:\s*\S+@[0-9a-f]{40} # v\d+\.\d+\.\d+\s*$/);
    }
  });

  it('downloads no tool and interpolates nothing into its scripts (inputs and secrets arrive as env)', () => {
    for (const step of steps.filter((s) => s.run)) {
      expect(step.run, step.name).not.toMatch(/\$\{\{/);
      expect(step.run, step.name).not.toMatch(/releases\/download|wget |curl [^\n]*-[oO]\b/);
    }
    const [, job] = jobs[0]!;
    expect(job.env?.ARGOCD_AUTH_TOKEN).toBe('${{ secrets.ARGOCD_AUTH_TOKEN }}');
    expect(job.env?.ARGOCD_SERVER).toBe('${{ secrets.ARGOCD_SERVER }}');
  });

  it('gives every wave its timeout within the job timeout', () => {
    const [, job] = jobs[0]!;
    const waves = rolloutWaves(shippedPlan()).length;
    expect(job['timeout-minutes']).toBeTypeOf('number');
    expect(waves * Number(job.env?.WAVE_TIMEOUT_SECONDS)).toBeLessThan(job['timeout-minutes']! * 60);
    // A job on a GitHub-hosted runner is cancelled after 6 hours whatever timeout-minutes says.
    expect(job['timeout-minutes']).toBeLessThanOrEqual(360);
  });
});

// --------------------------------------------------------------------------------------------
// The scripts, run for real: a bare repository stands in for GitHub, an HTTP server for Argo CD.

/** The exact yq invocation of the workflow; the stub refuses anything else (mikefarah yq v4 is on the runners). */
const YQ_ARGS = ['-o=json', '-I=0', 'select(.kind == "ApplicationSet") | .spec.generators[0].list.elements[]'];

interface Run {
  readonly code: number | null;
  readonly output: string;
}

function sh(cwd: string, ...args: string[]): string {
  const r = spawnSync(args[0]!, args.slice(1), { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

function runScript(script: string, cwd: string, env: Record<string, string>): Promise<Run> {
  return new Promise((done) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], { cwd, env });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => done({ code, output }));
  });
}

interface Scratch {
  readonly dir: string;
  readonly origin: string;
  readonly events: string;
  readonly bin: string;
  readonly first: string;
  readonly second: string;
}

/** origin.git with main at `first` then `second`, rollout branches at `first`, and an event log. */
function scratchRepository(): Scratch {
  const dir = mkdtempSync(join(tmpdir(), 'promote-run-'));
  const origin = join(dir, 'origin.git');
  const seed = join(dir, 'seed');
  const events = join(dir, 'events.log');
  const bin = join(dir, 'bin');
  writeFileSync(events, '');
  sh(dir, 'git', 'init', '--quiet', '--bare', '--initial-branch=main', origin);
  // Every ref update on the "GitHub" side goes into the same log as the fake Argo CD's answers.
  writeFileSync(join(origin, 'hooks', 'post-receive'), `#!/bin/sh\nwhile read old new ref; do echo "push $ref $new" >> '${events}'; done\n`);
  chmodSync(join(origin, 'hooks', 'post-receive'), 0o755);

  const app = newApp();
  new ArgoCdChart(app, { plan: shippedPlan() });
  const [argocd] = renderApp(app, 'argocd', ['test']);
  mkdirSync(join(seed, 'dist', 'argocd'), { recursive: true });
  sh(dir, 'git', 'init', '--quiet', '--initial-branch=main', seed);
  writeFileSync(join(seed, 'dist', 'argocd', 'argocd.yaml'), argocd!.content);
  const commit = (message: string) => {
    sh(seed, 'git', 'add', '-A');
    sh(seed, 'git', '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '--quiet', '-m', message);
    return sh(seed, 'git', 'rev-parse', 'HEAD');
  };
  const first = commit('first');
  sh(seed, 'git', 'remote', 'add', 'origin', origin);
  const waves = rolloutWaves(shippedPlan());
  sh(seed, 'git', 'push', '--quiet', 'origin', 'main', ...waves.slice(1).map((w) => `main:refs/heads/${w.targetRevision}`));
  writeFileSync(join(seed, 'CHANGELOG'), 'a release\n');
  const second = commit('second');
  sh(seed, 'git', 'push', '--quiet', 'origin', 'main');
  writeFileSync(events, '');

  mkdirSync(bin);
  const yaml = JSON.stringify(join(root, 'node_modules', 'yaml'));
  writeFileSync(
    join(bin, 'yq'),
    `#!/usr/bin/env node
const expected = ${JSON.stringify(YQ_ARGS)};
if (JSON.stringify(process.argv.slice(2)) !== JSON.stringify(expected)) { console.error('yq stub: unexpected arguments ' + JSON.stringify(process.argv.slice(2))); process.exit(2); }
const { parseAllDocuments } = require(${yaml});
const docs = parseAllDocuments(require('fs').readFileSync(0, 'utf8')).map((d) => d.toJS()).filter((o) => o && o.kind === 'ApplicationSet');
for (const o of docs) for (const e of o.spec.generators[0].list.elements) console.log(JSON.stringify(e));
`,
  );
  chmodSync(join(bin, 'yq'), 0o755);
  // GitHub's API as the workflow asks it: the green CI runs of pushes of a commit ($GREEN_SHAS).
  writeFileSync(
    join(bin, 'gh'),
    `#!/usr/bin/env node
const args = process.argv.slice(2);
const expected = ['api', '-X', 'GET', 'repos/' + process.env.GITHUB_REPOSITORY + '/actions/workflows/ci.yml/runs', '-f'];
if (JSON.stringify(args.slice(0, 5)) !== JSON.stringify(expected) || !args.includes('event=push') || !args.includes('status=success') || args[args.length - 1] !== '.total_count') {
  console.error('gh stub: unexpected arguments ' + JSON.stringify(args)); process.exit(2);
}
if (!process.env.GH_TOKEN) { console.error('gh stub: no GH_TOKEN'); process.exit(4); }
const sha = args.find((a) => a.startsWith('head_sha=')).slice('head_sha='.length);
console.log((process.env.GREEN_SHAS || '').split(' ').includes(sha) ? 1 : 0);
`,
  );
  chmodSync(join(bin, 'gh'), 0o755);
  return { dir, origin, events, bin, first, second };
}

/** A clone of origin, as actions/checkout leaves it (full history, origin remote). */
function checkout(s: Scratch, name: string): string {
  const work = join(s.dir, name);
  sh(s.dir, 'git', 'clone', '--quiet', s.origin, work);
  return work;
}

/**
 * Fake Argo CD: an Application reports the head of the branch it tracks as its revision,
 * OutOfSync/Progressing on the first answer about a new revision, then Synced and Healthy -
 * unless `degrade` names it, then it stays Degraded.
 */
async function fakeArgoCd(s: Scratch, options: { token: string; degrade?: string; unavailable?: { app: string; requests: number; status?: number } }): Promise<{ server: Server; url: string; calls: string[] }> {
  const branchOf = new Map(rolloutWaves(shippedPlan()).flatMap((w) => w.applications.map((a) => [a, w.targetRevision] as const)));
  const seen = new Map<string, number>();
  const calls: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const app = decodeURIComponent(url.pathname.replace('/api/v1/applications/', ''));
    calls.push(`${req.headers.authorization} ${url.pathname}${url.search}`);
    // An outage: the first requests about one Application get 503, with a JSON body as Argo CD's.
    if (options.unavailable?.app === app && options.unavailable.requests > 0) {
      options.unavailable.requests--;
      res.writeHead(options.unavailable.status ?? 503, { 'content-type': 'application/json' }).end('{"error":"unavailable","code":14}');
      return;
    }
    const branch = branchOf.get(app);
    // As Argo CD answers: 401 for a bad token, 403 (not 404) for an Application that does not exist.
    if (req.headers.authorization !== `Bearer ${options.token}` || !branch) {
      res.writeHead(req.headers.authorization !== `Bearer ${options.token}` ? 401 : 403).end();
      return;
    }
    const revision = sh(s.dir, 'git', '--git-dir', s.origin, 'rev-parse', `refs/heads/${branch}`);
    const key = `${app}@${revision}`;
    const answers = (seen.get(key) ?? 0) + 1;
    seen.set(key, answers);
    let status = { sync: 'OutOfSync', health: 'Progressing', phase: 'Running' };
    if (answers > 1) status = app === options.degrade ? { sync: 'Synced', health: 'Degraded', phase: 'Succeeded' } : { sync: 'Synced', health: 'Healthy', phase: 'Succeeded' };
    if (status.health === 'Healthy' && answers === 2) writeFileSync(s.events, `healthy ${app} ${revision}\n`, { flag: 'a' });
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        metadata: { name: app },
        status: {
          sync: { status: status.sync, revision },
          health: { status: status.health },
          operationState: { phase: status.phase, syncResult: { revision } },
        },
      }),
    );
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls };
}

describe('promotion, run against a scratch remote and a fake Argo CD', () => {
  const waves = rolloutWaves(shippedPlan());
  const token = 'test-token';
  const scratches: Scratch[] = [];
  afterAll(() => {
    for (const s of scratches) rmSync(s.dir, { recursive: true, force: true });
  });
  function scratch(): Scratch {
    const s = scratchRepository();
    scratches.push(s);
    return s;
  }

  /** A promotion of `second` in a fresh scratch remote against a fake Argo CD (`fake` options), from a checkout named `name`. */
  async function promoteAgainst(fake: Omit<Parameters<typeof fakeArgoCd>[1], 'token'>, name: string, extra: Record<string, string> = {}): Promise<{ s: Scratch; r: Run }> {
    const s = scratch();
    const argocd = await fakeArgoCd(s, { token, ...fake });
    try {
      const work = checkout(s, name);
      return { s, r: await promote(work, env(s, work, argocd.url, { RUN_SHA: s.second, ...extra })) };
    } finally {
      argocd.server.close();
    }
  }

  function env(s: Scratch, work: string, server: string, extra: Record<string, string> = {}): Record<string, string> {
    const githubEnv = `${work}.env`;
    writeFileSync(githubEnv, '');
    return {
      PATH: `${s.bin}:${process.env.PATH}`,
      HOME: s.dir,
      GITHUB_ENV: githubEnv,
      GITHUB_STEP_SUMMARY: join(s.dir, 'summary.md'),
      ARGOCD_SERVER: server,
      ARGOCD_AUTH_TOKEN: token,
      WAVE_TIMEOUT_SECONDS: '20',
      POLL_SECONDS: '0',
      DEGRADED_POLLS: '3',
      ...extra,
    };
  }

  /** The two steps of the job, in order, as the runner would run them. */
  async function promote(work: string, e: Record<string, string>): Promise<Run> {
    const resolved = await runScript(stepRun('Resolve the commit to promote'), work, e);
    if (resolved.code !== 0) return resolved;
    const exported = Object.fromEntries(
      readFileSync(e.GITHUB_ENV!, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('=') as [string, string]),
    );
    return runScript(stepRun('Promote wave by wave'), work, { ...e, ...exported });
  }

  const branchHead = (s: Scratch, branch: string) => sh(s.dir, 'git', '--git-dir', s.origin, 'rev-parse', `refs/heads/${branch}`);

  it('refuses a commit that is not on main', async () => {
    const s = scratch();
    const work = checkout(s, 'stranger');
    sh(work, 'git', 'checkout', '--quiet', '-b', 'topic');
    writeFileSync(join(work, 'x'), 'x');
    sh(work, 'git', 'add', 'x');
    sh(work, 'git', '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '--quiet', '-m', 'topic');
    sh(work, 'git', 'push', '--quiet', 'origin', 'topic');
    const topic = sh(work, 'git', 'rev-parse', 'HEAD');
    const r = await runScript(stepRun('Resolve the commit to promote'), work, env(s, work, 'http://127.0.0.1:9', { INPUT_COMMIT: topic }));
    expect(r.code, r.output).not.toBe(0);
    expect(r.output).toContain('is not on main');
  });

  it('refuses a manual run for a commit CI has not passed, and takes one it has', async () => {
    const s = scratch();
    const work = checkout(s, 'manual');
    const manual = (green: string) => env(s, work, 'http://127.0.0.1:9', { INPUT_COMMIT: s.second, GITHUB_EVENT_NAME: 'workflow_dispatch', GITHUB_REPOSITORY: 'bookedbarber/gitops', GH_TOKEN: 't', GREEN_SHAS: green });
    const refused = await runScript(stepRun('Resolve the commit to promote'), work, manual(s.first));
    expect(refused.code, refused.output).not.toBe(0);
    expect(refused.output).toContain(`${s.second} has no successful CI run`);
    const taken = await runScript(stepRun('Resolve the commit to promote'), work, manual(`${s.first} ${s.second}`));
    expect(taken.code, taken.output).toBe(0);
    expect(readFileSync(join(s.dir, 'manual.env'), 'utf8')).toBe(`COMMIT=${s.second}\n`);
  });

  it('moves each wave only after the previous wave is Synced and Healthy at the commit, wave 1 first', async () => {
    const s = scratch();
    const fake = await fakeArgoCd(s, { token });
    try {
      const work = checkout(s, 'green');
      const r = await promote(work, env(s, work, fake.url, { RUN_SHA: s.second }));
      expect(r.code, r.output).toBe(0);
      for (const wave of waves.slice(1)) expect(branchHead(s, wave.targetRevision), wave.targetRevision).toBe(s.second);

      // The log of GitHub pushes and Argo CD health, in the order they happened.
      // Within a wave the Applications turn healthy in any order; the pushes separate the waves.
      const events = readFileSync(s.events, 'utf8').trim().split('\n');
      const byWave = (lines: string[]) => {
        const out: string[][] = [[]];
        for (const line of lines) {
          if (line.startsWith('push ')) out.push([line]);
          else out[out.length - 1]!.push(line);
        }
        return out.map((group) => [...group].sort());
      };
      const expected = waves.flatMap((wave, i) => [
        ...(i === 0 ? [] : [`push refs/heads/${wave.targetRevision} ${s.second}`]),
        ...wave.applications.map((a) => `healthy ${a} ${s.second}`),
      ]);
      expect(byWave(events)).toEqual(byWave(expected));
      expect(fake.calls.every((c) => c.startsWith(`Bearer ${token} /api/v1/applications/`))).toBe(true);
      expect(fake.calls.some((c) => c.endsWith('?refresh=normal'))).toBe(true);

      // Promoting the same commit again pushes nothing.
      writeFileSync(s.events, '');
      const again = checkout(s, 'again');
      const second = await promote(again, env(s, again, fake.url, { RUN_SHA: s.second }));
      expect(second.code, second.output).toBe(0);
      expect(readFileSync(s.events, 'utf8')).not.toMatch(/^push /m);
    } finally {
      fake.server.close();
    }
  });

  // Answers with nothing to use yet are asked again within the wave's deadline: an outage (four
  // polls in a row of 503s) and Argo CD's 403 for an Application it has not created yet.
  it.each([
    ['rides out Argo CD not answering: the wave waits and the promotion completes', 1, 4, undefined, 'outage',
      (app: string) => `could not read ${app} from Argo CD (down, not created yet, or not readable by the promotion account); asking again`],
    ['waits for an Application Argo CD answers 403 for (its answer for one not created yet)', 2, 2, 403, 'not-yet',
      (app: string) => `could not read ${app} from Argo CD`],
  ] as const)('%s', async (_title, waveIndex, requests, status, name, message) => {
    const app = waves[waveIndex]!.applications[0]!;
    const { s, r } = await promoteAgainst({ unavailable: { app, requests, status } }, name);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain(message(app));
    for (const wave of waves.slice(1)) expect(branchHead(s, wave.targetRevision), wave.targetRevision).toBe(s.second);
  }, 60_000);

  it('stops at once when Argo CD refuses the token: no wait for the wave\'s deadline, no branch moved', async () => {
    const started = Date.now();
    const { s, r } = await promoteAgainst({}, 'refused', { ARGOCD_AUTH_TOKEN: 'wrong', WAVE_TIMEOUT_SECONDS: '600' });
    expect(r.code, r.output).not.toBe(0);
    expect(r.output).toContain('Argo CD refused the token reading');
    expect(Date.now() - started).toBeLessThan(60_000);
    for (const wave of waves.slice(1)) expect(branchHead(s, wave.targetRevision), wave.targetRevision).toBe(s.first);
  }, 90_000);

  it('stops at a wave that degrades: later waves keep running the previous commit', async () => {
    const { s, r } = await promoteAgainst({ degrade: waves[1]!.applications[0] }, 'degraded');
    expect(r.code, r.output).not.toBe(0);
    expect(r.output).toContain(`${waves[1]!.applications[0]} is Degraded`);
    expect(branchHead(s, waves[1]!.targetRevision)).toBe(s.second);
    for (const later of waves.slice(2)) expect(branchHead(s, later.targetRevision), later.targetRevision).toBe(s.first);
  });
});
