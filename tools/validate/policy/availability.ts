/**
 * Rules `topology-spread` and `pdb`: a workload that can run more than one replica must
 * survive losing a zone (spread on topology.kubernetes.io/zone) and a node drain (a PDB).
 * "More than one" means spec.replicas > 1 or an HPA on it with maxReplicas > 1.
 */
import { Context, Scope, specOf } from '../context';
import { at, isLongRunningWorkload, podTemplates } from '../pod-templates';
import { formatLabels, labelSelectorMatches } from '../selectors';
import { apiGroup, asArray, Entry, finding, isRecord, labelsOf, nameOf, namespaceOf, RawFinding } from '../types';

export const ZONE_KEY = 'topology.kubernetes.io/zone';

/** maxReplicas of the HPAs (autoscaling/v1 or v2) that target this object, 0 when none. */
export function hpaMaxReplicas(e: Entry, scope: Scope): number {
  const ns = namespaceOf(e.obj) ?? '';
  let max = 0;
  for (const hpa of scope.find(ns, 'autoscaling', 'HorizontalPodAutoscaler')) {
    const ref = specOf(hpa.obj).scaleTargetRef;
    if (!isRecord(ref) || ref.kind !== e.obj.kind || ref.name !== nameOf(e.obj) || apiGroup(ref.apiVersion) !== apiGroup(e.obj.apiVersion)) continue;
    const m = specOf(hpa.obj).maxReplicas;
    if (typeof m === 'number' && m > max) max = m;
  }
  return max;
}

function replicated(e: Entry, scope: Scope): string | undefined {
  const replicas = specOf(e.obj).replicas;
  if (typeof replicas === 'number' && replicas > 1) return `spec.replicas is ${replicas}`;
  const max = hpaMaxReplicas(e, scope);
  return max > 1 ? `an HPA scales it up to ${max}` : undefined;
}

function candidates(e: Entry): boolean {
  // A DaemonSet runs one pod per node: zone spread and a replica budget do not apply.
  return isLongRunningWorkload(e.obj) && e.obj.kind !== 'DaemonSet';
}

export function checkTopologySpread(e: Entry, ctx: Context): RawFinding[] {
  if (!candidates(e)) return [];
  const why = replicated(e, ctx.scope(e));
  if (!why) return [];
  const out: RawFinding[] = [];
  for (const tpl of podTemplates(e.obj)) {
    const podLabels = labelsOf(tpl.metadata);
    const constraints = asArray(tpl.spec.topologySpreadConstraints).filter(isRecord);
    const zone = constraints.filter((c) => c.topologyKey === ZONE_KEY);
    if (zone.some((c) => labelSelectorMatches(c.labelSelector, podLabels))) continue;
    out.push(finding(e, at(tpl, 'spec.topologySpreadConstraints'), 'topology-spread',
      zone.length === 0
        ? `${why} but the pods are not spread across zones (no topologySpreadConstraint on ${ZONE_KEY})`
        : `the ${ZONE_KEY} spread constraint's labelSelector does not match the pod labels (${formatLabels(podLabels)})`,
      `add { maxSkew: 1, topologyKey: ${ZONE_KEY}, whenUnsatisfiable: ScheduleAnyway (DoNotSchedule only where volumes pin the pods to a zone), labelSelector: { matchLabels: <the pod's selector labels> } } (zoneSpread in charts/lib/hardened-pod.ts)`));
  }
  return out;
}

export function checkPdb(e: Entry, ctx: Context): RawFinding[] {
  if (!candidates(e)) return [];
  const scope = ctx.scope(e);
  const why = replicated(e, scope);
  if (!why) return [];
  const ns = namespaceOf(e.obj) ?? '';
  const pdbs = scope.find(ns, 'policy', 'PodDisruptionBudget');
  const out: RawFinding[] = [];
  for (const tpl of podTemplates(e.obj)) {
    const podLabels = labelsOf(tpl.metadata);
    if (pdbs.some((p) => labelSelectorMatches(specOf(p.obj).selector, podLabels))) continue;
    out.push(finding(e, '', 'pdb', `${why} but no PodDisruptionBudget in namespace ${ns || '(none)'} selects its pods (${formatLabels(podLabels)})`,
      'render a policy/v1 PodDisruptionBudget (maxUnavailable: 1) whose selector matches the pod labels, next to the workload'));
  }
  return out;
}
