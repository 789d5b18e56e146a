/**
 * Layer 4 — monitoring objects that apply cleanly and then do nothing:
 *
 * - `ref-monitor-target`: a PodMonitor selects pods rendered in the namespaces it names, and
 *   each endpoint's port is one of their container ports or the port the Istio sidecar injector
 *   adds (`http-envoy-prom`). Otherwise Prometheus scrapes nothing: the SLO alerts go quiet and
 *   the canary analysis, finding no data, aborts every release. Namespaces whose pods are not
 *   rendered here (an add-on's) are not judged.
 * - `ref-alertmanager-receiver`: every route of an AlertmanagerConfig, nested ones included,
 *   names one of its receivers; prometheus-operator refuses the whole config otherwise, and no
 *   alert of that config reaches anyone.
 */
import { type Context, type Scope, specOf } from './context';
import { child, item } from './paths';
import { containersOf } from './pod-templates';
import { labelSelectorMatches } from './selectors';
import { closest } from './suggest';
import { quantityOrNaN } from './quantities';
import { producedSecretName, writtenKeys } from './external-secrets';
import { asArray, Entry, finding, isKind, isRecord, namespaceOf, RawFinding } from './types';

/** Ports the Istio sidecar injector adds to every meshed pod (its merged Prometheus endpoint). */
const INJECTED_PORTS: readonly string[] = ['http-envoy-prom'];

/**
 * Pods the OpenTelemetry operator creates from a collector resource, with the labels they get: the
 * resource's own and its podLabels, then the operator's selector labels over them
 * (internal/manifests/manifestutils/labels.go: it keeps an app.kubernetes.io/name that is set).
 */
function operatorPods(ctx: Context, e: Entry, ns: string): Array<Record<string, unknown>> {
  return ctx.scope(e).find(ns, 'opentelemetry.io', 'OpenTelemetryCollector').map((c) => {
    const own = isRecord(c.obj.metadata) && isRecord(c.obj.metadata.labels) ? c.obj.metadata.labels : {};
    const name = String(isRecord(c.obj.metadata) ? c.obj.metadata.name : '');
    return {
      ...own,
      ...(isRecord(specOf(c.obj).podLabels) ? specOf(c.obj).podLabels : {}),
      'app.kubernetes.io/managed-by': 'opentelemetry-operator',
      'app.kubernetes.io/instance': `${ns}.${name}`,
      'app.kubernetes.io/part-of': 'opentelemetry',
      'app.kubernetes.io/component': 'opentelemetry-collector',
      'app.kubernetes.io/name': typeof own['app.kubernetes.io/name'] === 'string' ? own['app.kubernetes.io/name'] : `${name}-collector`,
    };
  });
}

/**
 * The namespaces a PodMonitor or ServiceMonitor looks in (namespaceSelector: `any: true` every
 * namespace of the scope, a non-empty matchNames those, else the monitor's own).
 */
function monitoredNamespaces(e: Entry, scope: Scope): string[] {
  const selector = isRecord(specOf(e.obj).namespaceSelector) ? specOf(e.obj).namespaceSelector : {};
  const listed = Array.isArray(selector.matchNames) ? selector.matchNames.filter((n: unknown): n is string => typeof n === 'string') : [];
  return selector.any === true ? [...scope.namespaces] : listed.length > 0 ? listed : [namespaceOf(e.obj) ?? ''];
}

/** A monitor's scope, the namespaces it looks in (`names`) and those of them this tree renders (`judged`). */
function monitorView(e: Entry, ctx: Context): { scope: Scope; names: string[]; judged: string[] } {
  const scope = ctx.scope(e);
  const names = monitoredNamespaces(e, scope);
  return { scope, names, judged: names.filter((ns) => scope.namespaces.has(ns)) };
}

