/**
 * Rule `quota-holds-workloads`: a namespace's ResourceQuota admits what the workloads rendered
 * into it ask for at their maxima (HPA maxReplicas, a Rollout's second stack during a release, a
 * rolling update's surge,
 * operator-managed Prometheus/Alertmanager/collector pods, each pod with its istio-proxy sidecar
 * from `sidecar.istio.io/proxyCPU`/`proxyMemory`, and the claims of their volume templates).
 * Otherwise the API server refuses the pods (or claims) that go over, and nothing in the rendered
 * YAML says so: a bigger Postgres, more replicas or a larger volume renders cleanly into a region
 * that cannot schedule it.
 *
 * The counting is the region page's (tools/docs/region-doc.ts `regionCapacity`), so the numbers
 * match what dist/<region>/README.md shows. It counts what the YAML states: containers an
 * operator adds (config reloaders) are not in it, so it never finds more than the API server.
 * The app namespace's quota is also checked, with the release arithmetic, from the region file
 * (regions/invariants.ts); this rule covers every namespace from what was rendered.
 */
import { type DocObject, quantity, regionCapacity, type WorkloadCapacity } from '../../docs/region-doc';
import { QUOTA_HARD_KEYS } from '../../../regions/model';
import { NAMESPACE_ROLES } from '../../../regions/plan';
import type { Context } from '../context';
import { containerLabel, containersOf } from '../pod-templates';
import { child } from '../paths';
import { Entry, finding, isKind, isRecord, nameOf, namespaceOf, RawFinding } from '../types';

const RULE = 'quota-holds-workloads';
const GIB = 1024 ** 3;

/** The quantity in bytes or cores a quota or container entry states, or undefined when it has none or it does not parse. */
function hardValue(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  try {
    return quantity(value);
  } catch {
    return undefined; // not a quantity: the resources rule reports it
  }
}

const show = {
  pods: (n: number) => String(Math.ceil(n)),
  cpu: (n: number) => String(Math.round(n * 1000) / 1000),
  bytes: (n: number) => `${Math.ceil((n / GIB) * 10) / 10}Gi`,
};

/** Workloads of the region (the quota's scope) in the quota's namespace, as the region page counts them. */
const capacityOf = new WeakMap<Context, Map<string, readonly WorkloadCapacity[]>>();
function workloadsOf(e: Entry, ctx: Context): readonly WorkloadCapacity[] {
  let byRegion = capacityOf.get(ctx);
  if (!byRegion) capacityOf.set(ctx, (byRegion = new Map()));
  const key = e.region ?? '';
  let workloads = byRegion.get(key);
  if (!workloads) {
    const objects: Record<string, DocObject[]> = {};
    for (const x of ctx.scope(e).entries) {
      if (x.region !== e.region) continue;
      (objects[x.file] ??= []).push(x.obj as DocObject);
    }
    try {
      workloads = regionCapacity(objects).workloads;
    } catch {
      // A quantity that does not parse is the schema rules' to report, not this rule's.
      workloads = [];
    }
    byRegion.set(key, workloads);
  }
  return workloads;
}

export function checkQuotaHoldsWorkloads(e: Entry, ctx: Context): RawFinding[] {
  if (!isKind(e.obj, '', 'ResourceQuota')) return [];
  const hard = isRecord(e.obj.spec) && isRecord(e.obj.spec.hard) ? e.obj.spec.hard : {};
  const ns = namespaceOf(e.obj) ?? '';
  const workloads = workloadsOf(e, ctx).filter((w) => w.namespace === ns);
  if (workloads.length === 0) return [];
  // A release runs a second stack beside a Rollout that keeps its stable side at full size; a
  // rolling update of a Deployment (or collector) at its maximum runs maxSurge pods more, and one
  // sync may roll them all at once (a version bump).
  const pods = (w: WorkloadCapacity) => w.maxPods * (w.secondStackAtRelease ? 2 : 1) + w.surgePods;
  const needs: Array<[key: string, per: (w: WorkloadCapacity) => number, format: (n: number) => string]> = [
    ['pods', (w) => pods(w), show.pods],
    ['requests.cpu', (w) => pods(w) * w.pod.cpu, show.cpu],
    ['requests.memory', (w) => pods(w) * w.pod.memory, show.bytes],
    ['limits.memory', (w) => pods(w) * w.pod.limitsMemory, show.bytes],
    // Claims stay with a StatefulSet's ordinals; a second stack is never a StatefulSet.
    ['requests.storage', (w) => w.maxPods * w.pod.storage, show.bytes],
  ];
  const out: RawFinding[] = [];
  for (const [key, per, format] of needs) {
    const limit = hardValue(hard[key]);
    if (limit === undefined) continue;
    const needed = workloads.reduce((n, w) => n + per(w), 0);
    if (needed <= limit * (1 + 1e-9)) continue;
    const largest = [...workloads].sort((a, b) => per(b) - per(a)).filter((w) => per(w) > 0).slice(0, 3)
      .map((w) => (key === 'pods' ? `${w.kind} ${w.name} (${pods(w)} pods)` : `${w.kind} ${w.name} ${format(per(w))} (${pods(w)} pods)`)).join(', ');
    const need = key === 'pods' ? `${format(needed)} pods` : `${format(needed)} of ${key}`;
    out.push(finding(e, child('spec.hard', key), RULE,
      `the workloads of namespace ${ns} need ${need} at their maxima, over the quota's ${String(hard[key])}: the API server refuses what goes over (largest: ${largest})`,
      `raise ${quotaSource(e.region, ns, key)} to at least ${typed[key as keyof typeof typed]?.(needed) ?? format(needed)}, or lower what the workloads ask for`));
  }
  return out;
}

