/**
 * What YAML did to a region file, in words: the rules that turn `#alerts` into a comment, `.nan`
 * into NaN, `0755` into 755 or a second `---` into a second document, and the bounds that keep a
 * hostile or broken file from taking minutes or gigabytes (nesting, alias expansion).
 *
 * The files are read as YAML 1.2 (core schema), the `yaml` package's default: `yes`, `no`, `on`,
 * `off`, `y`, `n` are plain text (YAML 1.1 made them booleans); only `true`/`false` (any case:
 * `True`, `FALSE`) are booleans; a leading zero is not octal (`0755` is the number 755; octal is
 * `0o755`). A `%YAML 1.1` line would switch the parser back to 1.1 rules and is refused.
 */
import { isAlias, isCollection, isMap, isPair, isScalar, isSeq, type Document, type Node, type Scalar } from 'yaml';
import { lookAlikes } from './formats';

/**
 * Flow collections (`[`, `{`) nested deeper than this are refused before parsing: the parser
 * recurses per level and a line of 100,000 `[` takes it seconds and then overflows the stack.
 * The shipped files nest at most 8 levels.
 */
export const MAX_NESTING = 100;

/**
 * The most nodes a file may have once every alias is expanded. An alias repeats its anchor's
 * whole subtree, so nine aliases of nine aliases of ... ("billion laughs") expand a few hundred
 * bytes into 10^9 nodes. The shipped files have about 1,000 nodes each; 100,000 leaves room for
 * generous use of anchors and stops an expansion before it costs time or memory.
 */
export const MAX_EXPANDED_NODES = 100_000;

/** The tags a region file may carry: YAML 1.2's own, used to force a type (`!!str 0755`). */
const ALLOWED_TAGS = new Set(['tag:yaml.org,2002:str', 'tag:yaml.org,2002:int', 'tag:yaml.org,2002:float', 'tag:yaml.org,2002:bool', 'tag:yaml.org,2002:null', 'tag:yaml.org,2002:map', 'tag:yaml.org,2002:seq']);

/** A problem found in the text before or after parsing, located by character offset. */
export interface TextProblem {
  readonly offset: number;
  readonly found: string;
  readonly expected: string;
  readonly fix: string;
  /** The field path, when the problem is inside the parsed document. */
  readonly path?: ReadonlyArray<string | number>;
}

/**
 * Git's merge-conflict markers, one problem per conflict (`<<<<<<<` … `=======` … `>>>>>>>`).
 * They are looked for before parsing: YAML reads `<<<<<<< HEAD` as a key and reports six
 * unrelated syntax errors.
 */
export function conflictMarkers(text: string): TextProblem[] {
  const problems: TextProblem[] = [];
  const marker = /^(<{7}|={7}|>{7}|\|{7})(?:[ \t].*)?$/gm;
  let open: { offset: number; line: number; label: string; lines: string[] } | undefined;
  let match: RegExpExecArray | null;
  const lineAt = (offset: number) => text.slice(0, offset).split('\n').length;
  const flush = () => {
    if (!open) return;
    problems.push({
      offset: open.offset,
      found: `a merge-conflict marker "${open.label}" (${open.lines.join(', ')})`,
      expected: 'a file with the conflict resolved',
      fix: 'keep the side you want, then delete the <<<<<<<, ======= and >>>>>>> lines',
    });
    open = undefined;
  };
  while ((match = marker.exec(text)) !== null) {
    const label = match[0].replace(/\r$/, '').trim();
    const line = lineAt(match.index);
    const kind = match[1][0];
    if (kind === '<' || !open) {
      flush();
      open = { offset: match.index, line, label, lines: [] };
    }
    open.lines.push(`${match[1]} at line ${line}`);
    if (kind === '>') flush();
  }
  flush();
  return problems;
}

