/**
 * The booking API (dist/<region>/api.yaml): an Argo Rollout released as a canary behind Istio.
 *
 * A release goes 10 % → analysis → 50 % → analysis → load test → 100 % (weights from config). Each
 * analysis measures the new pods only, on Istio's request metrics: success rate and p95
 * latency against the thresholds in config. More failed measurements than the failure limit
 * abort the release, and an abort sends all traffic back to the stable pods without a human.
 *
 * The mesh chart renders the VirtualService (route `names.api.route`) and the DestinationRule
 * (subsets stable/canary) this Rollout steers; the shard-map chart renders the routing map it mounts.
 */
import { serving } from '../../regions/plan';
import { apiAbortScaling } from '../../regions/capacity';
import { meshedTarget, mergedMetricsAnnotations } from '../lib/monitoring-targets';
import type { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { AnalysisTemplate } from '../../imports/analysistemplate-argoproj.io';
import type { RolloutSpecStrategyCanarySteps } from '../../imports/rollouts-argoproj.io';
import type { RegionPlan } from '../../regions/plan';
import { WorkloadAutoscaling } from '../lib/autoscaling';
import { hardenedPodTemplate } from '../lib/hardened-pod';
import { WorkloadDisruptionBudget } from '../lib/hardened-workload';
import {
  configHash, httpContainerPorts, httpProbes, HTTP_DRAIN_SECONDS, HTTP_GRACE_SECONDS, HttpService, releaseGateMetrics, releaseRequestSelector, rolloutObject, sidecarAnnotations,
  withTemplateRevision,
} from '../lib/http-service';
import { CredentialsFromStore } from '../lib/external-secret';
import { LABELS } from '../lib/labels';
import { REDIS_TIERS } from '../redis/topology';
import { API_DATABASE_SECRET_DIR, apiDatabaseKeys, apiDatabaseSecret, apiRedisPasswordEnv, apiRedisPasswordSecret, apiRedisSettings } from './client';
import { appLabels, SYNC_WAVE, syncWave } from '../lib/metadata';
import { otelEnvironment } from '../lib/otel';
import { RegionChart, type RegionChartProps } from '../lib/region-chart';
import { ApiLoadTest, LOAD_TEST_BEFORE_WEIGHT_ABOVE } from './load-test';


/** Keys of the API's ConfigMap: the environment variables the API reads its settings from. */
export const API_CONFIG_KEYS = {
  cacheTtlSeconds: 'REDIS_CACHE_TTL_SECONDS',
  sessionTtlSeconds: 'REDIS_SESSION_TTL_SECONDS',
  rateLimitTtlSeconds: 'REDIS_RATE_LIMIT_TTL_SECONDS',
  shardMapFile: 'SHARD_MAP_FILE',
} as const;

/** Analysis argument carrying the canary's pod template revision (see withTemplateRevision). */
const CANARY_REVISION_ARG = 'canary-revision';

const CONTAINER = 'api';
const COMPONENT = 'backend';

export interface ApiChartProps extends RegionChartProps {
  /**
   * PodDisruptionBudget maxUnavailable. A percentage, because the API runs 50 to 1,000 pods: one
   * pod at a time would make a node drain of a large fleet take hours, while 10 % keeps 90 %
   * of the capacity the HPA sized for the current load.
   * @default '10%'
   */
  readonly maxUnavailable?: number | string;
  /** Old ReplicaSets kept for `kubectl argo rollouts undo`. @default 5 */
  readonly revisionHistoryLimit?: number;
  /**
   * Seconds a canary may take to make progress (pods becoming available) before the release
   * is aborted automatically. @default 600
   */
  readonly progressDeadlineSeconds?: number;
  /** Seconds an aborted canary's pods stay up (for their logs) after traffic left them. @default 30 */
  readonly abortScaleDownDelaySeconds?: number;
}

/**
 * The API's runtime settings: Redis key lifetimes and endpoints, and the path of the franchise →
 * shard routing map (which names, per shard, the host, database, user and password file).
 */
function apiRuntimeConfig(plan: RegionPlan): Record<string, string> {
  const ttl = plan.global.redis.ttlSeconds;
  const data = plan.names.data;
  return {
    [API_CONFIG_KEYS.cacheTtlSeconds]: String(ttl.cache),
    [API_CONFIG_KEYS.sessionTtlSeconds]: String(ttl.sessions),
    [API_CONFIG_KEYS.rateLimitTtlSeconds]: String(ttl.rateLimit),
    [API_CONFIG_KEYS.shardMapFile]: `${data.shardMapMountPath.replace(/\/+$/, '')}/${data.shardMapFile}`,
    ...apiRedisSettings(plan),
  };
}

/** A step that runs the load test (charts/api/load-test.ts) against the canary Service. */
export interface LoadTestStep {
  readonly templateName: string;
  /** The test runs before the first weight above this (after the analysis of the weight before). */
  readonly beforeWeightAbove: number;
}

/**
 * setWeight w, then an analysis of the canary, for every weight in config; the promotion to
 * 100 % follows the last step on its own. No `pause` step: a pause without a duration waits
 * for a human, and the analysis already holds each weight for as long as it measures.
 *
 * With a load test, its analysis step comes after the analysis of the last weight at or below
 * `beforeWeightAbove` and before the next setWeight (or the promotion): the canary never takes
 * more than that share of real traffic before it has carried the configured load within budget.
 * A canary whose first weight is already above it is refused (there would be no canary pods to test).
 */
export function canarySteps(
  weights: readonly number[], templateName: string, canaryRevision: string, loadTest?: LoadTestStep,
): RolloutSpecStrategyCanarySteps[] {
  if (weights.length === 0) throw new Error('canary weights must not be empty');
  weights.forEach((w, i) => {
    if (!Number.isInteger(w) || w < 1 || w > 99) throw new Error(`canary weight ${w} must be an integer between 1 and 99 (100 is the promotion)`);
    if (i > 0 && w <= weights[i - 1]) throw new Error(`canary weight ${w} must be greater than the weight before it (${weights[i - 1]})`);
  });
  const steps = weights.map((setWeight) => [
    { setWeight },
    { analysis: { templates: [{ templateName }], args: [{ name: CANARY_REVISION_ARG, value: canaryRevision }] } },
  ] as RolloutSpecStrategyCanarySteps[]);
  if (loadTest) {
    const last = weights.filter((w) => w <= loadTest.beforeWeightAbove).length - 1;
    if (last < 0) {
      throw new Error(`the load test runs before the canary goes past ${loadTest.beforeWeightAbove} %: the first canary weight (${weights[0]}) must be at most ${loadTest.beforeWeightAbove}`);
    }
    steps[last]!.push({ analysis: { templates: [{ templateName: loadTest.templateName }] } });
  }
  return steps.flat();
}

export class ApiChart extends RegionChart {
  readonly rollout: ApiObject;
  /** Revision label of the current pod template: what the canary analysis measures. */
  readonly revision: string;

  constructor(scope: Construct, props: ApiChartProps) {
    super(scope, 'api', props);
    const { global, names, namespaces, region } = props.plan;
    const ns = namespaces.app;
    const api = names.api;
    const workload = global.workloads.api;
    const version = global.releases.api.version;
    const selector = appLabels(props.plan, api.app, COMPONENT);
    const labels = { ...selector };
    const versioned = { ...selector, [LABELS.version]: version };
    const meta = (name: string, wave: number, l: Record<string, string> = labels) => ({ name, namespace: ns, labels: l, annotations: syncWave(wave) });

    new k8s.KubeServiceAccount(this, 'service-account', {
      metadata: meta(api.serviceAccount, SYNC_WAVE.config),
      // The API never calls the Kubernetes API.
      automountServiceAccountToken: false,
    });

    const config = apiRuntimeConfig(props.plan);
    new k8s.KubeConfigMap(this, 'config', { metadata: meta(api.configMap, SYNC_WAVE.config), data: config });

    new AnalysisTemplate(this, 'analysis', {
      metadata: meta(api.analysisTemplate, SYNC_WAVE.config),
      spec: {
        args: [{ name: CANARY_REVISION_ARG }],
        // Canary pods only: the server-side sidecars of pods of this app, in this namespace,
        // at the canary's revision. No traffic at all fails the measurement: the canary
        // carries real user traffic, so silence means something is broken (a renamed metric
        // or label included), never that the release is healthy.
        metrics: releaseGateMetrics({
          prometheusUrl: names.monitoring.prometheusUrl,
          thresholds: global.delivery.api.analysis,
          selector: releaseRequestSelector({ namespace: ns, app: selector[LABELS.name]!, revisionArg: CANARY_REVISION_ARG }),
        }),
      },
    });

    // k6 against the canary Service before the canary goes past 50 % (charts/api/load-test.ts).
    const loadTest = new ApiLoadTest(this, 'load-test', { plan: props.plan });

    for (const [id, name] of [['stable-service', api.stableService], ['canary-service', api.canaryService]] as const) {
      new HttpService(this, id, {
        name, namespace: ns, labels, selector, port: workload.port, metricsPort: api.metricsPort, annotations: syncWave(SYNC_WAVE.workloads),
      });
    }

    // Every shard's password for the API's database user, from the store: mounted as files
    // (rotation reaches running pods without a restart), named by the shard map.
    const databaseSecret = new CredentialsFromStore(this, 'database-credentials', {
      plan: props.plan, name: apiDatabaseSecret(props.plan), namespace: ns, labels, keys: apiDatabaseKeys(props.plan),
    });
    const shardMapVolume = 'shard-map';
    const databaseVolume = 'database-credentials';
    const hardened = hardenedPodTemplate({
      selectorLabels: selector,
      region: region.name,
      partOf: global.platform.name,
      version,
      serviceAccountName: api.serviceAccount,
      spreadMatchLabelKeys: ['rollouts-pod-template-hash'],
      terminationGracePeriodSeconds: HTTP_GRACE_SECONDS,
      // On-demand base nodes up to the HPA minimum, spot beyond (charts/lib/node-placement.ts).
      placement: 'app',
      annotations: {
        ...sidecarAnnotations(global.mesh.sidecar, HTTP_DRAIN_SECONDS),
        // Istio merges the app's own metrics into the sidecar's :15020 endpoint Prometheus scrapes.
        ...mergedMetricsAnnotations(meshedTarget(props.plan, api.app)),
        'kubectl.kubernetes.io/default-container': CONTAINER,
        // Settings are read at start: a changed ConfigMap must roll the pods, through the canary.
        'bookedbarber.com/config-sha256': configHash(config),
      },
      volumes: [
        { name: shardMapVolume, configMap: { name: names.data.shardMapConfigMap, optional: false } },
        { name: databaseVolume, secret: { secretName: databaseSecret.secretName, optional: false, defaultMode: 0o440 } },
      ],
      containers: [
        {
          name: CONTAINER,
          image: global.releases.api,
          ports: httpContainerPorts(workload.port, api.metricsPort),
          env: [
            ...Object.keys(config).map((key) => ({ name: key, valueFrom: { configMapKeyRef: { name: api.configMap, key } } })),
            ...REDIS_TIERS.map((tier) => ({
              name: apiRedisPasswordEnv(tier),
              valueFrom: { secretKeyRef: { name: apiRedisPasswordSecret(props.plan, tier), key: 'password' } },
            })),
            ...otelEnvironment(props.plan, { serviceName: api.rollout, version: global.releases.api.version, namespace: ns, metricsPort: api.metricsPort }),
          ],
          resources: workload.resources,
          ...httpProbes(workload),
          writablePaths: ['/tmp'],
          // The whole ConfigMap as a directory, not a subPath: a subPath mount never sees updates.
          volumeMounts: [
            { name: shardMapVolume, mountPath: names.data.shardMapMountPath, readOnly: true },
            { name: databaseVolume, mountPath: API_DATABASE_SECRET_DIR, readOnly: true },
          ],
        },
      ],
    });
    const { template, revision } = withTemplateRevision(hardened, version);
    this.revision = revision;

    this.rollout = rolloutObject(this, 'rollout', {
      metadata: meta(api.rollout, SYNC_WAVE.workloads, versioned),
      spec: {
        // No replicas: the HPA owns them (a value here would fight it on every sync).
        revisionHistoryLimit: props.revisionHistoryLimit ?? 5,
        progressDeadlineSeconds: props.progressDeadlineSeconds ?? 600,
        // A canary that never becomes ready (crash loop, unschedulable) is aborted, not left
        // waiting: stable keeps all traffic and the Rollout reports Degraded.
        progressDeadlineAbort: true,
        selector: { matchLabels: { ...selector } },
        strategy: {
          canary: {
            // Subset-level splitting: the stable Service is the host of the VirtualService and
            // DestinationRule and must keep selecting every API pod by label. Naming it as
            // `stableService` would make Argo Rollouts pin it to the stable ReplicaSet's hash,
            // leaving the canary subset empty (503s at setWeight 10, every release aborted).
            // The canary Service is named: Argo Rollouts points it at the canary pods only, for
            // direct checks of a release in progress.
            canaryService: api.canaryService,
            trafficRouting: {
              istio: {
                virtualService: { name: api.virtualService, routes: [api.idempotentRoute, api.route] },
                destinationRule: { name: api.destinationRule, stableSubsetName: api.stableSubset, canarySubsetName: api.canarySubset },
              },
            },
            // delivery.api.abortScaling (regions/capacity.ts). instant (default): stable stays at
            // full size through the canary, so an abort moves all traffic back in one step (Argo
            // Rollouts canary docs, "Dynamic Stable Scale": "traffic can be immediately shifted
            // back to the stable ReplicaSet without delay"); the app quota holds both sides
            // (appQuotaHoldsPeak). dynamic: stable shrinks as the canary grows, and on abort
            // traffic returns only as fast as stable pods come back.
            dynamicStableScale: apiAbortScaling(global) === 'dynamic',
            // Argo Rollouts "Scaledown New Replicaset on Aborted Rollout": with traffic routing
            // the canary ReplicaSet scales down this long after an abort (nil = 30 s, 0 = never).
            // With dynamicStableScale the canary instead shrinks as traffic shifts back to stable.
            // The traffic itself leaves the canary at once either way.
            abortScaleDownDelaySeconds: props.abortScaleDownDelaySeconds ?? 30,
            steps: canarySteps(global.delivery.api.canarySteps, api.analysisTemplate, revision, {
              templateName: loadTest.templateName, beforeWeightAbove: LOAD_TEST_BEFORE_WEIGHT_ABOVE,
            }),
          },
        },
      },
      // Serialised by Kubernetes' PodTemplateSpec mapper, see rolloutObject.
      template,
    });

    const budget = new WorkloadDisruptionBudget(this, 'budget', {
      name: api.rollout,
      namespace: ns,
      labels: versioned,
      selectorLabels: selector,
      maxUnavailable: props.maxUnavailable ?? '10%',
    });
    budget.apiObject.metadata.addAnnotation('argocd.argoproj.io/sync-wave', String(SYNC_WAVE.workloads));

    new WorkloadAutoscaling(this, 'autoscaling', {
      name: api.rollout,
      namespace: ns,
      labels,
      target: { name: api.rollout },
      minReplicas: serving(props.plan).autoscaling.api.minReplicas,
      maxReplicas: serving(props.plan).autoscaling.api.maxReplicas,
      container: CONTAINER,
      targetCpuUtilization: workload.targetCpuUtilization,
      targetRequestsPerSecond: workload.targetRequestsPerSecond,
      vpaMinAllowed: workload.vpa.minAllowed,
      vpaMaxAllowed: workload.vpa.maxAllowed,
    });
  }
}