export function checkPodMonitorTargets(e: Entry, ctx: Context): RawFinding[] {
  if (!isKind(e.obj, 'monitoring.coreos.com', 'PodMonitor')) return [];
  const spec = specOf(e.obj);
  const { scope, judged } = monitorView(e, ctx);
  if (judged.length === 0) return [];
  const workloads = judged.flatMap((ns) => scope.workloadsIn(ns)).filter((w) => labelSelectorMatches(spec.selector, w.podLabels));
  const operated = judged.flatMap((ns) => operatorPods(ctx, e, ns)).filter((labels) => labelSelectorMatches(spec.selector, labels));
  if (workloads.length === 0 && operated.length === 0) {
    return [finding(e, 'spec.selector', 'ref-monitor-target', `PodMonitor selects no pod rendered in ${judged.join(', ')}: Prometheus scrapes nothing for it`,
      'use the labels of the pods it should scrape (app.kubernetes.io/name of the workload)')];
  }
  // Pods an operator creates (collectors, Prometheus, Alertmanager): their ports are not rendered here.
  if (operated.length > 0 || workloads.some((w) => containersOf(w.tpl).length === 0)) return [];
  const ports = new Set<string>(INJECTED_PORTS);
  for (const w of workloads) for (const c of containersOf(w.tpl)) for (const p of asArray(c.container.ports)) if (isRecord(p) && typeof p.name === 'string') ports.add(p.name);
  const numbers = new Set<number>();
  for (const w of workloads) for (const c of containersOf(w.tpl)) for (const p of asArray(c.container.ports)) if (isRecord(p) && typeof p.containerPort === 'number') numbers.add(p.containerPort);
  const out: RawFinding[] = [];
  asArray(spec.podMetricsEndpoints).forEach((ep, i) => {
    if (!isRecord(ep)) return;
    if (typeof ep.port === 'string' && !ports.has(ep.port)) {
      const guess = closest(ep.port, [...ports]);
      out.push(finding(e, `${item('spec.podMetricsEndpoints', i)}.port`, 'ref-monitor-target', `port ${ep.port} is no container port of the pods it selects (nor the sidecar's ${INJECTED_PORTS.join(', ')}): Prometheus finds no target`,
        guess ? `did you mean ${guess}?` : `name one of ${[...ports].sort().join(', ')}`));
    }
    // A relabeling that moves the scrape to another port of the pod (`$1:15020`, the sidecar's
    // merged metrics): something there must serve the endpoint's path.
    const path = typeof ep.path === 'string' ? ep.path : '/metrics';
    asArray(ep.relabelings).forEach((r, j) => {
      if (!isRecord(r) || r.targetLabel !== '__address__' || typeof r.replacement !== 'string') return;
      const m = /:(\d+)$/.exec(r.replacement);
      const port = m ? Number(m[1]) : undefined;
      if (port === undefined || numbers.has(port)) return;
      const serves = SIDECAR_PATHS[port];
      if (serves?.includes(path)) return;
      const at = `${item(`${item('spec.podMetricsEndpoints', i)}.relabelings`, j)}.replacement`;
      const why = serves ? `the Istio sidecar's port ${port} serves ${serves.join(', ')}, not ${path}` : `no container of the pods it selects, nor their sidecar, listens on ${port}`;
      const right = Object.entries(SIDECAR_PATHS).filter(([, paths]) => paths.includes(path)).map(([p]) => p);
      out.push(finding(e, at, 'ref-monitor-target', `the scrape is moved to port ${port} (${r.replacement}): ${why}, so every scrape fails and the series it brings are missing`,
        right.length > 0 ? `move it to ${right.map((p) => `$1:${p}`).join(' or ')}` : `move it to a port that serves ${path}`));
    });
  });
  return out;
}

/**
 * What the Istio sidecar's own ports serve to a scrape: pilot-agent's 15020 the merged metrics
 * (the application's and Envoy's), Envoy's 15090 its own, 15021 only the readiness check.
 */
const SIDECAR_PATHS: Readonly<Record<number, readonly string[]>> = {
  15020: ['/stats/prometheus'],
  15090: ['/stats/prometheus'],
  15021: ['/healthz/ready'],
};

export function checkAlertmanagerReceivers(e: Entry): RawFinding[] {
  if (!isKind(e.obj, 'monitoring.coreos.com', 'AlertmanagerConfig')) return [];
  const spec = specOf(e.obj);
  const receivers = asArray(spec.receivers).map((r) => (isRecord(r) ? r.name : undefined)).filter((n): n is string => typeof n === 'string');
  const out: RawFinding[] = [];
  const visit = (route: unknown, path: string) => {
    if (!isRecord(route)) return;
    if (typeof route.receiver === 'string' && !receivers.includes(route.receiver)) {
      const guess = closest(route.receiver, receivers);
      out.push(finding(e, child(path, 'receiver'), 'ref-alertmanager-receiver', `receiver ${route.receiver} is not one of the config's receivers (${receivers.join(', ') || 'none'}): prometheus-operator refuses the whole AlertmanagerConfig`,
        guess ? `did you mean ${guess}?` : 'name a receiver defined under spec.receivers'));
    }
    asArray(route.routes).forEach((r, i) => visit(r, item(`${path}.routes`, i)));
  };
  visit(spec.route, 'spec.route');
  return out;
}