/** A value to type into the region file: whole cores and GiB, rounded up so it holds the need. */
const typed = {
  'requests.cpu': (n: number) => String(Math.ceil(n - 1e-9)),
  'requests.memory': (n: number) => `${Math.ceil(n / GIB - 1e-9)}Gi`,
  'requests.storage': (n: number) => `${Math.ceil(n / GIB - 1e-9)}Gi`,
  'limits.memory': (n: number) => `${Math.ceil(n / GIB - 1e-9)}Gi`,
};

/** The region file field a rendered quota entry comes from (charts/namespaces: `<platform>-<role>`, keys renamed). */
function quotaSource(region: string | null | undefined, namespace: string, key: string): string {
  const role = NAMESPACE_ROLES.find((r) => namespace.endsWith(`-${r}`));
  const field = QUOTA_FIELDS[key];
  const file = `regions/${region ?? '<region>'}.yaml`;
  return role && field ? `namespaces.${role}.quota.${field} in ${file}` : `the quota at its source (${file}, namespaces.<role>.quota)`;
}

/** The region file's quota field of each ResourceQuota key (the chart's table, read backwards). */
const QUOTA_FIELDS: Record<string, string> = Object.fromEntries(Object.entries(QUOTA_HARD_KEYS).map(([field, key]) => [key, field]));

/** Rule `limit-range-max`: no container asks for more than its namespace's LimitRange allows one container. */
export function checkLimitRangeMax(e: Entry, ctx: Context): RawFinding[] {
  if (!isKind(e.obj, '', 'LimitRange')) return [];
  const ns = namespaceOf(e.obj) ?? '';
  const limits = isRecord(e.obj.spec) && Array.isArray(e.obj.spec.limits) ? e.obj.spec.limits : [];
  const container = limits.find((l) => isRecord(l) && l.type === 'Container');
  const max = isRecord(container) && isRecord(container.max) ? container.max : undefined;
  if (!max) return [];
  const out: RawFinding[] = [];
  for (const w of ctx.scope(e).workloadsIn(ns)) {
    if (w.entry.region !== e.region) continue;
    for (const c of containersOf(w.tpl, ['initContainers', 'containers'])) {
      const resources = c.container.resources;
      if (!isRecord(resources)) continue;
      for (const side of ['requests', 'limits'] as const) {
        const asked = isRecord(resources[side]) ? resources[side] : {};
        for (const resource of ['cpu', 'memory']) {
          const value = hardValue(asked[resource]);
          const allowed = hardValue(max[resource]);
          if (value === undefined || allowed === undefined || value <= allowed * (1 + 1e-9)) continue;
          out.push(finding(w.entry, `${c.path}.resources.${side}.${resource}`, 'limit-range-max',
            `${containerLabel(c)} asks for ${String(asked[resource])} ${resource} (${side}), over the ${String(max[resource])} LimitRange ${nameOf(e.obj) ?? ''} allows one container in ${ns}: the API server refuses the pod`,
            `lower the container's ${resource} at its source, or raise the namespace's maximum (regions/${e.region ?? '<region>'}.yaml, namespaces.*.containerDefaults.max${resource === 'cpu' ? 'Cpu' : 'Memory'})`));
        }
      }
    }
  }
  return out;
}
