/**
 * The mesh chart: mTLS STRICT everywhere we own, deny by default, the flow table enforced twice
 * (AuthorizationPolicy and NetworkPolicy, twins, nothing else open), the Gateway's TLS, the API
 * route and subsets Argo Rollouts drives, Sidecars and Telemetry. Guards issue #3 items 4 and 6.
 */
import { describe, expect, it } from 'vitest';
import { ACCESS_LOG_FILTER, MeshChart } from '../../charts/mesh/chart';
import { NamespacesChart } from '../../charts/namespaces/chart';
import { connectionPoolSizing, routeBudget } from '../../charts/mesh/sizing';
import type { RegionPlan } from '../../regions/plan';
import { find, newApp, type Obj, objectsOf, regionPlan, shippedPlan } from '../support/charts';

const plan = regionPlan('us-east-1');
const { names, namespaces, global } = plan;
const owned = [namespaces.app, namespaces.data, namespaces.monitoring];
const render = (p: RegionPlan = plan) => objectsOf(new MeshChart(newApp(), { plan: p }));
const objects = render();
const ofKind = (list: Obj[], kind: string) => list.filter((o) => o.kind === kind);

describe('MeshChart: mutual TLS', () => {
  it('is STRICT mesh-wide (root namespace) and in every namespace we own', () => {
    for (const namespace of [names.mesh.rootNamespace, ...owned]) {
      expect(find(objects, 'PeerAuthentication', 'default', namespace).spec).toEqual({ mtls: { mode: 'STRICT' } });
    }
  });

  it('has no PeerAuthentication that is not STRICT, nor any port-level exception', () => {
    const pas = ofKind(objects, 'PeerAuthentication');
    expect(pas).toHaveLength(4);
    for (const pa of pas) {
      expect(pa.spec.mtls.mode).toBe('STRICT');
      expect(pa.spec.portLevelMtls).toBeUndefined();
      expect(pa.spec.selector).toBeUndefined();
    }
  });

  it('every DestinationRule uses ISTIO_MUTUAL, outlier detection and connection pools', () => {
    const rules = ofKind(objects, 'DestinationRule');
    expect(rules.map((r) => r.metadata.name).sort()).toEqual([names.api.destinationRule, names.web.destinationRule, names.web.previewService].sort());
    for (const rule of rules) {
      const policy = rule.spec.trafficPolicy;
      expect(policy.tls).toEqual({ mode: 'ISTIO_MUTUAL' });
      expect(Object.keys(policy.outlierDetection).sort()).toEqual(['baseEjectionTime', 'consecutive5xxErrors', 'interval', 'maxEjectionPercent']);
      expect(policy.connectionPool.http).toMatchObject({ http2MaxRequests: expect.any(Number), maxRequestsPerConnection: expect.any(Number) });
      expect(policy.connectionPool.tcp).toMatchObject({ maxConnections: expect.any(Number), connectTimeout: '250ms' });
    }
  });
});

describe('MeshChart: authorization', () => {
  it('denies everything by default in every namespace we own (Istio allow-nothing: empty spec)', () => {
    for (const namespace of owned) expect(find(objects, 'AuthorizationPolicy', 'deny-all', namespace).spec).toEqual({});
  });

  it('every other AuthorizationPolicy is an ALLOW of named mTLS callers on named ports for selected pods', () => {
    for (const ap of ofKind(objects, 'AuthorizationPolicy').filter((o) => o.metadata.name !== 'deny-all')) {
      expect(ap.spec.action).toBe('ALLOW');
      expect(Object.keys(ap.spec.selector.matchLabels)).toEqual(['app.kubernetes.io/name']);
      for (const rule of ap.spec.rules) {
        expect(rule.from.flatMap((f: any) => f.source.principals).length).toBeGreaterThan(0);
        expect(rule.to.flatMap((t: any) => t.operation.ports).length).toBeGreaterThan(0);
        expect(rule.when).toBeUndefined();
      }
    }
  });
});

// ---------------------------------------------------------------- twins

