// Checks on the CI definition: .github/workflows/ci.yml must pass the GitHub workflow
// schema check, pin its actions, grant read-only permissions and run the steps the
// project relies on (install, synth, dist/ drift check, typecheck, tests); .ci/run must
// run the same pipeline.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { lintWorkflow } from '../support/workflow-lint';

const root = resolve(__dirname, '..', '..');
const workflowPath = join(root, '.github', 'workflows', 'ci.yml');
const ciRunPath = join(root, '.ci', 'run');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  'runs-on'?: unknown;
  'timeout-minutes'?: unknown;
  permissions?: unknown;
  steps?: Step[];
}
interface Workflow {
  on?: Record<string, unknown>;
  permissions?: unknown;
  concurrency?: { group?: unknown; 'cancel-in-progress'?: unknown };
  env?: Record<string, unknown>;
  jobs: Record<string, Job>;
}

const workflowText = readFileSync(workflowPath, 'utf8');
const workflow = parse(workflowText) as Workflow;
const jobs = Object.entries(workflow.jobs);
const steps = jobs.flatMap(([, job]) => job.steps ?? []);

/** Index of the first step whose `run` script matches, or -1. */
function stepIndex(pattern: RegExp): number {
  return steps.findIndex((s) => typeof s.run === 'string' && pattern.test(s.run));
}

/** Permissions may only read: a map of scopes to "read"/"none" ({} grants nothing). */
function expectReadOnly(permissions: unknown, where: string): void {
  expect(permissions, `${where}: permissions must be a map of scopes`).toBeTypeOf('object');
  expect(permissions, `${where}: permissions must be a map of scopes`).not.toBeNull();
  for (const [scope, level] of Object.entries(permissions as Record<string, unknown>)) {
    expect(['read', 'none'], `${where}: permissions.${scope} is ${String(level)}`).toContain(level);
  }
}

describe('workflow schema check (action-validator)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ci-workflow-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('accepts .github/workflows/ci.yml', () => {
    const r = lintWorkflow(workflowPath);
    expect(r.status, r.output).toBe(0);
  });

  // Proves the linter really checks: the same file, broken, must be rejected with a
  // schema error (not, say, "file not found").
  it.each([
    [
      'a job without runs-on',
      (w: Workflow) => {
        for (const job of Object.values(w.jobs)) delete job['runs-on'];
      },
      /runs-on/,
    ],
    [
      'an unknown top-level key',
      (w: Workflow) => {
        (w as unknown as Record<string, unknown>)['jobz'] = { x: 1 };
      },
      /jobz/,
    ],
  ])('rejects a copy with %s', (_label, breakIt, mentions) => {
    const broken = parse(workflowText) as Workflow;
    breakIt(broken);
    const file = join(tmp, `ci-${_label.replace(/\W+/g, '-')}.yml`);
    writeFileSync(file, stringify(broken));
    const r = lintWorkflow(file);
    expect(r.status, r.output).not.toBe(0);
    expect(r.output).toContain('"errors"');
    expect(r.output).toMatch(mentions);
  });
});

