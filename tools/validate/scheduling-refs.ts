/**
 * Rule `ref-scheduling`: where a pod may run exists, within one region folder. A pod that
 * requires a Karpenter NodePool (`karpenter.sh/nodepool In [...]`, a required node affinity) needs
 * that pool rendered, and must tolerate the NoSchedule/NoExecute taints of one pool it may land on
 * (Pending forever otherwise: Karpenter launches no node for it); a NodePool's nodeClassRef names
 * a rendered EC2NodeClass (Karpenter launches nothing from it otherwise); a priorityClassName is a
 * rendered PriorityClass or a built-in one (the API server refuses the pod otherwise). Judged only
 * when the folder renders NodePools (capacity lives in the region folder).
 */
import { type Context, specOf } from './context';
import { at, podTemplates } from './pod-templates';
import { closest } from './suggest';
import { asArray, Entry, finding, isKind, isRecord, nameOf, RawFinding } from './types';

const KARPENTER = 'karpenter.sh';
const BUILT_IN_PRIORITY = new Set(['system-cluster-critical', 'system-node-critical']);

interface Taint { readonly key: string; readonly value?: string; readonly effect: string }

function taintsOf(pool: Entry): Taint[] {
  const template = isRecord(specOf(pool.obj).template) ? specOf(pool.obj).template : {};
  const spec = isRecord(template.spec) ? template.spec : {};
  return asArray(spec.taints)
    .filter(isRecord)
    .filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute')
    .map((t) => ({ key: String(t.key), value: typeof t.value === 'string' ? t.value : undefined, effect: String(t.effect) }));
}

/** Kubernetes' toleration matching (k8s.io/api core/v1 Toleration.ToleratesTaint). */
function tolerates(tolerations: unknown[], taint: Taint): boolean {
  return tolerations.some((t) => {
    if (!isRecord(t)) return false;
    if (t.effect !== undefined && t.effect !== '' && t.effect !== taint.effect) return false;
    if (t.key === undefined || t.key === '') return t.operator === 'Exists';
    if (t.key !== taint.key) return false;
    return t.operator === 'Exists' || (t.value ?? '') === (taint.value ?? '');
  });
}

/** NodePool names the pod requires (the `In` values of its required node affinity), or undefined. */
function requiredPools(spec: Record<string, any>): { pools: string[]; path: string } | undefined {
  const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  const out: string[] = [];
  let path = '';
  asArray(terms).forEach((term, i) => {
    asArray(isRecord(term) ? term.matchExpressions : undefined).forEach((ex, j) => {
      if (isRecord(ex) && ex.key === `${KARPENTER}/nodepool` && ex.operator === 'In') {
        out.push(...asArray(ex.values).map(String));
        path = `spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[${i}].matchExpressions[${j}].values`;
      }
    });
  });
  if (typeof spec.nodeSelector?.[`${KARPENTER}/nodepool`] === 'string') {
    out.push(spec.nodeSelector[`${KARPENTER}/nodepool`]);
    path = `spec.nodeSelector["${KARPENTER}/nodepool"]`;
  }
  return out.length > 0 ? { pools: out, path } : undefined;
}

export function checkSchedulingRefs(e: Entry, ctx: Context): RawFinding[] {
  const scope = ctx.scope(e);
  const pools = scope.find('', KARPENTER, 'NodePool');
  const out: RawFinding[] = [];
  if (isKind(e.obj, KARPENTER, 'NodePool')) {
    const template = isRecord(specOf(e.obj).template) ? specOf(e.obj).template : {};
    const ref = isRecord(template.spec) && isRecord(template.spec.nodeClassRef) ? template.spec.nodeClassRef : undefined;
    if (ref && typeof ref.name === 'string' && ref.kind === 'EC2NodeClass' && !scope.named('', 'karpenter.k8s.aws', 'EC2NodeClass', ref.name)) {
      const classes = scope.find('', 'karpenter.k8s.aws', 'EC2NodeClass').map((c) => nameOf(c.obj)).filter((n): n is string => !!n);
      out.push(finding(e, 'spec.template.spec.nodeClassRef.name', 'ref-scheduling', `EC2NodeClass ${ref.name} is not rendered: Karpenter launches no node from this pool`, closest(ref.name, classes) ? `did you mean ${closest(ref.name, classes)}?` : 'name a rendered EC2NodeClass'));
    }
    return out;
  }
  for (const tpl of podTemplates(e.obj)) {
    const spec = tpl.spec as Record<string, any>;
    if (typeof spec.priorityClassName === 'string' && !BUILT_IN_PRIORITY.has(spec.priorityClassName) && !scope.named('', 'scheduling.k8s.io', 'PriorityClass', spec.priorityClassName)) {
      out.push(finding(e, at(tpl, 'spec.priorityClassName'), 'ref-scheduling', `PriorityClass ${spec.priorityClassName} is not rendered (nor built in): the API server refuses the pod`, 'render the PriorityClass, or remove priorityClassName'));
    }
    if (pools.length === 0) continue;
    const required = requiredPools(spec);
    const names = pools.map((p) => nameOf(p.obj)).filter((n): n is string => !!n);
    if (required) {
      const missing = required.pools.filter((p) => !names.includes(p));
      for (const p of missing) {
        out.push(finding(e, at(tpl, required.path), 'ref-scheduling', `NodePool ${p} is not rendered in this region: pods requiring it stay Pending`, closest(p, names) ? `did you mean ${closest(p, names)}?` : `require one of ${names.join(', ')}`));
      }
      if (missing.length > 0) continue;
    }
    const candidates = required ? pools.filter((p) => required.pools.includes(nameOf(p.obj) ?? '')) : pools;
    const tolerations = asArray(spec.tolerations);
    if (!candidates.some((p) => taintsOf(p).every((t) => tolerates(tolerations, t)))) {
      const taints = [...new Set(candidates.flatMap(taintsOf).map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`))];
      out.push(finding(e, at(tpl, 'spec.tolerations'), 'ref-scheduling', `the pods tolerate the taints of none of the NodePools they may land on (${candidates.map((p) => nameOf(p.obj)).join(', ')}: ${taints.join(', ')}): they stay Pending`,
        'add the toleration of the pool the pods belong on'));
    }
  }
  return out;
}
