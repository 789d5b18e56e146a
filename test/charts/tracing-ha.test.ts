/**
 * Tracing without a single point of failure (issue 12, item 7):
 * - every request is head-sampled (mesh Telemetry 100 %, SDKs parentbased_always_on), so the
 *   only drop decision is the tail sampler's, which keeps errors, slow traces and a baseline;
 * - the collector tiers autoscale from one pod per zone to the region's peak with every span
 *   (sizes derived from the API's and web's autoscaling bounds);
 * - kept traces go to stateless Jaeger pods in front of the region's own replicated
 *   Elasticsearch/OpenSearch, reached through declared connections (policies + ServiceEntry);
 * - standby regions render no tracing and declare none of its connections.
 */
import { describe, expect, it } from 'vitest';
import { ApiChart } from '../../charts/api/chart';
import { HEAD_SAMPLER } from '../../charts/lib/otel';
import { MeshChart } from '../../charts/mesh/chart';
import { decisionWaitSeconds, POLICY } from '../../charts/tracing/collector';
import { TracingChart } from '../../charts/tracing/chart';
import { elasticsearchFromConfig, tracingNames } from '../../charts/tracing/names';
import { peakTracingLoad, tracingSizing } from '../../charts/tracing/sizing';
import { WebChart } from '../../charts/web/chart';
import { declaredConnections } from '../../charts/wiring/connections';
import { regionPolicies } from '../../charts/wiring/policies';
import { isServingRegion } from '../../regions/model';
import type { RegionPlan } from '../../regions/plan';
import { parseQuantity } from '../../regions/quantity';
import { find, newApp, objectsOf, regionPlan, shippedPlan, type Obj } from '../support/charts';

const plan = regionPlan('us-east-1');
const ns = plan.namespaces.monitoring;
const names = tracingNames(plan);
const serving = shippedPlan().regions.filter((p) => isServingRegion(p.region));
const standby = shippedPlan().regions.filter((p) => !isServingRegion(p.region));

const env = (objects: Obj[], kind: string, name: string) =>
  Object.fromEntries(
    (find(objects, kind, name).spec.template.spec.containers[0].env as Array<{ name: string; value?: string }>).map((e) => [e.name, e.value]),
  );

describe('head sampling keeps everything: the tail sampler is the only drop decision', () => {
  it('ships mesh.traceSamplingPercent 100, and the mesh Telemetry samples 100 %', () => {
    expect(plan.global.mesh.traceSamplingPercent).toBe(100);
    const telemetry = find(objectsOf(new MeshChart(newApp(), { plan })), 'Telemetry', 'mesh-default');
    expect(telemetry.spec.tracing[0].randomSamplingPercentage).toBe(100);
  });

  it('the API and the web SDKs follow the parent and sample every root (parentbased_always_on, no ratio argument)', () => {
    expect(HEAD_SAMPLER).toBe('parentbased_always_on');
    const api = env(objectsOf(new ApiChart(newApp(), { plan })), 'Rollout', plan.names.api.rollout);
    const web = env(objectsOf(new WebChart(newApp(), { plan })), 'Rollout', plan.names.web.rollout);
    for (const e of [api, web]) {
      expect(e.OTEL_TRACES_SAMPLER).toBe('parentbased_always_on');
      expect('OTEL_TRACES_SAMPLER_ARG' in e).toBe(false);
    }
  });

  it('refuses head sampling below 100 %, naming the field and what it would lose', () => {
    const low: RegionPlan = { ...plan, global: { ...plan.global, mesh: { ...plan.global.mesh, traceSamplingPercent: 10 } } };
    expect(() => new TracingChart(newApp(), { plan: low })).toThrow(/mesh\.traceSamplingPercent is 10: it must be 100.*90 % of all error traces/);
  });

  it('the sampler keeps every error and slow trace (and remembers kept trace IDs for late spans)', () => {
    const tail = find(objectsOf(new TracingChart(newApp(), { plan })), 'OpenTelemetryCollector', names.sampler.cr).spec.config.processors.tail_sampling;
    expect(tail.policies.map((p: { name: string }) => p.name)).toEqual([POLICY.errors, POLICY.slow, POLICY.baseline]);
    expect(tail.decision_cache).toEqual({ sampled_cache_size: 100_000 });
  });
});

