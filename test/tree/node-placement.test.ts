/**
 * Nodes by risk (issue 14 item 2), read over a fresh render of every region: each pod the
 * platform runs either requires on-demand capacity (the data tier, Sentinels, monitoring,
 * tracing, the release-gate Jobs) or is the API or web, which tolerate the app taint and
 * require the app pools (on-demand base, then spot). Nothing else may reach spot, and no new
 * kind of pod-bearing object slips past the check.
 */
import { describe, expect, it } from 'vitest';
import { renderedObjects } from '../support/rendered';

const objects = renderedObjects();

/** The pod specs (or operator specs carrying affinity and tolerations) of an object, by kind. */
function podSpecs(o: any): any[] {
  switch (o.kind) {
    case 'Deployment': case 'StatefulSet': case 'Rollout': case 'Job': return [o.spec.template.spec];
    case 'CronJob': return [o.spec.jobTemplate.spec.template.spec];
    case 'AnalysisTemplate': return o.spec.metrics.filter((m: any) => m.provider.job).map((m: any) => m.provider.job.spec.template.spec);
    case 'Prometheus': case 'Alertmanager': case 'OpenTelemetryCollector': return [o.spec];
    default: return [];
  }
}

/** Does a value contain a `containers` list anywhere (a pod, whatever the kind calls it)? */
const hasContainers = (v: unknown): boolean =>
  Array.isArray(v) ? v.some(hasContainers) : typeof v === 'object' && v !== null && Object.entries(v).some(([k, x]) => (k === 'containers' && Array.isArray(x)) || hasContainers(x));

const requiredTerms = (spec: any) => spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
const APP_ROLLOUTS = new Set(['bookedbarber-api', 'bookedbarber-web']);

describe('node placement over the rendered tree', () => {
  const pods = objects.flatMap(({ where, object }) => podSpecs(object).map((spec) => ({ where, object, spec })));

  it('knows every kind of object that carries pods', () => {
    const carriers = objects.filter(({ object }) => object.kind !== 'Application' && hasContainers(object.spec));
    expect(carriers.filter(({ object }) => podSpecs(object).length === 0).map((c) => c.where)).toEqual([]);
    expect(pods.length).toBeGreaterThan(50);
  });

  it('the API and web Rollouts tolerate the app taint and require the app pools (on-demand base, then spot)', () => {
    const app = pods.filter(({ object }) => object.kind === 'Rollout');
    expect(new Set(app.map(({ object }) => object.metadata.name))).toEqual(APP_ROLLOUTS);
    for (const { where, spec } of app) {
      expect(spec.tolerations, where).toEqual([{ key: 'bookedbarber.com/app', operator: 'Equal', value: 'true', effect: 'NoSchedule' }]);
      expect(requiredTerms(spec), where).toEqual([
        { matchExpressions: [{ key: 'karpenter.sh/nodepool', operator: 'In', values: ['bookedbarber-app-base', 'bookedbarber-app-burst'] }] },
      ]);
      // The scheduler fills room on the base pool's nodes first (NodePool weights only order new
      // nodes). The preference names the pool, never on-demand capacity: Karpenter holds a
      // preference as required until it cannot place the pod, and the burst pool also allows
      // on-demand (for a spot shortage), so preferring on-demand would launch every burst node
      // on-demand while spot is there.
      expect(spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution, where).toEqual([
        { weight: 100, preference: { matchExpressions: [{ key: 'karpenter.sh/nodepool', operator: 'In', values: ['bookedbarber-app-base'] }] } },
      ]);
    }
  });

  it('every other pod requires on-demand capacity and does not tolerate the app taint', () => {
    const others = pods.filter(({ object }) => object.kind !== 'Rollout');
    for (const { where, spec } of others) {
      expect(requiredTerms(spec), where).toEqual([{ matchExpressions: [{ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] }] }]);
      expect((spec.tolerations ?? []).filter((t: any) => t.key === 'bookedbarber.com/app'), where).toEqual([]);
    }
    // The data tier, Sentinels, monitoring and tracing are among them.
    const names = others.map(({ object }) => `${object.kind}/${object.metadata.name}`);
    for (const expected of ['StatefulSet/bookedbarber-postgres-shard-1', 'StatefulSet/bookedbarber-redis-sessions-sentinel', 'Prometheus/bookedbarber', 'Alertmanager/bookedbarber', 'OpenTelemetryCollector/otel']) {
      expect(names).toContain(expected);
    }
  });

  it('zone spread still holds where it did: every Deployment, StatefulSet and Rollout spreads over zones', () => {
    for (const { where, object, spec } of pods.filter(({ object }) => ['Deployment', 'StatefulSet', 'Rollout'].includes(object.kind))) {
      expect((spec.topologySpreadConstraints ?? []).map((c: any) => c.topologyKey), `${where} (${object.kind})`).toContain('topology.kubernetes.io/zone');
    }
  });

  it('no zone spread counts per revision: Karpenter ignores matchLabelKeys and would launch nodes the scheduler refuses', () => {
    // kubernetes-sigs/karpenter#1569: Karpenter sizes a spread by labelSelector alone.
    const zone = pods.flatMap(({ where, spec }) => (spec.topologySpreadConstraints ?? []).filter((c: any) => c.topologyKey === 'topology.kubernetes.io/zone').map((c: any) => ({ where, c })));
    expect(zone.length).toBeGreaterThan(10);
    for (const { where, c } of zone) expect(c.matchLabelKeys, `${where} ${c.topologyKey}`).toBeUndefined();
  });

  it('the zone spread is a hard rule only where volumes pin the pods to a zone, so a zone outage never stops replacements or scale-up elsewhere', () => {
    // In a zone outage the lost zone's pods stay Terminating, which the scheduler does not count:
    // a hard maxSkew 1 then refuses every new pod in the zones that still run.
    const pinned = (o: any) =>
      (o.kind === 'StatefulSet' && (o.spec.volumeClaimTemplates ?? []).length > 0) || (['Prometheus', 'Alertmanager'].includes(o.kind) && o.spec.storage?.volumeClaimTemplate !== undefined);
    const seen = { hard: new Set<string>(), soft: new Set<string>() };
    for (const { where, object, spec } of pods.filter(({ object }) => ['Deployment', 'StatefulSet', 'Rollout', 'Prometheus', 'Alertmanager', 'OpenTelemetryCollector'].includes(object.kind))) {
      const zone = (spec.topologySpreadConstraints ?? []).find((c: any) => c.topologyKey === 'topology.kubernetes.io/zone');
      const expected = pinned(object) ? 'DoNotSchedule' : 'ScheduleAnyway';
      expect(zone?.whenUnsatisfiable, `${where} (${object.kind} ${object.metadata.name})`).toBe(expected);
      seen[expected === 'DoNotSchedule' ? 'hard' : 'soft'].add(`${object.kind}/${object.metadata.name}`);
    }
    for (const name of ['StatefulSet/bookedbarber-postgres-shard-1', 'Prometheus/bookedbarber']) expect(seen.hard).toContain(name);
    for (const name of ['Rollout/bookedbarber-api', 'Rollout/bookedbarber-web', 'Deployment/bookedbarber-pgbouncer-shard-1', 'StatefulSet/bookedbarber-redis-cache']) expect(seen.soft).toContain(name);
  });
});
