/**
 * The traffic flow table (charts/lib/flows.ts): exactly the flows issue #3 item 4 allows, with
 * the identities and ports the other charts use. Guards issue #3 items 4 and 6.
 */
import { describe, expect, it } from 'vitest';
import { checkFlows, type Flow, flowPeers, ISTIO_AGENT_METRICS_PORT, ownedNamespaces, principalOf, trafficFlows } from '../../charts/lib/flows';
import { regionPlan, shippedPlan } from '../support/charts';

const plan = regionPlan('us-east-1');
const { names, namespaces, global } = plan;
const flows = trafficFlows(plan);

/** `from → to: ports`, with peers as `<namespace>/<name>`. */
const summary = (f: Flow) =>
  `${f.from.namespace}/${f.from.name} -> ${f.to.namespace}/${f.to.name}: ${f.ports.map((p) => p.port).join(',')}`;

describe('trafficFlows', () => {
  it('allows exactly the listed flows: issue #3 (ingress gateway → web and API, web → API, API → PgBouncer and Redis, Prometheus → metrics ports), then the data tier and tracing', () => {
    const api = global.workloads.api.port;
    const web = global.workloads.web.port;
    const mon = namespaces.monitoring;
    expect(flows.map(summary)).toEqual([
      `istio-ingress/ingress-gateway -> bookedbarber-app/web: ${web}`,
      `istio-ingress/ingress-gateway -> bookedbarber-app/api: ${api}`,
      `bookedbarber-app/web -> bookedbarber-app/api: ${api}`,
      'bookedbarber-app/api -> bookedbarber-data/pgbouncer: 6432',
      'bookedbarber-app/api -> bookedbarber-data/redis: 6379,26379',
      `bookedbarber-monitoring/prometheus -> bookedbarber-app/api: ${names.api.metricsPort},15020`,
      `bookedbarber-monitoring/prometheus -> bookedbarber-app/web: ${names.web.metricsPort},15020`,
      'bookedbarber-data/pgbouncer -> bookedbarber-data/postgres: 5432',
      'bookedbarber-data/postgres -> bookedbarber-data/postgres: 5432,8008',
      'bookedbarber-data/postgres-backup -> bookedbarber-data/postgres: 5432',
      'bookedbarber-monitoring/prometheus -> bookedbarber-data/postgres: 9187,15020',
      'bookedbarber-monitoring/prometheus -> bookedbarber-data/pgbouncer: 9127,15020',
      `argo-rollouts/argo-rollouts -> ${mon}/prometheus: 9090`,
      `prometheus-adapter/prometheus-adapter -> ${mon}/prometheus: 9090`,
      `monitoring-system/grafana -> ${mon}/prometheus: 9090`,
      `${mon}/prometheus -> ${mon}/prometheus: 9090`,
      `${mon}/prometheus -> ${mon}/alertmanager: 9093`,
      `${mon}/alertmanager -> ${mon}/alertmanager: 9094`,
      'bookedbarber-data/redis -> bookedbarber-data/redis: 6379,6380,26379',
      'bookedbarber-monitoring/prometheus -> bookedbarber-data/redis: 9121,8404,15020',
      `bookedbarber-app/api -> ${mon}/otel-collector: 4317,4318`,
      `bookedbarber-app/web -> ${mon}/otel-collector: 4317,4318`,
      `istio-ingress/ingress-gateway -> ${mon}/otel-collector: 4317`,
      `bookedbarber-data/pgbouncer -> ${mon}/otel-collector: 4317`,
      `bookedbarber-data/redis -> ${mon}/otel-collector: 4317`,
      `${mon}/otel-collector -> ${mon}/otel-sampler: 4317`,
      `${mon}/otel-sampler -> ${mon}/jaeger: 4317`,
      `${mon}/prometheus -> ${mon}/otel-collector: 8888,15020`,
      `${mon}/prometheus -> ${mon}/otel-sampler: 8888,15020`,
      `${mon}/prometheus -> ${mon}/jaeger: 14269,15020`,
    ]);
  });

  it('names every caller by the service account its pods run as (SPIFFE principal)', () => {
    const principals = [...new Set(flows.map((f) => principalOf(f.from)))];
    expect(principals).toEqual([
      'cluster.local/ns/istio-ingress/sa/istio-ingressgateway',
      `cluster.local/ns/${namespaces.app}/sa/${names.web.serviceAccount}`,
      `cluster.local/ns/${namespaces.app}/sa/${names.api.serviceAccount}`,
      `cluster.local/ns/${namespaces.monitoring}/sa/${names.monitoring.prometheusServiceAccount}`,
      `cluster.local/ns/${namespaces.data}/sa/pgbouncer`,
      `cluster.local/ns/${namespaces.data}/sa/bookedbarber-postgres-shard-1`,
      `cluster.local/ns/${namespaces.data}/sa/bookedbarber-postgres-shard-1-backup`,
      'cluster.local/ns/argo-rollouts/sa/argo-rollouts',
      'cluster.local/ns/prometheus-adapter/sa/prometheus-adapter',
      'cluster.local/ns/monitoring-system/sa/kube-prometheus-stack-grafana',
      `cluster.local/ns/${namespaces.monitoring}/sa/alertmanager`,
      `cluster.local/ns/${namespaces.data}/sa/bookedbarber-redis`,
      `cluster.local/ns/${namespaces.monitoring}/sa/bookedbarber-otel-collector`,
      `cluster.local/ns/${namespaces.monitoring}/sa/bookedbarber-otel-sampler`,
    ]);
  });

  it('selects pods by app.kubernetes.io/name only (robust to instance/component changes), the gateway by its chart labels', () => {
    const peers = flowPeers(plan);
    expect(peers.api.podLabels).toEqual({ 'app.kubernetes.io/name': 'api' });
    expect(peers.web.podLabels).toEqual({ 'app.kubernetes.io/name': 'web' });
    expect(peers.pgbouncer.podLabels).toEqual({ 'app.kubernetes.io/name': names.data.pgbouncerApp });
    expect(peers.redis.podLabels).toEqual({ 'app.kubernetes.io/name': names.data.redisApp });
    expect(peers.ingressGateway).toMatchObject({ namespace: names.mesh.ingressNamespace, podLabels: names.mesh.ingressSelector });
  });

  it('lets Prometheus scrape the merged metrics endpoint of the sidecar agent (STRICT mTLS refuses plain-text scrapes)', () => {
    expect(ISTIO_AGENT_METRICS_PORT).toBe(15020);
    // Scrapes only: Prometheus also calls itself (HA self-scrape) and Alertmanager on their own ports.
    for (const f of flows.filter((x) => x.from.kind === 'prometheus' && x.to.kind !== 'prometheus' && x.to.name !== 'alertmanager')) {
      expect(f.ports.map((p) => p.port)).toContain(15020);
    }
  });

  it('every flow ends in a namespace we own and has a reason', () => {
    const owned = ownedNamespaces(plan);
    for (const f of flows) {
      expect(owned).toContain(f.to.namespace);
      expect(f.why.length).toBeGreaterThan(20);
    }
  });

  it('is the same table in every region (names come from the plan, not the region)', () => {
    const all = shippedPlan().regions.map((r) => trafficFlows(r).map(summary));
    for (const table of all) expect(table).toEqual(all[0]);
  });

  describe('refuses a broken table, naming the values', () => {
    const [first] = flows;
    it('a flow name used twice', () => expect(() => checkFlows(plan, [first, first])).toThrow(`flow name ${first.name} is used twice`));
    it('a destination outside our namespaces', () =>
      expect(() => checkFlows(plan, [{ ...first, to: { ...first.to, namespace: 'kube-system' } }])).toThrow(/destination namespace \(kube-system\) must be one we render/));
    it('no ports', () => expect(() => checkFlows(plan, [{ ...first, ports: [] }])).toThrow(`flow ${first.name} has no ports`));
    it('a port twice', () =>
      expect(() => checkFlows(plan, [{ ...first, ports: [...first.ports, ...first.ports] }])).toThrow(/lists a port twice \(8080, 8080\)/));
  });
});
