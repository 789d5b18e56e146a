/**
 * Grafana dashboards (issue 5, item 4): four dashboards provisioned as ConfigMaps for the
 * kube-prometheus-stack sidecar, datasource by uid, region as a template variable used by
 * every query, deterministic JSON, and every PromQL expression parsing with
 * @prometheus-io/lezer-promql.
 */
import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import { DashboardsChart, dashboardExpressions, GRAFANA_DASHBOARD_LABEL, GRAFANA_FOLDER_ANNOTATION, provisionedDashboards } from '../../charts/dashboards/chart';
import {
  dashboardUid,
  expandGrafanaMacros,
  MAX_UID_LENGTH,
  num,
  PROMETHEUS_DATASOURCE,
  REGION_MATCHER,
  REGION_VARIABLE,
  REGION_VARIABLE_QUERY,
  sortKeysDeep,
  type DashboardJson,
} from '../../charts/dashboards/kit';
import { platformAddons } from '../../charts/argocd/addon-catalog';
import { prometheusName } from '../../charts/dashboards/metrics';
import { NamespacesChart } from '../../charts/namespaces/chart';
import type { RegionPlan } from '../../regions/plan';
import { validateObjects } from '../../tools/validate';
import { newApp, objectsOf, regionPlan, shippedPlan, type Obj } from '../support/charts';

const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-1'];
const plan = regionPlan('us-east-1');

function render(p: RegionPlan = plan): Obj[] {
  return objectsOf(new DashboardsChart(newApp(), { plan: p }));
}

/** The dashboard JSON files of the rendered ConfigMaps, parsed. */
function files(objects: Obj[]): Array<{ configMap: Obj; name: string; text: string; json: DashboardJson }> {
  return objects.map((configMap) => {
    const [[name, text]] = Object.entries(configMap.data as Record<string, string>);
    return { configMap, name, text, json: JSON.parse(text) as DashboardJson };
  });
}

function withGlobal(change: (g: RegionPlan['global']) => RegionPlan['global']): RegionPlan {
  return { ...plan, global: change(plan.global) };
}

/** Every panel, rows included, in document order. */
function panelsOf(d: DashboardJson): Array<Record<string, any>> {
  return d.panels.flatMap((p) => [p, ...((p.panels as Array<Record<string, any>>) ?? [])]);
}

/** Every value under a key named `key`, anywhere in the JSON. */
function valuesOf(value: unknown, key: string): unknown[] {
  if (Array.isArray(value)) return value.flatMap((v) => valuesOf(v, key));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => [...(k === key ? [v] : []), ...valuesOf(v, key)]);
  }
  return [];
}

interface Parsed {
  errors: string[];
  /** Source text of every vector selector and of its label matchers. */
  selectors: Array<{ text: string; matchers: string[] }>;
}

function parsePromQL(expr: string): Parsed {
  const tree = parser.parse(expr);
  const out: Parsed = { errors: [], selectors: [] };
  const cursor = tree.cursor();
  do {
    if (cursor.type.isError) out.errors.push(`syntax error at ${cursor.from}: …${expr.slice(Math.max(0, cursor.from - 20), cursor.from + 20)}…`);
    if (cursor.name === 'VectorSelector') {
      const node = cursor.node;
      const matchers = node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher').map((m) => expr.slice(m.from, m.to)) ?? [];
      out.selectors.push({ text: expr.slice(node.from, node.to), matchers });
    }
  } while (cursor.next());
  return out;
}

