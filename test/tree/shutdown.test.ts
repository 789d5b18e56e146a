/**
 * Pods that need the network while they stop keep their sidecar long enough: Istio's default
 * drain is 5 s, after which Patroni could not release its leader lock (a write outage of a whole
 * TTL on every leader restart) and a Redis master could not hand over. Found by the second
 * hop-by-hop review of issue #10.
 */
import { describe, expect, it } from 'vitest';
import { distObjects } from '../support/dist';

const seconds = (d: string) => Number(/^(\d+)s$/.exec(d)?.[1] ?? NaN);

describe('sidecar drain on shutdown', () => {
  const templates = distObjects()
    .filter((d) => ['StatefulSet', 'Deployment', 'Rollout'].includes(d.object.kind))
    .map((d) => ({ id: `${d.folder} ${d.object.kind} ${d.object.metadata.name}`, app: d.object.spec.template.metadata.labels['app.kubernetes.io/name'], tpl: d.object.spec.template }));

  it('keeps the sidecar of Postgres, PgBouncer, every Redis pod, the API and the web front end up for most of the grace period, never past it', () => {
    // The API and web: callers keep routing to a stopping pod until its endpoint removal reaches
    // them, and its outbound connections (Redis, PgBouncer, the collector) must outlive Istio's 5 s.
    const data = templates.filter((t) => ['postgres', 'pgbouncer', 'redis', 'api', 'web'].includes(t.app));
    expect(data.filter((t) => ['api', 'web'].includes(t.app)).length).toBe(8);
    expect(data.length).toBeGreaterThan(20);
    for (const t of data) {
      const config = JSON.parse(t.tpl.metadata.annotations['proxy.istio.io/config']);
      const drain = seconds(config.terminationDrainDuration);
      const grace = t.tpl.spec.terminationGracePeriodSeconds;
      expect(config.holdApplicationUntilProxyStarts, t.id).toBe(true);
      expect(drain, t.id).toBeGreaterThanOrEqual(grace - 10);
      expect(drain, t.id).toBeLessThan(grace);
    }
  });

  it('keeps the sidecar of the tracing tiers up while they flush their queues on a scale-down (collectors, samplers, Jaeger)', () => {
    const tracing = distObjects().flatMap((d) => {
      if (d.object.kind === 'OpenTelemetryCollector') {
        // The operator's pods: the CR's podAnnotations; no terminationGracePeriodSeconds is Kubernetes' 30 s.
        return [{ id: `${d.folder} ${d.object.metadata.name}`, annotations: d.object.spec.podAnnotations, grace: d.object.spec.terminationGracePeriodSeconds ?? 30 }];
      }
      if (d.object.kind === 'Deployment' && d.object.spec.template.metadata.labels['app.kubernetes.io/name'] === 'jaeger') {
        return [{ id: `${d.folder} jaeger`, annotations: d.object.spec.template.metadata.annotations, grace: d.object.spec.template.spec.terminationGracePeriodSeconds }];
      }
      return [];
    });
    expect(tracing.length).toBe(12);
    for (const t of tracing) {
      const drain = seconds(JSON.parse(t.annotations['proxy.istio.io/config']).terminationDrainDuration);
      expect(drain, t.id).toBeGreaterThanOrEqual(t.grace - 10);
      expect(drain, t.id).toBeLessThan(t.grace);
    }
  });
});
