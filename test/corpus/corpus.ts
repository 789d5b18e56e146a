/**
 * The broken-config corpus (test/corpus/cases/NN-name.yaml): each case is a small edit of the
 * shipped regions/ and the place the user must be sent to. Format (see README.md):
 *
 *   description: what is wrong
 *   file: us-east-1.yaml            # the file the edits apply to by default
 *   edits:                          # applied in order
 *     - replace: "    minReplicas: 50"      # exact text (the first occurrence; all: true for every one)
 *       with: "    minReplicas: fifty"
 *       file: '*'                   # optional: another file, or every region file
 *     - set: autoscaling.api.minReplicas     # or a field path set to a value (layout and comments kept)
 *       value: 0
 *     - delete: dns.ingressLoadBalancer      # or a field removed
 *   expect:                         # where the user is sent: file, line and field path
 *     file: us-east-1.yaml
 *     line: { of: "    minReplica: 50" }  # the line of this text in the edited file (or a number):
 *                                        # the case survives edits of the shipped files above it
 *     field: autoscaling.api.minReplica
 *     fixContains: minReplicas       # optional: text the fix must contain (the "did you mean")
 *   pending: why it cannot pass yet     # optional: reported as a todo until the named work lands
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse, parseDocument } from 'yaml';
import { REGIONS_DIR, tempDir } from '../support/regions';

export const CASES_DIR = path.join(__dirname, 'cases');

type Edit =
  | { readonly replace: string; readonly with: string; readonly file?: string; readonly all?: boolean }
  | { readonly set: string; readonly value: unknown; readonly file?: string }
  | { readonly delete: string; readonly file?: string };

export interface CorpusCase {
  readonly name: string;
  readonly description: string;
  readonly file: string;
  readonly edits: readonly Edit[];
  readonly expect: { readonly file: string; readonly line?: number | { readonly of: string }; readonly field: string; readonly fixContains?: string };
  readonly pending?: string;
}

export function loadCases(): CorpusCase[] {
  return fs
    .readdirSync(CASES_DIR)
    .filter((n) => n.endsWith('.yaml'))
    .sort()
    .map((n) => ({ name: n.replace(/\.yaml$/, ''), ...(parse(fs.readFileSync(path.join(CASES_DIR, n), 'utf8')) as Omit<CorpusCase, 'name'>) }));
}

/** `a.b[0].c` → ['a', 'b', 0, 'c']. */
function fieldPath(field: string): (string | number)[] {
  return field.split(/\.|(?=\[)/).map((part) => (/^\[\d+\]$/.test(part) ? Number(part.slice(1, -1)) : part));
}

/** A copy of the shipped regions/ with the case's edits applied; throws when an edit does not apply. */
export function regionsForCase(c: CorpusCase): string {
  const dir = tempDir('bb-corpus-');
  const texts = new Map<string, string>();
  for (const name of fs.readdirSync(REGIONS_DIR).filter((n) => n.endsWith('.yaml'))) texts.set(name, fs.readFileSync(path.join(REGIONS_DIR, name), 'utf8'));
  for (const edit of c.edits) {
    const target = edit.file ?? c.file;
    const files = target === '*' ? [...texts.keys()] : [target];
    let applied = false;
    for (const file of files) {
      const text = texts.get(file);
      if (text === undefined) throw new Error(`${c.name}: no file ${file}`);
      let changed = text;
      if ('replace' in edit) {
        changed = edit.all ? text.split(edit.replace).join(edit.with) : text.replace(edit.replace, () => edit.with);
      } else {
        const doc = parseDocument(text);
        if ('set' in edit) doc.setIn(fieldPath(edit.set), doc.createNode(edit.value));
        else doc.deleteIn(fieldPath(edit.delete));
        changed = doc.toString({ lineWidth: 0 });
      }
      applied ||= changed !== text;
      texts.set(file, changed);
    }
    if (!applied) throw new Error(`${c.name}: edit ${JSON.stringify(edit)} changed nothing`);
  }
  for (const [name, text] of texts) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

/** The expected line: a number, or the line where `of` first occurs in the edited file. */
export function expectedLine(c: CorpusCase, regionsDir: string): number | undefined {
  const line = c.expect.line;
  if (line === undefined || typeof line === 'number') return line;
  const text = fs.readFileSync(path.join(regionsDir, c.expect.file), 'utf8');
  const at = text.indexOf(line.of);
  if (at < 0) throw new Error(`${c.name}: expect.line.of ${JSON.stringify(line.of)} is not in the edited ${c.expect.file}`);
  return text.slice(0, at).split('\n').length;
}

/** What is wrong with the CLI's answer to a case (empty: the case passes). */
export function judge(c: CorpusCase, regionsDir: string, result: { status: number | null; stdout: string; stderr: string }, outUnchanged: boolean): string[] {
  const problems: string[] = [];
  const { stderr } = result;
  if (result.status !== 1) problems.push(`exit ${result.status}, expected 1`);
  if (!outUnchanged) problems.push('the out folder changed');
  if (/^\s+at .+:\d+:\d+\)?$/m.test(stderr)) problems.push('a stack trace');
  if (/synth failed:|internal error/.test(stderr)) problems.push('an unlocated error');
  const file = path.join(regionsDir, c.expect.file);
  const line = expectedLine(c, regionsDir);
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const header = new RegExp(`^${escape(file)}:${line ?? '\\d+'}:\\d+  ${escape(c.expect.field)}$`, 'm');
  const match = header.exec(stderr);
  if (!match) {
    problems.push(`no problem at ${c.expect.file}:${line ?? '*'} ${c.expect.field}`);
  } else {
    const block = stderr.slice(match.index).split(/\n\n/)[0]!;
    if (!/^ {4}found: /m.test(block) || !/^ {4}expected: /m.test(block)) problems.push('no found/expected');
    const fix = /^ {4}fix: +(.*)$/m.exec(block);
    if (!fix) problems.push('no fix');
    else if (c.expect.fixContains && !fix[1]!.includes(c.expect.fixContains)) problems.push(`the fix does not mention ${c.expect.fixContains}: ${fix[1]}`);
  }
  return problems;
}
