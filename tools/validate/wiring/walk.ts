/**
 * Walks one declared connection hop by hop over the rendered objects of its region, the way the
 * cluster would carry it, and returns the first hop that breaks. The declaration says only who
 * calls what (and which Secret keys the client reads); every answer comes from the YAML:
 *
 *   client pods → configuration names the address → name resolution (Service, its selector, its
 *   port) → the client's Sidecar → the client's NetworkPolicy egress → the server's NetworkPolicy
 *   ingress → mTLS (PeerAuthentication vs the client having a sidecar, DestinationRule TLS) →
 *   AuthorizationPolicies → credentials (env or mounted Secret, produced by an ExternalSecret in
 *   the client's namespace from a rendered store).
 *
 * Every NetworkPolicy or AuthorizationPolicy rule that lets a connection through is recorded, so
 * the reverse check can name the rules that serve none.
 */
import { type Connection, type Credential, IN_CLUSTER_TOKEN_DIR, type Peer, principal } from '../../../regions/wiring';
import { producedSecretName, writtenKeys } from '../external-secrets';
import { asArray, Entry, isRecord, KubeObject, nameOf, namespaceOf } from '../types';
import type { Cluster, PodSet, ServiceInfo, ServicePort } from './cluster';
import {
  authorize, destinationRuleTls, dnsMatches, exportedTo, inboundCaptured, istioProtocol, isHttpLike, outboundCaptured, peerAuthenticationMode,
  serviceEntriesFor, sidecarImports, sidecarOf, TRUST_DOMAIN,
} from './istio';
import { evaluate, type NetPeer } from './network-policy';

export interface Broken {
  /** Hop name: `client`, `config`, `resolve`, `sidecar`, `egress`, `ingress`, `mtls`, `authz`, `credentials`. */
  readonly hop: string;
  readonly message: string;
  readonly hint: string;
  /** Object the finding is about (the client workload unless another object is at fault). */
  readonly entry?: Entry;
  readonly path?: string;
}

export interface WalkResult {
  readonly broken?: Broken;
  /** Keys of the allow rules that carried this connection (see ruleKey). */
  readonly used: Set<string>;
}

export const ruleKey = (e: Entry, field: string, index: number) => `${e.file}#${e.index}#${field}[${index}]`;

const KUBE_API_HOST = 'kubernetes.default.svc.cluster.local';
const ref = (e: Entry) => `${e.obj.kind} ${namespaceOf(e.obj) ?? ''}${namespaceOf(e.obj) ? '/' : ''}${nameOf(e.obj)}`;

/** Pods of an add-on, as its declaration describes them (nothing rendered to read). */
function addonPods(peer: Peer): PodSet {
  return {
    entry: undefined as unknown as Entry,
    path: '',
    namespace: peer.namespace,
    labels: { ...peer.podLabels },
    annotations: {},
    serviceAccount: peer.serviceAccount,
    containers: [],
    volumes: [],
    ports: [],
  };
}

/** `svc.ns.svc.cluster.local`, `svc.ns.svc`, `svc.ns` or `svc` (client namespace). */
export function parseServiceHost(host: string, clientNs: string): { name: string; namespace: string } | undefined {
  // An absolute name (a trailing dot) is the same Service. (`name.ns.svc.cluster` is not: no search
  // domain completes it to a Service name.)
  const parts = host.replace(/\.$/, '').split('.');
  const name = parts[0]!;
  if (parts.length === 1) return { name, namespace: clientNs };
  if (parts.length === 2) return { name, namespace: parts[1]! };
  if (parts[2] === 'svc' && (parts.length === 3 || (parts.length === 5 && parts[3] === 'cluster' && parts[4] === 'local'))) return { name, namespace: parts[1]! };
  return undefined;
}

/** Worked out once per pod set: every connection from it reads it. */
const configTexts = new WeakMap<PodSet, string>();

/** Everything a client's configuration can name an address in. */
function configText(cluster: Cluster, pods: PodSet): string {
  let text = configTexts.get(pods);
  if (text === undefined) configTexts.set(pods, (text = assembleConfigText(cluster, pods)));
  return text;
}

function assembleConfigText(cluster: Cluster, pods: PodSet): string {
  const parts: string[] = [];
  const obj = pods.entry.obj;
  if (obj.kind !== 'Deployment' && obj.kind !== 'StatefulSet' && obj.kind !== 'Rollout' && obj.kind !== 'CronJob' && obj.kind !== 'Job' && obj.kind !== 'DaemonSet') {
    parts.push(JSON.stringify(obj.spec ?? {})); // operator-managed: the custom resource is the configuration
    if (obj.kind === 'Alertmanager') {
      // prometheus-operator merges the namespace's AlertmanagerConfigs into the configuration.
      for (const amc of cluster.in(pods.namespace, 'monitoring.coreos.com', 'AlertmanagerConfig')) parts.push(JSON.stringify(amc.obj.spec ?? {}));
    }
  }
  const configMaps = new Set<string>();
  for (const c of pods.containers) {
    parts.push(JSON.stringify(asArray(c.command)), JSON.stringify(asArray(c.args)));
    for (const env of asArray(c.env).filter(isRecord)) {
      if (typeof env.value === 'string') parts.push(env.value);
      const cmRef = isRecord(env.valueFrom) && isRecord(env.valueFrom.configMapKeyRef) ? env.valueFrom.configMapKeyRef.name : undefined;
      if (typeof cmRef === 'string') configMaps.add(cmRef);
    }
    for (const from of asArray(c.envFrom).filter(isRecord)) {
      if (isRecord(from.configMapRef) && typeof from.configMapRef.name === 'string') configMaps.add(from.configMapRef.name);
    }
  }
  for (const v of pods.volumes) {
    if (isRecord(v.configMap) && typeof v.configMap.name === 'string') configMaps.add(v.configMap.name);
    for (const s of asArray(isRecord(v.projected) ? v.projected.sources : undefined).filter(isRecord)) {
      if (isRecord(s.configMap) && typeof s.configMap.name === 'string') configMaps.add(s.configMap.name);
    }
  }
  for (const name of configMaps) parts.push(...cluster.configMapData(pods.namespace, name));
  return parts.join('\n');
}

