/**
 * Redis (dist/<region>/redis.yaml): the cache, sessions and rate-limit tiers of a region.
 *
 * Every Sentinel-managed tier: a StatefulSet of 3 Redis pods (1 master + 2 replicas, one per
 * zone) with redis_exporter, a StatefulSet of 3 Sentinels (quorum 2), headless Services for
 * stable per-pod names, a Sentinel Service clients ask for the master, PDBs, the rendered
 * redis.conf / sentinel.conf / start scripts, and the password by reference (ExternalSecret).
 *
 * Sessions are one data set for the whole platform (docs/redis-sessions.md): the primary
 * region runs the Sentinel-managed tier plus a proxy other regions reach through the mesh;
 * every secondary region runs 3 read replicas of it and the Istio objects of that path.
 *
 * Key TTLs are not here: the API sets them per key from its ConfigMap (global.redis.ttlSeconds).
 */
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { LABELS } from '../lib/labels';
import { SYNC_WAVE, syncWave } from '../lib/metadata';
import { GlobalServiceExport, GlobalServiceImport } from '../lib/global-service';
import { RegionChart, type RegionChartProps } from '../lib/region-chart';
import { proxySelectorLabels, SessionsProxy } from './proxy';
import { RedisTier } from './tier';
import {
  isPrimaryRegion, type PrimaryRegionRef, primaryRegionOf, REDIS_TIERS, type RedisTierKey, redisServiceAccount, type SessionsProxyNames, sessionsProxyNames,
} from './topology';

/** The sessions proxy's ports as other regions reach them: writes (master) and replication. */
const sessionsPorts = (proxy: SessionsProxyNames) => [
  { name: 'tcp-redis', number: proxy.masterPort },
  { name: 'tcp-replica', number: proxy.replicaPort },
];

export interface RedisChartProps extends RegionChartProps {
  /**
   * The primary region, which owns the session data set. Needed by secondary regions until the
   * plan carries it.
   * @default plan.primaryRegion (this region when it is the primary)
   */
  readonly primaryRegion?: PrimaryRegionRef;
}

export class RedisChart extends RegionChart {
  readonly tiers: Readonly<Record<RedisTierKey, RedisTier>>;

  constructor(scope: Construct, props: RedisChartProps) {
    super(scope, 'redis', props);
    const { plan } = props;
    const primary = primaryRegionOf(plan, props.primaryRegion);
    const ns = plan.namespaces.data;
    const redisApp = plan.names.data.redisApp;
    const labels = (component: string) => ({
      [LABELS.name]: redisApp,
      [LABELS.instance]: `redis-${plan.region.name}`,
      [LABELS.component]: component,
    });

    const proxy = sessionsProxyNames(plan, primary.name);
    // One identity per tier (the sessions proxy runs as the sessions tier); nothing here calls
    // the Kubernetes API.
    for (const name of REDIS_TIERS.map((tier) => redisServiceAccount(plan, tier))) {
      new k8s.KubeServiceAccount(this, `service-account-${name}`, {
        metadata: { name, namespace: ns, labels: labels('identity'), annotations: syncWave(SYNC_WAVE.config) },
        automountServiceAccountToken: false,
      });
    }

    const tiers = {} as Record<RedisTierKey, RedisTier>;
    for (const tier of REDIS_TIERS) {
      tiers[tier] = new RedisTier(this, `tier-${tier}`, { plan, tier, primaryRegion: primary });
    }
    this.tiers = tiers;

    const meta = (name: string) => ({ name, namespace: ns, labels: labels('sessions-replication'), annotations: syncWave(SYNC_WAVE.config) });
    if (isPrimaryRegion(plan)) {
      const selector = proxySelectorLabels(plan);
      new SessionsProxy(this, 'sessions-proxy', { plan, selectorLabels: selector, labels: selector });
      new GlobalServiceExport(this, 'sessions-export', {
        metadata: meta(`${proxy.service}-global`),
        globalHost: proxy.globalHost,
        localHost: proxy.localHost,
        ports: sessionsPorts(proxy),
        exportTo: ['.', plan.names.mesh.rootNamespace],
      });
    } else {
      new GlobalServiceImport(this, 'sessions-import', {
        metadata: meta(`${proxy.service}-${primary.name}`),
        globalHost: proxy.globalHost,
        ports: sessionsPorts(proxy),
        gatewayHost: primary.eastWestGateway,
        // Replicas (here) replicate through it; the API (app namespace) writes sessions through it.
        exportTo: ['.', plan.namespaces.app],
        // The primary region's sessions proxy pods.
        server: { namespace: ns, serviceAccount: proxy.serviceAccount },
      });
    }
  }
}
