/**
 * Rule `ref-analysis-args`: the arguments between an Argo Rollout and the AnalysisTemplates it
 * runs, as Argo Rollouts merges them when it creates an AnalysisRun (argo-rollouts
 * utils/analysis/helpers.go: flattenArgs, MergeArgs, ResolveArgs; utils/analysis/factory.go:
 * BuildArgumentsForRolloutAnalysisRun; utils/template/template.go for `{{args.x}}`). The
 * controller builds every analysis of a Rollout up front (pkg/apis/rollouts/validation/
 * validation_references.go): each of these applies cleanly, and then the whole Rollout is refused
 * (InvalidSpec) and no release proceeds:
 *  - a template argument without a value (or valueFrom) that the analysis does not pass: "args.X
 *    was not resolved" (an argument the analysis passes always resolves, to "" without a value);
 *  - two templates of one analysis declaring one argument with different values: "Argument X
 *    specified multiple times with different values";
 *  - a metric naming `{{args.X}}` its template does not declare: refused up front for a step or
 *    blue-green analysis, and "failed to resolve {{args.X}}" on every measurement of a background
 *    one (the analysis fails, the release is aborted).
 * And one Argo Rollouts accepts in silence: an argument the analysis passes that none of its
 * templates declares is dropped (MergeArgs only fills declared ones), so a misspelt name measures
 * with the template's default.
 * And one that measures the wrong pods: an argument the templates' queries match Istio's
 * `destination_canonical_revision` on (`destination_canonical_revision="{{args.X}}"`), passed as
 * a value other than the Rollout's own pods' `service.istio.io/canonical-revision` label, which
 * Istio reports as that revision: the gate sees none of the new pods' requests (no data: judged on
 * nothing, or, where no data fails the condition, every release rolled back). Judged only where
 * the pod template carries that label (without it Istio falls back to other labels).
 * The templates of an analysis are those it names and, recursively, those they name in
 * spec.templates (rollout/analysis.go getAnalysisTemplatesFromRefs), each once, namespaced ones
 * before cluster ones (flattenArgs' order). A template that is not rendered is ref-rollout's
 * finding; arguments it might declare are then unknown here.
 */
import type { Context, Scope } from './context';
import { child, item } from './paths';
import { asArray, Entry, finding, isKind, isRecord, nameOf, RawFinding } from './types';

const RULE = 'ref-analysis-args';

interface Argument {
  readonly name: string;
  /** `value` or `valueFrom` set (a Go pointer that is not nil). */
  readonly resolved: boolean;
  readonly value?: string;
}

function argumentsOf(list: unknown): Argument[] {
  return asArray(list).filter(isRecord).filter((a) => typeof a.name === 'string').map((a) => ({
    name: a.name as string,
    resolved: (a.value !== undefined && a.value !== null) || (a.valueFrom !== undefined && a.valueFrom !== null),
    value: typeof a.value === 'string' ? a.value : undefined,
  }));
}

/** Every analysis a Rollout's strategy starts: canary steps, background analysis, blue-green pre/post promotion. */
function analysesOf(spec: Record<string, any>): Array<{ path: string; analysis: Record<string, any> }> {
  const strategy = isRecord(spec.strategy) ? spec.strategy : {};
  const out: Array<{ path: string; analysis: Record<string, any> }> = [];
  const canary = isRecord(strategy.canary) ? strategy.canary : undefined;
  if (canary) {
    asArray(canary.steps).forEach((step, i) => {
      if (isRecord(step) && isRecord(step.analysis)) out.push({ path: `${item('spec.strategy.canary.steps', i)}.analysis`, analysis: step.analysis });
    });
    if (isRecord(canary.analysis)) out.push({ path: 'spec.strategy.canary.analysis', analysis: canary.analysis });
  }
  const blueGreen = isRecord(strategy.blueGreen) ? strategy.blueGreen : undefined;
  for (const field of ['prePromotionAnalysis', 'postPromotionAnalysis']) {
    if (blueGreen && isRecord(blueGreen[field])) out.push({ path: `spec.strategy.blueGreen.${field}`, analysis: blueGreen[field] });
  }
  return out;
}