describe('DashboardsChart', () => {
  const objects = render();
  const dashboards = files(objects);

  it('renders the four dashboards as ConfigMaps in the monitoring namespace, labelled for the Grafana sidecar', () => {
    expect(objects.map((o) => o.kind)).toEqual(['ConfigMap', 'ConfigMap', 'ConfigMap', 'ConfigMap']);
    expect(dashboards.map((d) => d.json.title)).toEqual(['Franchise health overview', 'Regional performance', 'Business metrics', 'Infrastructure']);
    for (const { configMap, name, json } of dashboards) {
      expect(configMap.metadata.namespace).toBe(plan.namespaces.monitoring);
      expect(configMap.metadata.labels).toMatchObject({ ...GRAFANA_DASHBOARD_LABEL, 'bookedbarber.com/region': 'us-east-1' });
      expect(configMap.metadata.labels.grafana_dashboard).toBe('1');
      expect(configMap.metadata.name).toBe(`bookedbarber-dashboard-${json.uid.replace(/^bookedbarber-/, '')}`);
      expect(name).toBe(`${json.uid}.json`);
    }
  });

  it('gives every dashboard a fixed uid derived from its name, id null and no timestamps or versions', () => {
    expect(dashboards.map((d) => d.json.uid)).toEqual([
      'bookedbarber-franchise-health',
      'bookedbarber-regional-performance',
      'bookedbarber-business-metrics',
      'bookedbarber-infrastructure',
    ]);
    for (const { json } of dashboards) {
      expect(json.uid.length).toBeLessThanOrEqual(MAX_UID_LENGTH);
      expect(json.id).toBeNull();
      expect(json.editable).toBe(false);
      for (const key of ['created', 'updated', 'version', 'iteration']) expect(valuesOf(json, key)).toEqual([]);
    }
    expect(() => dashboardUid('bookedbarber', 'a-very-long-dashboard-key-beyond-the-cap')).toThrow(/Grafana allows 40/);
  });

  it('names the Prometheus datasource by uid on every panel and every query', () => {
    for (const { json } of dashboards) {
      const refs = valuesOf(json, 'datasource');
      expect(refs.length).toBeGreaterThan(0);
      for (const ref of refs) expect(ref).toEqual({ type: 'prometheus', uid: 'prometheus' });
      for (const panel of panelsOf(json).filter((p) => p.type !== 'row')) {
        expect(panel.datasource).toEqual(PROMETHEUS_DATASOURCE);
        expect(panel.targets.length).toBeGreaterThan(0);
        for (const t of panel.targets) expect(t.datasource).toEqual(PROMETHEUS_DATASOURCE);
      }
    }
  });

  it('has a multi-value region variable (All matches series without the label) used by every query', () => {
    for (const { json } of dashboards) {
      const variables = (json.templating as { list: Array<Record<string, unknown>> }).list;
      expect(variables).toHaveLength(1);
      expect(variables[0]).toMatchObject({
        type: 'query',
        name: REGION_VARIABLE,
        query: REGION_VARIABLE_QUERY,
        datasource: PROMETHEUS_DATASOURCE,
        includeAll: true,
        allValue: '.*',
        multi: true,
        current: { text: 'All', value: '$__all' },
      });
    }
    const expressions = dashboardExpressions(plan);
    expect(expressions.length).toBeGreaterThan(30);
    for (const e of expressions) expect(e.expr, `${e.dashboard} / ${e.panel}`).toContain('$region');
  });

  it('filters every vector selector of every expression by the region variable', () => {
    for (const e of dashboardExpressions(plan)) {
      const { selectors } = parsePromQL(expandGrafanaMacros(e.expr));
      expect(selectors.length, `${e.dashboard} / ${e.panel}`).toBeGreaterThan(0);
      for (const s of selectors) expect(s.matchers, `${e.dashboard} / ${e.panel}: ${s.text}`).toContain(REGION_MATCHER);
    }
  });

  it('parses every PromQL expression with @prometheus-io/lezer-promql, in every region', () => {
    for (const region of REGIONS) {
      for (const e of dashboardExpressions(regionPlan(region))) {
        expect(parsePromQL(expandGrafanaMacros(e.expr)).errors, `${e.dashboard} / ${e.panel} [${e.refId}]: ${e.expr}`).toEqual([]);
      }
    }
  });

  it('the parse check itself catches broken PromQL and unexpanded Grafana macros', () => {
    expect(parsePromQL('sum(rate(up{region=~"$region"}[5m])').errors).not.toEqual([]);
    expect(parsePromQL('rate(up{region=~"$region"}[$__rate_interval])').errors).not.toEqual([]);
    expect(parsePromQL(expandGrafanaMacros('rate(up{region=~"$region"}[$__rate_interval])')).errors).toEqual([]);
    expect(parsePromQL('up{job="x"}').selectors).toEqual([{ text: 'up{job="x"}', matchers: ['job="x"'] }]);
  });

  it('renders byte-identical JSON twice, with keys sorted, two-space indented', () => {
    const again = files(render());
    expect(again.map((d) => d.text)).toEqual(dashboards.map((d) => d.text));
    for (const { text, json } of dashboards) {
      expect(text).toBe(`${JSON.stringify(sortKeysDeep(json), null, 2)}\n`);
      expect(JSON.stringify(json)).toBe(JSON.stringify(sortKeysDeep(json)));
    }
  });

  it('numbers panels by position and gives queries refIds A, B, ...', () => {
    for (const { json } of dashboards) {
      expect(json.panels.map((p) => p.id)).toEqual(json.panels.map((_, i) => i + 1));
      for (const panel of panelsOf(json).filter((p) => p.type !== 'row')) {
        expect(panel.targets.map((t: { refId: string }) => t.refId)).toEqual(panel.targets.map((_: unknown, i: number) => String.fromCharCode(65 + i)));
      }
    }
  });

  it('lays panels out on the 24-column grid without overlaps', () => {
    for (const { json } of dashboards) {
      const boxes = json.panels.map((p) => p.gridPos as { x: number; y: number; w: number; h: number });
      for (const [i, a] of boxes.entries()) {
        expect(a.x + a.w, `${json.uid} panel ${i + 1}`).toBeLessThanOrEqual(24);
        for (const b of boxes.slice(i + 1)) {
          const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
          expect(overlap, `${json.uid}: ${JSON.stringify(a)} overlaps ${JSON.stringify(b)}`).toBe(false);
        }
      }
    }
  });

  describe('covers what the issue asks for, with thresholds from config', () => {
    const byUid = (uid: string, p: RegionPlan = plan) => provisionedDashboards(p).find((d) => d.dashboard.uid === uid)!.dashboard;
    const panel = (d: DashboardJson, title: string) => {
      const found = panelsOf(d).find((p) => p.title === title);
      if (!found) throw new Error(`no panel "${title}" in ${d.uid}: ${panelsOf(d).map((p) => p.title).join(', ')}`);
      return found;
    };
    const steps = (p: Record<string, any>) => p.fieldConfig.defaults.thresholds.steps.map((s: { value: number | null }) => s.value);
    const exprs = (p: Record<string, any>) => p.targets.map((t: { expr: string }) => t.expr).join('\n');

    it('franchise health: availability and error budget against the 99.99 % SLO, bookings per minute, top failing endpoints', () => {
      const d = byUid('bookedbarber-franchise-health');
      expect(steps(panel(d, 'Availability (30d)'))).toEqual([null, 0.9999]);
      expect(steps(panel(d, 'Availability vs objective'))).toEqual([null, 0.9999]);
      expect(exprs(panel(d, 'Error budget remaining (30d)'))).toMatch(/\) \/ 0\.0001$/);
      // 30 days of raw per-pod series would exceed Prometheus' query.max-samples at a 1,000-pod
      // API: the 30-day panels read the recorded 5-minute SLI (no raw istio series over 30d).
      for (const title of ['Availability (30d)', 'Error budget remaining (30d)']) {
        expect(exprs(panel(d, title)), title).toContain('avg_over_time(service:istio_request_errors:rate5m{region=~"$region",service="api"}[30d])');
        expect(exprs(panel(d, title)), title).not.toMatch(/istio_requests_total[^\n]*\[30d\]/);
      }
      expect(exprs(panel(d, 'Bookings per minute'))).toContain('bookedbarber_bookings_created_total{region=~"$region"}');
      expect(exprs(panel(d, 'Top failing endpoints (last 15 min)'))).toMatch(/^topk\(10, sum by \(http_request_method, http_route\)/);
      const relaxed = byUid('bookedbarber-franchise-health', withGlobal((g) => ({ ...g, monitoring: { ...g.monitoring, slo: { ...g.monitoring.slo, availability: 0.999 } } })));
      expect(steps(panel(relaxed, 'Availability (30d)'))).toEqual([null, 0.999]);
      expect(exprs(panel(relaxed, 'Error budget remaining (30d)'))).toMatch(/\) \/ 0\.001$/);
    });

    it('regional performance: p50/p95/p99 per region against the p95 objective, request rate, HPA current/desired, canary weight', () => {
      const d = byUid('bookedbarber-regional-performance');
      const latency = panel(d, 'API latency percentiles per region');
      expect(latency.targets.map((t: { expr: string }) => /histogram_quantile\(([0-9.]+), sum by \(region, le\)/.exec(t.expr)?.[1])).toEqual(['0.5', '0.95', '0.99']);
      expect(steps(latency)).toEqual([null, 100]);
      expect(latency.fieldConfig.defaults.custom.thresholdsStyle.mode).toBe('dashed');
      expect(exprs(panel(d, 'HPA replicas: current vs desired'))).toContain('kube_horizontalpodautoscaler_status_desired_replicas{');
      expect(exprs(panel(d, 'Canary weight (API traffic share by revision)'))).toContain('group_left');
      expect(exprs(panel(d, 'Request rate per region and service'))).toContain('sum by (region, destination_canonical_service)');
    });

    it('business: bookings vs same hour last week (drop ratio), payment success vs its threshold, from the metrics the API exports', () => {
      const d = byUid('bookedbarber-business-metrics');
      const weekly = panel(d, 'Bookings vs same hour last week');
      expect(exprs(weekly)).toBe(
        'sum(increase(bookedbarber_bookings_created_total{region=~"$region"}[1h])) / sum(increase(bookedbarber_bookings_created_total{region=~"$region"}[1h] offset 1w))',
      );
      expect(steps(weekly)).toEqual([null, plan.global.monitoring.slo.bookingDropRatio]);
      const payments = panel(d, 'Payment success ratio (1 h)');
      expect(exprs(payments)).toContain('bookedbarber_payments_total{region=~"$region",outcome="success"}');
      // Declined cards are out of the denominator, as PaymentSuccessLow counts them.
      expect(exprs(payments)).toContain('bookedbarber_payments_total{region=~"$region",outcome!="declined"}');
      expect(steps(payments)).toEqual([null, 0.98]);
    });

    it('infrastructure: CPU/memory vs requests per workload, replication lag vs the RPO, PgBouncer pools, Redis memory, Sentinel failovers', () => {
      const d = byUid('bookedbarber-infrastructure');
      expect(exprs(panel(d, 'CPU used / requested per workload'))).toContain('kube_pod_container_resource_requests{region=~"$region",namespace=~"bookedbarber-app|bookedbarber-data|bookedbarber-monitoring",resource="cpu"}');
      expect(steps(panel(d, 'Replication lag vs RPO'))).toEqual([null, plan.global.postgres.rpoSeconds]);
      expect(exprs(panel(d, 'Client connections: active vs waiting'))).toContain('pgbouncer_pools_client_waiting_connections{');
      // The cache runs near 100 % by design (allkeys-lru): left out, as RedisMemoryPressure leaves it out.
      const redisMemory = panel(d, 'Redis memory used / maxmemory (sessions, rate limits)');
      expect(exprs(redisMemory)).toContain('redis_memory_max_bytes{region=~"$region",namespace="bookedbarber-data",tier!~"cache"}');
      expect(steps(redisMemory)).toEqual([null, 0.8, 0.9]);
      expect(exprs(panel(d, 'Sentinel failovers (last hour)'))).toContain('redis_sentinel_master_status{');
      const tighter = byUid('bookedbarber-infrastructure', withGlobal((g) => ({ ...g, postgres: { ...g.postgres, rpoSeconds: 10 } })));
      expect(steps(panel(tighter, 'Replication lag vs RPO'))).toEqual([null, 10]);
    });

    it('derives the API HTTP metric names from the semantic conventions the way the OpenTelemetry Prometheus exporter does', () => {
      expect(prometheusName('http.server.request.duration', 'seconds')).toBe('http_server_request_duration_seconds');
      expect(prometheusName('http.response.status_code')).toBe('http_response_status_code');
    });
  });

  it('passes every schema, policy and reference rule next to the namespaces, in every region (no findings)', () => {
    for (const region of REGIONS) {
      const p = shippedPlan().regions.find((r) => r.region.name === region)!;
      const app = newApp();
      const charts = [new NamespacesChart(app, { plan: p }), new DashboardsChart(app, { plan: p })];
      const loaded = charts.flatMap((c) => objectsOf(c).map((object, index) => ({ file: `dist/${region}/${c.node.id}.yaml`, index, object, region })));
      const report = validateObjects(loaded, {});
      expect(report.findings).toEqual([]);
      expect(report.objects).toBe(loaded.length);
    }
  });

  it('matches what the kube-prometheus-stack add-on provisions: the sidecar label, every namespace, the folder annotation, the datasource uid', () => {
    const stack = platformAddons(plan).find((a) => a.id === 'kube-prometheus-stack')!;
    const sidecar = (stack.values.grafana as any).sidecar;
    expect(sidecar.dashboards).toMatchObject({ enabled: true, label: Object.keys(GRAFANA_DASHBOARD_LABEL)[0], labelValue: GRAFANA_DASHBOARD_LABEL.grafana_dashboard });
    // The folder annotation works only with both settings (grafana chart values.yaml).
    expect(sidecar.dashboards).toMatchObject({ folderAnnotation: GRAFANA_FOLDER_ANNOTATION, provider: { foldersFromFilesStructure: true } });
    for (const { configMap } of dashboards) expect(configMap.metadata.annotations[GRAFANA_FOLDER_ANNOTATION]).toBe('bookedbarber');
    // The sidecar looks where the dashboards are, and reads ConfigMaps only.
    expect(sidecar.dashboards).toMatchObject({ searchNamespace: plan.namespaces.monitoring, resource: 'configmap' });
    for (const { configMap } of dashboards) expect(configMap.metadata.namespace).toBe(plan.namespaces.monitoring);
    // The chart's default datasource uid is "prometheus" when the values leave it out.
    expect(sidecar.datasources.uid ?? 'prometheus').toBe(PROMETHEUS_DATASOURCE.uid);
    expect(sidecar.datasources.url).toBe(plan.names.monitoring.prometheusUrl);
  });

  it('stays well below the ConfigMap size limit (1 MiB)', () => {
    for (const { text } of dashboards) expect(Buffer.byteLength(text)).toBeLessThan(256 * 1024);
  });
});

describe('num', () => {
  it('prints config arithmetic the way a reader compares it with the config (no float noise, no exponents)', () => {
    expect([1 - 0.9999, 1 - 0.999, 14.4 * (1 - 0.9999), 100, 0.98, 1e-7].map(num)).toEqual(['0.0001', '0.001', '0.00144', '100', '0.98', '0.0000001']);
  });
});