/** The first place flow collections or compact sequences (`- - -`) nest deeper than MAX_NESTING. */
export function tooDeep(text: string): TextProblem | undefined {
  let depth = 0;
  let inComment = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      inComment = false;
      continue;
    }
    if (inComment) continue;
    // `#` starts a comment at the start of a line or after a space; brackets there do not count.
    if (c === 35 && (i === 0 || text[i - 1] === ' ' || text[i - 1] === '\t' || text[i - 1] === '\n')) {
      inComment = true;
      continue;
    }
    if (c === 91 || c === 123) depth++;
    else if ((c === 93 || c === 125) && depth > 0) depth--;
    if (depth > MAX_NESTING) {
      return {
        offset: i,
        found: `brackets ([ or {) nested more than ${MAX_NESTING} levels deep`,
        expected: `at most ${MAX_NESTING} levels of nesting (the region files need fewer than 10)`,
        fix: 'close the brackets that were left open, or remove the generated nesting',
      };
    }
  }
  const compact = new RegExp(`^[ \\t]*(?:-[ \\t]+){${MAX_NESTING + 1}}`, 'm').exec(text);
  if (compact) {
    return {
      offset: compact.index,
      found: `"- " repeated more than ${MAX_NESTING} times on one line (lists nested that deep)`,
      expected: `at most ${MAX_NESTING} levels of nesting (the region files need fewer than 10)`,
      fix: 'remove the generated nesting',
    };
  }
  return undefined;
}

/**
 * A space that is not U+0020 at the start of a line (a no-break space pasted from a chat or a web
 * page looks the same in an editor). YAML indents with spaces only: the parser reads the line as
 * content and reports something about compact mappings far from the cause.
 */
export function unicodeIndentation(text: string): TextProblem | undefined {
  const m = /^[ \t]*([\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000\ufeff])/m.exec(text);
  if (!m) return undefined;
  const [{ label }] = lookAlikes(m[1]!);
  return {
    offset: m.index,
    found: `the character ${label} in the indentation, at column ${m[0].length}`,
    expected: 'indentation with plain spaces (U+0020) only',
    fix: 'retype the indentation of this line with spaces (delete it and indent again)',
  };
}

/** A `%YAML 1.1` (or other non-1.2) directive: it would make `yes` a boolean and `0755` octal. */
export function versionDirective(text: string): TextProblem | undefined {
  const match = /^%YAML[ \t]+(\S+)/m.exec(text);
  if (!match || match[1] === '1.2') return undefined;
  return {
    offset: match.index,
    found: `"%YAML ${match[1]}": this line switches the file to YAML ${match[1]} rules`,
    expected: 'YAML 1.2, like every region file (no %YAML line)',
    fix: `delete the "%YAML ${match[1]}" line (under YAML 1.1, yes/no/on/off are booleans and 0755 is octal 493; under 1.2 they are the text "yes" and the number 755)`,
  };
}

/**
 * Counts the nodes of the document with every alias expanded, in document order, and returns a
 * problem at the alias that pushes the count over MAX_EXPANDED_NODES, or at an alias that sits
 * inside its own anchor (which expands forever). Stops counting once over the bound.
 */
