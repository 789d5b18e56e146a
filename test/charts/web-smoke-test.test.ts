/**
 * The web smoke test's objects (issue 13 item 1): one Job metric of the pre-promotion analysis,
 * the suite and its plan in a ConfigMap (the plan from the region model), the pod hardened and
 * meshed, and the tester's one connection declared (so the generated policies admit exactly its
 * ServiceAccount). The suite's behaviour is tested in web-smoke-suite.test.ts.
 */
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { imageReference } from '../../charts/lib/image';
import { WebChart } from '../../charts/web/chart';
import { NODE_UID, NOT_FOUND_PATH, SMOKE_SUITE_FILE, webSmokeTestNames } from '../../charts/web/smoke-test';
import { declaredConnections } from '../../charts/wiring/connections';
import { MeshChart } from '../../charts/mesh/chart';
import { find, newApp, objectsOf, regionPlan } from '../support/charts';

const plan = regionPlan('us-east-1');
const n = webSmokeTestNames(plan);
const objects = objectsOf(new WebChart(newApp(), { plan }));
const template = find(objects, 'AnalysisTemplate', n.analysisTemplate, plan.namespaces.app);
const [metric] = template.spec.metrics;
const job = metric.provider.job;
const pod = job.spec.template;
const configMap = find(objects, 'ConfigMap', n.configMap, plan.namespaces.app);

describe('web smoke test: the AnalysisTemplate', () => {
  it('is one Job metric, run once, never retried: any failed check fails the pre-promotion analysis', () => {
    expect(template.spec.metrics).toHaveLength(1);
    expect(metric).toMatchObject({ name: 'smoke-test', count: 1, failureLimit: 0 });
    expect(job.spec.backoffLimit).toBe(0);
    // The suite's own deadline (config) plus image pull and sidecar start.
    expect(job.spec.activeDeadlineSeconds).toBe(plan.global.delivery.web.smokeTest.deadlineSeconds + 300);
  });

  it('ends before the Rollout\'s progress deadline, which keeps running during a pre-promotion analysis with automatic promotion', () => {
    const rollout = find(objects, 'Rollout', plan.names.web.rollout, plan.namespaces.app);
    // Shipped: a 300 s suite, a 600 s Job, the deadline 600 + 120 s for Argo Rollouts to create the Job and record its end.
    expect([job.spec.activeDeadlineSeconds, rollout.spec.progressDeadlineSeconds]).toEqual([600, 720]);
    expect(rollout.spec).toMatchObject({ progressDeadlineAbort: true, strategy: { blueGreen: { autoPromotionEnabled: true } } });
    // A longer suite moves the deadline with it: 1500 + 300 = 1800 s for the Job, 1920 s.
    const { delivery } = plan.global;
    const longSuite = { ...plan, global: { ...plan.global, delivery: { ...delivery, web: { ...delivery.web, smokeTest: { ...delivery.web.smokeTest, deadlineSeconds: 1500 } } } } };
    const longObjects = objectsOf(new WebChart(newApp(), { plan: longSuite }));
    expect(find(longObjects, 'AnalysisTemplate', n.analysisTemplate, plan.namespaces.app).spec.metrics[0].provider.job.spec.activeDeadlineSeconds).toBe(1800);
    expect(find(longObjects, 'Rollout', plan.names.web.rollout, plan.namespaces.app).spec.progressDeadlineSeconds).toBe(1920);
  });

  it('runs the shipped suite with its plan, from the ConfigMap, in the pinned Node.js image', () => {
    const [c] = pod.spec.containers;
    expect(pod.spec.containers).toHaveLength(1);
    expect(c.image).toBe(imageReference(plan.versions.images.node));
    expect(c.command[2]).toMatch(/\nnode \/suite\/smoke-suite\.mjs \/suite\/plan\.json$/);
    expect(pod.spec.volumes).toContainEqual({ name: 'suite', configMap: { name: n.configMap, optional: false } });
    expect(configMap.data['smoke-suite.mjs']).toBe(fs.readFileSync(SMOKE_SUITE_FILE, 'utf8'));
  });

  it('aims the plan at the preview Service and takes routes and budgets from delivery.web.smokeTest', () => {
    const p = JSON.parse(configMap.data['plan.json']);
    const smoke = plan.global.delivery.web.smokeTest;
    expect(p.target).toBe(`http://${plan.names.web.previewService}.${plan.namespaces.app}.svc.cluster.local:${plan.global.workloads.web.port}`);
    expect(p.publicHost).toBe('book.bookedbarber.com');
    expect(p.latencyBudgetMs).toBe(300);
    expect(p.maxPageBytes).toBe(512 * 1024);
    expect(p.bookingReads).toEqual(smoke.bookingReads);
    expect(p.redirects).toEqual(smoke.redirects);
    expect(p.health).toEqual({ liveness: '/healthz', readiness: '/readyz' });
    expect(p.notFound).toEqual({ path: NOT_FOUND_PATH, marker: 'Page not found' });
  });

  it('pod is hardened (restricted, resources, no token, never restarted), meshed, and quits its sidecar on exit', () => {
    const [c] = pod.spec.containers;
    expect(pod.spec.serviceAccountName).toBe(n.serviceAccount);
    expect(pod.spec.automountServiceAccountToken).toBe(false);
    expect(pod.spec.restartPolicy).toBe('Never');
    expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: NODE_UID, seccompProfile: { type: 'RuntimeDefault' } });
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(c.resources.requests.cpu).toBeDefined();
    expect(c.resources.limits.memory).toBeDefined();
    expect(c.command[2]).toMatch(/^trap 'wget .*quitquitquit.*' EXIT\n/);
    expect(pod.metadata.annotations['sidecar.istio.io/inject']).not.toBe('false');
    expect(pod.metadata.annotations['proxy.istio.io/config']).toContain('holdApplicationUntilProxyStarts');
  });
});

