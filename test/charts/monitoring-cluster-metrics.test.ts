/**
 * Issue #12 item 5: cluster metrics and retention.
 * - kube-state-metrics (kube-prometheus-stack subchart) with a ClusterRole limited to the
 *   collectors the dashboards need and an allowlist of exactly the series they read;
 * - the kubelets' cAdvisor through the operator's kubelet Service, with Prometheus' own
 *   ClusterRole limited to `nodes/metrics` (no nodes/proxy) and discovery in kube-system from
 *   the add-on (the region's Application never writes there);
 * - the ingress gateway and istiod scraped (edge SLI, mesh CA expiry), each with its declared
 *   connection;
 * - retention covers the longest range or offset any rule or dashboard reads.
 */
import { describe, expect, it } from 'vitest';
import { platformAddons } from '../../charts/argocd/addon-catalog';
import { dashboardExpressions } from '../../charts/dashboards/chart';
import { KUBE } from '../../charts/dashboards/metrics';
import { ruleFiles } from '../../charts/monitoring/alerts-chart';
import { ServiceMonitorsChart } from '../../charts/monitoring/service-monitors-chart';
import {
  INGRESS_GATEWAY_JOB, KUBE_STATE_METRICS, KUBE_STATE_METRICS_ALLOWLIST, KUBELET, PATRONI_SCOPE_POD_LABEL, scrapedNamespaces, scrapeTargets,
} from '../../charts/lib/monitoring-targets';
import { PATRONI_LABELS } from '../../charts/postgres/names';
import { declaredConnections } from '../../charts/wiring/connections';
import { durationToSeconds } from '../../charts/lib/promql';
import { newApp, objectsOf, regionPlan, shippedPlan } from '../support/charts';

const plan = regionPlan('us-east-1');
const stack = () => platformAddons(plan).find((a) => a.id === 'kube-prometheus-stack')!.values as Record<string, any>;

describe('kube-state-metrics', () => {
  it('runs with the chart, its ClusterRole limited to the collectors the dashboards read, exporting only their series', () => {
    const values = stack();
    expect(values.kubeStateMetrics).toEqual({ enabled: true });
    const ksm = values['kube-state-metrics'];
    // The subchart derives its ClusterRole rules from this list (default: every kind, Secrets included).
    expect(ksm.collectors).toEqual(['horizontalpodautoscalers', 'pods']);
    expect(ksm.rbac).toEqual({ create: true, useClusterRole: true });
    expect(ksm.prometheus.monitor.enabled).toBe(false);
    const kubeStateSeries = Object.values(KUBE).filter((m) => m.startsWith('kube_'));
    expect([...ksm.metricAllowlist].sort()).toEqual([...kubeStateSeries].sort());
    expect(KUBE_STATE_METRICS_ALLOWLIST.every((m) => m.startsWith('kube_horizontalpodautoscaler_') || m.startsWith('kube_pod_container_resource_'))).toBe(true);
  });

  it('is scraped by a ServiceMonitor on its Service, job kube-state-metrics, keeping the objects\' namespace labels', () => {
    const monitor = objectsOf(new ServiceMonitorsChart(newApp(), { plan })).find((o) => o.metadata.name === 'bookedbarber-kube-state-metrics')!;
    expect(monitor.spec.namespaceSelector).toEqual({ matchNames: [KUBE_STATE_METRICS.namespace] });
    expect(monitor.spec.selector.matchLabels).toEqual(KUBE_STATE_METRICS.serviceSelector);
    expect(monitor.spec.jobLabel).toBe('app.kubernetes.io/name');
    expect(monitor.spec.endpoints[0]).toMatchObject({ port: 'http', honorLabels: true, scheme: 'http' });
  });
});

describe('kubelet / cAdvisor', () => {
  const monitor = () => objectsOf(new ServiceMonitorsChart(newApp(), { plan })).find((o) => o.metadata.name === 'bookedbarber-kubelet')!;

  it('scrapes /metrics/cadvisor over HTTPS with the service-account token, keeping only the container series the dashboards read', () => {
    const m = monitor();
    expect(m.spec.namespaceSelector).toEqual({ matchNames: ['kube-system'] });
    expect(m.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'kubelet', 'k8s-app': 'kubelet' });
    const ep = m.spec.endpoints[0];
    expect(ep).toMatchObject({ port: 'https-metrics', path: '/metrics/cadvisor', scheme: 'https', honorLabels: true, bearerTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token' });
    expect(ep.metricRelabelings).toEqual([{ action: 'keep', sourceLabels: ['__name__'], regex: 'container_cpu_usage_seconds_total|container_memory_working_set_bytes' }]);
    const cadvisor = Object.values(KUBE).filter((x) => x.startsWith('container_'));
    expect([...KUBELET.keep].sort()).toEqual([...cadvisor].sort());
  });

  it('gets nodes/metrics (not nodes/proxy) cluster-wide and discovery in kube-system from the add-on, nothing from the region chart', () => {
    const values = stack();
    expect(values.prometheusOperator.kubeletService).toEqual({ enabled: true, namespace: 'kube-system' });
    const rbac = (values.extraManifests as any[]).filter((m) => m.apiVersion === 'rbac.authorization.k8s.io/v1');
    const clusterRole = rbac.find((m) => m.kind === 'ClusterRole');
    expect(clusterRole.rules).toEqual([{ apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] }]);
    const subject = [{ kind: 'ServiceAccount', name: plan.names.monitoring.prometheusServiceAccount, namespace: plan.namespaces.monitoring }];
    expect(rbac.find((m) => m.kind === 'ClusterRoleBinding').subjects).toEqual(subject);
    const role = rbac.find((m) => m.kind === 'Role');
    expect(role.metadata.namespace).toBe('kube-system');
    for (const rule of role.rules) expect(rule.verbs).toEqual(['get', 'list', 'watch']);
    expect(rbac.find((m) => m.kind === 'RoleBinding').subjects).toEqual(subject);
    // The region's own RBAC never names kube-system.
    expect(scrapedNamespaces(scrapeTargets(plan))).not.toContain('kube-system');
  });
});

