/**
 * Prometheus' identity and least-privilege read access for service discovery.
 *
 * Namespaced Roles, not a ClusterRole: prometheus-operator turns each monitor's namespace
 * selector into an explicit namespace list in the generated `kubernetes_sd_configs`, so
 * Prometheus only ever lists and watches in the namespaces of the scrape-target table. A
 * ClusterRole would let it (and anyone who steals its token) read pods and endpoints of every
 * namespace in the cluster; these Roles are derived from the table, so a namespace or a kind
 * appears here exactly when a target needs it. Not here: the kubelet scrape's `nodes/metrics`
 * (cluster-scoped) and its discovery Role in kube-system, which the region's Application may not
 * write; the kube-prometheus-stack add-on brings both (charts/argocd/addon-catalog.ts), and the
 * scrape-target row says so (`rbacFromAddon`).
 */
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { ScrapeTarget } from '../lib/monitoring-targets';
import { GRAFANA, scrapedNamespaces } from '../lib/monitoring-targets';
import { SYNC_WAVE, syncWave } from '../lib/metadata';

const READ = ['get', 'list', 'watch'];

/** Discovery needs per namespace: `pod` role for PodMonitors, `endpointslice` role for ServiceMonitors. */
export function discoveryRules(targets: readonly ScrapeTarget[], namespace: string, alertmanagerNamespace: string): k8s.PolicyRule[] {
  const here = targets.filter((t) => t.namespace === namespace);
  const core = new Set<string>();
  const discovery = new Set<string>();
  for (const t of here) {
    core.add('pods');
    if (t.kind === 'service') {
      core.add('services');
      discovery.add('endpointslices');
    }
  }
  // Prometheus finds the Alertmanager pods behind alertmanager-operated through the Service's
  // endpoints; the operator generates the Endpoints or the EndpointSlice role depending on
  // its version, so both are readable there (and only there).
  if (namespace === alertmanagerNamespace) {
    core.add('services');
    core.add('endpoints');
    discovery.add('endpointslices');
  }
  const rules: k8s.PolicyRule[] = [];
  if (core.size > 0) rules.push({ apiGroups: [''], resources: [...core].sort(), verbs: READ });
  if (discovery.size > 0) rules.push({ apiGroups: ['discovery.k8s.io'], resources: [...discovery].sort(), verbs: READ });
  return rules;
}

export interface PrometheusRbacProps {
  /** Prometheus's ServiceAccount: the subject of every RoleBinding. */
  readonly serviceAccountName: string;
  /** Namespace Prometheus (and Alertmanager) run in. */
  readonly namespace: string;
  /** Scrape targets: one Role and RoleBinding in each namespace they live in. */
  readonly targets: readonly ScrapeTarget[];
  /** Labels of the Roles and RoleBindings. */
  readonly labels: Readonly<Record<string, string>>;
  /** Role and RoleBinding name in every scraped namespace. */
  readonly roleName: string;
}

export class PrometheusRbac extends Construct {
  /** Namespaces that got a Role (for tests and for the AppProject's destinations). */
  readonly namespaces: readonly string[];

  constructor(scope: Construct, id: string, props: PrometheusRbacProps) {
    super(scope, id);
    const meta = (name: string, namespace: string) => ({
      name,
      namespace,
      labels: { ...props.labels },
      annotations: syncWave(SYNC_WAVE.config),
    });
    new k8s.KubeServiceAccount(this, 'service-account', {
      metadata: meta(props.serviceAccountName, props.namespace),
      // Only the Prometheus pods get a token (the Prometheus resource opts in); anything else
      // that ever runs under this account does not.
      automountServiceAccountToken: false,
    });
    const namespaces = [...new Set([props.namespace, ...scrapedNamespaces(props.targets)])];
    for (const ns of namespaces) {
      const rules = discoveryRules(props.targets, ns, props.namespace);
      if (rules.length === 0) continue;
      new k8s.KubeRole(this, `role-${ns}`, { metadata: meta(props.roleName, ns), rules });
      new k8s.KubeRoleBinding(this, `binding-${ns}`, {
        metadata: meta(props.roleName, ns),
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: props.roleName },
        subjects: [{ kind: 'ServiceAccount', name: props.serviceAccountName, namespace: props.namespace }],
      });
    }
    this.namespaces = namespaces;
  }
}

/**
 * Grafana's dashboard sidecar (kube-prometheus-stack, rbac.namespaced) lists and watches the
 * dashboards' ConfigMaps in the monitoring namespace and reads nothing else there: a Role in every
 * region (Grafana runs in each, with or without dashboards), bound to its ServiceAccount.
 */
export class GrafanaDashboardReader extends Construct {
  constructor(scope: Construct, id: string, props: { readonly namespace: string; readonly name: string; readonly labels: Record<string, string> }) {
    super(scope, id);
    const metadata = { name: props.name, namespace: props.namespace, labels: { ...props.labels }, annotations: syncWave(SYNC_WAVE.config) };
    new k8s.KubeRole(this, 'role', { metadata, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }] });
    new k8s.KubeRoleBinding(this, 'binding', {
      metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: props.name },
      subjects: [{ kind: 'ServiceAccount', name: GRAFANA.serviceAccount, namespace: GRAFANA.namespace }],
    });
  }
}
