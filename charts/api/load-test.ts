/**
 * The load test that gates the API canary before it goes past 50 %: an Argo Rollouts
 * AnalysisTemplate whose one metric is a Job (metric passes when the Job exits 0) running k6
 * against the canary Service alone (Argo Rollouts points it at the canary pods only), at the
 * constant arrival rate of `delivery.api.loadTest`. The thresholds are the API's release budget
 * (`delivery.api.analysis`): k6 exits non-zero (99) when p95 > maxLatencyP95Ms or the share of
 * failed requests > 1 - minSuccessRate, the metric fails and the release is aborted.
 *
 * The script is rendered into a ConfigMap; the Job runs in the Rollout's namespace (where
 * Argo Rollouts creates AnalysisRun Jobs) under its own ServiceAccount, which the wiring
 * declaration (charts/wiring/connections.ts) admits to the canary Service and nothing else.
 */
import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { AnalysisTemplate } from '../../imports/analysistemplate-argoproj.io';
import type { GlobalConfig } from '../../regions/model';
import type { RegionPlan } from '../../regions/plan';
import { serviceHost } from '../../regions/wiring';
import { durationToSeconds } from '../lib/promql';
import { hardenedPodTemplate } from '../lib/hardened-pod';
import { LABELS } from '../lib/labels';
import { sidecarAnnotations } from '../lib/http-service';
import { appLabels, SYNC_WAVE, syncWave } from '../lib/metadata';
import { quitSidecarOnExit, runToCompletion } from '../lib/job-pod';

/** UID of the k6 image's `k6` user. */
export const K6_UID = 12345;
const CONTAINER = 'k6';
const COMPONENT = 'load-test';
const SCRIPT_KEY = 'load-test.js';
const SCRIPT_DIR = '/scripts';

/** The canary weight the load test must run before exceeding (issue 13: "before it goes past 50 %"). */
export const LOAD_TEST_BEFORE_WEIGHT_ABOVE = 50;

/** Names of the load test's objects, shared with the wiring peers. */
export function apiLoadTestNames(plan: RegionPlan) {
  const base = `${plan.names.api.rollout}-load-test`;
  return {
    analysisTemplate: base,
    configMap: `${base}-script`,
    serviceAccount: base,
    /** Pod labels of the Job (the peer the wiring declares). */
    selectorLabels: appLabels(plan, `${plan.names.api.app}-load-test`, COMPONENT),
    targetUrl: `http://${serviceHost(plan.names.api.canaryService, plan.namespaces.app)}:${plan.global.workloads.api.port}`,
  } as const;
}

/** 1 - minSuccessRate without floating-point noise (0.999 → 0.001, not 0.0010000000000000009). */
export function errorBudget(minSuccessRate: number): number {
  return Number((1 - minSuccessRate).toPrecision(12));
}

/** VUs k6 keeps ready: enough for the rate at four times the p95 budget, at least 10. */
export function preAllocatedVus(requestsPerSecond: number, maxLatencyP95Ms: number): number {
  return Math.max(10, Math.ceil((requestsPerSecond * maxLatencyP95Ms * 4) / 1000));
}

/**
 * The k6 script (ES module). Thresholds pass while p95 <= the budget and the failed share
 * (non-2xx/3xx or no response) <= the error budget; `abortOnFail` stops a canary that is
 * clearly over budget early instead of loading it for the whole duration.
 */
export function renderLoadTestScript(delivery: GlobalConfig['delivery']['api']): string {
  const { loadTest, analysis } = delivery;
  const vus = preAllocatedVus(loadTest.requestsPerSecond, analysis.maxLatencyP95Ms);
  const options = {
    discardResponseBodies: true,
    // Only the gate decides; no summary export, no usage report (no egress but the canary).
    scenarios: {
      canary: {
        executor: 'constant-arrival-rate',
        rate: loadTest.requestsPerSecond,
        timeUnit: '1s',
        duration: loadTest.duration,
        preAllocatedVUs: vus,
        maxVUs: vus * 4,
      },
    },
    thresholds: {
      http_req_duration: [{ threshold: `p(95)<=${analysis.maxLatencyP95Ms}`, abortOnFail: true, delayAbortEval: '30s' }],
      http_req_failed: [{ threshold: `rate<=${errorBudget(analysis.minSuccessRate)}`, abortOnFail: true, delayAbortEval: '30s' }],
    },
  };
  return [
    '// Rendered by charts/api/load-test.ts from delivery.api.loadTest and delivery.api.analysis.',
    "import http from 'k6/http';",
    "import { check } from 'k6';",
    '',
    `export const options = ${JSON.stringify(options, null, 2)};`,
    '',
    'const TARGET = __ENV.TARGET_URL;',
    `const PATHS = ${JSON.stringify(loadTest.paths)};`,
    '',
    'export default function () {',
    '  const path = PATHS[__ITER % PATHS.length];',
    "  const res = http.get(TARGET + path, { tags: { name: path }, timeout: '10s' });",
    "  check(res, { 'status is 2xx': (r) => r.status >= 200 && r.status < 300 });",
    '}',
    '',
  ].join('\n');
}

