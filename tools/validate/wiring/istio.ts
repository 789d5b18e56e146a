/**
 * Istio semantics the wiring check relies on (Istio 1.24, the pinned add-on), each as its
 * documentation states it:
 * - Sidecar (networking.istio.io): a workload's Sidecar is the one in its namespace whose
 *   workloadSelector matches, else the namespace's selector-less one, else the root
 *   namespace's; `egress.hosts` (`namespace/dnsName`, `*`, `.`, `*.suffix`) is everything the
 *   proxy knows; with `REGISTRY_ONLY` anything else goes to the BlackHole cluster.
 * - ServiceEntry `exportTo` (`.` = own namespace, `*` = all, default all).
 * - PeerAuthentication: workload policy > namespace policy > root-namespace policy; portLevelMtls
 *   per target port; UNSET inherits; default PERMISSIVE.
 * - AuthorizationPolicy: CUSTOM, then DENY, then ALLOW (if any ALLOW policy applies to the
 *   workload, a request must match one of its rules); `principals` and `namespaces` come from
 *   the peer certificate, so they never match a caller without a sidecar.
 * - Ports the sidecar never intercepts inbound: Envoy's and pilot-agent's own (15000-15090).
 */
import { asArray, Entry, isRecord, KubeObject, nameOf, namespaceOf } from '../types';
import type { Cluster, PodSet, ServicePort } from './cluster';

const ROOT_NAMESPACE = 'istio-system';
export const TRUST_DOMAIN = 'cluster.local';

/** Ports of Envoy and pilot-agent themselves: traffic to them bypasses the inbound capture. */
const PROXY_PORTS = new Set([15000, 15001, 15004, 15006, 15008, 15020, 15021, 15053, 15090]);

const id = (e: Entry) => `${e.obj.kind} ${namespaceOf(e.obj)}/${nameOf(e.obj)}`;
const list = (v: unknown): string[] => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : []);

/** Whether inbound traffic to `port` on these pods passes through their sidecar. */
export function inboundCaptured(pods: PodSet, port: number): boolean {
  if (PROXY_PORTS.has(port)) return false;
  if (list(pods.annotations['traffic.sidecar.istio.io/excludeInboundPorts']).includes(String(port))) return false;
  const include = pods.annotations['traffic.sidecar.istio.io/includeInboundPorts'];
  if (include !== undefined && include !== '*' && !list(include).includes(String(port))) return false;
  return true;
}

/** Whether outbound traffic to `port` from these pods passes through their sidecar. */
export function outboundCaptured(pods: PodSet, port: number): boolean {
  return !list(pods.annotations['traffic.sidecar.istio.io/excludeOutboundPorts']).includes(String(port));
}

const selectorMatches = (spec: KubeObject, field: string, labels: Record<string, string>): boolean | undefined => {
  const sel = spec[field];
  if (!isRecord(sel)) return undefined;
  const ml = isRecord(sel.matchLabels) ? sel.matchLabels : isRecord(sel.labels) ? sel.labels : {};
  return Object.entries(ml).every(([k, v]) => labels[k] === v);
};

// ------------------------------------------------------------------------------ Sidecar

export interface SidecarScope {
  readonly entry?: Entry;
  readonly registryOnly: boolean;
  readonly hosts: string[];
}

export function sidecarOf(cluster: Cluster, pods: PodSet): SidecarScope {
  const spec = (e: Entry) => (isRecord(e.obj.spec) ? e.obj.spec : {});
  const own = cluster.in(pods.namespace, 'networking.istio.io', 'Sidecar');
  const chosen =
    own.find((e) => selectorMatches(spec(e), 'workloadSelector', pods.labels) === true) ??
    own.find((e) => !isRecord(spec(e).workloadSelector)) ??
    cluster.in(ROOT_NAMESPACE, 'networking.istio.io', 'Sidecar').find((e) => !isRecord(spec(e).workloadSelector));
  if (!chosen) return { registryOnly: false, hosts: ['*/*'] };
  const s = spec(chosen);
  const hosts = asArray(s.egress).filter(isRecord).flatMap((l) => asArray(l.hosts)).filter((h): h is string => typeof h === 'string');
  const mode = isRecord(s.outboundTrafficPolicy) ? s.outboundTrafficPolicy.mode : undefined;
  return { entry: chosen, registryOnly: mode === 'REGISTRY_ONLY', hosts: asArray(s.egress).length === 0 ? ['*/*'] : hosts };
}

