/**
 * The YAML text of one canonical document, exactly as `yaml`'s
 * `stringify(doc, { version: '1.1', lineWidth: 0, indent: 2, indentSeq: true })` writes it, in a
 * tenth of the time (issue 16: the library's generic document model was half of synth's render).
 *
 * The structure (mappings, sequences, indentation, empty collections) is written here, and so are
 * the scalars whose text follows from a few rules: safe integers, booleans, null, and strings of
 * printable ASCII on one line, plain or quoted by the library's own rules (`stringifyString.js`,
 * `plainString`/`quotedString`, with the YAML 1.1 schema's own implicit-type tests). Every other
 * scalar — multi-line strings (block scalars), control or non-ASCII characters, floats, odd keys —
 * is written by the `yaml` library itself, in the same position. test/synth/emit-yaml.test.ts
 * compares both on every rendered document and on generated ones full of YAML's traps.
 */
import { Document, stringify } from 'yaml';

const OPTIONS = { version: '1.1', lineWidth: 0, indent: 2, indentSeq: true, aliasDuplicateObjects: false } as const;

/** Letters first, then letters, digits and `_./-`: never an indicator, rarely an implicit type. */
const PLAIN = /^[A-Za-z][A-Za-z0-9_./-]*$/;

/**
 * Whether the library writes `text` as is: letters first, and no implicit type of the schema
 * (`yes`, `On`, `null`, and floats without digits before the exponent: `e1`, `E-7`). Callers
 * keep what it decided (lineTexts, writtenKeys): the same names and values recur in every object.
 */
function isPlain(text: string): boolean {
  return PLAIN.test(text) && !IMPLICIT.some((test) => test.test(text));
}

/** One line of printable ASCII: no escapes, no block style, no folding (lineWidth 0). */
const PRINTABLE_LINE = /^[\x20-\x7e]+$/;
/** plainString's test: what a plain scalar may not start with, contain or end with. */
const NOT_PLAIN = /^[\n\t ,[\]{}#&*!|>'"%@`]|^[?-]$|^[?-][ \t]|[\n:][ \t]|[ \t]\n|[\n\t ]#|[\n\t :]$/;
/** A line starting like a document marker: the library's handling depends on the indent. */
const DOCUMENT_MARKER = /^(%|---|\.\.\.)/;
/**
 * The implicit types of the schema the library writes with (YAML 1.1: int, float, bool, null,
 * timestamp, sexagesimal, `<<`): a plain string one of them matches would read back as that type,
 * so the library quotes it. Taken from the library's schema object, with plainString's filter.
 */
const IMPLICIT: readonly RegExp[] = (() => {
  const { tags, compat } = new Document(null, OPTIONS).schema;
  return [...tags, ...(compat ?? [])]
    .filter((tag) => tag.default && tag.tag !== 'tag:yaml.org,2002:str' && tag.test)
    .map((tag) => tag.test!);
})();

/**
 * A one-line printable string as a mapping value or list item (quotedString's choice of quotes:
 * single when the text has `"` but no `'`, else double, which for such text is its JSON form),
 * or undefined when the library must write it.
 */
function lineString(text: string): string | undefined {
  // `<<` is identified as the merge key by its own tag, which writes it as is.
  if (!PRINTABLE_LINE.test(text) || DOCUMENT_MARKER.test(text) || text === '<<') return undefined;
  if (!NOT_PLAIN.test(text) && !IMPLICIT.some((test) => test.test(text))) return text;
  return text.includes('"') && !text.includes("'") ? `'${text}'` : JSON.stringify(text);
}

/**
 * A scalar value as the library writes it after `key: ` (or `- `); `indent` is the column of that
 * key (or dash): a block scalar's lines sit two further in, as the library puts them under `x:`.
 */
function libraryValue(value: unknown, indent: string): string {
  // `x: <value>\n` at column 0: the value's own lines (a block scalar) are indented by two.
  let body = typeof value === 'string' ? written.get(value) : undefined;
  if (body === undefined) {
    body = stringify({ x: value }, OPTIONS).slice(3, -1);
    if (typeof value === 'string') written.set(value, body);
  }
  // Empty lines of a block scalar stay empty.
  return indent === '' ? body : body.replace(/\n(?!\n|$)/g, `\n${indent}`);
}

/**
 * What the library wrote for a string before: the same values recur in every region (quantities,
 * ports as strings, URLs). Only what `stringify` returned is kept, so a hit is the library's text.
 */
const written = new Map<string, string>();

/**
 * A one-line string's text as a value, whatever the indent (plain or quoted): the same values
 * recur in every object (names, quantities, ports as strings), and one lookup replaces the
 * regular expressions that judge them.
 */
const lineTexts = new Map<string, string>();

function scalar(value: unknown, indent: string): string {
  if (typeof value === 'string') {
    const known = lineTexts.get(value);
    if (known !== undefined) return known;
    const text = isPlain(value) ? value : lineString(value);
    if (text === undefined) return libraryValue(value, indent);
    if (lineTexts.size >= 50_000) lineTexts.clear(); // bounded memory on generated input
    lineTexts.set(value, text);
    return text;
  }
  if (typeof value === 'number' && Number.isSafeInteger(value) && !Object.is(value, -0)) return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value === null) return 'null';
  return libraryValue(value, indent);
}