const DNS_CAPTURE = /ISTIO_META_DNS_CAPTURE["']?\s*:\s*["']?true/;
/** Whether an istiod Application turns DNS capture on mesh-wide: once per cluster, not per hop. */
const meshCapturesDns = new WeakMap<Cluster, boolean>();

/** Whether the sidecars of these pods answer DNS for mesh-only names (Istio DNS proxying). */
function dnsCapture(cluster: Cluster, pods: PodSet): boolean {
  if (DNS_CAPTURE.test(pods.annotations['proxy.istio.io/config'] ?? '')) return true;
  let meshWide = meshCapturesDns.get(cluster);
  if (meshWide === undefined) {
    meshWide = cluster.all('argoproj.io', 'Application').some((e) => {
      const spec = JSON.stringify(e.obj.spec ?? {});
      return DNS_CAPTURE.test(spec) && spec.includes('istiod');
    });
    meshCapturesDns.set(cluster, meshWide);
  }
  return meshWide;
}

/** Names only the mesh knows: public DNS and kube-dns cannot answer them. */
const meshOnlyName = (host: string) => /\.(global|internal|mesh)$/.test(host);

interface Resolved {
  /** Server pod sets (rendered) or the add-on's declared pods. */
  readonly servers: PodSet[];
  readonly serverRendered: boolean;
  readonly port: number;
  /** Service used for the name, or the headless Service carrying pod-IP traffic through the mesh. */
  readonly service?: ServiceInfo;
  readonly servicePort?: ServicePort;
  /** FQDN and namespace the client sidecar must import (services, kube API, ServiceEntries). */
  readonly host?: string;
  readonly hostNs?: string;
  /** The ServiceEntry an outside host resolves through, if any. */
  readonly serviceEntry?: Entry;
}

function targetPortOn(cluster: Cluster, pods: PodSet, sp: ServicePort): number | undefined {
  const ports = cluster.portsOf(pods);
  if (typeof sp.targetPort === 'number') {
    const declared = ports.filter((p) => p.protocol === sp.protocol);
    return declared.length === 0 || declared.some((p) => p.port === sp.targetPort) ? sp.targetPort : undefined;
  }
  return ports.find((p) => p.name === sp.targetPort && p.protocol === sp.protocol)?.port;
}

export class Walker {
  /** Things the walks relied on that live outside the rendered tree (reported as notes). */
  readonly prerequisites = new Set<string>();

  constructor(private readonly cluster: Cluster) {}

  walk(c: Connection): WalkResult {
    const used = new Set<string>();
    const clients = c.from.addon ? [addonPods(c.from)] : this.cluster.podsMatching(c.from.namespace, c.from.podLabels);
    if (clients.length === 0) {
      return { used, broken: { hop: 'client', message: `no rendered pods in ${c.from.namespace} carry ${fmt(c.from.podLabels)}`, hint: 'the declaration names a client that is not rendered: fix the peer labels or render the workload' } };
    }
    let broken: Broken | undefined;
    for (const client of clients) {
      const b = this.walkFrom(c, client, used);
      broken ??= b;
    }
    return { used, broken };
  }

  private walkFrom(c: Connection, client: PodSet, used: Set<string>): Broken | undefined {
    const rendered = !c.from.addon;
    const at = (hop: string, message: string, hint: string, entry?: Entry, path?: string): Broken => ({
      hop, message, hint, entry: entry ?? (rendered ? client.entry : undefined), path: path ?? (entry ? '' : rendered ? client.path : undefined),
    });
    const problems: Broken[] = [];
    const note = (b: Broken | undefined) => {
      if (b) problems.push(b);
    };

    // ---- configuration: the client is told the address.
    if (rendered && c.discovery.kind === 'config') {
      const expected = c.discovery.names ?? (c.to.kind === 'service' || c.to.kind === 'external' ? c.to.host : KUBE_API_HOST);
      if (c.to.kind !== 'pod' && !configText(this.cluster, client).includes(expected)) {
        note(at('config', `the client's configuration never names ${expected}`, `give the container the address (env, args or a mounted ConfigMap) or declare how it discovers it`));
      }
    }

    // ---- from another region: this region's east-west gateway must pass the host through, and
    // the global name must lead to the Service.
    if (c.arrivesThrough) note(this.gatewayHop(c, c.arrivesThrough));

    // ---- name resolution.
    let resolved = this.resolve(c, client);
    if ('broken' in resolved) {
      note(at('resolve', resolved.broken.message, resolved.broken.hint, resolved.broken.entry, resolved.broken.entry ? '' : undefined));
      // Keep walking towards the pods the declaration names, only so that the policies meant
      // for this connection count as used: the broken name is the finding, not its consequences.
      const fallback = this.declaredServers(c);
      if (!fallback) return problems[0];
      resolved = fallback;
    }
    const { port } = resolved;
    const clientMeshed = rendered ? this.cluster.isMeshed(client) : c.from.meshed;
    const viaSidecar = clientMeshed && c.protocol === 'TCP' && (!rendered || outboundCaptured(client, port)) && !isDnsOrXds(c);

    // ---- the client's Sidecar.
    if (rendered && viaSidecar) note(this.sidecarHop(c, client, resolved, at));

    // ---- mTLS to a sidecar of another region: a MESH_INTERNAL ServiceEntry must be reached with
    // Istio mTLS (the far gateway passes it through by SNI; without it the far sidecar refuses).
    const se = resolved.serviceEntry;
    if (rendered && se && isRecord(se.obj.spec) && se.obj.spec.location === 'MESH_INTERNAL' && c.to.kind === 'external') {
      const tls = destinationRuleTls(this.cluster, client.namespace, namespaceOf(se.obj) ?? client.namespace, c.to.host, c.to.port);
      if (!viaSidecar) note(at('mtls', `${c.to.host} is a sidecar of another region (MESH_INTERNAL ${ref(se)}), and the client has no sidecar to speak Istio mTLS`, 'mesh the client'));
      else if (tls?.mode !== 'ISTIO_MUTUAL') note(at('mtls', `no DestinationRule sets ISTIO_MUTUAL for ${c.to.host}: the far region's gateway routes by the SNI of Istio mTLS, which the sidecar sends only then`, `add a DestinationRule for ${c.to.host} with tls.mode ISTIO_MUTUAL`, se));
      else if (!c.to.identity) note(at('mtls', `the declaration names no identity for ${c.to.host}, a sidecar of another region: which certificate the client must accept cannot be checked`, 'declare the server (its namespace and ServiceAccount) on the connection', se));
      else note(this.serverIdentityHop(c.to.host, c.to.identity, se, tls.subjectAltNames, at));
    }

    // ---- the client's NetworkPolicy egress.
    if (rendered) {
      const peers: NetPeer[] =
        c.to.kind === 'external' || c.to.kind === 'kubernetes-api'
          ? [{ kind: 'outside' }]
          : resolved.servers.map((s) => ({ kind: 'pods', namespace: s.namespace, labels: s.labels, namedPorts: new Map(s.ports.filter((p) => p.name).map((p) => [p.name!, p.port])) }));
      for (const peer of peers) {
        const v = evaluate(this.cluster, client, 'egress', peer, port, c.protocol);
        if (v.allowed) {
          for (const r of v.by) used.add(ruleKey(r.entry, 'spec.egress', r.index));
        } else {
          note(at('egress', `NetworkPolicies ${v.policies.join(', ')} isolate the client's egress and none admits ${describeTarget(c, port)}`, `add an egress rule to ${peer.kind === 'outside' ? 'the destination address' : `${peer.namespace} pods ${fmt(peer.labels)}`} on ${c.protocol} ${port}`));
        }
      }
    }

    if (c.to.kind === 'service' || c.to.kind === 'pod') {
      for (const server of resolved.servers) {
        if (!resolved.serverRendered) break;
        // ---- the server's NetworkPolicy ingress.
        // Traffic from another region reaches the server from this region's east-west gateway.
        const source = c.arrivesThrough ? { namespace: c.arrivesThrough.gateway.namespace, labels: c.arrivesThrough.gateway.podLabels } : client;
        const clientPeer: NetPeer = { kind: 'pods', namespace: source.namespace, labels: source.labels, namedPorts: new Map() };
        const v = evaluate(this.cluster, server, 'ingress', clientPeer, port, c.protocol);
        if (v.allowed) {
          for (const r of v.by) used.add(ruleKey(r.entry, 'spec.ingress', r.index));
        } else {
          note(at('ingress', `NetworkPolicies ${v.policies.join(', ')} isolate ${ref(server.entry)} and none admits ${source.namespace} pods ${fmt(source.labels)} on ${c.protocol} ${port}`, `add an ingress rule from ${c.arrivesThrough ? 'the east-west gateway' : 'the client'}'s pods on ${c.protocol} ${port}`, server.entry));
        }
        const serverMeshed = this.cluster.isMeshed(server);
        if (c.protocol !== 'TCP' || !serverMeshed || !inboundCaptured(server, port)) {
          if (!serverMeshed && viaSidecar && resolved.host) {
            const tls = destinationRuleTls(this.cluster, client.namespace, resolved.hostNs ?? server.namespace, resolved.host, port);
            if (tls?.mode === 'ISTIO_MUTUAL') note(at('mtls', `${ref(tls.by)} forces ISTIO_MUTUAL but ${ref(server.entry)} has no sidecar to terminate it`, 'drop the TLS setting or mesh the server', tls.by));
          }
          continue;
        }
        // ---- mTLS.
        const pa = peerAuthenticationMode(this.cluster, server, port);
        if (pa.mode === 'STRICT' && !viaSidecar) {
          note(at('mtls', `${pa.by ? ref(pa.by) : 'mesh default'} requires mTLS on port ${port} of ${ref(server.entry)} but the client has no sidecar on this path (${clientMeshed ? 'its traffic bypasses the sidecar' : 'not injected'})`, 'mesh the client, or serve this port outside the sidecar (a PeerAuthentication portLevelMtls exception is a weakening: say why)', pa.by));
        }
        if (viaSidecar && resolved.host) {
          const tls = destinationRuleTls(this.cluster, client.namespace, resolved.hostNs ?? server.namespace, resolved.host, port);
          if (tls && tls.mode !== 'ISTIO_MUTUAL' && pa.mode === 'STRICT') {
            note(at('mtls', `${ref(tls.by)} sets TLS mode ${tls.mode} for ${resolved.host}, but the server requires Istio mTLS`, 'use ISTIO_MUTUAL or leave TLS unset (auto mTLS)', tls.by));
          }
        }
        // ---- AuthorizationPolicy.
        const caller = viaSidecar ? { principal: principal(TRUST_DOMAIN, client.namespace, client.serviceAccount), namespace: client.namespace } : {};
        const verdict = authorize(this.cluster, server, caller, port);
        for (const r of verdict.allowed ? verdict.by : verdict.matched) used.add(ruleKey(r.entry, 'spec.rules', r.index));
        if (!verdict.allowed) {
          const who = caller.principal ? `principal ${caller.principal}` : 'a caller without a sidecar (no principal)';
          note(at('authz', `${verdict.reason} for ${who} on port ${port} of ${ref(server.entry)}`, caller.principal ? `allow ${caller.principal} on port ${port}` : 'mesh the client: principal-based rules never match plain-text callers', verdict.by ?? server.entry));
        }
      }
    }

    // ---- credentials.
    if (rendered) {
      for (const cred of c.credentials ?? []) note(this.credentialHop(client, cred, at));
      if (c.to.kind === 'kubernetes-api') note(this.apiTokenHop(client, c.to.container, at));
    }
    return problems[0];
  }

  /** Another region's caller: a Gateway passes the global host through, a ServiceEntry maps it here. */
  private gatewayHop(c: Connection, through: NonNullable<Connection['arrivesThrough']>): Broken | undefined {
    const at = (message: string, hint: string, entry?: Entry): Broken => ({ hop: 'gateway', message, hint, entry, path: entry ? '' : undefined });
    const gateways = this.cluster.all('networking.istio.io', 'Gateway').filter((e) => {
      const spec = isRecord(e.obj.spec) ? e.obj.spec : {};
      const selector = isRecord(spec.selector) ? spec.selector : {};
      return Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => through.gateway.podLabels[k] === v);
    });
    const passes = gateways.some((e) => asArray((e.obj.spec as KubeObject).servers).some((sv) =>
      isRecord(sv) && isRecord(sv.tls) && sv.tls.mode === 'AUTO_PASSTHROUGH' &&
      asArray(sv.hosts).some((h) => typeof h === 'string' && dnsMatches(h.includes('/') ? h.slice(h.indexOf('/') + 1) : h, through.globalHost))));
    if (!passes) {
      return at(`no Gateway on the east-west gateway pods (${fmt(through.gateway.podLabels)}) passes ${through.globalHost} through (tls.mode AUTO_PASSTHROUGH)`, `list ${through.globalHost} in the cross-network Gateway's hosts`, gateways[0]);
    }
    const target = c.to.kind === 'service' ? c.to.host : undefined;
    const exported = this.cluster.all('networking.istio.io', 'ServiceEntry').filter((e) => {
      const spec = isRecord(e.obj.spec) ? e.obj.spec : {};
      return asArray(spec.hosts).includes(through.globalHost) && exportedTo(spec, namespaceOf(e.obj) ?? '', through.gateway.namespace);
    });
    if (exported.length === 0) return at(`no ServiceEntry visible to the east-west gateway (${through.gateway.namespace}) declares ${through.globalHost}`, `export it: a ServiceEntry for ${through.globalHost} whose endpoint is the local Service, exportTo ${through.gateway.namespace}`);
    const endpoints = exported.flatMap((e) => asArray((e.obj.spec as KubeObject).endpoints).filter(isRecord).filter((ep) => ep.address === target).map((ep) => ({ e, ep })));
    if (endpoints.length === 0) return at(`the ServiceEntry for ${through.globalHost} does not lead to ${target ?? 'the declared Service'}`, `set its endpoint address to ${target}`, exported[0]);
    // AUTO_PASSTHROUGH forwards to the SNI-DNAT cluster of the host, which keeps only endpoints
    // known to speak Istio mTLS (label security.istio.io/tlsMode: istio, or a service account).
    const mtls = endpoints.some(({ ep }) => (isRecord(ep.labels) && ep.labels['security.istio.io/tlsMode'] === 'istio') || typeof ep.serviceAccount === 'string');
    if (!mtls) return at(`the endpoint of ${through.globalHost} in ${ref(endpoints[0].e)} is not marked as speaking Istio mTLS: the east-west gateway's passthrough cluster drops it and resets the connection`, 'label the endpoint security.istio.io/tlsMode: istio', endpoints[0].e);
    return undefined;
  }

  /**
   * The identity the client accepts from a sidecar of another region: the DestinationRule's
   * subjectAltNames, else the ServiceEntry's (Istio's ISTIO_MUTUAL settings take the service's
   * accounts when the rule names none). None means any certificate under the shared root passes.
   */
  private serverIdentityHop(host: string, identity: string, se: Entry, ruleSans: readonly string[], at: (hop: string, m: string, h: string, e?: Entry) => Broken): Broken | undefined {
    const entrySans = asArray(isRecord(se.obj.spec) ? se.obj.spec.subjectAltNames : undefined).filter((s): s is string => typeof s === 'string');
    const accepted = ruleSans.length > 0 ? ruleSans : entrySans;
    if (accepted.length === 0) {
      return at('mtls', `${ref(se)} names no subjectAltNames for ${host}: the client accepts any workload under the shared root CA as the server, and hands it its connection`, `set subjectAltNames: [${identity}] on the ServiceEntry`, se);
    }
    if (!accepted.includes(identity)) {
      return at('mtls', `${host} is served by ${identity}, which the client does not accept (subjectAltNames ${accepted.join(', ')}): every handshake fails`, `set subjectAltNames: [${identity}]`, se);
    }
    return undefined;
  }

  /** The server pods as declared (for marking policies after a failed resolution). */
  private declaredServers(c: Connection): Resolved | undefined {
    if (c.to.kind !== 'service' && c.to.kind !== 'pod') return undefined;
    const servers = this.cluster.podsMatching(c.to.server.namespace, c.to.server.podLabels);
    return servers.length > 0 && !c.to.server.addon ? { servers, serverRendered: true, port: c.to.podPort } : undefined;
  }

  private resolve(c: Connection, client: PodSet): Resolved | { broken: Omit<Broken, 'hop'> } {
    const to = c.to;
    if (to.kind === 'kubernetes-api') return { servers: [], serverRendered: false, port: to.port, host: KUBE_API_HOST, hostNs: 'default' };
    if (to.kind === 'external') {
      if (meshOnlyName(to.host)) {
        const entries = serviceEntriesFor(this.cluster, client.namespace, to.host, to.port);
        const withAddress = entries.some((e) => asArray(isRecord(e.obj.spec) ? e.obj.spec.addresses : undefined).length > 0);
        if (!withAddress && !dnsCapture(this.cluster, client)) {
          return { broken: { message: `${to.host} is a mesh-only name: no DNS server answers it, no ServiceEntry gives it an address and Istio DNS capture is off`, hint: 'enable ISTIO_META_DNS_CAPTURE/ISTIO_META_DNS_AUTO_ALLOCATE in the mesh config, or give the ServiceEntry addresses' } };
        }
        if (entries.length === 0) return { broken: { message: `${to.host} is a mesh-only name and no ServiceEntry visible from ${client.namespace} declares it on port ${to.port}`, hint: `import it: a ServiceEntry whose endpoint is the home region's east-west gateway` } };
      }
      // Where the packets really go: a ServiceEntry endpoint may map the port elsewhere (the
      // home region's east-west gateway on 15443); NetworkPolicies see that port.
      const entry = serviceEntriesFor(this.cluster, client.namespace, to.host, to.port)[0];
      const spec = entry && isRecord(entry.obj.spec) ? entry.obj.spec : {};
      const portName = asArray(spec.ports).filter(isRecord).find((p) => p.number === to.port)?.name;
      const mapped = asArray(spec.endpoints).filter(isRecord).map((e) => (isRecord(e.ports) && typeof portName === 'string' ? e.ports[portName] : undefined)).find((p) => typeof p === 'number');
      return { servers: [], serverRendered: false, port: typeof mapped === 'number' ? mapped : to.port, host: to.host, serviceEntry: entry };
    }
    if (to.kind === 'pod') {
      const servers = to.server.addon ? [addonPods(to.server)] : this.cluster.podsMatching(to.server.namespace, to.server.podLabels);
      if (servers.length === 0) return { broken: { message: `no rendered pods in ${to.server.namespace} carry ${fmt(to.server.podLabels)}`, hint: 'render the server or fix the declared labels' } };
      if (!to.server.addon) {
        for (const s of servers) {
          const tcp = this.cluster.portsOf(s).filter((p) => p.protocol === c.protocol);
          if (tcp.length > 0 && !tcp.some((p) => p.port === to.podPort)) {
            return { broken: { message: `${ref(s.entry)} declares no ${c.protocol} container port ${to.podPort}`, hint: 'declare the port the server listens on', entry: s.entry } };
          }
        }
      }
      return { servers, serverRendered: !to.server.addon, port: to.podPort };
    }
    const parsed = parseServiceHost(to.host, client.namespace);
    if (!parsed) return { broken: { message: `${to.host} is not a cluster Service name`, hint: 'use <service>.<namespace>.svc.cluster.local' } };
    const service = this.cluster.servicesIn(parsed.namespace).find((s) => s.name === parsed.name);
    if (!service) return { broken: { message: `${to.host} does not resolve: no Service ${parsed.namespace}/${parsed.name} is rendered (or created by an operator from what is rendered)`, hint: 'render the Service or point the client at an existing one' } };
    const sp = service.ports.find((p) => p.port === to.port && p.protocol === c.protocol);
    if (!sp) return { broken: { message: `Service ${parsed.namespace}/${parsed.name} has no ${c.protocol} port ${to.port} (ports: ${service.ports.map((p) => `${p.port}/${p.protocol}`).join(', ') || 'none'})`, hint: 'add the port to the Service', entry: service.entry } };
    if (!service.selector || Object.keys(service.selector).length === 0) {
      return { broken: { message: `Service ${parsed.namespace}/${parsed.name} has no selector: nothing fills its endpoints`, hint: 'give it a selector matching the server pods', entry: service.entry } };
    }
    const servers = this.cluster.podsMatching(parsed.namespace, service.selector, service.runtimeKeys);
    if (servers.length === 0) return { broken: { message: `Service ${parsed.namespace}/${parsed.name} selects ${fmt(service.selector)}, which no rendered pod carries: it has no endpoints`, hint: 'fix the selector or the pod labels', entry: service.entry } };
    const ports = servers.map((s) => targetPortOn(this.cluster, s, sp));
    const missing = servers.find((_, i) => ports[i] === undefined);
    if (missing) return { broken: { message: `Service ${parsed.namespace}/${parsed.name} port ${to.port} targets ${String(sp.targetPort)}, which ${ref(missing.entry)} does not expose`, hint: 'name or number the container port the Service targets', entry: service.entry } };
    return { servers, serverRendered: true, port: ports[0]!, service, servicePort: sp, host: `${service.name}.${service.namespace}.svc.cluster.local`, hostNs: service.namespace };
  }

  private sidecarHop(c: Connection, client: PodSet, r: Resolved, at: (hop: string, m: string, h: string, e?: Entry) => Broken): Broken | undefined {
    const scope = sidecarOf(this.cluster, client);
    if (!scope.registryOnly) return undefined;
    const sidecar = scope.entry ? ref(scope.entry) : 'the mesh default';
    if (c.to.kind === 'external') {
      const entries = serviceEntriesFor(this.cluster, client.namespace, c.to.host, c.to.port);
      if (entries.length === 0) return at('sidecar', `${sidecar} is REGISTRY_ONLY and no ServiceEntry visible from ${client.namespace} declares ${c.to.host}:${c.to.port}`, `add a ServiceEntry for ${c.to.host} port ${c.to.port} exported to ${client.namespace}`, scope.entry);
      const imported = entries.some((e) => sidecarImports(scope, client.namespace, namespaceOf(e.obj) ?? '', c.to.kind === 'external' ? c.to.host : ''));
      if (!imported) return at('sidecar', `${sidecar} is REGISTRY_ONLY and its egress hosts (${scope.hosts.join(', ')}) do not import ${c.to.host} from ${entries.map((e) => namespaceOf(e.obj)).join(', ')}`, `add ${namespaceOf(entries[0].obj)}/${c.to.host} to its egress hosts`, scope.entry);
      return undefined;
    }
    if (c.to.kind === 'pod') {
      const server = r.servers[0];
      const carriers = this.cluster.servicesIn(server.namespace).filter((s) =>
        this.cluster.selects(s, server) &&
        s.ports.some((p) => p.protocol === c.protocol && targetPortOn(this.cluster, server, p) === r.port));
      if (carriers.length === 0) return at('sidecar', `${sidecar} is REGISTRY_ONLY and no Service selects ${ref(server.entry)} on port ${r.port}: the sidecar cannot know these pod addresses`, 'add a headless Service (clusterIP: None) exposing the port as tcp-<name>', scope.entry);
      const visible = carriers.filter((s) => sidecarImports(scope, client.namespace, s.namespace, `${s.name}.${s.namespace}.svc.cluster.local`));
      if (visible.length === 0) return at('sidecar', `${sidecar} is REGISTRY_ONLY and imports none of ${carriers.map((s) => `${s.namespace}/${s.name}`).join(', ')}`, `add ${server.namespace}/* to its egress hosts`, scope.entry);
      const byPodIp = visible.filter((s) => s.headless && s.ports.some((p) => targetPortOn(this.cluster, server, p) === r.port && !isHttpLike(istioProtocol(p))));
      if (byPodIp.length === 0) {
        const headless = visible.filter((s) => s.headless);
        return at('sidecar', headless.length === 0
          ? `${sidecar} is REGISTRY_ONLY and no headless Service carries pod-IP traffic to port ${r.port} (Istio builds per-endpoint listeners only for headless TCP ports)`
          : `port ${r.port} of ${headless.map((s) => `${s.namespace}/${s.name}`).join(', ')} is ${headless.map((s) => istioProtocol(s.ports.find((p) => targetPortOn(this.cluster, server, p) === r.port)!)).join('/')} to Istio: HTTP routes match the Host header, and a pod IP matches no virtual host, so ${sidecar} (REGISTRY_ONLY) sends it to the BlackHole`,
        'name the headless Service port tcp-<name> (or appProtocol: tcp)', scope.entry);
      }
      return undefined;
    }
    if (!r.host || !r.hostNs) return undefined;
    if (!sidecarImports(scope, client.namespace, r.hostNs, r.host)) {
      return at('sidecar', `${sidecar} is REGISTRY_ONLY and its egress hosts (${scope.hosts.join(', ')}) do not cover ${r.hostNs}/${r.host}`, `add ${r.hostNs}/${r.host} to its egress hosts`, scope.entry);
    }
    // A headless Service resolves to pod IPs. On an HTTP/gRPC port the sidecar routes by the
    // Host/:authority header, whose virtual hosts are the Service's names: a client that sends
    // the pod IP there matches none (BlackHole). It must send the Service's name.
    if (r.service?.headless && r.servicePort && isHttpLike(istioProtocol(r.servicePort)) && rendered(c)) {
      const authority = new RegExp(`(authority|Host)["']?\\s*[:=]\\s*["']?${r.host.replace(/\./g, '\\.')}`);
      if (!authority.test(configText(this.cluster, client))) {
        return at('sidecar', `${r.host} is a headless Service and port ${r.servicePort.port} is ${istioProtocol(r.servicePort)} to Istio: the client dials pod IPs, and ${sidecar} (REGISTRY_ONLY) routes HTTP by Host/:authority, which only the Service's name matches`,
          `send authority ${r.host} from the client, or name the port tcp-<name>`, scope.entry);
      }
    }
    return undefined;
  }

  private credentialHop(client: PodSet, cred: Credential, at: (hop: string, m: string, h: string, e?: Entry, p?: string) => Broken): Broken | undefined {
    const container = client.containers.find((c) => c.name === cred.container);
    if (!container) return at('credentials', `no container "${cred.container}" reads ${cred.secret}/${cred.key}`, 'fix the declared container');
    if (cred.env) {
      const env = asArray(container.env).filter(isRecord).find((e) => e.name === cred.env);
      const sk = env && isRecord(env.valueFrom) && isRecord(env.valueFrom.secretKeyRef) ? env.valueFrom.secretKeyRef : undefined;
      if (!sk || sk.name !== cred.secret || sk.key !== cred.key) {
        return at('credentials', `container "${cred.container}" has no env ${cred.env} from secretKeyRef ${cred.secret}/${cred.key}${sk ? ` (it reads ${String(sk.name)}/${String(sk.key)})` : ''}`, `set ${cred.env} with valueFrom.secretKeyRef { name: ${cred.secret}, key: ${cred.key} }`);
      }
    }
    if (cred.mounted) {
      const volumes = client.volumes.filter((v) =>
        (isRecord(v.secret) && v.secret.secretName === cred.secret && (asArray(v.secret.items).length === 0 || asArray(v.secret.items).some((i) => isRecord(i) && i.key === cred.key))) ||
        asArray(isRecord(v.projected) ? v.projected.sources : undefined).some((s) => isRecord(s) && isRecord(s.secret) && s.secret.name === cred.secret));
      const mounted = volumes.some((v) => asArray(container.volumeMounts).some((m) => isRecord(m) && m.name === v.name));
      if (!mounted) return at('credentials', `container "${cred.container}" mounts no volume of Secret ${cred.secret} holding ${cred.key}`, `mount Secret ${cred.secret} into the container`);
    }
    return this.secretSource(client, cred.secret, cred.key, at);
  }

  /** The Secret exists in the client's namespace: an ExternalSecret (from a rendered store) or a cert-manager Certificate writes it. */
  private secretSource(client: PodSet, secret: string, key: string, at: (hop: string, m: string, h: string, e?: Entry) => Broken): Broken | undefined {
    const es = this.cluster.in(client.namespace, 'external-secrets.io', 'ExternalSecret').find((e) => producedSecretName(e) === secret);
    const cert = this.cluster.in(client.namespace, 'cert-manager.io', 'Certificate').find((e) => isRecord(e.obj.spec) && e.obj.spec.secretName === secret);
    if (cert) return ['tls.crt', 'tls.key', 'ca.crt'].includes(key) ? undefined : at('credentials', `${ref(cert)} writes ${secret} but not key ${key}`, 'read tls.crt, tls.key or ca.crt');
    if (!es) return at('credentials', `nothing renders Secret ${client.namespace}/${secret}: no ExternalSecret (or Certificate) in ${client.namespace} targets it`, `add an ExternalSecret in ${client.namespace} with target.name ${secret}`);
    const spec = es.obj.spec as KubeObject;
    const keys = writtenKeys(es);
    if (keys && !keys.has(key)) return at('credentials', `${ref(es)} writes ${secret} without key ${key} (keys: ${[...keys].join(', ') || 'none'})`, `add a data entry with secretKey ${key}`, es);
    const store = isRecord(spec.secretStoreRef) ? spec.secretStoreRef : {};
    const kind = store.kind === 'SecretStore' ? 'SecretStore' : 'ClusterSecretStore';
    const stores = kind === 'SecretStore' ? this.cluster.in(client.namespace, 'external-secrets.io', kind) : this.cluster.all('external-secrets.io', kind);
    if (!stores.some((s) => nameOf(s.obj) === store.name)) {
      // A region renders its store (charts/secret-store): naming another one is a broken hop.
      // Validating objects without it (a chart alone), its existence is a prerequisite, stated once.
      const rendered = stores.map((s) => String(nameOf(s.obj)));
      if (rendered.length > 0) return at('credentials', `${ref(es)} reads through ${kind} ${String(store.name)}, which is not rendered (the cluster's store: ${rendered.join(', ')}): External Secrets never writes ${secret}`, `set secretStoreRef.name to ${rendered[0]}`, es);
      this.prerequisites.add(`${kind} ${String(store.name)} is not rendered here: it must exist in the cluster before these Secrets can sync (a region renders it in secret-store.yaml)`);
    }
    return undefined;
  }

  /**
   * The Kubernetes API wants a token: mounted, and bound to some Role. Mounted means automounted
   * (the pod's automountServiceAccountToken, else its ServiceAccount's, default true: every
   * container gets it), or a projected volume the calling container mounts where in-cluster
   * clients read it, holding the token (`token`, for the API server's own audience) and the CA
   * (`ca.crt` from kube-root-ca.crt): without the CA, Patroni's and client-go's in-cluster config
   * refuses to start.
   */
  private apiTokenHop(client: PodSet, container: string | undefined, at: (hop: string, m: string, h: string) => Broken): Broken | undefined {
    // An operator's pods (Prometheus: spec.podMetadata has no spec): the custom resource's own
    // spec carries the pod's fields, and the operator copies them over.
    const template = client.path === '' ? {} : templateSpec(client);
    const spec = client.path === 'spec.podMetadata' && isRecord(client.entry.obj.spec) ? client.entry.obj.spec : template;
    const account = this.cluster.in(client.namespace, '', 'ServiceAccount').find((e) => nameOf(e.obj) === client.serviceAccount);
    const automount = spec.automountServiceAccountToken ?? (account?.obj.automountServiceAccountToken as boolean | undefined) ?? true;
    const projectedHint = `mount a projected volume at ${IN_CLUSTER_TOKEN_DIR} in ${container ? `container ${container}` : 'the container that calls the API'}, with a serviceAccountToken (path: token, no audience) and kube-root-ca.crt's ca.crt`;
    if (!automount) {
      const calling = client.containers.filter((c) => container === undefined || c.name === container);
      const volume = (name: unknown) => client.volumes.find((v) => v.name === name);
      const mounted = calling.flatMap((c) => asArray(c.volumeMounts).filter(isRecord).filter((m) => m.mountPath === IN_CLUSTER_TOKEN_DIR).map((m) => volume(m.name)));
      const sources = mounted.flatMap((v) => (isRecord(v?.projected) ? asArray(v.projected.sources).filter(isRecord) : []));
      const token = sources.map((s) => s.serviceAccountToken).find(isRecord);
      const ca = sources.some((s) => isRecord(s.configMap) && s.configMap.name === 'kube-root-ca.crt' && asArray(s.configMap.items).some((i) => isRecord(i) && i.key === 'ca.crt' && i.path === 'ca.crt'));
      if (!token) {
        const why = spec.automountServiceAccountToken === false ? 'the pods do not mount a service account token' : `ServiceAccount ${client.serviceAccount} does not mount its token into pods (automountServiceAccountToken: false) and the pod does not override it`;
        return at('credentials', `${why}${container ? ` into container ${container}` : ''}, so the Kubernetes API refuses them`, `set automountServiceAccountToken: true on the pod, or ${projectedHint}`);
      }
      if (token.path !== 'token' || (token.audience !== undefined && token.audience !== '')) {
        return at('credentials', `the projected token is at ${String(token.path)}${token.audience ? ` for audience ${String(token.audience)}` : ''}: in-cluster clients read ${IN_CLUSTER_TOKEN_DIR}/token, and the API server accepts only its own audience`, projectedHint);
      }
      if (!ca) return at('credentials', `the projected volume at ${IN_CLUSTER_TOKEN_DIR} has no ca.crt: in-cluster clients refuse to start without the cluster CA`, projectedHint);
    }
    const bound = [...this.cluster.all('rbac.authorization.k8s.io', 'RoleBinding'), ...this.cluster.all('rbac.authorization.k8s.io', 'ClusterRoleBinding')].some((b) =>
      asArray(b.obj.subjects).some((s) => isRecord(s) && s.kind === 'ServiceAccount' && s.name === client.serviceAccount && (s.namespace ?? namespaceOf(b.obj)) === client.namespace));
    if (!bound) return at('credentials', `no RoleBinding grants ServiceAccount ${client.namespace}/${client.serviceAccount} anything`, 'bind a Role with the verbs the client needs');
    return undefined;
  }
}

const rendered = (c: Connection) => !c.from.addon;


function templateSpec(pods: PodSet): KubeObject {
  let node: unknown = pods.entry.obj;
  for (const part of pods.path.split('.')) node = isRecord(node) ? node[part] : undefined;
  return isRecord(node) && isRecord(node.spec) ? node.spec : {};
}

/** DNS and the sidecar's own xDS/CA connection: pilot-agent and kube-dns traffic the sidecar never carries. */
function isDnsOrXds(c: Connection): boolean {
  return c.to.kind === 'pod' && !!c.to.server.addon && (c.to.podPort === 53 || c.to.podPort === 15012);
}

export function fmt(labels: Readonly<Record<string, string>>): string {
  const keys = Object.keys(labels).sort();
  return keys.length === 0 ? '(any pod)' : keys.map((k) => `${k}=${labels[k]}`).join(',');
}

function describeTarget(c: Connection, port: number): string {
  switch (c.to.kind) {
    case 'service': return `${c.to.host} (pod port ${port})`;
    case 'pod': return `${c.to.server.namespace} pods ${fmt(c.to.server.podLabels)} on ${port}`;
    case 'external': return `${c.to.host}:${port}`;
    case 'kubernetes-api': return `the Kubernetes API on ${port}`;
  }
}