/** `*.example.com` matches `a.example.com`; `*` matches everything. */
export function dnsMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) || host === pattern.slice(2);
  return pattern === host;
}

/** Does the Sidecar import `host` declared in namespace `configNs`? */
export function sidecarImports(scope: SidecarScope, sidecarNs: string, configNs: string, host: string): boolean {
  return scope.hosts.some((h) => {
    const slash = h.indexOf('/');
    const ns = slash < 0 ? '*' : h.slice(0, slash);
    const dns = slash < 0 ? h : h.slice(slash + 1);
    const nsOk = ns === '*' || ns === configNs || (ns === '.' && configNs === sidecarNs);
    return nsOk && dnsMatches(dns, host);
  });
}

// ------------------------------------------------------------------------------ ServiceEntry

export function exportedTo(spec: KubeObject, ownNs: string, clientNs: string): boolean {
  const exportTo = asArray(spec.exportTo).filter((x): x is string => typeof x === 'string');
  if (exportTo.length === 0) return true;
  return exportTo.some((x) => x === '*' || x === clientNs || (x === '.' && ownNs === clientNs));
}

/** ServiceEntries visible to `clientNs` that declare `host` on `port`. */
/**
 * A cluster's ServiceEntries by exact host, and those with a wildcard host: a region has one per
 * peer region and service, and every cross-region connection looks its host up (64 regions: a
 * scan of all of them per lookup was 60 ms of the wiring check).
 */
const serviceEntryIndex = new WeakMap<Cluster, { readonly exact: Map<string, Entry[]>; readonly wildcard: Entry[]; readonly position: Map<Entry, number> }>();

function serviceEntryCandidates(cluster: Cluster, host: string): Entry[] {
  let index = serviceEntryIndex.get(cluster);
  if (!index) {
    index = { exact: new Map(), wildcard: [], position: new Map() };
    for (const e of cluster.all('networking.istio.io', 'ServiceEntry')) {
      index.position.set(e, index.position.size);
      const hosts = new Set(asArray(isRecord(e.obj.spec) ? e.obj.spec.hosts : undefined).filter((h): h is string => typeof h === 'string'));
      if ([...hosts].some((h) => h.startsWith('*'))) index.wildcard.push(e);
      for (const h of hosts) if (!h.startsWith('*')) index.exact.set(h, [...(index.exact.get(h) ?? []), e]);
    }
    serviceEntryIndex.set(cluster, index);
  }
  const exact = index.exact.get(host) ?? [];
  if (index.wildcard.length === 0) return exact;
  const position = index.position;
  return [...new Set([...exact, ...index.wildcard])].sort((a, b) => position.get(a)! - position.get(b)!);
}

export function serviceEntriesFor(cluster: Cluster, clientNs: string, host: string, port: number): Entry[] {
  // Only entries that can name the host (the test below decides, as for all of them).
  return serviceEntryCandidates(cluster, host).filter((e) => {
    const spec = isRecord(e.obj.spec) ? e.obj.spec : {};
    const hosts = asArray(spec.hosts).filter((h): h is string => typeof h === 'string');
    const ports = asArray(spec.ports).filter(isRecord).map((p) => p.number);
    return hosts.some((h) => dnsMatches(h, host)) && ports.includes(port) && exportedTo(spec, namespaceOf(e.obj) ?? '', clientNs);
  });
}

// ------------------------------------------------------------------------------ protocols

/** The protocol Istio gives a Service port: appProtocol, else the port name's prefix, else sniffed. */
export function istioProtocol(port: ServicePort): string {
  const raw = (port.appProtocol ?? (port.name ?? '').split('-')[0]).toLowerCase();
  if (['http', 'http2', 'https', 'grpc', 'grpc-web', 'h2c'].includes(raw)) return raw === 'h2c' ? 'http2' : raw;
  if (['tcp', 'tls', 'mongo', 'mysql', 'redis', 'udp'].includes(raw)) return raw;
  return 'auto';
}

