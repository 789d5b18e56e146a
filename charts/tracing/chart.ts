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
 * Upstream of this chart, Istio's head sampling (`mesh.traceSamplingPercent`) decides which
 * requests are traced at all: tail sampling can only keep errors among those. To keep every
 * failing request, raise the mesh rate and let the baseline policy do the thinning.
 */
import type { Construct } from 'constructs';
import { sidecarAnnotations } from '../lib/http-service';
import { RegionChart, type RegionChartProps } from '../lib/region-chart';
import {
  DEFAULT_GATEWAY_SIZING,
  DEFAULT_SAMPLER_SIZING,
  gatewayConfig,
  OtelCollector,
  samplerConfig,
  type CollectorTierSizing,
} from './collector';
import { Jaeger, type ElasticsearchStorage } from './jaeger';
import { tracingNames } from './names';
import type { ContainerResources } from '../lib/hardened-pod';

export interface TracingChartProps extends RegionChartProps {
  /** Gateway tier size. @default DEFAULT_GATEWAY_SIZING (2 × 250m/512Mi, limit 1Gi) */
  readonly gateway?: CollectorTierSizing;
  /** Tail-sampling tier size. @default DEFAULT_SAMPLER_SIZING (2 × 500m/2Gi, limit 2Gi) */
  readonly sampler?: CollectorTierSizing;
  /** Jaeger container resources. @default DEFAULT_JAEGER_RESOURCES (500m/2Gi, limit 4Gi) */
  readonly jaegerResources?: ContainerResources;
  /** The external cluster, required when `tracing.jaeger.storage.type` is `elasticsearch`. @default none */
  readonly elasticsearch?: ElasticsearchStorage;
}

export class TracingChart extends RegionChart {
  constructor(scope: Construct, props: TracingChartProps) {
    super(scope, 'tracing', props);
    const { plan } = props;
    const names = tracingNames(plan);
    const image = plan.versions.images.otelCollector;
    // Every pod here is meshed: size its sidecar from config, and hold the exporters until
    // Envoy is up (they dial the next tier at start).
    const podAnnotations = sidecarAnnotations(plan.global.mesh.sidecar);

    new OtelCollector(this, 'gateway', {
      plan,
      names: names.collector,
      config: gatewayConfig(plan, names),
      sizing: props.gateway ?? DEFAULT_GATEWAY_SIZING,
      image,
      component: 'tracing',
      podAnnotations,
    });
    new OtelCollector(this, 'sampler', {
      plan,
      names: names.sampler,
      config: samplerConfig(plan, names),
      sizing: props.sampler ?? DEFAULT_SAMPLER_SIZING,
      image,
      component: 'tracing',
      podAnnotations,
    });
    new Jaeger(this, 'jaeger', {
      plan,
      names,
      resources: props.jaegerResources,
      elasticsearch: props.elasticsearch,
      podAnnotations,
    });
  }
}
