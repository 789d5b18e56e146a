// Checks on .github/workflows/security-scan.yml (issue 13 item 7): every pull request is scanned
// by Trivy (misconfigurations of dist/, and every image dist/ references) and by Semgrep (the
// TypeScript); actions are pinned by commit SHA, permissions are least-privilege (security-events:
// write only on the jobs that upload SARIF), HIGH/CRITICAL fails the check, results go to code
// scanning as SARIF, and every entry of the ignore files says why it is accepted. The image-list
// and Semgrep scripts are run here for real (Semgrep itself replaced by a stub).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { describeWorkflowSchemaCheck } from '../support/workflow-lint';
import { parseAllCached } from '../support/yaml-cache';

const root = resolve(__dirname, '..', '..');
const workflowPath = join(root, '.github', 'workflows', 'security-scan.yml');
const trivyIgnorePath = join(root, '.github', 'trivy', '.trivyignore.yaml');
const semgrepIgnorePath = join(root, '.github', 'semgrep', 'ignore.yaml');
const dist = join(root, 'dist');

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}
interface Job {
  needs?: string | string[];
  'runs-on'?: unknown;
  'timeout-minutes'?: unknown;
  permissions?: Record<string, string>;
  strategy?: { 'fail-fast'?: boolean; matrix?: Record<string, unknown> };
  outputs?: Record<string, string>;
  env?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  concurrency?: { group?: unknown; 'cancel-in-progress'?: unknown };
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

const text = readFileSync(workflowPath, 'utf8');
const workflow = parse(text) as Workflow;
const jobs = Object.entries(workflow.jobs);
const allSteps = jobs.flatMap(([, job]) => job.steps);

/** Actions used, with the commit each version tag pointed to (read from the actions' own repos). */
const PINS: Record<string, { sha: string; version: string }> = {
  'actions/checkout': { sha: '11bd71901bbe5b1630ceea73d27597364c9af683', version: 'v4.2.2' },
  'aquasecurity/trivy-action': { sha: 'ed142fd0673e97e23eac54620cfb913e5ce36c25', version: 'v0.36.0' },
  'github/codeql-action/upload-sarif': { sha: '8aad20d150bbac5944a9f9d289da16a4b0d87c1e', version: 'v4.36.2' },
};

const isUpload = (s: Step) => s.uses?.startsWith('github/codeql-action/upload-sarif@') ?? false;
const isTrivy = (s: Step) => s.uses?.startsWith('aquasecurity/trivy-action@') ?? false;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? yamlFiles(p) : p.endsWith('.yaml') ? [p] : [];
  });
}

/**
 * Every document of every YAML file of dist/ (`toJSON()`), parsed once for the tests below that
 * read them all (3 MB of YAML, ~1.5 s of CPU a parse; across runs kept as JSON: yaml-cache.ts);
 * nothing changes what they return.
 */
let distDocuments: Array<{ file: string; json: unknown }> | undefined;
function documentsOfDist(): Array<{ file: string; json: unknown }> {
  distDocuments ??= yamlFiles(dist).flatMap((file) => parseAllCached(readFileSync(file, 'utf8')).map((json) => ({ file, json })));
  return distDocuments;
}

/** Every string `image` value anywhere in a parsed document. */
function imagesIn(node: unknown, into: Set<string>): void {
  if (Array.isArray(node)) for (const n of node) imagesIn(n, into);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'image' && typeof v === 'string') into.add(v);
      else imagesIn(v, into);
    }
  }
}

