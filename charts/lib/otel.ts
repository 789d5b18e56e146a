/**
 * Where spans go: the OpenTelemetry names and ports that the senders (API SDK, the mesh's
 * Telemetry and Istio's extension provider), the traffic-policy table and the receiver (the
 * tracing chart's collector) must agree on. One home, so sender and receiver cannot drift.
 */
import {
  ATTR_DEPLOYMENT_ENVIRONMENT_NAME,
  ATTR_K8S_CLUSTER_NAME,
  ATTR_K8S_NAMESPACE_NAME,
  ATTR_K8S_POD_NAME,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
} from '@opentelemetry/semantic-conventions';
import type { k8s } from 'cdk8s-plus-28';
import type { RegionPlan } from '../../regions/plan';
import { serviceHost } from '../../regions/wiring';

/**
 * Istio extension provider (meshConfig.extensionProviders[].name) that sends the sidecars'
 * spans to the collector; the mesh Telemetry names it. The Istio add-on must define it as
 * `opentelemetry: { service: otelCollectorHost(plan), port: OTLP_GRPC_PORT }`.
 */
export const OTEL_TRACING_PROVIDER = 'otel-tracing';

/** OTLP over gRPC: what Envoy's OpenTelemetry tracer speaks, and what the collector tiers forward with. */
export const OTLP_GRPC_PORT = 4317;
/** OTLP over HTTP: the default of most SDKs, and one port for traces, metrics and logs. */
export const OTLP_HTTP_PORT = 4318;

/**
 * Name of the gateway OpenTelemetryCollector CR. The operator names the Service of collector
 * `<cr>` `<cr>-collector` (internal/naming/main.go), so this CR's Service is
 * OTEL_COLLECTOR_SERVICE.
 */
export const OTEL_COLLECTOR_CR = 'otel';
/** Service (in the monitoring namespace) every workload and sidecar sends spans to. */
export const OTEL_COLLECTOR_SERVICE = `${OTEL_COLLECTOR_CR}-collector`;

/**
 * `app.kubernetes.io/name` of the tracing pipeline's pods (the operator keeps it on the collector
 * pods): the traffic policies and the Prometheus scrape select them by it.
 */
export const TRACING_APPS = { collector: 'otel-collector', sampler: 'otel-sampler', jaeger: 'jaeger' } as const;
/** The collectors' own metrics (telemetry.metrics Prometheus reader; operator Service `<cr>-collector-monitoring`). */
export const COLLECTOR_METRICS_PORT = 8888;
/** Jaeger all-in-one's admin server: health check (`/`) and Prometheus metrics (`/metrics`). */
export const JAEGER_ADMIN_PORT = 14269;

/** `otel-collector.<monitoring namespace>.svc.cluster.local`: the mesh's extension provider `service`. */
export function otelCollectorHost(plan: RegionPlan): string {
  return serviceHost(OTEL_COLLECTOR_SERVICE, plan.namespaces.monitoring);
}

/** OTLP/HTTP endpoint for SDKs (`OTEL_EXPORTER_OTLP_ENDPOINT`). */
export function otelCollectorHttpEndpoint(plan: RegionPlan): string {
  return `http://${otelCollectorHost(plan)}:${OTLP_HTTP_PORT}`;
}

/**
 * Resource attribute keys that are still "incubating" in @opentelemetry/semantic-conventions
 * 1.45.0. The package asks runtime code not to import its `/incubating` entry (it may change in
 * a minor release) but to copy the definitions; test/charts/api.test.ts and tracing.test.ts pin
 * these copies to the package's incubating exports, so an upstream rename fails a test instead
 * of a dashboard.
 */
export const ATTR_CLOUD_PROVIDER = 'cloud.provider' as const;
export const ATTR_CLOUD_REGION = 'cloud.region' as const;

/**
 * The SDKs' head sampler (OTEL_TRACES_SAMPLER, OpenTelemetry SDK environment specification):
 * follow the parent's decision, sample every root. No OTEL_TRACES_SAMPLER_ARG: it has none.
 */
export const HEAD_SAMPLER = 'parentbased_always_on';

/** `OTEL_RESOURCE_ATTRIBUTES` format: comma-separated key=value, values percent-encoded. */
function resourceAttributes(attributes: ReadonlyArray<readonly [string, string]>): string {
  return attributes.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join(',');
}

/** Who reports, for otelEnvironment. */
export interface OtelService {
  /** `service.name` (the workload's name). */
  readonly serviceName: string;
  /** `service.version` (the release). */
  readonly version: string;
  /** Namespace of the pods. */
  readonly namespace: string;
  /** Port the pods serve their Prometheus metrics on (metrics are scraped, not pushed). */
  readonly metricsPort: number;
}

/**
 * OpenTelemetry SDK environment of an application container: who is reporting (service,
 * version, environment, cloud, cluster, namespace, pod) and where to (the collector, OTLP/HTTP).
 * Head sampling keeps everything (`parentbased_always_on`): a span whose parent was sampled is
 * recorded, a root span always is. The mesh samples 100 % too (`mesh.traceSamplingPercent`,
 * enforced by the tracing chart), so every trace reaches the collectors, which route it by trace
 * ID to one tail sampler; only that sampler drops traces, after it has seen all their spans (it
 * keeps errors, slow traces and a baseline share). A ratio sampler here would discard most error
 * traces before anything could know they failed.
 */
export function otelEnvironment(plan: RegionPlan, service: OtelService): k8s.EnvVar[] {
  const { global, region } = plan;
  const attributes = resourceAttributes([
    [ATTR_SERVICE_NAME, service.serviceName],
    [ATTR_SERVICE_VERSION, service.version],
    [ATTR_DEPLOYMENT_ENVIRONMENT_NAME, global.platform.environment],
    [ATTR_CLOUD_PROVIDER, region.provider],
    [ATTR_CLOUD_REGION, region.name],
    [ATTR_K8S_CLUSTER_NAME, region.cluster.name],
    [ATTR_K8S_NAMESPACE_NAME, service.namespace],
  ]);
  return [
    // Defined first: Kubernetes expands $(K8S_POD_NAME) only from variables listed before it.
    { name: 'K8S_POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'OTEL_SERVICE_NAME', value: service.serviceName },
    { name: 'OTEL_RESOURCE_ATTRIBUTES', value: `${attributes},${ATTR_K8S_POD_NAME}=$(K8S_POD_NAME)` },
    { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: otelCollectorHttpEndpoint(plan) },
    { name: 'OTEL_EXPORTER_OTLP_PROTOCOL', value: 'http/protobuf' },
    { name: 'OTEL_TRACES_SAMPLER', value: HEAD_SAMPLER },
    { name: 'OTEL_METRICS_EXPORTER', value: 'prometheus' },
    { name: 'OTEL_EXPORTER_PROMETHEUS_PORT', value: String(service.metricsPort) },
  ];
}
