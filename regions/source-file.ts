/**
 * A parsed region file that remembers where every value came from, so an error found later
 * (by the schema or by a cross-file invariant) can still point at a line.
 *
 * Reading is bounded: a file over MAX_FILE_BYTES is refused from its size alone (never read or
 * parsed), text that is not UTF-8, merge-conflict markers and runaway nesting are refused before
 * parsing, and aliases are expanded only within MAX_EXPANDED_NODES. When a value is what it is
 * because of a YAML rule (`#alerts` is a comment, `.nan`, `0755`, `yes`), the problem says so.
 */
import { isUtf8 } from 'node:buffer';
import * as fs from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import { formatPath, show, type ConfigIssue, type FieldPath } from './config-error';
import { cachedParse, keepParse } from './parse-cache';
import { aliasExpansion, conflictMarkers, duplicateKeys, explainParseError, explainScalar, foreignTags, tooDeep, unicodeIndentation, versionDirective, type TextProblem } from './yaml-surprises';

/**
 * The largest region file read: 256 KiB. The shipped files are 2–13 KiB, so this is 20 times
 * the largest; parsing 256 KiB of YAML takes about 0.3 s, while a 1 MiB file takes over a second
 * and a 70 MB one a minute and 4 GB. A larger file is refused from its size, before it is read.
 */
export const MAX_FILE_BYTES = 256 * 1024;

