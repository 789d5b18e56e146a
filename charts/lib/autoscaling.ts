/**
 * Horizontal and vertical autoscaling of one workload (an Argo Rollout by default):
 *
 * - an `autoscaling/v2` HPA on the app container's CPU and on requests per second per pod
 *   (a Pods metric served by prometheus-adapter from Istio's request metrics), scaling up fast
 *   and down slowly;
 * - a VPA in recommendation mode (`updateMode: Off`): the HPA already scales on CPU, and a VPA
 *   that rewrote CPU requests would move the HPA's utilisation target under its feet. The
 *   recommendations (bounded by config) are read by people when they resize requests.
 *
 * Invalid props throw, naming both values.
 */
import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import {
  VerticalPodAutoscaler,
  VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMaxAllowed as MaxAllowed,
  VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMinAllowed as MinAllowed,
  VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMode as ContainerMode,
  VerticalPodAutoscalerSpecUpdatePolicyUpdateMode as UpdateMode,
} from '../../imports/vpa-autoscaling.k8s.io';
import { parseQuantity } from '../../regions/quantity';
import { SYNC_WAVE, syncWave } from './metadata';
import { MIN_RATE_WINDOW_SECONDS, promDuration } from './promql';

/** Name of the per-pod requests-per-second metric the HPA reads from the custom metrics API. */
export const REQUESTS_PER_SECOND_METRIC = 'istio_requests_per_second';

/**
 * The prometheus-adapter rule that serves REQUESTS_PER_SECOND_METRIC (Helm values
 * `rules.custom[]` of the prometheus-community/prometheus-adapter chart). It turns the
 * server-side sidecar's request counter into a per-pod rate; `namespace` and `pod` are the
 * target labels prometheus-operator puts on every PodMonitor scrape of the istio-proxy.
 */
export const PROMETHEUS_ADAPTER_RULE = {
  seriesQuery: 'istio_requests_total{reporter="destination",namespace!="",pod!=""}',
  resources: { overrides: { namespace: { resource: 'namespace' }, pod: { resource: 'pod' } } },
  name: { matches: '^istio_requests_total$', as: REQUESTS_PER_SECOND_METRIC },
  metricsQuery: `sum(rate(<<.Series>>{<<.LabelMatchers>>}[${promDuration(MIN_RATE_WINDOW_SECONDS)}])) by (<<.GroupBy>>)`,
} as const;

/** The sidecar Istio injects; its size comes from pod annotations, not from the autoscalers. */
export const ISTIO_PROXY_CONTAINER = 'istio-proxy';

export interface ScaleTarget {
  /** @default 'argoproj.io/v1alpha1' */
  readonly apiVersion?: string;
  /** @default 'Rollout' */
  readonly kind?: string;
  readonly name: string;
}

export interface CpuMemoryBounds {
  readonly cpu: string;
  readonly memory: string;
}

export interface ScaleUpBehavior {
  /** Growth allowed per period in % of the current pods. @default 100 */
  readonly percent?: number;
  /** Growth allowed per period in pods (the larger of the two wins, so small fleets still grow). @default 4 */
  readonly pods?: number;
  /** @default 15 */
  readonly periodSeconds?: number;
}

export interface ScaleDownBehavior {
  /** The highest recommendation of this window is used: a dip shorter than this removes nothing. @default 300 */
  readonly stabilizationWindowSeconds?: number;
  /** Shrink allowed per period in % of the current pods. @default 10 */
  readonly percent?: number;
  /** @default 60 */
  readonly periodSeconds?: number;
}

export interface WorkloadAutoscalingProps {
  /** Name of the HPA and the VPA (the workload's name). */
  readonly name: string;
  /** Namespace of the workload. */
  readonly namespace: string;
  /** Labels of the HPA and the VPA. */
  readonly labels: Readonly<Record<string, string>>;
  /** The workload the HPA and the VPA act on (apiVersion, kind, name). */
  readonly target: ScaleTarget;
  /** HPA minReplicas (at most maxReplicas). */
  readonly minReplicas: number;
  /** HPA maxReplicas. */
  readonly maxReplicas: number;
  /** Container whose CPU the HPA tracks and whose resources the VPA recommends. */
  readonly container: string;
  /** Average CPU use in % of the container's request. */
  readonly targetCpuUtilization: number;
  /** Average requests per second per pod. */
  readonly targetRequestsPerSecond: number;
  /** Bounds of the VPA recommendation for `container`. */
  readonly vpaMinAllowed: CpuMemoryBounds;
  /** Upper bounds of the VPA recommendation for `container`. */
  readonly vpaMaxAllowed: CpuMemoryBounds;
  /** Containers the VPA leaves alone. @default [ISTIO_PROXY_CONTAINER] */
  readonly vpaExcludedContainers?: readonly string[];
  /**
   * @default { percent: 100, pods: 4, periodSeconds: 15 } — Kubernetes' own pace (double or +4 pods
   * every 15 s): a spike is met within a minute
   */
  readonly scaleUp?: ScaleUpBehavior;
  /**
   * @default { stabilizationWindowSeconds: 300, percent: 10, periodSeconds: 60 } — shrink slowly,
   * so a dip between two peaks does not shed the capacity the next one needs
   */
  readonly scaleDown?: ScaleDownBehavior;
}

