/**
 * Every runtime connection a region needs, declared once: who calls what, on which port, how it
 * knows the address, which Secret keys it logs in with, and why.
 *
 * Two things are built from this list and nothing else:
 * - the policies (charts/wiring/policies.ts, rendered by the mesh chart): an ALLOW
 *   AuthorizationPolicy per meshed caller, NetworkPolicies on both ends, Sidecar egress hosts and
 *   ServiceEntries for outside hosts. A connection that is not here is denied twice.
 * - the wiring check (tools/validate/wiring/, run by every synth), which walks each connection
 *   hop by hop over the rendered YAML and fails on the first broken hop, and fails on any
 *   allow rule that carries none of these connections.
 *
 * Not here: kubelet probes (Istio rewrites them to the sidecar agent, outside every policy) and
 * connections inside one pod (exporters reading their server over loopback or a socket).
 */
import type { RegionPlan } from '../../regions/plan';
import { type Connection, type Credential, type Peer, serviceHost, spiffeId } from '../../regions/wiring';
import { EAST_WEST_GATEWAY, TRUST_DOMAIN } from '../lib/mesh-network';
import { ISTIO_AGENT_METRICS_PORT, ISTIOD_MONITORING, KUBE_STATE_METRICS, KUBELET } from '../lib/monitoring-targets';
import { CREDENTIAL_PROPERTIES, POSTGRES_PORTS, postgresGlobalHost, postgresNames } from '../postgres/names';
import { activeBucketHost, activeSiteOf } from '../postgres/site-topology';
import { isServingRegion } from '../../regions/model';
import { regionNamespaces, type HostedShard } from '../../regions/plan';
import { objectStorageEndpoint, walgCredentials } from '../postgres/walg';
import { BASE_BACKUP_CONTAINER } from '../postgres/backup';
import { isPrimaryRegion, primaryRegionOf, REDIS_TIERS, type RedisTierKey, redisTopology, sessionsProxyNames, TIER_SLUG } from '../redis/topology';
import { OTLP_GRPC_PORT, OTLP_HTTP_PORT } from '../lib/otel';
import { elasticsearchFromConfig, JAEGER_PORTS, tracingNames } from '../tracing/names';
import { LABELS } from '../lib/labels';
import { regionPeers, type RegionPeers } from './peers';
import { apiDatabaseSecret, apiRedisPasswordEnv } from '../api/client';

/** Port of the Kubernetes API server endpoints behind the `kubernetes` Service (EKS). */
export const KUBE_API_PORT = 443;
const HTTPS = 443;


export function declaredConnections(plan: RegionPlan): Connection[] {
  const p = regionPeers(plan);
  // A standby region runs the data tier's DR sites and their monitoring, nothing users reach.
  if (!isServingRegion(plan.region)) {
    return [...siteConnections(plan, p), ...monitoringConnections(plan, p), ...guardrailConnections(plan, p)];
  }
  return [
    ...edgeConnections(plan, p),
    ...apiDatabaseConnections(plan, p),
    ...siteConnections(plan, p),
    ...redisConnections(plan, p),
    ...tracingConnections(plan, p),
    ...monitoringConnections(plan, p),
    ...guardrailConnections(plan, p),
  ];
}

const tcp = (c: Omit<Connection, 'protocol'>): Connection => ({ ...c, protocol: 'TCP' });
/** A host of another region, reached through that region's east-west gateway. */
/** A sidecar of another region, by its global name, through that region's east-west gateway; `server` is who must answer. */
const remote = (host: string, port: number, gateway: string, server: Peer) => ({
  kind: 'external' as const, host, port, through: { host: gateway, port: EAST_WEST_GATEWAY.port }, identity: spiffeId(TRUST_DOMAIN, server.namespace, server.serviceAccount),
});
const service = (host: string, port: number, server: Peer, podPort = port) => ({ kind: 'service' as const, host, port, server, podPort });
const pods = (server: Peer, podPort: number, via: string) => ({ kind: 'pod' as const, server, podPort, via });
const config = { kind: 'config' } as const;
const discovered = (how: string) => ({ kind: 'discovered', how }) as const;

