/** Ordering and human formatting of findings. */
import { Finding, RawFinding, ValidationReport } from './types';

const cmp = (a: string | number, b: string | number): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Deterministic order: file, document index, path, rule, message — plain `<` comparison,
 * never localeCompare, so the report is identical on every machine and locale.
 */
export function sortFindings(findings: RawFinding[]): Finding[] {
  return [...findings]
    .sort((a, b) => cmp(a.file, b.file) || cmp(a.index, b.index) || cmp(a.path, b.path) || cmp(a.rule, b.rule) || cmp(a.message, b.message))
    .map(({ file, object, path, rule, message, hint }) => ({ file, object, path, rule, message, hint }));
}

export function formatReport(report: ValidationReport): string {
  const lines: string[] = [];
  for (const f of report.findings) {
    lines.push(`${f.file}`);
    lines.push(`  object: ${f.object}`);
    lines.push(`  path:   ${f.path || '(whole object)'}`);
    lines.push(`  rule:   ${f.rule}`);
    lines.push(`  error:  ${f.message}`);
    lines.push(`  hint:   ${f.hint}`);
    lines.push('');
  }
  for (const note of report.notes) lines.push(`note: ${note}`);
  const n = report.findings.length;
  const files = new Set(report.findings.map((f) => f.file)).size;
  lines.push(n === 0
    ? `OK: no findings in ${report.objects} object(s) from ${report.files} file(s)`
    : `FAILED: ${n} finding(s) in ${files} file(s); ${report.objects} object(s) from ${report.files} file(s) checked`);
  return lines.join('\n');
}
