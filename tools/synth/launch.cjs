#!/usr/bin/env node
/**
 * `npm run synth`: runs tools/synth/cli.ts from a prebuilt bundle with plain `node`, without
 * tsx transpiling some 300 TypeScript modules (and the 11 MB of generated imports/) on every
 * run. The bundle is rebuilt with esbuild (a dependency) whenever it is stale: its key is the
 * path, size and modification time of every source file it is made of, so an edit, a checkout
 * or a fresh clone rebuilds it once (about two seconds), and every later run starts at once.
 * The bundle holds cdk8s, cdk8s-plus-28 and constructs too, and runs with V8's code cache for
 * it (synth.v8, written after a run that had none): no module resolution, no parsing or
 * compiling of ~5 MB of JavaScript on a warm run.
 *
 * It lives in node_modules/.cache/bookedbarber/ (never committed; `npm ci` starts without it).
 * Output is the same as `tsx tools/synth/cli.ts` (tests run the sources; CI's drift check runs
 * this). Set BOOKEDBARBER_NO_BUNDLE=1 to run the sources through tsx instead.
 */
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const ENTRY = path.join(ROOT, 'tools', 'synth', 'cli.ts');
const CACHE = path.join(ROOT, 'node_modules', '.cache', 'bookedbarber');
const BUNDLE = path.join(CACHE, 'synth.cjs');
const KEY_FILE = path.join(CACHE, 'synth.key');
const CODE_CACHE = path.join(CACHE, `synth.${process.version}.v8`);
/** What the bundle is made of: every TypeScript source the entry can reach, and the lockfile. */
const SOURCES = ['main.ts', 'package-lock.json', 'charts', 'regions', 'tools', 'imports'];
/** Loaded at run time from node_modules, not bundled: esbuild runs its own binary. */
const EXTERNAL = ['esbuild'];

function listSources(rel, out) {
  const full = path.join(ROOT, rel);
  const stat = fs.statSync(full, { throwIfNoEntry: false });
  if (!stat) return;
  if (stat.isDirectory()) {
    for (const name of fs.readdirSync(full).sort()) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      listSources(path.join(rel, name), out);
    }
  } else if (/\.(ts|mjs|json)$/.test(rel) || rel === 'package-lock.json') {
    out.push(`${rel}\0${stat.size}\0${stat.mtimeMs}`);
  }
}

function sourceKey() {
  const entries = [];
  for (const rel of SOURCES) listSources(rel, entries);
  return crypto.createHash('sha1').update(`${process.version}\0${entries.join('\n')}`).digest('hex');
}

function build(key) {
  const esbuild = require('esbuild');
  fs.mkdirSync(CACHE, { recursive: true });
  const tmp = `${BUNDLE}.${process.pid}.tmp`;
  esbuild.buildSync({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: tmp,
    external: EXTERNAL,
    // Modules resolve repository files from tools/repo-root.ts, never from their own folder.
    logLevel: 'error',
  });
  fs.renameSync(tmp, BUNDLE);
  fs.rmSync(CODE_CACHE, { force: true });
  fs.writeFileSync(KEY_FILE, key);
}

/**
 * Runs the bundle as the module it is (its own `require`, `__dirname` in the cache folder), compiled
 * with V8's code cache when there is one. A missing or rejected cache is written after the run, so
 * it also holds the functions compiled while synth ran (V8 compiles lazily).
 */
function runBundle({ writeCodeCache = true } = {}) {
  process.env.BOOKEDBARBER_LAUNCHER = __filename;
  const Module = require('node:module');
  const vm = require('node:vm');
  let cachedData;
  try {
    cachedData = fs.readFileSync(CODE_CACHE);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(fs.readFileSync(BUNDLE, 'utf8')), { filename: BUNDLE, cachedData });
  const bundle = new Module(BUNDLE, module);
  bundle.filename = BUNDLE;
  bundle.paths = Module._nodeModulePaths(CACHE);
  const requireFromBundle = Module.createRequire(BUNDLE);
  script.runInThisContext()(bundle.exports, requireFromBundle, bundle, BUNDLE, CACHE);
  if (writeCodeCache && (!cachedData || script.cachedDataRejected)) {
    try {
      const tmp = `${CODE_CACHE}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, script.createCachedData());
      fs.renameSync(tmp, CODE_CACHE);
    } catch {
      // a read-only cache folder only costs speed
    }
  }
}

function runSources() {
  const tsx = path.join(ROOT, 'node_modules', '.bin', 'tsx');
  const r = spawnSync(tsx, [ENTRY, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
}

if (!require('node:worker_threads').isMainThread) {
  // A synth worker thread (tools/synth/parallel.ts): the main thread has just checked the bundle.
  runBundle({ writeCodeCache: false });
} else if (process.env.BOOKEDBARBER_NO_BUNDLE === '1') {
  runSources();
} else {
  let ready = false;
  try {
    const key = sourceKey();
    const current = fs.existsSync(BUNDLE) && fs.existsSync(KEY_FILE) && fs.readFileSync(KEY_FILE, 'utf8') === key;
    if (!current) build(key);
    ready = true;
  } catch (error) {
    // A bundle that cannot be built only costs speed: run the sources.
    process.stderr.write(`synth: running the sources through tsx (bundle not built: ${error && error.message ? error.message.split('\n')[0] : error})\n`);
  }
  if (ready) runBundle();
  else runSources();
}