/** Identity ↔ pods of every caller, written out independently of the flow table. */
const callers: Record<string, { namespace: string; labels: Record<string, string> }> = {
  [`cluster.local/ns/${names.mesh.ingressNamespace}/sa/${names.mesh.ingressServiceAccount}`]: { namespace: names.mesh.ingressNamespace, labels: { ...names.mesh.ingressSelector } },
  [`cluster.local/ns/${namespaces.app}/sa/${names.web.serviceAccount}`]: { namespace: namespaces.app, labels: { 'app.kubernetes.io/name': 'web' } },
  [`cluster.local/ns/${namespaces.app}/sa/${names.api.serviceAccount}`]: { namespace: namespaces.app, labels: { 'app.kubernetes.io/name': 'api' } },
  [`cluster.local/ns/${namespaces.monitoring}/sa/${names.monitoring.prometheusServiceAccount}`]: { namespace: namespaces.monitoring, labels: { 'app.kubernetes.io/name': 'prometheus' } },
  [`cluster.local/ns/${namespaces.data}/sa/bookedbarber-redis`]: { namespace: namespaces.data, labels: { 'app.kubernetes.io/name': 'redis' } },
  ['cluster.local/ns/argo-rollouts/sa/argo-rollouts']: { namespace: 'argo-rollouts', labels: { 'app.kubernetes.io/name': 'argo-rollouts' } },
  ['cluster.local/ns/prometheus-adapter/sa/prometheus-adapter']: { namespace: 'prometheus-adapter', labels: { 'app.kubernetes.io/name': 'prometheus-adapter' } },
  ['cluster.local/ns/monitoring-system/sa/kube-prometheus-stack-grafana']: { namespace: 'monitoring-system', labels: { 'app.kubernetes.io/name': 'grafana' } },
  [`cluster.local/ns/${namespaces.monitoring}/sa/alertmanager`]: { namespace: namespaces.monitoring, labels: { 'app.kubernetes.io/name': 'alertmanager' } },
  [`cluster.local/ns/${namespaces.data}/sa/pgbouncer`]: { namespace: namespaces.data, labels: { 'app.kubernetes.io/name': 'pgbouncer' } },
  [`cluster.local/ns/${namespaces.data}/sa/bookedbarber-postgres-shard-1`]: { namespace: namespaces.data, labels: { 'app.kubernetes.io/name': 'postgres' } },
  [`cluster.local/ns/${namespaces.data}/sa/bookedbarber-postgres-shard-1-backup`]: { namespace: namespaces.data, labels: { 'app.kubernetes.io/name': 'postgres-backup' } },
  [`cluster.local/ns/${namespaces.monitoring}/sa/bookedbarber-otel-collector`]: { namespace: namespaces.monitoring, labels: { 'app.kubernetes.io/name': 'otel-collector' } },
  [`cluster.local/ns/${namespaces.monitoring}/sa/bookedbarber-otel-sampler`]: { namespace: namespaces.monitoring, labels: { 'app.kubernetes.io/name': 'otel-sampler' } },
};

const labelsKey = (labels: Record<string, string>) => Object.entries(labels).sort().map(([k, v]) => `${k}=${v}`).join(',');
const flowKey = (srcNs: string, src: Record<string, string>, dstNs: string, dst: Record<string, string>, ports: Array<string | number>) =>
  `${srcNs}{${labelsKey(src)}} -> ${dstNs}{${labelsKey(dst)}} : ${ports.map(Number).sort((a, b) => a - b).join(',')}`;

/** Egress beyond the pod network (charts/mesh/external-egress.ts): checked on its own below. */
const isExternalEgress = (o: Obj) => o.metadata.name.endsWith('-external-egress');

/** The namespaces chart's own allows (every pod, DNS and istiod): not flows. */
const BASELINE_NETWORK_POLICIES = new Set(['default-deny-all', 'allow-dns-egress', 'allow-istiod-egress']);

function authorizationFlows(list: Obj[]): string[] {
  const out: string[] = [];
  for (const ap of ofKind(list, 'AuthorizationPolicy').filter((o) => o.metadata.name !== 'deny-all')) {
    for (const rule of ap.spec.rules) {
      const ports = rule.to.flatMap((t: any) => t.operation.ports);
      for (const principal of rule.from.flatMap((f: any) => f.source.principals)) {
        const caller = callers[principal];
        if (!caller) throw new Error(`AuthorizationPolicy ${ap.metadata.name} allows unknown principal ${principal}`);
        out.push(flowKey(caller.namespace, caller.labels, ap.metadata.namespace, ap.spec.selector.matchLabels, ports));
      }
    }
  }
  return out.sort();
}

/** A NetworkPolicy peer must name both the namespace and the pods: anything wider is "open". */
function peerOf(peer: any, where: string): { namespace: string; labels: Record<string, string> } {
  const namespace = peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'];
  const labels = peer.podSelector?.matchLabels;
  if (!namespace || !labels || Object.keys(labels).length === 0 || peer.ipBlock) throw new Error(`${where}: peer ${JSON.stringify(peer)} is wider than one workload`);
  return { namespace, labels };
}

