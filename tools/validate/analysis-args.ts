/**
 * Rule `ref-analysis-args`: the arguments between an Argo Rollout and the AnalysisTemplates it
 * runs, as Argo Rollouts merges them when it creates an AnalysisRun (argo-rollouts
 * utils/analysis/helpers.go: flattenArgs, MergeArgs, ResolveArgs; utils/template/template.go for
 * `{{args.x}}`). Each of these applies cleanly, and then stops every release at its analysis:
 *  - a template argument without a value (or valueFrom) that the Rollout does not pass: "args.X was
 *    not resolved", no AnalysisRun is created and the rollout stays degraded at that step;
 *  - two templates of one analysis declaring one argument with different values: "Argument X
 *    specified multiple times with different values";
 *  - an argument the Rollout passes that none of the analysis' templates declares: Argo Rollouts
 *    drops it without a word (MergeArgs only fills declared ones), so a misspelt name measures with
 *    the template's default, or leaves the declared one unresolved;
 *  - a metric naming `{{args.X}}` its template does not declare: "failed to resolve {{args.X}}" on
 *    every measurement, and the analysis fails (the release is aborted and rolled back).
 * A template that is not rendered is ref-rollout's finding; its arguments are then unknown here.
 */
import type { Context } from './context';
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

export function checkAnalysisArgs(e: Entry, ctx: Context): RawFinding[] {
  if (isKind(e.obj, 'argoproj.io', 'AnalysisTemplate') || isKind(e.obj, 'argoproj.io', 'ClusterAnalysisTemplate')) return undeclaredInMetrics(e);
  if (!isKind(e.obj, 'argoproj.io', 'Rollout') || !isRecord(e.obj.spec)) return [];
  const scope = ctx.scope(e);
  const ns = typeof e.obj.metadata?.namespace === 'string' ? e.obj.metadata.namespace : '';
  const out: RawFinding[] = [];
  for (const { path, analysis } of analysesOf(e.obj.spec)) {
    const refs = asArray(analysis.templates).filter(isRecord).filter((t) => typeof t.templateName === 'string');
    const templates = refs.map((t) => (t.clusterScope === true
      ? scope.named('', 'argoproj.io', 'ClusterAnalysisTemplate', t.templateName)
      : scope.named(ns, 'argoproj.io', 'AnalysisTemplate', t.templateName)));
    const found = templates.filter((t): t is Entry => t !== undefined);
    // flattenArgs: the templates' arguments in order; one name, two different values, is refused.
    const declared = new Map<string, Argument & { template: string }>();
    for (const template of found) {
      for (const arg of argumentsOf(isRecord(template.obj.spec) ? template.obj.spec.args : undefined)) {
        const before = declared.get(arg.name);
        if (before && before.value !== undefined && arg.value !== undefined && before.value !== arg.value) {
          out.push(finding(e, `${path}.templates`, RULE, `templates ${before.template} and ${nameOf(template.obj)} both declare argument ${arg.name}, with values ${JSON.stringify(before.value)} and ${JSON.stringify(arg.value)}: Argo Rollouts refuses to create the AnalysisRun`,
            `give ${arg.name} one value in both templates, or pass it from the Rollout and drop the templates' values`));
        } else if (!before || before.value === undefined) declared.set(arg.name, { ...arg, template: nameOf(template.obj) ?? '?' }); // a value is never replaced
      }
    }
    const passed = argumentsOf(analysis.args);
    asArray(analysis.args).forEach((raw, i) => {
      const arg = isRecord(raw) && typeof raw.name === 'string' ? raw.name : undefined;
      if (arg === undefined || declared.has(arg) || found.length < templates.length) return;
      const names = [...declared.keys()];
      out.push(finding(e, child(item(`${path}.args`, i), 'name'), RULE, `argument ${arg} is declared by none of the analysis' templates (${found.map((t) => nameOf(t.obj)).join(', ')}): Argo Rollouts drops it without a word`,
        names.length ? `name one of the declared arguments (${names.join(', ')}), or remove it` : 'remove it, or declare it in the template (spec.args)'));
    });
    // MergeArgs + ResolveArgs: every declared argument ends with a value.
    for (const [name, arg] of declared) {
      if (arg.resolved || passed.some((p) => p.name === name && p.resolved)) continue;
      out.push(finding(e, path, RULE, `template ${arg.template} declares argument ${name} without a value, and this analysis does not pass it: "args.${name} was not resolved", no AnalysisRun is created and the release stops here`,
        `pass it: args: [{name: ${name}, value: ...}] (or valueFrom), or give the template's argument a default value`));
    }
  }
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
        out.push(finding(e, path, RULE, `{{${tag}}} names an argument the template does not declare (${[...declared].join(', ') || 'it declares none'}): every measurement fails with "failed to resolve {{${tag}}}" and the analysis fails`,
          `declare ${tag.slice(5)} in spec.args (and pass it from the Rollout), or name a declared one`));
      }
    } else if (Array.isArray(node)) node.forEach((n, i) => visit(n, item(path, i)));
    else if (isRecord(node)) for (const [k, v] of Object.entries(node)) visit(v, child(path, k));
  };
  visit(spec.metrics, 'spec.metrics');
  return out;
}
