/**
 * Disk cache that keeps `npm run validate` fast (target < 3 s for a few hundred objects).
 *
 * Two things are slow to do from scratch on every run:
 *  - the upstream validators: compiling the pinned CRD schemas with ajv takes seconds
 *    (ApplicationSet alone ≈ 1-2 s) and parsing the CRD YAML as long again;
 *  - the generated imports/*.ts (11 MB): loading them through tsx costs ≈ 1.2 s, plain
 *    transpiled JavaScript ≈ 0.2 s.
 * So we store the generated JavaScript (ajv "standalone" code; imports transpiled with esbuild)
 * plus V8's code cache for it, under keys derived from the *content* of the source file, the
 * tool versions and CACHE_VERSION. A changed input gets a new key; stale entries are never read.
 *
 * Location: $VALIDATE_CACHE_DIR, else node_modules/.cache/bookedbarber/validate of this clone (never
 * committed; `npm ci` starts without it and its `prepare` step fills it, see tools/synth/launch.cjs).
 * Any cache error only costs speed (we fall back to in-memory work).
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { threadId } from 'node:worker_threads';
import type Ajv from 'ajv';
import standaloneCode from 'ajv/dist/standalone';
import { REPO_ROOT } from '../repo-root';

/** Bump when a transform whose output is cached (schema strictness, transpile) changes meaning. */
export const CACHE_VERSION = 8;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const AJV_VERSION: string = require('ajv/package.json').version;

export function cacheDir(): string {
  return process.env.VALIDATE_CACHE_DIR || path.join(REPO_ROOT, 'node_modules', '.cache', 'bookedbarber', 'validate');
}

export function sha1(...parts: string[]): string {
  const h = createHash('sha1');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex');
}

export function cacheKey(...parts: string[]): string {
  return sha1(String(CACHE_VERSION), AJV_VERSION, ...parts);
}

/**
 * The sha1 of a file's text (as `sha1(text)`), remembered by the file's identity and times as
 * git's index does: path, size, inode, modification and change time (ns). Reading and hashing the
 * 6 MB of pinned CRD schemas cost every synth thread ~20 ms, only to learn they had not changed.
 * A file modified in the last 2 seconds is not remembered (git's "racily clean" case: a second
 * write within the clock's resolution would keep its times). `text` is there when the file was read.
 */
export function fileSha1(file: string, racyWindowMs = 2000): { readonly sha: string; readonly text?: string } {
  // The window counts from the stat: a write after it may keep the times it saw.
  const statted = Date.now();
  const stat = fs.statSync(file, { bigint: true, throwIfNoEntry: false });
  const memo = stat && `file-sha1-${sha1(path.resolve(file), String(stat.size), String(stat.ino), String(stat.mtimeNs), String(stat.ctimeNs))}`;
  const known = memo ? readCache(memo) : undefined;
  if (known !== undefined && /^[0-9a-f]{40}$/.test(known)) return { sha: known };
  const text = fs.readFileSync(file, 'utf8');
  const sha = sha1(text);
  const settled = (ms: number) => statted - ms > racyWindowMs;
  if (memo && settled(Number(stat!.mtimeMs)) && settled(Number(stat!.ctimeMs))) writeCache(memo, sha);
  return { sha, text };
}

/**
 * Entries are keyed by content, so every change of a schema, of ajv or of the generated code
 * adds new ones and the old ones are never read again (about 15 MB each time). An entry in use is
 * touched when read (at most daily: its modification time is its last use); one unused for
 * UNUSED_DAYS is deleted the next time the cache is written to (at most daily, see pruneCache).
 */
export const UNUSED_DAYS = 14;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The bytes of the entry `name`, if there is one (touched: see UNUSED_DAYS). */
export function readCacheBytes(name: string): Buffer | undefined {
  const file = path.join(cacheDir(), name);
  try {
    const content = fs.readFileSync(file);
    try {
      const now = Date.now();
      if (fs.statSync(file).mtimeMs < now - DAY_MS) fs.utimesSync(file, now / 1000, now / 1000);
    } catch {
      // Not touched: it may be pruned as unused, which only costs speed.
    }
    return content;
  } catch {
    return undefined;
  }
}

export function readCache(name: string): string | undefined {
  return readCacheBytes(name)?.toString('utf8');
}

/** Atomic write (temp file + rename), so parallel test workers never read half a file. */
export function writeCache(name: string, content: string | Buffer): void {
  try {
    const dir = cacheDir();
    fs.mkdirSync(dir, { recursive: true });
    pruneCache(dir);
    // Unique per writer: the synth worker thread shares its process's pid.
    const tmp = path.join(dir, `${name}.${process.pid}.${threadId}.${randomBytes(4).toString('hex')}.tmp`);
    fs.writeFileSync(tmp, content);
    fs.renameSync(tmp, path.join(dir, name));
  } catch {
    // A read-only or full disk only costs speed.
  }
}

const PRUNE_MARK = '.pruned';

/**
 * Deletes the entries of `dir` unused (not read nor written) for UNUSED_DAYS, and temp files a
 * killed writer left that long, when the last pruning (the mark file's time) is a day old: a
 * write otherwise pays one stat.
 */
function pruneCache(dir: string): void {
  const now = Date.now();
  const mark = path.join(dir, PRUNE_MARK);
  const last = fs.statSync(mark, { throwIfNoEntry: false });
  if (last && last.mtimeMs > now - DAY_MS) return;
  fs.writeFileSync(mark, '');
  fs.utimesSync(mark, now / 1000, now / 1000);
  for (const name of fs.readdirSync(dir)) {
    if (name === PRUNE_MARK) continue;
    const file = path.join(dir, name);
    try {
      if (fs.statSync(file).mtimeMs < now - UNUSED_DAYS * DAY_MS) fs.rmSync(file, { force: true });
    } catch {
      // Gone already (another process pruned it): nothing to do.
    }
  }
}