export const isHttpLike = (protocol: string) => ['http', 'http2', 'grpc', 'grpc-web', 'auto'].includes(protocol);

// ------------------------------------------------------------------------------ PeerAuthentication

export interface MtlsMode {
  readonly mode: 'STRICT' | 'PERMISSIVE' | 'DISABLE';
  readonly by?: Entry;
}

export function peerAuthenticationMode(cluster: Cluster, pods: PodSet, port: number): MtlsMode {
  const pas = (ns: string) => cluster.in(ns, 'security.istio.io', 'PeerAuthentication');
  const spec = (e: Entry) => (isRecord(e.obj.spec) ? e.obj.spec : {});
  const modeOf = (e: Entry, usePort: boolean): string | undefined => {
    const s = spec(e);
    if (usePort && isRecord(s.portLevelMtls) && isRecord(s.portLevelMtls[String(port)])) {
      const m = s.portLevelMtls[String(port)].mode;
      if (typeof m === 'string' && m !== 'UNSET') return m;
    }
    const m = isRecord(s.mtls) ? s.mtls.mode : undefined;
    return typeof m === 'string' && m !== 'UNSET' ? m : undefined;
  };
  const chain: [Entry | undefined, boolean][] = [
    [pas(pods.namespace).find((e) => selectorMatches(spec(e), 'selector', pods.labels) === true), true],
    [pas(pods.namespace).find((e) => !isRecord(spec(e).selector)), false],
    [pas(ROOT_NAMESPACE).find((e) => !isRecord(spec(e).selector)), false],
  ];
  for (const [e, usePort] of chain) {
    const m = e && modeOf(e, usePort);
    if (e && m) return { mode: m as MtlsMode['mode'], by: e };
  }
  return { mode: 'PERMISSIVE' };
}

/** TLS mode a client's DestinationRule sets for `host` (undefined: Istio's auto mTLS). */
export function destinationRuleTls(cluster: Cluster, clientNs: string, hostNs: string, host: string, port: number): { mode: string; subjectAltNames: string[]; by: Entry } | undefined {
  const candidates = [clientNs, hostNs, ROOT_NAMESPACE].flatMap((ns) =>
    cluster.in(ns, 'networking.istio.io', 'DestinationRule').filter((e) => {
      const spec = isRecord(e.obj.spec) ? e.obj.spec : {};
      const h = typeof spec.host === 'string' ? spec.host : '';
      const shortOk = h === host || dnsMatches(h, host) || `${h}.${namespaceOf(e.obj)}.svc.cluster.local` === host;
      return shortOk && exportedTo(spec, namespaceOf(e.obj) ?? '', clientNs);
    }),
  );
  const dr = candidates[0];
  if (!dr) return undefined;
  const tp = isRecord(dr.obj.spec) && isRecord(dr.obj.spec.trafficPolicy) ? dr.obj.spec.trafficPolicy : {};
  const portLevel = asArray(tp.portLevelSettings).filter(isRecord).find((p) => isRecord(p.port) && p.port.number === port);
  const tls = portLevel && isRecord(portLevel.tls) ? portLevel.tls : isRecord(tp.tls) ? tp.tls : undefined;
  const subjectAltNames = tls ? asArray(tls.subjectAltNames).filter((s): s is string => typeof s === 'string') : [];
  return tls && typeof tls.mode === 'string' ? { mode: tls.mode, subjectAltNames, by: dr } : undefined;
}

// ------------------------------------------------------------------------------ AuthorizationPolicy

/** Who the server's sidecar sees calling: the peer certificate's identity, if any. */
export interface Caller {
  readonly principal?: string;
  readonly namespace?: string;
}

export interface AuthzRuleRef {
  readonly entry: Entry;
  readonly index: number;
}

export type AuthzVerdict =
  /** `by`: every ALLOW rule that matches (none when no ALLOW policy applies). */
  | { allowed: true; by: AuthzRuleRef[] }
  | { allowed: false; reason: string; by?: Entry; matched: AuthzRuleRef[] };

const stringList = (v: unknown) => asArray(v).filter((x): x is string => typeof x === 'string');

function matchValue(pattern: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (pattern === '*') return true;
  if (pattern.startsWith('*')) return value.endsWith(pattern.slice(1));
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  return pattern === value;
}

