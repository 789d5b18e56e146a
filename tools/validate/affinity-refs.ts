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
 * other namespaces may be add-ons this tree does not render. The pods counted are every pod
 * template of the namespace (Jobs and CronJobs too) and the pods prometheus-operator makes; a
 * namespace with an OpenTelemetryCollector (whose pods the operator labels) is not judged, nor a
 * selector on a label a controller adds to pods (pod-template-hash, job-name, ...).
 */
import { type Context, operatorManagedPodLabels, type Scope } from './context';
import { item } from './paths';
import { at, CONTROLLER_POD_LABELS, podTemplates } from './pod-templates';
import { formatLabels, labelSelectorMatches } from './selectors';
import { asArray, Entry, finding, isRecord, labelsOf, namespaceOf, RawFinding } from './types';

const RULE = 'ref-affinity-selector';

/** The labels of every pod a namespace can have, or undefined when an operator makes pods this cannot label. */
const podLabelsByNamespace = new WeakMap<Scope, Map<string, Array<Record<string, unknown>> | undefined>>();

function podLabelsIn(scope: Scope, ns: string): Array<Record<string, unknown>> | undefined {
  let byNs = podLabelsByNamespace.get(scope);
  if (!byNs) podLabelsByNamespace.set(scope, (byNs = new Map()));
  if (byNs.has(ns)) return byNs.get(ns);
  const inNs = scope.entries.filter((e) => (namespaceOf(e.obj) ?? '') === ns);
  const labels = inNs.some((e) => e.obj.kind === 'OpenTelemetryCollector')
    ? undefined
    : inNs.flatMap((e) => [...podTemplates(e.obj).map((tpl) => labelsOf(tpl.metadata)), ...[operatorManagedPodLabels(e.obj)].filter((l): l is Record<string, unknown> => l !== undefined)]);
  byNs.set(ns, labels);
  return labels;
}

/** The label keys a selector names. */
function selectorKeys(selector: unknown): string[] {
  if (!isRecord(selector)) return [];
  return [...Object.keys(isRecord(selector.matchLabels) ? selector.matchLabels : {}), ...asArray(selector.matchExpressions).filter(isRecord).map((x) => String(x.key))];
}

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
  const pods = podLabelsIn(ctx.scope(e), ns);
  if (!pods) return [];
  const out: RawFinding[] = [];
  for (const tpl of templates) {
    const own = labelsOf(tpl.metadata);
    for (const { path, term, anti, required } of termsOf(tpl.spec.affinity, at(tpl, 'spec.affinity'))) {
      const namespaces = asArray(term.namespaces);
      if (term.namespaceSelector !== undefined && term.namespaceSelector !== null) continue;
      if (namespaces.some((n) => n !== ns)) continue;
      const selector = term.labelSelector;
      if (selectorKeys(selector).some((k) => CONTROLLER_POD_LABELS.has(k))) continue;
      if (labelSelectorMatches(selector, own) || pods.some((labels) => labelSelectorMatches(selector, labels))) continue;
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
