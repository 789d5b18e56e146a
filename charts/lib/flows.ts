/**
 * The traffic flow table: every connection the platform allows between pods, in one place.
 *
 * Both enforcement layers are generated from this table (charts/mesh/flow-policies.ts):
 * Istio AuthorizationPolicies (L7, by mTLS identity) and Kubernetes NetworkPolicies (L3/4, by
 * pod labels, both the ingress side and the egress side). A flow that is not here is denied
 * twice: by the `deny-all` AuthorizationPolicy and by the namespaces chart's default-deny
 * NetworkPolicy. To open a path, add one entry here, never a hand-written policy.
 *
 * Not in the table on purpose:
 * - cluster DNS and istiod (xDS, certificates on 15012): the namespaces chart allows them for
 *   every pod;
 * - kubelet health probes: Istio's probe rewrite sends them to the sidecar's agent on 15020
 *   from the node, which NetworkPolicy implementations admit from the node itself and which no
 *   AuthorizationPolicy sees (the agent port is not captured by the sidecar).
 */
import type { RegionPlan } from '../../regions/plan';
import { LABELS } from './labels';
import { PGBOUNCER_EXPORTER_PORT } from '../pgbouncer/config';
import { POSTGRES_PORTS, postgresNames } from '../postgres/names';
import { EXPORTER_PORT, PROXY_METRICS_PORT, PROXY_REPLICA_PORT, redisServiceAccount } from '../redis/topology';
import { OTLP_GRPC_PORT, OTLP_HTTP_PORT } from './otel';
import { COLLECTOR_METRICS_PORT, JAEGER_PORTS, tracingNames } from '../tracing/names';

/**
 * Where a flow starts or ends.
 * - `ingress-gateway`: the Istio ingress gateway (namespace owned by the Istio add-on, not us);
 * - `workload`: one of our workloads, selected by its `app.kubernetes.io/name`;
 * - `prometheus`: the region's Prometheus (pods created by prometheus-operator).
 */
export type FlowPeerKind = 'ingress-gateway' | 'workload' | 'prometheus';

export interface FlowPeer {
  readonly kind: FlowPeerKind;
  /** Short name used in object names (`web`, `api`, `ingress-gateway`, ...). */
  readonly name: string;
  readonly namespace: string;
  /** Labels selecting the pods: NetworkPolicy podSelector and AuthorizationPolicy selector. */
  readonly podLabels: Readonly<Record<string, string>>;
  /** Service account of the pods: their mesh identity (SPIFFE principal) as a caller. */
  readonly serviceAccount: string;
}

export interface FlowPort {
  readonly port: number;
  /** What the port serves; documentation and object names only (policies use the number). */
  readonly name: string;
}

export interface Flow {
  /** Unique, DNS-label safe: names the policies generated from it (`allow-<name>`). */
  readonly name: string;
  readonly from: FlowPeer;
  readonly to: FlowPeer;
  /** Destination pod ports (after Service port translation: what the pod listens on). */
  readonly ports: readonly FlowPort[];
  /** Why the flow exists; rendered as an annotation on every policy generated from it. */
  readonly why: string;
}

/**
 * The mesh's trust domain. Istio's default; the Istio add-on must not change
 * `meshConfig.trustDomain`, or every principal below stops matching.
 */
const TRUST_DOMAIN = 'cluster.local';

/**
 * Port of the sidecar's pilot-agent that serves Istio's merged Prometheus endpoint
 * (`/stats/prometheus`: the application's own metrics plus Envoy's). It is excluded from the
 * sidecar's inbound capture, so it is reachable in plain text even under STRICT mTLS.
 */
export const ISTIO_AGENT_METRICS_PORT = 15020;

/** SPIFFE identity of a peer's pods, as AuthorizationPolicy `source.principals` spells it. */
export function principalOf(peer: FlowPeer): string {
  return `${TRUST_DOMAIN}/ns/${peer.namespace}/sa/${peer.serviceAccount}`;
}

/** The namespaces this repository renders (and therefore guards): app, data, monitoring. */
export function ownedNamespaces(plan: RegionPlan): string[] {
  return [plan.namespaces.app, plan.namespaces.data, plan.namespaces.monitoring];
}

export interface FlowPeers {
  readonly ingressGateway: FlowPeer;
  readonly web: FlowPeer;
  readonly api: FlowPeer;
  readonly pgbouncer: FlowPeer;
  readonly redis: FlowPeer;
  readonly prometheus: FlowPeer;
  readonly otelCollector: FlowPeer;
  readonly otelSampler: FlowPeer;
  readonly jaeger: FlowPeer;
}

