/**
 * Layer 4 — Istio routing references, within one region folder: what a VirtualService routes to
 * must exist, or the route answers 503 (no such host, port or subset: Envoy has no cluster for it)
 * and a Gateway's host with no route answers 404. The CRD schemas allow all of these; Istio's
 * webhook does too (`istioctl analyze` reports some as IST0101/IST0162). Rules:
 *
 * - `ref-istio-destination`: a route's destination host is a rendered Service (its FQDN, or a
 *   short name without a dot, which Istio resolves in the VirtualService's namespace) or a
 *   ServiceEntry host, and its port is one of theirs;
 * - `ref-istio-subset`: a destination's subset is defined by a DestinationRule of that host;
 * - `ref-istio-gateway-host`: a VirtualService names Gateways that exist, and each of its hosts is
 *   served by one of them or, routed in the mesh, is a service there; every host a Gateway serves
 *   (outside AUTO_PASSTHROUGH) is routed by a VirtualService bound to it.
 */
import { type Scope, specOf } from './context';
import { child, item } from './paths';
import { closest } from './suggest';
import { asArray, Entry, finding, isKind, isRecord, nameOf, namespaceOf, RawFinding } from './types';
import type { Context } from './context';
import { runtimeSelectorKeys, templateSelector } from './references';
import { mapSelectorMatches } from './selectors';
import { CONTROLLER_POD_LABELS } from './pod-templates';

const ISTIO = 'networking.istio.io';
const CLUSTER_DOMAIN = 'svc.cluster.local';

/** Services and ServiceEntry hosts of a scope, by fully qualified host, with their ports. */
interface Destinations {
  readonly ports: Map<string, Set<number>>;
  /** FQDN → subsets defined for it by DestinationRules. */
  readonly subsets: Map<string, Set<string>>;
}
const destinationsOf = new WeakMap<Scope, Destinations>();

function destinations(scope: Scope): Destinations {
  let known = destinationsOf.get(scope);
  if (known) return known;
  const ports = new Map<string, Set<number>>();
  const subsets = new Map<string, Set<string>>();
  const add = (host: string, list: unknown, field: string) => {
    const set = ports.get(host) ?? new Set<number>();
    for (const p of asArray(list)) if (isRecord(p) && typeof p[field] === 'number') set.add(p[field] as number);
    ports.set(host, set);
  };
  for (const e of scope.entries) {
    if (isKind(e.obj, '', 'Service')) add(`${nameOf(e.obj)}.${namespaceOf(e.obj) ?? 'default'}.${CLUSTER_DOMAIN}`, specOf(e.obj).ports, 'port');
    else if (isKind(e.obj, ISTIO, 'ServiceEntry')) for (const h of asArray(specOf(e.obj).hosts)) if (typeof h === 'string') add(h, specOf(e.obj).ports, 'number');
  }
  for (const e of scope.entries) {
    if (!isKind(e.obj, ISTIO, 'DestinationRule')) continue;
    const host = specOf(e.obj).host;
    if (typeof host !== 'string') continue;
    const fqdn = qualify(host, namespaceOf(e.obj) ?? 'default');
    const set = subsets.get(fqdn) ?? new Set<string>();
    for (const s of asArray(specOf(e.obj).subsets)) if (isRecord(s) && typeof s.name === 'string') set.add(s.name);
    subsets.set(fqdn, set);
  }
  known = { ports, subsets };
  destinationsOf.set(scope, known);
  return known;
}

/**
 * Istio's reading of a host from a config in `ns` (pilot/pkg/model ResolveShortnameToFQDN): a
 * name without a dot → `name.ns.svc.cluster.local`; anything with a dot is taken as written
 * (`name.other` is not expanded, and matches no Service).
 */
export function qualify(host: string, ns: string): string {
  return host.includes('.') || host === '*' ? host : `${host}.${ns}.${CLUSTER_DOMAIN}`;
}

