/**
 * `npm run synth` runs tools/synth/launch.cjs: the synth sources as a prebuilt bundle run by plain
 * node (issue 16), rebuilt whenever a source file changes. It must write exactly what the sources
 * write, and never run a stale bundle.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { definition } from '../../main';
import { writeSyntheticRegions } from '../../tools/bench/regions';
import { REGIONS_DIR, REPO_ROOT } from '../support/regions';
import { isolatedBundle, keptBundle } from '../support/run';
import { synthInProcess } from '../support/synth-in-process';

const LAUNCH = path.join(REPO_ROOT, 'tools', 'synth', 'launch.cjs');
const BUNDLE = path.join(REPO_ROOT, 'node_modules', '.cache', 'bookedbarber', 'synth.cjs');

const launch = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
  spawnSync(process.execPath, [LAUNCH, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000, env });

describe('npm run synth (the bundled launcher)', () => {
  // That the bundle writes byte for byte what the sources render, and prints the same progress, is
  // test/synth/parallel.test.ts (the bundle runs on two threads).
  it('answers a wrong flag and --help as the sources do', () => {
    const usage = launch(['--no-such-flag']);
    const sources = synthInProcess(definition, ['--no-such-flag']);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain("Unknown option '--no-such-flag'");
    expect([usage.status, usage.stdout, usage.stderr]).toEqual([sources.status, sources.stdout, sources.stderr]);
    const help = launch(['--help']);
    const sourcesHelp = synthInProcess(definition, ['--help']);
    expect(help.stdout).toContain('--region');
    expect([help.status, help.stdout, help.stderr]).toEqual([sourcesHelp.status, sourcesHelp.stdout, sourcesHelp.stderr]);
  }, 180_000);

  it('rebuilds the bundle when a source file changes, and only then', () => {
    // The launcher checks (and rebuilds) the bundle before it parses any argument, so --help
    // starts the bundle without a render.
    expect(launch(['--help']).status).toBe(0);
    const built = fs.statSync(BUNDLE).mtimeMs;
    expect(launch(['--help']).status).toBe(0);
    expect(fs.statSync(BUNDLE).mtimeMs).toBe(built);
    // Touch a chart (its content unchanged): the launcher must not trust the old bundle.
    const source = path.join(REPO_ROOT, 'charts', 'web', 'smoke-test.ts');
    const { atime, mtime } = fs.statSync(source);
    const kept = keptBundle('synth');
    try {
      fs.utimesSync(source, atime, new Date(mtime.getTime() + 5000));
      expect(launch(['--help']).status).toBe(0);
      expect(fs.statSync(BUNDLE).mtimeMs).toBeGreaterThan(built);
    } finally {
      fs.utimesSync(source, atime, mtime);
      kept.restore();
    }
  }, 180_000);

  it('keeps V8\'s code cache for a run that wrote a synth, not for --help or a broken region file', () => {
    expect(launch(['--help']).status).toBe(0);
    const bundle = isolatedBundle('synth');
    try {
      expect(bundle.run(['--help'])).toBe(0);
      expect(bundle.codeCaches()).toEqual([]);
      const broken = path.join(bundle.dir, 'regions');
      fs.cpSync(path.join(REPO_ROOT, 'regions'), broken, { recursive: true });
      fs.appendFileSync(path.join(broken, 'us-east-1.yaml'), 'noSuchField: 1\n');
      expect(bundle.run(['--regions', broken, '--out', path.join(bundle.dir, 'out')])).toBe(1);
      expect(bundle.codeCaches()).toEqual([]);
      // Two synthetic regions (a home site and its DR site): a whole synth at a third of the shipped six.
      const small = path.join(bundle.dir, 'small-regions');
      writeSyntheticRegions(REGIONS_DIR, small, 2);
      expect(bundle.run(['--regions', small, '--out', path.join(bundle.dir, 'out')])).toBe(0);
      expect(bundle.codeCaches()).toEqual([`synth.${process.version}.v8`]);
      // Under other V8 flags (which make V8 reject the cache) a cache of their own: the plain
      // one is neither rewritten nor replaced, so runs with and without the flag both stay warm.
      const plain = path.join(bundle.dir, `synth.${process.version}.v8`);
      const before = fs.readFileSync(plain);
      expect(bundle.run(['--regions', small, '--out', path.join(bundle.dir, 'out')], ['--max-semi-space-size=64'])).toBe(0);
      const caches = bundle.codeCaches();
      expect(caches).toHaveLength(2);
      expect(caches).toContain(`synth.${process.version}.v8`);
      expect(caches.find((c) => c !== `synth.${process.version}.v8`)).toMatch(new RegExp(`^synth\\.${process.version.replace(/\./g, '\\.')}\\.[0-9a-f]{8}\\.v8$`));
      expect(fs.readFileSync(plain).equals(before)).toBe(true);
    } finally {
      bundle.remove();
    }
  }, 180_000);

  it('drops undefined fields in the generated toJson functions as their own code does: same keys, same order, one pass', () => {
    const { dropUndefined, withFastUndefinedFilter } = require('../../tools/bundle.cjs') as {
      dropUndefined: (o: object) => object;
      withFastUndefinedFilter: (code: string) => string;
    };
    // What `cdk8s import` generates (imports/*.ts), run as written.
    const generated = (o: object) => Object.entries(o).reduce((r: any, i) => (i[1] === undefined ? r : { ...r, [i[0]]: i[1] }), {});
    const reads: string[] = [];
    const cases: object[] = [
      {},
      { b: 1, a: undefined, c: null, d: 0, e: '', f: false, g: [undefined], h: { x: undefined } },
      { z: 1, 10: 'ten', 2: 'two', y: 2 },
      JSON.parse('{"__proto__": {"polluted": true}, "a": 1}'),
      Object.defineProperty({ first: 1 }, 'counted', { enumerable: true, get: () => (reads.push('counted'), 2) }),
      Object.defineProperty({ shown: 1 }, 'hidden', { enumerable: false, value: 3 }),
    ];
    for (const input of cases) {
      const expected = generated(input);
      const actual = dropUndefined(input);
      expect(Object.keys(actual)).toEqual(Object.keys(expected));
      expect(actual).toStrictEqual(expected);
      expect(Object.getPrototypeOf(actual)).toBe(Object.prototype);
    }
    expect(reads).toEqual(['counted', 'counted']);
    // The rewrite keeps "use strict" first and touches only the exact generated shape.
    const code = '"use strict";var f=obj=>Object.entries(obj.labels).reduce((r,i)=>i[1]===void 0?r:{...r,[i[0]]:i[1]},{}),g=o=>Object.entries(o).reduce((r,i)=>i[1]===void 0?r:{...r,[i[0]]:i[1]?.value},{});';
    const rewritten = withFastUndefinedFilter(code);
    expect(rewritten.startsWith('"use strict";var __dropUndefined=function dropUndefined(')).toBe(true);
    expect(rewritten).toContain('var f=obj=>__dropUndefined(obj.labels),g=o=>Object.entries(o).reduce(');
    expect(withFastUndefinedFilter('"use strict";var x=1;')).toBe('"use strict";var x=1;');
  });

  it('builds a bundle of ASCII without comments or indentation, so start-up reads and keeps it as a one-byte string', () => {
    // One character outside ASCII (a comment's typographic quote, a regex literal's µ) makes V8
    // hold the whole source (megabytes) as UTF-16 and decode it slowly on every run.
    expect(launch(['--help']).status).toBe(0);
    const text = fs.readFileSync(BUNDLE, 'latin1');
    const outside = text.search(/[^\x00-\x7f]/);
    expect(outside === -1 ? '' : text.slice(Math.max(0, outside - 60), outside + 20)).toBe('');
    expect(text).not.toMatch(/^\s*\/\*\*/m);
  }, 180_000);
});
