/**
 * The OpenTelemetry collectors of a region, as OpenTelemetryCollector (v1beta1) resources the
 * OpenTelemetry operator turns into Deployments, Services and PodDisruptionBudgets.
 *
 * Two tiers, because tail sampling can only judge a trace when one process sees all of its
 * spans, and the spans of one trace arrive from many pods and sidecars:
 *
 * 1. gateway (`otel`, Service `otel-collector`): receives OTLP gRPC (Istio sidecars) and HTTP
 *    (SDKs), stamps the region's resource attributes and hands each span to the `loadbalancing`
 *    exporter, which sends every span of a trace to the same sampler pod (consistent hash of
 *    the trace ID over the sampler pods that the headless Service's DNS name resolves to);
 * 2. sampler (`otel-sampler`): `tail_sampling` keeps errors, slow traces and a probabilistic
 *    baseline, then exports to Jaeger.
 *
 * Every request is traced (SDKs `parentbased_always_on`, mesh 100 %): the sampler tier is the only
 * place a trace is dropped, after it has seen all of it. Both tiers run one pod per zone at rest
 * (at least two), spread over zones with a PDB, and autoscale on CPU (the operator renders the
 * HPA) up to what the region's peak needs (charts/tracing/sizing.ts), so no pod holds all traces.
 *
 * What a failure costs (bounded, never data in the workloads):
 * - a sampler pod dies (crash, eviction, scale-down, node): the traces it held undecided, about
 *   1/N of the region's traces of the last `decision_wait` seconds, are lost; the gateways
 *   re-resolve the headless Service within 5 s and route those trace IDs to the survivors;
 * - pods come or go: about 1/N of the trace IDs move to another sampler, and a trace in flight
 *   at that moment may be judged on part of its spans (a sampling error: parts of it may be
 *   dropped, an error span still keeps its own part);
 * - a gateway pod dies: the spans in its batch and retry queue (about a second of 1/N of the
 *   traffic); senders retry on the other gateways;
 * - a zone dies: both of the above for the zone's share (1/zones) at once.
 *
 * Not used on purpose: `k8sattributes`. It needs a ClusterRole (pods, namespaces, replicasets
 * cluster-wide, outside what the AppProject allows), and behind Istio it cannot associate spans
 * with pods by connection anyway: the collector's sidecar delivers every span from its own
 * loopback address, not the sender's pod IP. The SDKs set k8s.* attributes themselves (the API
 * chart's OTEL_RESOURCE_ATTRIBUTES) and Istio tags its spans with the workload.
 *
 * Plaintext OTLP between the tiers and to Jaeger (`tls.insecure: true`): every hop is between
 * meshed pods, and the sidecars wrap it in Istio mutual TLS (PeerAuthentication STRICT), with
 * identities the AuthorizationPolicies check. TLS inside would only hide the gRPC stream from
 * the sidecar (opaque TCP: no per-request metrics, no L7 policy) and add certificates to rotate.
 */