/**
 * The container's command: k6 runs the script; on exit (pass or fail) the sidecar is asked to
 * quit, or it would keep the Job's pod running (the k6 image has busybox wget, not curl).
 */
export function loadTestCommand(): string[] {
  return [
    '/bin/sh', '-c',
    [
      quitSidecarOnExit('busybox-wget'),
      `k6 run --no-usage-report --quiet ${SCRIPT_DIR}/${SCRIPT_KEY}`,
    ].join('\n'),
  ];
}

export interface ApiLoadTestProps {
  readonly plan: RegionPlan;
  readonly wave?: number;
}

export class ApiLoadTest extends Construct {
  readonly templateName: string;
  readonly script: string;

  constructor(scope: Construct, id: string, props: ApiLoadTestProps) {
    super(scope, id);
    const { plan } = props;
    const { global, region } = plan;
    const ns = plan.namespaces.app;
    const n = apiLoadTestNames(plan);
    const image = plan.versions.images.k6;
    const labels = { ...n.selectorLabels };
    const meta = (name: string) => ({ name, namespace: ns, labels, annotations: syncWave(props.wave ?? SYNC_WAVE.config) });
    const delivery = global.delivery.api;
    this.templateName = n.analysisTemplate;
    this.script = renderLoadTestScript(delivery);

    new k8s.KubeServiceAccount(this, 'service-account', {
      metadata: meta(n.serviceAccount),
      // k6 calls the canary Service, never the Kubernetes API.
      automountServiceAccountToken: false,
    });
    new k8s.KubeConfigMap(this, 'script', { metadata: meta(n.configMap), data: { [SCRIPT_KEY]: this.script } });

    const scriptVolume = 'script';
    const template = runToCompletion(hardenedPodTemplate({
      selectorLabels: labels,
      region: region.name,
      partOf: global.platform.name,
      version: image.version,
      serviceAccountName: n.serviceAccount,
      runAsUser: K6_UID,
      annotations: {
        // Meshed (mTLS to the canary, admitted by ServiceAccount): the sidecar sized like every
        // other, and k6 held until Envoy is ready.
        ...sidecarAnnotations(global.mesh.sidecar),
        'kubectl.kubernetes.io/default-container': CONTAINER,
      },
      volumes: [{ name: scriptVolume, configMap: { name: n.configMap, optional: false } }],
      containers: [{
        name: CONTAINER,
        image,
        command: loadTestCommand(),
        env: [{ name: 'TARGET_URL', value: n.targetUrl }],
        resources: { requests: { cpu: '500m', memory: '256Mi' }, limits: { memory: '512Mi' } },
        // hardenedPodTemplate requires probes of serving containers; runToCompletion removes them.
        livenessProbe: { exec: { command: ['true'] } },
        readinessProbe: { exec: { command: ['true'] } },
        writablePaths: ['/tmp', '/home/k6'],
        volumeMounts: [{ name: scriptVolume, mountPath: SCRIPT_DIR, readOnly: true }],
      }],
    }));
    const durationSeconds = durationToSeconds(delivery.loadTest.duration);

    new ApiObject(this, 'analysis', {
      ...AnalysisTemplate.GVK,
      metadata: meta(n.analysisTemplate),
      spec: {
        metrics: [{
          name: 'load-test',
          // One run: the Job's exit status is the verdict (0 passes, k6's 99 = thresholds crossed).
          count: 1,
          failureLimit: 0,
          provider: {
            job: {
              metadata: { labels: { ...labels, [LABELS.version]: image.version } },
              spec: {
                // A failed load test is a verdict, not a flake to retry into a pass.
                backoffLimit: 0,
                // The run, plus time to pull the image and for a slow canary to be cut off.
                activeDeadlineSeconds: durationSeconds + 300,
                ttlSecondsAfterFinished: 24 * 3600,
                template: k8s.toJson_PodTemplateSpec(template),
              },
            },
          },
        }],
      },
    });
  }
}
