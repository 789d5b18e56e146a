/**
 * Rule `ref-affinity-selector`: a pod (anti-)affinity term of a pod template selects pods that are
 * rendered. The scheduler counts the pods a term's labelSelector matches (in the term's
 * namespaces: the pod's own when it names none); a selector that matches nothing is accepted by
 * the API server and then quietly does nothing:
 *  - podAntiAffinity (how the Postgres members of a shard keep off one node and spread over
 *    zones): nothing to keep apart, so two members of a shard may share a node, and one node's loss
 *    takes both;
 *  - podAffinity, required: no pod to be near, so the pods stay Pending (the scheduler lets a pod
 *    through alone only when it matches its own term); preferred: no effect.
 * A null labelSelector matches no pod (k8s.io/api core/v1 PodAffinityTerm). Judged only for terms
 * scoped to the pod's own namespace (no `namespaces` beyond it, no `namespaceSelector`): pods of
 * other namespaces may be add-ons this tree does not render.
 */
import type { Context } from './context';
import { item } from './paths';
import { at, podTemplates } from './pod-templates';
import { formatLabels, labelSelectorMatches } from './selectors';
import { asArray, Entry, finding, isRecord, labelsOf, namespaceOf, RawFinding } from './types';

const RULE = 'ref-affinity-selector';

interface Term {
  readonly path: string;
  readonly term: Record<string, any>;
  readonly anti: boolean;
  readonly required: boolean;
}

function termsOf(affinity: unknown, base: string): Term[] {
  if (!isRecord(affinity)) return [];
  const out: Term[] = [];
  for (const [field, anti] of [['podAffinity', false], ['podAntiAffinity', true]] as const) {
    const kind = affinity[field];
    if (!isRecord(kind)) continue;
    asArray(kind.requiredDuringSchedulingIgnoredDuringExecution).forEach((term, i) => {
      if (isRecord(term)) out.push({ path: item(`${base}.${field}.requiredDuringSchedulingIgnoredDuringExecution`, i), term, anti, required: true });
    });
    asArray(kind.preferredDuringSchedulingIgnoredDuringExecution).forEach((weighted, i) => {
      if (isRecord(weighted) && isRecord(weighted.podAffinityTerm)) {
        out.push({ path: `${item(`${base}.${field}.preferredDuringSchedulingIgnoredDuringExecution`, i)}.podAffinityTerm`, term: weighted.podAffinityTerm, anti, required: false });
      }
    });
  }
  return out;
}

export function checkAffinitySelectors(e: Entry, ctx: Context): RawFinding[] {
  const templates = podTemplates(e.obj).filter((tpl) => isRecord(tpl.spec.affinity));
  if (templates.length === 0) return [];
  const ns = namespaceOf(e.obj) ?? '';
  const pods = ctx.scope(e).workloadsIn(ns);
  const out: RawFinding[] = [];
  for (const tpl of templates) {
    const own = labelsOf(tpl.metadata);
    for (const { path, term, anti, required } of termsOf(tpl.spec.affinity, at(tpl, 'spec.affinity'))) {
      const namespaces = asArray(term.namespaces);
      if (term.namespaceSelector !== undefined && term.namespaceSelector !== null) continue;
      if (namespaces.some((n) => n !== ns)) continue;
      const selector = term.labelSelector;
      if (labelSelectorMatches(selector, own) || pods.some((w) => labelSelectorMatches(selector, w.podLabels))) continue;
      const what = anti
        ? 'the scheduler finds nothing to keep these pods apart from, so replicas may share a node (or a zone) and fall together'
        : required
          ? 'a required podAffinity to pods that do not exist: the pods stay Pending'
          : 'a preferred podAffinity to pods that do not exist has no effect';
      out.push(finding(e, isRecord(selector) ? `${path}.labelSelector` : path, RULE,
        `${isRecord(selector) ? `the labelSelector matches no pod rendered in namespace ${ns}` : 'the term has no labelSelector, which matches no pod'}: ${what}`,
        `select the pods meant, e.g. this workload's own labels (${formatLabels(own)})`));
    }
  }
  return out;
}