/** Every route destination of a VirtualService, with its path. */
function routeDestinations(spec: Record<string, any>): Array<{ path: string; destination: Record<string, any> }> {
  const out: Array<{ path: string; destination: Record<string, any> }> = [];
  for (const kind of ['http', 'tcp', 'tls'] as const) {
    asArray(spec[kind]).forEach((route, i) => {
      if (!isRecord(route)) return;
      asArray(route.route).forEach((r, j) => {
        if (isRecord(r) && isRecord(r.destination)) out.push({ path: `${item(`${item(`spec.${kind}`, i)}.route`, j)}.destination`, destination: r.destination });
      });
      if (kind === 'http' && isRecord(route.mirror)) out.push({ path: `${item('spec.http', i)}.mirror`, destination: route.mirror });
    });
  }
  return out;
}

export function checkIstioDestinations(e: Entry, ctx: Context): RawFinding[] {
  if (!isKind(e.obj, ISTIO, 'VirtualService')) return [];
  const ns = namespaceOf(e.obj) ?? 'default';
  const known = destinations(ctx.scope(e));
  const out: RawFinding[] = [];
  for (const { path, destination } of routeDestinations(specOf(e.obj))) {
    if (typeof destination.host !== 'string') continue;
    const fqdn = qualify(destination.host, ns);
    const ports = known.ports.get(fqdn);
    if (!ports) {
      const guess = closest(fqdn, [...known.ports.keys()]);
      out.push(finding(e, child(path, 'host'), 'ref-istio-destination', `destination host ${destination.host} (${fqdn}) is no Service or ServiceEntry host rendered in this region: Envoy has no cluster for it and the route answers 503`,
        guess ? `did you mean ${guess}?` : 'route to a rendered Service (name.namespace.svc.cluster.local) or declare the host in a ServiceEntry'));
      continue;
    }
    const port = isRecord(destination.port) ? destination.port.number : undefined;
    if (typeof port === 'number' && ports.size > 0 && !ports.has(port)) {
      out.push(finding(e, `${path}.port.number`, 'ref-istio-destination', `${fqdn} has no port ${port} (its ports: ${[...ports].sort((a, b) => a - b).join(', ')}): the route answers 503`,
        `use one of the Service's ports (the port, not the container's targetPort)`));
    }
    if (typeof destination.subset === 'string') {
      const defined = known.subsets.get(fqdn);
      if (!defined?.has(destination.subset)) {
        const guess = defined ? closest(destination.subset, [...defined]) : undefined;
        out.push(finding(e, `${path}.subset`, 'ref-istio-subset', `subset ${destination.subset} of ${fqdn} is defined by no DestinationRule${defined ? ` (its subsets: ${[...defined].join(', ') || 'none'})` : ' (none has that host)'}: traffic sent to it answers 503`,
          guess ? `did you mean ${guess}?` : `define the subset in the DestinationRule of host ${fqdn}`));
      }
    }
  }
  return out;
}

/**
 * A Gateway server host (`ns/host`, `./host`, `*\/host`, `host`, wildcards) against a
 * VirtualService host: the namespace part says which namespaces' VirtualServices it takes (`.`
 * the Gateway's own, `*` or none any); a VirtualService host `*` takes every host.
 */
function hostMatches(gatewayHost: string, host: string, gatewayNs: string, vsNs: string): boolean {
  const slash = gatewayHost.indexOf('/');
  const nsPart = slash === -1 ? '*' : gatewayHost.slice(0, slash);
  if (nsPart !== '*' && (nsPart === '.' ? gatewayNs : nsPart) !== vsNs) return false;
  const bare = slash === -1 ? gatewayHost : gatewayHost.slice(slash + 1);
  if (bare === '*' || host === '*' || bare === host) return true;
  if (bare.startsWith('*.')) return host.endsWith(bare.slice(1));
  if (host.startsWith('*.')) return bare.endsWith(host.slice(1));
  return false;
}

