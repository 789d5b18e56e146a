/**
 * Where spans go: the OpenTelemetry names and ports that the senders (API SDK, the mesh's
 * Telemetry and Istio's extension provider), the traffic-policy table and the receiver (the
 * tracing chart's collector) must agree on. One home, so sender and receiver cannot drift.
 */
import type { RegionPlan } from '../../regions/plan';

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

/** `otel-collector.<monitoring namespace>.svc.cluster.local`: the mesh's extension provider `service`. */
export function otelCollectorHost(plan: RegionPlan): string {
  return `${OTEL_COLLECTOR_SERVICE}.${plan.namespaces.monitoring}.svc.cluster.local`;
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