/** The templates an analysis runs (nested ones too, each once, namespaced first), and whether one was not found. */
function templatesOf(refs: unknown, scope: Scope, ns: string): { templates: Entry[]; complete: boolean } {
  const namespaced: Entry[] = [];
  const cluster: Entry[] = [];
  let complete = true;
  const visit = (list: unknown) => {
    for (const ref of asArray(list).filter(isRecord)) {
      if (typeof ref.templateName !== 'string') continue;
      const isCluster = ref.clusterScope === true;
      const entry = isCluster ? scope.named('', 'argoproj.io', 'ClusterAnalysisTemplate', ref.templateName) : scope.named(ns, 'argoproj.io', 'AnalysisTemplate', ref.templateName);
      if (!entry) {
        complete = false;
        continue;
      }
      const into = isCluster ? cluster : namespaced;
      if (into.includes(entry)) continue;
      into.push(entry);
      visit(isRecord(entry.obj.spec) ? entry.obj.spec.templates : undefined);
    }
  };
  visit(refs);
  return { templates: [...namespaced, ...cluster], complete };
}

export function checkAnalysisArgs(e: Entry, ctx: Context): RawFinding[] {
  if (isKind(e.obj, 'argoproj.io', 'AnalysisTemplate') || isKind(e.obj, 'argoproj.io', 'ClusterAnalysisTemplate')) return undeclaredInMetrics(e);
  if (!isKind(e.obj, 'argoproj.io', 'Rollout') || !isRecord(e.obj.spec)) return [];
  const scope = ctx.scope(e);
  const ns = typeof e.obj.metadata?.namespace === 'string' ? e.obj.metadata.namespace : '';
  const out: RawFinding[] = [];
  for (const { path, analysis } of analysesOf(e.obj.spec)) {
    const { templates: found, complete } = templatesOf(analysis.templates, scope, ns);
    // flattenArgs: the templates' arguments in order; one name, two different values, is refused.
    const declared = new Map<string, Argument & { template: string }>();
    for (const template of found) {
      for (const arg of argumentsOf(isRecord(template.obj.spec) ? template.obj.spec.args : undefined)) {
        const before = declared.get(arg.name);
        if (before && before.value !== undefined && arg.value !== undefined && before.value !== arg.value) {
          out.push(finding(e, `${path}.templates`, RULE, `templates ${before.template} and ${nameOf(template.obj)} both declare argument ${arg.name}, with values ${JSON.stringify(before.value)} and ${JSON.stringify(arg.value)}: Argo Rollouts refuses the Rollout (InvalidSpec)`,
            `give ${arg.name} one value in both templates, or pass it from the Rollout and drop the templates' values`));
        } else if (!before || before.value === undefined) declared.set(arg.name, { ...arg, template: nameOf(template.obj) ?? '?' }); // a value is never replaced
      }
    }
    const passed = argumentsOf(analysis.args);
    asArray(analysis.args).forEach((raw, i) => {
      const arg = isRecord(raw) && typeof raw.name === 'string' ? raw.name : undefined;
      if (arg === undefined || declared.has(arg) || !complete) return;
      const names = [...declared.keys()];
      out.push(finding(e, child(item(`${path}.args`, i), 'name'), RULE, `argument ${arg} is declared by none of the analysis' templates (${found.map((t) => nameOf(t.obj)).join(', ')}): Argo Rollouts drops it without a word`,
        names.length ? `name one of the declared arguments (${names.join(', ')}), or remove it` : 'remove it, or declare it in the template (spec.args)'));
    });
    out.push(...revisionMismatches(e, path, analysis, found));
    // MergeArgs + ResolveArgs: every declared argument ends with a value (one passed always has one).
    for (const [name, arg] of declared) {
      if (arg.resolved || passed.some((p) => p.name === name)) continue;
      out.push(finding(e, path, RULE, `template ${arg.template} declares argument ${name} without a value, and this analysis does not pass it: Argo Rollouts refuses the Rollout (InvalidSpec: args.${name} was not resolved), and no release proceeds`,
        `pass it: args: [{name: ${name}, value: ...}] (or valueFrom), or give the template's argument a default value`));
    }
  }
  return out;
}

