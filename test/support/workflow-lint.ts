/**
 * The schema check every workflow test runs: action-validator (an npm dev dependency) accepts the
 * workflow, and rejects a copy whose jobs lost `runs-on`, which proves the check really checks.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';

const root = resolve(__dirname, '..', '..');
const validator = join(root, 'node_modules', '.bin', 'action-validator');

export function lintWorkflow(file: string): { status: number | null; output: string } {
  const r = spawnSync(validator, [file], { cwd: root, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

export function describeWorkflowSchemaCheck(workflowPath: string): void {
  describe(`${basename(workflowPath)}: schema check (action-validator)`, () => {
    const tmp = mkdtempSync(join(tmpdir(), 'workflow-lint-'));
    afterAll(() => rmSync(tmp, { recursive: true, force: true }));

    it('accepts the workflow', () => {
      const r = lintWorkflow(workflowPath);
      expect(r.status, r.output).toBe(0);
    });

    it('rejects a copy whose jobs lost runs-on (the check really checks)', () => {
      const broken = parse(readFileSync(workflowPath, 'utf8')) as { jobs: Record<string, Record<string, unknown>> };
      for (const job of Object.values(broken.jobs)) delete job['runs-on'];
      const file = join(tmp, 'broken.yml');
      writeFileSync(file, stringify(broken));
      const r = lintWorkflow(file);
      expect(r.status, r.output).not.toBe(0);
      expect(r.output).toMatch(/runs-on/);
    });
  });
}
