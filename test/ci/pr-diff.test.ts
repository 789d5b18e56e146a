// Checks on .github/workflows/pr-diff.yml: passes the workflow schema check, pins every action
// by SHA, grants write only where the PR comment needs it, and runs the steps in order.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { describeWorkflowSchemaCheck } from '../support/workflow-lint';

const root = resolve(__dirname, '..', '..');
const workflowPath = join(root, '.github', 'workflows', 'pr-diff.yml');
const text = readFileSync(workflowPath, 'utf8');

interface Step {
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: unknown;
  jobs: Record<string, { permissions?: unknown; steps: Step[]; 'runs-on'?: unknown }>;
}
const workflow = parse(text) as Workflow;
const [job] = Object.values(workflow.jobs);
const steps = job.steps;


describeWorkflowSchemaCheck(workflowPath);

describe('pr-diff workflow', () => {
  it('runs on pull requests only, with one job', () => {
    expect(Object.keys(workflow.on)).toEqual(['pull_request']);
    expect(Object.keys(workflow.jobs)).toHaveLength(1);
  });

  it('grants nothing at the top and contents: read + pull-requests: write on the job', () => {
    expect(workflow.permissions).toEqual({});
    expect(job.permissions).toEqual({ contents: 'read', 'pull-requests': 'write' });
  });

  it('pins every action to a commit SHA with the version in a comment', () => {
    const uses = steps.map((s) => s.uses).filter((u): u is string => typeof u === 'string');
    expect(uses).toEqual([
      'actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683',
      'actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020',
      'actions/github-script@60a0d83039c74a4aee543508d2ffcb1c3799cdea',
    ]);
    for (const u of uses) {
      const line = text.split('\n').find((l) => l.includes(u))!;
      expect(line).toMatch(/@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
    }
  });

  it('checks out the full history and installs with the npm cache', () => {
    expect(steps[0].with?.['fetch-depth']).toBe(0);
    expect(steps[1].with).toMatchObject({ 'node-version': 20, cache: 'npm' });
  });

  it('installs, synths, checks dist/, diffs against the base, writes the summary, then comments', () => {
    const index = (re: RegExp) => steps.findIndex((s) => (typeof s.run === 'string' && re.test(s.run)) || (typeof s.with?.script === 'string' && re.test(s.with.script as string)));
    // The base side is the base branch's committed dist/, not a render sharing this PR's
    // node_modules (a cdk8s bump that changes the YAML would show as no change).
    const order = [/npm ci/, /npm run synth/, /git status --porcelain -- dist/, /git archive "origin\/\$\{BASE_REF\}" dist \| tar -x -C "\$RUNNER_TEMP\/base"\n\s*npm run -s diff -- --from "\$RUNNER_TEMP\/base\/dist" --to dist --out diff\.md/, /GITHUB_STEP_SUMMARY/, /bookedbarber-diff/];
    const found = order.map(index);
    expect(found.every((i) => i >= 0), String(found)).toBe(true);
    expect([...found].sort((a, b) => a - b)).toEqual(found);
    expect(text).toContain('BASE_REF: ${{ github.base_ref }}');
  });

  it('comments only on pull requests from this repository and not Dependabot\'s (their tokens cannot write; the summary has the report)', () => {
    const comment = steps[steps.length - 1]!;
    expect(comment.if).toBe("${{ github.event.pull_request.head.repo.full_name == github.repository && github.actor != 'dependabot[bot]' }}");
    expect(steps.filter((s) => s.if !== undefined)).toEqual([comment]);
  });

  it('updates one comment found by the hidden marker', () => {
    const script = String(steps[steps.length - 1].with?.script);
    expect(script).toContain("'<!-- bookedbarber-diff -->'");
    // Only its own comment: another bot quoting the marker keeps its comment.
    expect(script).toContain("c.user?.login === 'github-actions[bot]'");
    expect(script).toContain('updateComment');
    expect(script).toContain('createComment');
  });
});
