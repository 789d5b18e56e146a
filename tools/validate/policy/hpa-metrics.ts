/**
 * Rule `ref-hpa-metric`: a HorizontalPodAutoscaler's custom metric (`type: Pods` or `Object`,
 * read from the custom metrics API) is one the region's prometheus-adapter serves: the `name.as`
 * of one of its `rules.custom` (the values of its Argo CD Application, the global folder's one
 * labelled with the region; `external` metrics likewise from `rules.external`). Otherwise the
 * HPA reports FailedGetPodsMetric and never scales on that metric: the API scales on CPU alone,
 * late, behind a traffic spike. Not judged when the adapter keeps its default rules, when one of
 * its rules names its metric without `as` (the name then comes from a regular expression over
 * the series Prometheus has), or when no adapter Application of the region is in view.
 */
import type { Context } from '../context';
import { specOf } from '../context';
import { item } from '../paths';
import { closest } from '../suggest';
import { asArray, Entry, finding, isKind, isRecord, RawFinding } from '../types';
import { regionChartSources } from './argocd-spec';

/** The metric names a region's prometheus-adapter serves (custom, external), or undefined when they cannot be known. */
function adapterMetrics(ctx: Context, region: string): { custom: string[]; external: string[] } | undefined {
  const values = regionChartSources(ctx, region, 'prometheus-adapter').map((c) => c.values);
  if (values.length === 0 || values.some((v) => v === undefined)) return undefined;
  const custom: string[] = [];
  const external: string[] = [];
  for (const v of values as Array<Record<string, any>>) {
    const rules = isRecord(v.rules) ? v.rules : {};
    // The chart's default rules (on unless turned off) serve metrics this tree does not list.
    if (rules.default !== false) return undefined;
    for (const [list, out] of [[rules.custom, custom], [rules.external, external]] as const) {
      for (const rule of asArray(list)) {
        const as = isRecord(rule) && isRecord(rule.name) ? rule.name.as : undefined;
        if (typeof as !== 'string') return undefined;
        out.push(as);
      }
    }
  }
  return { custom, external };
}

export function checkHpaMetrics(e: Entry, ctx: Context): RawFinding[] {
  if (!isKind(e.obj, 'autoscaling', 'HorizontalPodAutoscaler') || e.region === null) return [];
  const metrics = asArray(specOf(e.obj).metrics);
  if (!metrics.some((m) => isRecord(m) && ['Pods', 'Object', 'External'].includes(String(m.type)))) return [];
  const served = adapterMetrics(ctx, e.region);
  if (!served) return [];
  const out: RawFinding[] = [];
  metrics.forEach((m, i) => {
    if (!isRecord(m)) return;
    const source = m.type === 'Pods' ? m.pods : m.type === 'Object' ? m.object : m.type === 'External' ? m.external : undefined;
    const name = isRecord(source) && isRecord(source.metric) ? source.metric.name : undefined;
    if (typeof name !== 'string') return;
    const known = m.type === 'External' ? served.external : served.custom;
    if (known.includes(name)) return;
    const guess = closest(name, known);
    const field = String(m.type).toLowerCase();
    out.push(finding(e, `${item('spec.metrics', i)}.${field}.metric.name`, 'ref-hpa-metric',
      `metric ${name} is not one the region's prometheus-adapter serves (${m.type === 'External' ? 'rules.external' : 'rules.custom'}: ${known.length > 0 ? known.join(', ') : 'none'}): the HPA cannot read it (FailedGetPodsMetric) and scales on its other metrics alone`,
      guess ? `did you mean ${guess}?` : 'name a metric an adapter rule serves (its name.as), or add a rule for it'));
  });
  return out;
}