describe('web smoke test: wiring', () => {
  it('declares the tester to the preview Service on the web port, under its own ServiceAccount', () => {
    const c = declaredConnections(plan).find((x) => x.name === 'web-smoke-test-to-web-preview')!;
    expect(c).toBeDefined();
    expect(c.from).toMatchObject({ namespace: plan.namespaces.app, serviceAccount: n.serviceAccount, podLabels: n.selectorLabels, meshed: true });
    expect(c.to).toMatchObject({ kind: 'service', host: `${plan.names.web.previewService}.${plan.namespaces.app}.svc.cluster.local`, port: plan.global.workloads.web.port });
    expect(pod.metadata.labels).toMatchObject(n.selectorLabels);
    expect(n.serviceAccount).not.toBe(plan.names.web.serviceAccount);
    // Nobody else is declared to the preview: it is the tester's alone.
    expect(declaredConnections(plan).filter((x) => x.to.kind === 'service' && x.to.host.startsWith(`${plan.names.web.previewService}.`)).map((x) => x.name))
      .toEqual(['web-smoke-test-to-web-preview']);
  });
});

describe('web smoke test: what the app sees', () => {
  it('the tester\'s sidecar rewrites the Host to the public host, for the preview only, as every route retries', () => {
    const mesh = objectsOf(new MeshChart(newApp(), { plan }));
    const previewHost = `${plan.names.web.previewService}.${plan.namespaces.app}.svc.cluster.local`;
    const vs = mesh.filter((o) => o.kind === 'VirtualService' && o.spec.hosts.includes(previewHost));
    expect(vs).toHaveLength(1);
    expect(vs[0].spec.gateways).toEqual(['mesh']);
    expect(vs[0].spec.exportTo).toEqual(['.']);
    const [route] = vs[0].spec.http;
    expect(route.rewrite).toEqual({ authority: plan.global.ingress.webHost });
    expect(route.route).toEqual([{ destination: { host: previewHost, port: { number: plan.global.workloads.web.port } } }]);
    expect(route.retries.retryOn).toBe('connect-failure,refused-stream,reset-before-request');
  });
});
