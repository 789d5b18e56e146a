/**
 * How big the collector tiers must be when every request is traced (head sampling 100 %), derived
 * from the region's config so they follow the autoscaling bounds of the API and the web front end.
 *
 * Assumptions (each a named constant below, so a measurement replaces a guess in one place):
 * - The busiest the region gets is every API pod at `autoscaling.api.maxReplicas` serving
 *   `workloads.api.targetRequestsPerSecond` (the HPA's target), and the same for the web front end.
 *   At the shipped bounds: 1000 × 40 = 40 000 API and 200 × 100 = 20 000 web requests/s.
 * - Spans per request: an API request makes ~6 (ingress gateway, the API's sidecar, the SDK's
 *   server span and ~3 client spans to PgBouncer/Redis; TCP hops make no Envoy spans); a web
 *   request ~4 (gateway, sidecar in and out, SDK server span), the API call it makes counted with
 *   the API. Peak: 40 000 × 6 + 20 000 × 4 = 320 000 spans/s per region.
 * - Traces per second: at most one per API and web request (web → API calls are part of the web
 *   request's trace, so this overcounts): 60 000/s.
 * - Throughput per collector pod at the HPA's CPU target (70 % of its request): a gateway
 *   (receive, batch, re-encode per sampler) ~10 000 spans/s per requested core, a tail sampler
 *   ~8 000 (trace map and policy evaluation). Vendor sizing guides give 15 000 spans/s per core at
 *   full use for a plain gateway; these keep 30 % headroom.
 * - A span held by the tail sampler costs ~2 KiB (pdata with ~20 attributes).
 */
import type { RegionPlan } from '../../regions/plan';
import { isServingRegion } from '../../regions/model';
import type { ContainerResources } from '../lib/hardened-pod';
import { parseQuantity } from '../../regions/quantity';

/** Average spans one request produces (see the file comment). */
export const SPANS_PER_REQUEST = { api: 6, web: 4 } as const;
/** Spans/s one requested core handles at the HPA target (see the file comment). */
export const SPANS_PER_CORE = { gateway: 10_000, sampler: 8_000 } as const;
/** HPA target: average CPU use in % of the request. */
export const COLLECTOR_TARGET_CPU_PERCENT = 70;
/** Memory one span costs while the tail sampler holds it. */
const BYTES_PER_HELD_SPAN = 2 * 1024;
/** Headroom of the sampler's trace map over the traces one pod holds at peak (HPA lag, skew). */
const NUM_TRACES_HEADROOM = 4;

/** The region's busiest minute, in spans and traces per second. */
export interface TracingLoad {
  readonly apiRequestsPerSecond: number;
  readonly webRequestsPerSecond: number;
  readonly spansPerSecond: number;
  readonly tracesPerSecond: number;
}

export function peakTracingLoad(plan: RegionPlan): TracingLoad {
  if (!isServingRegion(plan.region)) throw new Error(`${plan.region.name} is a standby region: it serves no requests and renders no tracing`);
  const { api, web } = plan.region.autoscaling;
  const w = plan.global.workloads;
  const apiRequestsPerSecond = api.maxReplicas * w.api.targetRequestsPerSecond;
  const webRequestsPerSecond = web.maxReplicas * w.web.targetRequestsPerSecond;
  return {
    apiRequestsPerSecond,
    webRequestsPerSecond,
    spansPerSecond: apiRequestsPerSecond * SPANS_PER_REQUEST.api + webRequestsPerSecond * SPANS_PER_REQUEST.web,
    tracesPerSecond: apiRequestsPerSecond + webRequestsPerSecond,
  };
}

/** One autoscaled collector tier. */
export interface CollectorTierSizing {
  /** Fewest pods (at least 2: one pod is a single point of failure for every span). */
  readonly minReplicas: number;
  /** Most pods: enough for the region's peak at the HPA target. */
  readonly maxReplicas: number;
  readonly resources: ContainerResources;
}

export interface TracingSizing {
  readonly load: TracingLoad;
  readonly gateway: CollectorTierSizing;
  readonly sampler: CollectorTierSizing;
  /** The sampler's `num_traces` per pod: traces held at peak, times the headroom. */
  readonly samplerNumTraces: number;
  /** The sampler's `expected_new_traces_per_sec` per pod at peak. */
  readonly samplerExpectedTracesPerSecond: number;
  /** Memory the held spans take in one sampler pod at peak (bytes): must stay well below its limit. */
  readonly samplerHeldBytesAtPeak: number;
}

/** Per-pod resources: small pods, so the region pays little at rest and the HPA adds them as load grows. */
export const GATEWAY_RESOURCES: ContainerResources = { requests: { cpu: '1', memory: '1Gi' }, limits: { memory: '2Gi' } };
/** Tail sampling holds every span of every trace for `decision_wait`: memory is its size. */
export const SAMPLER_RESOURCES: ContainerResources = { requests: { cpu: '1', memory: '2Gi' }, limits: { memory: '2Gi' } };

/** Sizes both tiers for the region's peak with every request traced. */
export function tracingSizing(plan: RegionPlan, decisionWaitSeconds: number): TracingSizing {
  const load = peakTracingLoad(plan);
  // One pod per zone at rest (never fewer than 2), so a zone outage leaves every tier running.
  const minReplicas = Math.max(2, plan.region.zones.length);
  const tier = (resources: ContainerResources, spansPerCore: number): CollectorTierSizing => {
    const perPod = spansPerCore * parseQuantity(resources.requests.cpu);
    return { minReplicas, maxReplicas: Math.max(minReplicas, Math.ceil(load.spansPerSecond / perPod)), resources };
  };
  const gateway = tier(GATEWAY_RESOURCES, SPANS_PER_CORE.gateway);
  const sampler = tier(SAMPLER_RESOURCES, SPANS_PER_CORE.sampler);
  const tracesPerPod = Math.ceil(load.tracesPerSecond / sampler.maxReplicas);
  const spansPerPod = Math.ceil(load.spansPerSecond / sampler.maxReplicas);
  return {
    load,
    gateway,
    sampler,
    samplerNumTraces: tracesPerPod * decisionWaitSeconds * NUM_TRACES_HEADROOM,
    samplerExpectedTracesPerSecond: tracesPerPod,
    samplerHeldBytesAtPeak: spansPerPod * decisionWaitSeconds * BYTES_PER_HELD_SPAN,
  };
}
