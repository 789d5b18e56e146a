/**
 * Rule `mesh-port-protocol`: every port of a Service in a meshed namespace says what it speaks,
 * by `appProtocol` or a name `<protocol>[-<suffix>]` (Istio, "Explicit protocol selection").
 * Otherwise the sidecar sniffs the first bytes of each connection: a server-first protocol waits
 * for a greeting that never comes, and an HTTP port taken for TCP loses retries, per-route
 * policy and request metrics (which the release analysis and the HPA read).
 */
import type { Context } from '../context';
import { item } from '../paths';
import { asArray, Entry, finding, isKind, isRecord, namespaceOf, RawFinding } from '../types';

/** The protocols Istio reads from a port name prefix (and appProtocol). */
const ISTIO_PROTOCOLS = ['http', 'http2', 'https', 'grpc', 'grpc-web', 'h2c', 'tcp', 'tls', 'mongo', 'mysql', 'redis', 'udp'];
const NAMED = new RegExp(`^(${ISTIO_PROTOCOLS.join('|')})(-|$)`);

function meshed(namespace: Entry | undefined): boolean {
  const labels = namespace && isRecord(namespace.obj.metadata) && isRecord(namespace.obj.metadata.labels) ? namespace.obj.metadata.labels : {};
  return labels['istio-injection'] === 'enabled' || typeof labels['istio.io/rev'] === 'string';
}

export function checkMeshPortProtocol(e: Entry, ctx: Context): RawFinding[] {
  if (!isKind(e.obj, '', 'Service')) return [];
  const ns = namespaceOf(e.obj);
  if (!ns || !meshed(ctx.scope(e).named('', '', 'Namespace', ns))) return [];
  const spec = isRecord(e.obj.spec) ? e.obj.spec : {};
  if (spec.type === 'ExternalName') return [];
  const out: RawFinding[] = [];
  asArray(spec.ports).forEach((port, i) => {
    if (!isRecord(port) || String(port.protocol ?? 'TCP') !== 'TCP') return;
    if (typeof port.appProtocol === 'string' && port.appProtocol !== '') return;
    if (typeof port.name === 'string' && NAMED.test(port.name)) return;
    out.push(finding(e, item('spec.ports', i), 'mesh-port-protocol', `port ${String(port.port)}${typeof port.name === 'string' ? ` (${port.name})` : ''} does not say its protocol: the Istio sidecar sniffs it, which stalls a server-first protocol and takes HTTP it does not recognise for plain TCP (no retries, no request metrics)`,
      `name it <protocol>-<name> (e.g. http-api, tcp-postgres) or set appProtocol`));
  });
  return out;
}
