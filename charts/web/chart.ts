/**
 * The web front end (dist/<region>/web.yaml): an Argo Rollout released blue-green.
 *
 * A release brings up the new stack at full size behind the preview Service, runs the smoke-test
 * suite against it (pre-promotion, charts/web/smoke-test.ts), switches the active Service to it
 * automatically once — and only once — every check passed, analyses it on real traffic
 * (post-promotion) and keeps the old stack running for `scaleDownDelaySeconds`, so a failed
 * post-promotion analysis switches back at once.
 */
import { serving } from '../../regions/plan';
import { meshedTarget, mergedMetricsAnnotations } from '../lib/monitoring-targets';
import type { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { AnalysisTemplate } from '../../imports/analysistemplate-argoproj.io';
import type { RolloutSpecStrategyBlueGreen } from '../../imports/rollouts-argoproj.io';
import { WorkloadAutoscaling } from '../lib/autoscaling';
import { hardenedPodTemplate } from '../lib/hardened-pod';
import { WorkloadDisruptionBudget } from '../lib/hardened-workload';
import {
  analysisDurationSeconds, httpContainerPorts, httpProbes, HTTP_DRAIN_SECONDS, HTTP_GRACE_SECONDS, HttpService, releaseGateMetrics, releaseRequestSelector, rolloutObject, sidecarAnnotations,
  withTemplateRevision,
} from '../lib/http-service';
import { LABELS } from '../lib/labels';
import { appLabels, SYNC_WAVE, syncWave } from '../lib/metadata';
import { otelEnvironment } from '../lib/otel';
import { RegionChart, type RegionChartProps } from '../lib/region-chart';
import { WebSmokeTest } from './smoke-test';

/** Arguments of the web's traffic AnalysisTemplate (post-promotion). */
const WEB_ANALYSIS_ARGS = {
  /** Pod template revision of the new stack (see withTemplateRevision). */
  revision: 'revision',
} as const;

const CONTAINER = 'web';
const COMPONENT = 'frontend';

export interface WebChartProps extends RegionChartProps {
  /**
   * PodDisruptionBudget maxUnavailable. 10 % is one pod at the minimum of 10 and keeps a drain
   * of a 200-pod fleet from taking one pod at a time.
   * @default '10%'
   */
  readonly maxUnavailable?: number | string;
  /**
   * Old ReplicaSets kept for `kubectl argo rollouts undo`.
   * @default 5 — as the API: a few rollback targets without many idle ReplicaSets
   */
  readonly revisionHistoryLimit?: number;
  /**
   * Seconds without progress before the release is aborted (`progressDeadlineAbort`).
   * @default webProgressDeadlineSeconds: 600, or more when the smoke-test Job may run longer
   */
  readonly progressDeadlineSeconds?: number;
  /** Seconds an aborted preview stack stays up (for its logs) before it is scaled down. @default 30 */
  readonly abortScaleDownDelaySeconds?: number;
}

/** Time for Argo Rollouts to create the AnalysisRun and its Job, and to record the Job's result. */
export const SMOKE_TEST_RESULT_MARGIN_SECONDS = 120;

/**
 * The web Rollout's progress deadline. Its clock does not stop for a blue-green pre-promotion
 * analysis with automatic promotion (argo-rollouts rollout/sync.go: only a canary step or a
 * RolloutPaused condition is "indefinite", and the blue-green controller adds no pause when
 * autoPromotionEnabled is set without autoPromotionSeconds): from the moment the preview stack is
 * available, the smoke-test Job has progressDeadlineSeconds to finish, or the release is aborted
 * as TimedOut while the suite still runs. So the deadline outlasts the Job's own (600 s at least:
 * the time a new stack may take to become available).
 */
export function webProgressDeadlineSeconds(smokeJobDeadlineSeconds: number): number {
  return Math.max(600, smokeJobDeadlineSeconds + SMOKE_TEST_RESULT_MARGIN_SECONDS);
}

/**
 * The blue-green strategy. Promotion is automatic (`autoPromotionEnabled: true`, no
 * `autoPromotionSeconds`), and Argo Rollouts promotes only after the pre-promotion AnalysisRun
 * succeeded: a failed one aborts the release and the active Service never moves.
 * `autoPromotionSeconds` stays unset: when it elapses, Argo Rollouts marks a still-running
 * pre-promotion analysis successful and promotes anyway.
 *
 * No `previewReplicaCount`: the preview stack runs at full size, so the switch moves traffic to
 * pods that were analysed and already sized by the HPA (a reduced preview is scaled up just
 * before the switch, by pods nobody analysed). The app quota invariant counts the web front end
 * twice for this reason.
 */
function blueGreenStrategy(props: {
  readonly activeService: string;
  readonly previewService: string;
  readonly templateName: string;
  readonly smokeTestTemplateName: string;
  readonly revision: string;
  readonly scaleDownDelaySeconds: number;
  readonly abortScaleDownDelaySeconds: number;
}): RolloutSpecStrategyBlueGreen {
  return {
    activeService: props.activeService,
    previewService: props.previewService,
    autoPromotionEnabled: true,
    // Before promotion no user reaches the preview, so traffic metrics would judge silence:
    // the smoke-test suite drives the preview itself and any failed check aborts.
    prePromotionAnalysis: { templates: [{ templateName: props.smokeTestTemplateName }] },
    // After promotion the new stack carries every user request: silence is a failure.
    postPromotionAnalysis: {
      templates: [{ templateName: props.templateName }],
      args: [{ name: WEB_ANALYSIS_ARGS.revision, value: props.revision }],
    },
    scaleDownDelaySeconds: props.scaleDownDelaySeconds,
    abortScaleDownDelaySeconds: props.abortScaleDownDelaySeconds,
  };
}

export class WebChart extends RegionChart {
  readonly rollout: ApiObject;
  readonly revision: string;

  constructor(scope: Construct, props: WebChartProps) {
    super(scope, 'web', props);
    const { global, names, namespaces, region } = props.plan;
    const ns = namespaces.app;
    const web = names.web;
    const workload = global.workloads.web;
    const delivery = global.delivery.web;
    const version = global.releases.web.version;
    const selector = appLabels(props.plan, web.app, COMPONENT);
    const labels = { ...selector };
    const versioned = { ...selector, [LABELS.version]: version };
    const meta = (name: string, wave: number, l: Record<string, string> = labels) => ({ name, namespace: ns, labels: l, annotations: syncWave(wave) });

    // Argo Rollouts cancels a post-promotion analysis still running when the old stack is
    // scaled down, and with it the instant way back: the analysis must end well before.
    const analysisSeconds = analysisDurationSeconds(delivery.analysis);
    if (analysisSeconds >= delivery.scaleDownDelaySeconds) {
      throw new Error(
        `web post-promotion analysis takes ${analysisSeconds}s (initial delay + ${delivery.analysis.count} x ${delivery.analysis.interval}), ` +
          `which must be shorter than delivery.web.scaleDownDelaySeconds (${delivery.scaleDownDelaySeconds})`,
      );
    }

    new k8s.KubeServiceAccount(this, 'service-account', {
      metadata: meta(web.serviceAccount, SYNC_WAVE.config),
      automountServiceAccountToken: false,
    });

    new AnalysisTemplate(this, 'analysis', {
      metadata: meta(web.analysisTemplate, SYNC_WAVE.config),
      spec: {
        args: [{ name: WEB_ANALYSIS_ARGS.revision }],
        // The new pods' requests (after promotion both the active and the preview Service select
        // them: see releaseRequestSelector); the revision keeps requests still draining from the
        // old stack out of the post-promotion measurement.
        metrics: releaseGateMetrics({
          prometheusUrl: names.monitoring.prometheusUrl,
          thresholds: delivery.analysis,
          selector: releaseRequestSelector({ namespace: ns, app: selector[LABELS.name]!, revisionArg: WEB_ANALYSIS_ARGS.revision }),
        }),
      },
    });

    // The preview's smoke tests (pre-promotion).
    const smokeTest = new WebSmokeTest(this, 'smoke-test', { plan: props.plan });

    for (const [id, name] of [['active-service', web.activeService], ['preview-service', web.previewService]] as const) {
      new HttpService(this, id, {
        name, namespace: ns, labels, selector, port: workload.port, metricsPort: web.metricsPort, annotations: syncWave(SYNC_WAVE.workloads),
      });
    }

    const hardened = hardenedPodTemplate({
      selectorLabels: selector,
      region: region.name,
      partOf: global.platform.name,
      version,
      serviceAccountName: web.serviceAccount,
      spreadMatchLabelKeys: ['rollouts-pod-template-hash'],
      terminationGracePeriodSeconds: HTTP_GRACE_SECONDS,
      // On-demand base nodes up to the HPA minimum, spot beyond (charts/lib/node-placement.ts).
      placement: 'app',
      annotations: {
        ...sidecarAnnotations(global.mesh.sidecar, HTTP_DRAIN_SECONDS),
        ...mergedMetricsAnnotations(meshedTarget(props.plan, web.app)),
        'kubectl.kubernetes.io/default-container': CONTAINER,
      },
      containers: [
        {
          name: CONTAINER,
          image: global.releases.web,
          ports: httpContainerPorts(workload.port, web.metricsPort),
          // Server-side calls go to the API's stable Service through the mesh (web → API is
          // an allowed flow); the canary share is decided by the API's VirtualService.
          env: [
            { name: 'API_URL', value: `http://${names.api.stableService}.${ns}.svc.cluster.local:${global.workloads.api.port}` },
            ...otelEnvironment(props.plan, { serviceName: names.web.rollout, version: global.releases.web.version, namespace: ns, metricsPort: names.web.metricsPort }),
          ],
          resources: workload.resources,
          ...httpProbes(workload),
          writablePaths: ['/tmp'],
        },
      ],
    });
    const { template, revision } = withTemplateRevision(hardened, version);
    this.revision = revision;

    this.rollout = rolloutObject(this, 'rollout', {
      metadata: meta(web.rollout, SYNC_WAVE.workloads, versioned),
      spec: {
        // No replicas: the HPA owns them.
        revisionHistoryLimit: props.revisionHistoryLimit ?? 5,
        progressDeadlineSeconds: props.progressDeadlineSeconds ?? webProgressDeadlineSeconds(smokeTest.jobDeadlineSeconds),
        progressDeadlineAbort: true,
        selector: { matchLabels: { ...selector } },
        strategy: {
          blueGreen: blueGreenStrategy({
            activeService: web.activeService,
            previewService: web.previewService,
            templateName: web.analysisTemplate,
            smokeTestTemplateName: smokeTest.templateName,
            revision,
            scaleDownDelaySeconds: delivery.scaleDownDelaySeconds,
            abortScaleDownDelaySeconds: props.abortScaleDownDelaySeconds ?? 30,
          }),
        },
      },
      // Serialised by Kubernetes' PodTemplateSpec mapper, see rolloutObject.
      template,
    });

    const budget = new WorkloadDisruptionBudget(this, 'budget', {
      name: web.rollout,
      namespace: ns,
      labels: versioned,
      selectorLabels: selector,
      maxUnavailable: props.maxUnavailable ?? '10%',
    });
    budget.apiObject.metadata.addAnnotation('argocd.argoproj.io/sync-wave', String(SYNC_WAVE.workloads));

    new WorkloadAutoscaling(this, 'autoscaling', {
      name: web.rollout,
      namespace: ns,
      labels,
      target: { name: web.rollout },
      minReplicas: serving(props.plan).autoscaling.web.minReplicas,
      maxReplicas: serving(props.plan).autoscaling.web.maxReplicas,
      container: CONTAINER,
      targetCpuUtilization: workload.targetCpuUtilization,
      targetRequestsPerSecond: workload.targetRequestsPerSecond,
      vpaMinAllowed: workload.vpa.minAllowed,
      vpaMaxAllowed: workload.vpa.maxAllowed,
    });
  }
}
