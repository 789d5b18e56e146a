/**
 * Rule `ref-config-endpoint`: an address a ConfigMap, a container's env, args or command, an
 * AnalysisTemplate's metric provider or an OpenTelemetry collector's configuration (its exporters'
 * endpoints, a load-balancing resolver's hostname and port) hands a client names a port its
 * server listens on. Checked where the address is spelt out in the data: `name.ns.svc.cluster.local:port`
 * anywhere in a value, `host=... port=...` on one line (libpq's keyword form: pgbouncer.ini's
 * databases), and `{"host": ..., "port": ...}` in a JSON value (the shard map). A
 * cluster Service must be rendered with that port; a mesh name of a ServiceEntry (another
 * region's shard, `*.global`) must be a host of a ServiceEntry with that port. Otherwise every
 * client that reads the address gets connection refused, or a DNS failure, at the first request.
 * (The wiring check proves that a declared connection's host is named in the client's
 * configuration; this one checks the port written beside it, and every address, declared or not.)
 * Namespaces this folder does not render (an add-on's) are not judged.
 */
import type { Context, Scope } from './context';
import { specOf } from './context';
import { child, item } from './paths';
import { containerTexts } from './pod-templates';
import { collectorServices } from './wiring/cluster';
import { parseServiceHost } from './wiring/walk';
import { asArray, Entry, finding, isKind, isRecord, nameOf, RawFinding } from './types';

/** Resources whose operator creates Services this tree does not render. */
const OPERATED: ReadonlyArray<[string, string]> = [['monitoring.coreos.com', 'Prometheus'], ['monitoring.coreos.com', 'Alertmanager'], ['opentelemetry.io', 'OpenTelemetryCollector']];

