/**
 * A parsed region file that remembers where every value came from, so an error found later
 * (by the schema or by a cross-file invariant) can still point at a line.
 */
import * as fs from 'node:fs';
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { ConfigIssue, FieldPath } from './config-error';

export class SourceFile {
  static read(file: string): SourceFile {
    return new SourceFile(file, fs.readFileSync(file, 'utf8'));
  }

  readonly data: unknown;
  readonly syntaxIssues: ConfigIssue[] = [];
  private readonly doc: Document.Parsed;
  private readonly lines = new LineCounter();

  constructor(
    readonly file: string,
    text: string,
  ) {
    // YAML 1.2 core schema: `no`/`on` stay strings, duplicate keys are errors.
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: true, prettyErrors: false });
    for (const error of this.doc.errors) {
      const pos = this.lines.linePos(error.pos[0]);
      this.syntaxIssues.push({
        file,
        line: pos.line,
        column: pos.col,
        path: [],
        found: error.message.split('\n')[0],
        expected: 'valid YAML',
        fix: 'correct the YAML syntax at this line',
      });
    }
    this.data = this.syntaxIssues.length === 0 ? this.doc.toJS() : undefined;
  }

  /** Builds an issue at `path`, located at the deepest node of the path that exists. */
  issue(path: FieldPath, found: string, expected: string, fix?: string): ConfigIssue {
    const { line, col } = this.position(path);
    return { file: this.file, line, column: col, path, found, expected, ...(fix ? { fix } : {}) };
  }

  private position(path: FieldPath): { line: number; col: number } {
    let node: unknown = this.doc.contents;
    let best = this.offsetOf(node) ?? 0;
    for (const key of path) {
      if (isMap(node)) {
        const pair = node.items.find((item) => (item.key as { value?: unknown })?.value === key);
        if (!pair) break;
        // Point at the key: for a wrong value the key's line is where the eye goes.
        best = this.offsetOf(pair.key) ?? best;
        node = pair.value;
      } else if (isSeq(node) && typeof key === 'number' && node.items[key] !== undefined) {
        node = node.items[key];
        best = this.offsetOf(node) ?? best;
      } else {
        break;
      }
    }
    return this.lines.linePos(best);
  }

  private offsetOf(node: unknown): number | undefined {
    return (node as Node | undefined)?.range?.[0];
  }
}