/** The peers of a region, from the names the plan computes once. */
export function flowPeers(plan: RegionPlan): FlowPeers {
  const { names, namespaces } = plan;
  const tracing = tracingNames(plan);
  const workload = (name: string, namespace: string, serviceAccount: string): FlowPeer => ({
    kind: 'workload',
    name,
    namespace,
    podLabels: { [LABELS.name]: name },
    serviceAccount,
  });
  return {
    ingressGateway: {
      kind: 'ingress-gateway',
      name: 'ingress-gateway',
      namespace: names.mesh.ingressNamespace,
      podLabels: { ...names.mesh.ingressSelector },
      serviceAccount: names.mesh.ingressServiceAccount,
    },
    web: workload(names.web.app, namespaces.app, names.web.serviceAccount),
    api: workload(names.api.app, namespaces.app, names.api.serviceAccount),
    // The data charts run PgBouncer and Redis under these names (their service accounts only
    // matter once they call something); the data tier's own flows (PgBouncer → Postgres,
    // Sentinel ↔ Redis, exporters) are added here with those charts.
    pgbouncer: workload(names.data.pgbouncerApp, namespaces.data, names.data.pgbouncerApp),
    redis: workload(names.data.redisApp, namespaces.data, redisServiceAccount(plan)),
    prometheus: {
      kind: 'prometheus',
      name: 'prometheus',
      namespace: namespaces.monitoring,
      // prometheus-operator labels every Prometheus pod it creates with this.
      podLabels: { [LABELS.name]: 'prometheus' },
      serviceAccount: names.monitoring.prometheusServiceAccount,
    },
    otelCollector: workload(tracing.collector.app, tracing.namespace, tracing.collector.serviceAccount),
    otelSampler: workload(tracing.sampler.app, tracing.namespace, tracing.sampler.serviceAccount),
    jaeger: workload(tracing.jaeger.app, tracing.namespace, tracing.jaeger.serviceAccount),
  };
}