/** doublestar glob (as Trivy matches ignore paths) to a RegExp, enough for `**`, `*` and `?`. */
function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function runScript(script: string, cwd: string, env: Record<string, string>) {
  return spawnSync('bash', ['-c', script], { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
}

describeWorkflowSchemaCheck(workflowPath);

describe('security-scan.yml', () => {
  it('runs on every pull request, on every push to main (code scanning needs the base branch\'s own analysis) and weekly (new CVEs in unchanged images)', () => {
    expect(Object.keys(workflow.on)).toEqual(['pull_request', 'push', 'schedule']);
    expect(workflow.on['pull_request']).toBeNull(); // no branch or path filter: every PR
    expect(workflow.on['push']).toEqual({ branches: ['main'] });
    expect(workflow.on['schedule']).toHaveLength(1);
    // Results are uploaded for main's own runs too, not only for this repository's PRs.
    const uploads = allSteps.filter((s) => typeof s.if === 'string' && s.if.includes('hashFiles'));
    expect(uploads.length).toBe(3);
    for (const s of uploads) expect(s.if).toContain("github.event_name != 'pull_request' || github.event.pull_request.head.repo.full_name == github.repository");
  });

  it('pins every action to a verified 40-hex commit SHA with the version in a comment', () => {
    const uses = allSteps.map((s) => s.uses).filter((u): u is string => typeof u === 'string');
    expect(uses.length).toBeGreaterThan(0);
    for (const u of uses) {
      expect(u, `${u} is not pinned to a commit`).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
      const [name, sha] = u.split('@') as [string, string];
      expect(PINS[name], `${name} has no verified pin`).toBeDefined();
      expect(sha, name).toBe(PINS[name]!.sha);
    }
    const usesLines = text.split('\n').filter((l) => /^\s*(-\s+)?uses:/.test(l));
    expect(usesLines).toHaveLength(uses.length);
    for (const line of usesLines) {
      const m = /uses:\s*(\S+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)\s*$/.exec(line);
      expect(m, `${line}: the pinned version belongs in a trailing comment`).not.toBeNull();
      expect(m![3]).toBe(PINS[m![1]!]!.version);
    }
    expect(text).not.toMatch(/UNVERIFIED/);
  });

  it('grants contents: read at the top and security-events: write only to the jobs that upload SARIF', () => {
    expect(workflow.permissions).toEqual({ contents: 'read' });
    expect(text).not.toMatch(/write-all|read-all/);
    for (const [id, job] of jobs) {
      const uploads = job.steps.some(isUpload);
      const perms = job.permissions ?? {};
      for (const [scope, level] of Object.entries(perms)) {
        if (scope === 'security-events' && level === 'write') continue;
        expect(['read', 'none'], `job ${id}: ${scope}: ${level}`).toContain(level);
      }
      if (uploads) expect(perms['security-events'], `job ${id} uploads SARIF`).toBe('write');
      else expect(perms['security-events'], `job ${id} uploads nothing`).not.toBe('write');
    }
    // The only write scope in the whole file is security-events.
    const writes = [...text.matchAll(/^\s*([\w-]+):\s*write\s*$/gm)].map((m) => m[1]);
    expect(new Set(writes)).toEqual(new Set(['security-events']));
  });

  it('bounds every job, cancels superseded runs and never persists the checkout token', () => {
    for (const [id, job] of jobs) {
      expect(job['timeout-minutes'], `job ${id}`).toBeTypeOf('number');
      expect(job['timeout-minutes'] as number).toBeLessThanOrEqual(30);
    }
    expect(workflow.concurrency?.group).toBeTruthy();
    expect(workflow.concurrency?.['cancel-in-progress']).toBe(true);
    expect(workflow.env).toEqual({ TZ: 'UTC' });
    for (const s of allSteps.filter((s) => s.uses?.startsWith('actions/checkout@'))) {
      expect(s.with?.['persist-credentials']).toBe(false);
    }
  });

  it('scans the configuration of dist/ with Trivy, failing on HIGH/CRITICAL', () => {
    const configScans = allSteps.filter((s) => isTrivy(s) && s.with?.['scan-type'] === 'config');
    expect(configScans).toHaveLength(1);
    expect(configScans[0]!.with).toMatchObject({
      'scan-ref': 'dist',
      severity: 'HIGH,CRITICAL',
      'exit-code': '1',
      trivyignores: '.github/trivy/.trivyignore.yaml',
      format: 'sarif',
      // trivy-action unsets the severity filter for SARIF unless this is set, and would then fail
      // on every severity.
      'limit-severities-for-sarif': 'true',
    });
  });

  it('scans every image dist/ references with Trivy, failing on HIGH/CRITICAL', () => {
    const [id, job] = jobs.find(([, j]) => j.steps.some((s) => isTrivy(s) && s.with?.['scan-type'] === 'image'))!;
    const scan = job.steps.find(isTrivy)!;
    expect(scan.with).toMatchObject({
      'image-ref': '${{ matrix.image }}',
      severity: 'HIGH,CRITICAL',
      'exit-code': '1',
      trivyignores: '.github/trivy/.trivyignore.yaml',
      format: 'sarif',
      // trivy-action unsets the severity filter for SARIF unless this is set, and would then fail
      // on every severity.
      'limit-severities-for-sarif': 'true',
    });
    // The matrix is the list the list job derives from dist/, and one image's failure does not
    // hide the others' results.
    const needs = [job.needs].flat();
    expect(needs).toHaveLength(1);
    const lister = workflow.jobs[needs[0]!]!;
    expect(job.strategy?.matrix?.['image']).toBe(`\${{ fromJSON(needs.${needs[0]}.outputs.images) }}`);
    expect(job.strategy?.['fail-fast'], id).toBe(false);
    expect(lister.outputs?.['images']).toBe('${{ steps.list.outputs.images }}');
    expect(lister.steps.find((s) => s.id === 'list')?.run).toContain('dist');
  });

  it('runs Semgrep on the TypeScript with a pinned version, failing on HIGH/CRITICAL', () => {
    const [, job] = jobs.find(([, j]) => j.steps.some((s) => s.run?.includes('semgrep scan')))!;
    expect(job.env?.['SEMGREP_VERSION']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(job.steps.some((s) => s.run?.includes('semgrep==${SEMGREP_VERSION}'))).toBe(true);
    const scan = job.steps.find((s) => s.run?.includes('semgrep scan'))!.run!;
    expect(scan).toMatch(/--include '\*\.ts'/);
    expect(scan).toMatch(/--config p\/typescript/);
    expect(scan).toContain('.github/semgrep/ignore.yaml');
    expect(scan).toMatch(/--sarif-output=semgrep\.sarif/);
    expect(scan).toMatch(/IN\("ERROR", "HIGH", "CRITICAL"\)/);
    expect(scan).toMatch(/exit 1/);
  });

  it('uploads the SARIF of every scan, even when the scan failed, each under its own category', () => {
    const categories: string[] = [];
    for (const [id, job] of jobs) {
      const producers = job.steps.filter((s) => isTrivy(s) || s.run?.includes('semgrep scan'));
      if (producers.length === 0) continue;
      const uploads = job.steps.filter(isUpload);
      expect(uploads, `job ${id}`).toHaveLength(1);
      const upload = uploads[0]!;
      const sarif = String(upload.with?.['sarif_file']);
      for (const p of producers) {
        const out = isTrivy(p) ? String(p.with?.['output']) : /--sarif-output=(\S+)/.exec(p.run!)?.[1];
        expect(out, `job ${id}`).toBe(sarif);
      }
      expect(job.steps.indexOf(upload)).toBeGreaterThan(job.steps.indexOf(producers[0]!));
      expect(upload.if).toContain('!cancelled()');
      expect(upload.if).toContain(`hashFiles('${sarif}')`);
      categories.push(String(upload.with?.['category']));
    }
    expect(categories).toHaveLength(3); // config, images (one per matrix entry), semgrep
    expect(new Set(categories).size).toBe(3);
    expect(categories.find((c) => c.includes('env.CATEGORY'))).toBeDefined();
  });
});

describe('the image list', () => {
  const lister = jobs.flatMap(([, j]) => j.steps).find((s) => s.id === 'list')!.run!;
  const tmp = mkdtempSync(join(tmpdir(), 'security-images-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  function list(cwd: string): { images: string[]; status: number | null; stderr: string } {
    const out = join(tmp, `out-${Math.random().toString(36).slice(2)}`);
    writeFileSync(out, '');
    const r = runScript(lister, cwd, { GITHUB_OUTPUT: out });
    const line = readFileSync(out, 'utf8').split('\n').find((l) => l.startsWith('images='));
    return { images: line ? (JSON.parse(line.slice('images='.length)) as string[]) : [], status: r.status, stderr: r.stderr };
  }

  it('is exactly the set of images in dist/, as a YAML walk finds them', () => {
    const expected = new Set<string>();
    for (const { json } of documentsOfDist()) imagesIn(json, expected);
    const r = list(root);
    expect(r.status, r.stderr).toBe(0);
    expect(r.images).toEqual([...expected].sort());
    expect(r.images.length).toBeGreaterThan(5);
    for (const image of r.images) expect(image).toMatch(/^[\w.-]+(\/[\w.-]+)+(:[\w.-]+)?(@sha256:[0-9a-f]{64})?$/);
  });

  it('handles quoted values, list items and comments, skips structured image fields, and fails on none', () => {
    const fixture = join(tmp, 'fixture');
    mkdirSync(join(fixture, 'dist', 'r1'), { recursive: true });
    writeFileSync(
      join(fixture, 'dist', 'r1', 'a.yaml'),
      [
        'spec:',
        '  containers:',
        '    - image: "docker.io/library/redis:7.2.5"',
        '    - name: b',
        "      image: 'quay.io/a/b:1.0'  # pinned",
        '  initContainers:',
        '    - image: ghcr.io/x/y@sha256:' + 'a'.repeat(64),
        '  values:',
        '    image:',
        '      repository: not/an-image',
        '---',
        'image: docker.io/library/redis:7.2.5',
      ].join('\n'),
    );
    const r = list(fixture);
    expect(r.status, r.stderr).toBe(0);
    expect(r.images).toEqual(['docker.io/library/redis:7.2.5', `ghcr.io/x/y@sha256:${'a'.repeat(64)}`, 'quay.io/a/b:1.0']);

    const empty = join(tmp, 'empty');
    mkdirSync(join(empty, 'dist'), { recursive: true });
    writeFileSync(join(empty, 'dist', 'a.yaml'), 'kind: ConfigMap\n');
    expect(list(empty).status).not.toBe(0);
  });
});

describe('the Semgrep step', () => {
  const script = allSteps.find((s) => s.run?.includes('semgrep scan'))!.run!;
  const tmp = mkdtempSync(join(tmpdir(), 'security-semgrep-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const haveYq = spawnSync('yq', ['--version'], { encoding: 'utf8' }).status === 0;

  // A stub semgrep on PATH records its arguments and writes the results it is given.
  function run(results: { severity: string }[]) {
    const bin = join(tmp, 'bin');
    mkdirSync(bin, { recursive: true });
    const stub = join(bin, 'semgrep');
    writeFileSync(
      stub,
      `#!/usr/bin/env bash\nprintf '%s\\n' "$@" > "$ARGS_FILE"\necho '{"runs":[]}' > semgrep.sarif\ncat "$RESULTS_FILE" > semgrep.json\n`,
    );
    chmodSync(stub, 0o755);
    const work = mkdtempSync(join(tmp, 'work-'));
    mkdirSync(join(work, '.github', 'semgrep'), { recursive: true });
    writeFileSync(join(work, '.github', 'semgrep', 'ignore.yaml'), readFileSync(semgrepIgnorePath));
    const resultsFile = join(work, 'results.json');
    writeFileSync(
      resultsFile,
      JSON.stringify({
        results: results.map((r, i) => ({ check_id: `rule.${i}`, path: 'main.ts', start: { line: 1 }, extra: { severity: r.severity, message: 'm' } })),
      }),
    );
    const argsFile = join(work, 'args');
    const r = runScript(script, work, { PATH: `${bin}:${process.env.PATH}`, ARGS_FILE: argsFile, RESULTS_FILE: resultsFile });
    const args = existsSync(argsFile) ? readFileSync(argsFile, 'utf8').trim().split('\n') : [];
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, args };
  }

  it.skipIf(!haveYq)('passes on WARNING/INFO findings and fails on ERROR, HIGH or CRITICAL ones', () => {
    const ok = run([{ severity: 'WARNING' }, { severity: 'INFO' }]);
    expect(ok.status, ok.stderr).toBe(0);
    for (const severity of ['ERROR', 'HIGH', 'CRITICAL']) {
      const bad = run([{ severity: 'WARNING' }, { severity }]);
      expect(bad.status, severity).toBe(1);
      expect(bad.stdout).toContain('::error file=main.ts,line=1::rule.1: m');
    }
  });

  it.skipIf(!haveYq)('passes every ignore-file path as --exclude and writes SARIF and JSON', () => {
    const { args } = run([]);
    const ignore = parse(readFileSync(semgrepIgnorePath, 'utf8')) as { paths: { path: string }[] };
    for (const { path } of ignore.paths) {
      expect(args[args.indexOf(path) - 1], path).toBe('--exclude');
    }
    expect(args).toContain('--sarif-output=semgrep.sarif');
    expect(args).toContain('--json-output=semgrep.json');
    expect(args).toContain('--metrics=off');
  });
});

describe('ignore files', () => {
  it('every Trivy entry has an id, a reason, and paths that match files in dist/', () => {
    const ignore = parse(readFileSync(trivyIgnorePath, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(ignore).sort()).toEqual(['misconfigurations', 'vulnerabilities']);
    const distFiles = yamlFiles(dist).map((f) => relative(dist, f));
    for (const [section, entries] of Object.entries(ignore)) {
      expect(Array.isArray(entries), section).toBe(true);
      for (const e of entries as { id?: string; statement?: string; paths?: string[]; expired_at?: string }[]) {
        expect(e.id, `${section} entry without id`).toMatch(/^(AVD-[A-Z]+-\d{4}|CVE-\d{4}-\d+|GHSA-[\w-]+)$/);
        expect(e.statement?.length ?? 0, `${e.id}: the statement must say why it is accepted`).toBeGreaterThanOrEqual(80);
        if (section === 'vulnerabilities') expect(e.expired_at, `${e.id}: an accepted CVE needs an expiry`).toBeDefined();
        for (const p of e.paths ?? []) {
          const re = globToRegExp(p);
          expect(distFiles.some((f) => re.test(f)), `${e.id}: ${p} matches nothing in dist/`).toBe(true);
        }
      }
    }
  });

  it('the KSV-0109 entry covers every ConfigMap line the check would flag, and only bootstrap.sql', () => {
    // Trivy's KSV-0109 flags a ConfigMap value line like `password: x` / `PASSWORD = x`.
    const words = ['password', 'pass', 'pword', 'passphrase', 'passwrd', 'passwd', 'secret', 'secretkey', 'appSecret', 'clientSecret', 'aws_access_key_id', 'pswrd', 'token', 'pwd'];
    const ignore = parse(readFileSync(trivyIgnorePath, 'utf8')) as { misconfigurations: { id: string; paths?: string[] }[] };
    const entry = ignore.misconfigurations.find((e) => e.id === 'AVD-KSV-0109');
    const covered = (file: string) => !entry?.paths || entry.paths.some((p) => globToRegExp(p).test(file));
    for (const { file: f, json } of documentsOfDist()) {
      const o = json as { kind?: string; data?: Record<string, unknown> } | null;
      if (o?.kind !== 'ConfigMap') continue;
      for (const [key, value] of Object.entries(o.data ?? {})) {
        if (typeof value !== 'string') continue;
        for (const line of value.split('\n')) {
          const flagged = words.some((w) => new RegExp(`${w}\\s*(=|:)`, 'i').test(line)) &&
            [':', '='].some((d) => {
              const parts = line.split(d);
              return parts.length > 1 && parts[1] !== '' && !/^"?(\$\{|\$\(|\{\{)/.test(parts[1]!);
            });
          if (!flagged) continue;
          const where = `${relative(dist, f)} ${key}: ${line.trim()}`;
          expect(entry, where).toBeDefined();
          expect(covered(relative(dist, f)), where).toBe(true);
          expect(key, where).toBe('bootstrap.sql');
          expect(line, where).toMatch(/PASSWORD :'\w+'/); // a psql variable, never a literal
        }
      }
    }
  });

  it('every Semgrep exclusion says why it is accepted', () => {
    const ignore = parse(readFileSync(semgrepIgnorePath, 'utf8')) as { paths: { path: string; reason: string }[]; rules: { id: string; reason: string }[] };
    expect(Array.isArray(ignore.paths)).toBe(true);
    expect(Array.isArray(ignore.rules)).toBe(true);
    for (const e of [...ignore.paths, ...ignore.rules]) {
      expect((e as { reason?: string }).reason?.length ?? 0, JSON.stringify(e)).toBeGreaterThanOrEqual(30);
    }
    for (const { path } of ignore.paths) expect(existsSync(join(root, path)), path).toBe(true);
    for (const { id } of ignore.rules) expect(id).toMatch(/^[\w.-]+$/);
    // Never the TypeScript that is ours to scan.
    for (const { path } of ignore.paths) expect(['charts/', 'tools/', 'regions/', 'main.ts', 'test/']).not.toContain(path);
  });
});
