/**
 * The pods of a region that make or serve connections, named once: their namespace, the labels
 * that select them, their service account (mesh identity) and whether they run a sidecar.
 * Our own workloads take these from the names every chart shares; the add-ons' (ingress gateway,
 * Argo Rollouts, prometheus-adapter, Grafana, kube-dns, istiod) from how their Helm charts
 * install them (charts/argocd/addon-catalog.ts pins the charts and values).
 */
import { GRAFANA } from '../lib/monitoring-targets';
import type { RegionPlan } from '../../regions/plan';
import type { Peer } from '../../regions/wiring';
import { apiLoadTestNames } from '../api/load-test';
import { webSmokeTestNames } from '../web/smoke-test';
import { LABELS } from '../lib/labels';
import { EAST_WEST_GATEWAY } from '../lib/mesh-network';
import { PATRONI_LABELS, postgresNames, postgresScope } from '../postgres/names';
import { hostedShard } from '../postgres/site-topology';
import { redisServiceAccount, type RedisTierKey, TIER_SLUG } from '../redis/topology';
import { tracingNames } from '../tracing/names';

const ours = (name: string, namespace: string, podLabels: Record<string, string>, serviceAccount: string, meshed = true): Peer => ({
  name, namespace, podLabels, serviceAccount, meshed,
});

const addon = (name: string, namespace: string, podLabels: Record<string, string>, serviceAccount: string, meshed: boolean, source: string): Peer => ({
  name, namespace, podLabels, serviceAccount, meshed, addon: { source },
});

export interface RegionPeers {
  readonly ingressGateway: Peer;
  readonly web: Peer;
  readonly api: Peer;
  /** The k6 Job of the API canary's load-test analysis (charts/api/load-test.ts), in the app namespace. */
  readonly apiLoadTest: Peer;
  /** The Job of the web's smoke-test analysis (charts/web/smoke-test.ts), in the app namespace. */
  readonly webSmokeTest: Peer;
  pgbouncer(shardId: number): Peer;
  postgres(shardId: number): Peer;
  /** The topology Job of a shard site (sets the site's role in Patroni). */
  postgresTopology(shardId: number): Peer;
  /** The Postgres pods of the shard's other site, in another region (its standby leader streams from here). */
  remotePostgres(shardId: number): Peer;
  /** Redis servers of a tier (master and replicas: one StatefulSet). */
  redisServers(tier: RedisTierKey): Peer;
  /** Sentinels of a tier (absent where the tier replicates another region). */
  redisSentinels(tier: RedisTierKey): Peer;
  /** HAProxy in front of the session store's master (primary region only). */
  readonly sessionsProxy: Peer;
  readonly prometheus: Peer;
  readonly alertmanager: Peer;
  readonly otelCollector: Peer;
  readonly otelSampler: Peer;
  readonly jaeger: Peer;
  readonly argoRollouts: Peer;
  readonly prometheusAdapter: Peer;
  readonly grafana: Peer;
  /** kube-state-metrics of the kube-prometheus-stack release (scraped by Prometheus). */
  readonly kubeStateMetrics: Peer;
  readonly kubeDns: Peer;
  readonly istiod: Peer;
  /** This region's east-west gateway (Istio multi-network): other regions' traffic enters here. */
  readonly eastWestGateway: Peer;
  /** The API of the other regions, calling the shards homed here (same namespace and identity). */
  readonly remoteApi: Peer;
  /** The session replicas of the other regions, replicating this (primary) region's master. */
  readonly remoteSessionReplicas: Peer;
  /** Every pod of one of our namespaces (DNS and istiod, which every pod needs). */
  namespacePods(namespace: string): Peer;
}