/** Public traffic through the ingress gateway, and the web front end calling the API. */
function edgeConnections(plan: RegionPlan, p: RegionPeers): Connection[] {
  const { names, namespaces, global } = plan;
  const apiPort = global.workloads.api.port;
  const webPort = global.workloads.web.port;
  const routed = discovered('Gateway and VirtualService routes (mesh.yaml)');
  return [
    tcp({ name: 'ingress-gateway-to-web', from: p.ingressGateway, to: service(serviceHost(names.web.activeService, namespaces.app), webPort, p.web), discovery: routed,
      why: `Public HTTPS for ${global.ingress.webHost} terminates at the ingress gateway, which forwards to the web front end.` }),
    tcp({ name: 'ingress-gateway-to-api', from: p.ingressGateway, to: service(serviceHost(names.api.stableService, namespaces.app), apiPort, p.api), discovery: routed,
      why: `Public HTTPS for ${global.ingress.apiHost} terminates at the ingress gateway, which forwards to the API.` }),
    tcp({ name: 'web-to-api', from: p.web, to: service(serviceHost(names.api.stableService, namespaces.app), apiPort, p.api), discovery: config,
      why: 'Server-side rendering calls the API inside the mesh (through the API VirtualService, so canary weights apply).' }),
    tcp({ name: 'api-load-test-to-api-canary', from: p.apiLoadTest, to: service(serviceHost(names.api.canaryService, namespaces.app), apiPort, p.api), discovery: config,
      why: `The canary's load test (k6, an analysis Job of the Rollout) drives the canary Service alone at delivery.api.loadTest.requestsPerSecond before the canary goes past 50 %.` }),
    tcp({ name: 'web-smoke-test-to-web-preview', from: p.webSmokeTest, to: service(serviceHost(names.web.previewService, namespaces.app), webPort, p.web), discovery: config,
      why: 'The smoke-test suite (an analysis Job of the web Rollout) checks the preview stack before the switch; nothing else reaches the preview.' }),
  ];
}

/** The API to every shard of the routing map (read-write and read-only pools), local or through the mesh. */
function apiDatabaseConnections(plan: RegionPlan, p: RegionPeers): Connection[] {
  const out: Connection[] = [];
  for (const route of plan.shardRoutes) {
    const credentials: Credential[] = [{ secret: apiDatabaseSecret(plan), key: `shard-${route.shard}`, mounted: true, container: 'api' }];
    for (const [pool, endpoint] of [['rw', route.readWrite], ['ro', route.readOnly]] as const) {
      const why = `Franchises ${route.first}–${route.last} live on shard ${route.shard} (active in ${route.activeRegion}); the ${pool === 'rw' ? 'read-write' : 'read-only'} pool is database ${endpoint.database}.`;
      out.push(route.local
        ? tcp({ name: `api-to-pgbouncer-shard-${route.shard}-${pool}`, from: p.api, to: service(endpoint.host, endpoint.port, p.pgbouncer(route.shard)), discovery: config, credentials, why })
        : tcp({ name: `api-to-pgbouncer-shard-${route.shard}-${pool}`, from: p.api, to: remote(endpoint.host, endpoint.port, route.activeGateway, p.pgbouncer(route.shard)), discovery: config, credentials, why }));
    }
  }
  return out;
}

/**
 * The shard sites this region runs: the other regions' APIs to the active ones, PgBouncer to its
 * Postgres, the Patroni members to each other and to the Kubernetes API, WAL-G (archiving and
 * the base-backup sidecar) to object storage, the topology Job to the leader, and the two sites of a shard to
 * each other across regions (the standby leader streams from the active primary).
 */
