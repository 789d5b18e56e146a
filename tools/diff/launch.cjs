#!/usr/bin/env node
/**
 * `npm run diff`: runs tools/diff/cli.ts from a prebuilt bundle with plain `node`, without tsx
 * (its start-up and transpiling were most of a diff over two folders). The same pattern as
 * tools/synth/launch.cjs: esbuild (a dependency) rebuilds the bundle whenever it is stale, and it
 * lives in node_modules/.cache/bookedbarber/ (never committed; `npm ci` starts without it).
 *
 * Staleness: the key file lists every file esbuild read for the bundle (its metafile) with its size
 * and modification time, plus the Node version; a change to any of them rebuilds it (a few hundred
 * ms, once). Checking costs one stat per input (about a hundred files), not a walk of the tree.
 *
 * The bundle holds the diff of two rendered folders. Rendering the current source (no `--to`) needs
 * every chart and cdk8s: that case, and BOOKEDBARBER_NO_BUNDLE=1, run the sources through tsx, as
 * before. Output and exit codes are the same either way (test/diff runs the sources).
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const ENTRY = path.join(ROOT, 'tools', 'diff', 'cli.ts');
const CACHE = path.join(ROOT, 'node_modules', '.cache', 'bookedbarber');
const BUNDLE = path.join(CACHE, 'diff.cjs');
const KEY_FILE = path.join(CACHE, 'diff.key.json');
/** Loaded at run time from node_modules if ever reached, not bundled. */
const EXTERNAL = ['cdk8s', 'cdk8s-plus-28', 'constructs', 'esbuild'];
/** The in-memory renderer (tools/diff/render-current.ts): never in the bundle (see above). */
const RENDERER = './render-current';

function stamp(file) {
  const s = fs.statSync(path.resolve(ROOT, file), { throwIfNoEntry: false });
  return s ? `${s.size}:${s.mtimeMs}` : 'missing';
}

function current() {
  let key;
  try {
    key = JSON.parse(fs.readFileSync(KEY_FILE, 'utf8'));
  } catch {
    return false;
  }
  if (key.node !== process.version || key.launcher !== stamp(__filename) || !fs.existsSync(BUNDLE)) return false;
  return Object.entries(key.inputs).every(([file, s]) => stamp(file) === s);
}

function build() {
  const esbuild = require('esbuild');
  fs.mkdirSync(CACHE, { recursive: true });
  const tmp = `${BUNDLE}.${process.pid}.tmp`;
  const result = esbuild.buildSync({
    entryPoints: [ENTRY],
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: tmp,
    external: [...EXTERNAL, RENDERER],
    metafile: true,
    logLevel: 'error',
  });
  const inputs = {};
  for (const file of [...Object.keys(result.metafile.inputs), 'package-lock.json']) inputs[file] = stamp(file);
  fs.renameSync(tmp, BUNDLE);
  fs.writeFileSync(KEY_FILE, JSON.stringify({ node: process.version, launcher: stamp(__filename), inputs }));
}

function runSources() {
  const tsx = path.join(ROOT, 'node_modules', '.bin', 'tsx');
  const r = spawnSync(tsx, [ENTRY, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
}

const argv = process.argv.slice(2);
const rendersSource = !argv.some((a) => a === '--to' || a.startsWith('--to=') || a === '--help' || a === '-h');
if (process.env.BOOKEDBARBER_NO_BUNDLE === '1' || rendersSource) {
  runSources();
} else {
  let diff;
  try {
    if (!current()) build();
    diff = require(BUNDLE);
  } catch (error) {
    // A bundle that cannot be built only costs speed: run the sources.
    process.stderr.write(`diff: running the sources through tsx (bundle not built: ${error && error.message ? error.message.split('\n')[0] : error})\n`);
  }
  if (diff) {
    diff.run(argv, { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) }).then((code) => {
      process.exitCode = code;
    });
  } else runSources();
}
