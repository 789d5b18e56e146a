/**
 * Prebuilt bundles for the commands users run often (`npm run synth`, `npm run diff`): one
 * esbuild bundle per command in node_modules/.cache/bookedbarber/ (never committed), run by plain
 * `node`, without tsx transpiling some 300 TypeScript modules and the 11 MB of generated imports/
 * on every run (issue 16).
 *
 * Staleness: the key file lists every file esbuild read for the bundle (its metafile) with size
 * and modification time, plus the lockfile, this file, the launcher and the Node version. Any
 * change rebuilds the bundle once (a second or two); checking costs one stat per input.
 * `npm ci` builds them ahead (tools/prepare.cjs), so a fresh clone starts warm.
 *
 * A bundle can also run with V8's code cache (`runBundle`): no parsing or compiling of megabytes
 * of JavaScript on a warm run. The cache is written at the exit of a run that had none (or had it
 * rejected), so it also holds the functions compiled while the command ran; a bundle whose entry
 * exports `codeCacheWorthy()` writes it only when that says the run was a full one.
 */
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..');
const CACHE = path.join(ROOT, 'node_modules', '.cache', 'bookedbarber');

function stamp(file) {
  const s = fs.statSync(path.resolve(ROOT, file), { throwIfNoEntry: false });
  return s ? `${s.size}:${s.mtimeMs}` : 'missing';
}

/**
 * The bundle of `entry` (relative to the repository) named `name`, rebuilt first when stale.
 * `external`: packages loaded from node_modules at run time instead of bundled. Throws when it
 * cannot be built (the caller then runs the sources).
 */
function prepareBundle({ name, entry, launcher, external = [] }) {
  const bundle = bundlePath(name);
  const keyFile = keyPath(name);
  const owners = { node: process.version, bundler: stamp(__filename), launcher: stamp(launcher) };
  let key;
  try {
    key = JSON.parse(fs.readFileSync(keyFile, 'utf8'));
  } catch {
    key = undefined;
  }
  const current = key && fs.existsSync(bundle)
    && Object.entries(owners).every(([k, v]) => key[k] === v)
    && Object.entries(key.inputs).every(([file, s]) => stamp(file) === s);
  if (current) return bundle;
  const esbuild = require('esbuild');
  fs.mkdirSync(CACHE, { recursive: true });
  const tmp = `${bundle}.${process.pid}.tmp`;
  const result = esbuild.buildSync({
    entryPoints: [path.join(ROOT, entry)],
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: tmp,
    external,
    metafile: true,
    // No comments or indentation (5.2 MB -> 3.8 MB) and no character outside ASCII, so V8 reads
    // the source as a one-byte string: start-up ~25 ms shorter. Names stay as written.
    minifyWhitespace: true,
    // Modules resolve repository files from tools/repo-root.ts, never from their own folder.
    logLevel: 'error',
  });
  const inputs = {};
  for (const file of [...Object.keys(result.metafile.inputs), 'package-lock.json']) inputs[file] = stamp(file);
  fs.writeFileSync(tmp, withFastUndefinedFilter(fs.readFileSync(tmp, 'latin1')), 'latin1');
  fs.renameSync(tmp, bundle);
  removeCodeCaches(bundle);
  fs.writeFileSync(keyFile, JSON.stringify({ ...owners, inputs }));
  return bundle;
}

/**
 * `Object.entries(o).reduce((r, i) => i[1] === undefined ? r : { ...r, [i[0]]: i[1] }, {})`: how
 * every `toJson_*` function `cdk8s import` generates (imports/*.ts, cdk8s-plus-28's own k8s.js,
 * some 4,400 of them in the synth bundle) drops undefined fields. Spreading the whole object once
 * per key is quadratic in its keys, and a third of the objects phase's time went to it and to the
 * garbage it leaves; the same object in one pass: the same keys in the same order (own enumerable
 * string keys, read once each, as Object.entries reads them), `__proto__` as an own property as a
 * computed key makes it. test/synth/launch.test.ts compares the two.
 */
function dropUndefined(o) {
  const r = {};
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (v === undefined) continue;
    if (k === '__proto__') Object.defineProperty(r, k, { value: v, enumerable: true, writable: true, configurable: true });
    else r[k] = v;
  }
  return r;
}