describe('ci.yml', () => {
  it('runs on pushes to main and on pull requests', () => {
    const on = workflow.on ?? {};
    expect((on['push'] as { branches?: string[] } | undefined)?.branches).toEqual(['main']);
    expect(on).toHaveProperty('pull_request');
  });

  it('pins every action to a full commit SHA with the version in a comment', () => {
    const uses = steps.map((s) => s.uses).filter((u): u is string => typeof u === 'string');
    expect(uses.length).toBeGreaterThan(0);
    for (const u of uses) {
      if (u.startsWith('./')) continue; // local actions live in this repository
      expect(u, `${u} is not pinned to a commit`).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
    }
    const usesLines = workflowText.split('\n').filter((l) => /^\s*(-\s+)?uses:/.test(l));
    expect(usesLines).toHaveLength(uses.length);
    for (const line of usesLines) {
      if (/uses:\s*\.\//.test(line)) continue;
      expect(line, 'the pinned version belongs in a trailing comment').toMatch(
        /uses:\s*\S+@[0-9a-f]{40} # v\d+\.\d+\.\d+\s*$/,
      );
    }
  });

  it('grants read-only permissions', () => {
    expect(workflowText).not.toMatch(/write-all|:\s*write\b/);
    if (workflow.permissions !== undefined) {
      expectReadOnly(workflow.permissions, 'top level');
    } else {
      // Without a top-level block every job needs its own, or it gets the repo default.
      for (const [id, job] of jobs) expect(job.permissions, `job ${id}`).toBeDefined();
    }
    for (const [id, job] of jobs) {
      if (job.permissions !== undefined) expectReadOnly(job.permissions, `job ${id}`);
    }
  });

  it('cancels superseded runs and bounds every job', () => {
    expect(workflow.concurrency?.group).toBeTruthy();
    // One group per commit on main: GitHub keeps one pending run per group and replaces it, and a
    // promotion needs each commit's own green run.
    expect(workflow.concurrency?.group).toBe('${{ github.workflow }}-${{ github.event.pull_request.number || github.sha }}');
    expect(workflow.concurrency?.['cancel-in-progress']).toBeTruthy();
    for (const [id, job] of jobs) {
      expect(job['timeout-minutes'], `job ${id} timeout-minutes`).toBeTypeOf('number');
    }
    expect(workflow.env).toEqual({ TZ: 'UTC' });
  });

  it('sets up Node 20 with the npm cache', () => {
    const setupNode = steps.find((s) => s.uses?.startsWith('actions/setup-node@'));
    expect(setupNode?.with).toMatchObject({ 'node-version': 20, cache: 'npm' });
  });

  it('installs, synthesises, checks dist/ for drift, typechecks and tests, in that order', () => {
    const order = [
      stepIndex(/^npm ci\b/m),
      stepIndex(/^npm run synth\b/m),
      stepIndex(/git (status --porcelain|diff --exit-code)[^\n]*-- dist/),
      stepIndex(/^npm run typecheck\b/m),
      stepIndex(/^npm test\b/m),
    ];
    for (const i of order) expect(i).toBeGreaterThanOrEqual(0);
    expect([...order].sort((a, b) => a - b)).toEqual(order);

    const drift = steps[order[2]!]!.run!;
    expect(drift).toContain('git status --porcelain -- dist');
    expect(drift).toContain('git diff --exit-code');
    expect(drift).toContain('git diff --stat -- dist');
    expect(drift).toContain('dist/ is stale: run npm run synth and commit dist/');
    expect(drift).toMatch(/exit 1/);
  });
});

describe('.ci/run', () => {
  const script = readFileSync(ciRunPath, 'utf8');

  it('installs the same Debian packages as the workflow: a real-server test whose program is missing fails under CI', () => {
    const fromCiRun = /^APT_PACKAGES=\(([^)]*)\)/m.exec(script)?.[1]?.trim().split(/\s+/).sort();
    const installStep = steps.find((s) => typeof s.run === 'string' && /apt-get install/.test(s.run));
    const fromWorkflow = installStep?.run
      ?.slice(installStep.run.indexOf('apt-get install'))
      .replace(/\\\n/g, ' ')
      .split(/\s+/)
      .filter((w) => w && !w.startsWith('-') && !['apt-get', 'install', 'sudo'].includes(w) && !w.includes('='))
      .sort();
    expect(fromCiRun?.length).toBeGreaterThan(5);
    expect(fromWorkflow).toEqual(fromCiRun);
  });

  it('is an executable bash script that stops on the first error', () => {
    accessSync(ciRunPath, constants.X_OK);
    expect(script.split('\n')[0]).toMatch(/^#!.*\bbash\b/);
    expect(script).toMatch(/^set -euo pipefail$/m);
    const syntax = spawnSync('bash', ['-n', ciRunPath], { encoding: 'utf8' });
    expect(syntax.status, syntax.stderr).toBe(0);
  });

  it('runs npm ci, the synth drift check and npm test, in that order', () => {
    const at = (re: RegExp) => script.search(re);
    const order = [
      at(/^npm ci\b/m),
      at(/^npm run synth\b/m),
      at(/git status --porcelain -- dist/),
      at(/^npm test\b/m),
    ];
    for (const i of order) expect(i).toBeGreaterThanOrEqual(0);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });
});
