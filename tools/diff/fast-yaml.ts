/**
 * A fast reader for the YAML synth writes (tools/synth/emit-yaml.ts): block mappings and
 * sequences by indentation, plain and quoted one-line scalars, literal block scalars (`|`, `|-`),
 * empty `{}` / `[]`. It returns exactly what `parse(text)` of the `yaml` library returns (YAML
 * 1.2 core schema), about ten times faster; the diff of two trees where every object changed
 * parses every document of both (issue 16: ~8 s per 64-region tree with the library).
 *
 * It never guesses: a document holding anything outside that shape (anchors, aliases, tags, flow
 * collections, multi-line flow scalars, folded or keep-chomped block scalars, comments after a
 * value, tabs in indentation, duplicate keys, ...) is handed whole to the library, and so is the
 * resolution of any plain scalar that is not a plain word (numbers, booleans, null: the library
 * resolves each such text once, cached). test/diff/fast-yaml.test.ts compares both on every
 * document of dist/ and on edge cases.
 */
import { parse } from 'yaml';

/** Thrown inside the reader when the text leaves the shape it handles; never escapes `parseYaml`. */
const UNSUPPORTED = new Error('not the shape the fast reader handles');

/** A plain scalar that the core schema can only read as a string: starts with a letter, then word characters. */
const PLAIN_STRING = /^[A-Za-z][A-Za-z0-9_./-]*$/;
/** Words of the core schema's null and bool tags (what PLAIN_STRING also matches). */
const CORE_WORDS = new Set(['null', 'Null', 'NULL', 'true', 'True', 'TRUE', 'false', 'False', 'FALSE']);
/**
 * A plain scalar in block context that cannot start or end a structure: no leading indicator,
 * no `: ` / ` #` inside, no trailing `:` or blanks, no tab. Only these go to the library alone.
 */
