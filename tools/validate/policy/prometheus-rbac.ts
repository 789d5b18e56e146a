/**
 * Rule `prometheus-discovery-rbac`: a Prometheus may discover the targets of the monitors it picks
 * up. prometheus-operator writes a Kubernetes service discovery per monitor, in the namespaces
 * the monitor's `namespaceSelector` names (its own by default), and Prometheus lists and watches
 * there, with its ServiceAccount: for a ServiceMonitor the Services, the pods and the endpoints
 * (`endpoints`, or `discovery.k8s.io` `endpointslices` when `serviceDiscoveryRole` is
 * EndpointSlice), for a PodMonitor the pods. A Role (or ClusterRole) bound to the ServiceAccount
 * in that namespace must grant `list` and `watch` on each; otherwise the discovery is forbidden,
 * the targets are never scraped, and the alerts and analyses over them see no data. Monitors
 * across all namespaces (`any: true`), namespaces the folder renders nothing in (an add-on's,
 * whose access is granted elsewhere) and bindings to a ClusterRole this tree does not render are
 * not judged.
 */
import type { Context, Scope } from '../context';
import { specOf } from '../context';
import { prometheusSelects } from '../monitoring-refs';
import { asArray, Entry, finding, isKind, isRecord, nameOf, namespaceOf, RawFinding } from '../types';

const RULE = 'prometheus-discovery-rbac';

interface Need {
  readonly group: string;
  readonly resource: string;
}

/** What Prometheus lists and watches for a monitor's targets. */
function needs(kind: string, role: string): Need[] {
  if (kind === 'PodMonitor') return [{ group: '', resource: 'pods' }];
  return [
    { group: '', resource: 'services' },
    { group: '', resource: 'pods' },
    role === 'EndpointSlice' ? { group: 'discovery.k8s.io', resource: 'endpointslices' } : { group: '', resource: 'endpoints' },
  ];
}

/** The rules bound to ServiceAccount `sa` of `saNs` in namespace `ns`, or undefined when a binding's role is not rendered. */
function grantedRules(scope: Scope, sa: string, saNs: string, ns: string): Array<Record<string, unknown>> | undefined {
  const binds = (b: Entry) => asArray(b.obj.subjects).some((s) => isRecord(s) && s.kind === 'ServiceAccount' && s.name === sa && (s.namespace ?? namespaceOf(b.obj)) === saNs);
  const bindings = [...scope.find(ns, 'rbac.authorization.k8s.io', 'RoleBinding'), ...scope.find('', 'rbac.authorization.k8s.io', 'ClusterRoleBinding')].filter(binds);
  const rules: Array<Record<string, unknown>> = [];
  for (const b of bindings) {
    const ref = isRecord(b.obj.roleRef) ? b.obj.roleRef : {};
    const role = ref.kind === 'Role' ? scope.named(ns, 'rbac.authorization.k8s.io', 'Role', String(ref.name)) : scope.named('', 'rbac.authorization.k8s.io', 'ClusterRole', String(ref.name));
    if (!role) return undefined;
    rules.push(...asArray(role.obj.rules).filter(isRecord));
  }
  return rules;
}

const allows = (rules: Array<Record<string, unknown>>, need: Need, verb: string) => rules.some((r) =>
  asArray(r.apiGroups).some((g) => g === '*' || g === need.group)
  && asArray(r.resources).some((x) => x === '*' || x === need.resource)
  && asArray(r.verbs).some((v) => v === '*' || v === verb));

export function checkPrometheusDiscoveryRbac(e: Entry, ctx: Context): RawFinding[] {
  if (!isKind(e.obj, 'monitoring.coreos.com', 'Prometheus') || e.region === null) return [];
  const spec = specOf(e.obj);
  const sa = typeof spec.serviceAccountName === 'string' ? spec.serviceAccountName : 'default';
  const saNs = namespaceOf(e.obj) ?? '';
  const role = typeof spec.serviceDiscoveryRole === 'string' ? spec.serviceDiscoveryRole : 'Endpoints';
  const scope = ctx.scope(e);
  const inUse = new Set(scope.entries.filter((x) => x.region === e.region).map((x) => namespaceOf(x.obj)));
  const rendersIn = (ns: string) => scope.namespaces.has(ns) || inUse.has(ns);
  // Each namespace to discover in, with what is needed there and for which monitor.
  const wanted = new Map<string, Map<string, { need: Need; monitor: string }>>();
  for (const m of scope.entries) {
    if (m.region !== e.region || !(isKind(m.obj, 'monitoring.coreos.com', 'ServiceMonitor') || isKind(m.obj, 'monitoring.coreos.com', 'PodMonitor'))) continue;
    if (!prometheusSelects(e, m, ctx)) continue;
    const selector = specOf(m.obj).namespaceSelector;
    if (isRecord(selector) && selector.any === true) continue;
    const names = isRecord(selector) && asArray(selector.matchNames).length > 0 ? asArray(selector.matchNames).map(String) : [namespaceOf(m.obj) ?? ''];
    for (const ns of names) {
      // A namespace this folder renders nothing in (an add-on's, its access granted elsewhere) is not judged.
      if (!rendersIn(ns)) continue;
      let list = wanted.get(ns);
      if (!list) wanted.set(ns, (list = new Map()));
      for (const need of needs(String(m.obj.kind), role)) {
        const key = `${need.group}/${need.resource}`;
        if (!list.has(key)) list.set(key, { need, monitor: `${String(m.obj.kind)} ${namespaceOf(m.obj)}/${nameOf(m.obj)}` });
      }
    }
  }
  const out: RawFinding[] = [];
  for (const [ns, list] of [...wanted].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const rules = grantedRules(scope, sa, saNs, ns);
    if (!rules) continue;
    const missing = [...list.values()].filter(({ need }) => !allows(rules, need, 'list') || !allows(rules, need, 'watch'));
    if (missing.length === 0) continue;
    const what = missing.map(({ need }) => (need.group ? `${need.group} ${need.resource}` : need.resource)).join(', ');
    out.push(finding(e, 'spec.serviceAccountName', RULE,
      `ServiceAccount ${saNs}/${sa} may not list and watch ${what} in ${ns}, where ${missing[0]!.monitor}'s targets are${role === 'EndpointSlice' ? ' (serviceDiscoveryRole EndpointSlice)' : ''}: Prometheus' discovery there is forbidden and those targets are never scraped`,
      `grant list and watch on ${what} in ${ns} to ${saNs}/${sa} (a Role and RoleBinding there)`));
  }
  return out;
}
