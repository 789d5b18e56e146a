/**
 * The validator cache (tools/validate/cache.ts) keeps compiled code and V8's code cache for it.
 * V8 accepts a code cache for any source of the same length, and the code cached under one name
 * can differ between writers (two synth threads compiling the same schema number ajv's functions
 * differently): a run must always execute the code it was given, never bytecode of other code.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Ajv from 'ajv';
import { cacheDir, cachedValidator, fileSha1, flushCodeCaches, readCache, runCommonJs, sha1, UNUSED_DAYS, writeCache } from '../../tools/validate/cache';
import { tempDir } from '../support/regions';

describe('the validator cache', () => {
  let before: string | undefined;
  beforeEach(() => {
    before = process.env.VALIDATE_CACHE_DIR;
    process.env.VALIDATE_CACHE_DIR = tempDir('bb-vcache-');
  });
  afterEach(() => {
    if (before === undefined) delete process.env.VALIDATE_CACHE_DIR;
    else process.env.VALIDATE_CACHE_DIR = before;
  });

  it('runs the code it is given, though other code of the same length was cached under the same name', () => {
    const first = 'module.exports = function validate10(x) { return x === schema11; }; const schema11 = "first";';
    const second = 'module.exports = function validate12(x) { return x === schema13; }; const schema13 = "other";';
    expect(second.length).toBe(first.length);
    const run = (code: string) => runCommonJs('validator-same-key.js', code, require, '/cache/validator-same-key.js') as (x: string) => boolean;
    expect(run(first)('first')).toBe(true);
    flushCodeCaches();
    // A later run (or the other thread) with the other code under the same name.
    expect(run(second)('other')).toBe(true);
    flushCodeCaches();
    expect(run(first)('first')).toBe(true);
  });

  it("remembers a file's hash by its path, size, inode and times, and reads a changed or just-written file again", () => {
    const file = path.join(tempDir('bb-filesha-'), 'schema.yaml');
    fs.writeFileSync(file, 'kind: A\n');
    // Just written: within the racy window it is hashed on every call, never remembered.
    expect(fileSha1(file)).toEqual({ sha: sha1('kind: A\n'), text: 'kind: A\n' });
    expect(fileSha1(file).text).toBe('kind: A\n');
    // Settled (no racy window stands for two seconds later; file and clock times may differ by a tick): remembered, not read again.
    const SETTLED = -Infinity;
    expect(fileSha1(file, SETTLED).text).toBe('kind: A\n');
    expect(fileSha1(file, SETTLED)).toEqual({ sha: sha1('kind: A\n') });
    // Same size, other content: its times changed, so it is read again.
    fs.writeFileSync(file, 'kind: B\n');
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(file, later, later);
    expect(fileSha1(file, SETTLED)).toEqual({ sha: sha1('kind: B\n'), text: 'kind: B\n' });
    // Another size: read again.
    fs.writeFileSync(file, 'kind: Bigger\n');
    expect(fileSha1(file, SETTLED)).toEqual({ sha: sha1('kind: Bigger\n'), text: 'kind: Bigger\n' });
    // Same size and the old modification time put back to the nanosecond (`touch -r`, as `cp -p`
    // or an archive would): only the change time tells.
    const times = path.join(path.dirname(file), 'times');
    fs.writeFileSync(times, '');
    execFileSync('touch', ['-r', file, times]);
    expect(fileSha1(file, SETTLED).text).toBeUndefined();
    fs.writeFileSync(file, 'kind: Bogger\n');
    execFileSync('touch', ['-r', times, file]);
    expect(fs.statSync(file, { bigint: true }).mtimeNs).toBe(fs.statSync(times, { bigint: true }).mtimeNs);
    expect(fileSha1(file, SETTLED)).toEqual({ sha: sha1('kind: Bogger\n'), text: 'kind: Bogger\n' });
    // Another file moved over it, same size and times: another inode.
    const other = path.join(path.dirname(file), 'other.yaml');
    fs.writeFileSync(other, 'kind: Bagger\n');
    execFileSync('touch', ['-r', file, other]);
    expect(fileSha1(file, SETTLED).text).toBeUndefined();
    fs.renameSync(other, file);
    expect(fileSha1(file, SETTLED)).toEqual({ sha: sha1('kind: Bagger\n'), text: 'kind: Bagger\n' });
  });

  it('stores a validator with the hash of its code, runs it without compiling again, and upgrades an entry without the hash', () => {
    const compile = (): [Ajv, (x: unknown) => boolean] => {
      const ajv = new Ajv({ code: { source: true } });
      return [ajv, ajv.compile({ type: 'string', maxLength: 3 })];
    };
    const first = cachedValidator('validator-short-string.js', compile);
    expect([first('abc'), first('abcd'), first(1)]).toEqual([true, false, false]);
    const entry = readCache('validator-short-string.js')!;
    const [, sha, code] = /^\/\*sha1:([0-9a-f]{40})\*\/\n([\s\S]*)$/.exec(entry)!;
    expect(sha).toBe(sha1(code!));
    const never = (): never => {
      throw new Error('compiled again');
    };
    const again = cachedValidator('validator-short-string.js', never);
    expect([again('abc'), again('abcd')]).toEqual([true, false]);
    // An entry written before the header: run, and rewritten with it.
    writeCache('validator-short-string.js', code!);
    const old = cachedValidator('validator-short-string.js', never);
    expect([old('ab'), old('abcde')]).toEqual([true, false]);
    expect(readCache('validator-short-string.js')).toBe(entry);
  });

  it("keeps a code cache per set of node flags (V8 rejects one made under other flags), so runs with and without a flag keep each other's", () => {
    const code = 'module.exports = 42;';
    const v8Files = () => fs.readdirSync(cacheDir()).filter((n) => n.startsWith('flags-module.') && n.endsWith('.v8')).sort();
    const saved = [...process.execArgv];
    try {
      process.execArgv.length = 0;
      expect(runCommonJs('flags-module', code, require, 'flags-module.js')).toBe(42);
      flushCodeCaches();
      const plain = v8Files();
      expect(plain).toHaveLength(1);
      process.execArgv.push('--max-semi-space-size=64');
      expect(runCommonJs('flags-module', code, require, 'flags-module.js')).toBe(42);
      flushCodeCaches();
      const both = v8Files();
      expect(both).toHaveLength(2);
      expect(both).toContain(plain[0]);
      // The same flags again: their cache is found and accepted, nothing is written.
      const written = fs.statSync(path.join(cacheDir(), both.find((n) => n !== plain[0])!)).mtimeMs;
      expect(runCommonJs('flags-module', code, require, 'flags-module.js')).toBe(42);
      flushCodeCaches();
      expect(v8Files()).toEqual(both);
      expect(fs.statSync(path.join(cacheDir(), both.find((n) => n !== plain[0])!)).mtimeMs).toBe(written);
    } finally {
      process.execArgv.length = 0;
      process.execArgv.push(...saved);
    }
  });

  const DAY = 24 * 60 * 60 * 1000;
  const age = (name: string, days: number) => {
    const when = (Date.now() - days * DAY) / 1000;
    fs.utimesSync(path.join(cacheDir(), name), when, when);
  };
  const entries = () => fs.readdirSync(cacheDir()).filter((n) => !n.startsWith('.')).sort();

  it('deletes entries unused for two weeks when it is written to, and keeps those in use', () => {
    for (const name of ['old.js', 'old-but-read.js', 'recent.js']) writeCache(name, name);
    age('old.js', UNUSED_DAYS + 1);
    age('old-but-read.js', UNUSED_DAYS + 1);
    age('recent.js', UNUSED_DAYS - 1);
    fs.rmSync(path.join(cacheDir(), '.pruned'));
    // Reading an entry is using it.
    expect(readCache('old-but-read.js')).toBe('old-but-read.js');
    writeCache('new.js', 'new');
    expect(entries()).toEqual(['new.js', 'old-but-read.js', 'recent.js']);
  });

  it('prunes at most once a day', () => {
    writeCache('first.js', 'first');
    age('first.js', UNUSED_DAYS + 1);
    // Pruned less than a day ago (the mark file): nothing is deleted.
    fs.writeFileSync(path.join(cacheDir(), '.pruned'), '');
    writeCache('second.js', 'second');
    expect(entries()).toEqual(['first.js', 'second.js']);
  });
});