function siteConnections(plan: RegionPlan, p: RegionPeers): Connection[] {
  const { region } = plan;
  const out: Connection[] = [];
  // The other regions' APIs reach the shards active here through this region's east-west gateway.
  for (const shard of plan.hostedShards.filter((h) => h.active).map((h) => h.config)) {
    const globalHost = plan.names.data.remoteShardHost(shard.id, region.name);
    out.push(tcp({
      name: `remote-api-to-pgbouncer-shard-${shard.id}`, from: p.remoteApi,
      to: service(serviceHost(plan.names.data.pgbouncer(shard.id), plan.namespaces.data), plan.names.data.pgbouncerPort, p.pgbouncer(shard.id)),
      discovery: discovered(`the global name ${globalHost}, exported here by a ServiceEntry`),
      arrivesThrough: { gateway: p.eastWestGateway, globalHost },
      why: `Every other region's API serves franchises ${shard.franchises.first}–${shard.franchises.last} too: it reaches shard ${shard.id} by its global name.`,
    }));
  }
  const objectStorage = objectStorageEndpoint(plan);
  for (const hosted of plan.hostedShards) {
    const shard = hosted.config;
    const n = postgresNames(plan, shard.id);
    const postgres = p.postgres(shard.id);
    const pgPort = POSTGRES_PORTS.postgres.port;
    const s3 = { kind: 'external' as const, host: objectStorage.host, port: HTTPS };
    out.push(
      tcp({ name: `pgbouncer-shard-${shard.id}-to-postgres-rw`, from: p.pgbouncer(shard.id), to: service(n.readWriteHost, pgPort, postgres), discovery: config,
        why: 'PgBouncer pools server connections to the primary (read-write Service: spilo-role=master).' }),
      tcp({ name: `pgbouncer-shard-${shard.id}-to-postgres-ro`, from: p.pgbouncer(shard.id), to: service(n.readOnlyHost, pgPort, postgres), discovery: config,
        why: 'PgBouncer pools server connections to the streaming replicas (read-only Service: spilo-role=replica).' }),
      tcp({ name: `postgres-shard-${shard.id}-replication`, from: postgres, to: pods(postgres, pgPort, 'Patroni: the leader\'s connect_address (pod IP) in the DCS'), discovery: discovered('Patroni reads the leader\'s address from the Kubernetes API'),
        why: 'Streaming replication and pg_rewind from the replicas to the primary.' }),
      tcp({ name: `postgres-shard-${shard.id}-patroni-api`, from: postgres, to: pods(postgres, POSTGRES_PORTS.patroni.port, 'Patroni: each member\'s api_url (pod IP) in the DCS'), discovery: discovered('Patroni reads the members\' REST API addresses from the Kubernetes API'),
        why: 'Patroni members compare WAL positions over the REST API during a leader race.' }),
      tcp({ name: `postgres-shard-${shard.id}-to-kubernetes-api`, from: postgres, to: { kind: 'kubernetes-api', port: KUBE_API_PORT, container: 'postgres' }, discovery: discovered('in-cluster config (KUBERNETES_SERVICE_HOST)'),
        why: 'Patroni keeps the leader lock and the member state in the Kubernetes API (ConfigMaps, pod labels).' }),
      tcp({ name: `postgres-shard-${shard.id}-to-object-storage`, from: postgres, to: s3, discovery: { kind: 'config', names: objectStorage.endpoint },
        credentials: [...walgCredentials(plan, n, 'postgres'), ...walgCredentials(plan, n, BASE_BACKUP_CONTAINER)],
        why: `WAL-G archives every WAL segment (archive_timeout bounds the RPO) and restores from ${plan.region.backup.bucket}; the leader's base-backup sidecar pushes base backups there and prunes to retainFullBackups.` }),
      tcp({ name: `postgres-shard-${shard.id}-topology-to-patroni`, from: p.postgresTopology(shard.id), to: service(n.readWriteHost, POSTGRES_PORTS.patroni.port, postgres), discovery: config,
        credentials: [{ secret: n.credentialsSecret, key: CREDENTIAL_PROPERTIES.patroniApiPassword, env: 'PATRONI_PASSWORD', container: 'topology' }],
        why: `After every sync the topology Job PATCHes the site's role (${hosted.active ? 'active primary' : 'standby cluster'}) into Patroni through the leader's REST API.` }),
    );
    out.push(...crossSiteConnections(plan, p, hosted));
  }
  return out;
}

