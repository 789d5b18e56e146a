/**
 * Every range of every rendered PromQL expression (rate, irate, increase, *_over_time, any
 * range selector or subquery) spans at least four scrape intervals of the slowest scrape we
 * render: with two intervals, one late or missed scrape leaves a single sample and rate()
 * returns nothing, so a release gate, an alert or the HPA's request rate goes blind. Guards
 * issue #13 item 6.
 *
 * Reads a fresh in-memory render (not the committed dist/, which may lag the source during a
 * change): PrometheusRule and Helm-values `expr`s, Argo Rollouts analysis queries
 * (`provider.prometheus.query`), the prometheus-adapter `metricsQuery`, and the `expr` of
 * Grafana dashboards provisioned as ConfigMaps. Grafana's $__rate_interval is at least four
 * times the datasource's scrape interval, which must then be the one Prometheus uses.
 */
import { describe, expect, it } from 'vitest';
import { renderedObjects } from '../support/rendered';

interface Found {
  readonly where: string;
  readonly expr: string;
}

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };

/** PromQL duration (`30s`, `1h30m`) → seconds; NaN when it is not one. */
function seconds(duration: string): number {
  const parts = [...duration.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== duration) return NaN;
  return parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_SECONDS[p[2]!]!, 0);
}

/** The expression with string literals emptied, so `"[0-9]"` in a label value is no range. */
function withoutStrings(expr: string): string {
  return expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
}

/** The range of every range selector and subquery, as written (`5m`, `$__rate_interval`). */
export function ranges(expr: string): string[] {
  return [...withoutStrings(expr).matchAll(/\[\s*([^\[\]:\s]+)\s*(?::[^\]]*)?\]/g)].map((m) => m[1]!);
}

/** Every PromQL expression of one object, wherever it sits. */
function expressions(value: unknown, where: string, out: Found[], underPrometheus = false): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => expressions(v, `${where}[${i}]`, out, underPrometheus));
    return;
  }
  if (!value || typeof value !== 'object') return;
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const at = `${where}.${key}`;
    if (typeof v === 'string') {
      if (key === 'expr' || key === 'metricsQuery' || (key === 'query' && underPrometheus)) out.push({ where: at, expr: v });
      // Dashboards provisioned as JSON inside ConfigMaps.
      else if (key.endsWith('.json')) {
        try {
          expressions(JSON.parse(v), at, out);
        } catch {
          // not JSON: nothing to read
        }
      }
      continue;
    }
    expressions(v, at, out, key === 'prometheus');
  }
}

/** Every scrape interval the tree sets: monitors, Prometheus' default, Grafana's datasource. */
function scrapeIntervals(object: any, where: string): { where: string; interval: string; grafana: boolean }[] {
  const out: { where: string; interval: string; grafana: boolean }[] = [];
  if (object.kind === 'PodMonitor') for (const e of object.spec?.podMetricsEndpoints ?? []) out.push({ where, interval: e.interval, grafana: false });
  if (object.kind === 'ServiceMonitor') for (const e of object.spec?.endpoints ?? []) out.push({ where, interval: e.interval, grafana: false });
  if (object.kind === 'Prometheus') out.push({ where, interval: object.spec?.scrapeInterval, grafana: false });
  const walk = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
        if (key === 'defaultDatasourceScrapeInterval') out.push({ where: `${where} Grafana datasource`, interval: String(v), grafana: true });
        else walk(v);
      }
    }
  };
  walk(object.spec ?? {});
  return out;
}

describe('rate windows in the rendered tree', () => {
  // Every object of every YAML file of the shipped render, read back as YAML 1.1 (the region
  // pages, README.md, hold no manifests).
  const objects = renderedObjects().map(({ where, object }) => ({ where, object: object as any }));
  const found: Found[] = [];
  for (const { where, object } of objects) expressions(object, where, found);
  const intervals = objects.flatMap(({ where, object }) => scrapeIntervals(object, where));
  const scrape = Math.max(...intervals.filter((i) => !i.grafana).map((i) => seconds(i.interval)));
  const grafana = intervals.filter((i) => i.grafana);

  it('finds the scrape intervals and the expressions it is meant to check', () => {
    expect(intervals.filter((i) => !i.grafana).length).toBeGreaterThan(10);
    for (const i of intervals) expect(seconds(i.interval), `${i.where}: interval ${i.interval}`).toBeGreaterThan(0);
    for (const kind of ['PrometheusRule', 'AnalysisTemplate', 'metricsQuery', '.json']) {
      expect(found.some((f) => f.where.includes(kind)), kind).toBe(true);
    }
    expect(found.flatMap((f) => ranges(f.expr)).length).toBeGreaterThan(100);
  });

  it("tells Grafana the slowest scrape interval, so $__rate_interval is at least four of them", () => {
    expect(grafana.length).toBeGreaterThan(0);
    for (const g of grafana) expect(seconds(g.interval), g.where).toBe(scrape);
  });

  it('uses no range shorter than four scrape intervals', () => {
    const short = found.flatMap((f) =>
      ranges(f.expr)
        .map((range) => ({ range, s: range === '$__rate_interval' || range === '${__rate_interval}' ? 4 * scrape : range === '$__range' ? Infinity : seconds(range) }))
        .filter(({ s }) => !(s >= 4 * scrape))
        .map(({ range }) => `${f.where}: [${range}] < ${4 * scrape}s (4 x ${scrape}s scrape) in ${f.expr}`),
    );
    expect(short).toEqual([]);
  });

  it('reads ranges past label values, subqueries and placeholders', () => {
    expect(ranges('rate(x{code=~"5[0-9]{2}"}[2m]) + max_over_time(y[1h:1m]) + rate(z[$__rate_interval])')).toEqual(['2m', '1h', '$__rate_interval']);
    expect(seconds('1h30m')).toBe(5400);
    expect(seconds('1m')).toBeLessThan(4 * 30);
  });
});
