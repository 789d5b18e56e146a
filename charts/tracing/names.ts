/**
 * Names, hosts and ports of the tracing pipeline's own objects (collector tiers, Jaeger), for the
 * tracing chart and the traffic-policy table. Computed from the plan, never typed twice. What the
 * senders point at (collector Service, OTLP ports, Istio provider name) is in charts/lib/otel.ts.
 *
 * Pipeline: workloads (OTLP/HTTP) and Istio sidecars (OTLP/gRPC, extension provider
 * `otel-tracing`) → `otel-collector` (gateway tier) → trace-ID-routed → `otel-sampler` (tail
 * sampling tier) → Jaeger.
 *
 * The collectors are OpenTelemetryCollector resources; the OpenTelemetry operator names what it
 * generates for a collector `<cr>` after the CR (internal/naming/main.go of the operator):
 * Deployment and Service `<cr>-collector`, Services `<cr>-collector-headless` and
 * `<cr>-collector-monitoring` (unused: Prometheus scrapes the pods' merged sidecar endpoint),
 * each truncated to 63 characters. The gateway CR is therefore
 * named `otel`, so that its Service is `otel-collector`, the name the mesh's extension provider
 * and the SDKs' OTLP endpoint point at.
 */
import type { RegionPlan } from '../../regions/plan';
import { serviceHost } from '../../regions/wiring';
import { COLLECTOR_METRICS_PORT, JAEGER_ADMIN_PORT, OTEL_COLLECTOR_CR, OTLP_GRPC_PORT, OTLP_HTTP_PORT, TRACING_APPS } from '../lib/otel';

export { COLLECTOR_METRICS_PORT };

/** The collectors' health_check extension (the operator derives the probes from it). */
export const COLLECTOR_HEALTH_PORT = 13133;

/** Jaeger all-in-one ports. */
export const JAEGER_PORTS = {
  otlpGrpc: OTLP_GRPC_PORT,
  otlpHttp: OTLP_HTTP_PORT,
  /** Query UI and HTTP API (Grafana's Jaeger datasource, people). */
  queryHttp: 16686,
  queryGrpc: 16685,
  /** Admin server: health check (`/`) and Prometheus metrics (`/metrics`). */
  admin: JAEGER_ADMIN_PORT,
} as const;

/** Longest name the operator keeps untruncated. */
const DNS_LABEL_MAX = 63;

/** What the operator names the Service (and Deployment) of collector `cr`: `<cr>-collector`. */
export function operatorServiceName(cr: string): string {
  const name = `${cr}-collector`;
  if (name.length > DNS_LABEL_MAX) throw new Error(`collector name "${cr}" is too long: the operator would truncate its Service name "${name}" to ${DNS_LABEL_MAX} characters`);
  return name;
}

/** The operator's headless Service of collector `cr` (every pod's address: the trace-ID load balancer resolves it). */
function operatorHeadlessServiceName(cr: string): string {
  return `${operatorServiceName(cr)}-headless`;
}

/**
 * The selector labels the operator puts on a collector's pods (and its Deployment selector):
 * immutable for the collector's lifetime, so spread constraints select on them.
 */
export function operatorSelectorLabels(namespace: string, cr: string): Record<string, string> {
  return {
    'app.kubernetes.io/component': 'opentelemetry-collector',
    'app.kubernetes.io/instance': `${namespace}.${cr}`.slice(0, DNS_LABEL_MAX),
    'app.kubernetes.io/managed-by': 'opentelemetry-operator',
    'app.kubernetes.io/part-of': 'opentelemetry',
  };
}

/** Name of the tail-sampling collector CR (the gateway's, OTEL_COLLECTOR_CR, is in charts/lib/otel.ts). */
const OTEL_SAMPLER_CR = 'otel-sampler';


export interface CollectorTierNames {
  /** OpenTelemetryCollector name. */
  readonly cr: string;
  /** app.kubernetes.io/name on the CR, kept by the operator on the pods (the connection declaration selects on it). */
  readonly app: string;
  /** ServiceAccount we render for the pods (no API access: token not mounted). */
  readonly serviceAccount: string;
  readonly service: string;
  readonly headlessService: string;
}

export interface TracingNames {
  readonly namespace: string;
  /** Receives OTLP from workloads and sidecars, routes spans by trace ID to the sampler tier. */
  readonly collector: CollectorTierNames;
  /** Tail sampling: sees every span of a trace, keeps errors, slow traces and a baseline. */
  readonly sampler: CollectorTierNames;
  readonly jaeger: {
    readonly app: string;
    /** StatefulSet (badger) or Deployment (elasticsearch). */
    readonly workload: string;
    readonly serviceAccount: string;
    /** Headless Service of the badger StatefulSet. */
    readonly headlessService: string;
    /** OTLP receiver (4317/4318): what the sampler tier exports to. */
    readonly collectorService: string;
    /** Query UI/API (16686, 16685) and admin metrics (14269). */
    readonly queryService: string;
    /** ExternalSecret/Secret with the Elasticsearch credentials (elasticsearch storage). */
    readonly elasticsearchSecret: string;
    /** Index cleaner CronJob enforcing retention (elasticsearch storage). */
    readonly indexCleaner: string;
    /** app.kubernetes.io/name of the index cleaner's pods (the connection declaration selects on it). */
    readonly indexCleanerApp: string;
  };
}

export function tracingNames(plan: RegionPlan): TracingNames {
  const p = plan.global.platform.name;
  const tier = (cr: string, app: string): CollectorTierNames => ({
    cr,
    app,
    serviceAccount: `${p}-${app}`,
    service: operatorServiceName(cr),
    headlessService: operatorHeadlessServiceName(cr),
  });
  return {
    namespace: plan.namespaces.monitoring,
    collector: tier(OTEL_COLLECTOR_CR, TRACING_APPS.collector),
    sampler: tier(OTEL_SAMPLER_CR, TRACING_APPS.sampler),
    jaeger: {
      app: TRACING_APPS.jaeger,
      workload: `${p}-jaeger`,
      serviceAccount: `${p}-jaeger`,
      headlessService: `${p}-jaeger-headless`,
      collectorService: `${p}-jaeger-collector`,
      queryService: `${p}-jaeger-query`,
      elasticsearchSecret: `${p}-jaeger-elasticsearch`,
      indexCleaner: `${p}-jaeger-index-cleaner`,
      indexCleanerApp: 'jaeger-index-cleaner',
    },
  };
}

/** In-cluster host of a tracing Service. */
export function tracingHost(plan: RegionPlan, service: string): string {
  return serviceHost(service, plan.namespaces.monitoring);
}

/**
 * The region's trace store from `tracing.jaeger.storage.elasticsearch` (the URL template with the
 * region's name), or none (badger storage, or no cluster configured).
 */
export function elasticsearchFromConfig(plan: RegionPlan): { readonly url: string } | undefined {
  const { storage } = plan.global.tracing.jaeger;
  if (storage.type !== 'elasticsearch' || !storage.elasticsearch) return undefined;
  return { url: storage.elasticsearch.urlTemplate.replaceAll('{region}', plan.region.name) };
}
