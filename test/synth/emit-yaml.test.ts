/**
 * The fast emitter (tools/synth/emit-yaml.ts) must write exactly what the `yaml` library writes:
 * dist/ is byte-compared in CI, and reviewers read the diff. Checked on every document of the
 * shipped render and on generated documents full of YAML's traps.
 */
import { describe, expect, it } from 'vitest';
import { emitYaml, libraryYaml } from '../../tools/synth/emit-yaml';
import { renderShipped } from '../support/rendered';

/** Strings YAML 1.1 reads as something else, or that need quotes, escapes or block style. */
const TRAPS = [
  '', ' ', 'yes', 'No', 'ON', 'off', 'y', 'N', 'true', 'False', 'null', 'NULL', '~', '-', '--', '- a', '-1', '+1', '0', '007', '0o17',
  '0x1F', '0b101', '1_000', '1e5', '1.5', '.5', '.inf', '-.Inf', '.nan', '1:20', '2001-12-14', '2001-12-14t21:59:43.10-05:00', '100m',
  '128Mi', '1.28', 'v1', 'a: b', 'a #b', 'a#b', '#a', '@a', '`a', '!a', '&a', '*a', '%a', '|a', '>a', "'a'", '"a"', '[a]', '{a}', 'a,b',
  '?a', '? a', 'a:', ':a', 'http://x.y/z?q=1', 'a\nb', 'a\n\nb\n', '\na', 'a\n', 'a\n\n', '  lead', 'trail  ', 'tab\there', 'é', '日本',
  'line\r\nbreak', '\u00a0', 'a\u2028b', 'multi\n  indented\n\n    more\n', '{"json":true}', '$(cmd)', 'a=b', 'A_B', 'a.b/c-d', 'Z',
  // Quotes: which kind the library picks, and how it escapes the other.
  'say "hi"', "it's", `both ' and "`, 'a: "b"', "a: 'b'", 'back\\slash', 'end\\', '"', "'", `'"`, 'x: \\"y\\"',
  // Document markers and the merge key, at the start of a value or a key.
  '---', '--- a', '...', '...a', '%YAML', '<<', '< <', '=', '?', '? ', ': ', 'a :b', 'a\t#b', 'a #', '1 2', '0.5.1', '1e', '+.inf',
  'Yes please', 'null value', '12:30', '190:20:30', '1:60', '2001-12-14 21:59:43', '2001-1-1', 'sum(rate(x[5m])) > 0.9', '{{ $value }}',
  'a | b', 'a > b', '- x', 'x -', '*', '&', '!', '@x', 'a@b', 'a`b', 'a,b c', '[x', 'x]', 'pct 50 %', '$HOME', 'tilde ~',
  // Letters only, yet an implicit type (a float with no digits before its exponent), or not one.
  'e1', 'E-7', 'e007', 'E23', 'e+5', 'e2-standard', 'yES', 'nO', 'tRUE', 'Null', 'nULL', 'oN', 'Off',
];

/** A small deterministic generator (no Math.random: a failure must reproduce). */
function generator(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
  const scalar = (): unknown =>
    pick([() => pick(TRAPS), () => pick(TRAPS) + pick(TRAPS), () => Math.floor(next() * 2e6) - 1e6, () => next() * 100, () => next() < 0.5, () => null, () => 2 ** 60])();
  const value = (depth: number): unknown => {
    const r = next();
    if (depth > 4 || r < 0.45) return scalar();
    if (r < 0.55) return next() < 0.5 ? [] : {};
    if (r < 0.75) return Array.from({ length: 1 + Math.floor(next() * 3) }, () => value(depth + 1));
    const out: Record<string, unknown> = {};
    for (let i = 0; i < 1 + Math.floor(next() * 4); i++) out[next() < 0.7 ? `k${Math.floor(next() * 9)}` : pick(TRAPS.filter((t) => !t.includes('\n')))] = value(depth + 1);
    return out;
  };
  return () => {
    const doc: Record<string, unknown> = {};
    for (let i = 0; i < 4; i++) doc[`key${i}`] = value(0);
    return doc;
  };
}

describe('emitYaml', () => {
  it('writes every document of the shipped render exactly as the yaml library does', () => {
    const documents = renderShipped().flatMap((file) => file.documents ?? []);
    expect(documents.length).toBeGreaterThan(1000);
    for (const document of documents) expect(emitYaml(document)).toBe(libraryYaml(document));
  });

  it('writes every YAML trap as the library does: as a value, a list item and a key', () => {
    for (const trap of TRAPS) {
      const document = { value: trap, list: [trap, { name: trap, inner: [trap] }], nested: { deeper: { value: trap } } };
      expect(emitYaml(document), JSON.stringify(trap)).toBe(libraryYaml(document));
      if (!trap.includes('\n') && trap !== '') {
        const keyed = { [trap]: 'v', outer: { [trap]: [trap] } };
        expect(emitYaml(keyed), JSON.stringify(trap)).toBe(libraryYaml(keyed));
      }
    }
  });

  it('writes 3,000 generated documents (nested lists, empty collections, numbers, traps) as the library does', () => {
    const next = generator(16);
    for (let i = 0; i < 3000; i++) {
      const document = next();
      expect(emitYaml(document), JSON.stringify(document)).toBe(libraryYaml(document));
    }
  });

  it('writes scalar and empty documents as the library does', () => {
    for (const document of [{}, [], 'text', 1, null, [[]], [{}], { a: [[1, [2]], []] }]) {
      expect(emitYaml(document)).toBe(libraryYaml(document));
    }
  });
});
