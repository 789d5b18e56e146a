/**
 * The diff's YAML reader (tools/diff/fast-yaml.ts) returns exactly what the `yaml` library's
 * `parse` returns: on every document of the committed dist/, and on shapes synth never writes,
 * which it must hand to the library (or read the same way).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fastYamlStats, parseYaml } from '../../tools/diff/fast-yaml';
import { REPO_ROOT } from '../../tools/repo-root';

function documents(root: string): Array<{ file: string; text: string }> {
  const out: Array<{ file: string; text: string }> = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (/\.ya?ml$/.test(e.name)) {
        for (const text of fs.readFileSync(full, 'utf8').split(/^---[ \t]*$/m)) if (/^[ \t]*[^#\s]/m.test(text)) out.push({ file: path.relative(root, full), text });
      }
    }
  };
  walk(root);
  return out;
}

/** Same value, or the same error: JSON text and deep strict equality (key order, -0, NaN). */
function expectSame(text: string): void {
  let expected: unknown;
  let error: unknown;
  try {
    expected = parse(text);
  } catch (e) {
    error = e;
  }
  if (error) {
    expect(() => parseYaml(text), text).toThrow((error as Error).message);
    return;
  }
  const actual = parseYaml(text);
  expect(isDeepStrictEqual(actual, expected), text).toBe(true);
  expect(JSON.stringify(actual), text).toBe(JSON.stringify(expected));
}

describe('parseYaml', () => {
  it('reads every document of dist/ as the library does, each by the fast path', () => {
    const docs = documents(path.join(REPO_ROOT, 'dist'));
    expect(docs.length).toBeGreaterThan(1000);
    const before = { ...fastYamlStats };
    for (const { file, text } of docs) {
      const actual = parseYaml(text);
      const expected = parse(text);
      if (!isDeepStrictEqual(actual, expected) || JSON.stringify(actual) !== JSON.stringify(expected)) expect.fail(`${file}: differs from the library`);
    }
    // Synth's output never needs the library: the speed of a large diff depends on it.
    expect(fastYamlStats.library - before.library).toBe(0);
    expect(fastYamlStats.fast - before.fast).toBe(docs.length);
  });

  const cases: Record<string, string> = {
    'scalars of the core schema': 'a: 1\nb: -2\nc: +3\nd: 0o17\ne: 0x1F\nf: 1.50\ng: 1e3\nh: .inf\ni: -.Inf\nj: .nan\nk: ~\nl: null\nm: Null\nn: true\no: False\np: yes\nq: 2024-01-01\nr: 007\ns:\nt: -0\nu: 12345678901234567890\n',
    'texts next to numbers': 'a: 1_000\nb: .5\nc: 5.\nd: +.inf\ne: $x\nf: /path\ng: 1.2.3\nh: 10Gi\ni: 500m\nj: 0x\nk: 0o8\nl: -\nm: ~x\nn: +\no: 0b101\np: 1:30\nq: .NaN\nr: 9007199254740993\ns: -.5e-3\nt: nULL\n',
    'strings that look like other things': 'a: "1"\nb: \'true\'\nc: -c\nd: --web.listen-address=:9127\ne: http://x:80/y\nf: a:b\ng: "a: b"\nh: \'it\'\'s\'\ni: "tab\\there \\u00e9 \\x41 \\U0001F600 \\\\ \\" \\/ \\N \\_"\nj: ""\nk: \'\'\n',
    'nested collections, sequences at the key\'s column and indented': 'a:\n  b:\n    - x\n    - y: 1\n      z: [ ]\n  c:\n  - 1\n  - 2\n  d: {}\n  e: []\nf:\n  -\n    g: 1\n  - - nested\n',
    'literal block scalars': 'a: |\n  line 1\n\n  line 3\n\n\nb: |-\n  x: y # not a comment\n    indented\nc:\n  - |-\n    in a list\n  - |\n    kept\nd: |\n\n  leading empty line\ne: |+\n  keep\n\nf: >-\n  folded\n  text\ng: |2\n    explicit indent\n',
    'comments and blank lines': '# head\na: 1 # trailing comment\n\n  # indented comment\nb:\n  # inside\n  c: 2\n',
    'anchors, aliases, tags, flow': 'a: &x {p: 1, q: [1, 2]}\nb: *x\nc: !!str 1\nd: [a, b]\ne: {a: 1}\n',
    'multi-line plain and quoted scalars': 'a: one\n  two\nb: "one\n  two"\nc: \'x\n  y\'\n',
    'odd keys': '"quoted key": 1\n\'single\': 2\n1: 3\ntrue: 4\nnull: 5\n? complex\n: 6\n"a\\tb": 7\n__proto__: 8\n',
    'duplicate keys': 'a: 1\na: 2\n',
    'a root that is not a mapping': '- a\n- b\n',
    'a root scalar': 'just text\n',
    'an empty document': '\n# only a comment\n',
    'bad indentation': 'a:\n    b: 1\n  c: 2\n',
    'tabs and carriage returns': 'a:\n\tb: 1\n',
    'CRLF': 'a: 1\r\nb: 2\r\n',
    'document markers inside': 'a: 1\n...\n',
    'a value after a quoted scalar': 'a: "x" y\n',
    'a sequence item at a mapping\'s column after a scalar': 'a: 1\n- b\n',
    'trailing spaces': 'a: x  \nb:  \n',
    'a key without a space after the colon': 'a:b\nc: 1\n',
  };
  for (const [name, text] of Object.entries(cases)) {
    it(`matches the library: ${name}`, () => expectSame(text));
  }
});