/** The two sites of a shard: the standby leader streams from the active primary through both regions' gateways. */
function crossSiteConnections(plan: RegionPlan, p: RegionPeers, hosted: HostedShard): Connection[] {
  const id = hosted.config.id;
  const n = postgresNames(plan, id);
  const pgPort = POSTGRES_PORTS.postgres.port;
  if (hosted.active) {
    const globalHost = postgresGlobalHost(plan.global.platform.name, id, hosted.site, plan.region.name);
    return [tcp({
      name: `remote-standby-to-postgres-shard-${id}`, from: p.remotePostgres(id), to: service(n.readWriteHost, pgPort, p.postgres(id)),
      discovery: discovered(`the global name ${globalHost}, exported here by a ServiceEntry`),
      arrivesThrough: { gateway: p.eastWestGateway, globalHost },
      why: `The standby leader of the shard's ${hosted.peer.site} site (${hosted.peer.region}) streams WAL from this primary: the DR copy within the RPO.`,
    })];
  }
  const active = activeSiteOf(plan, hosted);
  return [
    tcp({ name: `postgres-shard-${id}-stream-from-active-site`, from: p.postgres(id), to: remote(active.globalHost, pgPort, active.eastWestGateway, p.remotePostgres(id)),
      discovery: { kind: 'config', names: active.globalHost },
      credentials: [{ secret: n.credentialsSecret, key: CREDENTIAL_PROPERTIES.replicationPassword, env: 'PATRONI_REPLICATION_PASSWORD', container: 'postgres' }],
      why: `This site is a Patroni standby cluster: its standby leader streams from the active primary in ${active.region} (standby_cluster.host).` }),
    tcp({ name: `postgres-shard-${id}-to-active-site-archive`, from: p.postgres(id), to: { kind: 'external', host: activeBucketHost(plan, hosted), port: HTTPS },
      discovery: { kind: 'config', names: active.bucket },
      credentials: walgCredentials(plan, n, 'postgres'),
      why: `When the stream breaks, the standby leader fetches WAL from the active site's archive (${active.bucket}, same residency): standby_cluster.restore_command.` }),
  ];
}

