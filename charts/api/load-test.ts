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
import { Construct } from 'constructs';
import { RELEASE_GATE_JOBS } from '../../regions/capacity';
import type { GlobalConfig } from '../../regions/model';
import type { RegionPlan } from '../../regions/plan';
import { serviceHost } from '../../regions/wiring';
import { AnalysisJob, analysisJobNames } from '../lib/analysis-job';
import { quitSidecarOnExit } from '../lib/job-pod';
import { durationToSeconds } from '../lib/promql';

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
  return {
    ...analysisJobNames(plan, plan.names.api, COMPONENT, 'script'),
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
  /** Argo CD sync wave of the objects. @default SYNC_WAVE.config — in place before the Rollout that runs them */
  readonly wave?: number;
}

export class ApiLoadTest extends Construct {
  readonly templateName: string;
  readonly script: string;

  constructor(scope: Construct, id: string, props: ApiLoadTestProps) {
    super(scope, id);
    const { plan } = props;
    const n = apiLoadTestNames(plan);
    const delivery = plan.global.delivery.api;
    this.script = renderLoadTestScript(delivery);
    const gate = new AnalysisJob(this, 'gate', {
      plan,
      names: n,
      // 0 passes, k6's 99 = thresholds crossed.
      metricName: 'load-test',
      image: plan.versions.images.k6,
      runAsUser: K6_UID,
      container: CONTAINER,
      command: loadTestCommand(),
      env: [{ name: 'TARGET_URL', value: n.targetUrl }],
      files: { [SCRIPT_KEY]: this.script },
      volumeName: 'script',
      mountPath: SCRIPT_DIR,
      resources: RELEASE_GATE_JOBS.apiLoadTest,
      writablePaths: ['/tmp', '/home/k6'],
      // The run, plus time to pull the image and for a slow canary to be cut off.
      activeDeadlineSeconds: durationToSeconds(delivery.loadTest.duration) + 300,
      wave: props.wave,
    });
    this.templateName = gate.templateName;
  }
}