function check(props: WorkloadAutoscalingProps): void {
  const what = `autoscaling of ${props.name}`;
  if (props.minReplicas < 1) throw new Error(`${what}: minReplicas (${props.minReplicas}) must be >= 1`);
  if (props.minReplicas > props.maxReplicas) {
    throw new Error(`${what}: minReplicas (${props.minReplicas}) must be <= maxReplicas (${props.maxReplicas})`);
  }
  if (props.targetCpuUtilization < 1 || props.targetCpuUtilization > 100) {
    throw new Error(`${what}: targetCpuUtilization (${props.targetCpuUtilization}) must be between 1 and 100`);
  }
  if (props.targetRequestsPerSecond <= 0) throw new Error(`${what}: targetRequestsPerSecond (${props.targetRequestsPerSecond}) must be > 0`);
  for (const r of ['cpu', 'memory'] as const) {
    const min = props.vpaMinAllowed[r];
    const max = props.vpaMaxAllowed[r];
    if (parseQuantity(min) > parseQuantity(max)) throw new Error(`${what}: VPA minAllowed.${r} (${min}) must be <= maxAllowed.${r} (${max})`);
  }
  if ((props.vpaExcludedContainers ?? []).includes(props.container)) {
    throw new Error(`${what}: container "${props.container}" cannot be both autoscaled and excluded from the VPA`);
  }
}

export class WorkloadAutoscaling extends Construct {
  readonly hpa: ApiObject;
  readonly vpa: ApiObject;

  constructor(scope: Construct, id: string, props: WorkloadAutoscalingProps) {
    super(scope, id);
    check(props);
    const target = { apiVersion: props.target.apiVersion ?? 'argoproj.io/v1alpha1', kind: props.target.kind ?? 'Rollout', name: props.target.name };
    // Autoscalers act on the workload, so they land after it (a target that does not exist yet
    // only produces failed-to-get-scale events).
    const metadata = { name: props.name, namespace: props.namespace, labels: { ...props.labels }, annotations: syncWave(SYNC_WAVE.scaling) };
    const up = props.scaleUp ?? {};
    const down = props.scaleDown ?? {};

    this.hpa = new k8s.KubeHorizontalPodAutoscalerV2(this, 'Hpa', {
      metadata,
      spec: {
        scaleTargetRef: target,
        minReplicas: props.minReplicas,
        maxReplicas: props.maxReplicas,
        metrics: [
          {
            // ContainerResource, not Resource: a Resource metric averages over every container,
            // so the istio-proxy sidecar's CPU (and request) would skew the app's utilisation.
            type: 'ContainerResource',
            containerResource: { name: 'cpu', container: props.container, target: { type: 'Utilization', averageUtilization: props.targetCpuUtilization } },
          },
          {
            type: 'Pods',
            pods: {
              metric: { name: REQUESTS_PER_SECOND_METRIC },
              target: { type: 'AverageValue', averageValue: k8s.Quantity.fromString(String(props.targetRequestsPerSecond)) },
            },
          },
        ],
        behavior: {
          // Traffic spikes hurt users now: add capacity at once, the larger step wins.
          scaleUp: {
            stabilizationWindowSeconds: 0,
            selectPolicy: 'Max',
            policies: [
              { type: 'Percent', value: up.percent ?? 100, periodSeconds: up.periodSeconds ?? 15 },
              { type: 'Pods', value: up.pods ?? 4, periodSeconds: up.periodSeconds ?? 15 },
            ],
          },
          // Removing pods is never urgent: wait out short dips, then shrink gradually.
          scaleDown: {
            stabilizationWindowSeconds: down.stabilizationWindowSeconds ?? 300,
            selectPolicy: 'Min',
            policies: [{ type: 'Percent', value: down.percent ?? 10, periodSeconds: down.periodSeconds ?? 60 }],
          },
        },
      },
    });

    const excluded = props.vpaExcludedContainers ?? [ISTIO_PROXY_CONTAINER];
    this.vpa = new VerticalPodAutoscaler(this, 'Vpa', {
      metadata,
      spec: {
        targetRef: target,
        updatePolicy: { updateMode: UpdateMode.OFF },
        resourcePolicy: {
          containerPolicies: [
            {
              containerName: props.container,
              controlledResources: ['cpu', 'memory'],
              minAllowed: { cpu: MinAllowed.fromString(props.vpaMinAllowed.cpu), memory: MinAllowed.fromString(props.vpaMinAllowed.memory) },
              maxAllowed: { cpu: MaxAllowed.fromString(props.vpaMaxAllowed.cpu), memory: MaxAllowed.fromString(props.vpaMaxAllowed.memory) },
            },
            ...excluded.map((containerName) => ({ containerName, mode: ContainerMode.OFF })),
          ],
        },
      },
    });
  }
}
