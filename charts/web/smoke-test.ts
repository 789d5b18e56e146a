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
import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { AnalysisTemplate } from '../../imports/analysistemplate-argoproj.io';
import type { RegionPlan } from '../../regions/plan';
import { serviceHost } from '../../regions/wiring';
import { hardenedPodTemplate } from '../lib/hardened-pod';
import { sidecarAnnotations } from '../lib/http-service';
import { quitSidecarOnExit, runToCompletion } from '../lib/job-pod';
import { LABELS } from '../lib/labels';
import { appLabels, SYNC_WAVE, syncWave } from '../lib/metadata';

/** UID of the `node` user of the official node image. */
export const NODE_UID = 1000;
const CONTAINER = 'smoke-test';
const COMPONENT = 'smoke-test';
const SUITE_KEY = 'smoke-suite.mjs';
const PLAN_KEY = 'plan.json';
const SUITE_DIR = '/suite';
/** The suite's source, shipped as it is in this repository (the tests run the same file). */
export const SMOKE_SUITE_FILE = path.join(__dirname, SUITE_KEY);

/** Names of the smoke test's objects, shared with the wiring peers. */
export function webSmokeTestNames(plan: RegionPlan) {
  const base = `${plan.names.web.rollout}-smoke-test`;
  return {
    analysisTemplate: base,
    configMap: `${base}-suite`,
    serviceAccount: base,
    /** Pod labels of the Job (the peer the wiring declares). */
    selectorLabels: appLabels(plan, `${plan.names.web.app}-smoke-test`, COMPONENT),
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

export class WebSmokeTest extends Construct {
  readonly templateName: string;

  constructor(scope: Construct, id: string, props: WebSmokeTestProps) {
    super(scope, id);
    const { plan } = props;
    const { global, region } = plan;
    const ns = plan.namespaces.app;
    const n = webSmokeTestNames(plan);
    const image = plan.versions.images.node;
    const labels = { ...n.selectorLabels };
    const meta = (name: string) => ({ name, namespace: ns, labels, annotations: syncWave(props.wave ?? SYNC_WAVE.config) });
    const smoke = global.delivery.web.smokeTest;
    this.templateName = n.analysisTemplate;

    new k8s.KubeServiceAccount(this, 'service-account', {
      metadata: meta(n.serviceAccount),
      // The suite calls the preview Service, never the Kubernetes API.
      automountServiceAccountToken: false,
    });
    new k8s.KubeConfigMap(this, 'suite', {
      metadata: meta(n.configMap),
      data: {
        [SUITE_KEY]: fs.readFileSync(SMOKE_SUITE_FILE, 'utf8'),
        [PLAN_KEY]: `${JSON.stringify(smokeTestPlan(plan), null, 2)}\n`,
      },
    });

    const suiteVolume = 'suite';
    const template = runToCompletion(hardenedPodTemplate({
      selectorLabels: labels,
      region: region.name,
      partOf: global.platform.name,
      version: image.version,
      serviceAccountName: n.serviceAccount,
      runAsUser: NODE_UID,
      annotations: {
        // Meshed (mTLS to the preview, admitted by ServiceAccount), the suite held until Envoy is ready.
        ...sidecarAnnotations(global.mesh.sidecar),
        'kubectl.kubernetes.io/default-container': CONTAINER,
      },
      volumes: [{ name: suiteVolume, configMap: { name: n.configMap, optional: false } }],
      containers: [{
        name: CONTAINER,
        image,
        command: smokeTestCommand(),
        resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
        // hardenedPodTemplate requires probes of serving containers; runToCompletion removes them.
        livenessProbe: { exec: { command: ['true'] } },
        readinessProbe: { exec: { command: ['true'] } },
        writablePaths: ['/tmp'],
        volumeMounts: [{ name: suiteVolume, mountPath: SUITE_DIR, readOnly: true }],
      }],
    }));

    new ApiObject(this, 'analysis', {
      ...AnalysisTemplate.GVK,
      metadata: meta(n.analysisTemplate),
      spec: {
        metrics: [{
          name: 'smoke-test',
          // One run: the Job's exit status is the verdict (0 every check passed, 1 one failed).
          count: 1,
          failureLimit: 0,
          provider: {
            job: {
              metadata: { labels: { ...labels, [LABELS.version]: image.version } },
              spec: {
                // A failed check is a verdict, not a flake to retry into a pass.
                backoffLimit: 0,
                // The suite's own deadline, plus time to pull the image and start the sidecar.
                activeDeadlineSeconds: smoke.deadlineSeconds + 300,
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
