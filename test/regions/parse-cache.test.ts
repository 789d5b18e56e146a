/**
 * Region files that parsed cleanly are not parsed again (regions/parse-cache.ts): the data comes
 * from the cache, the same value a parse gives, and an error found later still points at its line.
 * A file with a problem is never cached.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadModel } from '../../regions/load';
import { SourceFile } from '../../regions/source-file';
import { REGIONS_DIR, tempDir } from '../support/regions';

let before: string | undefined;
let cache: string;
let file: string;
beforeEach(() => {
  before = process.env.VALIDATE_CACHE_DIR;
  cache = tempDir('bb-parse-cache-');
  process.env.VALIDATE_CACHE_DIR = cache;
  file = path.join(tempDir('bb-parse-file-'), 'us-east-1.yaml');
});
afterEach(() => {
  if (before === undefined) delete process.env.VALIDATE_CACHE_DIR;
  else process.env.VALIDATE_CACHE_DIR = before;
});

const entries = () => fs.readdirSync(cache).filter((name) => name.startsWith('region-parse-'));

/** Writes `text` to the test's file and reads it. */
function read(text: string): SourceFile {
  fs.writeFileSync(file, text);
  return SourceFile.read(file);
}

/** Replaces every cached value with a marker: a read that returns it did not parse. */
const PLANTED = { planted: 'by the test' };
function plant(): void {
  for (const name of entries()) fs.writeFileSync(path.join(cache, name), v8.serialize(PLANTED));
}

// Values JSON would change (NaN, -0, infinity), a merge, an alias and a date-like string.
const TRICKY = `base: &base
  a: 1
  list: [x, y]
merged:
  <<: *base
  b: .nan
negative: -0.0
infinite: -.inf
copy: *base
when: 2001-12-14
text: "line\\nbreak"
nothing: ~
`;

describe('the region parse cache', () => {
  it('gives the same data as a parse, without parsing, for a file read before', () => {
    const first = read(TRICKY);
    expect(first.syntaxIssues).toEqual([]);
    expect(entries()).toHaveLength(1);
    const second = read(TRICKY);
    expect(second.data).toEqual(first.data);
    const data = second.data as Record<string, number>;
    expect(Number.isNaN((data.merged as unknown as Record<string, number>).b)).toBe(true);
    expect(Object.is(data.negative, -0)).toBe(true);
    expect(data.infinite).toBe(-Infinity);
    expect(data.when).toBe('2001-12-14');
    // Each read has its own copy: a loader that changed one would not change the next.
    expect(second.data).not.toBe(read(TRICKY).data);
    // And it is the cache's value, not a second parse.
    plant();
    expect(read(TRICKY).data).toEqual(PLANTED);
  });

  it('locates an issue in a cached file at the same line and column as in a parsed one', () => {
    const parsed = read(TRICKY);
    const cached = read(TRICKY);
    for (const at of [['merged', 'b'], ['copy'], ['base', 'list', 1], ['nothing'], ['missing', 'deeper']] as const) {
      expect(cached.issue([...at], 'found', 'expected', 'fix')).toEqual(parsed.issue([...at], 'found', 'expected', 'fix'));
    }
    expect(cached.issue(['merged', 'b'], 'x', 'y', 'z')).toMatchObject({ line: 6, column: 3 });
  });

  it("explains a value YAML's rules shaped the same way from a cached file as from a parsed one", () => {
    const text = 'channel: #alerts\nenabled: yes\nmode: 0755\nratio: .nan\n';
    const parsed = read(text);
    const cached = read(text);
    plant();
    expect(read(text).data).toEqual(PLANTED);
    const asked = [
      [['channel'], 'null', 'a Slack channel name'],
      [['enabled'], '"yes"', 'a boolean'],
      [['mode'], '755', 'a string of octal digits'],
      [['ratio'], 'null', 'a number between 0 and 1'],
    ] as const;
    for (const [at, found, expected] of asked) {
      const fromParse = parsed.issue([...at], found, expected, 'fix it');
      expect(cached.issue([...at], found, expected, 'fix it')).toEqual(fromParse);
    }
    // The explanations are there (so the comparison above compares them).
    expect(cached.issue(['channel'], 'null', 'a Slack channel name', 'fix it').found).toMatch(/comment/);
  });

  it('never keeps a file with a problem: it is parsed and reported on every read', () => {
    for (const broken of ['a: 1\na: 2\n', 'a: [1, 2\n', 'a: !custom 1\n', '<<<<<<< HEAD\na: 1\n', '%YAML 1.1\n---\na: 1\n']) {
      const first = read(broken);
      expect(first.syntaxIssues.length, broken).toBeGreaterThan(0);
      expect(read(broken).syntaxIssues).toEqual(first.syntaxIssues);
    }
    expect(entries()).toEqual([]);
  });

  it('parses again when an entry is damaged, and gives the same data', () => {
    const first = read(TRICKY);
    for (const name of entries()) fs.writeFileSync(path.join(cache, name), 'not a serialised value');
    expect(read(TRICKY).data).toEqual(first.data);
  });

  it('loads the shipped regions to the same model from the cache as from a parse', () => {
    const parsed = loadModel(REGIONS_DIR);
    expect(entries().length).toBe(fs.readdirSync(REGIONS_DIR).filter((n) => n.endsWith('.yaml')).length);
    const cached = loadModel(REGIONS_DIR);
    const configs = (m: typeof parsed) => [m.global.config, m.versions.config, ...m.regions.map((r) => r.config)];
    expect(configs(cached)).toEqual(configs(parsed));
    // A changed file is parsed again: its text is another key.
    fs.writeFileSync(file, `${fs.readFileSync(path.join(REGIONS_DIR, 'us-east-1.yaml'), 'utf8')}# a comment\n`);
    const count = entries().length;
    expect(SourceFile.read(file).data).toEqual(parsed.regions.find((r) => r.config.name === 'us-east-1')!.config);
    expect(entries()).toHaveLength(count + 1);
  });
});
