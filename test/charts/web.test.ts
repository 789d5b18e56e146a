/**
 * The web chart: blue-green release gated by smoke tests (pre-promotion) and traffic analysis (post-promotion), autoscaling.
 * Guards issue #3 items 2, 3 and 6.
 */
import { serving } from '../../regions/plan';
import { balanced, promqlErrors } from '../support/promql';
import { describe, expect, it } from 'vitest';
import { REVISION_LABEL } from '../../charts/lib/http-service';
import { NamespacesChart } from '../../charts/namespaces/chart';
import { WebChart } from '../../charts/web/chart';
import { ApiChart } from '../../charts/api/chart';
import { MonitoringChart } from '../../charts/monitoring/chart';
import { TracingChart } from '../../charts/tracing/chart';
import { StorageChart } from '../../charts/storage/chart';
import { RedisChart } from '../../charts/redis/chart';
import { ShardMapChart } from '../../charts/shard-map/chart';
import { MeshChart } from '../../charts/mesh/chart';
import { PgbouncerChart } from '../../charts/pgbouncer/chart';
import { PostgresChart } from '../../charts/postgres/chart';
import { webSmokeTestNames } from '../../charts/web/smoke-test';
import type { RegionPlan } from '../../regions/plan';
import { validateObjects } from '../../tools/validate';
import { find, newApp, objectsOf, regionPlan, shippedPlan, type Obj } from '../support/charts';

const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-1'];

function render(plan: RegionPlan): Obj[] {
  return objectsOf(new WebChart(newApp(), { plan }));
}

function withWebDelivery(delivery: Partial<RegionPlan['global']['delivery']['web']>, analysis: Partial<RegionPlan['global']['delivery']['web']['analysis']> = {}): RegionPlan {
  const base = regionPlan('us-east-1');
  const g = base.global;
  return {
    ...base,
    global: { ...g, delivery: { ...g.delivery, web: { ...g.delivery.web, ...delivery, analysis: { ...g.delivery.web.analysis, ...analysis } } } },
  };
}


const plan = regionPlan('us-east-1');
const names = plan.names.web;
const ns = plan.namespaces.app;
const objects = render(plan);
const rollout = find(objects, 'Rollout', names.rollout, ns);
const blueGreen = rollout.spec.strategy.blueGreen;
const template = find(objects, 'AnalysisTemplate', names.analysisTemplate, ns);
const revision = rollout.spec.template.metadata.labels[REVISION_LABEL];
const argsOf = (analysis: any) => Object.fromEntries(analysis.args.map((a: any) => [a.name, a.value]));

describe('WebChart: blue-green promotion', () => {
  it('promotes automatically, but only after the smoke tests of the preview stack passed (not a traffic gate: nothing but the tester reaches the preview)', () => {
    expect(rollout.spec.strategy.canary).toBeUndefined();
    expect(blueGreen.autoPromotionEnabled).toBe(true);
    // autoPromotionSeconds would mark a still-running pre-promotion analysis successful.
    expect(blueGreen.autoPromotionSeconds).toBeUndefined();
    expect(blueGreen.prePromotionAnalysis).toEqual({ templates: [{ templateName: webSmokeTestNames(plan).analysisTemplate }] });
    const smoke = find(objects, 'AnalysisTemplate', webSmokeTestNames(plan).analysisTemplate, ns);
    expect(smoke.spec.metrics.map((m: any) => Object.keys(m.provider))).toEqual([['job']]);
  });

  it('analyses the new stack again on real traffic after promotion, failing closed when it sees none', () => {
    expect(blueGreen.postPromotionAnalysis.templates).toEqual([{ templateName: names.analysisTemplate }]);
    expect(argsOf(blueGreen.postPromotionAnalysis)).toEqual({ revision });
  });

  it('keeps the old stack for scaleDownDelaySeconds from config, for an instant switch back', () => {
    expect(blueGreen.scaleDownDelaySeconds).toBe(600);
    expect(find(render(withWebDelivery({ scaleDownDelaySeconds: 900 })), 'Rollout', names.rollout).spec.strategy.blueGreen.scaleDownDelaySeconds).toBe(900);
  });

  it('refuses a post-promotion analysis that outlasts the scale-down delay (Argo Rollouts would cancel it)', () => {
    expect(() => render(withWebDelivery({ scaleDownDelaySeconds: 300 }))).toThrow(
      /web post-promotion analysis takes 360s \(initial delay \+ 5 x 1m\), which must be shorter than delivery\.web\.scaleDownDelaySeconds \(300\)/,
    );
  });

  it('runs the preview at full size, scales an aborted preview down, and aborts a stack that never becomes ready', () => {
    expect(blueGreen.previewReplicaCount).toBeUndefined();
    expect(blueGreen.abortScaleDownDelaySeconds).toBeGreaterThan(0);
    expect(rollout.spec.progressDeadlineAbort).toBe(true);
    expect(rollout.spec.replicas).toBeUndefined();
  });

  it('names active and preview Services that exist in the chart and select the web pods', () => {
    const podLabels = rollout.spec.template.metadata.labels;
    for (const service of [blueGreen.activeService, blueGreen.previewService]) {
      const svc = find(objects, 'Service', service, ns);
      for (const [k, v] of Object.entries(svc.spec.selector)) expect(podLabels[k]).toBe(v);
      expect(svc.spec.ports.map((p: any) => [p.name, p.port, p.appProtocol])).toEqual([
        ['http', plan.global.workloads.web.port, 'http'],
        ['http-metrics', names.metricsPort, 'http'],
      ]);
    }
    expect([blueGreen.activeService, blueGreen.previewService]).toEqual([names.activeService, names.previewService]);
  });
});