function networkFlows(list: Obj[], direction: 'Ingress' | 'Egress'): string[] {
  const out: string[] = [];
  for (const np of ofKind(list, 'NetworkPolicy').filter((o) => !BASELINE_NETWORK_POLICIES.has(o.metadata.name) && !isExternalEgress(o))) {
    expect(np.spec.policyTypes).toHaveLength(1);
    if (np.spec.policyTypes[0] !== direction) continue;
    const self = np.spec.podSelector.matchLabels;
    expect(Object.keys(self ?? {}).length, `${np.metadata.name} selects every pod`).toBeGreaterThan(0);
    const rules = direction === 'Ingress' ? np.spec.ingress : np.spec.egress;
    for (const rule of rules) {
      const peers = direction === 'Ingress' ? rule.from : rule.to;
      expect(peers?.length, `${np.metadata.name}: a rule without peers allows everyone`).toBeGreaterThan(0);
      expect(rule.ports?.length, `${np.metadata.name}: a rule without ports allows every port`).toBeGreaterThan(0);
      for (const p of rule.ports) expect(p.protocol).toBe('TCP');
      const ports = rule.ports.map((p: any) => p.port);
      for (const peer of peers) {
        const other = peerOf(peer, np.metadata.name);
        out.push(direction === 'Ingress'
          ? flowKey(other.namespace, other.labels, np.metadata.namespace, self, ports)
          : flowKey(np.metadata.namespace, self, other.namespace, other.labels, ports));
      }
    }
  }
  return out.sort();
}

describe('MeshChart: AuthorizationPolicies and NetworkPolicies are twins, nothing else is open', () => {
  const all = [...objectsOf(new NamespacesChart(newApp(), { plan })), ...objects];
  const allowed = authorizationFlows(all);

  it('allows exactly the flows of issue #3 plus the data-tier and tracing flows (independent list)', () => {
    const app = namespaces.app;
    const data = namespaces.data;
    const mon = namespaces.monitoring;
    const api = { 'app.kubernetes.io/name': 'api' };
    const web = { 'app.kubernetes.io/name': 'web' };
    const gw = names.mesh.ingressSelector;
    const prom = { 'app.kubernetes.io/name': 'prometheus' };
    const redis = { 'app.kubernetes.io/name': 'redis' };
    const pgb = { 'app.kubernetes.io/name': 'pgbouncer' };
    const pg = { 'app.kubernetes.io/name': 'postgres' };
    const otel = { 'app.kubernetes.io/name': 'otel-collector' };
    const sampler = { 'app.kubernetes.io/name': 'otel-sampler' };
    const jaeger = { 'app.kubernetes.io/name': 'jaeger' };
    expect(allowed).toEqual(
      [
        flowKey(data, pgb, data, pg, [5432]),
        flowKey(data, pg, data, pg, [5432, 8008]),
        flowKey(data, { 'app.kubernetes.io/name': 'postgres-backup' }, data, pg, [5432]),
        flowKey(mon, prom, data, pg, [9187, 15020]),
        flowKey(mon, prom, data, pgb, [9127, 15020]),
        flowKey(data, pgb, mon, otel, [4317]),
        flowKey('argo-rollouts', { 'app.kubernetes.io/name': 'argo-rollouts' }, mon, prom, [9090]),
        flowKey('prometheus-adapter', { 'app.kubernetes.io/name': 'prometheus-adapter' }, mon, prom, [9090]),
        flowKey('monitoring-system', { 'app.kubernetes.io/name': 'grafana' }, mon, prom, [9090]),
        flowKey(mon, prom, mon, prom, [9090]),
        flowKey(mon, prom, mon, { 'app.kubernetes.io/name': 'alertmanager' }, [9093]),
        flowKey(mon, { 'app.kubernetes.io/name': 'alertmanager' }, mon, { 'app.kubernetes.io/name': 'alertmanager' }, [9094]),
        flowKey(data, redis, data, redis, [6379, 6380, 26379]),
        flowKey(mon, prom, data, redis, [9121, 8404, 15020]),
        flowKey(app, api, mon, otel, [4317, 4318]),
        flowKey(app, web, mon, otel, [4317, 4318]),
        flowKey('istio-ingress', gw, mon, otel, [4317]),
        flowKey(data, redis, mon, otel, [4317]),
        flowKey(mon, otel, mon, sampler, [4317]),
        flowKey(mon, sampler, mon, jaeger, [4317]),
        flowKey(mon, prom, mon, otel, [8888, 15020]),
        flowKey(mon, prom, mon, sampler, [8888, 15020]),
        flowKey(mon, prom, mon, jaeger, [14269, 15020]),
        flowKey('istio-ingress', gw, app, web, [global.workloads.web.port]),
        flowKey('istio-ingress', gw, app, api, [global.workloads.api.port]),
        flowKey(app, web, app, api, [global.workloads.api.port]),
        flowKey(app, api, namespaces.data, { 'app.kubernetes.io/name': 'pgbouncer' }, [6432]),
        flowKey(app, api, namespaces.data, { 'app.kubernetes.io/name': 'redis' }, [6379, 26379]),
        flowKey(namespaces.monitoring, prom, app, api, [names.api.metricsPort, 15020]),
        flowKey(namespaces.monitoring, prom, app, web, [names.web.metricsPort, 15020]),
      ].sort(),
    );
  });

  it('every ALLOW AuthorizationPolicy flow has its ingress NetworkPolicy twin, and every ingress allow is one', () => {
    expect(networkFlows(all, 'Ingress')).toEqual(allowed);
  });

  it('every flow from a namespace we own has its egress NetworkPolicy twin, and every egress allow is one', () => {
    const fromOwned = allowed.filter((k) => owned.some((ns) => k.startsWith(`${ns}{`)));
    expect(networkFlows(all, 'Egress')).toEqual(fromOwned);
  });

  it('renders nothing in the ingress gateway namespace (not ours: only the ingress side is)', () => {
    expect(objects.filter((o) => o.metadata.namespace === names.mesh.ingressNamespace)).toEqual([]);
  });

  it('the only baseline allows are the namespaces chart\'s DNS and istiod egress', () => {
    const baseline = ofKind(all, 'NetworkPolicy').filter((o) => BASELINE_NETWORK_POLICIES.has(o.metadata.name));
    expect(baseline).toHaveLength(9);
    expect(ofKind(objects, 'NetworkPolicy').filter((o) => BASELINE_NETWORK_POLICIES.has(o.metadata.name))).toEqual([]);
  });
});