const SAFE_PLAIN = /^(?:-(?=\S)|(?![-?:,[\]{}#&*!|>'"%@`\s]))(?:(?!: | #|\t).)*(?<![:\s])$/;
/** A plain mapping key the reader takes as a string as it is. */
const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$./-]*$/;

const DECIMAL = /^[-+]?[0-9]+$/;
const MAYBE_NUMBER = /^[-+.0-9~]/;

const scalarCache = new Map<string, unknown>();

/** The core-schema value of a plain scalar that passed SAFE_PLAIN, as the library resolves it. */
function plainValue(text: string): unknown {
  if (PLAIN_STRING.test(text) && !CORE_WORDS.has(text)) return text;
  // The core schema's int tag, resolved as the library does (parseInt, base 10).
  if (DECIMAL.test(text)) return parseInt(text, 10);
  // Every other core-schema tag (null, bool, octal, hex, floats) matches only an empty text, one of
  // those words, or a text starting with a digit, sign, dot or `~`: anything else is a string.
  if (text !== '' && !CORE_WORDS.has(text) && !MAYBE_NUMBER.test(text)) return text;
  if (scalarCache.has(text)) return scalarCache.get(text);
  // Alone on a line, these would be document markers or a directive, not a scalar.
  if (text.startsWith('---') || text.startsWith('...')) throw UNSUPPORTED;
  const value: unknown = parse(text);
  if (value !== null && typeof value === 'object') throw UNSUPPORTED;
  if (scalarCache.size < 100_000) scalarCache.set(text, value);
  return value;
}

const ESCAPES: Record<string, string> = {
  '0': '\0', a: '\x07', b: '\b', t: '\t', '\t': '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1b',
  ' ': ' ', '"': '"', '/': '/', '\\': '\\', N: '\u0085', _: '\u00a0', L: '\u2028', P: '\u2029',
};
const HEX_LENGTH: Record<string, number> = { x: 2, u: 4, U: 8 };

/** A double-quoted scalar starting at `start` (the quote) of `line`; returns its value and the index after the closing quote. */
function doubleQuoted(line: string, start: number): [string, number] {
  let out = '';
  let i = start + 1;
  let run = i;
  for (;;) {
    const c = line.charCodeAt(i);
    if (Number.isNaN(c)) throw UNSUPPORTED; // no closing quote on the line: a multi-line scalar
    if (c === 34) {
      out += line.slice(run, i);
      return [out, i + 1];
    }
    if (c === 92) {
      out += line.slice(run, i);
      const e = line[i + 1];
      if (e === undefined) throw UNSUPPORTED;
      const hex = HEX_LENGTH[e];
      if (hex !== undefined) {
        const digits = line.slice(i + 2, i + 2 + hex);
        if (!/^[0-9a-fA-F]+$/.test(digits) || digits.length !== hex) throw UNSUPPORTED;
        out += String.fromCodePoint(parseInt(digits, 16));
        i += 2 + hex;
      } else {
        const r = ESCAPES[e];
        if (r === undefined) throw UNSUPPORTED;
        out += r;
        i += 2;
      }
      run = i;
      continue;
    }
    i++;
  }
}

function singleQuoted(line: string, start: number): [string, number] {
  let out = '';
  let i = start + 1;
  for (;;) {
    const q = line.indexOf("'", i);
    if (q === -1) throw UNSUPPORTED;
    out += line.slice(i, q);
    if (line[q + 1] === "'") {
      out += "'";
      i = q + 2;
    } else return [out, q + 1];
  }
}

class Reader {
  private readonly lines: string[];
  private pos = 0;

  constructor(text: string) {
    this.lines = text.split('\n');
    for (const line of this.lines) if (line.includes('\r')) throw UNSUPPORTED;
  }

  /** Index of the next line with content (not blank, not a comment); sets pos there. */
  private skipBlank(): number {
    while (this.pos < this.lines.length) {
      const line = this.lines[this.pos];
      const indent = indentOf(line);
      if (indent === line.length || line[indent] === '#') {
        // Blank or comment-only. Whitespace other than spaces: leave it to the library.
        if (/[^ ]/.test(line.slice(0, indent))) throw UNSUPPORTED;
        this.pos++;
        continue;
      }
      return this.pos;
    }
    return this.pos;
  }

  document(): unknown {
    this.skipBlank();
    if (this.pos >= this.lines.length) throw UNSUPPORTED; // empty document: the library decides
    const line = this.lines[this.pos];
    const indent = indentOf(line);
    if (line.startsWith('%') || line.startsWith('---') || line.startsWith('...')) throw UNSUPPORTED;
    const value = this.block(indent);
    this.skipBlank();
    if (this.pos < this.lines.length) throw UNSUPPORTED; // something left over (less indented, or a second root)
    return value;
  }

  /** The collection whose first line is the current one, at column `indent`. */
  private block(col: number): unknown {
    const line = this.lines[this.pos];
    if (line.startsWith('- ', col) || line.length === col + 1 && line[col] === '-') return this.sequence(col, line);
    return this.mapping(col, line);
  }

  /**
   * A mapping at column `col`. `first` is the text of its first line with the key at `col` (for
   * a mapping that starts after `- `, the line with the dash replaced by spaces).
   */
  private mapping(col: number, first: string): Record<string, unknown> {
    const map: Record<string, unknown> = {};
    let line = first;
    for (;;) {
      // key
      let key: string;
      let i: number;
      const c = line[col];
      if (c === '"' || c === "'") {
        [key, i] = c === '"' ? doubleQuoted(line, col) : singleQuoted(line, col);
        if (line[i] !== ':') throw UNSUPPORTED;
      } else {
        const colon = findKeyColon(line, col);
        key = line.slice(col, colon);
        if (!PLAIN_KEY.test(key) || CORE_WORDS.has(key)) throw UNSUPPORTED;
        i = colon;
      }
      if (key === '__proto__' || Object.prototype.hasOwnProperty.call(map, key)) throw UNSUPPORTED;
      // i is at ':'
      const rest = line.slice(i + 1);
      this.pos++;
      if (rest === '') {
        map[key] = this.nested(col, true);
      } else {
        if (rest[0] !== ' ') throw UNSUPPORTED;
        map[key] = this.inlineValue(rest.slice(1), col);
      }
      // next key at the same column?
      const next = this.nextAt(col);
      // A sequence item at the mapping's column ends it (it belongs to an outer sequence).
      if (next === undefined || isDash(next, col)) return map;
      line = next;
    }
  }

  /**
   * The next non-blank line when it starts at column `col` (the block at `col` goes on), else
   * undefined (the input or the block ended). Deeper is not a shape synth writes.
   */
  private nextAt(col: number): string | undefined {
    this.skipBlank();
    if (this.pos >= this.lines.length) return undefined;
    const line = this.lines[this.pos];
    const indent = indentOf(line);
    if (indent < col) return undefined;
    if (indent > col) throw UNSUPPORTED;
    return line;
  }

  /** The value of a key (or dash) with nothing after it: a nested block, a same-column sequence (keys only), or null. */
  private nested(col: number, isKey: boolean): unknown {
    this.skipBlank();
    if (this.pos >= this.lines.length) return null;
    const line = this.lines[this.pos];
    const indent = indentOf(line);
    if (indent > col) return this.block(indent);
    if (isKey && indent === col && isDash(line, col)) return this.sequence(col, line);
    return null;
  }

  private sequence(col: number, first: string): unknown[] {
    const items: unknown[] = [];
    let line = first;
    for (;;) {
      // line[col] === '-'
      const after = line.slice(col + 1);
      if (after === '') {
        this.pos++;
        items.push(this.nested(col, false));
      } else {
        // '- ' then content at column col + 2 (+ extra spaces)
        let start = col + 2;
        while (line[start] === ' ') start++;
        const rest = line.slice(start);
        if (rest === '' || rest[0] === '#' || rest[0] === '?' || (rest[0] === '-' && (rest.length === 1 || rest[1] === ' '))) throw UNSUPPORTED;
        if (isMappingStart(rest)) {
          // A mapping whose keys sit at column `start`: read this line as if the dash were a space.
          items.push(this.mapping(start, ' '.repeat(start) + rest));
        } else {
          this.pos++;
          items.push(this.inlineValue(rest, col));
        }
      }
      const next = this.nextAt(col);
      if (next === undefined || !isDash(next, col)) return items; // a key at the same column: the parent mapping goes on
      line = next;
    }
  }

  /** A scalar (or `{}`, `[]`, block scalar header) written on the line of its key or dash; `col` is that key's or dash's column. */
  private inlineValue(text: string, col: number): unknown {
    const c = text[0];
    if (c === '"' || c === "'") {
      const [value, end] = c === '"' ? doubleQuoted(text, 0) : singleQuoted(text, 0);
      if (end !== text.length) throw UNSUPPORTED; // a comment or more after the closing quote
      this.continuationCheck(col);
      return value;
    }
    if (c === '|') {
      if (text === '|') return this.literal(col, 'clip');
      if (text === '|-') return this.literal(col, 'strip');
      throw UNSUPPORTED;
    }
    if (text === '{}') {
      this.continuationCheck(col);
      return {};
    }
    if (text === '[]') {
      this.continuationCheck(col);
      return [];
    }
    // A plain word first (most values): it passes SAFE_PLAIN, and is a string unless a core-schema word.
    if (!(PLAIN_STRING.test(text) || scalarCache.has(text)) && !SAFE_PLAIN.test(text)) throw UNSUPPORTED;
    this.continuationCheck(col);
    return plainValue(text);
  }

  /** A more-indented line after a one-line value would continue it (multi-line scalar) or be an error: the library's call. */
  private continuationCheck(col: number): void {
    this.skipBlank();
    if (this.pos < this.lines.length && indentOf(this.lines[this.pos]) > col) throw UNSUPPORTED;
  }

  /** A literal block scalar whose header ended the previous line; content lines are indented more than `col`. */
  private literal(col: number, chomp: 'clip' | 'strip'): string {
    const lines = this.lines;
    let indent = -1;
    const content: string[] = [];
    let i = this.pos;
    for (; i < lines.length; i++) {
      const line = lines[i];
      if (line === '') {
        content.push('');
        continue;
      }
      const n = indentOf(line);
      if (n === line.length) throw UNSUPPORTED; // spaces only: indentation and content rules the library knows
      if (indent === -1) {
        if (n <= col) break;
        indent = n;
        if (content.length > 0) throw UNSUPPORTED; // leading empty lines: leave to the library
      } else if (n < indent) break;
      content.push(line.slice(indent));
    }
    this.pos = i;
    let end = content.length;
    while (end > 0 && content[end - 1] === '') end--;
    if (end === 0) return '';
    const body = content.slice(0, end).join('\n');
    return chomp === 'clip' ? `${body}\n` : body;
  }
}

/** Whether `line` has a sequence dash at column `col` (`- ` or a dash ending the line). */
function isDash(line: string, col: number): boolean {
  return line[col] === '-' && (line.length === col + 1 || line[col + 1] === ' ');
}

function indentOf(line: string): number {
  let i = 0;
  while (line.charCodeAt(i) === 32) i++;
  // A tab in the indentation: the library's rules.
  if (line.charCodeAt(i) === 9) throw UNSUPPORTED;
  return i;
}

/** The colon ending a plain key at `col`: the first `:` followed by a space or the end of the line. */
function findKeyColon(line: string, col: number): number {
  for (let i = line.indexOf(':', col); i !== -1; i = line.indexOf(':', i + 1)) {
    if (i + 1 === line.length || line[i + 1] === ' ') return i;
  }
  throw UNSUPPORTED;
}

/** Whether the text after `- ` starts a mapping (`key:` / `key: value`, plain or quoted key). */
function isMappingStart(text: string): boolean {
  const c = text[0];
  if (c === '"' || c === "'") {
    try {
      const [, end] = c === '"' ? doubleQuoted(text, 0) : singleQuoted(text, 0);
      return text[end] === ':' && (end + 1 === text.length || text[end + 1] === ' ');
    } catch {
      throw UNSUPPORTED;
    }
  }
  for (let i = text.indexOf(':'); i !== -1; i = text.indexOf(':', i + 1)) {
    if (i + 1 === text.length || text[i + 1] === ' ') {
      if (PLAIN_KEY.test(text.slice(0, i))) return true;
      // `- a b: c` and the like: a key the reader does not take; a plain scalar cannot hold ': '.
      throw UNSUPPORTED;
    }
  }
  return false;
}

/** Statistics, for the bench and tests: documents read by the fast path and by the library. */
export const fastYamlStats = { fast: 0, library: 0 };

/** `parse(text)` of the `yaml` library (one document, YAML 1.2 core schema), fast for synth's output. */
export function parseYaml(text: string): unknown {
  let value: unknown;
  try {
    value = new Reader(text).document();
  } catch (error) {
    if (error !== UNSUPPORTED) throw error;
    fastYamlStats.library++;
    return parse(text);
  }
  fastYamlStats.fast++;
  return value;
}
