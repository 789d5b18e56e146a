/**
 * `npx cdk8s synth` (the cdk8s convention the README documents) renders what `npm run synth`
 * renders. The cdk8s CLI runs cdk8s.yaml's `app:` with its output folder in CDK8S_OUTDIR (after
 * deleting that folder) and then lists the YAML it finds there; synth must write there, not
 * to dist/ regardless. Guards issue #9 item 6.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT, tempDir } from '../support/regions';
import { readTree } from '../support/tree';

describe('npx cdk8s synth', () => {
  it('runs the same entry point as npm run synth', () => {
    const project = parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk8s.yaml'), 'utf8'));
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
    expect(project.app).toBe(pkg.scripts.synth);
    // No `output:` key: the CLI's default output folder is dist/, the one npm run synth writes.
    expect(project.output).toBeUndefined();
  });

  it('writes the committed tree into the CLI\'s output folder (-o), and nothing into the project', () => {
    const out = path.join(tempDir('bb-cdk8s-'), 'out');
    const distBefore = readTree(path.join(REPO_ROOT, 'dist'));
    // --no-check-upgrade: the CLI otherwise asks registry.npmjs.org for its latest version.
    const run = spawnSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'cdk8s'), ['synth', '--no-check-upgrade', '-o', out], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const tree = readTree(out);
    expect(tree).toEqual(distBefore);
    // The CLI lists every manifest it found in its output folder.
    expect(run.stdout).toContain(`  - ${out}/us-east-1/api.yaml`);
    expect(run.stdout).toContain(`  - ${out}/argocd/argocd.yaml`);
    // dist/ untouched, no cdk8s.out/ or staging folder left in the project.
    expect(readTree(path.join(REPO_ROOT, 'dist'))).toEqual(distBefore);
    expect(fs.readdirSync(REPO_ROOT).filter((name) => name === 'cdk8s.out' || name.startsWith('.synth-'))).toEqual([]);
  }, 120_000);
});
