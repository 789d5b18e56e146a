/**
 * Kubernetes NetworkPolicy semantics (networking.k8s.io/v1), as a CNI enforces them: a pod is
 * isolated for a direction once any policy selecting it lists that direction in policyTypes;
 * traffic is then allowed only if some rule of some such policy admits the peer and the port.
 * Ports are the server pod's port (Service translation happens before the policy sees it).
 */
import { labelSelectorMatches } from '../selectors';
import { asArray, Entry, isRecord, KubeObject, nameOf, namespaceOf } from '../types';
import type { Cluster, PodSet } from './cluster';

/** The far end of a connection as a NetworkPolicy sees it. */
export type NetPeer =
  | { kind: 'pods'; namespace: string; labels: Readonly<Record<string, string>>; namedPorts: ReadonlyMap<string, number> }
  /** An address outside the pod network (API server, internet). */
  | { kind: 'outside' };

export interface RuleRef {
  readonly entry: Entry;
  readonly direction: 'ingress' | 'egress';
  readonly index: number;
}

export type NetVerdict =
  /** `by`: every rule that admits the traffic (none when no policy isolates the pods). */
  | { allowed: true; by: RuleRef[]; isolated: boolean }
  | { allowed: false; policies: string[] };

const policyTypes = (spec: KubeObject): string[] => {
  if (Array.isArray(spec.policyTypes)) return spec.policyTypes.filter((t): t is string => typeof t === 'string');
  // Kubernetes' defaulting: Ingress always, Egress when egress rules are present.
  return Array.isArray(spec.egress) ? ['Ingress', 'Egress'] : ['Ingress'];
};

function peerMatches(cluster: Cluster, policyNs: string, peer: KubeObject, target: NetPeer): boolean {
  if (isRecord(peer.ipBlock)) return target.kind === 'outside';
  if (target.kind === 'outside') return false;
  const nsOk = isRecord(peer.namespaceSelector)
    ? labelSelectorMatches(peer.namespaceSelector, cluster.labelsOfNamespace(target.namespace))
    : target.namespace === policyNs;
  const podOk = isRecord(peer.podSelector) ? labelSelectorMatches(peer.podSelector, target.labels) : true;
  return nsOk && podOk;
}

function portMatches(entry: KubeObject, port: number, protocol: string, namedPorts: ReadonlyMap<string, number>): boolean {
  if ((typeof entry.protocol === 'string' ? entry.protocol : 'TCP') !== protocol) return false;
  if (entry.port === undefined) return true;
  if (typeof entry.port === 'string') return namedPorts.get(entry.port) === port;
  if (typeof entry.port !== 'number') return false;
  const end = typeof entry.endPort === 'number' ? entry.endPort : entry.port;
  return port >= entry.port && port <= end;
}

/**
 * The policies that select `pods` for a direction, found once per cluster and pod set: the wiring
 * check asks for every connection, hop and port of the same workloads (a Cluster is built from
 * documents nothing changes while it is checked).
 */
const selecting = new WeakMap<Cluster, WeakMap<PodSet, Partial<Record<'Ingress' | 'Egress', Entry[]>>>>();

function policiesSelecting(cluster: Cluster, pods: PodSet, type: 'Ingress' | 'Egress'): Entry[] {
  let inCluster = selecting.get(cluster);
  if (!inCluster) selecting.set(cluster, (inCluster = new WeakMap()));
  let known = inCluster.get(pods);
  if (!known) inCluster.set(pods, (known = {}));
  known[type] ??= cluster.in(pods.namespace, 'networking.k8s.io', 'NetworkPolicy').filter((e) => {
    const spec = isRecord(e.obj.spec) ? e.obj.spec : {};
    return policyTypes(spec).includes(type) && labelSelectorMatches(spec.podSelector ?? {}, pods.labels);
  });
  return known[type]!;
}

/**
 * Does `pods` (the side the policies select) allow traffic to/from `peer` on `port`?
 * For egress the port is the peer's; for ingress it is the selected pods' own.
 */
export function evaluate(cluster: Cluster, pods: PodSet, direction: 'ingress' | 'egress', peer: NetPeer, port: number, protocol: string): NetVerdict {
  const policies = policiesSelecting(cluster, pods, direction === 'ingress' ? 'Ingress' : 'Egress');
  if (policies.length === 0) return { allowed: true, by: [], isolated: false };
  const namedPorts: ReadonlyMap<string, number> =
    direction === 'egress'
      ? peer.kind === 'pods' ? peer.namedPorts : new Map()
      : new Map(pods.ports.filter((p) => p.name).map((p) => [p.name!, p.port]));
  const by: RuleRef[] = [];
  for (const e of policies) {
    const rules = asArray((e.obj.spec as KubeObject)[direction]);
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i];
      if (!isRecord(rule)) continue;
      const peers = asArray(direction === 'ingress' ? rule.from : rule.to).filter(isRecord);
      const peerOk = peers.length === 0 || peers.some((p) => peerMatches(cluster, pods.namespace, p, peer));
      const ports = asArray(rule.ports).filter(isRecord);
      const portOk = ports.length === 0 || ports.some((p) => portMatches(p, port, protocol, namedPorts));
      if (peerOk && portOk) by.push({ entry: e, direction, index: i });
    }
  }
  if (by.length > 0) return { allowed: true, by, isolated: true };
  return { allowed: false, policies: policies.map((e) => `${namespaceOf(e.obj)}/${nameOf(e.obj)}`) };
}

/** Every allow rule rendered in the region: the reverse check wants each one used. */
export function allowRules(cluster: Cluster): RuleRef[] {
  return cluster.all('networking.k8s.io', 'NetworkPolicy').flatMap((e) => {
    const spec = isRecord(e.obj.spec) ? e.obj.spec : {};
    return (['ingress', 'egress'] as const).flatMap((direction) =>
      asArray(spec[direction]).map((_, index): RuleRef => ({ entry: e, direction, index })),
    );
  });
}
