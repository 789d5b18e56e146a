/**
 * Errors in the region files. Every problem names the file and line, the field path, what was
 * found, what is expected and, where one exists, the fix, so nobody has to read the generator
 * to repair a config. All problems of a run are reported together.
 */
export type FieldPath = ReadonlyArray<string | number>;

export interface ConfigIssue {
  /** File relative to the working directory, e.g. regions/us-east-1.yaml. */
  readonly file: string;
  /** 1-based line and column of the offending node (of the nearest existing parent if absent). */
  readonly line: number;
  readonly column: number;
  readonly path: FieldPath;
  readonly found: string;
  readonly expected: string;
  readonly fix?: string;
}

/** `shards[0].franchises.last`; the empty path is the document itself. */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const part of path) {
    out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`;
  }
  return out === '' ? '(document)' : out;
}

export function formatIssue(issue: ConfigIssue): string {
  const lines = [
    `${issue.file}:${issue.line}:${issue.column}  ${formatPath(issue.path)}`,
    `    found:    ${issue.found}`,
    `    expected: ${issue.expected}`,
  ];
  if (issue.fix) lines.push(`    fix:      ${issue.fix}`);
  return lines.join('\n');
}

export class ConfigError extends Error {
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(
      `${issues.length} problem${issues.length === 1 ? '' : 's'} in the region config:\n\n` +
        issues.map(formatIssue).join('\n\n'),
    );
    this.name = 'ConfigError';
  }
}

/** Short, stable rendering of a found value for messages. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing (field missing)';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