import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { ATTR_DEPLOYMENT_ENVIRONMENT_NAME, ATTR_K8S_CLUSTER_NAME } from '@opentelemetry/semantic-conventions';
import {
  OpenTelemetryCollectorV1Beta1,
  OpenTelemetryCollectorV1Beta1SpecDeploymentUpdateStrategyRollingUpdateMaxSurge as MaxSurge,
  OpenTelemetryCollectorV1Beta1SpecDeploymentUpdateStrategyRollingUpdateMaxUnavailable as MaxUnavailable,
  OpenTelemetryCollectorV1Beta1SpecManagementState as ManagementState,
  OpenTelemetryCollectorV1Beta1SpecMode as Mode,
  OpenTelemetryCollectorV1Beta1SpecPodDisruptionBudgetMaxUnavailable as PdbMaxUnavailable,
  OpenTelemetryCollectorV1Beta1SpecResourcesLimits as Limits,
  OpenTelemetryCollectorV1Beta1SpecResourcesRequests as Requests,
  OpenTelemetryCollectorV1Beta1SpecUpgradeStrategy as UpgradeStrategy,
  type OpenTelemetryCollectorV1Beta1SpecConfig,
} from '../../imports/otelcollector-opentelemetry.io';
import type { GlobalConfig, ImageRelease } from '../../regions/model';
import type { RegionPlan } from '../../regions/plan';
import { parseQuantity } from '../../regions/quantity';
import { RESTRICTED_CONTAINER_SECURITY, zoneSpread } from '../lib/hardened-pod';
import { nodePlacement } from '../lib/node-placement';
import { imageReference } from '../lib/image';
import { LABELS } from '../lib/labels';
import { appLabels, SYNC_WAVE, syncWave } from '../lib/metadata';
import { ATTR_CLOUD_PROVIDER, ATTR_CLOUD_REGION, OTLP_GRPC_PORT, OTLP_HTTP_PORT } from '../lib/otel';
import { COLLECTOR_TARGET_CPU_PERCENT, type CollectorTierSizing, type TracingSizing } from './sizing';
import {
  COLLECTOR_HEALTH_PORT,
  COLLECTOR_METRICS_PORT,
  JAEGER_PORTS,
  operatorSelectorLabels,
  tracingHost,
  type CollectorTierNames,
  type TracingNames,
} from './names';

/** UID/GID the upstream collector images run as. */
const COLLECTOR_USER = 10001;

/**
 * Trace IDs whose "keep" decision a sampler remembers, so spans arriving after the decision (a
 * slow client span, a retry) still reach Jaeger with the rest of a kept trace.
 */
const SAMPLED_DECISION_CACHE = 100_000;
/** Shortest wait for a trace's spans before deciding. */
const MIN_DECISION_WAIT_SECONDS = 10;

/** Names of the tail-sampling policies (shown in the sampler's metrics and logs). */
export const POLICY = { errors: 'keep-errors', slow: 'keep-slow', baseline: 'baseline' } as const;

/**
 * How long the sampler waits for a trace's spans before deciding: twice the slow-trace
 * threshold (a trace slower than it must have ended to be measured), at least 10 s.
 */
export function decisionWaitSeconds(slowTraceMs: number): number {
  return Math.max(MIN_DECISION_WAIT_SECONDS, Math.ceil((2 * slowTraceMs) / 1000));
}

/**
 * The tail-sampling policies. A trace is kept when any policy samples it: every trace with an
 * error span, every trace longer than `slowTraceMs`, and `baselineSamplingPercent` % of the
 * rest (decided on the trace ID, so every sampler pod agrees).
 */
function tailSamplingPolicies(tracing: GlobalConfig['tracing']): Record<string, unknown>[] {
  return [
    { name: POLICY.errors, type: 'status_code', status_code: { status_codes: ['ERROR'] } },
    { name: POLICY.slow, type: 'latency', latency: { threshold_ms: tracing.slowTraceMs } },
    { name: POLICY.baseline, type: 'probabilistic', probabilistic: { sampling_percentage: tracing.baselineSamplingPercent } },
  ];
}

/**
 * Resource attributes the gateway sets on every span (semantic-conventions keys): where it was
 * recorded. `upsert`: the collector knows its region and cluster for certain, whatever a sender
 * claims, so traces from four regions meeting in one view stay attributable.
 */
export function resourceAttributes(plan: RegionPlan): Array<{ key: string; value: string; action: 'upsert' }> {
  const { global, region } = plan;
  return [
    [ATTR_CLOUD_PROVIDER, region.provider],
    [ATTR_CLOUD_REGION, region.name],
    [ATTR_K8S_CLUSTER_NAME, region.cluster.name],
    [ATTR_DEPLOYMENT_ENVIRONMENT_NAME, global.platform.environment],
  ].map(([key, value]) => ({ key, value, action: 'upsert' as const }));
}

/** Drops data before the container's memory limit is reached instead of being OOM-killed. */
const MEMORY_LIMITER = { check_interval: '1s', limit_percentage: 80, spike_limit_percentage: 20 };