/** What a Prometheus selects each monitoring kind by (prometheus-operator's PrometheusSpec). */
const SELECTED_BY: Record<string, { selector: string; namespaceSelector: string }> = {
  PrometheusRule: { selector: 'ruleSelector', namespaceSelector: 'ruleNamespaceSelector' },
  ServiceMonitor: { selector: 'serviceMonitorSelector', namespaceSelector: 'serviceMonitorNamespaceSelector' },
  PodMonitor: { selector: 'podMonitorSelector', namespaceSelector: 'podMonitorNamespaceSelector' },
};

/**
 * Whether a namespace selector of a Prometheus picks `ns`, as prometheus-operator reads it: unset,
 * its own namespace only; empty, every namespace; else the Namespace's labels, which always include
 * kubernetes.io/metadata.name (the API server sets it). A namespace not rendered here has only that
 * label as far as this tree knows: `undefined` when the selector asks for more.
 */
function namespacePicked(selector: unknown, ns: string, own: string, ctx: Context, e: Entry): boolean | undefined {
  if (selector === undefined || selector === null) return ns === own;
  const namespace = ctx.scope(e).named('', '', 'Namespace', ns);
  const rendered = namespace && isRecord(namespace.obj.metadata) && isRecord(namespace.obj.metadata.labels) ? namespace.obj.metadata.labels : {};
  const labels = { ...rendered, 'kubernetes.io/metadata.name': ns };
  if (labelSelectorMatches(selector, labels)) return true;
  return namespace ? false : undefined;
}

/** Whether Prometheus `prometheus` picks up the monitoring object `e` (a PrometheusRule, ServiceMonitor or PodMonitor) by its selectors for that kind. */
export function prometheusSelects(prometheus: Entry, e: Entry, ctx: Context): boolean {
  const by = SELECTED_BY[String(e.obj.kind)];
  if (!by) return false;
  const spec = specOf(prometheus.obj);
  const selector = spec[by.selector];
  const labels = isRecord(e.obj.metadata) && isRecord(e.obj.metadata.labels) ? e.obj.metadata.labels : {};
  if (selector === undefined || selector === null || !labelSelectorMatches(selector, labels)) return false;
  return namespacePicked(spec[by.namespaceSelector], namespaceOf(e.obj) ?? '', namespaceOf(prometheus.obj) ?? '', ctx, e) !== false;
}

/**
 * Rule `ref-prometheus-selects`: every PrometheusRule, ServiceMonitor and PodMonitor of a region
 * is picked up by a Prometheus of the region (its label selector and namespace selector for that
 * kind). One that is not applies cleanly and does nothing: a rule file never loaded is a region
 * without those alerts; a monitor never read leaves its targets unscraped (the SLO alerts and the
 * canary analysis see no data). Not judged where the region renders no Prometheus.
 */
export function checkPrometheusSelects(e: Entry, ctx: Context): RawFinding[] {
  const by = isRecord(e.obj) && e.obj.apiVersion === 'monitoring.coreos.com/v1' ? SELECTED_BY[String(e.obj.kind)] : undefined;
  if (!by || e.region === null) return [];
  const ns = namespaceOf(e.obj) ?? '';
  const labels = isRecord(e.obj.metadata) && isRecord(e.obj.metadata.labels) ? e.obj.metadata.labels : {};
  const prometheuses = ctx.scope(e).entries.filter((x) => x.region === e.region && isKind(x.obj, 'monitoring.coreos.com', 'Prometheus'));
  if (prometheuses.length === 0) return [];
  const verdicts = prometheuses.map((p) => {
    const spec = specOf(p.obj);
    const selector = spec[by.selector];
    // An unset selector selects nothing of that kind.
    if (selector === undefined || selector === null || !labelSelectorMatches(selector, labels)) return false;
    return namespacePicked(spec[by.namespaceSelector], ns, namespaceOf(p.obj) ?? '', ctx, e);
  });
  if (verdicts.some((v) => v !== false)) return [];
  const names = prometheuses.map((p) => `${namespaceOf(p.obj)}/${String(isRecord(p.obj.metadata) ? p.obj.metadata.name : '?')}`).join(', ');
  return [finding(e, 'metadata.labels', 'ref-prometheus-selects', `no Prometheus of the region (${names}) selects this ${String(e.obj.kind)} by its ${by.selector} and ${by.namespaceSelector}: it is never ${e.obj.kind === 'PrometheusRule' ? 'loaded, and its alerts never fire' : 'read, and its targets are never scraped'}`,
    `give it the labels the Prometheus ${by.selector} asks for, in a namespace its ${by.namespaceSelector} picks (or fix the Prometheus' selectors)`)];
}