/** The API to each Redis tier, and the tiers' own replication, Sentinel and proxy traffic. */
function redisConnections(plan: RegionPlan, p: RegionPeers): Connection[] {
  const out: Connection[] = [];
  for (const tier of REDIS_TIERS) {
    const t = redisTopology(plan, tier);
    const servers = p.redisServers(tier);
    const credentials: Credential[] = [{ secret: t.clientSecret, key: 'password', env: apiRedisPasswordEnv(tier), container: 'api' }];
    const slug = TIER_SLUG[tier];
    const byPodName = 'pod DNS names on the tier\'s headless Service';
    if (t.mode === 'sentinel') {
      const sentinels = p.redisSentinels(tier);
      const sentinelService = service(t.sentinelServiceHost, t.sentinelPort, sentinels);
      out.push(
        tcp({ name: `api-to-redis-${slug}-sentinel`, from: p.api, to: sentinelService, discovery: config, credentials,
          why: `The ${slug} client asks the Sentinels which pod is the master (it moves on failover).` }),
        tcp({ name: `api-to-redis-${slug}-master`, from: p.api, to: pods(servers, t.redisPort, 'the master the Sentinels name'), discovery: discovered('Sentinel get-master-addr-by-name (announced pod DNS name)'), credentials,
          why: tierWhy(tier) }),
        tcp({ name: `redis-${slug}-replication`, from: servers, to: pods(servers, t.redisPort, byPodName), discovery: discovered('the master the Sentinels name'),
          why: 'Replicas follow the master (full and partial resynchronisation).' }),
        tcp({ name: `redis-${slug}-server-asks-sentinel`, from: servers, to: sentinelService, discovery: config,
          why: 'At start a Redis pod asks the Sentinels which pod is the master before it starts as its replica.' }),
        tcp({ name: `redis-${slug}-sentinel-monitors-servers`, from: sentinels, to: pods(servers, t.redisPort, byPodName), discovery: config,
          why: 'The Sentinels watch the master and its replicas, and promote a replica on failover.' }),
        tcp({ name: `redis-${slug}-sentinel-gossip`, from: sentinels, to: pods(sentinels, t.sentinelPort, 'announced Sentinel pod DNS names'), discovery: discovered('Sentinel hello messages on the master'),
          why: 'Sentinels find each other and vote on failovers.' }),
      );
      if (tier === 'sessions') {
        const proxy = sessionsProxyNames(plan, plan.region.name);
        const arrivesThrough = { gateway: p.eastWestGateway, globalHost: proxy.globalHost };
        const fromElsewhere = discovered(`the global name ${proxy.globalHost}, exported here by a ServiceEntry`);
        out.push(
          tcp({ name: 'remote-api-to-redis-sessions-proxy', from: p.remoteApi, to: service(proxy.localHost, proxy.masterPort, p.sessionsProxy), discovery: fromElsewhere, arrivesThrough,
            why: 'The other regions\' APIs write sessions to the master through the proxy.' }),
          tcp({ name: 'remote-redis-sessions-to-proxy', from: p.remoteSessionReplicas, to: service(proxy.localHost, proxy.replicaPort, p.sessionsProxy), discovery: fromElsewhere, arrivesThrough,
            why: 'The other regions\' session replicas replicate the master through the proxy.' }),
          tcp({ name: 'redis-sessions-proxy-to-servers', from: p.sessionsProxy, to: pods(servers, t.redisPort, byPodName), discovery: config,
            why: 'The sessions proxy (other regions\' replicas reach the master through it) forwards to the current master and checks every pod.' }),
          tcp({ name: 'redis-sessions-proxy-to-sentinels', from: p.sessionsProxy, to: pods(p.redisSentinels(tier), t.sentinelPort, byPodName), discovery: config,
            why: 'The proxy asks every Sentinel which pod is the master, so it never forwards to a demoted one.' }),
        );
      }
    } else {
      const proxy = sessionsProxyNames(plan, primaryRegionOf(plan).name);
      out.push(
        tcp({ name: `api-to-redis-${slug}-read`, from: p.api, to: service(serviceHost(t.readService, t.namespace), t.redisPort, servers), discovery: config, credentials,
          why: 'Session reads from the local replicas of the primary region\'s session store.' }),
        tcp({ name: `api-to-redis-${slug}-write`, from: p.api, to: remote(proxy.globalHost, proxy.masterPort, plan.primaryRegion.eastWestGateway, p.sessionsProxy), discovery: config, credentials,
          why: 'Session writes go to the primary region\'s master through its sessions proxy.' }),
        tcp({ name: `redis-${slug}-replicate-primary`, from: servers, to: remote(proxy.globalHost, proxy.replicaPort, plan.primaryRegion.eastWestGateway, p.sessionsProxy), discovery: config,
          why: 'The local session replicas replicate the primary region\'s master through its sessions proxy.' }),
      );
    }
  }
  return out;
}

function tierWhy(tier: RedisTierKey): string {
  return { cache: 'Read-through cache (TTL 1 h).', sessions: 'Sessions (TTL 24 h).', rateLimit: 'Rate-limit counters (TTL 1 min).' }[tier];
}