export function aliasExpansion(doc: Document.Parsed): TextProblem | undefined {
  const sizes = new Map<Node, number>();
  const active = new Set<Node>();
  let problem: TextProblem | undefined;
  const sizeOf = (node: unknown, path: (string | number)[]): number => {
    if (problem) return 0;
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (!target) return 1;
      if (active.has(target)) {
        problem = {
          offset: node.range?.[0] ?? 0,
          path,
          found: `the alias *${node.source} inside its own anchor &${node.source}`,
          expected: 'an alias that refers to a value defined before it, outside itself',
          fix: `replace *${node.source} with the value it should repeat`,
        };
        return 0;
      }
      const size = sizes.get(target) ?? sizeOf(target, path);
      if (size > MAX_EXPANDED_NODES && !problem) {
        problem = {
          offset: node.range?.[0] ?? 0,
          path,
          found: `the alias *${node.source}, which expands to more than ${MAX_EXPANDED_NODES.toLocaleString('en-US')} values`,
          expected: `a file of at most ${MAX_EXPANDED_NODES.toLocaleString('en-US')} values with its aliases (*name) expanded`,
          fix: 'write the values out, or repeat fewer aliases of aliases',
        };
      }
      return size;
    }
    const key = node as Node;
    const known = sizes.get(key);
    if (known !== undefined) return known;
    let size = 1;
    active.add(key);
    if (isMap(node)) {
      for (const pair of node.items) {
        const name = isScalar(pair.key) ? String(pair.key.value) : '?';
        size += 1 + sizeOf(pair.value, [...path, name]);
        if (size > MAX_EXPANDED_NODES) break;
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => {
        if (size <= MAX_EXPANDED_NODES) size += sizeOf(item, [...path, index]);
      });
    }
    active.delete(key);
    sizes.set(key, size);
    if (size > MAX_EXPANDED_NODES && !problem) {
      problem = {
        offset: key?.range?.[0] ?? 0,
        path,
        found: `more than ${MAX_EXPANDED_NODES.toLocaleString('en-US')} values`,
        expected: `a file of at most ${MAX_EXPANDED_NODES.toLocaleString('en-US')} values with its aliases (*name) expanded`,
        fix: 'split the file or remove generated content',
      };
    }
    return size;
  };
  sizeOf(doc.contents, []);
  return problem;
}

/** Tags other than YAML's own (`!!binary`, `!!set`, `!foo`) would hand the schema a Buffer or a Set. */
export function foreignTags(doc: Document.Parsed): TextProblem[] {
  const problems: TextProblem[] = [];
  const walk = (node: unknown, path: (string | number)[]) => {
    if (isPair(node)) return;
    if ((isScalar(node) || isCollection(node)) && node.tag && !ALLOWED_TAGS.has(node.tag)) {
      const shown = node.tag.replace(/^tag:yaml\.org,2002:/, '!!');
      problems.push({
        offset: node.range?.[0] ?? 0,
        path,
        found: `the YAML tag ${shown}`,
        expected: 'plain values: region files use no tags (only !!str, !!int, !!float, !!bool, !!null)',
        fix: `remove ${shown}; quote the value if it should stay text`,
      });
    }
    if (isMap(node)) for (const pair of node.items) walk(pair.value, [...path, isScalar(pair.key) ? String(pair.key.value) : '?']);
    if (isSeq(node)) node.items.forEach((item, index) => walk(item, [...path, index]));
  };
  walk(doc.contents, []);
  return problems;
}

/**
 * Keys given twice in one mapping. YAML would keep the last one silently; the first occurrence's
 * line is named so the two can be compared.
 */
export function duplicateKeys(doc: Document.Parsed, lineOf: (offset: number) => number): TextProblem[] {
  const problems: TextProblem[] = [];
  const walk = (node: unknown, path: (string | number)[]) => {
    if (isMap(node)) {
      const first = new Map<unknown, number>();
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        const offset = (pair.key as Node | null)?.range?.[0] ?? 0;
        const name = String(key);
        if (isScalar(pair.key) && first.has(key) && name !== '<<') {
          problems.push({
            offset,
            path: [...path, name],
            found: `"${name}" a second time (keys must be unique; the first is at line ${lineOf(first.get(key)!)})`,
            expected: 'each key once per mapping',
            fix: `delete one of the two "${name}" entries (YAML would silently keep only the last one)`,
          });
        } else {
          first.set(key, offset);
        }
        walk(pair.value, [...path, name]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => walk(item, [...path, index]));
    }
  };
  walk(doc.contents, []);
  return problems;
}

/**
 * Friendlier words for the parser's own errors, by error code. Returns undefined for codes that
 * keep the parser's message.
 */