/** The values of `label` the routes of an AlertmanagerConfig match (nested routes too): `=` values and `=~` patterns. */
function routedValues(route: unknown, label: string, out: { equal: Set<string>; patterns: RegExp[] }): void {
  if (!isRecord(route)) return;
  for (const m of asArray(route.matchers)) {
    if (!isRecord(m) || m.name !== label || typeof m.value !== 'string') continue;
    const type = m.matchType ?? (m.regex === true ? '=~' : '=');
    if (type === '=') out.equal.add(m.value);
    else if (type === '=~') {
      try {
        out.patterns.push(new RegExp(`^(?:${m.value})$`));
      } catch {
        // not a pattern Alertmanager would load either: judged elsewhere
      }
    }
  }
  for (const r of asArray(route.routes)) routedValues(r, label, out);
}

/**
 * Rule `alert-severity`: an alert's `severity` label that is a slip of a value the region's
 * Alertmanager routes match (`Critical`, `critcal`, `crit` beside `critical`). Matchers compare exactly:
 * the alert falls to the default receiver, and the page it was meant to send never goes out. A
 * severity no route is near (info, none: meant for the default receiver) is not judged.
 * Not judged where the region renders no AlertmanagerConfig that routes on severity.
 */
export function checkAlertSeverity(e: Entry, ctx: Context): RawFinding[] {
  if (!isKind(e.obj, 'monitoring.coreos.com', 'PrometheusRule') || e.region === null) return [];
  const routed = { equal: new Set<string>(), patterns: [] as RegExp[] };
  for (const config of ctx.scope(e).entries) {
    if (config.region === e.region && isKind(config.obj, 'monitoring.coreos.com', 'AlertmanagerConfig')) routedValues(specOf(config.obj).route, 'severity', routed);
  }
  if (routed.equal.size === 0 && routed.patterns.length === 0) return [];
  const known = [...routed.equal].sort();
  const out: RawFinding[] = [];
  asArray(specOf(e.obj).groups).forEach((group, g) => {
    asArray(isRecord(group) ? group.rules : undefined).forEach((rule, r) => {
      if (!isRecord(rule) || typeof rule.alert !== 'string') return;
      const severity = isRecord(rule.labels) ? rule.labels.severity : undefined;
      if (typeof severity !== 'string' || routed.equal.has(severity) || routed.patterns.some((p) => p.test(severity))) return;
      // A severity meant for the default receiver (info, none) is a choice; one a letter or a case
      // away from a routed value is a slip: that alert was meant to page.
      const guess = closest(severity, known) ?? known.find((k) => k.toLowerCase() === severity.toLowerCase())
        // An abbreviation (`crit`, `warn`): the start of one routed value, three letters or more.
        ?? (severity.length >= 3 ? [known.filter((k) => k.toLowerCase().startsWith(severity.toLowerCase()))].find((l) => l.length === 1)?.[0] : undefined);
      if (!guess) return;
      out.push(finding(e, `${item(`${item('spec.groups', g)}.rules`, r)}.labels.severity`, 'alert-severity', `alert ${rule.alert} has severity ${JSON.stringify(severity)}, which no Alertmanager route matches (matchers compare exactly; routed: ${known.join(', ')}): it goes to the default receiver only, and pages no one`,
        `did you mean ${guess}?`));
    });
  });
  return out;
}

/** Prometheus' byte sizes (units.Base2Bytes: KB is 1024 bytes). */
const PROMETHEUS_BYTES: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4, PB: 1024 ** 5, EB: 1024 ** 6 };
/** The share of its volume retentionSize may claim: only whole blocks are deleted, so the WAL growing between truncations and a compaction's copy need room beyond it. */
const RETENTION_SHARE = 0.9;

