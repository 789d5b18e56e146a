/**
 * The schema check every workflow test runs: action-validator (@action-validator/core, an npm dev
 * dependency) accepts the workflow, and rejects a copy whose jobs lost `runs-on`, which proves the
 * check really checks.
 */
import { validateWorkflow } from '@action-validator/core';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';

/**
 * `action-validator <file>` in this process: the upstream command (@action-validator/cli's cli.mjs)
 * is this call of the same WebAssembly validator on the file's text, exiting 1 with the result as
 * JSON when it has errors. A child process per file cost ~0.2 s of CPU.
 */
export function lintWorkflow(file: string): { status: number; output: string } {
  const result = validateWorkflow(readFileSync(file, 'utf8'));
  return result.errors.length > 0 ? { status: 1, output: JSON.stringify(result, null, 2) } : { status: 0, output: '' };
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
