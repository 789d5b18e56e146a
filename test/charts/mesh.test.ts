/**
 * The mesh chart: mTLS STRICT everywhere we own, deny by default, the declared connections enforced twice
 * (AuthorizationPolicy and NetworkPolicy, twins, nothing else open), the Gateway's TLS, the API
 * route and subsets Argo Rollouts drives, Sidecars and Telemetry. Guards issue #3 items 4 and 6.
 */
import { describe, expect, it } from 'vitest';
import { ACCESS_LOG_FILTER, MeshChart } from '../../charts/mesh/chart';
import { NamespacesChart } from '../../charts/namespaces/chart';
import { connectionPoolSizing, routeBudget } from '../../charts/mesh/sizing';
import { isServingRegion } from '../../regions/model';
import { serving, type RegionPlan } from '../../regions/plan';
import { find, newApp, type Obj, objectsOf, regionPlan, shippedPlan } from '../support/charts';

const plan = regionPlan('us-east-1');
const { names, namespaces, global } = plan;
const app = namespaces.app;
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
      expect(ap.spec.selector.matchLabels['app.kubernetes.io/name']).toBeDefined();
      for (const rule of ap.spec.rules) {
        expect(rule.from.flatMap((f: any) => f.source.principals).length).toBeGreaterThan(0);
        expect(rule.to.flatMap((t: any) => t.operation.ports).length).toBeGreaterThan(0);
        expect(rule.when).toBeUndefined();
      }
    }
  });
});

// ---------------------------------------------------------------- policies from the connection declaration

const principals = (ap: Obj): string[] => ap.spec.rules.flatMap((r: any) => r.from.flatMap((f: any) => f.source.principals));
const ports = (ap: Obj): string[] => ap.spec.rules.flatMap((r: any) => r.to.flatMap((t: any) => t.operation.ports));
const allows = ofKind(objects, 'AuthorizationPolicy').filter((o) => o.metadata.name !== 'deny-all');
const netpols = ofKind(objects, 'NetworkPolicy');

