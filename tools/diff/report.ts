/**
 * Renders a DiffResult as Markdown (for people and PR comments) or JSON (for machines).
 */
import type { FieldChange } from './compare';
import { objectLabel, type DiffResult, type RegionDiff } from './diff';
import { formatUsd } from '../cost/estimate';
import { formatPercent, type CostChange } from './cost';
import { RISK_RULES, show, type RiskRule } from './risks';

/** `monthly estimate at max scale: $X → $Y (+n %)`; `(none)` for a side without the region. */
export function costLine(c: CostChange): string {
  if (c.unpriced) return `monthly estimate at max scale: not estimated (no price table: pricing.regions.${c.region} in regions/global.yaml)`;
  const side = (v: number | undefined) => (v === undefined ? '(none)' : formatUsd(v));
  const pct = c.before !== undefined && c.after !== undefined ? ` (${formatPercent(c.before, c.after)})` : '';
  return `monthly estimate at max scale: ${side(c.before)} → ${side(c.after)}${pct}`;
}

const MAX_CELL = 160;

function cell(text: string): string {
  const one = text.length > MAX_CELL ? `${text.slice(0, MAX_CELL - 1)}…` : text;
  const escaped = one.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, '↵');
  return escaped.includes('`') ? escaped : `\`${escaped}\``;
}

function isMultiline(c: FieldChange): boolean {
  return (typeof c.before === 'string' && c.before.includes('\n')) || (typeof c.after === 'string' && c.after.includes('\n'));
}

/** A minimal line diff (LCS) of two texts, as unified-style lines without context. */
function lineDiff(a: string, b: string): string[] {
  const x = a.split('\n');
  const y = b.split('\n');
  // Trim the common head and tail, then LCS over the middle (small in practice).
  let head = 0;
  while (head < x.length && head < y.length && x[head] === y[head]) head++;
  let tail = 0;
  while (tail < x.length - head && tail < y.length - head && x[x.length - 1 - tail] === y[y.length - 1 - tail]) tail++;
  const xs = x.slice(head, x.length - tail);
  const ys = y.slice(head, y.length - tail);
  if (xs.length * ys.length > 4_000_000) return [...xs.map((l) => `-${l}`), ...ys.map((l) => `+${l}`)];
  const dp: number[][] = Array.from({ length: xs.length + 1 }, () => new Array<number>(ys.length + 1).fill(0));
  for (let i = xs.length - 1; i >= 0; i--) for (let j = ys.length - 1; j >= 0; j--) dp[i][j] = xs[i] === ys[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < xs.length || j < ys.length) {
    if (i < xs.length && j < ys.length && xs[i] === ys[j]) {
      i++;
      j++;
    } else if (i < xs.length && (j === ys.length || dp[i + 1][j] >= dp[i][j + 1])) out.push(`-${xs[i++]}`);
    else out.push(`+${ys[j++]}`);
  }
  return out;
}

function changeLines(changes: readonly FieldChange[]): string[] {
  const lines = ['| Field | Old | New |', '|---|---|---|'];
  const blocks: string[] = [];
  for (const c of changes) {
    if (isMultiline(c)) {
      lines.push(`| ${cell(c.path)} | (text, see below) | (text, see below) |`);
      blocks.push('', `\`${c.path}\`:`, '```diff', ...lineDiff(typeof c.before === 'string' ? c.before : show(c.before), typeof c.after === 'string' ? c.after : show(c.after)), '```');
    } else {
      lines.push(`| ${cell(c.path)} | ${c.before === undefined ? '(none)' : cell(show(c.before))} | ${c.after === undefined ? '(none)' : cell(show(c.after))} |`);
    }
  }
  return [...lines, ...blocks];
}

function regionSection(r: RegionDiff, costs: readonly CostChange[]): string[] {
  const title = r.status === 'added' ? ' (new region)' : r.status === 'removed' ? ' (region removed)' : '';
  const out = [`### ${r.region}${title}`, ''];
  const cost = costs.find((c) => c.region === r.region);
  if (cost) out.push(costLine(cost), '');
  const objectTable = (heading: string, rows: ReadonlyArray<{ kind: string; namespace?: string; name: string; file: string; note?: string }>) => {
    if (rows.length === 0) return;
    out.push(`**${heading}** (${rows.length})`, '', '| Kind | Namespace | Name | File | Note |', '|---|---|---|---|---|');
    for (const o of rows) out.push(`| ${o.kind} | ${o.namespace ?? ''} | ${o.name} | ${o.file} | ${o.note ?? ''} |`);
    out.push('');
  };
  objectTable('Added', r.added.map((o) => ({ ...o, note: o.renamedFrom ? `renamed from ${o.renamedFrom}` : '' })));
  objectTable('Removed', r.removed.map((o) => ({ ...o, note: o.renamedTo ? `renamed to ${o.renamedTo}` : '' })));
  if (r.changed.length > 0) {
    out.push(`**Changed** (${r.changed.length})`, '');
    for (const c of r.changed) {
      out.push(`- **${objectLabel(c)}** (${c.previousFile ? `${c.previousFile} → ` : ''}${c.file})`, '');
      if (c.changes.length > 0) out.push(...changeLines(c.changes).map((l) => (l === '' ? '' : `  ${l}`)), '');
    }
  }
  return out;
}

export function renderMarkdown(result: DiffResult): string {
  const out = [`## Rendered diff: \`${result.from}\` → \`${result.to}\``, ''];
  if (result.regions.length === 0) return `${[...out, 'No changes.'].join('\n')}\n`;
  const s = result.summary;
  out.push(`${s.added} added, ${s.removed} removed, ${s.changed} changed objects in ${s.regions} folder(s).`, '', '## Risks', '');
  if (result.risks.length === 0) out.push('None of the risk rules fired.', '');
  else {
    let last: RiskRule | undefined;
    for (const r of result.risks) {
      if (r.rule !== last) {
        if (last) out.push('');
        out.push(`**${RISK_RULES[r.rule]}**`, '');
        last = r.rule;
      }
      out.push(`- ${r.region}: ${r.object}: ${r.detail}`);
    }
    out.push('');
  }
  if (result.costs.length > 0) {
    out.push('## Monthly estimate at max scale', '');
    for (const c of result.costs) out.push(`- ${c.region}: ${costLine(c)}`);
    out.push('');
  }
  for (const r of result.regions) out.push(...regionSection(r, result.costs));
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

export function renderJson(result: DiffResult): string {
  const plain = {
    ...result,
    regions: result.regions.map((r) => ({ ...r, changed: r.changed.map((c) => ({ ...c, changes: c.changes.map(({ segments: _s, ...rest }) => rest) })) })),
  };
  return `${JSON.stringify(plain, null, 2)}\n`;
}