/** Spans: applications (OTLP/HTTP) and sidecars (OTLP/gRPC) to the collector, then to Jaeger. */
function tracingConnections(plan: RegionPlan, p: RegionPeers): Connection[] {
  const tracing = tracingNames(plan);
  const collectorHost = serviceHost(tracing.collector.service, tracing.namespace);
  const sidecarSpans = discovered('the mesh\'s extension provider otel-tracing (Istio add-on meshConfig)');
  const redisPods = REDIS_TIERS.flatMap((tier) => redisTopology(plan, tier).mode === 'sentinel' ? [p.redisServers(tier), p.redisSentinels(tier)] : [p.redisServers(tier)]);
  const spanSources: Peer[] = [
    p.ingressGateway, p.api, p.web, p.apiLoadTest, p.webSmokeTest,
    ...plan.hostedShards.flatMap((h) => [p.pgbouncer(h.config.id), p.postgres(h.config.id), p.postgresTopology(h.config.id)]),
    ...redisPods, ...(isPrimaryRegion(plan) ? [p.sessionsProxy] : []),
  ];
  return [
    ...[p.api, p.web].map((from) => tcp({ name: `${from.name}-to-otel-collector-otlp-http`, from, to: service(collectorHost, OTLP_HTTP_PORT, p.otelCollector), discovery: config,
      why: 'Application spans: the OpenTelemetry SDK exports OTLP/HTTP to the collector.' })),
    ...spanSources.map((from) => tcp({ name: `${from.name}-to-otel-collector-otlp-grpc`, from, to: service(collectorHost, OTLP_GRPC_PORT, p.otelCollector), discovery: sidecarSpans,
      why: 'Envoy spans of the sidecar (the ingress gateway\'s are the root spans) go to the collector over OTLP/gRPC.' })),
    tcp({ name: 'otel-collector-to-otel-sampler', from: p.otelCollector, to: service(serviceHost(tracing.sampler.headlessService, tracing.namespace), OTLP_GRPC_PORT, p.otelSampler), discovery: config,
      why: 'The gateway collectors route every span of a trace, by trace ID, to one tail-sampling pod.' }),
    tcp({ name: 'otel-sampler-to-jaeger', from: p.otelSampler, to: service(serviceHost(tracing.jaeger.collectorService, tracing.namespace), JAEGER_PORTS.otlpGrpc, p.jaeger), discovery: config,
      why: 'Sampled traces are stored in Jaeger.' }),
    ...traceStoreConnections(plan, p),
  ];
}

/**
 * Jaeger's external Elasticsearch/OpenSearch (storage type elasticsearch): the Jaeger pods write
 * and query it, the daily index cleaner (outside the mesh: a sidecar would keep its Job running)
 * deletes expired indices. Both log in with the credentials the tracing chart's ExternalSecret
 * provides; TLS is end to end (the sidecar passes it through).
 */
function traceStoreConnections(plan: RegionPlan, p: RegionPeers): Connection[] {
  const es = elasticsearchFromConfig(plan);
  if (!es) return [];
  const tracing = tracingNames(plan);
  const url = new URL(es.url);
  const store = { kind: 'external' as const, host: url.hostname, port: url.port ? Number(url.port) : url.protocol === 'https:' ? HTTPS : 80 };
  const discovery = { kind: 'config', names: es.url } as const;
  const credentials = (container: string): Credential[] =>
    (['username', 'password'] as const).map((key) => ({ secret: tracing.jaeger.elasticsearchSecret, key, env: `ES_${key.toUpperCase()}`, container }));
  const cleaner: Peer = { name: 'jaeger-index-cleaner', namespace: tracing.namespace, podLabels: { [LABELS.name]: tracing.jaeger.indexCleanerApp },
    serviceAccount: tracing.jaeger.serviceAccount, meshed: false };
  return [
    tcp({ name: 'jaeger-to-trace-store', from: p.jaeger, to: store, discovery, credentials: credentials('jaeger'),
      why: 'Jaeger writes kept traces to the region\'s replicated Elasticsearch/OpenSearch cluster and queries them from there.' }),
    tcp({ name: 'jaeger-index-cleaner-to-trace-store', from: cleaner, to: store, discovery, credentials: credentials('index-cleaner'),
      why: `Deletes daily span indices older than the retention (${plan.global.tracing.jaeger.retention}).` }),
  ];
}

