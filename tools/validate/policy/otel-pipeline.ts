/**
 * Rule `otel-pipeline`: an OpenTelemetry collector's configuration is consistent with itself.
 * Every receiver, processor and exporter a pipeline of `service.pipelines` lists is defined in the
 * section of that name (`type` or `type/name`, as written there; a connector, defined under
 * `connectors`, serves as a pipeline's exporter and another's receiver), every extension
 * `service.extensions` lists is defined under `extensions`, and every pipeline has a receiver and
 * an exporter. The collector validates this at start-up and refuses to start otherwise
 * ("references processor ... which is not configured"): the pods crash-loop, and the region
 * receives no span. Only a configuration given as an object is judged.
 */
import type { Context } from '../context';
import { specOf } from '../context';
import { child, item } from '../paths';
import { closest } from '../suggest';
import { knownService } from '../service-ports';
import { parseServiceHost } from '../wiring/walk';
import { asArray, Entry, finding, isKind, isRecord, namespaceOf, RawFinding } from '../types';

const RULE = 'otel-pipeline';
const KINDS = ['receivers', 'processors', 'exporters'] as const;

export function checkOtelPipelines(e: Entry): RawFinding[] {
  if (!isKind(e.obj, 'opentelemetry.io', 'OpenTelemetryCollector')) return [];
  const config = specOf(e.obj).config;
  if (!isRecord(config) || !isRecord(config.service)) return [];
  const defined = (section: string) => (isRecord(config[section]) ? Object.keys(config[section] as Record<string, unknown>) : []);
  const connectors = defined('connectors');
  const out: RawFinding[] = [];
  const judge = (names: unknown, path: string, what: string, known: string[], section: string) => {
    asArray(names).forEach((name, i) => {
      if (typeof name !== 'string' || known.includes(name)) return;
      // `resource` for `resource/region`: the component's type without its name.
      const guess = closest(name, known) ?? known.find((k) => k.split('/')[0] === name.split('/')[0]);
      out.push(finding(e, item(path, i), RULE, `${what} ${name} is not defined under spec.config.${section} (defined: ${known.length > 0 ? known.join(', ') : 'none'}): the collector refuses its configuration and does not start, and the region receives no span`,
        guess ? `did you mean ${guess}?` : `define ${name} under spec.config.${section}, or list one that is`));
    });
  };
  judge(config.service.extensions, 'spec.config.service.extensions', 'extension', defined('extensions'), 'extensions');
  const pipelines = isRecord(config.service.pipelines) ? config.service.pipelines : {};
  for (const [pipeline, spec] of Object.entries(pipelines)) {
    const at = child('spec.config.service.pipelines', pipeline);
    if (!isRecord(spec)) continue;
    for (const kind of KINDS) {
      const known = kind === 'processors' ? defined(kind) : [...defined(kind), ...connectors];
      judge(spec[kind], child(at, kind), `pipeline ${pipeline}: ${kind.slice(0, -1)}`, known, kind);
    }
    for (const kind of ['receivers', 'exporters'] as const) {
      if (asArray(spec[kind]).length > 0) continue;
      out.push(finding(e, child(at, kind), RULE, `pipeline ${pipeline} has no ${kind.slice(0, -1)}: the collector refuses its configuration and does not start`,
        `list at least one of spec.config.${kind}`));
    }
  }
  return out;
}

/**
 * Rule `otel-lb-headless`: the load-balancing exporter's DNS resolver (`exporters.loadbalancing
 * .resolver.dns.hostname`) names a headless Service (or one opentelemetry-operator makes headless,
 * `<name>-collector-headless`). The exporter routes each trace ID to one of the addresses the name
 * resolves to; a ClusterIP Service resolves to one virtual address, so every span goes wherever
 * kube-proxy sends that connection, a trace's spans end on different samplers, and tail sampling
 * decides on fragments. Names outside the folder's namespaces are not judged.
 */
export function checkOtelLoadBalancing(e: Entry, ctx: Context): RawFinding[] {
  if (!isKind(e.obj, 'opentelemetry.io', 'OpenTelemetryCollector') || e.region === null) return [];
  const exporters = isRecord(specOf(e.obj).config) ? (specOf(e.obj).config as Record<string, unknown>).exporters : undefined;
  if (!isRecord(exporters)) return [];
  const out: RawFinding[] = [];
  for (const [name, exporter] of Object.entries(exporters)) {
    if (!(name === 'loadbalancing' || name.startsWith('loadbalancing/')) || !isRecord(exporter) || !isRecord(exporter.resolver) || !isRecord(exporter.resolver.dns)) continue;
    const hostname = exporter.resolver.dns.hostname;
    const service = typeof hostname === 'string' ? parseServiceHost(hostname, namespaceOf(e.obj) ?? '') : undefined;
    const scope = ctx.scope(e);
    if (!service || !scope.namespaces.has(service.namespace)) continue;
    const target = knownService(scope, service.namespace, service.name);
    if (!target || target.headless) continue;
    // opentelemetry-operator makes a headless twin of each collector Service.
    const alternative = knownService(scope, service.namespace, `${service.name}-headless`)?.headless ? `${service.name}-headless` : undefined;
    out.push(finding(e, `${child('spec.config.exporters', name)}.resolver.dns.hostname`, 'otel-lb-headless',
      `the ${name} exporter resolves ${String(hostname)}, a Service with a cluster IP: one address, so the exporter cannot send all spans of a trace to one backend, and the samplers decide on fragments of traces`,
      alternative ? `resolve the headless ${alternative} instead` : 'resolve a headless Service (clusterIP: None) of the backends'));
  }
  return out;
}