const HEALTH_CHECK = { health_check: { endpoint: `0.0.0.0:${COLLECTOR_HEALTH_PORT}` } };

/**
 * Own metrics on 8888, which the sidecar's agent merges into its endpoint for Prometheus (the
 * pods' prometheus.io/* annotations, a PodMonitor: charts/lib/monitoring-targets.ts). Bound to
 * all interfaces: since collector 0.111 the default is localhost only.
 */
const TELEMETRY = {
  metrics: { level: 'normal', readers: [{ pull: { exporter: { prometheus: { host: '0.0.0.0', port: COLLECTOR_METRICS_PORT } } } }] },
};

/**
 * Receivers listen on all interfaces: the pod's sidecar delivers inbound traffic to the pod IP,
 * and since collector 0.104 the OTLP receiver's default is localhost only.
 */
const otlpReceiver = (http: boolean) => ({
  otlp: {
    protocols: {
      grpc: { endpoint: `0.0.0.0:${OTLP_GRPC_PORT}` },
      ...(http ? { http: { endpoint: `0.0.0.0:${OTLP_HTTP_PORT}` } } : {}),
    },
  },
});

/** Gateway tier: OTLP in, region attributes, spans of one trace to one sampler pod. */
export function gatewayConfig(plan: RegionPlan, names: TracingNames): OpenTelemetryCollectorV1Beta1SpecConfig {
  return {
    receivers: otlpReceiver(true),
    processors: {
      memory_limiter: MEMORY_LIMITER,
      'resource/region': { attributes: resourceAttributes(plan) },
      // At most 2,048 spans a request: an unbounded batch after a backlog could pass the next
      // tier's 4 MiB gRPC message limit and be refused whole.
      batch: { send_batch_size: 1024, send_batch_max_size: 2048, timeout: '1s' },
    },
    exporters: {
      loadbalancing: {
        routing_key: 'traceID',
        // One exporter per sampler pod, dialled by pod IP. The operator names the headless
        // Service's port otlp-grpc (gRPC to Istio), and the sidecar routes gRPC by :authority:
        // a pod IP matches no route (REGISTRY_ONLY: BlackHole), the Service's name does, and the
        // headless route forwards to the address dialled. Plain text here, mTLS by the sidecars.
        protocol: { otlp: { tls: { insecure: true }, timeout: '10s', authority: tracingHost(plan, names.sampler.headlessService) } },
        // The headless Service resolves to every ready sampler pod; re-resolved every 5 s.
        resolver: { dns: { hostname: tracingHost(plan, names.sampler.headlessService), port: String(OTLP_GRPC_PORT), interval: '5s' } },
      },
    },
    extensions: HEALTH_CHECK,
    service: {
      extensions: ['health_check'],
      telemetry: TELEMETRY,
      pipelines: { traces: { receivers: ['otlp'], processors: ['memory_limiter', 'resource/region', 'batch'], exporters: ['loadbalancing'] } },
    },
  };
}

