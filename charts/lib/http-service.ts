/**
 * What every HTTP service we run on the mesh shares (the API and the web front end): its
 * container ports and probes, the Kubernetes Services in front of it, the Istio sidecar
 * sizing on its pods, the revision label that tells one pod template from the next, and the
 * release gate measured on Istio's standard request metrics.
 *
 * Charts keep only what differs (strategy, config, names); the conventions live here once so
 * the canary and the blue-green release are judged by the very same queries.
 */
import { createHash } from 'node:crypto';
import { ApiObject, type ApiObjectMetadata } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { type AnalysisTemplateSpecMetrics, AnalysisTemplateSpecMetricsCount, AnalysisTemplateSpecMetricsFailureLimit } from '../../imports/analysistemplate-argoproj.io';
import { Rollout, toJson_RolloutSpec, type RolloutSpec } from '../../imports/rollouts-argoproj.io';
import type { AnalysisThresholds, GlobalConfig, ServiceWorkload } from '../../regions/model';
import { durationToSeconds, MIN_RATE_WINDOW_SECONDS, promDuration, promString } from './promql';
import { shutdownSafeProxy } from './metadata';

// ------------------------------------------------------------------ ports, probes, Services

/** Port names: Istio picks the protocol from the `http` prefix, Prometheus monitors select `http-metrics`. */
const HTTP_PORT_NAME = 'http';
const METRICS_PORT_NAME = 'http-metrics';

export function httpContainerPorts(port: number, metricsPort: number): { name: string; containerPort: number }[] {
  if (port === metricsPort) throw new Error(`the HTTP port (${port}) and the metrics port (${metricsPort}) must differ`);
  return [
    { name: HTTP_PORT_NAME, containerPort: port },
    { name: METRICS_PORT_NAME, containerPort: metricsPort },
  ];
}

/**
 * Probes from the workload config. The startup probe gives a cold start up to a minute before
 * liveness may kill it; readiness is checked often, because a Rollout only shifts traffic (and
 * only starts an analysis) once the new pods are ready.
 */
export function httpProbes(w: ServiceWorkload): { livenessProbe: k8s.Probe; readinessProbe: k8s.Probe; startupProbe: k8s.Probe } {
  const get = (path: string) => ({ httpGet: { path, port: k8s.IntOrString.fromNumber(w.port) } });
  return {
    startupProbe: { ...get(w.livenessPath), periodSeconds: 2, failureThreshold: 30, timeoutSeconds: 2 },
    livenessProbe: { ...get(w.livenessPath), periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 2 },
    readinessProbe: { ...get(w.readinessPath), periodSeconds: 5, failureThreshold: 3, timeoutSeconds: 2 },
  };
}

export interface HttpServiceProps {
  /** Service name. */
  readonly name: string;
  /** Namespace of the Service. */
  readonly namespace: string;
  /** Labels of the Service. */
  readonly labels: Readonly<Record<string, string>>;
  /** Pod selector labels. Argo Rollouts adds `rollouts-pod-template-hash` to it at run time. */
  readonly selector: Readonly<Record<string, string>>;
  /** Service port for user traffic; the same number as the container port, so VirtualServices can name it from config. */
  readonly port: number;
  /** Port of the Prometheus metrics endpoint (port name `http-metrics`); must differ from `port`. */
  readonly metricsPort: number;
  /** Annotations of the Service. @default none — nothing beyond the labels is needed */
  readonly annotations?: Readonly<Record<string, string>>;
}

/** A ClusterIP Service with an `http` port and an `http-metrics` port, both targeting the named container ports. */
export class HttpService extends Construct {
  readonly apiObject: ApiObject;

  constructor(scope: Construct, id: string, props: HttpServiceProps) {
    super(scope, id);
    const port = (name: string, number: number): k8s.ServicePort => ({
      name,
      port: number,
      targetPort: k8s.IntOrString.fromString(name),
      protocol: 'TCP',
      appProtocol: 'http',
    });
    this.apiObject = new k8s.KubeService(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace, labels: { ...props.labels }, annotations: props.annotations ? { ...props.annotations } : undefined },
      spec: {
        type: 'ClusterIP',
        selector: { ...props.selector },
        ports: [port(HTTP_PORT_NAME, props.port), port(METRICS_PORT_NAME, props.metricsPort)],
      },
    });
  }
}

// ------------------------------------------------------------------ meshed pods

/**
 * Sizes the injected istio-proxy from config. Without these the sidecar gets the mesh-wide
 * default, and regions/invariants.ts (quota = pods x (app + sidecar)) would count something
 * other than what runs.
 */