/** The hosts a Gateway routes by VirtualService (AUTO_PASSTHROUGH servers route by SNI alone). */
function routedHosts(gateway: Entry): string[] {
  return asArray(specOf(gateway.obj).servers).flatMap((s) => {
    if (!isRecord(s) || (isRecord(s.tls) && s.tls.mode === 'AUTO_PASSTHROUGH')) return [];
    return asArray(s.hosts).filter((h): h is string => typeof h === 'string');
  });
}

function gatewayOf(scope: Scope, ref: string, ns: string): Entry | undefined {
  const [gwNs, name] = ref.includes('/') ? ref.split('/', 2) : [ns, ref];
  return scope.named(gwNs!, ISTIO, 'Gateway', name!);
}

export function checkIstioGatewayHosts(e: Entry, ctx: Context): RawFinding[] {
  const scope = ctx.scope(e);
  const ns = namespaceOf(e.obj) ?? 'default';
  const out: RawFinding[] = [];
  if (isKind(e.obj, ISTIO, 'VirtualService')) {
    const spec = specOf(e.obj);
    const refs = asArray(spec.gateways).filter((g): g is string => typeof g === 'string');
    const inMesh = refs.length === 0 || refs.includes('mesh');
    const gateways: Entry[] = [];
    refs.forEach((ref, i) => {
      if (ref === 'mesh') return;
      const gw = gatewayOf(scope, ref, ns);
      if (gw) gateways.push(gw);
      else out.push(finding(e, item('spec.gateways', i), 'ref-istio-gateway-host', `Gateway ${ref} is not rendered in this region: the VirtualService is bound to nothing there`, 'name a rendered Gateway as namespace/name'));
    });
    const known = destinations(scope);
    asArray(spec.hosts).forEach((host, i) => {
      if (typeof host !== 'string') return;
      if (gateways.some((gw) => routedHosts(gw).some((h) => hostMatches(h, host, namespaceOf(gw.obj) ?? 'default', ns)))) return;
      if (inMesh && known.ports.has(qualify(host, ns))) return;
      const served = gateways.flatMap(routedHosts);
      out.push(finding(e, item('spec.hosts', i), 'ref-istio-gateway-host', `host ${host} is served by none of the VirtualService's gateways${served.length ? ` (they serve ${served.join(', ')})` : ''}${inMesh ? ' and is no service in the mesh' : ''}: requests for it never reach this route`,
        closest(host, served.map((h) => h.slice(h.indexOf('/') + 1))) ? `did you mean ${closest(host, served.map((h) => h.slice(h.indexOf('/') + 1)))}?` : 'list the host on the Gateway, or route a host it serves'));
    });
  } else if (isKind(e.obj, ISTIO, 'Gateway')) {
    const name = nameOf(e.obj);
    const bound = scope.entries.filter((v) => isKind(v.obj, ISTIO, 'VirtualService') && asArray(specOf(v.obj).gateways).some((g) => typeof g === 'string' && gatewayOf(scope, g, namespaceOf(v.obj) ?? 'default') === e));
    asArray(specOf(e.obj).servers).forEach((server, i) => {
      if (!isRecord(server) || (isRecord(server.tls) && server.tls.mode === 'AUTO_PASSTHROUGH')) return;
      asArray(server.hosts).forEach((h, j) => {
        if (typeof h !== 'string') return;
        const routed = bound.some((v) => asArray(specOf(v.obj).hosts).some((host) => typeof host === 'string' && hostMatches(h, host, namespaceOf(e.obj) ?? 'default', namespaceOf(v.obj) ?? 'default')));
        if (!routed) {
          out.push(finding(e, item(`${item('spec.servers', i)}.hosts`, j), 'ref-istio-gateway-host', `Gateway ${name} serves ${h}, but no VirtualService bound to it routes that host: requests for it answer 404`,
            'route the host in a VirtualService that names this Gateway (namespace/name), or remove it from the server'));
        }
      });
    });
  }
  return out;
}