/** Sampler tier: whole traces in, the ones worth keeping out to Jaeger. */
export function samplerConfig(plan: RegionPlan, names: TracingNames, sizing: TracingSizing): OpenTelemetryCollectorV1Beta1SpecConfig {
  const tracing = plan.global.tracing;
  return {
    receivers: otlpReceiver(false),
    processors: {
      memory_limiter: MEMORY_LIMITER,
      tail_sampling: {
        decision_wait: `${decisionWaitSeconds(tracing.slowTraceMs)}s`,
        // Sized for the region's peak spread over the most sampler pods (charts/tracing/sizing.ts).
        num_traces: sizing.samplerNumTraces,
        expected_new_traces_per_sec: sizing.samplerExpectedTracesPerSecond,
        decision_cache: { sampled_cache_size: SAMPLED_DECISION_CACHE },
        policies: tailSamplingPolicies(tracing),
      },
      // At most 2,048 spans a request: an unbounded batch after a backlog could pass the next
      // tier's 4 MiB gRPC message limit and be refused whole.
      batch: { send_batch_size: 1024, send_batch_max_size: 2048, timeout: '1s' },
    },
    exporters: {
      'otlp/jaeger': {
        endpoint: `${tracingHost(plan, names.jaeger.collectorService)}:${JAEGER_PORTS.otlpGrpc}`,
        tls: { insecure: true },
        // Rides out a Jaeger rollout or an unreachable store (minutes) without dropping kept traces.
        sending_queue: { enabled: true, num_consumers: 4, queue_size: 5000 },
        retry_on_failure: { enabled: true, initial_interval: '5s', max_interval: '30s', max_elapsed_time: '300s' },
      },
    },
    extensions: HEALTH_CHECK,
    service: {
      extensions: ['health_check'],
      telemetry: TELEMETRY,
      pipelines: { traces: { receivers: ['otlp'], processors: ['memory_limiter', 'tail_sampling', 'batch'], exporters: ['otlp/jaeger'] } },
    },
  };
}

/**
 * Go's threads at the requested cores: with no CPU limit the operator leaves GOMAXPROCS unset,
 * and Go takes the node's core count, running dozens of threads on a one-core share.
 */
function goMaxProcs(cpuRequest: string): string {
  return String(Math.max(1, Math.ceil(parseQuantity(cpuRequest))));
}

/** Go's soft memory limit at 80 % of the container limit, so the GC works before the kernel kills. */
function goMemLimit(memoryLimit: string): string {
  return `${Math.floor((parseQuantity(memoryLimit) * 0.8) / 2 ** 20)}MiB`;
}

/** Pod Security "restricted", as the operator copies it into the collector container and pod. */
const COLLECTOR_SECURITY_CONTEXT = RESTRICTED_CONTAINER_SECURITY;

const COLLECTOR_POD_SECURITY_CONTEXT = {
  runAsNonRoot: true,
  runAsUser: COLLECTOR_USER,
  runAsGroup: COLLECTOR_USER,
  fsGroup: COLLECTOR_USER,
  seccompProfile: { type: 'RuntimeDefault' },
};

export interface OtelCollectorProps {
  /** The region's plan. */
  readonly plan: RegionPlan;
  /** This tier's names (CR, Services, ServiceAccount). */
  readonly names: CollectorTierNames;
  /** The tier's pipeline: receivers, processors, exporters. */
  readonly config: OpenTelemetryCollectorV1Beta1SpecConfig;
  /** Replica bounds and resources of the tier (charts/tracing/sizing.ts). */
  readonly sizing: CollectorTierSizing;
  /** Collector image the operator runs. */
  readonly image: ImageRelease;
  /** What the tier does, for `app.kubernetes.io/component`. */
  readonly component: string;
  /** Pod annotations (Istio sidecar sizing). @default none */
  readonly podAnnotations?: Readonly<Record<string, string>>;
}