const SERVICE_ADDRESS = /\b([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc\.cluster\.local\.?:([0-9]{1,5})\b/g;
/** libpq's keyword form (`host=X port=Y`, pgbouncer.ini's [databases], a DSN): host and port on one line. */
const KEYWORD_ADDRESS = /\bhost=([a-z0-9][-a-z0-9.]*\.svc\.cluster\.local)\.?\s+(?:\S+\s+)*?port=([0-9]{1,5})\b/g;

interface Address {
  readonly host: string;
  readonly port: number;
}

/** `{host, port}` pairs anywhere in a JSON document. */
function jsonAddresses(node: unknown, out: Address[] = []): Address[] {
  if (Array.isArray(node)) node.forEach((n) => jsonAddresses(n, out));
  else if (isRecord(node)) {
    if (typeof node.host === 'string' && typeof node.port === 'number') out.push({ host: node.host, port: node.port });
    Object.values(node).forEach((n) => jsonAddresses(n, out));
  }
  return out;
}

/** The ServiceEntries of a scope, found once (every address of every ConfigMap asks). */
const serviceEntries = new WeakMap<Scope, Entry[]>();
function serviceEntriesOf(scope: Scope): Entry[] {
  let known = serviceEntries.get(scope);
  if (!known) serviceEntries.set(scope, (known = scope.entries.filter((x) => isKind(x.obj, 'networking.istio.io', 'ServiceEntry'))));
  return known;
}

/** The ports behind prometheus-operator's governing Service `name` in `ns`, when such a resource is rendered there. */
function operatedPorts(scope: Scope, ns: string, name: string): number[] | undefined {
  const kind = name === 'prometheus-operated' ? 'Prometheus' : name === 'alertmanager-operated' ? 'Alertmanager' : undefined;
  const resources = kind ? scope.find(ns, 'monitoring.coreos.com', kind) : [];
  if (resources.length === 0) return undefined;
  const own = kind === 'Prometheus' ? [8080, 9090] : [8080, 9093, 9094];
  const thanos = resources.some((p) => isRecord(specOf(p.obj).thanos)) ? [10901, 10902] : [];
  // Containers added to the resource (kube-rbac-proxy, an oauth proxy) listen beside them.
  const extra = resources.flatMap((r) => asArray(specOf(r.obj).containers).filter(isRecord).flatMap((c) => asArray(c.ports).filter(isRecord).map((p) => Number(p.containerPort))));
  return [...new Set([...own, ...thanos, ...extra])].sort((a, b) => a - b);
}

/** Why `address` does not reach a listening port, or undefined when it does (or is not ours to judge). */
function problem(scope: Scope, address: Address): string | undefined {
  // Cluster names only in their full form: a short `a.b` in a JSON value may be any outside host.
  const local = /\.svc\.cluster\.local\.?$/.test(address.host) ? parseServiceHost(address.host, '') : undefined;
  if (local) {
    const { name, namespace: ns } = local;
    if (!scope.namespaces.has(ns!)) return undefined;
    const service = scope.named(ns!, '', 'Service', name!);
    if (!service) {
      // prometheus-operator's governing Services: headless, so the pods' own ports count
      // (pkg/prometheus/common.go BuildStatefulSetService, pkg/alertmanager/statefulset.go: web
      // 9090 / 9093 and the mesh 9094, the config reloader's 8080, a Thanos sidecar's 10901/10902).
      const operated = operatedPorts(scope, ns!, name!);
      if (operated) return operated.includes(address.port) ? undefined : `${name} (prometheus-operator's Service in ${ns}) reaches pods that listen on ${operated.join(', ')}, not ${address.port}: connection refused`;
      // opentelemetry-operator's Services, from the collector's receivers (wiring/cluster.ts): a
      // headless one resolves to the pods, which listen on the same ports.
      const collector = scope.find(ns!, 'opentelemetry.io', 'OpenTelemetryCollector').flatMap(collectorServices).find((svc) => svc.name === name);
      if (collector) {
        const ports = [...new Set([...collector.ports.map((p) => p.port), ...(collector.headless ? [8888] : [])])].sort((a, b) => a - b);
        return ports.includes(address.port) ? undefined : `${name} (opentelemetry-operator's Service in ${ns}, from the collector's receivers) has no port ${address.port} (its ports: ${ports.join(', ')}): connection refused`;
      }
      // Operators create Services from what is rendered: in a namespace holding such a resource,
      // another unrendered name is not judged.
      if (OPERATED.some(([group, kind]) => scope.find(ns!, group, kind).length > 0)) return undefined;
      return `no Service ${ns}/${name} is rendered: ${address.host} does not resolve`;
    }
    const spec = specOf(service.obj);
    // A headless Service resolves to the pods themselves (any port they listen on), an ExternalName one elsewhere.
    if (spec.clusterIP === 'None' || spec.type === 'ExternalName') return undefined;
    const ports = asArray(spec.ports).filter(isRecord).map((p) => Number(p.port));
    return ports.includes(address.port) ? undefined : `Service ${ns}/${name} has no port ${address.port} (its ports: ${ports.join(', ')}): connection refused`;
  }
  const entries = serviceEntriesOf(scope);
  const hosts = (x: Entry) => asArray(specOf(x.obj).hosts).filter((h): h is string => typeof h === 'string');
  const matches = (pattern: string) => pattern === address.host || (pattern.startsWith('*.') && address.host.endsWith(pattern.slice(1)));
  const owner = entries.find((x) => hosts(x).some(matches));
  if (owner) {
    const ports = asArray(specOf(owner.obj).ports).filter(isRecord).map((p) => Number(p.number));
    return ports.includes(address.port) ? undefined : `ServiceEntry ${String(nameOf(owner.obj))} (${address.host}) has no port ${address.port} (its ports: ${ports.join(', ')}): the sidecar has no route for it`;
  }
  // A name in a mesh-only domain the ServiceEntries use, that none of them declares: a typo.
  const domain = address.host.split('.').slice(-2).join('.');
  if (entries.some((x) => hosts(x).some((h) => h.endsWith(`.${domain}`) && domain.includes('.') && h.endsWith('.global')))) {
    return `no ServiceEntry declares ${address.host}: no DNS server knows the mesh's names, so it never resolves`;
  }
  return undefined;
}

/** Whether a text can hold an address judged here (most env values and args cannot). */
const mayAddress = (text: string) => text.includes('.svc.cluster.local') || text.includes('host=') || text.includes('"host"');

/** The texts of an object that hand a client an address, with their paths (and addresses given as `{hostname, port}`). */
function addressTexts(e: Entry): Array<{ path: string; text: string; json: boolean; address?: Address }> {
  const out: Array<{ path: string; text: string; json: boolean; address?: Address }> = [];
  if (isKind(e.obj, '', 'ConfigMap')) {
    if (isRecord(e.obj.data)) for (const [key, value] of Object.entries(e.obj.data)) if (typeof value === 'string') out.push({ path: child('data', key), text: value, json: true });
    return out;
  }
  // Container env values, args and commands (a Job's target URL, a client's DSN).
  for (const t of containerTexts(e.obj)) if (mayAddress(t.text)) out.push({ path: t.path, text: t.text, json: t.env });
  // A nested spec's strings that may hold an address; with `pairs`, also `{hostname, port}` given apart.
  const visit = (node: unknown, path: string, pairs: boolean): void => {
    if (typeof node === 'string') {
      if (mayAddress(node)) out.push({ path, text: node, json: false });
    } else if (Array.isArray(node)) node.forEach((n, i) => visit(n, item(path, i), pairs));
    else if (isRecord(node)) {
      const port = typeof node.port === 'number' ? node.port : typeof node.port === 'string' && /^\d+$/.test(node.port) ? Number(node.port) : undefined;
      if (pairs && typeof node.hostname === 'string' && port !== undefined) out.push({ path: child(path, 'port'), text: '', json: false, address: { host: node.hostname, port } });
      for (const [k, v] of Object.entries(node)) visit(v, child(path, k), pairs);
    }
  };
  // An analysis' metric providers (a Prometheus address, a web metric's URL).
  if (isKind(e.obj, 'argoproj.io', 'AnalysisTemplate') || isKind(e.obj, 'argoproj.io', 'ClusterAnalysisTemplate')) visit(specOf(e.obj).metrics, 'spec.metrics', false);
  // An OpenTelemetry collector's own configuration: its exporters' endpoints (`host:port`) and
  // the load-balancing exporter's DNS resolver (`hostname` and `port` apart).
  if (isKind(e.obj, 'opentelemetry.io', 'OpenTelemetryCollector')) visit(specOf(e.obj).config, 'spec.config', true);
  return out;
}

export function checkConfigEndpoints(e: Entry, ctx: Context): RawFinding[] {
  if (e.region === null || !isRecord(e.obj)) return [];
  const texts = addressTexts(e);
  if (texts.length === 0) return [];
  const scope = ctx.scope(e);
  const out: RawFinding[] = [];
  for (const { path, text: value, json, address: given } of texts) {
    // Cheap tests first: the dashboards are megabytes of JSON without an address.
    const addresses: Address[] = given ? [given] : value.includes('.svc.cluster.local') ? [...value.matchAll(SERVICE_ADDRESS)].map((m) => ({ host: `${m[1]}.${m[3]}.svc.cluster.local`, port: Number(m[5]) })) : [];
    if (value.includes('host=')) {
      for (const line of value.split('\n')) for (const m of line.matchAll(KEYWORD_ADDRESS)) addresses.push({ host: m[1]!, port: Number(m[2]) });
    }
    const text = value.trim();
    if (json && (text.startsWith('{') || text.startsWith('[')) && text.includes('"host"')) {
      try {
        addresses.push(...jsonAddresses(JSON.parse(text)));
      } catch {
        // not JSON after all: the addresses in its text are checked above
      }
    }
    const seen = new Set<string>();
    for (const address of addresses) {
      const id = `${address.host}:${address.port}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const why = problem(scope, address);
      if (why) out.push(finding(e, path, 'ref-config-endpoint', `${id}: ${why}`, 'name the Service (or ServiceEntry host) and a port it really serves'));
    }
  }
  return out;
}