export class SourceFile {
  /** Reads `file` within MAX_FILE_BYTES; problems with the file itself become syntaxIssues. */
  static read(file: string): SourceFile {
    let fd: number | undefined;
    try {
      const stat = fs.statSync(file);
      if (!stat.isFile()) return SourceFile.refused(file, `${stat.isDirectory() ? 'a folder' : 'not a regular file'}`, 'a YAML file', `replace ${file} with a file`);
      if (stat.size > MAX_FILE_BYTES) return SourceFile.refused(file, ...tooBig(stat.size));
      fd = fs.openSync(file, 'r');
      // The size may change between stat and read: read at most one byte more than allowed.
      const buffer = Buffer.alloc(MAX_FILE_BYTES + 1);
      let length = 0;
      for (let n = -1; n !== 0 && length < buffer.length; length += n) n = fs.readSync(fd, buffer, length, buffer.length - length, null);
      if (length > MAX_FILE_BYTES) return SourceFile.refused(file, ...tooBig(length));
      const text = decode(file, buffer.subarray(0, length));
      return typeof text === 'string' ? new SourceFile(file, text) : SourceFile.fromIssue(text);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'EACCES' ? 'a file this user may not read' : code === 'ENOENT' ? 'no such file' : code === 'ELOOP' ? 'a symbolic link that loops' : `a file that cannot be read (${code ?? (error as Error).message})`;
      return SourceFile.refused(file, why, 'a readable YAML file', `check ${file}`);
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }

  /** A file refused as a whole: no data, one issue at its first line. */
  static refused(file: string, found: string, expected: string, fix: string): SourceFile {
    return SourceFile.fromIssue({ file, line: 1, column: 1, path: [], found, expected, fix });
  }

  private static fromIssue(issue: ConfigIssue): SourceFile {
    const source = new SourceFile(issue.file, '');
    source.syntaxIssues.length = 0;
    source.syntaxIssues.push(issue);
    (source as { data: unknown }).data = undefined;
    return source;
  }

  readonly data: unknown;
  readonly syntaxIssues: ConfigIssue[] = [];
  /** The parsed document with positions; for a file whose clean parse was cached, parsed when an issue needs a line. */
  private parsedDoc?: Document.Parsed;
  private readonly lines = new LineCounter();
  private readonly text: string;
  private readonly pairIndex = new WeakMap<YAMLMap, Map<unknown, Pair>>();

  constructor(
    readonly file: string,
    text: string,
  ) {
    // A byte-order mark is not content (and would shift the first line's columns).
    this.text = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    // Text that parsed cleanly before: its data without parsing (regions/parse-cache.ts).
    const cached = this.text !== '' && text.length <= MAX_FILE_BYTES ? cachedParse(this.text) : undefined;
    if (cached) {
      this.data = cached.data;
      return;
    }
    const before = text.length > MAX_FILE_BYTES ? [] : [...conflictMarkers(this.text), tooDeep(this.text), versionDirective(this.text)];
    if (text.length > MAX_FILE_BYTES) this.syntaxIssues.push({ file, line: 1, column: 1, path: [], ...tooBigIssue(text.length) });
    const refused = before.filter((p): p is TextProblem => p !== undefined);
    const parsed = refused.length > 0 || this.syntaxIssues.length > 0 ? '' : this.text;
    this.parsedDoc = parseYaml(parsed, parsed === '' ? new LineCounter() : this.lines);
    if (parsed === '') {
      // Not parsed: lines for the problems found in the text.
      this.lines.addNewLine(0);
      for (let i = this.text.indexOf('\n'); i !== -1; i = this.text.indexOf('\n', i + 1)) this.lines.addNewLine(i + 1);
    }
    const problems: TextProblem[] = [...refused];
    const generic: TextProblem[] = [];
    let explainedFrom = Infinity;
    if (refused.length === 0) {
      for (const error of this.doc.errors) {
        // Duplicate keys are reported below with both lines.
        if (error.code === 'DUPLICATE_KEY') continue;
        const offset = error.pos[0];
        // After the first parse error, what the parser says about the lines it no longer reads
        // is echo: a second indentation explanation would be about a line that is fine.
        const explained = error.code === 'BLOCK_AS_IMPLICIT_KEY' && explainedFrom !== Infinity ? undefined : explainParseError(error.code, this.text, offset, error.message);
        if (explained) {
          explainedFrom = Math.min(explainedFrom, offset);
          problems.push({ ...explained, offset: explained.offset ?? offset });
        } else {
          // The parser's own words, with the line they are about (its column can be far from the cause).
          const start = this.text.lastIndexOf('\n', Math.max(0, offset - 1)) + 1;
          const end = this.text.indexOf('\n', offset);
          const line = this.text.slice(start, end === -1 ? undefined : end).replace(/\r$/, '');
          generic.push({ offset, found: `${error.message.split('\n')[0]}, at ${JSON.stringify(line.trim())}`, expected: 'valid YAML', fix: 'correct the YAML syntax at this line (often the line above it: a value on the key line and an indented block below it)' });
        }
      }
      // A no-break space indenting a line is what the parser stumbled on, not what it says (only
      // when it did stumble: the same character inside a block scalar is text).
      const oddIndent = generic.length > 0 ? unicodeIndentation(this.text) : undefined;
      if (oddIndent) {
        problems.push(oddIndent);
        explainedFrom = Math.min(explainedFrom, oddIndent.offset);
      }
      // One syntax slip makes the parser report every line after it: the first error is the one to
      // fix, and what follows an error explained above (e.g. a line indented too deep) is its echo.
      for (let i = generic.length - 1; i >= 0; i--) if (generic[i]!.offset >= explainedFrom) generic.splice(i, 1);
      if (generic.length > 0) {
        const [first, ...rest] = generic.sort((x, y) => x.offset - y.offset);
        problems.push(rest.length > 0 ? { ...first!, found: `${first!.found} (and ${rest.length} more parse error${rest.length > 1 ? 's' : ''} after it, most likely caused by this one)` } : first!);
      }
      for (const warning of this.doc.warnings) {
        problems.push({ offset: warning.pos[0], found: warning.message.split('\n')[0], expected: 'valid YAML without warnings', fix: 'correct the YAML at this line' });
      }
      // Keys and tags of a document that did not parse cleanly are the parser's guesses: judge them only when it did.
      if (problems.length === 0) problems.push(...duplicateKeys(this.doc, (offset) => this.lines.linePos(offset).line), ...foreignTags(this.doc));
      if (problems.length === 0) {
        const expansion = aliasExpansion(this.doc);
        if (expansion) problems.push(expansion);
      }
    }
    problems.sort((a, b) => a.offset - b.offset);
    for (const problem of problems) {
      const pos = this.lines.linePos(problem.offset);
      this.syntaxIssues.push({ file, line: pos.line, column: pos.col, path: problem.path ?? [], found: problem.found, expected: problem.expected, fix: problem.fix });
    }
    // The expansion is bounded above, so the parser's own alias limit (100 aliases) is not needed.
    this.data = this.syntaxIssues.length === 0 ? this.doc.toJS({ maxAliasCount: -1 }) : undefined;
    if (this.syntaxIssues.length === 0 && this.text !== '') keepParse(this.text, this.data);
  }

  private get doc(): Document.Parsed {
    // Only a clean parse is cached, so parsing its text again gives the same document.
    this.parsedDoc ??= parseYaml(this.text, this.lines);
    return this.parsedDoc;
  }

  /**
   * Builds an issue at `path`, located at the deepest node of the path that exists. When the
   * value there was shaped by a YAML rule and `found` shows that value, the rule is explained:
   * `null — YAML read "#alerts" as a comment ...; quote it: "#alerts"`.
   */
  issue(path: FieldPath, found: string, expected: string, fix: string): ConfigIssue {
    const { offset, node, exact } = this.locate(path);
    const { line, col } = this.lines.linePos(offset);
    let shown = found;
    let advice = fix;
    if (exact) {
      const surprise = this.surprise(node, path, found, expected);
      if (surprise) {
        // show() prints NaN and infinity as JSON does, as null: say what the value is.
        const value = isScalar(node) ? node.value : undefined;
        const head = typeof value === 'number' && !Number.isFinite(value) && found.startsWith('null') ? `${value}${found.slice(4)}` : found;
        shown = `${head} — ${surprise.found}`;
        // The surprise is the cause the reader cannot see: its fix is the one to type (the
        // generic one, "write it as an integer", would only repeat the expected type).
        advice = surprise.fix || fix;
      }
    }
    return { file: this.file, line, column: col, path, found: shown, expected, ...(advice ? { fix: advice } : {}) };
  }

  private surprise(node: unknown, path: FieldPath, found: string, expected: string): { found: string; fix: string } | undefined {
    if (path.length === 0 && (node === null || node === undefined || (isScalar(node) && node.value === null))) {
      return found === 'null' || found.startsWith('null ')
        ? { found: 'the file holds no YAML value (it is empty or all comments)', fix: 'write the file\'s fields, or copy an existing region file' }
        : undefined;
    }
    if (!isScalar(node)) return undefined;
    const value = node.value;
    const forms = [show(value), String(value)];
    if (!forms.some((form) => found === form || found.startsWith(`${form} `) || found.startsWith(`${form},`))) return undefined;
    const why = explainScalar(node, this.text, formatPath(path));
    // `yes`/`on` read as text matter only where a boolean was expected.
    if (why && typeof value === 'string' && !/boolean/i.test(expected)) return undefined;
    // A number out of bounds (`maxReplicas: 1e9`) was meant as a number: say how YAML read it,
    // but the fix is the bound's, not "quote it for the text".
    if (why && typeof value === 'number' && Number.isFinite(value) && NUMERIC_BOUND.test(expected)) {
      return { found: `YAML read ${this.text.slice(node.range![0], node.range![1])} as ${value}`, fix: '' };
    }
    return why;
  }

  /** `file:line` of `path` (of its deepest existing node), for a problem that names a second place. */
  where(path: FieldPath): string {
    return `${this.file}:${this.lines.linePos(this.locate(path).offset).line}`;
  }

  private locate(path: FieldPath): { offset: number; node: unknown; exact: boolean } {
    let node: unknown = this.doc.contents;
    let best = this.offsetOf(node) ?? 0;
    let exact = true;
    for (const key of path) {
      if (isMap(node)) {
        const pair = this.pairsOf(node).get(key);
        if (!pair) {
          exact = false;
          break;
        }
        // Point at the key: for a wrong value the key's line is where the eye goes.
        best = this.offsetOf(pair.key) ?? best;
        node = pair.value;
      } else if (isSeq(node) && typeof key === 'number' && node.items[key] !== undefined) {
        node = node.items[key];
        best = this.offsetOf(node) ?? best;
      } else {
        exact = false;
        break;
      }
    }
    return { offset: best, node, exact };
  }

  /** The pairs of a mapping by key (the first of duplicates), built once: issue() runs per problem. */
  private pairsOf(map: YAMLMap): Map<unknown, Pair> {
    let index = this.pairIndex.get(map);
    if (!index) {
      index = new Map();
      for (const pair of map.items) {
        const key = (pair.key as { value?: unknown } | null)?.value;
        if (!index.has(key)) index.set(key, pair);
      }
      this.pairIndex.set(map, index);
    }
    return index;
  }

  private offsetOf(node: unknown): number | undefined {
    return (node as Node | undefined)?.range?.[0];
  }
}

/** An expected value that is a numeric bound (schema minimum/maximum, an invariant's `>= n`). */
const NUMERIC_BOUND = /^(at most|at least|less than|more than|>=|<=) /;

/**
 * YAML 1.2 core schema: `no`/`on` stay strings, `0755` is 755. `<<: *anchor` merges a mapping (the
 * common YAML idiom; see docs/regions.md). Duplicate keys are found by duplicateKeys(): the
 * parser's own check compares every key with every other (seconds for a 20,000-key map).
 */
function parseYaml(text: string, lineCounter: LineCounter): Document.Parsed {
  return parseDocument(text, { lineCounter, uniqueKeys: false, merge: true, prettyErrors: false });
}

function tooBig(bytes: number): [string, string, string] {
  const { found, expected, fix } = tooBigIssue(bytes);
  return [found, expected, fix];
}

function tooBigIssue(bytes: number): { found: string; expected: string; fix: string } {
  const size = bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
  return {
    found: `a file of ${size} (${bytes.toLocaleString('en-US')} bytes); it was not read`,
    expected: `at most ${MAX_FILE_BYTES / 1024} KiB per file (region files are a few KiB)`,
    fix: 'this is not a hand-written region file: move it out of regions/, or remove the generated content',
  };
}

/** UTF-8 text (a byte-order mark is dropped), or the issue saying what the bytes are instead. */
function decode(file: string, bytes: Buffer): string | ConfigIssue {
  const at = (index: number, found: string, expected: string, fix: string): ConfigIssue => {
    const before = bytes.subarray(0, index).toString('utf8');
    const lines = before.split('\n');
    return { file, line: lines.length, column: lines[lines.length - 1].length + 1, path: [], found, expected, fix };
  };
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return at(0, 'UTF-16 text (a UTF-16 byte-order mark)', 'UTF-8 text', 'save the file as UTF-8');
  }
  const nul = bytes.indexOf(0);
  if (nul !== -1) return at(nul, 'a NUL byte: this is a binary file, not YAML text', 'UTF-8 text', 'move the file out of regions/, or save it as text');
  if (isUtf8(bytes)) return bytes.toString('utf8');
  // The first byte that is not UTF-8: the longest valid prefix, found by halving.
  let good = 0;
  let bad = bytes.length;
  while (bad - good > 1) {
    const mid = (good + bad) >> 1;
    // A prefix may end inside a valid multi-byte character: allow up to 3 bytes of slack.
    if (isUtf8(bytes.subarray(0, mid)) || [1, 2, 3].some((k) => mid + k <= bytes.length && isUtf8(bytes.subarray(0, mid + k)))) good = mid;
    else bad = mid;
  }
  return at(good, `a byte (0x${bytes[good]?.toString(16).padStart(2, '0')}) that is not UTF-8 (the file is in another encoding, e.g. Latin-1)`, 'UTF-8 text', 'save the file as UTF-8');
}
