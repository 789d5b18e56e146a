/**
 * Rule `argocd-ignored-list-kept`: an Application with `RespectIgnoreDifferences=true` keeps the
 * live value of every ignored field when it syncs, by patching the live object into the one it
 * applies (argo-cd controller/sync.go, normalizeTargetResources). For a kind outside client-go's
 * built-in scheme (any CRD: VirtualService, DestinationRule, Rollout) that patch is a JSON merge
 * patch (RFC 7386) in the pinned v2.14 (later releases merge CRDs by their OpenAPI schema and
 * still treat a list without map keys, as Istio's are, as one value), which replaces a list whole: ignoring one field inside a list item
 * (`.spec.http[].route[].weight`) makes every sync apply the live list, so a change in git to
 * anything else in that list (a route's timeout, retries, a subset) never reaches the cluster,
 * while the diff keeps showing it and self-heal syncs again and again.
 */
import { apiGroup, Entry, finding, isRecord, RawFinding } from '../types';

/**
 * API groups of client-go's scheme: their objects are patched by strategic merge, list by list
 * where the list has a merge key (containers, webhooks). A built-in list without one (an
 * Ingress's rules) is replaced whole too; no rule here ignores one, and this rule does not judge it.
 */
const BUILT_IN_GROUPS = new Set([
  '', 'admissionregistration.k8s.io', 'apps', 'autoscaling', 'batch', 'certificates.k8s.io', 'coordination.k8s.io', 'discovery.k8s.io',
  'events.k8s.io', 'flowcontrol.apiserver.k8s.io', 'networking.k8s.io', 'node.k8s.io', 'policy', 'rbac.authorization.k8s.io',
  'scheduling.k8s.io', 'storage.k8s.io',
]);

/** The part of a JSON pointer or jq path before its first list step, or undefined without one. */
export function listBefore(path: string, style: 'pointer' | 'jq'): string | undefined {
  if (style === 'pointer') {
    const parts = path.split('/');
    const at = parts.findIndex((p, i) => i > 0 && /^(\d+|-)$/.test(p));
    return at === -1 ? undefined : parts.slice(0, at).join('/');
  }
  // `[]`, `[]?`, `[0]`: a list step; `["key"]` is a map key.
  const at = path.search(/\[\s*\d*\s*\]/);
  return at === -1 ? undefined : path.slice(0, at).trim();
}

export function checkIgnoredListKept(e: Entry): RawFinding[] {
  if (apiGroup(e.obj.apiVersion) !== 'argoproj.io') return [];
  const [spec, base] = e.obj.kind === 'Application'
    ? [e.obj.spec, 'spec']
    : e.obj.kind === 'ApplicationSet' && isRecord(e.obj.spec) && isRecord(e.obj.spec.template)
      ? [e.obj.spec.template.spec, 'spec.template.spec']
      : [undefined, ''];
  if (!isRecord(spec) || !Array.isArray(spec.ignoreDifferences)) return [];
  const options = isRecord(spec.syncPolicy) && Array.isArray(spec.syncPolicy.syncOptions) ? spec.syncPolicy.syncOptions : [];
  if (!options.includes('RespectIgnoreDifferences=true')) return [];
  const out: RawFinding[] = [];
  spec.ignoreDifferences.forEach((rule: unknown, i: number) => {
    if (!isRecord(rule) || BUILT_IN_GROUPS.has(String(rule.group ?? ''))) return;
    const paths = [
      ...(Array.isArray(rule.jsonPointers) ? rule.jsonPointers.map((p: unknown) => [String(p), 'pointer', 'jsonPointers'] as const) : []),
      ...(Array.isArray(rule.jqPathExpressions) ? rule.jqPathExpressions.map((p: unknown) => [String(p), 'jq', 'jqPathExpressions'] as const) : []),
    ];
    paths.forEach(([path, style, field], j) => {
      const list = listBefore(path, style);
      if (list === undefined) return;
      const index = field === 'jsonPointers' ? j : j - (Array.isArray(rule.jsonPointers) ? rule.jsonPointers.length : 0);
      const target = `${String(rule.kind)}${rule.name ? ` ${String(rule.name)}` : 's'}`;
      out.push(
        finding(
          e,
          `${base}.ignoreDifferences[${i}].${field}[${index}]`,
          'argocd-ignored-list-kept',
          `with RespectIgnoreDifferences=true, every sync applies the live ${list} of ${target} whole (a JSON merge patch replaces lists): a change in git to anything else in that list is never applied, and the Application stays OutOfSync`,
          'drop RespectIgnoreDifferences=true and keep ApplyOutOfSyncOnly=true (Argo Rollouts\' GitOps guidance: the controller restores its weights at once after an apply), or move the object to an Application without the option',
        ),
      );
    });
  });
  return out;
}
