/**
 * Where a region's alerts go after Prometheus evaluates them, two references prometheus-operator
 * resolves at run time and no schema checks:
 *
 * - `ref-alertmanager-endpoint`: each of a Prometheus' `spec.alerting.alertmanagers` names a
 *   Service (`name`, in `namespace`, by default the Prometheus' own) with the `port` it gives (a
 *   port name or number). Prometheus discovers the Alertmanagers through that Service's endpoints
 *   and keeps only the named port: a wrong name or port leaves it with no Alertmanager, and every
 *   alert is evaluated, fires, and reaches no one. The Service may be rendered or be the one
 *   prometheus-operator creates for an Alertmanager (`alertmanager-operated`: web 9093, tcp-mesh
 *   and udp-mesh 9094). A Service name not found is judged only in a namespace holding a rendered
 *   Alertmanager (an add-on's would have Services this tree does not show).
 * - `ref-alertmanager-config`: an Alertmanager's `spec.alertmanagerConfiguration.name` is an
 *   AlertmanagerConfig in the Alertmanager's namespace (the operator looks it up there). Otherwise
 *   the operator cannot build the configuration: the Alertmanager gets no routes or receivers.
 *
 * Namespaces this folder does not render are not judged.
 */
import type { Context } from './context';
import { child, item } from './paths';
import { closest } from './suggest';
import { knownService } from './service-ports';
import { prometheusOperatorServices } from './wiring/cluster';
import { asArray, Entry, finding, isKind, isRecord, nameOf, namespaceOf, RawFinding } from './types';

export function checkAlertmanagerEndpoints(e: Entry, ctx: Context): RawFinding[] {
  if (!isKind(e.obj, 'monitoring.coreos.com', 'Prometheus') || e.region === null) return [];
  const alerting = isRecord(e.obj.spec) && isRecord(e.obj.spec.alerting) ? e.obj.spec.alerting : undefined;
  const out: RawFinding[] = [];
  asArray(alerting?.alertmanagers).forEach((am, i) => {
    if (!isRecord(am) || typeof am.name !== 'string') return;
    const at = item('spec.alerting.alertmanagers', i);
    const ns = typeof am.namespace === 'string' ? am.namespace : namespaceOf(e.obj) ?? '';
    if (!ctx.scope(e).namespaces.has(ns)) return;
    const ports = knownService(ctx.scope(e), ns, am.name)?.ports;
    // An Alertmanager of an add-on (its Service not rendered here) is not judged: only a namespace
    // holding a rendered Alertmanager is known to be where this one's Service should be.
    if (!ports && ctx.scope(e).find(ns, 'monitoring.coreos.com', 'Alertmanager').length === 0) return;
    if (!ports) {
      const known = [
        ...ctx.scope(e).find(ns, '', 'Service').map((s) => nameOf(s.obj) ?? ''),
        ...ctx.scope(e).find(ns, 'monitoring.coreos.com', 'Alertmanager').flatMap(prometheusOperatorServices).map((s) => s.name),
      ];
      const guess = closest(am.name, known);
      out.push(finding(e, child(at, 'name'), 'ref-alertmanager-endpoint', `no Service ${ns}/${am.name} is rendered or made by prometheus-operator: Prometheus finds no Alertmanager there, and every alert fires to no one`,
        guess ? `did you mean ${guess}?` : 'name the Alertmanager\'s Service (prometheus-operator makes alertmanager-operated)'));
      return;
    }
    const port = am.port;
    const matches = typeof port === 'number' ? ports.some((p) => p.port === port) : ports.some((p) => p.name === port);
    if (port === undefined || matches) return;
    const names = ports.map((p) => (typeof port === 'number' ? String(p.port) : p.name)).filter((n): n is string => n !== undefined);
    const guess = typeof port === 'string' ? closest(port, names) : undefined;
    out.push(finding(e, child(at, 'port'), 'ref-alertmanager-endpoint', `Service ${ns}/${am.name} has no port ${JSON.stringify(port)} (its ports: ${ports.map((p) => `${p.name ?? '-'} ${p.port}`).join(', ')}): Prometheus keeps only the endpoints of that port, finds no Alertmanager, and every alert fires to no one`,
      guess ? `did you mean ${guess}?` : `name one of its ports (${names.join(', ')})`));
  });
  return out;
}

export function checkAlertmanagerConfigRef(e: Entry, ctx: Context): RawFinding[] {
  if (!isKind(e.obj, 'monitoring.coreos.com', 'Alertmanager') || e.region === null) return [];
  const ref = isRecord(e.obj.spec) && isRecord(e.obj.spec.alertmanagerConfiguration) ? e.obj.spec.alertmanagerConfiguration.name : undefined;
  const ns = namespaceOf(e.obj) ?? '';
  if (typeof ref !== 'string' || !ctx.scope(e).namespaces.has(ns)) return [];
  const configs = ctx.scope(e).find(ns, 'monitoring.coreos.com', 'AlertmanagerConfig').map((c) => nameOf(c.obj) ?? '');
  if (configs.includes(ref)) return [];
  const guess = closest(ref, configs);
  return [finding(e, 'spec.alertmanagerConfiguration.name', 'ref-alertmanager-config', `no AlertmanagerConfig ${ns}/${ref} is rendered (in ${ns}: ${configs.length > 0 ? configs.join(', ') : 'none'}): prometheus-operator cannot build this Alertmanager's configuration, and it gets no routes or receivers`,
    guess ? `did you mean ${guess}?` : 'name an AlertmanagerConfig in the Alertmanager\'s namespace')];
}
