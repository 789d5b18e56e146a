/**
 * The shared HPA + VPA construct (charts/lib/autoscaling.ts). Guards issue #3 item 3: HPA
 * autoscaling/v2 on the Rollout, CPU + requests per second, fast up / slow down, VPA in
 * recommendation mode with bounds and the sidecar left alone.
 */
import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { describe, expect, it } from 'vitest';
import { ISTIO_PROXY_CONTAINER, PROMETHEUS_ADAPTER_RULE, REQUESTS_PER_SECOND_METRIC, WorkloadAutoscaling, type WorkloadAutoscalingProps } from '../../charts/lib/autoscaling';
import { hardenedPodTemplate } from '../../charts/lib/hardened-pod';
import { WorkloadDisruptionBudget } from '../../charts/lib/hardened-workload';
import { rolloutObject } from '../../charts/lib/http-service';
import { regionLabels } from '../../charts/lib/metadata';
import { NamespacesChart } from '../../charts/namespaces/chart';
import { validateObjects } from '../../tools/validate';
import { find, newApp, objectsOf, regionPlan, type Obj } from '../support/charts';
import { workloadProps } from '../support/workloads';

const plan = regionPlan('us-east-1');
const ns = plan.namespaces.app;
const selector = { 'app.kubernetes.io/name': 'demo', 'app.kubernetes.io/instance': 'demo-us-east-1', 'app.kubernetes.io/component': 'backend' };

function props(overrides: Partial<WorkloadAutoscalingProps> = {}): WorkloadAutoscalingProps {
  return {
    name: 'bookedbarber-demo',
    namespace: ns,
    labels: selector,
    target: { name: 'bookedbarber-demo' },
    minReplicas: 3,
    maxReplicas: 30,
    container: 'demo',
    targetCpuUtilization: 65,
    targetRequestsPerSecond: 40,
    vpaMinAllowed: { cpu: '100m', memory: '128Mi' },
    vpaMaxAllowed: { cpu: '2', memory: '2Gi' },
    ...overrides,
  };
}

function render(p: WorkloadAutoscalingProps): Obj[] {
  const chart = new Chart(newApp(), 'autoscaling', { labels: regionLabels(plan), disableResourceNameHashes: true });
  new WorkloadAutoscaling(chart, 'scaling', p);
  return objectsOf(chart);
}

describe('WorkloadAutoscaling: HPA', () => {
  const objects = render(props());
  const hpa = find(objects, 'HorizontalPodAutoscaler', 'bookedbarber-demo', ns);

  it('is autoscaling/v2 and targets the Argo Rollout by default', () => {
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'bookedbarber-demo' });
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([3, 30]);
  });

  it("scales on the app container's CPU (not the sidecar's) and on requests per second per pod", () => {
    expect(hpa.spec.metrics).toEqual([
      { type: 'ContainerResource', containerResource: { name: 'cpu', container: 'demo', target: { type: 'Utilization', averageUtilization: 65 } } },
      { type: 'Pods', pods: { metric: { name: 'istio_requests_per_second' }, target: { type: 'AverageValue', averageValue: '40' } } },
    ]);
  });

  it('scales up at once (no stabilisation, the larger step wins) and down slowly (5 min window, at most 10 % a minute)', () => {
    const { scaleUp, scaleDown } = hpa.spec.behavior;
    expect(scaleUp.stabilizationWindowSeconds).toBe(0);
    expect(scaleUp.selectPolicy).toBe('Max');
    expect(scaleUp.policies).toEqual([
      { type: 'Percent', value: 100, periodSeconds: 15 },
      { type: 'Pods', value: 4, periodSeconds: 15 },
    ]);
    expect(scaleDown.stabilizationWindowSeconds).toBe(300);
    expect(scaleDown.policies).toEqual([{ type: 'Percent', value: 10, periodSeconds: 60 }]);
  });

  it('lands after the workload (sync wave "scaling")', () => {
    expect(hpa.metadata.annotations['argocd.argoproj.io/sync-wave']).toBe('5');
  });

  it('serves the Pods metric through a prometheus-adapter rule of the same name, over the server-side sidecar counter', () => {
    expect(PROMETHEUS_ADAPTER_RULE.name.as).toBe(REQUESTS_PER_SECOND_METRIC);
    expect(PROMETHEUS_ADAPTER_RULE.seriesQuery).toContain('istio_requests_total{');
    expect(PROMETHEUS_ADAPTER_RULE.seriesQuery).toContain('reporter="destination"');
    expect(Object.keys(PROMETHEUS_ADAPTER_RULE.resources.overrides).sort()).toEqual(['namespace', 'pod']);
    expect(PROMETHEUS_ADAPTER_RULE.metricsQuery).toMatch(/^sum\(rate\(<<\.Series>>\{<<\.LabelMatchers>>\}\[2m\]\)\) by \(<<\.GroupBy>>\)$/);
  });

  it('takes other behaviour when asked', () => {
    const custom = find(render(props({ scaleUp: { percent: 50, pods: 10, periodSeconds: 30 }, scaleDown: { stabilizationWindowSeconds: 600, percent: 5 } })), 'HorizontalPodAutoscaler', 'bookedbarber-demo').spec.behavior;
    expect(custom.scaleUp.policies).toEqual([{ type: 'Percent', value: 50, periodSeconds: 30 }, { type: 'Pods', value: 10, periodSeconds: 30 }]);
    expect(custom.scaleDown).toMatchObject({ stabilizationWindowSeconds: 600, policies: [{ type: 'Percent', value: 5, periodSeconds: 60 }] });
  });
});