// ---------------------------------------------------------------- routing

describe('MeshChart: API canary routing (what Argo Rollouts drives)', () => {
  const vs = find(objects, 'VirtualService', names.api.virtualService, namespaces.app);
  const dr = find(objects, 'DestinationRule', names.api.destinationRule, namespaces.app);
  const host = `${names.api.stableService}.${namespaces.app}.svc.cluster.local`;

  it('has one HTTP route, named as the Rollout expects, with the stable subset at 100 and the canary at 0', () => {
    expect(vs.spec.http).toHaveLength(1);
    const [route] = vs.spec.http;
    expect(route.name).toBe(names.api.route);
    expect(route.route.map((d: any) => [d.destination.subset, d.weight])).toEqual([[names.api.stableSubset, 100], [names.api.canarySubset, 0]]);
  });

  it('routes only to subsets the DestinationRule defines, on the host it governs: routes and subsets agree', () => {
    const subsets = dr.spec.subsets.map((s: any) => s.name);
    expect(subsets).toEqual([names.api.stableSubset, names.api.canarySubset]);
    const destinations = vs.spec.http.flatMap((h: any) => h.route.map((d: any) => d.destination));
    expect(destinations.map((d: any) => d.subset).sort()).toEqual([...subsets].sort());
    for (const d of destinations) {
      expect(d.host).toBe(dr.spec.host);
      expect(d.port).toEqual({ number: global.workloads.api.port });
    }
    expect(dr.spec.host).toBe(host);
  });

  it('leaves the subsets\' ReplicaSet labels to Argo Rollouts: both select the API pods by name only', () => {
    for (const s of dr.spec.subsets) expect(s.labels).toEqual({ 'app.kubernetes.io/name': 'api' });
  });

  it('serves the public host through the Gateway and the in-mesh host for web → API calls', () => {
    expect(vs.spec.hosts).toEqual([global.ingress.apiHost, host]);
    expect(vs.spec.gateways).toEqual([`${namespaces.app}/${names.mesh.gateway}`, 'mesh']);
  });

  it('retries on 5xx, reset and connect failure with a per-try timeout at 3x the p95 objective and a bounded total', () => {
    const [route] = vs.spec.http;
    expect(route.retries).toEqual({ attempts: 2, perTryTimeout: '300ms', retryOn: '5xx,reset,connect-failure' });
    expect(route.timeout).toBe('1s');
  });

  it('web routes its host through the Gateway to the active Service, each try outlasting the API budget', () => {
    const web = find(objects, 'VirtualService', names.web.virtualService, namespaces.app);
    expect(web.spec.hosts).toEqual([global.ingress.webHost]);
    expect(web.spec.gateways).toEqual([`${namespaces.app}/${names.mesh.gateway}`]);
    expect(web.spec.http[0].route).toEqual([{ destination: { host: `${names.web.activeService}.${namespaces.app}.svc.cluster.local`, port: { number: global.workloads.web.port } } }]);
    expect(web.spec.http[0].retries).toEqual({ attempts: 1, perTryTimeout: '1100ms', retryOn: '5xx,reset,connect-failure' });
    expect(web.spec.http[0].timeout).toBe('2300ms');
  });

  it('every VirtualService destination host has a DestinationRule', () => {
    const hosts = new Set(ofKind(objects, 'DestinationRule').map((r) => r.spec.host));
    for (const v of ofKind(objects, 'VirtualService')) {
      for (const h of v.spec.http) for (const d of h.route) expect(hosts).toContain(d.destination.host);
    }
    expect(hosts).toContain(`${names.web.previewService}.${namespaces.app}.svc.cluster.local`);
  });
});