/**
 * `ref-rollout`, traffic routing: the VirtualService(s) and named routes an Argo Rollout sets
 * weights on, and the DestinationRule and subsets it labels, exist (the controller stops the
 * release with "route not found" or a missing subset otherwise: nothing progresses).
 */
export function checkRolloutTrafficRouting(e: Entry, ctx: Context): RawFinding[] {
  if (!isKind(e.obj, 'argoproj.io', 'Rollout')) return [];
  const canary = isRecord(specOf(e.obj).strategy) && isRecord(specOf(e.obj).strategy.canary) ? specOf(e.obj).strategy.canary : undefined;
  const istio = canary && isRecord(canary.trafficRouting) && isRecord(canary.trafficRouting.istio) ? canary.trafficRouting.istio : undefined;
  if (!istio) return [];
  const scope = ctx.scope(e);
  const ns = namespaceOf(e.obj) ?? 'default';
  const base = 'spec.strategy.canary.trafficRouting.istio';
  const out: RawFinding[] = [];
  const services: Array<[string, Record<string, any>]> = [];
  if (isRecord(istio.virtualService)) services.push([`${base}.virtualService`, istio.virtualService]);
  asArray(istio.virtualServices).forEach((v, i) => { if (isRecord(v)) services.push([item(`${base}.virtualServices`, i), v]); });
  for (const [path, ref] of services) {
    if (typeof ref.name !== 'string') continue;
    // Argo Rollouts reads `name` or `name.namespace` (utils/istio GetVirtualServiceNamespaceName).
    const short = ref.name.replace(/\.svc\.cluster\.local$|\.cluster\.local$/, '');
    const dot = short.lastIndexOf('.');
    const [vsName, vsNs] = dot === -1 ? [short, ns] : [short.slice(0, dot), short.slice(dot + 1)];
    const vs = scope.named(vsNs, ISTIO, 'VirtualService', vsName);
    if (!vs) {
      out.push(finding(e, `${path}.name`, 'ref-rollout', `VirtualService ${vsName} is not rendered in namespace ${vsNs}${ref.name.includes('/') ? ' (Argo Rollouts reads name or name.namespace, not namespace/name)' : ''}`, 'name the VirtualService that routes this Rollout\'s Service, as name or name.namespace'));
      continue;
    }
    const named = asArray(specOf(vs.obj).http).map((r) => (isRecord(r) ? r.name : undefined)).filter((n): n is string => typeof n === 'string');
    asArray(ref.routes).forEach((route, i) => {
      if (typeof route !== 'string' || named.includes(route)) return;
      const guess = closest(route, named);
      out.push(finding(e, item(`${path}.routes`, i), 'ref-rollout', `VirtualService ${vsName} has no http route named ${route} (its routes: ${named.join(', ') || 'none named'}): the release cannot set weights`,
        guess ? `did you mean ${guess}?` : 'name the route in the VirtualService, or list one of its names'));
    });
  }
  if (isRecord(istio.destinationRule) && typeof istio.destinationRule.name === 'string') {
    const dr = scope.named(ns, ISTIO, 'DestinationRule', istio.destinationRule.name);
    const path = `${base}.destinationRule`;
    if (!dr) out.push(finding(e, `${path}.name`, 'ref-rollout', `DestinationRule ${istio.destinationRule.name} is not rendered in namespace ${ns}`, 'name the DestinationRule whose subsets split the Rollout\'s pods'));
    else {
      const subsets = asArray(specOf(dr.obj).subsets).map((s) => (isRecord(s) ? s.name : undefined)).filter((n): n is string => typeof n === 'string');
      for (const field of ['canarySubsetName', 'stableSubsetName'] as const) {
        const name = istio.destinationRule[field];
        if (typeof name === 'string' && !subsets.includes(name)) {
          out.push(finding(e, `${path}.${field}`, 'ref-rollout', `DestinationRule ${istio.destinationRule.name} defines no subset ${name} (its subsets: ${subsets.join(', ') || 'none'})`, 'define the subset in the DestinationRule, or name one of its subsets'));
        }
      }
    }
  }
  return out;
}

