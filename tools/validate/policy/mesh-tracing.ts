/**
 * The mesh's tracing: istiod's `meshConfig.extensionProviders` (the values of a region's istiod
 * Argo CD Application) against the region that uses them.
 *
 * - `ref-mesh-provider`: every tracing provider a Telemetry names is an extension provider of its
 *   region's istiod. istiod ignores a name it does not know (it logs it): no sidecar sends a span.
 * - `otlp-protocol` (with the SDK exporters' rule, otlp-exporters.ts): an `opentelemetry` provider
 *   sends OTLP over gRPC, or over HTTP when it has an `http` section (Istio's
 *   OpenTelemetryTracingProvider; Envoy's tracer has a grpc_service and an http_service), to
 *   `service`:`port`: a port said to speak the other transport (the collector's `otlp-http` for
 *   gRPC) refuses every export.
 *
 * The region of an istiod Application is its `bookedbarber.com/region` label (the global folder's
 * Applications are one per region); an Application with values not given as an object, or a
 * region with no such Application in view, is not judged.
 */
import type { Context } from '../context';
import { specOf } from '../context';
import { OTLP_TRANSPORTS } from '../otlp-exporters';
import { child, item } from '../paths';
import { closest } from '../suggest';
import { knownService } from '../service-ports';
import { istioProtocol } from '../wiring/istio';
import { parseServiceHost } from '../wiring/walk';
import { asArray, Entry, finding, isKind, isRecord, labelsOf, RawFinding } from '../types';
import { regionChartSources, type RegionChart } from './argocd-spec';
import { LABELS } from './label-rules';

interface Provider {
  readonly path: string;
  readonly value: Record<string, unknown>;
}

/** The extension providers in an istiod chart source's values, with their paths. */
function providersIn(chart: RegionChart): Provider[] {
  const mesh = chart.values?.meshConfig;
  return asArray(isRecord(mesh) ? mesh.extensionProviders : undefined).flatMap((p, i) =>
    (isRecord(p) ? [{ path: item(`${chart.path}.meshConfig.extensionProviders`, i), value: p }] : []));
}

/** The istiod extension providers of `region`, or undefined when no istiod Application of it is in view. */
function regionProviders(ctx: Context, region: string): Provider[] | undefined {
  const charts = regionChartSources(ctx, region, 'istiod');
  return charts.length > 0 ? charts.flatMap(providersIn) : undefined;
}

export function checkMeshProviders(e: Entry, ctx: Context): RawFinding[] {
  if (!isKind(e.obj, 'telemetry.istio.io', 'Telemetry') || e.region === null) return [];
  const providers = regionProviders(ctx, e.region);
  if (!providers) return [];
  const names = providers.map((p) => String(p.value.name));
  const out: RawFinding[] = [];
  asArray(specOf(e.obj).tracing).forEach((t, i) => {
    asArray(isRecord(t) ? t.providers : undefined).forEach((p, j) => {
      if (!isRecord(p) || typeof p.name !== 'string' || names.includes(p.name)) return;
      const guess = closest(p.name, names);
      out.push(finding(e, child(item(`${item('spec.tracing', i)}.providers`, j), 'name'), 'ref-mesh-provider',
        `tracing provider ${p.name} is not an extension provider of this region's istiod (${names.length > 0 ? names.join(', ') : 'none'}): istiod ignores it, and no sidecar sends a span`,
        guess ? `did you mean ${guess}?` : `name one of istiod's meshConfig.extensionProviders (${names.join(', ')}), or add it to the istiod Application's values`));
    });
  });
  return out;
}

export function checkMeshTracingTransport(e: Entry, ctx: Context): RawFinding[] {
  if (e.region !== null || !isKind(e.obj, 'argoproj.io', 'Application')) return [];
  const region = labelsOf(e.obj.metadata)[LABELS.region];
  if (typeof region !== 'string') return [];
  const scope = ctx.regionScope(region);
  const out: RawFinding[] = [];
  for (const p of regionChartSources(ctx, region, 'istiod').filter((c) => c.entry === e).flatMap(providersIn)) {
    const otel = p.value.opentelemetry;
    if (!isRecord(otel) || typeof otel.service !== 'string' || typeof otel.port !== 'number') continue;
    const service = parseServiceHost(otel.service, 'istio-system');
    if (!service || !scope.namespaces.has(service.namespace)) continue;
    const target = knownService(scope, service.namespace, service.name);
    const port = target?.ports.find((x) => x.port === otel.port);
    if (!target || !port) continue;
    const http = isRecord(otel.http);
    const transport = OTLP_TRANSPORTS[http ? 'http/protobuf' : 'grpc']!;
    const spoken = istioProtocol(port);
    if (!transport.refusedBy.includes(spoken)) continue;
    const right = target.ports.find((x) => transport.wants.includes(istioProtocol(x)));
    out.push(finding(e, child(`${p.path}.opentelemetry`, 'port'), 'otlp-protocol',
      `extension provider ${String(p.value.name)} (${region}) sends OTLP over ${http ? 'HTTP (it has an http section)' : 'gRPC (it has no http section)'} to port ${port.port}${port.name ? ` (${port.name})` : ''} of ${target.what}, which speaks ${spoken}: every sidecar's export is refused, and no span reaches the collector`,
      right ? `use port ${right.port}${right.name ? ` (${right.name})` : ''}${http ? '' : ', or add an http section to export over HTTP'}` : 'point it at a port that speaks its transport'));
  }
  return out;
}