export function sidecarAnnotations(sidecar: GlobalConfig['mesh']['sidecar'], drainSeconds?: number): Record<string, string> {
  return {
    'sidecar.istio.io/proxyCPU': sidecar.requests.cpu,
    'sidecar.istio.io/proxyMemory': sidecar.requests.memory,
    'sidecar.istio.io/proxyMemoryLimit': sidecar.limits.memory,
    // The app dials Redis, PgBouncer and the collector at start-up: hold it until Envoy is
    // ready, or the first connections fail outside the mesh's mTLS. With `drainSeconds`, the
    // sidecar also keeps the pod's network that long after SIGTERM (shutdownSafeProxy). One
    // proxy config: a second annotation spread after this one would replace it whole.
    ...(drainSeconds === undefined ? { 'proxy.istio.io/config': JSON.stringify({ holdApplicationUntilProxyStarts: true }) } : shutdownSafeProxy(drainSeconds)),
  };
}

/**
 * Seconds an API or web pod gets to stop. SIGTERM reaches the app and its sidecar at once, while
 * callers' sidecars still route to the pod until its endpoint removal reaches them (Istio cannot
 * bound that: istio/istio#7665). With Istio's default the sidecar exits after 5 s and takes the
 * pod's outbound connections (Redis, PgBouncer, the collector) with it; HTTP_DRAIN_SECONDS keeps
 * it draining for all but the last five seconds. The app's half (keep serving ~10 s after
 * SIGTERM, then finish in-flight requests) is its own contract: docs/rollouts.md.
 */
export const HTTP_GRACE_SECONDS = 30;
/** How long an API or web pod's sidecar drains after SIGTERM (sidecarAnnotations' `drainSeconds`). */
export const HTTP_DRAIN_SECONDS = HTTP_GRACE_SECONDS - 5;

/** Istio reads `destination_canonical_revision` on its request metrics from this pod label. */
export const REVISION_LABEL = 'service.istio.io/canonical-revision';

/**
 * Labels the pod template with a revision derived from its own content (`<version>-<hash>`).
 *
 * Why: the release gate must judge the new pods only. Argo Rollouts' subset routing sends
 * stable and canary traffic to the same Kubernetes Service host, so Istio's
 * `destination_service_name` cannot tell them apart; the canonical revision can. A version
 * alone is not enough (a config-only change keeps the version), the content hash is: any
 * template change yields a new revision, the same template always the same one.
 */
export function withTemplateRevision(template: k8s.PodTemplateSpec, version: string): { template: k8s.PodTemplateSpec; revision: string } {
  const digest = createHash('sha256').update(canonicalJson(k8s.toJson_PodTemplateSpec(template))).digest('hex').slice(0, 10);
  const prefix = version.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 40).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  const revision = prefix ? `${prefix}-${digest}` : digest;
  const metadata = template.metadata ?? {};
  return { template: { ...template, metadata: { ...metadata, labels: { ...metadata.labels, [REVISION_LABEL]: revision } } }, revision };
}

/**
 * JSON with object keys in code-point order at every level: a hash of it changes with the
 * content only, never with the key order a library version happens to emit (a changed
 * revision label would roll every pod for nothing).
 */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Hex SHA-256 of a ConfigMap's data: a pod annotation, so a config change is a new release (and is gated like one). */
export function configHash(data: Readonly<Record<string, string>>): string {
  return createHash('sha256').update(canonicalJson(data)).digest('hex');
}

// ------------------------------------------------------------------ the Rollout object

export interface RolloutObjectProps {
  /** Metadata of the Rollout (explicit name, labels). */
  readonly metadata: ApiObjectMetadata;
  /** Everything but the pod template, typed by the Rollout CRD. */
  readonly spec: Omit<RolloutSpec, 'template'>;
  /** The pod template, as hardenedPodTemplate builds it. */
  readonly template: k8s.PodTemplateSpec;
}

/**
 * An Argo Rollout whose pod template is serialised by Kubernetes' own PodTemplateSpec mapper.
 * The generated Rollout class types container resources as `any` and reads int-or-string
 * fields as `.value`, so neither a cdk8s-plus template (quantities as objects) nor plain JSON
 * (ports as numbers) survives its mapper intact; the rest of the spec goes through it.
 */
export function rolloutObject(scope: Construct, id: string, props: RolloutObjectProps): ApiObject {
  return new ApiObject(scope, id, {
    ...Rollout.GVK,
    metadata: props.metadata,
    spec: { ...toJson_RolloutSpec(props.spec), template: k8s.toJson_PodTemplateSpec(props.template) },
  });
}

// ------------------------------------------------------------------ release gate (Istio request metrics)

/**
 * The PromQL range of each measurement: the analysis interval, but at least
 * MIN_RATE_WINDOW_SECONDS (four scrapes) so `rate()` never judges a release on one or two
 * samples. With a 1m interval successive measurements overlap by half a window: each still
 * sees the last minute's traffic, and no failing minute goes unmeasured.
 */
