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
import { type Context, specOf } from './context';
import { child, item } from './paths';
import { containersOf } from './pod-templates';
import { labelSelectorMatches } from './selectors';
import { closest } from './suggest';
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

export function checkPodMonitorTargets(e: Entry, ctx: Context): RawFinding[] {
  if (!isKind(e.obj, 'monitoring.coreos.com', 'PodMonitor')) return [];
  const spec = specOf(e.obj);
  const scope = ctx.scope(e);
  const own = namespaceOf(e.obj) ?? '';
  // namespaceSelector: `any: true` is every namespace; matchNames (non-empty) those; else its own.
  const selector = isRecord(spec.namespaceSelector) ? spec.namespaceSelector : {};
  const listed = Array.isArray(selector.matchNames) ? selector.matchNames.filter((n): n is string => typeof n === 'string') : [];
  const names = selector.any === true ? [...scope.namespaces] : listed.length > 0 ? listed : [own];
  const judged = names.filter((ns) => scope.namespaces.has(ns));
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
  const out: RawFinding[] = [];
  asArray(spec.podMetricsEndpoints).forEach((ep, i) => {
    if (!isRecord(ep) || typeof ep.port !== 'string' || ports.has(ep.port)) return;
    const guess = closest(ep.port, [...ports]);
    out.push(finding(e, `${item('spec.podMetricsEndpoints', i)}.port`, 'ref-monitor-target', `port ${ep.port} is no container port of the pods it selects (nor the sidecar's ${INJECTED_PORTS.join(', ')}): Prometheus finds no target`,
      guess ? `did you mean ${guess}?` : `name one of ${[...ports].sort().join(', ')}`));
  });
  return out;
}

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