describe('WebChart: release analysis', () => {
  it('takes its thresholds from config (success rate >= 0.999, p95 < 300 ms), and no traffic fails', () => {
    expect(template.spec.metrics.map((m: any) => m.successCondition)).toEqual([
      '(len(result) == 0 || isNaN(result[0])) ? false : result[0] >= 0.999',
      '(len(result) == 0 || isNaN(result[0])) ? false : result[0] < 300',
    ]);
    const changed = find(render(withWebDelivery({}, { minSuccessRate: 0.99, maxLatencyP95Ms: 500, failureLimit: 2 })), 'AnalysisTemplate', names.analysisTemplate);
    expect(changed.spec.metrics[0].successCondition).toContain('result[0] >= 0.99');
    expect(changed.spec.metrics[1].successCondition).toContain('result[0] < 500');
    expect(changed.spec.metrics.map((m: any) => m.failureLimit)).toEqual([2, 2]);
  });

  it('declares its arguments', () => {
    expect(template.spec.args).toEqual([{ name: 'revision' }]);
  });

  it('scopes every (balanced, parseable) query to the web pods (canonical service, never a Service name) and the new revision, on server-side reports', () => {
    for (const m of template.spec.metrics) {
      const q: string = m.provider.prometheus.query;
      expect(m.provider.prometheus.address).toBe(plan.names.monitoring.prometheusUrl);
      const selectors = [...q.matchAll(/istio_[a-z_]+\{(.*?)\}\[/g)].map((x) => x[1]);
      expect(selectors.length).toBe(m.name === 'success-rate' ? 2 : 1);
      for (const s of selectors) {
        expect(s).toContain('reporter="destination"');
        expect(s).toContain(`destination_workload_namespace="${ns}"`);
        expect(s).toContain('destination_canonical_service="web"');
        expect(s).not.toContain('destination_service_name');
        expect(s).toContain('destination_canonical_revision="{{args.revision}}"');
      }
      expect(balanced(q)).toBe(true);
      expect(promqlErrors(q)).toEqual([]);
    }
  });
});

describe('WebChart: autoscaling and availability', () => {
  it("bounds the HPA by each region's config and targets the Rollout", () => {
    for (const region of REGIONS) {
      const p = shippedPlan().regions.find((r) => r.region.name === region)!;
      const hpa = find(render(p), 'HorizontalPodAutoscaler', names.rollout, ns);
      expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([serving(p).autoscaling.web.minReplicas, serving(p).autoscaling.web.maxReplicas]);
      expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: names.rollout });
    }
  });

  it('recommends sizes only (VPA Off) within the configured bounds', () => {
    const vpa = find(objects, 'VerticalPodAutoscaler', names.rollout, ns);
    expect(vpa.spec.updatePolicy.updateMode).toBe('Off');
    expect(vpa.spec.resourcePolicy.containerPolicies[0]).toMatchObject({ containerName: 'web', ...plan.global.workloads.web.vpa });
  });

  it('spreads pods over zones (every revision counted) and hosts (per revision), and budgets disruptions over the Rollout pods', () => {
    // The hard zone spread counts every revision (as Karpenter does); the soft host spread each one.
    const [zone, host] = rollout.spec.template.spec.topologySpreadConstraints;
    expect(zone).toMatchObject({ topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' });
    expect(zone.matchLabelKeys).toBeUndefined();
    expect(host).toMatchObject({ topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', matchLabelKeys: ['rollouts-pod-template-hash'] });
    const pdb = find(objects, 'PodDisruptionBudget', names.rollout, ns);
    expect(pdb.spec.maxUnavailable).toBe('10%');
    expect(pdb.spec.selector.matchLabels).toEqual(rollout.spec.selector.matchLabels);
  });

  it('sizes the istio-proxy sidecar from config', () => {
    expect(rollout.spec.template.metadata.annotations['sidecar.istio.io/proxyMemoryLimit']).toBe(plan.global.mesh.sidecar.limits.memory);
  });
});

describe('WebChart output and the validator', () => {
  it('passes every schema, policy and reference rule in every region (no findings)', () => {
    for (const region of REGIONS) {
      const p = shippedPlan().regions.find((r) => r.region.name === region)!;
      const app = newApp();
      // What its env names (ref-config-endpoint): the API's Service (with what the API needs
      // itself: the mesh routes, the Redis client Secrets, the shard map and its PgBouncers), and
      // the resources behind Prometheus' and the trace collector's operator-made Services.
      const charts = [
        new NamespacesChart(app, { plan: p }), new StorageChart(app, { plan: p }), new RedisChart(app, { plan: p }), new ShardMapChart(app, { plan: p }),
        new MeshChart(app, { plan: p }), new WebChart(app, { plan: p }), new ApiChart(app, { plan: p }), new PgbouncerChart(app, { plan: p }), new PostgresChart(app, { plan: p }),
        new MonitoringChart(app, { plan: p }), new TracingChart(app, { plan: p }),
      ];
      const loaded = charts.flatMap((c) => objectsOf(c).map((object, index) => ({ file: `dist/${region}/${c.node.id}.yaml`, index, object, region })));
      const report = validateObjects(loaded, {});
      expect(report.findings).toEqual([]);
      expect(report.objects).toBe(loaded.length);
    }
  });
});
