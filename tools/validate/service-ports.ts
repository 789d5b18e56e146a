/**
 * A Service a client of a region can name, with its ports: a rendered one, or one an operator
 * makes from a rendered resource (opentelemetry-operator's `<name>-collector` Services from a
 * collector's receivers, prometheus-operator's `alertmanager-operated` / `prometheus-operated`),
 * by the names and ports their source gives them (wiring/cluster.ts).
 */
import type { Scope } from './context';
import { specOf } from './context';
import { collectorServices, prometheusOperatorServices, type ServicePort } from './wiring/cluster';
import { asArray, isRecord } from './types';

export interface KnownService {
  readonly ports: readonly ServicePort[];
  /** For messages: `Service ns/name`, or the operator's Service. */
  readonly what: string;
  readonly headless: boolean;
}

export function knownService(scope: Scope, ns: string, name: string): KnownService | undefined {
  const rendered = scope.named(ns, '', 'Service', name);
  if (rendered) {
    const spec = specOf(rendered.obj);
    const ports = asArray(spec.ports).filter(isRecord).map((p) => ({
      name: typeof p.name === 'string' ? p.name : undefined, port: Number(p.port), targetPort: p.targetPort ?? p.port, protocol: String(p.protocol ?? 'TCP'),
      appProtocol: typeof p.appProtocol === 'string' ? p.appProtocol : undefined,
    }));
    return { ports, what: `Service ${ns}/${name}`, headless: spec.clusterIP === 'None' };
  }
  const collector = scope.find(ns, 'opentelemetry.io', 'OpenTelemetryCollector').flatMap(collectorServices).find((s) => s.name === name);
  if (collector) return { ports: collector.ports, what: `${ns}/${name} (opentelemetry-operator's Service for the collector's receivers)`, headless: collector.headless };
  const operated = [...scope.find(ns, 'monitoring.coreos.com', 'Alertmanager'), ...scope.find(ns, 'monitoring.coreos.com', 'Prometheus')]
    .flatMap(prometheusOperatorServices).find((s) => s.name === name);
  if (operated) return { ports: operated.ports, what: `${ns}/${name} (prometheus-operator's Service)`, headless: operated.headless };
  return undefined;
}
