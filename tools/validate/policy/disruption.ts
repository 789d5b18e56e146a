/**
 * Rule `disruption-allowed`: a PodDisruptionBudget that allows no disruption at all
 * (maxUnavailable 0 or 0 %, minAvailable 100 %) blocks every node drain: Karpenter's consolidation
 * and node upgrades wait on it forever. And a rolling update that may take every pod at once
 * (maxUnavailable 100 % of a workload with more than one replica) is an outage per release.
 */

import { Entry, finding, isKind, isRecord, RawFinding } from '../types';

const zero = (v: unknown) => v === 0 || v === '0' || v === '0%';

export function checkDisruptionAllowed(e: Entry): RawFinding[] {
  const spec = isRecord(e.obj.spec) ? e.obj.spec : {};
  if (isKind(e.obj, 'policy', 'PodDisruptionBudget')) {
    if (zero(spec.maxUnavailable)) return [finding(e, 'spec.maxUnavailable', 'disruption-allowed', 'maxUnavailable 0 allows no eviction: every node drain (consolidation, upgrades) waits on these pods forever', 'allow one: maxUnavailable: 1')];
    if (spec.minAvailable === '100%') return [finding(e, 'spec.minAvailable', 'disruption-allowed', 'minAvailable 100% allows no eviction: every node drain (consolidation, upgrades) waits on these pods forever', 'use maxUnavailable: 1')];
    return [];
  }
  if (!isKind(e.obj, 'apps', 'Deployment') && !isKind(e.obj, 'apps', 'StatefulSet')) return [];
  const strategy = isRecord(spec.strategy) ? spec.strategy : isRecord(spec.updateStrategy) ? spec.updateStrategy : {};
  const rolling = isRecord(strategy.rollingUpdate) ? strategy.rollingUpdate : {};
  const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1;
  const all = rolling.maxUnavailable === '100%' || (typeof rolling.maxUnavailable === 'number' && rolling.maxUnavailable >= replicas);
  if (replicas > 1 && all) {
    const field = isRecord(spec.strategy) ? 'spec.strategy' : 'spec.updateStrategy';
    return [finding(e, `${field}.rollingUpdate.maxUnavailable`, 'disruption-allowed', `maxUnavailable ${String(rolling.maxUnavailable)} lets a rolling update stop all ${replicas} pods at once: an outage on every release`, 'keep pods serving: maxUnavailable 0 with maxSurge 1, or at most a fraction of the replicas')];
  }
  return [];
}