/**
 * Rule `prometheus-retention`: a Prometheus' retentionSize leaves room on its volume: retention
 * deletes whole blocks only, so the WAL growing between truncations and a compaction's temporary
 * copy need space beyond it. Without it the disk fills first: Prometheus crash-loops and the
 * region has no metrics or alerts.
 */
export function checkPrometheusRetention(e: Entry): RawFinding[] {
  if (!isKind(e.obj, 'monitoring.coreos.com', 'Prometheus')) return [];
  const spec = specOf(e.obj);
  const size = typeof spec.retentionSize === 'string' ? /^([0-9]+(?:\.[0-9]+)?)(B|KB|MB|GB|TB|PB|EB)$/.exec(spec.retentionSize) : null;
  const claim = isRecord(spec.storage) && isRecord(spec.storage.volumeClaimTemplate) ? specOf(spec.storage.volumeClaimTemplate) : {};
  const request = isRecord(claim.resources) && isRecord(claim.resources.requests) ? claim.resources.requests.storage : undefined;
  const capacity = typeof request === 'string' ? quantityOrNaN(request) : Number.NaN;
  if (!size || !(capacity > 0)) return [];
  const retained = Number(size[1]) * PROMETHEUS_BYTES[size[2]!]!;
  if (retained <= capacity * RETENTION_SHARE) return [];
  const most = Math.floor((capacity * RETENTION_SHARE) / 1024 ** 3);
  return [finding(e, 'spec.retentionSize', 'prometheus-retention', `retentionSize ${String(spec.retentionSize)} is ${Math.round((retained / capacity) * 100)} % of its ${String(request)} volume: retention deletes whole blocks only, so the WAL between truncations and a compaction's copy fill the disk first, and Prometheus stops`,
    `lower it to at most ${most}GB (${Math.round(RETENTION_SHARE * 100)} % of the volume), or grow the volume`)];
}

/** The `{name, key}` Secret selectors anywhere under a node, with their paths. */
function secretSelectors(node: unknown, path: string, out: Array<{ name: string; key: string; path: string }> = []): Array<{ name: string; key: string; path: string }> {
  if (Array.isArray(node)) node.forEach((n, i) => secretSelectors(n, item(path, i), out));
  else if (isRecord(node)) {
    const keys = Object.keys(node);
    if (typeof node.name === 'string' && typeof node.key === 'string' && keys.every((k) => k === 'name' || k === 'key' || k === 'optional')) out.push({ name: node.name, key: node.key, path });
    else for (const [k, v] of Object.entries(node)) secretSelectors(v, child(path, k), out);
  }
  return out;
}

/**
 * Rule `ref-alertmanager-secret`: every Secret key an AlertmanagerConfig's receivers read (a
 * PagerDuty routing key, a Slack webhook, an SMTP password: SecretKeySelectors) is written by the
 * ExternalSecret that produces that Secret in its namespace. prometheus-operator refuses the whole
 * config otherwise, and none of its receivers is notified. Secrets not produced by a rendered
 * ExternalSecret (or whose keys cannot be known) are not judged.
 */
export function checkAlertmanagerSecrets(e: Entry, ctx: Context): RawFinding[] {
  if (!isKind(e.obj, 'monitoring.coreos.com', 'AlertmanagerConfig')) return [];
  const ns = namespaceOf(e.obj) ?? '';
  const producers = ctx.scope(e).find(ns, 'external-secrets.io', 'ExternalSecret');
  const out: RawFinding[] = [];
  for (const ref of secretSelectors(specOf(e.obj).receivers, 'spec.receivers')) {
    const es = producers.find((p) => producedSecretName(p) === ref.name);
    const keys = es ? writtenKeys(es) : undefined;
    if (!keys || keys.has(ref.key)) continue;
    const guess = closest(ref.key, [...keys]);
    out.push(finding(e, `${ref.path}.key`, 'ref-alertmanager-secret', `key ${ref.key} is not written into Secret ${ref.name} (its ExternalSecret writes ${[...keys].sort().join(', ')}): prometheus-operator refuses the whole AlertmanagerConfig, and no receiver is notified`,
      guess ? `did you mean ${guess}?` : `read one of ${[...keys].sort().join(', ')}`));
  }
  return out;
}