/** Every allowed flow of a region. The order is the order the policies render in. */
export function trafficFlows(plan: RegionPlan): readonly Flow[] {
  const { names, global } = plan;
  const p = flowPeers(plan);
  const apiPort = { port: global.workloads.api.port, name: 'http' };
  const webPort = { port: global.workloads.web.port, name: 'http' };
  const scrape = (metricsPort: number): FlowPort[] => [
    { port: metricsPort, name: 'metrics' },
    { port: ISTIO_AGENT_METRICS_PORT, name: 'istio-merged-metrics' },
  ];
  const flows: Flow[] = [
    {
      name: 'ingress-gateway-to-web',
      from: p.ingressGateway,
      to: p.web,
      ports: [webPort],
      why: `Public HTTPS for ${global.ingress.webHost} terminates at the ingress gateway, which forwards to the web front end.`,
    },
    {
      name: 'ingress-gateway-to-api',
      from: p.ingressGateway,
      to: p.api,
      ports: [apiPort],
      why: `Public HTTPS for ${global.ingress.apiHost} terminates at the ingress gateway, which forwards to the API.`,
    },
    {
      name: 'web-to-api',
      from: p.web,
      to: p.api,
      ports: [apiPort],
      why: 'Server-side rendering calls the API inside the mesh (through the API VirtualService, so canary weights apply).',
    },
    {
      name: 'api-to-pgbouncer',
      from: p.api,
      to: p.pgbouncer,
      ports: [{ port: names.data.pgbouncerPort, name: 'postgres' }],
      why: 'The API reaches Postgres only through PgBouncer, which caps server connections per shard.',
    },
    {
      name: 'api-to-redis',
      from: p.api,
      to: p.redis,
      ports: [
        { port: names.data.redisPort, name: 'redis' },
        { port: names.data.sentinelPort, name: 'sentinel' },
      ],
      why: 'Cache, sessions and rate limits in Redis; the client asks Sentinel which pod is the current master.',
    },
    {
      name: 'prometheus-to-api',
      from: p.prometheus,
      to: p.api,
      ports: scrape(names.api.metricsPort),
      why: METRICS_WHY,
    },
    {
      name: 'prometheus-to-web',
      from: p.prometheus,
      to: p.web,
      ports: scrape(names.web.metricsPort),
      why: METRICS_WHY,
    },
    ...postgresFlows(plan, p, scrape),
    {
      name: 'prometheus-to-pgbouncer',
      from: p.prometheus,
      to: p.pgbouncer,
      ports: scrape(PGBOUNCER_EXPORTER_PORT.port),
      why: METRICS_WHY,
    },
    ...monitoringFlows(plan, p),
    {
      name: 'redis-to-redis',
      from: p.redis,
      to: p.redis,
      ports: [
        { port: names.data.redisPort, name: 'redis' },
        { port: PROXY_REPLICA_PORT, name: 'redis-replica' },
        { port: names.data.sentinelPort, name: 'sentinel' },
      ],
      why: 'Replication, Sentinel monitoring and votes, start scripts asking Sentinel which pod is master, and the sessions proxy checking its backends.',
    },
    {
      name: 'prometheus-to-redis',
      from: p.prometheus,
      to: p.redis,
      ports: [
        { port: EXPORTER_PORT, name: 'redis-exporter' },
        { port: PROXY_METRICS_PORT, name: 'proxy-metrics' },
        { port: ISTIO_AGENT_METRICS_PORT, name: 'istio-merged-metrics' },
      ],
      why: METRICS_WHY,
    },
    ...[p.api, p.web].map(
      (from): Flow => ({
        name: `${from.name}-to-otel-collector`,
        from,
        to: p.otelCollector,
        ports: [
          { port: OTLP_GRPC_PORT, name: 'otlp-grpc' },
          { port: OTLP_HTTP_PORT, name: 'otlp-http' },
        ],
        why: 'Traces: the app SDK exports OTLP/HTTP and the sidecar (Istio Telemetry, provider otel-tracing) OTLP/gRPC to the collector.',
      }),
    ),
    ...[p.ingressGateway, p.pgbouncer, p.redis].map(
      (from): Flow => ({
        name: `${from.name}-to-otel-collector`,
        from,
        to: p.otelCollector,
        ports: [{ port: OTLP_GRPC_PORT, name: 'otlp-grpc' }],
        why: 'Traces: Envoy spans of the sidecar (the ingress gateway\'s are the root spans) go to the collector over OTLP/gRPC.',
      }),
    ),
    {
      name: 'otel-collector-to-otel-sampler',
      from: p.otelCollector,
      to: p.otelSampler,
      ports: [{ port: OTLP_GRPC_PORT, name: 'otlp-grpc' }],
      why: 'The gateway collectors route every span of a trace, by trace ID, to one tail-sampling pod.',
    },
    {
      name: 'otel-sampler-to-jaeger',
      from: p.otelSampler,
      to: p.jaeger,
      ports: [{ port: OTLP_GRPC_PORT, name: 'otlp-grpc' }],
      why: 'Sampled traces are stored in Jaeger.',
    },
    ...[p.otelCollector, p.otelSampler].map(
      (to): Flow => ({
        name: `prometheus-to-${to.name}`,
        from: p.prometheus,
        to,
        ports: scrape(COLLECTOR_METRICS_PORT),
        why: METRICS_WHY,
      }),
    ),
    {
      name: 'prometheus-to-jaeger',
      from: p.prometheus,
      to: p.jaeger,
      ports: scrape(JAEGER_PORTS.admin),
      why: METRICS_WHY,
    },
  ];
  checkFlows(plan, flows);
  return flows;
}

/**
 * Flows into the monitoring stack. Prometheus and Alertmanager run outside the mesh (their
 * callers are add-ons outside it too), so only the NetworkPolicy half of these flows enforces
 * anything; the AuthorizationPolicy half stays inert until they are meshed. Callers:
 * the Argo Rollouts controller (release analyses), prometheus-adapter (the API HPA's
 * requests-per-second metric) and Grafana (dashboards) query Prometheus; Prometheus sends
 * alerts to Alertmanager; the Alertmanager replicas gossip with each other.
 */
function monitoringFlows(plan: RegionPlan, p: FlowPeers): Flow[] {
  const namespace = plan.namespaces.monitoring;
  const addon = (name: string, ns: string, serviceAccount: string): FlowPeer => ({
    kind: 'workload',
    name,
    namespace: ns,
    podLabels: { [LABELS.name]: name },
    serviceAccount,
  });
  const alertmanager = addon('alertmanager', namespace, 'alertmanager');
  const prometheusApi = [{ port: 9090, name: 'prometheus-http' }];
  const queriers: FlowPeer[] = [
    addon('argo-rollouts', 'argo-rollouts', 'argo-rollouts'),
    addon('prometheus-adapter', 'prometheus-adapter', 'prometheus-adapter'),
    addon('grafana', 'monitoring-system', 'kube-prometheus-stack-grafana'),
    p.prometheus,
  ];
  return [
    ...queriers.map(
      (from): Flow => ({
        name: `${from.name}-to-prometheus`,
        from,
        to: p.prometheus,
        ports: prometheusApi,
        why: 'Queries: release analyses (Argo Rollouts), the HPA metric (prometheus-adapter), dashboards (Grafana), and the HA pair scraping itself.',
      }),
    ),
    {
      name: 'prometheus-to-alertmanager',
      from: p.prometheus,
      to: alertmanager,
      ports: [{ port: 9093, name: 'alertmanager-http' }],
      why: 'Prometheus sends firing alerts to every Alertmanager replica.',
    },
    {
      name: 'alertmanager-cluster',
      from: alertmanager,
      to: alertmanager,
      ports: [{ port: 9094, name: 'alertmanager-gossip' }],
      why: 'Alertmanager replicas gossip silences and notification state (TCP part of the memberlist protocol).',
    },
  ];
}