/** Labels controllers put on pods that no template carries: a subset may select by them. */
const INJECTED_POD_LABELS = new Set([
  ...CONTROLLER_POD_LABELS,
  // Istio's own: the injector's, and those it adds to every endpoint (AugmentLabels: locality, cluster, network, node).
  'security.istio.io/tlsMode', 'service.istio.io/canonical-name', 'service.istio.io/canonical-revision',
  'topology.kubernetes.io/region', 'topology.kubernetes.io/zone', 'topology.istio.io/subzone', 'topology.istio.io/cluster', 'topology.istio.io/network', 'kubernetes.io/hostname',
]);

/**
 * `ref-istio-subset`, the other side: a DestinationRule subset of a rendered Service selects some
 * of that Service's pods. Istio makes a subset's endpoints the Service's endpoints whose pods carry
 * the subset's labels; a label no pod carries (a version pinned by hand, a typo) leaves the subset
 * empty, and every request routed to it answers 503 (no healthy upstream). Labels controllers add
 * to pods (`rollouts-pod-template-hash`, which Argo Rollouts sets on the subsets it manages) are
 * not judged; nor are Services whose pods this tree does not render.
 */
export function checkSubsetLabels(e: Entry, ctx: Context): RawFinding[] {
  if (!isKind(e.obj, ISTIO, 'DestinationRule')) return [];
  const host = specOf(e.obj).host;
  if (typeof host !== 'string') return [];
  const fqdn = qualify(host, namespaceOf(e.obj) ?? 'default');
  const m = /^([^.]+)\.([^.]+)\.svc\.cluster\.local$/.exec(fqdn);
  if (!m) return [];
  const scope = ctx.scope(e);
  const service = scope.named(m[2]!, '', 'Service', m[1]!);
  const selector = service && isRecord(specOf(service.obj).selector) ? specOf(service.obj).selector as Record<string, unknown> : undefined;
  if (!service || !selector || Object.keys(selector).length === 0) return [];
  const runtime = runtimeSelectorKeys(service);
  const matches = (labels: Record<string, unknown>, wanted: Record<string, unknown>, skip: Set<string>) =>
    Object.entries(wanted).every(([k, v]) => skip.has(k) || labels[k] === v);
  const pods = scope.workloadsIn(m[2]!).filter((w) => mapSelectorMatches(templateSelector(service), w.podLabels));
  if (pods.length === 0) return [];
  const out: RawFinding[] = [];
  asArray(specOf(e.obj).subsets).forEach((s, i) => {
    if (!isRecord(s) || !isRecord(s.labels)) return;
    const labels = s.labels as Record<string, unknown>;
    if (pods.some((w) => matches(w.podLabels, labels, new Set([...INJECTED_POD_LABELS, ...runtime])))) return;
    const carried = [...new Set(pods.flatMap((w) => Object.keys(labels).filter((k) => !INJECTED_POD_LABELS.has(k)).map((k) => `${k}=${String(w.podLabels[k] ?? '(none)')}`)))];
    out.push(finding(e, `${item('spec.subsets', i)}.labels`, 'ref-istio-subset',
      `subset ${String(s.name)} selects ${Object.entries(labels).map(([k, v]) => `${k}=${String(v)}`).join(',')}, which no pod of Service ${m[2]}/${m[1]} carries (theirs: ${carried.join(', ')}): the subset has no endpoints, and traffic routed to it answers 503`,
      'select labels the Service\'s pods carry (Argo Rollouts adds rollouts-pod-template-hash itself)'));
  });
  return out;
}