/** Scrapes, queries, alerts and the Alertmanager cluster. */
function monitoringConnections(plan: RegionPlan, p: RegionPeers): Connection[] {
  const ns = plan.namespaces.monitoring;
  const prometheusHost = serviceHost('prometheus-operated', ns);
  const alertmanagerHost = serviceHost('alertmanager-operated', ns);
  const merged = (server: Peer): Connection => tcp({
    name: `prometheus-to-${server.name}`, from: p.prometheus, to: pods(server, ISTIO_AGENT_METRICS_PORT, 'PodMonitor: the istio-proxy container\'s http-envoy-prom port, rewritten to the agent port'),
    discovery: discovered('PodMonitor (Kubernetes pod discovery)'),
    why: 'Prometheus scrapes Istio\'s merged metrics endpoint on the sidecar agent (Envoy and the application\'s own metrics); the agent port is outside the sidecar, so STRICT mTLS does not refuse a scraper without one.',
  });
  const servingRegion = isServingRegion(plan.region);
  const queriers: [Peer, string][] = [
    ...(servingRegion
      ? ([
          [p.argoRollouts, 'Release analyses (AnalysisTemplates) query the canary and preview metrics.'],
          [p.prometheusAdapter, 'The API HPA\'s requests-per-second metric.'],
        ] as [Peer, string][])
      : []),
    [p.grafana, 'Dashboards.'],
  ];
  const receivers = alertReceivers(plan);
  // The app tier, Redis and Argo Rollouts run in serving regions only.
  const servingTargets: Connection[] = servingRegion
    ? [
        merged(p.api),
        merged(p.web),
        merged(p.ingressGateway),
        ...REDIS_TIERS.flatMap((tier) => redisTopology(plan, tier).mode === 'sentinel' ? [merged(p.redisServers(tier)), merged(p.redisSentinels(tier))] : [merged(p.redisServers(tier))]),
        ...(isPrimaryRegion(plan) ? [merged(p.sessionsProxy)] : []),
        // The tracing pipeline's own metrics: spans it refused or failed to pass on.
        merged(p.otelCollector),
        merged(p.otelSampler),
        merged(p.jaeger),
        tcp({ name: 'prometheus-to-argo-rollouts', from: p.prometheus, to: pods(p.argoRollouts, 8090, 'ServiceMonitor on the controller\'s metrics Service'), discovery: discovered('ServiceMonitor (Kubernetes endpoints discovery)'),
          why: 'rollout_info: a release that was aborted and rolled back, or that the controller cannot act on (RolloutAborted, RolloutBlocked).' }),
      ]
    : [];
  return [
    ...servingTargets,
    ...plan.hostedShards.flatMap((h) => [merged(p.pgbouncer(h.config.id)), merged(p.postgres(h.config.id))]),
    tcp({ name: 'prometheus-to-kube-state-metrics', from: p.prometheus, to: pods(p.kubeStateMetrics, KUBE_STATE_METRICS.port, 'ServiceMonitor on the kube-state-metrics Service'),
      discovery: discovered('ServiceMonitor (Kubernetes endpoints discovery)'),
      why: 'kube-state-metrics: HPA replicas and container requests and limits for the dashboards.' }),
    tcp({ name: 'prometheus-to-istiod', from: p.prometheus, to: pods(p.istiod, ISTIOD_MONITORING.port, 'ServiceMonitor on the istiod Service (http-monitoring)'),
      discovery: discovered('ServiceMonitor (Kubernetes endpoints discovery)'),
      why: 'istiod\'s metrics: expiry of the mesh CA certificates (MeshCertificateExpiring).' }),
    tcp({ name: 'prometheus-to-prometheus', from: p.prometheus, to: service(prometheusHost, 9090, p.prometheus), discovery: discovered('ServiceMonitor on prometheus-operated'),
      why: 'The HA pair scrapes itself (self-monitoring).' }),
    tcp({ name: 'prometheus-to-alertmanager', from: p.prometheus, to: service(alertmanagerHost, 9093, p.alertmanager), discovery: discovered('Prometheus spec.alerting names the alertmanager-operated Service'),
      why: 'Prometheus sends firing alerts to every Alertmanager replica, and scrapes them.' }),
    tcp({ name: 'prometheus-to-kubernetes-api', from: p.prometheus, to: { kind: 'kubernetes-api', port: KUBE_API_PORT }, discovery: discovered('in-cluster config'),
      why: 'Prometheus discovers its targets (pods, endpoints) through the Kubernetes API.' }),
    tcp({ name: 'prometheus-to-kubelet', from: p.prometheus, to: { kind: 'external', host: 'kubelet', port: KUBELET.port },
      discovery: discovered('ServiceMonitor on kube-system/kube-prometheus-stack-kubelet (node addresses kept by prometheus-operator)'),
      why: 'cAdvisor on every node\'s kubelet (HTTPS, service-account token): container CPU and memory for the dashboards. Node IPs are outside every pod selector, so this is egress by port.' }),
    ...queriers.map(([from, why]) => tcp({ name: `${from.name}-to-prometheus`, from, to: service(prometheusHost, 9090, p.prometheus), discovery: discovered(from.addon?.source ?? ''), why })),
    tcp({ name: 'alertmanager-cluster-tcp', from: p.alertmanager, to: pods(p.alertmanager, 9094, 'alertmanager-operated peers (--cluster.peer)'), discovery: discovered('--cluster.peer flags set by prometheus-operator'),
      why: 'Alertmanager replicas gossip silences and notification state (memberlist: TCP part).' }),
    { name: 'alertmanager-cluster-udp', protocol: 'UDP', from: p.alertmanager, to: pods(p.alertmanager, 9094, 'alertmanager-operated peers (--cluster.peer)'), discovery: discovered('--cluster.peer flags set by prometheus-operator'),
      why: 'Alertmanager replicas gossip silences and notification state (memberlist: UDP part, probes and gossip).' },
    ...receivers.map((r) => tcp({ name: `alertmanager-to-${r.name}`, from: p.alertmanager, to: { kind: 'external', host: r.host, port: r.port }, discovery: r.discovery, why: r.why })),
  ];
}