/** The pod label Istio reports as `destination_canonical_revision` on its request metrics. */
const REVISION_LABEL = 'service.istio.io/canonical-revision';
/** A PromQL matcher of that revision on an argument: `destination_canonical_revision="{{args.X}}"`. */
const REVISION_MATCHER = /destination_canonical_revision\s*=\s*"\{\{\s*args\.([^}\s]+)\s*\}\}"/g;

/** Prometheus queries of a template's metrics. */
function queriesOf(template: Entry): string[] {
  const spec = isRecord(template.obj.spec) ? template.obj.spec : {};
  return asArray(spec.metrics).filter(isRecord).map((m) => (isRecord(m.provider) && isRecord(m.provider.prometheus) ? m.provider.prometheus.query : undefined)).filter((q): q is string => typeof q === 'string');
}

/** Arguments passed as a revision the Rollout's pods do not carry, to templates that select requests by it. */
function revisionMismatches(e: Entry, path: string, analysis: Record<string, any>, templates: readonly Entry[]): RawFinding[] {
  const labels = e.obj.spec?.template?.metadata?.labels;
  const revision = isRecord(labels) ? labels[REVISION_LABEL] : undefined;
  if (typeof revision !== 'string') return [];
  const out: RawFinding[] = [];
  asArray(analysis.args).forEach((raw, i) => {
    if (!isRecord(raw) || typeof raw.name !== 'string' || typeof raw.value !== 'string' || raw.value === revision) return;
    const selecting = templates.filter((t) => queriesOf(t).some((q) => [...q.matchAll(REVISION_MATCHER)].some((m) => m[1] === raw.name)));
    if (selecting.length === 0) return;
    out.push(finding(e, child(item(`${path}.args`, i), 'value'), RULE,
      `argument ${raw.name} is ${JSON.stringify(raw.value)}, the revision ${selecting.map((t) => nameOf(t.obj)).join(' and ')} select${selecting.length === 1 ? 's' : ''} requests by (destination_canonical_revision), but this Rollout's pods carry ${REVISION_LABEL}: ${revision}, which Istio reports instead: the gate measures none of the new pods' requests (no data: a release judged on nothing, or, where no data fails the condition, every release rolled back)`,
      `pass ${JSON.stringify(revision)}, the pod template's ${REVISION_LABEL} label (derive both from one value)`));
  });
  return out;
}

/** fasttemplate's tags, as Argo Rollouts reads them: between `{{` and the next `}}`, trimmed. */
const TAG = /\{\{(.*?)\}\}/gs;

/** Metrics naming `{{args.X}}` that the template does not declare. */
function undeclaredInMetrics(e: Entry): RawFinding[] {
  const spec = isRecord(e.obj.spec) ? e.obj.spec : {};
  const declared = new Set(argumentsOf(spec.args).map((a) => a.name));
  const out: RawFinding[] = [];
  const visit = (node: unknown, path: string): void => {
    if (typeof node === 'string') {
      const missing = [...new Set([...node.matchAll(TAG)].map((m) => m[1]!.trim()).filter((tag) => tag.startsWith('args.') && !declared.has(tag.slice(5))))];
      for (const tag of missing) {
        out.push(finding(e, path, RULE, `{{${tag}}} names an argument the template does not declare (${[...declared].join(', ') || 'it declares none'}): a Rollout running it as a step or blue-green analysis is refused (InvalidSpec), and as background analysis every measurement fails ("failed to resolve {{${tag}}}")`,
          `declare ${tag.slice(5)} in spec.args (and pass it from the Rollout), or name a declared one`));
      }
    } else if (Array.isArray(node)) node.forEach((n, i) => visit(n, item(path, i)));
    else if (isRecord(node)) for (const [k, v] of Object.entries(node)) visit(v, child(path, k));
  };
  visit(spec.metrics, 'spec.metrics');
  return out;
}
