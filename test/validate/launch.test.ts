/**
 * `npm run validate` runs tools/validate/launch.cjs: the validator as a prebuilt bundle under plain
 * node, with the connection declaration it is given built in. It must print and exit exactly as
 * the sources do, and fall back to them for a declaration it does not hold.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../tools/repo-root';
import { tempDir } from '../support/regions';
import { isolatedBundle } from '../support/run';

const LAUNCH = path.join(REPO_ROOT, 'tools', 'validate', 'launch.cjs');
const WIRING = ['--wiring', 'charts/wiring/connections.ts'];

const launch = (args: string[]) => {
  const r = spawnSync(process.execPath, [LAUNCH, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

/** A tree of some of dist/'s folders (clean on their own: us-east-1 and argocd are), copied. */
function treeOf(folders: readonly string[]): string {
  const dir = path.join(tempDir('bb-validate-launch-'), 'dist');
  for (const folder of folders) fs.cpSync(path.join(REPO_ROOT, 'dist', folder), path.join(dir, folder), { recursive: true });
  return dir;
}

/**
 * dist/'s argocd and us-east-1 folders (a clean tree of their own, a third of the objects: both
 * runs below validate it) with the API image unpinned: one finding of the validator's own rules.
 */
function brokenTree(): string {
  const dir = treeOf(['argocd', 'us-east-1']);
  const api = path.join(dir, 'us-east-1', 'api.yaml');
  const text = fs.readFileSync(api, 'utf8');
  expect(text).toContain('image: ghcr.io/bookedbarber/booking-api:2.14.3');
  fs.writeFileSync(api, text.replace('image: ghcr.io/bookedbarber/booking-api:2.14.3', 'image: ghcr.io/bookedbarber/booking-api:latest'));
  return dir;
}

/**
 * The validator sources' answer on the broken tree: the launcher runs them through tsx
 * (`tsx tools/validate/cli.ts` with the same arguments) for a `--wiring` module the bundle does not
 * hold, here one that re-exports the bundled declarations, so the answer must be the bundle's. One
 * tsx run (~3 s of CPU) serves both tests below.
 */
let brokenRun: { tree: string; sources: ReturnType<typeof launch>; loaded: string } | undefined;
function brokenWithSources(): NonNullable<typeof brokenRun> {
  if (!brokenRun) {
    const dir = tempDir('bb-validate-wiring-');
    const other = path.join(dir, 'connections.ts');
    // Says when it is loaded: plain node (the bundle) could not load this TypeScript, tsx can.
    const loaded = path.join(dir, 'loaded');
    fs.writeFileSync(other, [
      "import { writeFileSync } from 'node:fs';",
      `writeFileSync(${JSON.stringify(loaded)}, 'loaded\\n');`,
      `export { declaredConnections } from ${JSON.stringify(path.join(REPO_ROOT, 'charts', 'wiring', 'connections'))};`,
      '',
    ].join('\n'));
    const tree = brokenTree();
    brokenRun = { tree, sources: launch(['--wiring', other, tree]), loaded };
  }
  return brokenRun;
}

describe('npm run validate (the bundled launcher)', () => {
  it('prints and exits as the sources do on a broken tree (the sources as it runs them for another declaration module), passes the shipped dist/, and refuses a bad flag', () => {
    const { tree, sources } = brokenWithSources();
    const bundled = launch([...WIRING, tree]);
    expect(bundled.status).toBe(1);
    expect(bundled.stdout).toContain('rule:   image-pinned');
    expect({ ...bundled }).toEqual({ ...sources });

    const clean = launch(WIRING);
    expect(clean.status, clean.stdout + clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(/^OK: no findings in \d+ object\(s\) from \d+ file\(s\)$/m);

    const usage = launch([...WIRING, '--no-such-flag']);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('validate: unknown option --no-such-flag');
  }, 180_000);

  it('runs the sources for a declaration module it does not hold, which load that module', () => {
    const { sources, loaded } = brokenWithSources();
    expect(fs.readFileSync(loaded, 'utf8')).toBe('loaded\n');
    expect(sources.status, sources.stderr).toBe(1);
    expect(sources.stdout).toContain('rule:   image-pinned');
    expect(sources.stderr).toBe('');
  }, 180_000);

  it('keeps V8\'s code cache for a run that validated a tree, not for --help or a usage error', () => {
    expect(launch(['--help']).status).toBe(0);
    const bundle = isolatedBundle('validate');
    try {
      expect(bundle.run([...WIRING, '--help'])).toBe(0);
      expect(bundle.codeCaches()).toEqual([]);
      expect(bundle.run([...WIRING, '--no-such-flag'])).toBe(2);
      expect(bundle.codeCaches()).toEqual([]);
      // A small clean tree (dist/argocd alone) is a tree validated as well as the whole dist/ is.
      expect(bundle.run([...WIRING, treeOf(['argocd'])])).toBe(0);
      expect(bundle.codeCaches()).toEqual([`validate.${process.version}.v8`]);
    } finally {
      bundle.remove();
    }
  }, 180_000);
});