describe('MeshChart: Gateway', () => {
  const gw = find(objects, 'Gateway', names.mesh.gateway, namespaces.app);
  const https = gw.spec.servers.find((s: any) => s.port.number === 443);
  const http = gw.spec.servers.find((s: any) => s.port.number === 80);

  it('selects the ingress gateway pods of the Istio add-on', () => {
    expect(gw.spec.selector).toEqual(names.mesh.ingressSelector);
    expect(gw.spec.servers).toHaveLength(2);
  });

  it('serves HTTPS on 443 with TLS 1.3 minimum and the certificate by reference only', () => {
    expect(https.port).toEqual({ number: 443, name: 'https', protocol: 'HTTPS' });
    expect(https.tls).toEqual({ mode: 'SIMPLE', credentialName: global.ingress.tlsCredentialName, minProtocolVersion: 'TLSV1_3' });
    expect(https.hosts).toEqual([`./${global.ingress.webHost}`, `./${global.ingress.apiHost}`]);
  });

  it('redirects plain HTTP on 80 to HTTPS and serves nothing there', () => {
    expect(http.port).toEqual({ number: 80, name: 'http', protocol: 'HTTP' });
    expect(http.tls).toEqual({ httpsRedirect: true });
    expect(http.hosts).toEqual(https.hosts);
  });
});

describe('MeshChart: Sidecar and Telemetry', () => {
  it('every namespace we own has a Sidecar with REGISTRY_ONLY, reaching only its own namespace, istio-system and its flows', () => {
    const expected: Record<string, string[]> = {
      [namespaces.app]: ['./*', 'istio-system/*', `${namespaces.data}/*`, `${namespaces.monitoring}/*`],
      [namespaces.data]: ['./*', 'istio-system/*', `${namespaces.monitoring}/*`],
      [namespaces.monitoring]: ['./*', 'istio-system/*', `${namespaces.app}/*`, `${namespaces.data}/*`],
    };
    for (const namespace of owned) {
      const sidecar = find(objects, 'Sidecar', 'default', namespace);
      expect(sidecar.spec.outboundTrafficPolicy).toEqual({ mode: 'REGISTRY_ONLY' });
      expect(sidecar.spec.egress).toEqual([{ hosts: expected[namespace] }]);
      expect(sidecar.spec.workloadSelector).toBeUndefined();
    }
  });

  it('samples traces mesh-wide at the configured rate', () => {
    const t = find(objects, 'Telemetry', 'mesh-default', names.mesh.rootNamespace);
    expect(t.spec.tracing).toHaveLength(1);
    expect(t.spec.tracing[0].randomSamplingPercentage).toBe(global.mesh.traceSamplingPercent);
    expect(t.spec.tracing[0].providers).toEqual([{ name: 'otel-tracing' }]);
    const changed = { ...plan, global: { ...global, mesh: { ...global.mesh, traceSamplingPercent: 2.5 } } };
    expect(find(render(changed), 'Telemetry', 'mesh-default').spec.tracing[0].randomSamplingPercentage).toBe(2.5);
  });

  it('logs access for failures only (5xx and authorization denials)', () => {
    const t = find(objects, 'Telemetry', 'mesh-default', names.mesh.rootNamespace);
    expect(t.spec.accessLogging).toEqual([{ providers: [{ name: 'envoy' }], filter: { expression: ACCESS_LOG_FILTER } }]);
  });
});