describe('MeshChart: policies generated from the declared connections (issue #10)', () => {
  it('names no caller without a sidecar in an AuthorizationPolicy: Prometheus, Alertmanager and the add-ons outside the mesh could never match', () => {
    const unmeshed = [
      `cluster.local/ns/${namespaces.monitoring}/sa/prometheus`, `cluster.local/ns/${namespaces.monitoring}/sa/alertmanager`,
      'cluster.local/ns/argo-rollouts/sa/argo-rollouts', 'cluster.local/ns/prometheus-adapter/sa/prometheus-adapter', 'cluster.local/ns/monitoring-system/sa/kube-prometheus-stack-grafana',
    ];
    for (const ap of allows) for (const p of principals(ap)) expect(unmeshed).not.toContain(p);
  });

  it('never names the sidecar agent\'s port in an AuthorizationPolicy (15020 bypasses Envoy; the NetworkPolicy guards it)', () => {
    for (const ap of allows) expect(ports(ap)).not.toContain('15020');
    // The meshed scrape targets: API, web, 3 Redis tiers x (server, sentinel), the sessions proxy,
    // the two collector tiers and Jaeger, and PgBouncer and Postgres of every hosted site (shard
    // 1's home site, shard 2's DR site).
    expect(plan.hostedShards.map((h) => `${h.config.id}/${h.site}`)).toEqual(['1/home', '2/dr']);
    expect(netpols.filter((np) => np.metadata.name.startsWith('allow-prometheus-to-') && np.metadata.name.endsWith('-ingress') && np.metadata.name !== 'allow-prometheus-to-prometheus-ingress' && np.metadata.name !== 'allow-prometheus-to-alertmanager-ingress')
      .map((np) => np.spec.ingress[0].ports.map((p: any) => p.port))).toEqual(Array(12 + 2 * plan.hostedShards.length).fill([15020]));
  });

  it('admits to each shard\'s Postgres only the pooler of that shard: one mesh identity per PgBouncer', () => {
    const data = namespaces.data;
    for (const { config } of plan.hostedShards) {
      const ap = find(objects, 'AuthorizationPolicy', `allow-pgbouncer-shard-${config.id}-to-postgres-shard-${config.id}`, data);
      expect(principals(ap)).toEqual([`cluster.local/ns/${data}/sa/bookedbarber-pgbouncer-shard-${config.id}`]);
    }
    // No identity is shared by the poolers of two shards.
    const poolerPrincipals = allows.filter((ap) => /^allow-pgbouncer-shard-\d+-to-postgres-/.test(ap.metadata.name)).flatMap(principals);
    expect(new Set(poolerPrincipals).size).toBe(plan.hostedShards.length);
  });

  it('gives every ALLOW its ingress NetworkPolicy twin: same server pods, same ports, from the caller\'s pods (or, for callers in other regions, from the east-west gateway)', () => {
    for (const ap of allows) {
      const twin = find(objects, 'NetworkPolicy', `${ap.metadata.name}-ingress`, ap.metadata.namespace);
      expect(twin.spec.podSelector.matchLabels).toEqual(ap.spec.selector.matchLabels);
      expect(twin.spec.ingress[0].ports.map((p: any) => String(p.port)).sort()).toEqual(ports(ap).sort());
      const [, ns] = principals(ap)[0].split('/').slice(1);
      const from = twin.spec.ingress[0].from[0];
      if (ap.metadata.name.startsWith('allow-remote-')) {
        expect(from.namespaceSelector.matchLabels['kubernetes.io/metadata.name']).toBe('istio-system');
        expect(from.podSelector.matchLabels).toEqual({ istio: 'eastwestgateway', app: 'istio-eastwestgateway' });
      } else {
        expect(from.namespaceSelector.matchLabels['kubernetes.io/metadata.name']).toBe(ns);
      }
    }
  });

  it('admits the other regions\' callers on exactly the shards, their DR sites\' WAL streams and the sessions proxy this (primary) region exports (issue #11)', () => {
    // Shard 1 is active here: every other region's API reaches its PgBouncer, and the standby
    // leader of its DR site (us-west-2) streams WAL from its primary (Postgres port only). Shard 2's
    // DR site here is a standby: it exports nothing.
    expect(allows.filter((ap) => ap.metadata.name.startsWith('allow-remote-')).map((ap) => `${ap.metadata.name} ${principals(ap).join()} ${ports(ap).join()}`).sort()).toEqual([
      `allow-remote-api-to-pgbouncer-shard-1 cluster.local/ns/${app}/sa/bookedbarber-api 6432`,
      `allow-remote-api-to-redis-sessions-proxy cluster.local/ns/${app}/sa/bookedbarber-api 6379`,
      `allow-remote-postgres-shard-1-to-postgres-shard-1 cluster.local/ns/${namespaces.data}/sa/bookedbarber-postgres-shard-1-dr 5432`,
      `allow-remote-redis-sessions-to-redis-sessions-proxy cluster.local/ns/${namespaces.data}/sa/bookedbarber-redis 6380`,
    ]);
    const gateway = find(objects, 'Gateway', 'cross-network-gateway', 'istio-system');
    expect(gateway.spec.servers).toEqual([{ port: { number: 15443, name: 'tls', protocol: 'TLS' }, tls: { mode: 'AUTO_PASSTHROUGH' },
      hosts: [
        'bookedbarber-pgbouncer-shard-1.us-east-1.bookedbarber.global',
        'bookedbarber-postgres-shard-1.us-east-1.bookedbarber.global',
        'bookedbarber-redis-sessions-proxy.us-east-1.bookedbarber.global',
      ] }]);
    // The shared root CA (cacerts) is charts/mesh-ca's, synced by istiod's Application (test/charts/mesh-ca.test.ts).
    expect(objects.filter((o) => o.kind === 'ExternalSecret' && o.metadata.name === 'cacerts')).toEqual([]);
  });

  it('opens the connections issue #10 lists, each on its own port', () => {
    const ingress = (name: string) => find(objects, 'NetworkPolicy', `allow-${name}-ingress`).spec.ingress[0].ports.map((p: any) => `${p.port}/${p.protocol}`);
    expect(ingress('api-to-pgbouncer-shard-1')).toEqual(['6432/TCP']);
    for (const tier of ['cache', 'sessions', 'rate-limit']) {
      expect(ingress(`api-to-redis-${tier}-sentinel`)).toEqual(['26379/TCP']);
      expect(ingress(`api-to-redis-${tier}-server`)).toEqual(['6379/TCP']);
    }
    expect(ingress('postgres-shard-1-to-postgres-shard-1')).toEqual(['5432/TCP', '8008/TCP']);
    // Alertmanager's memberlist gossips over UDP and TCP on 9094.
    expect(ingress('alertmanager-to-alertmanager')).toEqual(['9094/TCP', '9094/UDP']);
    expect(ingress('ingress-gateway-to-web')).toEqual([`${global.workloads.web.port}/TCP`]);
    expect(ingress('web-to-otel-collector')).toEqual(['4318/TCP', '4317/TCP']);
  });

  it('lets egress out of our namespaces only to the declared peers, and renders no egress for add-on callers', () => {
    for (const np of netpols.filter((o) => o.metadata.name.endsWith('-egress') && !o.metadata.name.endsWith('-external-egress'))) {
      expect(owned).toContain(np.metadata.namespace);
      for (const rule of np.spec.egress) {
        expect(rule.to.length).toBeGreaterThan(0);
        for (const peer of rule.to) expect(Object.keys(peer.podSelector.matchLabels).length).toBeGreaterThan(0);
      }
    }
    expect(netpols.some((o) => o.metadata.name.startsWith('allow-argo-rollouts-') && o.metadata.name.endsWith('-egress'))).toBe(false);
  });

  it('renders only the gateway\'s TLS certificate in the ingress gateway namespace (Istio reads credentialName there)', () => {
    const there = objects.filter((o) => o.metadata.namespace === names.mesh.ingressNamespace);
    expect(there.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([`ExternalSecret/${global.ingress.tlsCredentialName}`]);
    expect(there[0].spec.target.template.type).toBe('kubernetes.io/tls');
    expect(there[0].spec.data.map((d: any) => d.secretKey)).toEqual(['tls.crt', 'tls.key']);
  });
});

// ---------------------------------------------------------------- routing

describe('MeshChart: API canary routing (what Argo Rollouts drives)', () => {
  const vs = find(objects, 'VirtualService', names.api.virtualService, namespaces.app);
  const dr = find(objects, 'DestinationRule', names.api.destinationRule, namespaces.app);
  const host = `${names.api.stableService}.${namespaces.app}.svc.cluster.local`;

  it('has two HTTP routes, both named as the Rollout expects, each with the stable subset at 100 and the canary at 0', () => {
    expect(vs.spec.http.map((h: any) => h.name)).toEqual([names.api.idempotentRoute, names.api.route]);
    for (const route of vs.spec.http) {
      expect(route.route.map((d: any) => [d.destination.subset, d.weight])).toEqual([[names.api.stableSubset, 100], [names.api.canarySubset, 0]]);
    }
    // The idempotent route matches the safe methods only; the last route takes everything else.
    expect(vs.spec.http[0].match).toEqual([{ method: { exact: 'GET' } }, { method: { exact: 'HEAD' } }, { method: { exact: 'OPTIONS' } }]);
    expect(vs.spec.http[1].match).toBeUndefined();
  });

  it('routes only to subsets the DestinationRule defines, on the host it governs: routes and subsets agree', () => {
    const subsets = dr.spec.subsets.map((s: any) => s.name);
    expect(subsets).toEqual([names.api.stableSubset, names.api.canarySubset]);
    const destinations = vs.spec.http.flatMap((h: any) => h.route.map((d: any) => d.destination));
    expect([...new Set(destinations.map((d: any) => d.subset))].sort()).toEqual([...subsets].sort());
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

  it('retries only requests that never reached the app, and a 503 only for GET/HEAD/OPTIONS, with a per-try timeout at 3x the p95 objective and a bounded total', () => {
    const [reads, writes] = vs.spec.http;
    expect(reads.retries).toEqual({ attempts: 2, perTryTimeout: '300ms', retryOn: 'connect-failure,refused-stream,reset-before-request,503' });
    // A write is never cut at a try's budget (it could still commit): one try gets the whole route timeout.
    expect(writes.retries).toEqual({ attempts: 2, perTryTimeout: '1s', retryOn: 'connect-failure,refused-stream,reset-before-request' });
    for (const route of [reads, writes]) expect(route.timeout).toBe('1s');
  });

  it('never retries a write after a timeout or a response: no condition that fires once the request was sent', () => {
    for (const v of objects.filter((o) => o.kind === 'VirtualService')) {
      for (const route of v.spec.http) {
        const on: string[] = route.retries.retryOn.split(',');
        // Istio keeps its default retryOn (503 for every method) when retryOn is empty.
        expect(on.length, `${v.metadata.name}/${route.name}`).toBeGreaterThan(0);
        const idempotent = (route.match ?? []).length > 0 && route.match.every((m: any) => ['GET', 'HEAD', 'OPTIONS'].includes(m.method?.exact));
        for (const c of on) {
          const allowed = ['connect-failure', 'refused-stream', 'reset-before-request', ...(idempotent ? ['503'] : [])];
          expect(allowed, `${v.metadata.name}/${route.name} retries on ${c}`).toContain(c);
        }
      }
    }
  });

  it('web routes its host through the Gateway to the active Service, each try outlasting the API budget', () => {
    const web = find(objects, 'VirtualService', names.web.virtualService, namespaces.app);
    expect(web.spec.hosts).toEqual([global.ingress.webHost]);
    expect(web.spec.gateways).toEqual([`${namespaces.app}/${names.mesh.gateway}`]);
    expect(web.spec.http.map((h: any) => h.name)).toEqual(['idempotent', 'primary']);
    for (const h of web.spec.http) {
      expect(h.route).toEqual([{ destination: { host: `${names.web.activeService}.${namespaces.app}.svc.cluster.local`, port: { number: global.workloads.web.port } } }]);
      expect(h.timeout).toBe('2300ms');
    }
    // Reads retry within a try of 1100 ms (it outlasts the API's whole route); writes get the whole route in one try.
    expect(web.spec.http[0].retries).toMatchObject({ attempts: 1, perTryTimeout: '1100ms' });
    expect(web.spec.http[1].retries).toMatchObject({ attempts: 1, perTryTimeout: '2300ms' });
    expect(web.spec.http[0].retries.retryOn).toBe('connect-failure,refused-stream,reset-before-request,503');
    expect(web.spec.http[1].retries.retryOn).toBe('connect-failure,refused-stream,reset-before-request');
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
  it('every namespace we own has a Sidecar with REGISTRY_ONLY, reaching only its own namespace, istio-system and its connections', () => {
    const expected: Record<string, string[]> = {
      [namespaces.app]: ['./*', 'istio-system/*', `${namespaces.data}/*`, `${namespaces.monitoring}/*`],
      // Patroni keeps its leader lock in the Kubernetes API (issue #10: without it, no primary).
      [namespaces.data]: ['./*', 'istio-system/*', `${namespaces.monitoring}/*`, 'default/kubernetes.default.svc.cluster.local'],
      // Prometheus and Alertmanager run without sidecars: only the tracing tiers' calls count here.
      [namespaces.monitoring]: ['./*', 'istio-system/*'],
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
    // Envoy's spans carry the region and environment under the keys the SDKs set
    // (OTEL_RESOURCE_ATTRIBUTES, semantic conventions): one query finds both.
    expect(t.spec.tracing[0].customTags).toEqual({
      'cloud.region': { literal: { value: plan.region.name } },
      'deployment.environment.name': { literal: { value: global.platform.environment } },
    });
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

  it('follows each serving region\'s HPA maximum', () => {
    const regions = shippedPlan().regions;
    const servingRegions = regions.filter((r) => isServingRegion(r.region));
    expect(servingRegions).toHaveLength(4);
    for (const r of servingRegions) {
      const dr = find(render(r), 'DestinationRule', names.api.destinationRule);
      const expected = connectionPoolSizing({ maxReplicas: serving(r).autoscaling.api.maxReplicas, targetRequestsPerSecond: global.workloads.api.targetRequestsPerSecond, p95LatencyMs: global.delivery.api.analysis.maxLatencyP95Ms });
      expect(dr.spec.trafficPolicy.connectionPool.http.http2MaxRequests).toBe(expected.maxInFlight);
    }
    // A standby region (DR sites only) has no autoscaling and serves no users: no routes, no
    // pools, no public Gateway, no tracing.
    const standby = regions.filter((r) => !isServingRegion(r.region));
    expect(standby.map((r) => r.region.name).sort()).toEqual(['ap-southeast-2', 'eu-central-1']);
    for (const r of standby) {
      const list = render(r);
      expect(r.region.autoscaling, r.region.name).toBeUndefined();
      expect(list.filter((o) => ['DestinationRule', 'VirtualService'].includes(o.kind)), r.region.name).toEqual([]);
      // It exports nothing before a promotion, and Istio refuses a Gateway server without hosts.
      expect(list.filter((o) => o.kind === 'Gateway'), r.region.name).toEqual([]);
      expect(list.filter((o) => o.metadata.namespace === namespaces.app || o.metadata.namespace === names.mesh.ingressNamespace), r.region.name).toEqual([]);
      expect(list.filter((o) => o.kind === 'Telemetry').flatMap((o) => o.spec.tracing ?? []), r.region.name).toEqual([]);
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
      // The routes lead to other charts' Services (API, web): that they exist, with their ports,
      // is checked on the whole tree (test/validate/runtime-refs.test.ts).
      const otherChartsServices = (f: { rule: string }) => f.rule === 'ref-istio-destination' || f.rule === 'ref-istio-gateway-host';
      expect(report.findings.filter((f) => !otherChartsServices(f))).toEqual([]);
      expect(report.objects).toBe(list.length);
    }
  });

  it('opens egress beyond the pod network only for the pods that need it, on their ports only, and names the hosts for meshed callers', () => {
    const external = ofKind(objects, 'NetworkPolicy').filter((o) => o.metadata.name.endsWith('-external-egress'));
    const summary = external.map((np) => [np.metadata.namespace, np.spec.podSelector.matchLabels['app.kubernetes.io/name'], np.spec.egress.flatMap((e: any) => e.ports.map((p: any) => p.port)).join(','), np.spec.egress.every((e: any) => e.to === undefined) ? 'any address' : 'peers']);
    expect(summary).toEqual([
      // The shards homed elsewhere, through their regions' east-west gateways.
      [namespaces.app, 'api', '15443', 'any address'],
      // Shard 1's home site (active): its bucket only (WAL archiving and the base-backup sidecar).
      [namespaces.data, 'postgres', '443', 'any address'],
      // Shard 2's DR site (standby): the buckets, and the active primary in us-west-2 through its
      // east-west gateway (the WAL stream).
      [namespaces.data, 'postgres', '443,15443', 'any address'],
      // Jaeger and its index cleaner to the region's trace store (elasticsearch storage).
      [namespaces.monitoring, 'jaeger', '443', 'any address'],
      [namespaces.monitoring, 'jaeger-index-cleaner', '443', 'any address'],
      // The Kubernetes API, and the kubelets' cAdvisor on the node addresses (no pod selector reaches them).
      [namespaces.monitoring, 'prometheus', '443,10250', 'any address'],
      [namespaces.monitoring, 'alertmanager', '443,587', 'any address'],
    ]);
    // Each site's policy selects that site's pods only.
    const sites = external.filter((np) => np.metadata.namespace === namespaces.data).map((np) => [np.metadata.name, np.spec.podSelector.matchLabels['cluster-name'] ?? np.spec.podSelector.matchLabels['app.kubernetes.io/instance']]);
    expect(sites).toEqual([
      ['allow-postgres-shard-1-external-egress', 'bookedbarber-postgres-shard-1'],
      ['allow-postgres-shard-2-external-egress', 'bookedbarber-postgres-shard-2-dr'],
    ]);
    for (const np of external) expect(np.spec.policyTypes).toEqual(['Egress']);
    // Buckets by their regional virtual-hosted names only, no global endpoint: the region's own,
    // and the archive of the active site each hosted standby site falls back to (us-west-2, same
    // residency). No other bucket.
    const storage = find(objects, 'ServiceEntry', 'external-hosts-443', namespaces.data);
    expect(storage.spec.hosts).toEqual([
      `bookedbarber-pitr-${plan.region.name}.s3.${plan.region.name}.amazonaws.com`,
      'bookedbarber-pitr-us-west-2.s3.us-west-2.amazonaws.com',
    ]);
    expect(storage.spec.exportTo).toEqual(['.']);
  });
});
