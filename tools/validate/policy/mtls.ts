/**
 * Rule `mesh-mtls-strict`: mutual TLS everywhere. Every PeerAuthentication we render accepts
 * STRICT mTLS only, on every port; in the mesh's root namespace an unset mode is Istio's default,
 * PERMISSIVE (plaintext accepted), so it must say STRICT. A PERMISSIVE or DISABLE mode lets a pod
 * outside the mesh in without a workload identity, around every AuthorizationPolicy principal.
 */
import { Entry, finding, isKind, isRecord, namespaceOf, RawFinding } from '../types';

/** The namespace whose PeerAuthentication is mesh-wide (meshConfig.rootNamespace, Istio's default). */
const ROOT_NAMESPACE = 'istio-system';

export function checkMtlsStrict(e: Entry): RawFinding[] {
  if (!isKind(e.obj, 'security.istio.io', 'PeerAuthentication')) return [];
  const spec = isRecord(e.obj.spec) ? e.obj.spec : {};
  const mode = isRecord(spec.mtls) ? spec.mtls.mode : undefined;
  const out: RawFinding[] = [];
  const root = namespaceOf(e.obj) === ROOT_NAMESPACE && !isRecord(spec.selector);
  if ((mode !== undefined && mode !== 'STRICT' && mode !== 'UNSET') || (root && mode !== 'STRICT')) {
    out.push(finding(e, 'spec.mtls.mode', 'mesh-mtls-strict', `mTLS mode ${String(mode ?? 'unset')}${root ? ' in the mesh root namespace (unset is PERMISSIVE mesh-wide)' : ''}: plaintext ${mode === 'DISABLE' ? 'only' : 'accepted'}, without a workload identity for the AuthorizationPolicies`, 'set mode: STRICT'));
  }
  if (isRecord(spec.portLevelMtls)) {
    for (const [port, setting] of Object.entries(spec.portLevelMtls)) {
      if (isRecord(setting) && setting.mode !== 'STRICT') {
        out.push(finding(e, `spec.portLevelMtls["${port}"].mode`, 'mesh-mtls-strict', `port ${port} accepts mTLS mode ${String(setting.mode)}, not STRICT`, 'remove the port exception, or make it STRICT'));
      }
    }
  }
  return out;
}