/** One collector tier: its ServiceAccount and its OpenTelemetryCollector. */
export class OtelCollector extends Construct {
  readonly apiObject: ApiObject;
  /** Labels the operator puts on the pods and selects them by. */
  readonly selectorLabels: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: OtelCollectorProps) {
    super(scope, id);
    const { plan, names, sizing } = props;
    const namespace = plan.namespaces.monitoring;
    if (!Number.isInteger(sizing.minReplicas) || sizing.minReplicas < 2) {
      throw new Error(`collector ${names.cr}: minReplicas (${sizing.minReplicas}) must be >= 2, one pod is a single point of failure for every span`);
    }
    if (!Number.isInteger(sizing.maxReplicas) || sizing.maxReplicas < sizing.minReplicas) {
      throw new Error(`collector ${names.cr}: maxReplicas (${sizing.maxReplicas}) must be >= minReplicas (${sizing.minReplicas})`);
    }
    const r = sizing.resources;
    if (parseQuantity(r.requests.memory) > parseQuantity(r.limits.memory)) {
      throw new Error(`collector ${names.cr}: memory request (${r.requests.memory}) must be <= memory limit (${r.limits.memory})`);
    }
    const labels = appLabels(plan, names.app, props.component);
    this.selectorLabels = operatorSelectorLabels(namespace, names.cr);

    new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: { name: names.serviceAccount, namespace, labels, annotations: syncWave(SYNC_WAVE.config) },
      // The collectors never call the Kubernetes API (DNS resolver, no k8sattributes).
      automountServiceAccountToken: false,
    });

    this.apiObject = new OpenTelemetryCollectorV1Beta1(this, 'Resource', {
      metadata: {
        name: names.cr,
        namespace,
        // The operator copies these onto the pods, replacing instance/component/part-of/
        // managed-by/version with its own; app.kubernetes.io/name and the region stay, and the
        // traffic policies select the pods by app.kubernetes.io/name.
        labels: { ...labels, [LABELS.version]: props.image.version },
        annotations: syncWave(SYNC_WAVE.workloads),
      },
      spec: {
        mode: Mode.DEPLOYMENT,
        managementState: ManagementState.MANAGED,
        // The CR is owned by git: the operator must not rewrite it on its own upgrades.
        upgradeStrategy: UpgradeStrategy.NONE,
        image: imageReference(props.image),
        imagePullPolicy: 'IfNotPresent',
        // The operator renders an HPA from `autoscaler` and leaves the Deployment's size to it.
        replicas: sizing.minReplicas,
        autoscaler: {
          minReplicas: sizing.minReplicas,
          maxReplicas: sizing.maxReplicas,
          targetCpuUtilization: COLLECTOR_TARGET_CPU_PERCENT,
          // Scale down slowly: every sampler pod that leaves drops the traces it holds undecided.
          behavior: { scaleDown: { stabilizationWindowSeconds: 600, policies: [{ type: 'Pods', value: 1, periodSeconds: 120 }] } },
        },
        serviceAccount: names.serviceAccount,
        resources: {
          requests: { cpu: Requests.fromString(r.requests.cpu), memory: Requests.fromString(r.requests.memory) },
          limits: { memory: Limits.fromString(r.limits.memory), ...(r.limits.cpu ? { cpu: Limits.fromString(r.limits.cpu) } : {}) },
        },
        env: [{ name: 'GOMEMLIMIT', value: goMemLimit(r.limits.memory) }, { name: 'GOMAXPROCS', value: goMaxProcs(r.requests.cpu) }],
        securityContext: COLLECTOR_SECURITY_CONTEXT,
        podSecurityContext: COLLECTOR_POD_SECURITY_CONTEXT,
        podAnnotations: props.podAnnotations ? { ...props.podAnnotations } : undefined,
        podDisruptionBudget: { maxUnavailable: PdbMaxUnavailable.fromNumber(1) },
        topologySpreadConstraints: zoneSpread(this.selectorLabels, ['pod-template-hash']),
        // On-demand nodes only (charts/lib/node-placement.ts).
        affinity: nodePlacement('platform', props.plan.global.platform.name).affinity,
        // One extra pod at a time: at the autoscaler's maximum a 25 % surge (10 samplers, 8
        // collectors) went past the monitoring quota, so the surge pods were refused and the
        // rollout stalled (rule quota-holds-workloads counts the surge). A full roll takes longer.
        deploymentUpdateStrategy: {
          type: 'RollingUpdate',
          rollingUpdate: { maxSurge: MaxSurge.fromNumber(1), maxUnavailable: MaxUnavailable.fromNumber(0) },
        },
        // The operator builds the probes from the health_check extension; these tune them.
        livenessProbe: { initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
        readinessProbe: { periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3 },
        // Traffic policy comes from the connection declaration (charts/wiring/), not the operator.
        networkPolicy: { enabled: false },
        // No operator ServiceMonitor: Prometheus scrapes the pods' merged sidecar endpoint (PodMonitor).
        observability: { metrics: { enableMetrics: false } },
        config: props.config,
      },
    });
  }
}