interface DashboardSidecar {
  readonly label: string;
  readonly labelValue: string;
  readonly namespace?: string;
  readonly folderAnnotation?: string;
}

/** Sidecar settings by region, found once per run (every ConfigMap of the region asks). */
const sidecars = new WeakMap<Context, Map<string, DashboardSidecar | undefined>>();

/** The Grafana dashboard sidecar of a region, as its kube-prometheus-stack Application configures it. */
function dashboardSidecar(ctx: Context, e: Entry): DashboardSidecar | undefined {
  let byRegion = sidecars.get(ctx);
  if (!byRegion) sidecars.set(ctx, (byRegion = new Map()));
  const region = String(e.region);
  if (!byRegion.has(region)) byRegion.set(region, findDashboardSidecar(ctx, e));
  return byRegion.get(region);
}

function findDashboardSidecar(ctx: Context, e: Entry): DashboardSidecar | undefined {
  for (const app of ctx.scope(e).entries) {
    if (app.region !== null || !isKind(app.obj, 'argoproj.io', 'Application')) continue;
    const labels = isRecord(app.obj.metadata) && isRecord(app.obj.metadata.labels) ? app.obj.metadata.labels : {};
    if (labels['bookedbarber.com/region'] !== e.region) continue;
    const sources = [specOf(app.obj).source, ...asArray(specOf(app.obj).sources)];
    for (const source of sources) {
      const values = isRecord(source) && isRecord(source.helm) && isRecord(source.helm.valuesObject) ? source.helm.valuesObject : undefined;
      const dashboards = values && isRecord(values.grafana) && isRecord(values.grafana.sidecar) && isRecord(values.grafana.sidecar.dashboards) ? values.grafana.sidecar.dashboards : undefined;
      if (!dashboards || dashboards.enabled !== true || typeof dashboards.label !== 'string') continue;
      return {
        label: dashboards.label,
        labelValue: typeof dashboards.labelValue === 'string' ? dashboards.labelValue : '1',
        namespace: typeof dashboards.searchNamespace === 'string' ? dashboards.searchNamespace : undefined,
        folderAnnotation: typeof dashboards.folderAnnotation === 'string' ? dashboards.folderAnnotation : undefined,
      };
    }
  }
  return undefined;
}

/**
 * Rule `ref-dashboard-label`: a dashboard ConfigMap (one carrying the sidecar's folder annotation)
 * carries the label the Grafana dashboard sidecar watches, in the namespace it searches, as the
 * region's kube-prometheus-stack values set them. Otherwise the sidecar never loads it: the
 * dashboard the runbooks link to is missing from Grafana.
 */
export function checkDashboardLabel(e: Entry, ctx: Context): RawFinding[] {
  if (!isKind(e.obj, '', 'ConfigMap') || e.region === null) return [];
  const annotations = isRecord(e.obj.metadata) && isRecord(e.obj.metadata.annotations) ? e.obj.metadata.annotations : {};
  const labels = isRecord(e.obj.metadata) && isRecord(e.obj.metadata.labels) ? e.obj.metadata.labels : {};
  const sidecar = dashboardSidecar(ctx, e);
  if (!sidecar || !sidecar.folderAnnotation || annotations[sidecar.folderAnnotation] === undefined) return [];
  const out: RawFinding[] = [];
  if (labels[sidecar.label] !== sidecar.labelValue) {
    out.push(finding(e, 'metadata.labels', 'ref-dashboard-label', `a dashboard (annotated ${sidecar.folderAnnotation}) without the label ${sidecar.label}: "${sidecar.labelValue}" the Grafana sidecar watches: it is never loaded`, `add the label ${sidecar.label}: "${sidecar.labelValue}"`));
  }
  const ns = namespaceOf(e.obj);
  if (sidecar.namespace && sidecar.namespace !== 'ALL' && ns !== sidecar.namespace) {
    out.push(finding(e, 'metadata.namespace', 'ref-dashboard-label', `a dashboard in namespace ${String(ns)}, where the Grafana sidecar does not look (it searches ${sidecar.namespace}): it is never loaded`, `move it to ${sidecar.namespace}`));
  }
  return out;
}

/**
 * The Services prometheus-operator makes for the resources of a namespace (pkg/prometheus/
 * common.go BuildStatefulSetService, pkg/alertmanager/statefulset.go makeStatefulSetService): their
 * labels and port names. The operator may add labels of its own configuration: these are the ones
 * it always sets.
 */