/** Scripts whose V8 code cache is missing or stale: written by flushCodeCaches(). */
const pendingCodeCaches = new Map<string, vm.Script>();

/** This process's node flags in a code cache's name, as the bundles' caches are named (tools/bundle.cjs). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { nodeFlagsTag } = require('../bundle.cjs') as { nodeFlagsTag: () => string };

/**
 * Runs CommonJS code (cached under `name`) and returns its exports. V8's code cache for it
 * is kept next to it (`name.<hash of the code>.<node version>[.<node flags>].v8`): parsing and
 * compiling multi-MB generated code is most of its load time.
 */
export function runCommonJs(name: string, code: string, req: NodeRequire, filename: string, codeSha: string = sha1(code)): any {
  // Keyed by the code itself, not only by `name`: V8 checks a code cache against the source's
  // length alone, and the code under one name can differ between two writers (two synth threads
  // compiling the same schema with differently numbered ajv functions). `codeSha` is sha1(code),
  // given by a caller that knows it (cachedStandalone: written into the entry with the code).
  const v8Name = `${name}.${codeSha.slice(0, 16)}.${process.version}${nodeFlagsTag()}.v8`;
  const cachedData = readCacheBytes(v8Name);
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${code}\n})`;
  const script = new vm.Script(wrapped, { filename, cachedData });
  if (!cachedData || script.cachedDataRejected) pendingCodeCaches.set(v8Name, script);
  const mod: { exports: any } = { exports: {} };
  script.runInThisContext()(mod.exports, req, mod, filename, path.dirname(filename));
  return mod.exports;
}

/**
 * Writes the pending V8 code caches. Called after a run, so the cache also holds the functions
 * compiled while validating (V8 compiles lazily: a validator's body is compiled on first call).
 */
export function flushCodeCaches(): void {
  for (const [name, script] of pendingCodeCaches) writeCache(name, script.createCachedData());
  pendingCodeCaches.clear();
}

/** The cached code under `name`, or `produce()` written to the cache first. */
export function cachedCode(name: string, produce: () => string): string {
  const hit = readCache(name);
  if (hit !== undefined) return hit;
  const code = produce();
  writeCache(name, code);
  return code;
}

/**
 * A compiled ajv validator from the cache (its standalone code under `name`), else `compile()`d
 * and cached for the next run. On a miss the generated code itself is run, so this run already
 * records its V8 code cache; when standalone code cannot be made, the compiled function is used:
 * a broken cache never changes results. `req` resolves what the generated code requires.
 */
export function cachedValidator<V extends (data: unknown) => boolean>(name: string, compile: () => [Ajv, V], req: NodeRequire = require): V {
  return cachedStandalone(
    name,
    () => {
      const [ajv, validate] = compile();
      return { source: () => standaloneCode(ajv, validate as never), fallback: validate };
    },
    (mod) => (mod.default ?? mod) as V,
    req,
  );
}

/**
 * Several validators of one ajv instance in one cached module, by export name: what they share
 * (their `$ref`s) is compiled and loaded once. `compile()` returns the instance and, per export
 * name, the schema key ajv knows it by (`k8s.json#/definitions/...`); export names must be
 * JavaScript identifiers.
 */
export function cachedValidators<V extends (data: unknown) => boolean>(name: string, compile: () => [Ajv, Record<string, string>], req: NodeRequire = require): Record<string, V> {
  return cachedStandalone(
    name,
    () => {
      const [ajv, refs] = compile();
      const fallback = Object.fromEntries(Object.entries(refs).map(([exported, ref]) => [exported, ajv.getSchema(ref) as unknown as V]));
      return { source: () => standaloneCode(ajv, refs), fallback };
    },
    (mod) => mod as Record<string, V>,
    req,
  );
}

/**
 * A validator module's entry starts with the sha1 of the code after it: written in the same file,
 * by the same rename, so a reader knows the hash of exactly what it read without hashing ~9 MB of
 * code on every run (~18 ms). An entry without it (written before) is hashed once and rewritten.
 */
const SHA_HEADER = /^\/\*sha1:([0-9a-f]{40})\*\/\n/;

function withShaHeader(code: string): { text: string; sha: string } {
  const sha = sha1(code);
  return { text: `/*sha1:${sha}*/\n${code}`, sha };
}

/** cachedValidator/cachedValidators: read and run the cached code, else compile, cache and run. */
function cachedStandalone<T>(name: string, compile: () => { source: () => string; fallback: T }, pick: (mod: any) => T, req: NodeRequire): T {
  const file = path.join(cacheDir(), name);
  const text = readCache(name);
  if (text !== undefined) {
    const header = SHA_HEADER.exec(text);
    const code = header ? text.slice(header[0].length) : text;
    let sha = header?.[1];
    if (sha === undefined) {
      // An entry from before the header: hashed this once, and rewritten with it.
      const upgraded = withShaHeader(code);
      writeCache(name, upgraded.text);
      sha = upgraded.sha;
    }
    try {
      // The header is as trustworthy as the code: both come from one writeCache (temp file + rename).
      return pick(runCommonJs(name, code, req, file, sha));
    } catch {
      // a corrupt entry: compile below and overwrite it
    }
  }
  const { source, fallback } = compile();
  try {
    const { text: entry, sha } = withShaHeader(source());
    writeCache(name, entry);
    return pick(runCommonJs(name, entry.slice(entry.indexOf('\n') + 1), req, file, sha));
  } catch {
    return fallback;
  }
}
