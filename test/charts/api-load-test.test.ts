/**
 * The API canary's load test (issue 13 item 2): a k6 Job metric against the canary Service,
 * thresholds from the region model, the script in a ConfigMap, the pod hardened and meshed, the
 * tester's connection declared. k6 is not installed here: the script is parsed with
 * `node --check` as an ES module (parse only; the k6/* imports are never resolved).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiChart } from '../../charts/api/chart';
import { apiLoadTestNames, errorBudget, K6_UID, renderLoadTestScript } from '../../charts/api/load-test';
import { declaredConnections } from '../../charts/wiring/connections';
import { imageReference } from '../../charts/lib/image';
import type { RegionPlan } from '../../regions/plan';
import { find, newApp, objectsOf, regionPlan } from '../support/charts';

const plan = regionPlan('us-east-1');
const n = apiLoadTestNames(plan);
const objects = objectsOf(new ApiChart(newApp(), { plan }));
const template = find(objects, 'AnalysisTemplate', n.analysisTemplate);
const metric = template.spec.metrics[0];
const job = metric.provider.job;
const pod = job.spec.template;
const script: string = find(objects, 'ConfigMap', n.configMap).data['load-test.js'];

function withApi(change: (api: RegionPlan['global']['delivery']['api']) => RegionPlan['global']['delivery']['api']): RegionPlan {
  const g = plan.global;
  return { ...plan, global: { ...g, delivery: { ...g.delivery, api: change(g.delivery.api) } } };
}

function parsesAsModule(js: string): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k6-script-'));
  const file = path.join(dir, 'load-test.mjs');
  fs.writeFileSync(file, js);
  try {
    execFileSync(process.execPath, ['--check', file], { stdio: 'pipe' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('API load test: the script', () => {
  it('takes its thresholds and rate from the region model (shipped: p95 <= 100 ms, failed <= 0.001, 200 rps for 2m)', () => {
    expect(plan.global.delivery.api.analysis.maxLatencyP95Ms).toBe(100);
    expect(plan.global.delivery.api.analysis.minSuccessRate).toBe(0.999);
    expect(script).toContain('"threshold": "p(95)<=100"');
    expect(script).toContain('"threshold": "rate<=0.001"');
    expect(script).toContain('"executor": "constant-arrival-rate"');
    expect(script).toContain('"rate": 200');
    expect(script).toContain('"timeUnit": "1s"');
    expect(script).toContain('"duration": "2m"');
    expect(script).toContain('const PATHS = ["/readyz","/healthz"];');
    expect(script).toContain("import http from 'k6/http';");
  });

  it('follows changed config', () => {
    const js = renderLoadTestScript(withApi((api) => ({
      ...api,
      analysis: { ...api.analysis, maxLatencyP95Ms: 250, minSuccessRate: 0.995 },
      loadTest: { requestsPerSecond: 37, duration: '5m', paths: ['/v1/shops'] },
    })).global.delivery.api);
    expect(js).toContain('"threshold": "p(95)<=250"');
    expect(js).toContain('"threshold": "rate<=0.005"');
    expect(js).toContain('"rate": 37');
    expect(js).toContain('"duration": "5m"');
    expect(js).toContain('const PATHS = ["/v1/shops"];');
  });

  it('error budget is 1 - minSuccessRate without floating-point noise', () => {
    expect(errorBudget(0.999)).toBe(0.001);
    expect(errorBudget(0.9995)).toBe(0.0005);
    expect(errorBudget(0.99)).toBe(0.01);
  });

  it('parses as an ES module (node --check; k6 is not installed here)', () => {
    expect(() => parsesAsModule(script)).not.toThrow();
    expect(() => parsesAsModule(`${script}\nexport default function (`)).toThrow();
  });
});

describe('API load test: the AnalysisTemplate', () => {
  it('is one Job metric, run once, that fails the step on the first failure', () => {
    expect(template.spec.metrics).toHaveLength(1);
    expect(metric).toMatchObject({ name: 'load-test', count: 1, failureLimit: 0 });
    expect(job.spec.backoffLimit).toBe(0);
    expect(job.spec.activeDeadlineSeconds).toBeGreaterThan(120);
    expect(template.metadata.namespace).toBe(plan.namespaces.app);
  });

  it('drives the canary Service alone, on the API port, with the pinned k6 image and the script ConfigMap', () => {
    const [c] = pod.spec.containers;
    expect(pod.spec.containers).toHaveLength(1);
    expect(c.image).toBe(imageReference(plan.versions.images.k6));
    expect(c.env).toEqual([{ name: 'TARGET_URL', value: `http://${plan.names.api.canaryService}.${plan.namespaces.app}.svc.cluster.local:${plan.global.workloads.api.port}` }]);
    expect(c.command.join(' ')).toContain('k6 run --no-usage-report --quiet /scripts/load-test.js');
    expect(pod.spec.volumes).toContainEqual({ name: 'script', configMap: { name: n.configMap, optional: false } });
  });

  it('pod is hardened (restricted, resources, no token, never restarted) and quits its sidecar on exit', () => {
    const [c] = pod.spec.containers;
    expect(pod.spec.serviceAccountName).toBe(n.serviceAccount);
    expect(pod.spec.automountServiceAccountToken).toBe(false);
    expect(pod.spec.restartPolicy).toBe('Never');
    expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: K6_UID, seccompProfile: { type: 'RuntimeDefault' } });
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(c.resources.requests.cpu).toBeDefined();
    expect(c.resources.limits.memory).toBeDefined();
    expect(c.livenessProbe).toBeUndefined();
    expect(c.command[2]).toMatch(/^trap '.*quitquitquit.*' EXIT\n/);
    expect(pod.metadata.annotations['proxy.istio.io/config']).toContain('holdApplicationUntilProxyStarts');
  });
});

describe('API load test: wiring', () => {
  it('declares the tester to the canary Service on the API port, under its own ServiceAccount', () => {
    const c = declaredConnections(plan).find((x) => x.name === 'api-load-test-to-api-canary')!;
    expect(c).toBeDefined();
    expect(c.from).toMatchObject({ namespace: plan.namespaces.app, serviceAccount: n.serviceAccount, podLabels: n.selectorLabels, meshed: true });
    expect(c.to).toMatchObject({ kind: 'service', host: `${plan.names.api.canaryService}.${plan.namespaces.app}.svc.cluster.local`, port: plan.global.workloads.api.port });
    expect(pod.metadata.labels).toMatchObject(n.selectorLabels);
    expect(n.serviceAccount).not.toBe(plan.names.api.serviceAccount);
  });
});
