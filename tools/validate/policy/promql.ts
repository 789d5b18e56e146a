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

/** What one parse of a query tells: where it does not parse, and the metric names its selectors read. */
interface Parsed {
  readonly errors: readonly number[];
  readonly metrics: readonly string[];
}

/**
 * Parses already made, by their text: the regions' rule files repeat the same expressions (each
 * serving region renders the same groups), and parsing was the validator's costliest rule.
 */
const parsed = new Map<string, Parsed>();

function parse(query: string): Parsed {
  const known = parsed.get(query);
  if (known) return known;
  const errors: number[] = [];
  const metrics = new Set<string>();
  parser.parse(query).iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(node.from);
      // A selector's metric name (`name{...}`); function names and label names are other nodes.
      else if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') metrics.add(query.slice(node.from, node.to));
    },
  });
  const result = { errors, metrics: [...metrics] };
  parsed.set(query, result);
  return result;
}

/** Offsets where the query does not parse, empty when it does. */
export function promqlErrorOffsets(query: string): readonly number[] {
  return parse(query).errors;
}

/** The metric names the query's selectors read (`{__name__=...}` matchers are not read). */
export function promqlMetricNames(query: string): readonly string[] {
  return parse(query).metrics;
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