/**
 * Flows of the Postgres shards homed in the region. Each shard's pods run as their own service
 * account, so every shard gets its own entries: PgBouncer → Postgres, Patroni members to each
 * other (streaming replication, pg_rewind and the Patroni REST API), the base-backup Job →
 * Postgres, and Prometheus → postgres_exporter.
 */
function postgresFlows(plan: RegionPlan, p: FlowPeers, scrape: (port: number) => FlowPort[]): Flow[] {
  const namespace = plan.namespaces.data;
  const postgresPort = { port: POSTGRES_PORTS.postgres.port, name: 'postgres' };
  const pod = (name: string, serviceAccount: string): FlowPeer => ({
    kind: 'workload',
    name,
    namespace,
    podLabels: { [LABELS.name]: name },
    serviceAccount,
  });
  return plan.region.shards.flatMap((shard) => {
    const n = postgresNames(plan, shard.id);
    const postgres = pod('postgres', n.serviceAccount);
    const backup = pod('postgres-backup', n.backupServiceAccount);
    return [
      {
        name: `pgbouncer-to-postgres-shard-${shard.id}`,
        from: p.pgbouncer,
        to: postgres,
        ports: [postgresPort],
        why: 'PgBouncer pools server connections to the shard (read-write to the primary, read-only to the replicas).',
      },
      {
        name: `postgres-shard-${shard.id}-members`,
        from: postgres,
        to: postgres,
        ports: [postgresPort, { port: POSTGRES_PORTS.patroni.port, name: 'patroni' }],
        why: 'Patroni members: streaming replication and pg_rewind on 5432, leader race and health on the Patroni REST API.',
      },
      {
        name: `postgres-shard-${shard.id}-backup`,
        from: backup,
        to: postgres,
        ports: [postgresPort],
        why: 'The base-backup Job streams a backup over the replication protocol (WAL-G remote mode).',
      },
      {
        name: `prometheus-to-postgres-shard-${shard.id}`,
        from: p.prometheus,
        to: postgres,
        ports: scrape(POSTGRES_PORTS.metrics.port),
        why: METRICS_WHY,
      },
    ];
  });
}

/**
 * Why Prometheus gets two ports. Under STRICT mTLS a plain-text scrape of the metrics port is
 * refused by the sidecar, so Prometheus scrapes Istio's merged endpoint on the agent port
 * (15020, not captured by the sidecar, `enablePrometheusMerge`, Istio's default). The metrics
 * port itself stays open for a Prometheus that scrapes over mTLS with its own workload
 * certificate (Istio's "Prometheus with mTLS" setup): then this AuthorizationPolicy checks its
 * identity. On 15020 only the NetworkPolicy guards: the AuthorizationPolicy rule is inert
 * there because the sidecar never sees that traffic.
 */
const METRICS_WHY =
  'Prometheus scrapes the pods: the metrics port over mTLS, or Istio\'s merged metrics endpoint on the sidecar agent port 15020 (plain text, outside the sidecar, so STRICT mTLS does not refuse it).';

/** Table invariants: unique names, destinations we own, no empty or duplicate ports. */
export function checkFlows(plan: RegionPlan, flows: readonly Flow[]): void {
  const owned = new Set(ownedNamespaces(plan));
  const seen = new Set<string>();
  for (const flow of flows) {
    if (seen.has(flow.name)) throw new Error(`flow name ${flow.name} is used twice`);
    seen.add(flow.name);
    if (!owned.has(flow.to.namespace)) {
      throw new Error(`flow ${flow.name}: destination namespace (${flow.to.namespace}) must be one we render (${[...owned].join(', ')})`);
    }
    if (flow.ports.length === 0) throw new Error(`flow ${flow.name} has no ports`);
    const ports = flow.ports.map((x) => x.port);
    if (new Set(ports).size !== ports.length) throw new Error(`flow ${flow.name} lists a port twice (${ports.join(', ')})`);
  }
}