describe('mesh sizing', () => {
  it('sizes pools from the fleet at its maximum (Little\'s law with 2x headroom), never below the floor', () => {
    expect(connectionPoolSizing({ maxReplicas: 1000, targetRequestsPerSecond: 40, p95LatencyMs: 100 })).toEqual({
      maxInFlight: 8000, maxConnections: 8000, maxPending: 800, maxRetries: 800,
    });
    expect(connectionPoolSizing({ maxReplicas: 2, targetRequestsPerSecond: 1, p95LatencyMs: 10 }).maxInFlight).toBe(1024);
    expect(() => connectionPoolSizing({ maxReplicas: 0, targetRequestsPerSecond: 40, p95LatencyMs: 100 })).toThrow('maxReplicas (0) must be > 0');
  });

  it('follows each region\'s HPA maximum', () => {
    for (const r of shippedPlan().regions) {
      const dr = find(render(r), 'DestinationRule', names.api.destinationRule);
      const expected = connectionPoolSizing({ maxReplicas: r.region.autoscaling.api.maxReplicas, targetRequestsPerSecond: global.workloads.api.targetRequestsPerSecond, p95LatencyMs: global.delivery.api.analysis.maxLatencyP95Ms });
      expect(dr.spec.trafficPolicy.connectionPool.http.http2MaxRequests).toBe(expected.maxInFlight);
    }
  });

  it('budgets routes: try = max(3 x p95, downstream budget + back-off), total = all tries + back-off', () => {
    expect(routeBudget(100, 2)).toEqual({ perTryTimeoutMs: 300, attempts: 2, timeoutMs: 1000 });
    expect(routeBudget(300, 1, 1000)).toEqual({ perTryTimeoutMs: 1100, attempts: 1, timeoutMs: 2300 });
    expect(() => routeBudget(100, -1)).toThrow('attempts (-1) must be an integer >= 0');
  });
});

describe('MeshChart output and the validator', () => {
  it('NamespacesChart + MeshChart objects pass every schema, policy and reference rule in every region (no findings)', async () => {
    const { validateObjects } = await import('../../tools/validate');
    for (const p of shippedPlan().regions) {
      const app = newApp();
      const list = [...objectsOf(new NamespacesChart(app, { plan: p })), ...objectsOf(new MeshChart(app, { plan: p }))];
      const loaded = list.map((object, index) => ({ file: `dist/${p.region.name}/mesh.yaml`, index, object, region: p.region.name }));
      const report = validateObjects(loaded, { schemaDir: undefined });
      expect(report.findings).toEqual([]);
      expect(report.objects).toBe(list.length);
    }
  });

  it('opens egress beyond the pod network only for the pods that need it, on their ports only', () => {
    const external = ofKind(objects, 'NetworkPolicy').filter(isExternalEgress);
    const summary = external.map((np) => [
      np.metadata.namespace,
      np.spec.podSelector.matchExpressions[0].values.join('+'),
      np.spec.egress.flatMap((e: any) => e.ports.map((p: any) => p.port)).join(','),
      np.spec.egress.every((e: any) => e.to === undefined) ? 'any address' : 'peers',
    ]);
    expect(summary).toEqual([
      [namespaces.data, 'postgres+postgres-backup', '443,6443', 'any address'],
      [namespaces.monitoring, 'prometheus', '443,6443', 'any address'],
      [namespaces.monitoring, 'prometheus', '8090', 'peers'],
      [namespaces.monitoring, 'alertmanager', '443,587', 'any address'],
    ]);
    for (const np of external) expect(np.spec.policyTypes).toEqual(['Egress']);
    const storage = find(objects, 'ServiceEntry', 'object-storage', namespaces.data);
    expect(storage.spec.hosts).toEqual([`s3.${plan.region.name}.amazonaws.com`, `*.s3.${plan.region.name}.amazonaws.com`, `sts.${plan.region.name}.amazonaws.com`]);
    expect(storage.spec.exportTo).toEqual(['.']);
  });
});
