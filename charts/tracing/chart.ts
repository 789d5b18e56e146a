/**
 * Distributed tracing of a region (dist/<region>/tracing.yaml), in the monitoring namespace:
 *
 *   API/web SDKs ──OTLP/HTTP 4318──┐
 *   Istio sidecars ─OTLP/gRPC 4317─┴─▶ otel-collector (gateway, ≥2 pods) ──trace ID──▶
 *       otel-sampler (tail sampling, ≥2 pods) ──OTLP/gRPC──▶ Jaeger (storage from config)
 *
 * The gateway's Service is `otel-collector`: the name the mesh's extension provider
 * (`otel-tracing`) and the SDKs' OTLP endpoint use (charts/tracing/names.ts). Tail sampling
 * keeps every trace with an error, every trace slower than `tracing.slowTraceMs`, and
 * `tracing.baselineSamplingPercent` % of the rest. Both collector tiers and Jaeger are
 * described in charts/tracing/collector.ts and charts/tracing/jaeger.ts.
 *
 * Head sampling keeps everything: the mesh traces 100 % of requests (`mesh.traceSamplingPercent`,
 * which this chart refuses below 100) and the SDKs follow (`parentbased_always_on`,
 * charts/lib/otel.ts). Tail sampling can only keep errors among the traces that reach it, so the
 * only place a trace is dropped is the sampler tier, after it has seen all of it. The tiers are
 * sized and autoscaled for that (charts/tracing/sizing.ts).
 *
 * No single pod holds all traces: both collector tiers run one pod per zone at rest and scale
 * out; Jaeger with `elasticsearch` storage is stateless (several pods, PDB, zone spread) in
 * front of the region's own replicated cluster. `badger` (one pod, one volume) remains for
 * test clusters and is a single point of failure: see jaeger.ts.
 */
import type { Construct } from 'constructs';
import { HTTP_DRAIN_SECONDS, sidecarAnnotations } from '../lib/http-service';
import { meshedTarget, mergedMetricsAnnotations } from '../lib/monitoring-targets';
import { RegionChart, type RegionChartProps } from '../lib/region-chart';
import { decisionWaitSeconds, gatewayConfig, OtelCollector, samplerConfig } from './collector';
import { Jaeger, JAEGER_GRACE_SECONDS, type ElasticsearchStorage } from './jaeger';
import { tracingSizing, type CollectorTierSizing } from './sizing';
import { elasticsearchFromConfig, tracingNames } from './names';
import type { ContainerResources } from '../lib/hardened-pod';

export interface TracingChartProps extends RegionChartProps {
  /** Gateway tier size. @default tracingSizing(plan).gateway — one pod per zone up to the region's peak */
  readonly gateway?: CollectorTierSizing;
  /** Tail-sampling tier size. @default tracingSizing(plan).sampler — one pod per zone up to the region's peak */
  readonly sampler?: CollectorTierSizing;
  /** Jaeger container resources. @default DEFAULT_JAEGER_RESOURCES (1 CPU/2Gi, limit 2Gi) */
  readonly jaegerResources?: ContainerResources;
  /**
   * The external cluster for `tracing.jaeger.storage.type: elasticsearch`.
   * @default from `tracing.jaeger.storage.elasticsearch` (URL template with the region's name)
   */
  readonly elasticsearch?: ElasticsearchStorage;
}

export class TracingChart extends RegionChart {
  constructor(scope: Construct, props: TracingChartProps) {
    super(scope, 'tracing', props);
    const { plan } = props;
    const head = plan.global.mesh.traceSamplingPercent;
    if (head !== 100) {
      throw new Error(
        `mesh.traceSamplingPercent is ${head}: it must be 100. Head sampling drops traces before the tail sampler can see their errors ` +
          `(${100 - head} % of all error traces would be lost); thin stored traces with tracing.baselineSamplingPercent instead`,
      );
    }
    const names = tracingNames(plan);
    const sizing = tracingSizing(plan, decisionWaitSeconds(plan.global.tracing.slowTraceMs));
    const image = plan.versions.images.otelCollector;
    // Every pod here is meshed: size its sidecar from config, and hold the exporters until
    // Envoy is up (they dial the next tier at start).
    // The sidecar drains most of the grace period (as the API's): a stopping collector or Jaeger
    // still flushes its queues (to the samplers, to Jaeger, to Elasticsearch) through it, which
    // Istio's default 5 s would cut on every scale-down.
    // Istio merges each pod's own metrics into the sidecar's endpoint, which Prometheus scrapes
    // (charts/lib/monitoring-targets.ts; stated here, not left to the operator's default ones).
    const withMetrics = (app: string, drainSeconds = HTTP_DRAIN_SECONDS) => ({
      ...sidecarAnnotations(plan.global.mesh.sidecar, drainSeconds),
      ...mergedMetricsAnnotations(meshedTarget(plan, app)),
    });

    new OtelCollector(this, 'gateway', {
      plan,
      names: names.collector,
      config: gatewayConfig(plan, names),
      sizing: props.gateway ?? sizing.gateway,
      image,
      component: 'tracing',
      podAnnotations: withMetrics(names.collector.app),
    });
    new OtelCollector(this, 'sampler', {
      plan,
      names: names.sampler,
      config: samplerConfig(plan, names, sizing),
      sizing: props.sampler ?? sizing.sampler,
      image,
      component: 'tracing',
      podAnnotations: withMetrics(names.sampler.app),
    });
    new Jaeger(this, 'jaeger', {
      plan,
      names,
      resources: props.jaegerResources,
      elasticsearch: props.elasticsearch ?? elasticsearchFromConfig(plan),
      podAnnotations: withMetrics(names.jaeger.app, JAEGER_GRACE_SECONDS - 5),
    });
  }
}
