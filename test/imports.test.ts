/**
 * Issue 9 item 3, "the same validation on every clone": imports/upstream/*.yaml (trimmed copies
 * of the pinned upstream files, generated and committed) are what imports/*.ts and the
 * validator's upstream layer are made from, so everything here runs on any clone, and nothing
 * skips for lack of ../shared. The comparison with the upstream bytes themselves is a command
 * (`npm run import -- --verify`) that the GitHub workflow runs, where it can download them.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  gitBlobSha, importCrds, IMPORTS_DIR, readCrdImports, readHeader, readUpstreamPins, renderUpstreamFile,
  staleUpstreamFiles, UPSTREAM_DIR, upstreamFile, verifyUpstreamFiles,
} from '../tools/import-crds';
import { REPO_ROOT, tempDir } from './support/regions';

const tsFiles = (dir: string): Record<string, string> =>
  Object.fromEntries(fs.readdirSync(dir).filter((n) => n.endsWith('.ts')).sort().map((n) => [n, fs.readFileSync(path.join(dir, n), 'utf8')]));

describe('cdk8s.yaml pins', () => {
  it('every import and validator schema is a URL pinned to a 40-hex commit', () => {
    expect(readCrdImports().length).toBeGreaterThanOrEqual(18);
    const pins = readUpstreamPins();
    expect(pins.filter((p) => p.type === 'k8s-definitions').map((p) => p.prefix)).toEqual(['k8s-1.28']);
    for (const { url } of pins) expect(url).toMatch(/^https:\/\/raw\.githubusercontent\.com\/[^/]+\/[^/]+\/[0-9a-f]{40}\//);
  });

  it('every pin has its committed imports/upstream file, generated from that URL, and nothing else is there', () => {
    expect(staleUpstreamFiles()).toEqual([]);
    for (const pin of readUpstreamPins()) {
      const { source, blob } = readHeader(fs.readFileSync(upstreamFile(pin), 'utf8'));
      expect(source, pin.prefix).toBe(pin.url);
      expect(blob, pin.prefix).toMatch(/^[0-9a-f]{40}$/);
    }
  });

  it('the staleness check names a missing file, a file from another URL and a file no pin wants', () => {
    const dir = tempDir('bb-upstream-');
    const [first, second] = readCrdImports();
    fs.copyFileSync(upstreamFile(first), path.join(dir, `${first.prefix}.yaml`));
    fs.writeFileSync(path.join(dir, `${second.prefix}.yaml`), fs.readFileSync(upstreamFile(second), 'utf8').replace(second.url, `${second.url}.old`));
    fs.writeFileSync(path.join(dir, 'gone.yaml'), '# source: https://example.com/gone.yaml\n');
    const problems = staleUpstreamFiles(path.join(REPO_ROOT, 'cdk8s.yaml'), dir).join('\n');
    expect(problems).not.toContain(`${first.prefix}.yaml`);
    expect(problems).toContain(`${second.prefix}.yaml was generated from ${second.url}.old, not ${second.url}`);
    expect(problems).toContain(`${readCrdImports()[2].prefix}.yaml is missing`);
    expect(problems).toContain('gone.yaml is not generated from any pin');
  });

  it('a generated file keeps the CRD schema and its descriptions, drops the rest, and records the git blob sha', () => {
    const upstream = Buffer.from([
      'apiVersion: apiextensions.k8s.io/v1', 'kind: CustomResourceDefinition',
      'metadata: {name: widgets.example.com, annotations: {controller-gen.kubebuilder.io/version: v0.16.0}, labels: {a: b}}',
      'spec:', '  group: example.com', '  names: {kind: Widget, plural: widgets}', '  scope: Namespaced',
      '  versions:', '  - name: v1', '    served: true', '    storage: true', '    subresources: {status: {}}',
      '    additionalPrinterColumns: [{name: Age, type: date, jsonPath: .metadata.creationTimestamp}]',
      '    schema: {openAPIV3Schema: {type: object, description: A widget., properties: {spec: {type: object, properties: {size: {type: integer, description: The size.}}}}}}',
      '---', 'apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: not-a-crd}', '',
    ].join('\n'));
    const pin = { prefix: 'widget', url: 'https://raw.githubusercontent.com/example/widgets/0123456789012345678901234567890123456789/crd.yaml', type: 'crds' as const };
    const text = renderUpstreamFile(pin, upstream);
    expect(readHeader(text)).toEqual({ source: pin.url, blob: execFileSync('git', ['hash-object', '--stdin'], { input: upstream }).toString().trim() });
    expect(gitBlobSha(upstream)).toBe(readHeader(text).blob);
    const body = text.replace(/^#.*\n/gm, '');
    expect(body).not.toMatch(/annotations|labels|subresources|PrinterColumns|ConfigMap/);
    expect(body.startsWith('---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\n')).toBe(true);
    expect(text).toContain('description: A widget.');
    expect(text).toContain('description: The size.');
  });
});

describe('imports/*.ts', () => {
  it('regenerate byte for byte from the committed imports/upstream files (cdk8s import, no network)', async () => {
    const out = tempDir('bb-imports-');
    await importCrds(out, UPSTREAM_DIR);
    expect(tsFiles(out)).toEqual(tsFiles(IMPORTS_DIR));
  }, 300_000);
});

describe('npm run import -- --verify (the comparison with the pinned upstream files)', () => {
  // The real comparison needs the upstream bytes (the mirror, or a download): the GitHub workflow
  // runs it. Here a one-pin project proves the command tells a faithful copy from a stale one.
  const pin = { prefix: 'widget', url: 'https://raw.githubusercontent.com/example/widgets/0123456789012345678901234567890123456789/deploy/crd.yaml', type: 'crds' as const };
  const crd = (size: string) => Buffer.from([
    'apiVersion: apiextensions.k8s.io/v1', 'kind: CustomResourceDefinition', 'metadata: {name: widgets.example.com}',
    'spec: {group: example.com, names: {kind: Widget, plural: widgets}, scope: Namespaced, versions: [{name: v1, served: true, storage: true,',
    `  schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object, properties: {size: {type: ${size}}}}}}}}]}`, '',
  ].join('\n'));
  const project = (upstream: Buffer) => {
    const root = tempDir('bb-verify-');
    fs.writeFileSync(path.join(root, 'cdk8s.yaml'), `language: typescript\nimports:\n  - ${pin.prefix}:=${pin.url}\n`);
    fs.mkdirSync(path.join(root, 'mirror', 'deploy'), { recursive: true });
    fs.writeFileSync(path.join(root, 'mirror', 'deploy', 'crd.yaml'), upstream);
    fs.mkdirSync(path.join(root, 'upstream'));
    fs.writeFileSync(path.join(root, 'upstream', 'widget.yaml'), renderUpstreamFile(pin, crd('integer')));
    return (): Promise<string[]> => verifyUpstreamFiles(path.join(root, 'cdk8s.yaml'), path.join(root, 'upstream'), path.join(root, 'mirror'));
  };

  it('passes when every committed copy was made from the pinned bytes', async () => {
    expect(await project(crd('integer'))()).toEqual([]);
  });

  it('names the file whose pinned upstream bytes changed', async () => {
    const problems = (await project(crd('string'))()).join('\n');
    expect(problems).toMatch(/^widget\.yaml records blob [0-9a-f]{40}, but .*crd\.yaml has blob [0-9a-f]{40}/);
  });

  it('the GitHub workflow runs it where the upstream files can be downloaded', () => {
    const workflow = fs.readFileSync(path.join(REPO_ROOT, '.github', 'workflows', 'ci.yml'), 'utf8');
    expect(workflow).toContain('run: npm run import -- --verify');
  });
});
