/**
 * Rule `ref-recorded-series`: a series name with a colon that a PrometheusRule's expression or an
 * AnalysisTemplate's Prometheus query reads is recorded by a recording rule of the region.
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
import { asArray, Entry, finding, isKind, isRecord, RawFinding } from '../types';
import { promqlMetricNames } from './promql';

const RULE = 'ref-recorded-series';

/** The series the region's recording rules record, found once per scope. */
const recordedIn = new WeakMap<Scope, Set<string>>();
function recorded(scope: Scope, region: string): Set<string> {
  let known = recordedIn.get(scope);
  if (!known) {
    known = new Set();
    for (const e of scope.entries) {
      if (e.region !== region || !isKind(e.obj, 'monitoring.coreos.com', 'PrometheusRule')) continue;
      for (const group of asArray(specOf(e.obj).groups)) {
        for (const rule of asArray(isRecord(group) ? group.rules : undefined)) if (isRecord(rule) && typeof rule.record === 'string') known.add(rule.record);
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
    for (const name of promqlMetricNames(q.query)) {
      if (!name.includes(':') || have.has(name)) continue;
      const guess = closest(name, have);
      out.push(finding(e, q.path, RULE, `${q.what} reads ${name}, which no recording rule of the region records (a colon marks a recorded series): it never exists, so ${q.missing}`,
        guess ? `did you mean ${guess}?` : 'record it, or read a series that is recorded'));
    }
  }
  return out;
}
