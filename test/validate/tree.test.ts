import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { formatReport, validateTree } from '../../tools/validate';
import { toYaml, validFiles } from './fixtures/valid';

const run = promisify(execFile);
const repo = path.resolve(__dirname, '../..');
const tmpRoots: string[] = [];

/** Writes the valid set as a rendered tree (`<tmp>/dist/<region>/*.yaml`), optionally broken. */
function writeTree(mutate?: (files: ReturnType<typeof validFiles>) => void): string {
  const root = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'validate-tree-')), 'dist');
  tmpRoots.push(path.dirname(root));
  const files = validFiles();
  mutate?.(files);
  for (const [rel, objs] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), toYaml(objs));
  }
  // Non-YAML siblings are ignored.
  fs.writeFileSync(path.join(root, 'us-east-1', 'README.md'), '# not yaml: {{ }}\n');
  return root;
}

afterAll(() => {
  for (const dir of tmpRoots) fs.rmSync(dir, { recursive: true, force: true });
});

describe('validateTree', () => {
  it('reads <root>/<region>/*.yaml, takes the region from the folder and skips non-YAML files', () => {
    const report = validateTree(writeTree(), { schemaDir: null });
    expect(report.findings).toEqual([]);
    expect(report.files).toBe(5);
    expect(report.objects).toBe(15);
  });

  it('reports a document that does not parse as a `yaml` finding, and keeps checking the rest', () => {
    const root = writeTree();
    fs.appendFileSync(path.join(root, 'us-east-1', 'api.yaml'), '---\nkind: [unclosed\n');
    const report = validateTree(root, { schemaDir: null });
    expect(report.findings.map((f) => f.rule)).toEqual(['yaml']);
    expect(report.findings[0].file).toBe(`${root}/us-east-1/api.yaml`);
  });

  it('reads YAML as Argo CD does (YAML 1.1): an unquoted `on` is a boolean, not a label value', () => {
    const root = writeTree();
    const file = path.join(root, 'us-east-1', 'api.yaml');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('REDIS_CACHE_TTL_SECONDS: "3600"', 'REDIS_CACHE_TTL_SECONDS: "3600"\n  FEATURE_FLAG: on'));
    const report = validateTree(root, { schemaDir: null });
    expect(report.findings.map((f) => `${f.rule} ${f.path}`)).toEqual(['schema-type data.FEATURE_FLAG']);
  });

  it('formats one block per finding and a summary line', () => {
    const root = writeTree((f) => {
      f['us-east-1/api.yaml'][3].spec.template.spec.containers[0].image = 'ghcr.io/bookedbarber/api:latest';
    });
    const text = formatReport(validateTree(root, { schemaDir: null }));
    expect(text).toContain('rule:   image-pinned');
    expect(text).toMatch(/FAILED: 1 finding\(s\)/);
  });
});

describe('the command line (`npm run validate` without --wiring)', () => {
  // What the npm script runs: the launcher and its prebuilt bundle of tools/validate/cli.ts, the
  // same output and exit codes as the sources through tsx (test/validate/launch.test.ts), without
  // tsx transpiling the validator for every run (~1.5 s of CPU each).
  const cli = (...args: string[]) =>
    run(process.execPath, [path.join(repo, 'tools', 'validate', 'launch.cjs'), ...args], { cwd: repo }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  it('exits 1 on a broken tree and names file, object, path, rule and hint', async () => {
    const root = writeTree((f) => {
      f['us-east-1/api.yaml'][3].spec.template.spec.containers[0].image = 'ghcr.io/bookedbarber/api:latest';
    });
    const { code, stdout } = await cli(root);
    expect(code).toBe(1);
    expect(stdout).toContain(`${root}/us-east-1/api.yaml`);
    expect(stdout).toContain('object: Deployment bookedbarber-app/bookedbarber-api');
    expect(stdout).toContain('path:   spec.template.spec.containers[0].image');
    expect(stdout).toContain('rule:   image-pinned');
    expect(stdout).toContain('hint:   pin a version tag');
  });

  it('exits 0 on a valid tree', async () => {
    const { code, stdout } = await cli(writeTree());
    expect(stdout).toContain('OK: no findings in 15 object(s) from 5 file(s)');
    expect(code).toBe(0);
  });

  it('exits 2 when the folder does not exist', async () => {
    const { code, stderr } = await cli(path.join(os.tmpdir(), 'no-such-rendered-tree'));
    expect(code).toBe(2);
    expect(stderr).toContain('is not a folder');
  });
});
