/**
 * The policies generated from the connection declaration (connections.ts). Connections between
 * the same two sets of pods are grouped, so each pair gets one set of objects:
 * - an ALLOW AuthorizationPolicy on the server pods naming the caller's mTLS identity, when
 *   both ends run a sidecar and at least one port passes through the server's sidecar (a
 *   principal never matches a caller without one, and pilot-agent's own ports never reach
 *   Envoy: such a policy would be a wall painted on a wall);
 * - a NetworkPolicy admitting the caller on the server side, when we render the server;
 * - a NetworkPolicy letting the caller out on the client side, when we render the client;
 * - for hosts outside the cluster: one egress NetworkPolicy per caller (ports only: the model
 *   does not know the providers' addresses), and a ServiceEntry per namespace for the meshed
 *   callers (their Sidecars are REGISTRY_ONLY).
 * Connections the namespaces chart serves for every pod (DNS, istiod) and those known not to
 * work yet get nothing here.
 */
import type { RegionPlan } from '../../regions/plan';
import type { Connection, Peer, PodTarget, ServiceTarget } from '../../regions/wiring';
import { declaredConnections } from './connections';

/** Ports of the sidecar itself: traffic to them never passes through Envoy's inbound listeners. */
export const SIDECAR_OWN_PORTS: ReadonlySet<number> = new Set([15020, 15021, 15090]);

export interface PolicyPort {
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP';
}

/** Pod-to-pod traffic between one client peer and one server peer. */
export interface PeerFlow {
  /** `<client>-to-<server>`: names the generated policies. */
  readonly name: string;
  readonly from: Peer;
  readonly to: Peer;
  /**
   * Pods the server sees the traffic come from: the client's, or this region's east-west gateway
   * for callers in other regions (the NetworkPolicy admits them; the AuthorizationPolicy still
   * names the caller's identity, which the gateway passes through).
   */
  readonly source: Peer;
  /** Server pod ports. */
  readonly ports: readonly PolicyPort[];
  /** The connections it carries (their `why`s annotate the policies). */
  readonly connections: readonly Connection[];
  /** Whether an AuthorizationPolicy can ever see this traffic (see the file comment). */
  readonly authorizable: boolean;
}

/** Traffic from one client peer to addresses outside the pod network. */
export interface ExternalFlow {
  readonly name: string;
  readonly from: Peer;
  readonly ports: readonly PolicyPort[];
  /** Hosts by name (ServiceEntries); the Kubernetes API is reached by its Service. */
  readonly hosts: readonly { readonly host: string; readonly port: number }[];
  readonly connections: readonly Connection[];
}

export interface RegionPolicies {
  readonly peerFlows: readonly PeerFlow[];
  readonly externalFlows: readonly ExternalFlow[];
  /** Namespaces other than its own each namespace's sidecars must know (Sidecar egress hosts). */
  sidecarHosts(namespace: string): string[];
}

const generated = (c: Connection) => !c.guardrail && !c.knownBroken;
const portKey = (p: PolicyPort) => `${p.protocol}/${p.port}`;

function addPort(list: PolicyPort[], port: PolicyPort): void {
  if (!list.some((p) => portKey(p) === portKey(port))) list.push(port);
}

export function regionPolicies(plan: RegionPlan, connections: readonly Connection[] = declaredConnections(plan)): RegionPolicies {
  const peer = new Map<string, { from: Peer; to: Peer; source: Peer; ports: PolicyPort[]; connections: Connection[] }>();
  const external = new Map<string, { from: Peer; ports: PolicyPort[]; hosts: { host: string; port: number }[]; connections: Connection[] }>();
  for (const c of connections.filter(generated)) {
    if (c.to.kind === 'service' || c.to.kind === 'pod') {
      const to = (c.to as ServiceTarget | PodTarget).server;
      const key = `${c.from.name}-to-${to.name}`;
      const entry = peer.get(key) ?? { from: c.from, to, source: c.arrivesThrough?.gateway ?? c.from, ports: [], connections: [] };
      addPort(entry.ports, { port: c.to.podPort, protocol: c.protocol });
      entry.connections.push(c);
      peer.set(key, entry);
    } else {
      const to = c.to;
      const key = c.from.name;
      const entry = external.get(key) ?? { from: c.from, ports: [], hosts: [], connections: [] };
      // A host of another region: the packets go to its east-west gateway, and its
      // ServiceEntry comes with the import (charts/lib/global-service.ts), not from here.
      const through = to.kind === 'external' ? to.through : undefined;
      addPort(entry.ports, { port: through?.port ?? to.port, protocol: c.protocol });
      if (to.kind === 'external' && !through && !entry.hosts.some((h) => h.host === to.host && h.port === to.port)) entry.hosts.push({ host: to.host, port: to.port });
      entry.connections.push(c);
      external.set(key, entry);
    }
  }
  const peerFlows: PeerFlow[] = [...peer.entries()].map(([name, f]) => ({
    name,
    ...f,
    authorizable: f.from.meshed && f.to.meshed && !f.to.addon && f.ports.some((p) => p.protocol === 'TCP' && !SIDECAR_OWN_PORTS.has(p.port)),
  }));
  const externalFlows: ExternalFlow[] = [...external.entries()].map(([name, f]) => ({ name, ...f }));
  return {
    peerFlows,
    externalFlows,
    sidecarHosts(namespace) {
      const hosts = new Set<string>();
      for (const c of connections.filter(generated)) {
        if (c.from.namespace !== namespace || !c.from.meshed || c.from.addon || c.protocol !== 'TCP') continue;
        if (c.to.kind === 'service' || c.to.kind === 'pod') {
          if (c.to.server.namespace !== namespace) hosts.add(`${c.to.server.namespace}/*`);
        } else if (c.to.kind === 'kubernetes-api') {
          hosts.add('default/kubernetes.default.svc.cluster.local');
        }
      }
      return [...hosts].sort();
    },
  };
}