const NOT_SIMPLE = new Error('a key the emitter leaves to the library');
const writtenKeys = new Map<string, string>();

/** A key's text, plain or as the library wrote it: looked up once per key name. */
function key(name: string): string {
  const known = writtenKeys.get(name);
  if (known !== undefined) return known;
  let text = name;
  if (!isPlain(name)) {
    // `---:` is quoted at the top level only (plainString's implicitKey rule depends on the indent).
    if (DOCUMENT_MARKER.test(name)) throw NOT_SIMPLE;
    const written = stringify({ [name]: 0 }, OPTIONS);
    // An explicit `? key` (a multi-line key): not a shape synth renders; the library writes the document.
    if (!written.endsWith(': 0\n') || written.startsWith('? ') || written.slice(0, -4).includes('\n')) throw NOT_SIMPLE;
    text = written.slice(0, -4);
  }
  if (writtenKeys.size >= 50_000) writtenKeys.clear(); // bounded memory on generated input
  writtenKeys.set(name, text);
  return text;
}

const isCollection = (v: unknown): v is object => v !== null && typeof v === 'object';
/** Without listing the keys: the first own enumerable key answers. */
function isEmpty(v: object): boolean {
  if (Array.isArray(v)) return v.length === 0;
  for (const k in v) if (Object.hasOwn(v, k)) return false;
  return true;
}

/** Lines of a non-empty mapping at `indent`. */
function mapping(map: Record<string, unknown>, indent: string, out: string[]): void {
  for (const name of Object.keys(map)) {
    const value = map[name];
    if (value === undefined) continue;
    const head = `${indent}${key(name)}:`;
    if (isCollection(value) && !isEmpty(value)) {
      out.push(head);
      block(value, `${indent}  `, out);
    } else {
      out.push(`${head} ${isCollection(value) ? (Array.isArray(value) ? '[]' : '{}') : scalar(value, indent)}`);
    }
  }
}

/** Lines of a non-empty sequence at `indent` (indentSeq: items indented under their key). */
function sequence(items: readonly unknown[], indent: string, out: string[]): void {
  for (const item of items) {
    if (isCollection(item) && !isEmpty(item)) {
      // The item's first line follows `- `; the rest line up under it.
      const lines: string[] = [];
      block(item, `${indent}  `, lines);
      out.push(`${indent}- ${lines[0]!.slice(indent.length + 2)}`, ...lines.slice(1));
    } else {
      out.push(`${indent}- ${isCollection(item) ? (Array.isArray(item) ? '[]' : '{}') : scalar(item, indent)}`);
    }
  }
}

function block(value: object, indent: string, out: string[]): void {
  if (Array.isArray(value)) sequence(value, indent, out);
  else mapping(value as Record<string, unknown>, indent, out);
}

/** One document's text, ending in a newline (what `stringify(document, OPTIONS)` returns). */
export function emitYaml(document: unknown): string {
  if (!isCollection(document) || isEmpty(document)) return stringify(document, OPTIONS);
  const out: string[] = [];
  try {
    block(document, '', out);
  } catch (error) {
    if (error === NOT_SIMPLE) return stringify(document, OPTIONS);
    throw error;
  }
  return `${out.join('\n')}\n`;
}

/** The reference the emitter must equal (tests compare the two). */
export function libraryYaml(document: unknown): string {
  return stringify(document, OPTIONS);
}