export function regionPeers(plan: RegionPlan): RegionPeers {
  const { names, namespaces } = plan;
  const tracing = tracingNames(plan);
  const byName = (name: string) => ({ [LABELS.name]: name });
  // Each tier's servers and Sentinels run as the tier's service account, the sessions proxy as its
  // own; the component label tells servers and Sentinels apart (charts/redis/tier.ts).
  const redisPeer = (component: string, serviceAccount: string) =>
    ours(`redis-${component}`, namespaces.data, { ...byName(names.data.redisApp), [LABELS.component]: component }, serviceAccount);
  return {
    ingressGateway: addon('ingress-gateway', names.mesh.ingressNamespace, { ...names.mesh.ingressSelector }, names.mesh.ingressServiceAccount, true,
      'istio/gateway chart: label istio=ingressgateway, service account istio-ingressgateway, injected by its own pod template'),
    web: ours('web', namespaces.app, byName(names.web.app), names.web.serviceAccount),
    api: ours('api', namespaces.app, byName(names.api.app), names.api.serviceAccount),
    apiLoadTest: ours('api-load-test', namespaces.app, { ...apiLoadTestNames(plan).selectorLabels }, apiLoadTestNames(plan).serviceAccount),
    webSmokeTest: ours('web-smoke-test', namespaces.app, { ...webSmokeTestNames(plan).selectorLabels }, webSmokeTestNames(plan).serviceAccount),
    pgbouncer: (shardId) => ours(`pgbouncer-shard-${shardId}`, namespaces.data,
      { [LABELS.name]: names.data.pgbouncerApp, [LABELS.instance]: `${names.data.pgbouncer(shardId)}-${plan.region.name}` },
      // One ServiceAccount per shard's pooler, named as its Deployment (charts/pgbouncer/shard.ts).
      names.data.pgbouncer(shardId)),
    postgres: (shardId) => {
      const n = postgresNames(plan, shardId);
      return ours(`postgres-shard-${shardId}`, namespaces.data, { ...n.selectorLabels }, n.serviceAccount);
    },
    postgresTopology: (shardId) => {
      const n = postgresNames(plan, shardId);
      return ours(`postgres-shard-${shardId}-topology`, namespaces.data, { ...n.topologySelectorLabels }, n.topologyServiceAccount);
    },
    remotePostgres: (shardId) => {
      const other = hostedShard(plan, shardId).peer;
      const scope = postgresScope(plan.global.platform.name, shardId, other.site);
      return addon(`remote-postgres-shard-${shardId}`, namespaces.data, { [PATRONI_LABELS.scope]: scope }, scope, true,
        `the shard's ${other.site} site in ${other.region}: same namespace, its own service account (${scope}) under the shared root`);
    },
    redisServers: (tier) => redisPeer(`${TIER_SLUG[tier]}-server`, redisServiceAccount(plan, tier)),
    redisSentinels: (tier) => redisPeer(`${TIER_SLUG[tier]}-sentinel`, redisServiceAccount(plan, tier)),
    // The proxy runs as the sessions tier (charts/redis/topology.ts sessionsProxyNames).
    sessionsProxy: redisPeer('sessions-proxy', redisServiceAccount(plan, 'sessions')),
    // prometheus-operator's pods run outside the mesh (their callers are add-ons outside it too).
    prometheus: ours('prometheus', namespaces.monitoring, byName('prometheus'), names.monitoring.prometheusServiceAccount, false),
    alertmanager: ours('alertmanager', namespaces.monitoring, byName('alertmanager'), 'alertmanager', false),
    otelCollector: ours('otel-collector', tracing.namespace, byName(tracing.collector.app), tracing.collector.serviceAccount),
    otelSampler: ours('otel-sampler', tracing.namespace, byName(tracing.sampler.app), tracing.sampler.serviceAccount),
    jaeger: ours('jaeger', tracing.namespace, byName(tracing.jaeger.app), tracing.jaeger.serviceAccount),
    argoRollouts: addon('argo-rollouts', 'argo-rollouts', byName('argo-rollouts'), 'argo-rollouts', false,
      'argo-rollouts chart: controller pods labelled app.kubernetes.io/name=argo-rollouts, namespace not injected'),
    prometheusAdapter: addon('prometheus-adapter', 'prometheus-adapter', byName('prometheus-adapter'), 'prometheus-adapter', false,
      'prometheus-adapter chart: pods labelled app.kubernetes.io/name=prometheus-adapter, namespace not injected'),
    grafana: addon('grafana', GRAFANA.namespace, byName('grafana'), GRAFANA.serviceAccount, false,
      'kube-prometheus-stack chart (grafana subchart): pods labelled app.kubernetes.io/name=grafana, namespace not injected'),
    kubeStateMetrics: addon('kube-state-metrics', 'monitoring-system', byName('kube-state-metrics'), 'kube-prometheus-stack-kube-state-metrics', false,
      'kube-prometheus-stack chart (kube-state-metrics subchart): pods labelled app.kubernetes.io/name=kube-state-metrics, namespace not injected'),
    kubeDns: addon('kube-dns', 'kube-system', { 'k8s-app': 'kube-dns' }, 'coredns', false, 'EKS CoreDNS add-on: k8s-app=kube-dns'),
    istiod: addon('istiod', names.mesh.rootNamespace, { app: 'istiod' }, 'istiod', false, 'istio/istiod chart: label app=istiod'),
    eastWestGateway: addon('east-west-gateway', EAST_WEST_GATEWAY.namespace, { ...EAST_WEST_GATEWAY.labels }, EAST_WEST_GATEWAY.name, true,
      'istio/gateway chart as the east-west gateway add-on (charts/argocd/addon-catalog.ts)'),
    remoteApi: addon('remote-api', namespaces.app, byName(names.api.app), names.api.serviceAccount, true,
      'the API of every other region: the same namespace and service account, so the same SPIFFE identity under the shared root'),
    remoteSessionReplicas: addon('remote-redis-sessions', namespaces.data, { ...byName(names.data.redisApp), [LABELS.component]: `${TIER_SLUG.sessions}-server` }, redisServiceAccount(plan, 'sessions'), true,
      'the session replicas of every other region (same namespace and service account)'),
    namespacePods: (namespace) => ours(`${namespace}-pods`, namespace, {}, 'default'),
  };
}