/** The generated filter as esbuild writes it (minified whitespace), for an object named by a variable or property path. */
const UNDEFINED_FILTER = /Object\.entries\(([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\)\.reduce\(\(r,i\)=>i\[1\]===void 0\?r:\{\.\.\.r,\[i\[0\]\]:i\[1\]\},\{\}\)/g;

/** The bundle text with every generated undefined filter replaced by dropUndefined. */
function withFastUndefinedFilter(code) {
  if (!UNDEFINED_FILTER.test(code)) return code;
  UNDEFINED_FILTER.lastIndex = 0;
  // After the "use strict" directive, which counts only as the first statement.
  const strict = /^"use strict";/.exec(code)?.[0] ?? '';
  return `${strict}var __dropUndefined=${dropUndefined.toString()};${code.slice(strict.length).replace(UNDEFINED_FILTER, '__dropUndefined($1)')}`;
}

/** Where the bundle `name` lives (whether or not it is built). */
function bundlePath(name) {
  return path.join(CACHE, `${name}.cjs`);
}

/**
 * This process's node flags as part of a V8 code cache's name (empty without flags): V8 rejects a
 * cache made under other flags (`node --max-semi-space-size=64` vs plain `node`), so runs with
 * and without a flag would otherwise replace each other's cache on every run and both start
 * cold. The bundles' caches and the validator's (tools/validate/cache.ts) are named with it.
 */
function nodeFlagsTag() {
  return process.execArgv.length === 0 ? '' : `.${crypto.createHash('sha256').update(process.execArgv.join('\0')).digest('hex').slice(0, 8)}`;
}

/** The code cache of `bundle` for this Node version and this process's flags. */
function codeCacheOf(bundle) {
  return `${bundle.slice(0, -'.cjs'.length)}.${process.version}${nodeFlagsTag()}.v8`;
}

/** Every code cache of `bundle` (all Node versions and flags). */
function codeCachesOf(bundle) {
  const base = path.basename(bundle, '.cjs');
  return fs.readdirSync(path.dirname(bundle)).filter((file) => file.startsWith(`${base}.`) && file.endsWith('.v8')).map((file) => path.join(path.dirname(bundle), file));
}

/** Its code caches are stale once `bundle` is rebuilt. */
function removeCodeCaches(bundle) {
  for (const file of codeCachesOf(bundle)) fs.rmSync(file, { force: true });
}

/** The key file of the bundle `name`: its inputs' sizes and times when it was built (prepareBundle). */
function keyPath(name) {
  return path.join(CACHE, `${name}.key.json`);
}

/** The files the bundle `name` is in the cache: the bundle, its key file and its code caches (those that exist). */
function bundleFiles(name) {
  const bundle = bundlePath(name);
  return [bundle, keyPath(name), ...(fs.existsSync(CACHE) ? codeCachesOf(bundle) : [])].filter((file) => fs.existsSync(file));
}

/**
 * Runs `bundle` as the module it is (its own `require`, `__dirname` in the cache folder), compiled
 * with V8's code cache when there is one; returns its exports.
 */
function runBundle(bundle, { writeCodeCache = true } = {}) {
  const Module = require('node:module');
  const vm = require('node:vm');
  const codeCache = codeCacheOf(bundle);
  let cachedData;
  try {
    cachedData = fs.readFileSync(codeCache);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(fs.readFileSync(bundle, 'utf8')), { filename: bundle, cachedData });
  const mod = new Module(bundle, module);
  mod.filename = bundle;
  mod.paths = Module._nodeModulePaths(path.dirname(bundle));
  script.runInThisContext()(mod.exports, Module.createRequire(bundle), mod, bundle, path.dirname(bundle));
  if (writeCodeCache && (!cachedData || script.cachedDataRejected)) {
    // At exit, so that the cache holds every function the run compiled (an asynchronous run too).
    process.once('exit', () => {
      const worthy = mod.exports.codeCacheWorthy;
      if (typeof worthy === 'function' && !worthy()) return;
      try {
        const tmp = `${codeCache}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, script.createCachedData());
        fs.renameSync(tmp, codeCache);
      } catch {
        // a read-only cache folder only costs speed
      }
    });
  }
  return mod.exports;
}

/** Runs `entry` from the sources through tsx (BOOKEDBARBER_NO_BUNDLE=1, or no bundle). */
function runSources(entry) {
  const r = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'tsx'), [path.join(ROOT, entry), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
}

/** Why a bundle could not be built, in one line. */
function reason(error) {
  return error && error.message ? error.message.split('\n')[0] : String(error);
}

/**
 * What `attempt` returns (building or loading a bundle), or undefined after telling the user that
 * `command` runs the sources through tsx instead: a bundle that cannot be built only costs speed.
 */
function orSources(command, attempt) {
  try {
    return attempt();
  } catch (error) {
    process.stderr.write(`${command}: running the sources through tsx (bundle not built: ${reason(error)})\n`);
    return undefined;
  }
}

module.exports = { bundleFiles, bundlePath, dropUndefined, nodeFlagsTag, orSources, prepareBundle, runBundle, runSources, withFastUndefinedFilter };
