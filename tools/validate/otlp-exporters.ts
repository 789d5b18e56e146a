/**
 * Rule `otlp-protocol`: an OpenTelemetry SDK's exporter speaks the protocol of the port it is sent
 * to. The SDK reads `OTEL_EXPORTER_OTLP_[TRACES_|METRICS_|LOGS_]ENDPOINT` and the protocol from
 * `OTEL_EXPORTER_OTLP_[SIGNAL_]PROTOCOL` (the signal's own, else the general one: the OTLP
 * exporter specification, "Configuration Options"): `grpc` opens an HTTP/2 gRPC stream,
 * `http/protobuf` and `http/json` POST over HTTP/1.1. The collector listens for each on its own
 * port (OTLP's 4317 for gRPC and 4318 for HTTP, as opentelemetry-operator names them: `otlp-grpc`
 * appProtocol grpc, `otlp-http` appProtocol http). Sent to the other one, every export fails (the
 * gRPC server refuses HTTP/1.1, the HTTP server does not speak gRPC) and every span is lost, with
 * nothing failing in the pod but a log line. The port is read as Istio reads it (appProtocol, else
 * the port name), and judged only when it is said to speak the other transport (gRPC against
 * HTTP): a port said to be TCP, or not said at all, a protocol not given literally or an address
 * outside the folder is not judged. That the port exists at all is ref-config-endpoint's.
 */
import type { Context } from './context';
import { containersOf, podTemplates } from './pod-templates';
import { item } from './paths';
import { knownService } from './service-ports';
import type { ServicePort } from './wiring/cluster';
import { istioProtocol } from './wiring/istio';
import { parseServiceHost } from './wiring/walk';
import { asArray, Entry, finding, isRecord, namespaceOf, RawFinding } from './types';

const SIGNALS = ['TRACES', 'METRICS', 'LOGS'] as const;

/**
 * Each OTLP protocol: what it is, the port protocols (as Istio names them) of the other OTLP
 * transport, which refuse it, and those that speak it. A port said to be plain TCP (or any other
 * protocol) carries either, and is not judged.
 */
export const OTLP_TRANSPORTS: Readonly<Record<string, { readonly is: string; readonly refusedBy: readonly string[]; readonly wants: readonly string[] }>> = {
  grpc: { is: 'gRPC (HTTP/2)', refusedBy: ['http'], wants: ['grpc', 'http2'] },
  'http/protobuf': { is: 'HTTP/1.1', refusedBy: ['grpc', 'grpc-web'], wants: ['http'] },
  'http/json': { is: 'HTTP/1.1', refusedBy: ['grpc', 'grpc-web'], wants: ['http'] },
};

const describePort = (p: ServicePort) => `${p.port}${p.name ? ` (${p.name}${p.appProtocol ? `, appProtocol ${p.appProtocol}` : ''})` : p.appProtocol ? ` (appProtocol ${p.appProtocol})` : ''}`;

export function checkOtlpProtocol(e: Entry, ctx: Context): RawFinding[] {
  if (e.region === null || !isRecord(e.obj)) return [];
  const templates = podTemplates(e.obj);
  if (templates.length === 0) return [];
  const out: RawFinding[] = [];
  for (const tpl of templates) {
    for (const { container, path } of containersOf(tpl, ['initContainers', 'containers'])) {
      if (!asArray(container.env).some((v) => isRecord(v) && typeof v.name === 'string' && v.name.startsWith('OTEL_EXPORTER_OTLP_'))) continue;
      const env = new Map<string, { value: string; index: number }>();
      asArray(container.env).forEach((v, index) => {
        if (isRecord(v) && typeof v.name === 'string' && typeof v.value === 'string') env.set(v.name, { value: v.value, index });
      });
      // Each signal's exporter: its own endpoint and protocol variables, else the general ones.
      const exporters = new Map<string, { endpointVar: string; protocolVar: string }>();
      for (const signal of SIGNALS) {
        const own = (what: string) => `OTEL_EXPORTER_OTLP_${signal}_${what}`;
        const endpointVar = env.has(own('ENDPOINT')) ? own('ENDPOINT') : 'OTEL_EXPORTER_OTLP_ENDPOINT';
        const protocolVar = env.has(own('PROTOCOL')) ? own('PROTOCOL') : 'OTEL_EXPORTER_OTLP_PROTOCOL';
        exporters.set(`${endpointVar} ${protocolVar}`, { endpointVar, protocolVar });
      }
      for (const { endpointVar, protocolVar } of exporters.values()) {
        const endpoint = env.get(endpointVar);
        const protocol = env.get(protocolVar)?.value;
        const speaks = protocol !== undefined ? OTLP_TRANSPORTS[protocol] : undefined;
        if (!endpoint || !speaks) continue;
        let url: URL;
        try {
          url = new URL(endpoint.value);
        } catch {
          continue;
        }
        if (url.port === '') continue;
        const service = parseServiceHost(url.hostname, namespaceOf(e.obj) ?? '');
        if (!service) continue;
        const scope = ctx.scope(e);
        if (!scope.namespaces.has(service.namespace)) continue;
        const target = knownService(scope, service.namespace, service.name);
        const port = target?.ports.find((p) => p.port === Number(url.port));
        if (!target || !port) continue;
        const spoken = istioProtocol(port);
        if (!speaks.refusedBy.includes(spoken)) continue;
        const right = target.ports.find((p) => speaks.wants.includes(istioProtocol(p)));
        out.push(finding(e, `${item(`${path}.env`, endpoint.index)}.value`, 'otlp-protocol',
          `${protocolVar} is ${protocol} (${speaks.is}), but ${endpointVar} names port ${describePort(port)} of ${target.what}, which speaks ${spoken}: every export is refused and what it carries (spans, metrics or logs) is lost`,
          right ? `send ${protocol} to port ${describePort(right)}, or set ${protocolVar} to what port ${port.port} speaks` : `point it at a port that speaks ${speaks.is}, or set ${protocolVar} to what port ${port.port} speaks`));
      }
    }
  }
  return out;
}