function operatedServices(ctx: Context, e: Entry, ns: string): Array<{ labels: Record<string, unknown>; ports: string[]; name: string }> {
  const scope = ctx.scope(e);
  const out: Array<{ labels: Record<string, unknown>; ports: string[]; name: string }> = [];
  const prometheuses = scope.find(ns, 'monitoring.coreos.com', 'Prometheus');
  if (prometheuses.length > 0) {
    const names = prometheuses.map((p) => (typeof specOf(p.obj).portName === 'string' ? specOf(p.obj).portName as string : 'web'));
    out.push({ name: 'prometheus-operated', labels: { 'operated-prometheus': 'true' }, ports: [...new Set([...names, ...(prometheuses.some((p) => isRecord(specOf(p.obj).thanos)) ? ['grpc'] : [])])] });
  }
  const alertmanagers = scope.find(ns, 'monitoring.coreos.com', 'Alertmanager');
  if (alertmanagers.length > 0) {
    const names = alertmanagers.map((a) => (typeof specOf(a.obj).portName === 'string' ? specOf(a.obj).portName as string : 'web'));
    out.push({ name: 'alertmanager-operated', labels: { 'operated-alertmanager': 'true' }, ports: [...new Set([...names, 'tcp-mesh', 'udp-mesh'])] });
  }
  return out;
}

/**
 * `ref-monitor-target` for a ServiceMonitor: it selects Services of the namespaces it names (by
 * their labels), and each endpoint's `port` is a port name of one of them. Otherwise Prometheus
 * discovers no target: the dashboards and alerts built on those metrics go quiet (an absent()
 * alert, if any, is all that notices). Judged in the namespaces this tree renders, with the
 * Services prometheus-operator makes there; one selecting an OpenTelemetry collector's Services
 * (made by its operator, ports not rendered here) is not judged, nor "selects nothing" in a
 * namespace where that operator makes Services.
 */
export function checkServiceMonitorTargets(e: Entry, ctx: Context): RawFinding[] {
  if (!isKind(e.obj, 'monitoring.coreos.com', 'ServiceMonitor')) return [];
  const spec = specOf(e.obj);
  const { scope, names, judged } = monitorView(e, ctx);
  if (judged.length === 0 || judged.length < names.length) return [];
  // The OpenTelemetry operator makes Services too, labelled like its pods (operatorPods), ports unknown here.
  const collectors = judged.flatMap((ns) => operatorPods(ctx, e, ns)).filter((labels) => labelSelectorMatches(spec.selector, labels));
  if (collectors.length > 0) return [];
  const unknownMakers = judged.some((ns) => scope.find(ns, 'opentelemetry.io', 'OpenTelemetryCollector').length > 0);
  const services = judged.flatMap((ns) => [
    ...scope.find(ns, '', 'Service').map((s) => ({
      name: String(s.obj.metadata?.name),
      labels: isRecord(s.obj.metadata?.labels) ? s.obj.metadata.labels as Record<string, unknown> : {},
      ports: asArray(specOf(s.obj).ports).filter(isRecord).map((p) => p.name).filter((n): n is string => typeof n === 'string'),
    })),
    ...operatedServices(ctx, e, ns),
  ]).filter((s) => labelSelectorMatches(spec.selector, s.labels));
  if (services.length === 0) {
    if (unknownMakers) return []; // an operator's Service may carry labels not modelled here
    return [finding(e, 'spec.selector', 'ref-monitor-target', `ServiceMonitor selects no Service rendered (or made by prometheus-operator) in ${judged.join(', ')}: Prometheus scrapes nothing for it`,
      'use the labels of the Service it should scrape')];
  }
  const ports = [...new Set(services.flatMap((s) => s.ports))].sort();
  const out: RawFinding[] = [];
  asArray(spec.endpoints).forEach((ep, i) => {
    if (!isRecord(ep) || typeof ep.port !== 'string' || ports.includes(ep.port)) return;
    const guess = closest(ep.port, ports);
    out.push(finding(e, `${item('spec.endpoints', i)}.port`, 'ref-monitor-target', `port ${ep.port} is no port of the Services it selects (${services.map((s) => s.name).join(', ')}: ${ports.join(', ') || 'none named'}): Prometheus finds no target`,
      guess ? `did you mean ${guess}?` : `name one of ${ports.join(', ')}`));
  });
  return out;
}