/** Alert receivers Alertmanager calls out to. */
function alertReceivers(plan: RegionPlan): { name: string; host: string; port: number; discovery: Connection['discovery']; why: string }[] {
  const [smtpHost, smtpPort] = plan.global.monitoring.alertmanager.smarthost.split(':');
  return [
    { name: 'slack', host: 'hooks.slack.com', port: HTTPS, discovery: discovered('Slack incoming-webhook URL from the receivers Secret'), why: 'Alert and business notifications to Slack.' },
    { name: 'pagerduty', host: 'events.pagerduty.com', port: HTTPS, discovery: discovered('PagerDuty Events API v2 (Alertmanager\'s default URL)'), why: 'Pages for critical alerts.' },
    { name: 'smtp', host: smtpHost, port: Number(smtpPort), discovery: { kind: 'config', names: plan.global.monitoring.alertmanager.smarthost }, why: 'Alert mail through the SMTP relay (submission port).' },
  ];
}

/** What every pod of our namespaces needs: DNS, and istiod for the sidecar's config and certificates. */
function guardrailConnections(plan: RegionPlan, p: RegionPeers): Connection[] {
  return regionNamespaces(plan).flatMap((namespace) => {
    const from = p.namespacePods(namespace);
    const dns = discovered('the pod\'s resolv.conf (kubelet)');
    return [
      { name: `${namespace}-dns-udp`, protocol: 'UDP' as const, from, to: pods(p.kubeDns, 53, 'the kube-dns Service'), discovery: dns, guardrail: true, why: 'Name resolution.' },
      { name: `${namespace}-dns-tcp`, protocol: 'TCP' as const, from, to: pods(p.kubeDns, 53, 'the kube-dns Service'), discovery: dns, guardrail: true, why: 'Name resolution (large answers over TCP).' },
      { name: `${namespace}-istiod`, protocol: 'TCP' as const, from, to: pods(p.istiod, 15012, 'the istiod Service'), discovery: discovered('the injected sidecar\'s discoveryAddress'), guardrail: true,
        why: 'Sidecars fetch their configuration (xDS) and workload certificates from istiod.' },
    ];
  });
}
