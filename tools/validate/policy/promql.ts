/**
 * Rule `promql-syntax`: every alerting and recording rule's `expr` of a PrometheusRule parses as
 * PromQL, with the grammar of Prometheus' own UI (@prometheus-io/lezer-promql). Syntax only:
 * types and arities (`rate(x)` without a range) are promtool's to judge, which CI runs on every
 * region's rules (test/real-servers/promtool.test.ts).
 * The CRD types `expr` as a string; prometheus-operator's webhook (when installed) refuses the
 * object, else Prometheus refuses the rule file at reload and keeps the old rules: the alert is
 * silently gone either way.
 */
import { parser } from '@prometheus-io/lezer-promql';
import { item } from '../paths';
import { asArray, Entry, finding, isKind, isRecord, RawFinding } from '../types';

/** A vector selector with a metric name: the name and its equality matchers (`label="value"`). */
export interface Selector {
  readonly name: string;
  readonly equals: Readonly<Record<string, string>>;
}

/** What one parse of a query tells: where it does not parse, and the selectors that name a metric. */
interface Parsed {
  readonly errors: readonly number[];
  readonly selectors: readonly Selector[];
}

/**
 * Parses already made, by their text: the regions' rule files repeat the same expressions (each
 * serving region renders the same groups), and parsing was the validator's costliest rule.
 */
const parsed = new Map<string, Parsed>();

/** A PromQL double-quoted string's value (Go's escapes are JSON's for what rules write), else undefined. */
function stringValue(literal: string): string | undefined {
  if (!literal.startsWith('"')) return undefined;
  try {
    return JSON.parse(literal) as string;
  } catch {
    return undefined;
  }
}

function parse(query: string): Parsed {
  const known = parsed.get(query);
  if (known) return known;
  const errors: number[] = [];
  const selectors: Selector[] = [];
  const text = (n: { from: number; to: number } | null | undefined) => (n ? query.slice(n.from, n.to) : undefined);
  parser.parse(query).iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(node.from);
      else if (node.name === 'VectorSelector') {
        // The metric name (`name{...}`); function and label names are other nodes.
        const name = text(node.node.getChild('Identifier'));
        if (!name) return;
        const equals: Record<string, string> = {};
        for (const m of node.node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []) {
          const label = text(m.getChild('LabelName'));
          const value = stringValue(text(m.getChild('StringLiteral')) ?? '');
          if (label && value !== undefined && m.getChild('MatchOp')?.getChild('EqlSingle')) equals[label] = value;
        }
        selectors.push({ name, equals });
      }
    },
  });
  const result = { errors, selectors };
  parsed.set(query, result);
  return result;
}

/** Offsets where the query does not parse, empty when it does. */
export function promqlErrorOffsets(query: string): readonly number[] {
  return parse(query).errors;
}

/** The selectors of the query that name a metric (`{__name__=...}` ones are not read), with their equality matchers. */
export function promqlSelectors(query: string): readonly Selector[] {
  return parse(query).selectors;
}

export function checkPromqlSyntax(e: Entry): RawFinding[] {
  if (!isKind(e.obj, 'monitoring.coreos.com', 'PrometheusRule')) return [];
  const out: RawFinding[] = [];
  asArray(isRecord(e.obj.spec) ? e.obj.spec.groups : undefined).forEach((group, g) => {
    if (!isRecord(group)) return;
    asArray(group.rules).forEach((rule, r) => {
      if (!isRecord(rule) || typeof rule.expr !== 'string') return;
      const errors = promqlErrorOffsets(rule.expr);
      if (errors.length === 0) return;
      const at = errors[0]!;
      const name = typeof rule.alert === 'string' ? `alert ${rule.alert}` : typeof rule.record === 'string' ? `recording rule ${rule.record}` : 'rule';
      out.push(finding(e, `${item(`${item('spec.groups', g)}.rules`, r)}.expr`, 'promql-syntax', `${name}: the expression is not PromQL syntax at offset ${at} (near ${JSON.stringify(rule.expr.slice(Math.max(0, at - 10), at + 10))}): the rule is refused and never evaluates`,
        'fix the expression (promtool check rules on the extracted groups names the error)'));
    });
  });
  return out;
}
