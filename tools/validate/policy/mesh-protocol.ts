/**
 * Rule `mesh-port-protocol`: every port of a Service in a meshed namespace says what it speaks, in
 * a way Istio reads (Istio's ConvertProtocol, pkg/config/kube/conversion.go): `appProtocol` when it
 * is set (instead of the name, never beside it), else the port name; either as `<protocol>` or
 * `<protocol>-<suffix>`, with a protocol protocol.Parse knows, or one of Kubernetes' three
 * `kubernetes.io/` application protocols; a few well-known ports (SMTP, DNS, MySQL, MongoDB) are
 * TCP without it. Otherwise the sidecar sniffs the first bytes of each connection: a server-first
 * protocol waits for a greeting that never comes, and HTTP taken for TCP loses retries,
 * per-route policy and request metrics (which the release analysis and the HPA read).
 */
import type { Context } from '../context';
import { item } from '../paths';
import { namespaceInjects } from '../wiring/cluster';
import { asArray, Entry, finding, isKind, isRecord, namespaceOf, RawFinding } from '../types';

/** protocol.Parse (pkg/config/protocol/instance.go), case-insensitive. */
const ISTIO_PROTOCOLS = new Set(['tcp', 'udp', 'grpc', 'grpc-web', 'http', 'http_proxy', 'http2', 'https', 'tls', 'mongo', 'redis', 'mysql']);
/** Application protocols Kubernetes defines, which Istio reads from appProtocol only. */
const KUBERNETES_APP_PROTOCOLS = new Set(['kubernetes.io/h2c', 'kubernetes.io/ws', 'kubernetes.io/wss']);
/** Ports Istio takes for TCP when their protocol is not given. */
const WELL_KNOWN_TCP = new Set([25, 53, 3306, 27017]);

/** Whether Istio reads a protocol from `name` (an appProtocol or a port name), as ConvertProtocol does. */
export function istioReadsProtocol(name: string, fromAppProtocol: boolean): boolean {
  if (fromAppProtocol && KUBERNETES_APP_PROTOCOLS.has(name)) return true;
  if (name.toLowerCase().startsWith('grpc-web')) return true;
  const dash = name.indexOf('-');
  return ISTIO_PROTOCOLS.has((dash >= 0 ? name.slice(0, dash) : name).toLowerCase());
}

function meshed(namespace: Entry | undefined): boolean {
  return namespaceInjects(namespace && isRecord(namespace.obj.metadata) && isRecord(namespace.obj.metadata.labels) ? namespace.obj.metadata.labels : {});
}

export function checkMeshPortProtocol(e: Entry, ctx: Context): RawFinding[] {
  if (!isKind(e.obj, '', 'Service')) return [];
  const ns = namespaceOf(e.obj);
  if (!ns || !meshed(ctx.scope(e).named('', '', 'Namespace', ns))) return [];
  const spec = isRecord(e.obj.spec) ? e.obj.spec : {};
  if (spec.type === 'ExternalName') return [];
  const out: RawFinding[] = [];
  asArray(spec.ports).forEach((port, i) => {
    if (!isRecord(port) || String(port.protocol ?? 'TCP') === 'UDP') return;
    const app = typeof port.appProtocol === 'string' ? port.appProtocol : undefined;
    const name = typeof port.name === 'string' ? port.name : '';
    if (istioReadsProtocol(app ?? name, app !== undefined) || WELL_KNOWN_TCP.has(Number(port.port))) return;
    const said = app !== undefined ? `appProtocol ${JSON.stringify(app)} (which Istio reads instead of the name) is not a protocol Istio knows` : `the name ${JSON.stringify(name)} does not say its protocol`;
    out.push(finding(e, item('spec.ports', i), 'mesh-port-protocol', `port ${String(port.port)}: ${said}, so the Istio sidecar sniffs it, which stalls a server-first protocol and takes HTTP it does not recognise for plain TCP (no retries, no request metrics)`,
      app !== undefined ? 'set appProtocol to one Istio reads (tcp, http, http2, grpc, tls, redis, mysql, mongo, ...) or remove it and name the port <protocol>-<name>' : 'name it <protocol>-<name> (e.g. http-api, tcp-postgres) or set appProtocol'));
  });
  return out;
}
