/**
 * Rule `ref-rbac`: a RoleBinding grants a Role that is rendered (in its namespace), and names
 * ServiceAccounts that are rendered where we render the namespace. A binding to nothing grants
 * nothing, silently: Patroni without its Role loses the leader lock and the primary demotes
 * itself, Prometheus discovers no targets. (A ClusterRole we do not render may be built in or an
 * add-on's: not judged.)
 */
import type { Context } from './context';
import { child, item } from './paths';
import { closest } from './suggest';
import { asArray, Entry, finding, isKind, isRecord, nameOf, namespaceOf, RawFinding } from './types';

export function checkRbacRefs(e: Entry, ctx: Context): RawFinding[] {
  const binding = isKind(e.obj, 'rbac.authorization.k8s.io', 'RoleBinding');
  if (!binding && !isKind(e.obj, 'rbac.authorization.k8s.io', 'ClusterRoleBinding')) return [];
  const scope = ctx.scope(e);
  const ns = namespaceOf(e.obj) ?? '';
  const out: RawFinding[] = [];
  const ref = isRecord(e.obj.roleRef) ? e.obj.roleRef : {};
  if (binding && ref.kind === 'Role' && typeof ref.name === 'string' && !scope.named(ns, 'rbac.authorization.k8s.io', 'Role', ref.name)) {
    const roles = scope.find(ns, 'rbac.authorization.k8s.io', 'Role').map((r) => nameOf(r.obj)).filter((n): n is string => !!n);
    const guess = closest(ref.name, roles);
    out.push(finding(e, 'roleRef.name', 'ref-rbac', `Role ${ref.name} is not rendered in namespace ${ns}: the binding grants nothing`, guess ? `did you mean ${guess}?` : 'render the Role next to the binding, or fix the name'));
  }
  asArray(e.obj.subjects).forEach((s, i) => {
    if (!isRecord(s) || s.kind !== 'ServiceAccount' || typeof s.name !== 'string') return;
    const saNs = typeof s.namespace === 'string' ? s.namespace : ns;
    if (!scope.namespaces.has(saNs) || s.name === 'default' || scope.named(saNs, '', 'ServiceAccount', s.name)) return;
    const accounts = scope.find(saNs, '', 'ServiceAccount').map((a) => nameOf(a.obj)).filter((n): n is string => !!n);
    const guess = closest(s.name, accounts);
    out.push(finding(e, child(item('subjects', i), 'name'), 'ref-rbac', `ServiceAccount ${saNs}/${s.name} is not rendered: the binding grants its rights to no pod`, guess ? `did you mean ${guess}?` : 'name the ServiceAccount the pods run as'));
  });
  return out;
}