describe('scrape targets of issue #12', () => {
  it('scrapes the ingress gateway pods through the agent port, as job ingress-gateway, in serving regions only', () => {
    const gateway = scrapeTargets(plan).find((t) => t.name === INGRESS_GATEWAY_JOB)!;
    expect(gateway).toMatchObject({ kind: 'meshed-pods', namespace: 'istio-ingress', podSelector: { istio: 'ingressgateway' } });
    const monitor = objectsOf(new ServiceMonitorsChart(newApp(), { plan })).find((o) => o.metadata.name === 'bookedbarber-ingress-gateway')!;
    expect(monitor.spec.podMetricsEndpoints[0].relabelings.at(-1)).toEqual({ action: 'replace', replacement: INGRESS_GATEWAY_JOB, targetLabel: 'job' });
    for (const p of shippedPlan().regions) {
      const names = scrapeTargets(p).map((t) => t.name);
      expect(names.includes(INGRESS_GATEWAY_JOB), p.region.name).toBe(p.region.role !== 'standby');
      for (const always of ['kube-state-metrics', 'kubelet', 'istiod', 'postgres']) expect(names, p.region.name).toContain(always);
    }
  });

  it('copies the Patroni scope pod label onto the Postgres series (the leader alert counts primaries per site)', () => {
    expect(PATRONI_SCOPE_POD_LABEL).toBe(PATRONI_LABELS.scope);
  });

  it('declares a connection for every new scrape (the mesh chart renders the policies from it)', () => {
    for (const p of shippedPlan().regions) {
      const names = declaredConnections(p).map((c) => c.name);
      for (const n of ['prometheus-to-kube-state-metrics', 'prometheus-to-istiod', 'prometheus-to-kubelet']) expect(names, p.region.name).toContain(n);
      expect(names.includes('prometheus-to-ingress-gateway'), p.region.name).toBe(p.region.role !== 'standby');
    }
  });
});

describe('retention', () => {
  /** Every range and offset duration of an expression (`[30d]`, `offset 1w`, `[5m:1m]`). */
  const windows = (expr: string) => [
    ...[...expr.matchAll(/\[(\d+[smhdwy])(?::\d+[smhdwy])?\]/g)].map((m) => m[1]!),
    ...[...expr.matchAll(/offset (\d+[smhdwy])/g)].map((m) => m[1]!),
  ];
  const seconds = (d: string) => {
    const m = /^(\d+)([smhdwy])$/.exec(d)!;
    return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 }[m[2] as 's']!;
  };

  it('covers the longest window any dashboard panel or rule reads, in every region', () => {
    for (const p of shippedPlan().regions) {
      const retention = seconds(p.global.monitoring.prometheus.retention);
      const exprs = [
        ...dashboardExpressions(p).map((e) => e.expr),
        ...Object.values(ruleFiles(p)).flat().flatMap((g) => g.rules.map((r) => r.expr)),
      ];
      // An offset window reaches back offset + range: `rate(x[1h] offset 1w)` needs 1w1h.
      const reach = exprs.flatMap((e) => {
        const offsets = [...e.matchAll(/\[(\d+[smhdwy])\] offset (\d+[smhdwy])/g)].map((m) => seconds(m[1]!) + seconds(m[2]!));
        return [...windows(e).map(seconds), ...offsets];
      });
      const longest = Math.max(...reach);
      expect(longest, p.region.name).toBeGreaterThanOrEqual(30 * 86400); // the 30-day SLO panels exist
      expect(retention, `${p.region.name}: retention ${p.global.monitoring.prometheus.retention} < longest window ${longest} s`).toBeGreaterThanOrEqual(longest);
    }
    expect(durationToSeconds('31d')).toBe(31 * 86400);
  });
});