describe('collector tiers sized for 100 % of the spans', () => {
  it('derives the peak from the API and web autoscaling bounds: 320 000 spans/s, 60 000 traces/s per shipped region', () => {
    for (const p of serving) {
      expect(peakTracingLoad(p)).toEqual({ apiRequestsPerSecond: 40_000, webRequestsPerSecond: 20_000, spansPerSecond: 320_000, tracesPerSecond: 60_000 });
    }
    expect(() => peakTracingLoad(standby[0])).toThrow(/standby/);
  });

  it('autoscales each tier from one pod per zone to the peak, and the sampler holds its peak share well inside its memory', () => {
    const sizing = tracingSizing(plan, decisionWaitSeconds(plan.global.tracing.slowTraceMs));
    expect(plan.region.zones).toHaveLength(3);
    expect([sizing.gateway.minReplicas, sizing.gateway.maxReplicas]).toEqual([3, 32]);
    expect([sizing.sampler.minReplicas, sizing.sampler.maxReplicas]).toEqual([3, 40]);
    expect([sizing.samplerExpectedTracesPerSecond, sizing.samplerNumTraces]).toEqual([1500, 60_000]);
    // 8 000 spans/s × 10 s × 2 KiB ≈ 156 MiB of a 2 GiB limit.
    expect(sizing.samplerHeldBytesAtPeak).toBeLessThan(0.25 * parseQuantity(sizing.sampler.resources.limits.memory));

    const objects = objectsOf(new TracingChart(newApp(), { plan }));
    for (const [tier, s] of [[names.collector, sizing.gateway], [names.sampler, sizing.sampler]] as const) {
      const cr = find(objects, 'OpenTelemetryCollector', tier.cr, ns);
      expect(cr.spec.replicas).toBe(s.minReplicas);
      expect(cr.spec.autoscaler).toMatchObject({ minReplicas: s.minReplicas, maxReplicas: s.maxReplicas, targetCPUUtilization: 70 });
      expect(cr.spec.resources.requests).toEqual({ cpu: s.resources.requests.cpu, memory: s.resources.requests.memory });
      expect(cr.spec.podDisruptionBudget).toEqual({ maxUnavailable: 1 });
    }
    const tail = find(objects, 'OpenTelemetryCollector', names.sampler.cr, ns).spec.config.processors.tail_sampling;
    expect([tail.num_traces, tail.expected_new_traces_per_sec]).toEqual([sizing.samplerNumTraces, sizing.samplerExpectedTracesPerSecond]);
  });

  it('follows the autoscaling bounds: half the API pods, about half the collectors', () => {
    const autoscaling = plan.region.autoscaling!;
    const half = { ...plan, region: { ...plan.region, autoscaling: { ...autoscaling, api: { ...autoscaling.api, maxReplicas: 500 } } } } as RegionPlan;
    const sizing = tracingSizing(half, 10);
    expect(sizing.load.spansPerSecond).toBe(200_000);
    expect([sizing.gateway.maxReplicas, sizing.sampler.maxReplicas]).toEqual([20, 25]);
  });
});

describe('kept traces in a replicated store, reached through declared connections', () => {
  it('ships elasticsearch storage: each region its own cluster, every shard with a replica', () => {
    const { storage } = plan.global.tracing.jaeger;
    expect(storage.type).toBe('elasticsearch');
    expect(storage.elasticsearch!.numReplicas).toBeGreaterThanOrEqual(1);
    const urls = serving.map((p) => elasticsearchFromConfig(p)!.url);
    expect(new Set(urls).size).toBe(serving.length);
    serving.forEach((p, i) => expect(urls[i]).toContain(p.region.name));
  });

  it('runs stateless Jaeger pods over the zones with a PDB, no StatefulSet, no volume', () => {
    for (const p of serving) {
      const objects = objectsOf(new TracingChart(newApp(), { plan: p }));
      const n = tracingNames(p);
      expect(objects.some((o) => o.kind === 'StatefulSet' || o.kind === 'PersistentVolumeClaim')).toBe(false);
      const deployment = find(objects, 'Deployment', n.jaeger.workload, ns);
      expect(deployment.spec.replicas).toBe(p.global.tracing.jaeger.storage.elasticsearch!.jaegerReplicas);
      expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
      expect(deployment.spec.template.spec.topologySpreadConstraints.map((c: { topologyKey: string }) => c.topologyKey)).toContain('topology.kubernetes.io/zone');
      find(objects, 'PodDisruptionBudget', n.jaeger.workload, ns);
      const e = env(objects, 'Deployment', n.jaeger.workload);
      expect(e).toMatchObject({ SPAN_STORAGE_TYPE: 'elasticsearch', ES_SERVER_URLS: elasticsearchFromConfig(p)!.url, ES_NUM_REPLICAS: '1', ES_NUM_SHARDS: '6' });
    }
  });

  it('declares Jaeger and the index cleaner to the store, with their credentials, so the mesh chart renders egress and the ServiceEntry', () => {
    const connections = declaredConnections(plan);
    const host = new URL(elasticsearchFromConfig(plan)!.url).hostname;
    for (const [name, from, container] of [['jaeger-to-trace-store', 'jaeger', 'jaeger'], ['jaeger-index-cleaner-to-trace-store', 'jaeger-index-cleaner', 'index-cleaner']]) {
      const c = connections.find((x) => x.name === name)!;
      expect(c.from.name).toBe(from);
      expect(c.to).toEqual({ kind: 'external', host, port: 443 });
      expect(c.credentials?.map((k) => `${k.env}:${k.container}`)).toEqual([`ES_USERNAME:${container}`, `ES_PASSWORD:${container}`]);
    }
    const flows = regionPolicies(plan).externalFlows.filter((f) => f.from.name.startsWith('jaeger'));
    expect(flows.map((f) => f.name).sort()).toEqual(['jaeger', 'jaeger-index-cleaner']);
    const mesh = objectsOf(new MeshChart(newApp(), { plan }));
    const entry = mesh.find((o) => o.kind === 'ServiceEntry' && o.metadata.namespace === ns && o.spec.hosts.includes(host));
    expect(entry?.spec.ports).toEqual([{ number: 443, name: 'tls', protocol: 'TLS' }]);
    expect(find(mesh, 'NetworkPolicy', 'allow-jaeger-index-cleaner-external-egress', ns).spec.podSelector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'jaeger-index-cleaner' });
  });

  it('a standby region declares no tracing connection (it renders no tracing chart)', () => {
    for (const p of standby) {
      expect(declaredConnections(p).filter((c) => /otel|jaeger|trace/.test(c.name))).toEqual([]);
    }
  });
});