function sourceMatches(source: KubeObject, caller: Caller): boolean {
  const pos = (field: string, value: string | undefined) => {
    const l = stringList(source[field]);
    return l.length === 0 || l.some((p) => matchValue(p, value));
  };
  const neg = (field: string, value: string | undefined) => !stringList(source[field]).some((p) => matchValue(p, value));
  if (stringList(source.requestPrincipals).length > 0) return false; // no JWT on these connections
  if (stringList(source.ipBlocks).length > 0 || stringList(source.remoteIpBlocks).length > 0) return false; // addresses are not modelled
  return pos('principals', caller.principal) && neg('notPrincipals', caller.principal) && pos('namespaces', caller.namespace) && neg('notNamespaces', caller.namespace);
}

function operationMatches(op: KubeObject, port: number): boolean {
  const ports = stringList(op.ports);
  if (ports.length > 0 && !ports.includes(String(port))) return false;
  if (stringList(op.notPorts).includes(String(port))) return false;
  return true; // hosts, methods, paths: a connection carries every request the client makes
}

function ruleMatches(rule: KubeObject, caller: Caller, port: number): boolean {
  const from = asArray(rule.from).filter(isRecord);
  const to = asArray(rule.to).filter(isRecord);
  if (asArray(rule.when).length > 0) return false; // conditions are not modelled: never assume they hold
  const fromOk = from.length === 0 || from.some((f) => isRecord(f.source) && sourceMatches(f.source, caller));
  const toOk = to.length === 0 || to.some((t) => isRecord(t.operation) && operationMatches(t.operation, port));
  return fromOk && toOk;
}

/** The AuthorizationPolicies that apply to these pods (root namespace ones included). */
function policiesFor(cluster: Cluster, pods: PodSet): Entry[] {
  const spec = (e: Entry) => (isRecord(e.obj.spec) ? e.obj.spec : {});
  const applies = (e: Entry) => {
    const m = selectorMatches(spec(e), 'selector', pods.labels);
    return m === undefined || m;
  };
  const own = cluster.in(pods.namespace, 'security.istio.io', 'AuthorizationPolicy').filter(applies);
  const root = pods.namespace === ROOT_NAMESPACE ? [] : cluster.in(ROOT_NAMESPACE, 'security.istio.io', 'AuthorizationPolicy').filter(applies);
  return [...root, ...own];
}

export function authorize(cluster: Cluster, pods: PodSet, caller: Caller, port: number): AuthzVerdict {
  const policies = policiesFor(cluster, pods);
  const action = (e: Entry) => (isRecord(e.obj.spec) && typeof e.obj.spec.action === 'string' ? e.obj.spec.action : 'ALLOW');
  // The ALLOW rules that match, whatever the verdict: a rule meant for this caller is in use
  // even when a DENY overrides it (the DENY is the finding).
  const allows = policies.filter((p) => action(p) === 'ALLOW');
  const by: AuthzRuleRef[] = [];
  for (const e of allows) {
    const rules = asArray(isRecord(e.obj.spec) ? e.obj.spec.rules : undefined);
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i];
      if (isRecord(rule) && ruleMatches(rule, caller, port)) by.push({ entry: e, index: i });
    }
  }
  for (const e of policies.filter((p) => action(p) === 'DENY')) {
    const rules = asArray((e.obj.spec as KubeObject).rules).filter(isRecord);
    if (rules.some((r) => ruleMatches(r, caller, port))) return { allowed: false, reason: `${id(e)} (DENY) matches`, by: e, matched: by };
  }
  if (allows.length === 0 || by.length > 0) return { allowed: true, by };
  return { allowed: false, reason: `no rule of the ALLOW policies on the server (${allows.map(id).join(', ')}) matches`, matched: by };
}

/** Every ALLOW rule rendered in the region: the reverse check wants each one used. */
export function allowRules(cluster: Cluster): AuthzRuleRef[] {
  return cluster.all('security.istio.io', 'AuthorizationPolicy').flatMap((e) => {
    const spec = isRecord(e.obj.spec) ? e.obj.spec : {};
    if ((spec.action ?? 'ALLOW') !== 'ALLOW') return [];
    return asArray(spec.rules).map((_, index) => ({ entry: e, index }));
  });
}