describe('WorkloadAutoscaling: VPA', () => {
  const vpa = find(render(props()), 'VerticalPodAutoscaler', 'bookedbarber-demo', ns);

  it('only recommends (updateMode Off), because the HPA already scales on CPU', () => {
    expect(vpa.apiVersion).toBe('autoscaling.k8s.io/v1');
    expect(vpa.spec.updatePolicy).toEqual({ updateMode: 'Off' });
    expect(vpa.spec.targetRef).toEqual({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'bookedbarber-demo' });
  });

  it('bounds the app container and leaves the istio-proxy sidecar alone', () => {
    expect(vpa.spec.resourcePolicy.containerPolicies).toEqual([
      { containerName: 'demo', controlledResources: ['cpu', 'memory'], minAllowed: { cpu: '100m', memory: '128Mi' }, maxAllowed: { cpu: '2', memory: '2Gi' } },
      { containerName: ISTIO_PROXY_CONTAINER, mode: 'Off' },
    ]);
  });
});

describe('WorkloadAutoscaling refuses inconsistent props, naming the values', () => {
  const cases: Array<[string, Partial<WorkloadAutoscalingProps>, RegExp]> = [
    ['min above max', { minReplicas: 60, maxReplicas: 50 }, /minReplicas \(60\) must be <= maxReplicas \(50\)/],
    ['no pods', { minReplicas: 0 }, /minReplicas \(0\) must be >= 1/],
    ['CPU target above 100 %', { targetCpuUtilization: 120 }, /targetCpuUtilization \(120\)/],
    ['VPA bounds crossed', { vpaMinAllowed: { cpu: '3', memory: '128Mi' } }, /minAllowed\.cpu \(3\) must be <= maxAllowed\.cpu \(2\)/],
    ['app container excluded', { vpaExcludedContainers: ['demo'] }, /cannot be both autoscaled and excluded/],
  ];
  for (const [what, overrides, message] of cases) {
    it(what, () => expect(() => render(props(overrides))).toThrow(message));
  }
});

describe('WorkloadAutoscaling output and the validator', () => {
  it('passes every schema, policy and reference rule next to a Rollout it targets (no findings)', () => {
    const app = newApp();
    const namespaces = new NamespacesChart(app, { plan });
    const chart = new Chart(app, 'demo', { labels: regionLabels(plan), disableResourceNameHashes: true });
    const versioned = { ...selector, 'app.kubernetes.io/version': '1.2.3' };
    const template = hardenedPodTemplate(
      workloadProps({ selectorLabels: selector, spreadMatchLabelKeys: ['rollouts-pod-template-hash'], containers: [{ ...workloadProps().containers[0], writablePaths: [] }] }),
    );
    rolloutObject(chart, 'rollout', {
      metadata: { name: 'bookedbarber-demo', namespace: ns, labels: versioned },
      spec: { selector: { matchLabels: selector }, strategy: { canary: { steps: [{ setWeight: 50 }] } } },
      template,
    });
    new k8s.KubeServiceAccount(chart, 'sa', { metadata: { name: 'bookedbarber-demo', namespace: ns, labels: selector }, automountServiceAccountToken: false });
    new WorkloadDisruptionBudget(chart, 'pdb', { name: 'bookedbarber-demo', namespace: ns, labels: versioned, selectorLabels: selector });
    new WorkloadAutoscaling(chart, 'scaling', props());
    const objects = [...objectsOf(namespaces), ...objectsOf(chart)].map((object, index) => ({ file: 'dist/us-east-1/demo.yaml', index, object, region: 'us-east-1' }));
    const report = validateObjects(objects, {});
    expect(report.findings).toEqual([]);
    expect(report.objects).toBe(objects.length);
  });
});