export function explainParseError(code: string, text: string, offset: number, message = ''): (Omit<TextProblem, 'offset'> & { offset?: number }) | undefined {
  const lineEnd = text.indexOf('\n', offset);
  const line = text.slice(offset, lineEnd === -1 ? undefined : lineEnd).replace(/\r$/, '');
  switch (code) {
    case 'MISSING_CHAR': {
      // The parser notices a quote that never closes only at the end of the file: point at the
      // line that opened it instead (the nearest line before with an odd number of that quote).
      const quote = /closing (["'])quote/.exec(message)?.[1];
      const opened = quote === undefined ? undefined : unclosedQuoteLine(text, offset, quote);
      if (opened === undefined) return undefined;
      const kind = quote === '"' ? 'double' : 'single';
      return {
        offset: opened.offset,
        found: `a ${kind}-quoted value that never closes: ${JSON.stringify(opened.text.trim())} (YAML reads every line after it into the value)`,
        expected: `a closing ${quote} at the end of the value`,
        fix: `add the closing ${quote} at the end of the value on this line, or remove the opening one`,
      };
    }
    case 'MULTIPLE_DOCS':
      return {
        found: `a second YAML document: "${line.trim() || '---'}" starts one`,
        expected: 'one YAML document per file (a "---" is allowed only on the first line)',
        fix: 'delete this "---" line so both parts form one document, or move the part after it to a file of its own',
      };
    case 'BLOCK_AS_IMPLICIT_KEY': {
      // `key: value` followed by lines indented deeper: YAML tries to read them as part of the
      // value and fails at the value. One deeper line is a mis-indented key: point at it. A whole
      // block (a list, or several lines) is the key's real value: the slip is the value written on
      // the key line.
      const start = text.lastIndexOf('\n', offset - 1) + 1;
      const keyLine = text.slice(start, lineEnd === -1 ? undefined : lineEnd).replace(/\r$/, '');
      const head = /^((?: *- )*)( *)([^:#\s-][^:#]*): +([^#\s][^#]*?)\s*(?:#.*)?$/.exec(keyLine);
      if (!head) return undefined;
      const column = head[1]!.length + head[2]!.length;
      const [key, value] = [head[3]!.trim(), head[4]!];
      const deeper: Array<{ offset: number; body: string; indent: number }> = [];
      for (let next = lineEnd === -1 ? -1 : lineEnd + 1; next !== -1 && next < text.length; ) {
        const end = text.indexOf('\n', next);
        const body = text.slice(next, end === -1 ? undefined : end).replace(/\r$/, '');
        if (body.trim() !== '' && !body.trim().startsWith('#')) {
          const indent = /^ */.exec(body)![0].length;
          if (indent <= column) break;
          deeper.push({ offset: next, body, indent });
        }
        next = end === -1 ? -1 : end + 1;
      }
      if (deeper.length === 0) return undefined;
      if (deeper.length === 1 && !deeper[0]!.body.trimStart().startsWith('- ')) {
        return {
          offset: deeper[0]!.offset,
          found: `this line is indented ${deeper[0]!.indent} spaces, deeper than "${key}:" on the line above (${column}), which already has a value: YAML reads it as part of that value`,
          expected: `a key of the same mapping as "${key}", indented ${column} spaces like it`,
          fix: `indent this line by ${column} spaces, as "${key}:" above it`,
        };
      }
      return {
        offset: start,
        found: `"${key}:" has a value on its line (${value}) and an indented block below it (${deeper.length} line${deeper.length > 1 ? 's' : ''})`,
        expected: `either a value after "${key}:" or an indented block below it, not both`,
        fix: `delete "${value}" after "${key}:" if the block below is its value; otherwise un-indent the block`,
      };
    }
    case 'TAB_AS_INDENT':
      return {
        found: 'a tab in the indentation',
        expected: 'indentation with spaces only (YAML does not allow tabs there)',
        fix: 'replace the tab(s) at the start of this line with spaces, aligned with the lines around it',
      };
    default:
      return undefined;
  }
}

/**
 * The line (offset of its start, and text) that opens the quoted value the parser found unclosed
 * at `end`: the nearest line before it with an odd number of `quote` characters outside a comment
 * (a doubled '' inside single quotes, and \" inside double quotes, are not quotes).
 */
function unclosedQuoteLine(text: string, end: number, quote: string): { offset: number; text: string } | undefined {
  let lineEnd = Math.min(end, text.length);
  while (lineEnd > 0) {
    const start = text.lastIndexOf('\n', lineEnd - 1) + 1;
    const line = text.slice(start, lineEnd).replace(/\r?\n?$/, '');
    const code = line.replace(/(^|\s)#.*$/, '');
    const bare = quote === '"' ? code.replace(/\\./g, '') : code.replace(/''/g, '');
    if ((bare.split(quote).length - 1) % 2 === 1) return { offset: start, text: line };
    lineEnd = start - 1;
  }
  return undefined;
}

/**
 * Why a plain scalar has the value it has, when a YAML rule made it something other than the
 * text written: `null` from `#...` (a comment) or from an empty value or `~`, NaN from `.nan`,
 * infinity from `.inf`, a boolean from `true`, a number whose text differs from its digits
 * (`0755`, `1.10`, `0x1F`, `1e3`), or the text `yes`/`no`/`on`/`off` where 1.1 had booleans.
 * The text is "<what YAML did>; <how to write it instead>".
 */
export function explainScalar(node: Scalar, text: string, key: string | undefined): { found: string; fix: string } | undefined {
  if (node.type !== 'PLAIN' || !node.range || node.tag) return undefined;
  const source = text.slice(node.range[0], node.range[1]);
  const value = node.value;
  const field = key ?? 'the value';
  const quoted = (s: string) => JSON.stringify(s);
  if (value === null) {
    if (source === '') {
      const rest = /^[ \t]*(#[^\r\n]*)/.exec(text.slice(node.range[0]));
      if (rest) {
        const meant = rest[1].trimEnd();
        return {
          found: `YAML read ${quoted(meant)} as a comment (a # after a space starts one), so the value is empty; quote it: ${quoted(meant)}`,
          fix: `write ${field}: ${quoted(meant)}`,
        };
      }
      return { found: 'the value is empty, which YAML reads as null', fix: `write a value after "${field}:"` };
    }
    return { found: `${source} is YAML's "no value"; quote it if you mean the text: ${quoted(source)}`, fix: `write a value for ${field}` };
  }
  if (typeof value === 'number' && Number.isNaN(value)) {
    return { found: `YAML read ${source} as NaN ("not a number")`, fix: `write a number for ${field}, or quote ${quoted(source)} if you mean the text` };
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return { found: `YAML read ${source} as ${value < 0 ? 'minus ' : ''}infinity`, fix: `write a finite number for ${field}` };
  }
  if (typeof value === 'boolean') {
    return { found: `YAML read ${source} as a boolean; quote it if you mean the text: ${quoted(source)}`, fix: `write ${field}: ${quoted(source)} for the text, or a value of the expected type` };
  }
  if (typeof value === 'number' && source !== String(value)) {
    let how = `the number ${value}`;
    if (/^[-+]?0[0-9]+$/.test(source)) how = `the decimal number ${value} (YAML 1.2: a leading 0 does not make it octal; octal is 0o${source.replace(/^[-+]?0+/, '') || '0'})`;
    else if (/^0x/i.test(source)) how = `the hexadecimal number ${source} = ${value}`;
    else if (/^0o/i.test(source)) how = `the octal number ${source} = ${value}`;
    else if (/e/i.test(source)) how = `the number ${value} (exponent notation)`;
    else if (/\.\d*0$/.test(source)) how = `the number ${value} (trailing zeros after the point are dropped)`;
    return { found: `YAML read ${source} as ${how}; quote it if you mean the text: ${quoted(source)}`, fix: `write ${field}: ${quoted(source)} for the text, or ${value} for the number` };
  }
  if (typeof value === 'string' && /^(yes|no|on|off|y|n)$/i.test(source)) {
    return {
      found: `YAML 1.2 (how these files are read) reads ${source} as the text ${quoted(source)}, not a boolean`,
      fix: `write ${field}: ${/^(yes|on|y)$/i.test(source) ? 'true' : 'false'} for a boolean`,
    };
  }
  return undefined;
}
