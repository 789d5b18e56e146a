/**
 * The smoke tests that gate the web promotion: an Argo Rollouts AnalysisTemplate whose one
 * metric is a Job (the metric passes when the Job exits 0) running the suite
 * (charts/web/smoke-suite.mjs, Node.js built-ins only) against the preview Service, where the
 * new stack runs at full size before the switch. One failed check fails the Job, the
 * pre-promotion analysis and so the release: the active Service never moves.
 *
 * The suite and its plan (the routes and budgets of delivery.web.smokeTest) are rendered into a
 * ConfigMap; the Job runs in the Rollout's namespace (where Argo Rollouts creates AnalysisRun
 * Jobs) under its own ServiceAccount, which the wiring declaration (charts/wiring/connections.ts)
 * admits to the preview Service and nothing else.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Construct } from 'constructs';
import { RELEASE_GATE_JOBS } from '../../regions/capacity';
import type { RegionPlan } from '../../regions/plan';
import { serviceHost } from '../../regions/wiring';
import { REPO_ROOT } from '../../tools/repo-root';
import { AnalysisJob, analysisJobNames } from '../lib/analysis-job';
import { quitSidecarOnExit } from '../lib/job-pod';

/** UID of the `node` user of the official node image. */
export const NODE_UID = 1000;
const CONTAINER = 'smoke-test';
const COMPONENT = 'smoke-test';
const SUITE_KEY = 'smoke-suite.mjs';
const PLAN_KEY = 'plan.json';
const SUITE_DIR = '/suite';
/** The suite's source, shipped as it is in this repository (the tests run the same file). */
export const SMOKE_SUITE_FILE = path.join(REPO_ROOT, 'charts', 'web', SUITE_KEY);

/** Names of the smoke test's objects, shared with the wiring peers. */
export function webSmokeTestNames(plan: RegionPlan) {
  return {
    ...analysisJobNames(plan, plan.names.web, COMPONENT, 'suite'),
    targetUrl: `http://${serviceHost(plan.names.web.previewService, plan.namespaces.app)}:${plan.global.workloads.web.port}`,
  } as const;
}

/** What the suite reads (plan.json): the target, the routes and budgets of delivery.web.smokeTest. */
export interface SmokeTestPlan {
  readonly target: string;
  readonly publicHost: string;
  readonly health: { readonly liveness: string; readonly readiness: string };
  readonly home: { readonly path: string; readonly marker: string };
  readonly notFound: { readonly path: string; readonly marker: string };
  readonly assets: readonly { readonly path: string; readonly contentType: string }[];
  readonly bookingReads: readonly { readonly path: string; readonly contentType: string; readonly contains: string }[];
  readonly redirects: readonly { readonly from: string; readonly to: string; readonly status: number }[];
  readonly openRedirectProbe: string;
  readonly latencyBudgetMs: number;
  readonly latencySamples: number;
  readonly maxPageBytes: number;
  readonly minAssetMaxAgeSeconds: number;
  readonly requestTimeoutSeconds: number;
  readonly deadlineSeconds: number;
}

/** A path no route of a site serves, so the site's own 404 answers it. */
export const NOT_FOUND_PATH = '/__smoke-test__/no-such-page';

export function smokeTestPlan(plan: RegionPlan, target = webSmokeTestNames(plan).targetUrl): SmokeTestPlan {
  const { global } = plan;
  const smoke = global.delivery.web.smokeTest;
  return {
    target,
    publicHost: global.ingress.webHost,
    health: { liveness: global.workloads.web.livenessPath, readiness: global.workloads.web.readinessPath },
    home: { path: '/', marker: smoke.homeMarker },
    notFound: { path: NOT_FOUND_PATH, marker: smoke.notFoundMarker },
    assets: smoke.assets,
    bookingReads: smoke.bookingReads,
    redirects: smoke.redirects,
    openRedirectProbe: smoke.openRedirectProbe,
    // The release budget of the web: what the post-promotion analysis holds real traffic to.
    latencyBudgetMs: global.delivery.web.analysis.maxLatencyP95Ms,
    latencySamples: smoke.latencySamples,
    maxPageBytes: smoke.maxPageKiB * 1024,
    minAssetMaxAgeSeconds: smoke.minAssetMaxAgeSeconds,
    requestTimeoutSeconds: smoke.requestTimeoutSeconds,
    deadlineSeconds: smoke.deadlineSeconds,
  };
}

/** The container's command: the suite, then the sidecar is told to quit (busybox wget: the image has no curl). */
export function smokeTestCommand(): string[] {
  return ['/bin/sh', '-c', [quitSidecarOnExit('busybox-wget'), `node ${SUITE_DIR}/${SUITE_KEY} ${SUITE_DIR}/${PLAN_KEY}`].join('\n')];
}

export interface WebSmokeTestProps {
  readonly plan: RegionPlan;
  /** Argo CD sync wave of the objects. @default SYNC_WAVE.config — in place before the Rollout that runs them */
  readonly wave?: number;
}

/**
 * Seconds the smoke-test Job may run: the suite's own deadline plus time to schedule its pod
 * (possibly on a new node), pull the image and start the sidecar.
 */
export function smokeTestJobDeadlineSeconds(plan: RegionPlan): number {
  return plan.global.delivery.web.smokeTest.deadlineSeconds + 300;
}

export class WebSmokeTest extends Construct {
  readonly templateName: string;
  /** The Job's activeDeadlineSeconds (smokeTestJobDeadlineSeconds). */
  readonly jobDeadlineSeconds: number;

  constructor(scope: Construct, id: string, props: WebSmokeTestProps) {
    super(scope, id);
    const { plan } = props;
    const gate = new AnalysisJob(this, 'gate', {
      plan,
      names: webSmokeTestNames(plan),
      // 0 every check passed, 1 one failed.
      metricName: 'smoke-test',
      image: plan.versions.images.node,
      runAsUser: NODE_UID,
      container: CONTAINER,
      command: smokeTestCommand(),
      files: {
        [SUITE_KEY]: fs.readFileSync(SMOKE_SUITE_FILE, 'utf8'),
        [PLAN_KEY]: `${JSON.stringify(smokeTestPlan(plan), null, 2)}\n`,
      },
      volumeName: 'suite',
      mountPath: SUITE_DIR,
      resources: RELEASE_GATE_JOBS.webSmokeTest,
      writablePaths: ['/tmp'],
      activeDeadlineSeconds: smokeTestJobDeadlineSeconds(plan),
      wave: props.wave,
    });
    this.templateName = gate.templateName;
    this.jobDeadlineSeconds = smokeTestJobDeadlineSeconds(plan);
  }
}
