/**
 * Rule `ref-recorded-series`: a series name with a colon that a PrometheusRule's expression or an
 * AnalysisTemplate's Prometheus query reads is recorded by a recording rule of the region, with
 * the labels it selects: a rule's static `labels` are on every series it records, so an equality
 * matcher that contradicts them on every rule of that name (`{service="api"}` when only the
 * web's rule is left) selects nothing.
 * Prometheus reserves colons for recording rules ("Metric names ... The colons are reserved for
 * user defined recording rules": the data model), so such a name is produced by nothing else: a
 * name no rule records (a typo in either place) is a series that never exists. An alert over it
 * never fires; an analysis finds no data and aborts every release (or, with `absent()` around
 * it, one fires for ever). Names are read from the expressions' selectors (the PromQL grammar of
 * Prometheus' UI, parsed once per expression text with promql-syntax). Not judged in a folder
 * that renders no recording rule.
 */
import type { Context, Scope } from '../context';
import { specOf } from '../context';
import { child, item } from '../paths';
import { closest } from '../suggest';
import { asArray, Entry, finding, isKind, isRecord, pushTo, RawFinding } from '../types';
import { promqlSelectors } from './promql';

const RULE = 'ref-recorded-series';

/** The series the region's recording rules record, by name: each rule's static labels (what it sets on every series it records). */
const recordedIn = new WeakMap<Scope, Map<string, Array<Record<string, string>>>>();
function recorded(scope: Scope, region: string): Map<string, Array<Record<string, string>>> {
  let known = recordedIn.get(scope);
  if (!known) {
    known = new Map();
    for (const e of scope.entries) {
      if (e.region !== region || !isKind(e.obj, 'monitoring.coreos.com', 'PrometheusRule')) continue;
      for (const group of asArray(specOf(e.obj).groups)) {
        for (const rule of asArray(isRecord(group) ? group.rules : undefined)) {
          if (!isRecord(rule) || typeof rule.record !== 'string') continue;
          const labels = isRecord(rule.labels) ? Object.fromEntries(Object.entries(rule.labels).filter(([, v]) => typeof v === 'string')) as Record<string, string> : {};
          pushTo(known, rule.record, labels);
        }
      }
    }
    recordedIn.set(scope, known);
  }
  return known;
}

/** The queries of an object that read series: rule expressions, and an analysis' Prometheus queries. */
function queries(e: Entry): Array<{ query: string; path: string; what: string; missing: string }> {
  const out: Array<{ query: string; path: string; what: string; missing: string }> = [];
  if (isKind(e.obj, 'monitoring.coreos.com', 'PrometheusRule')) {
    asArray(specOf(e.obj).groups).forEach((group, g) => {
      asArray(isRecord(group) ? group.rules : undefined).forEach((rule, r) => {
        if (!isRecord(rule) || typeof rule.expr !== 'string') return;
        const what = typeof rule.alert === 'string' ? `alert ${rule.alert}` : `recording rule ${String(rule.record)}`;
        out.push({ query: rule.expr, path: `${item(`${item('spec.groups', g)}.rules`, r)}.expr`, what, missing: typeof rule.alert === 'string' ? 'the alert never fires' : 'it records nothing either' });
      });
    });
  } else if (isKind(e.obj, 'argoproj.io', 'AnalysisTemplate') || isKind(e.obj, 'argoproj.io', 'ClusterAnalysisTemplate')) {
    asArray(specOf(e.obj).metrics).forEach((metric, m) => {
      const query = isRecord(metric) && isRecord(metric.provider) && isRecord(metric.provider.prometheus) ? metric.provider.prometheus.query : undefined;
      if (typeof query !== 'string') return;
      out.push({ query, path: child(`${item('spec.metrics', m)}.provider.prometheus`, 'query'), what: `analysis metric ${isRecord(metric) ? String(metric.name) : '?'}`, missing: 'the analysis finds no data and the release is aborted' });
    });
  }
  return out;
}

export function checkRecordedSeries(e: Entry, ctx: Context): RawFinding[] {
  if (e.region === null || !isRecord(e.obj)) return [];
  const reads = queries(e);
  if (reads.length === 0) return [];
  const have = recorded(ctx.scope(e), e.region);
  if (have.size === 0) return [];
  const out: RawFinding[] = [];
  for (const q of reads) {
    for (const selector of promqlSelectors(q.query)) {
      const name = selector.name;
      if (!name.includes(':')) continue;
      const records = have.get(name);
      if (!records) {
        const guess = closest(name, have.keys());
        out.push(finding(e, q.path, RULE, `${q.what} reads ${name}, which no recording rule of the region records (a colon marks a recorded series): it never exists, so ${q.missing}`,
          guess ? `did you mean ${guess}?` : 'record it, or read a series that is recorded'));
        continue;
      }
      // A rule's static label is on every series it records: a matcher that contradicts it on every
      // rule of that name selects nothing (a rule without the label may record any value of it).
      const wanted = Object.entries(selector.equals);
      if (wanted.length === 0 || records.some((labels) => wanted.every(([l, v]) => labels[l] === undefined || labels[l] === v))) continue;
      const conflict = wanted.find(([l, v]) => records.every((labels) => labels[l] !== undefined && labels[l] !== v)) ?? wanted[0]!;
      const values = [...new Set(records.map((labels) => labels[conflict[0]]).filter((v): v is string => v !== undefined))].sort();
      out.push(finding(e, q.path, RULE, `${q.what} reads ${name}{${conflict[0]}="${conflict[1]}"}, and the region's recording rules of ${name} set ${conflict[0]} to ${values.join(', ')}: no such series is recorded, so ${q.missing}`,
        `record ${name} with ${conflict[0]}: ${conflict[1]}, or read one that is recorded (${values.map((v) => `${conflict[0]}="${v}"`).join(', ')})`));
    }
  }
  return out;
}
