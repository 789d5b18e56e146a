/**
 * The validator cache (tools/validate/cache.ts) keeps compiled code and V8's code cache for it.
 * V8 accepts a code cache for any source of the same length, and the code cached under one name
 * can differ between writers (two synth threads compiling the same schema number ajv's functions
 * differently): a run must always execute the code it was given, never bytecode of other code.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flushCodeCaches, runCommonJs } from '../../tools/validate/cache';
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
});