function rateWindow(interval: string): string {
  return promDuration(Math.max(MIN_RATE_WINDOW_SECONDS, durationToSeconds(interval)));
}

/**
 * Label matchers for the requests a release gate judges: those the new pods served.
 * - `reporter="destination"`: measured by the server-side sidecar of the pods under test, so
 *   client retries and other callers' sidecars do not blur it;
 * - the app's canonical service (its pods' app.kubernetes.io/name), never
 *   `destination_service_name`: canary and stable, or active and preview, Services select the
 *   same pods at times, and the sidecar names an inbound request after the first of them in
 *   istiod's order (creation time, then host name), not after the one it came through;
 * - the canonical revision the AnalysisTemplate argument `revisionArg` carries
 *   (withTemplateRevision): old pods still draining stay out.
 */
export function releaseRequestSelector(props: { readonly namespace: string; readonly app: string; readonly revisionArg: string }): string {
  const labels = {
    reporter: 'destination',
    destination_workload_namespace: props.namespace,
    destination_canonical_service: props.app,
    destination_canonical_revision: `{{args.${props.revisionArg}}}`,
  };
  return Object.entries(labels).map(([k, v]) => `${k}=${promString(v)}`).join(',');
}

/**
 * Share of requests answered without a server error. Response code 0 (Envoy saw the
 * connection reset, no response at all) counts as a failure, like a 5xx.
 */
function successRateQuery(selector: string, window: string): string {
  return (
    `sum(rate(istio_requests_total{${selector},response_code!~"0|5.."}[${window}]))` +
    ` / sum(rate(istio_requests_total{${selector}}[${window}]))`
  );
}

/** 95th percentile request duration in milliseconds (Istio's standard histogram). */
function latencyP95Query(selector: string, window: string): string {
  return `histogram_quantile(0.95, sum by (le) (rate(istio_request_duration_milliseconds_bucket{${selector}}[${window}])))`;
}

/**
 * The success condition of one measurement. No traffic shows up as an empty vector (no
 * series) or NaN (0/0, or a quantile of nothing); Argo Rollouts documents `len(result) == 0`
 * and `isNaN()` for these, and they fail: a release gate that sees no request has proven
 * nothing (a gate with nothing to judge is a smoke test's job). Only a successCondition is set, no
 * failureCondition: every measurement is then Successful or Failed, never Inconclusive, and
 * an Inconclusive run would pause the rollout until a human acts.
 */
function measurementCondition(comparison: string): string {
  return `(len(result) == 0 || isNaN(result[0])) ? false : result[0] ${comparison}`;
}

export interface ReleaseGateProps {
  /** Prometheus base URL (the plan's names.monitoring.prometheusUrl). */
  readonly prometheusUrl: string;
  /** Success rate, p95 latency, interval and count of the analysis, from config. */
  readonly thresholds: AnalysisThresholds;
  /** PromQL label matchers of the requests under test (see releaseRequestSelector). */
  readonly selector: string;
}

/**
 * The two measurements every release must pass: success rate >= minSuccessRate and p95
 * latency < maxLatencyP95Ms, each `count` times every `interval`. More than `failureLimit`
 * failed measurements fail the run, and a failed run aborts the release: Argo Rollouts sends
 * all traffic back to the stable version by itself. The first measurement waits one window,
 * so it judges only traffic that reached the pods under test.
 */
export function releaseGateMetrics(props: ReleaseGateProps): AnalysisTemplateSpecMetrics[] {
  const t = props.thresholds;
  const window = rateWindow(t.interval);
  const common = {
    interval: t.interval,
    initialDelay: window,
    count: AnalysisTemplateSpecMetricsCount.fromNumber(t.count),
    failureLimit: AnalysisTemplateSpecMetricsFailureLimit.fromNumber(t.failureLimit),
  };
  return [
    {
      name: 'success-rate',
      ...common,
      successCondition: measurementCondition(`>= ${t.minSuccessRate}`),
      provider: { prometheus: { address: props.prometheusUrl, query: successRateQuery(props.selector, window) } },
    },
    {
      name: 'latency-p95',
      ...common,
      successCondition: measurementCondition(`< ${t.maxLatencyP95Ms}`),
      provider: { prometheus: { address: props.prometheusUrl, query: latencyP95Query(props.selector, window) } },
    },
  ];
}

/** Wall time of one analysis run: the initial delay, then `count` measurements `interval` apart. */
export function analysisDurationSeconds(t: AnalysisThresholds): number {
  return durationToSeconds(rateWindow(t.interval)) + (t.count - 1) * durationToSeconds(t.interval);
}
