/**
 * The plan: the checked model plus everything derived from it, computed once in plain
 * functions so tests can call them without synthesising and charts never recompute (or
 * disagree about) a name.
 */
import { parseCidr } from './formats';
import { shardRoutes, type ShardRoute } from './router';
import { isServingRegion, type GlobalConfig, type NamespaceRole, type RegionConfig, type ServingRegionConfig, type ShardConfig } from './model';
import type { VersionsConfig } from './versions-model';

export interface RegionPlan {
  readonly global: GlobalConfig;
  /** Every third-party image, Helm chart and CRD pin (regions/versions.yaml). */
  readonly versions: VersionsConfig;
  readonly region: RegionConfig;
  /** Region file the plan came from, for generated-file headers and messages. */
  readonly sourceFile: string;
  /** Namespace names by role: `<platform>-app`, `<platform>-data`, `<platform>-monitoring`. */
  readonly namespaces: Readonly<Record<NamespaceRole, string>>;
  /** Names one chart defines and another refers to, computed once here. */
  readonly names: PlatformNames;
  /** The franchise → shard routing map as this region sees it (local by DNS, remote via the mesh). */
  readonly shardRoutes: readonly ShardRoute[];
  /** The primary region (owner of the session data set), as every region sees it. */
  readonly primaryRegion: { readonly name: string; readonly eastWestGateway: string };
  /** The VPC CIDR blocks of every other region, in address order: what this region's east-west gateway admits. */
  readonly peerVpcCidrs: readonly string[];
  /**
   * The Postgres sites this region runs: the home site of every shard homed here and the DR
   * site of every shard whose disasterRecovery.region is here, in shard order.
   */
  readonly hostedShards: readonly HostedShard[];
}

/** Which of a shard's two sites a region runs. */
export type ShardSite = 'home' | 'dr';

/** One site of a shard: a Patroni cluster that is either the active primary or a standby cluster following it. */
export interface HostedShard {
  readonly config: ShardConfig;
  readonly site: ShardSite;
  readonly homeRegion: string;
  readonly drRegion: string;
  /** Region whose site takes writes (shards[].activeRegion, default the home region). */
  readonly activeRegion: string;
  /** True when this site takes writes; otherwise it is a Patroni standby cluster of the active one. */
  readonly active: boolean;
  /** The shard's other site. */
  readonly peer: { readonly site: ShardSite; readonly region: string; readonly eastWestGateway: string; readonly backupBucket: string };
}

/** The API: an Argo Rollout (canary) behind Istio. */
export interface ApiNames {
  /** app.kubernetes.io/name of its objects. */
  readonly app: 'api';
  readonly rollout: string;
  readonly stableService: string;
  readonly canaryService: string;
  readonly virtualService: string;
  readonly destinationRule: string;
  /**
   * Names of the VirtualService HTTP routes Argo Rollouts sets weights on: `idempotentRoute`
   * (GET, HEAD, OPTIONS: may also be retried on a 503) before `route` (every other method,
   * retried only when the request never reached the app). Both carry the canary split.
   */
  readonly route: string;
  readonly idempotentRoute: string;
  readonly configMap: string;
  readonly serviceAccount: string;
  readonly analysisTemplate: string;
  /** DestinationRule subsets Argo Rollouts points at the stable and canary ReplicaSets. */
  readonly stableSubset: string;
  readonly canarySubset: string;
  /** Port (and its name) where the pods serve Prometheus metrics, apart from user traffic. */
  readonly metricsPort: number;
}

/** The web front end: an Argo Rollout (blue-green) behind Istio. */
export interface WebNames {
  readonly app: 'web';
  readonly rollout: string;
  readonly activeService: string;
  readonly previewService: string;
  readonly virtualService: string;
  readonly destinationRule: string;
  readonly serviceAccount: string;
  readonly analysisTemplate: string;
  readonly metricsPort: number;
}

/** The data tier the API talks to (rendered by the data charts). */
export interface DataNames {
  /** app.kubernetes.io/name of the PgBouncer pods and their client port. */
  readonly pgbouncerApp: string;
  readonly pgbouncerPort: number;
  /** app.kubernetes.io/name of the Redis pods, their port and the Sentinel port. */
  readonly redisApp: string;
  readonly redisPort: number;
  readonly sentinelPort: number;
  /** ConfigMap (app namespace) holding the franchise → shard routing map the API mounts. */
  readonly shardMapConfigMap: string;
  /** Where the API finds the routing map inside its pods (the ConfigMap's mount). */
  readonly shardMapMountPath: string;
  /** File name of the routing map in the ConfigMap. */
  readonly shardMapFile: string;
  /** PgBouncer databases: one pool to the primary, one to the read replicas. */
  readonly readWriteDatabase: string;
  readonly readOnlyDatabase: string;
  /** PgBouncer Deployment/Service of a shard. */
  pgbouncer(shardId: number): string;
  /** Host other regions use for a shard active in `region` (routed by Istio to its east-west gateway). */
  remoteShardHost(shardId: number, region: string): string;
}

/** Istio pieces installed by the platform add-ons that our objects point at. */
export interface MeshNames {
  readonly gateway: string;
  /** Namespace and labels of the ingress gateway Deployment (istio/gateway Helm chart). */
  readonly ingressNamespace: string;
  readonly ingressSelector: Readonly<Record<string, string>>;
  readonly ingressServiceAccount: string;
  /** Root namespace of the mesh (mesh-wide PeerAuthentication and Telemetry live there). */
  readonly rootNamespace: string;
}

export interface MonitoringNames {
  /** In-cluster URL of the region's Prometheus (analysis queries, dashboards). */
  readonly prometheusUrl: string;
  readonly prometheusServiceAccount: string;
}

export interface PlatformNames {
  readonly api: ApiNames;
  readonly web: WebNames;
  readonly data: DataNames;
  readonly mesh: MeshNames;
  readonly monitoring: MonitoringNames;
}

export interface PlatformPlan {
  readonly global: GlobalConfig;
  /** Every third-party image, Helm chart and CRD pin (regions/versions.yaml). */
  readonly versions: VersionsConfig;
  /** Regions in rollout-wave order (wave 1 first). */
  readonly regions: readonly RegionPlan[];
}

/**
 * The region as a serving region (API, web, public DNS). Charts that only serving regions build
 * call it; reaching it for a standby region is a bug in main.ts, not a config error.
 */
export function serving(plan: RegionPlan): ServingRegionConfig {
  if (!isServingRegion(plan.region)) throw new Error(`region ${plan.region.name} is a standby region: it renders no ${'serving'} charts`);
  return plan.region;
}

export const NAMESPACE_ROLES: readonly NamespaceRole[] = ['app', 'data', 'monitoring'];

/** The namespaces this region runs (a standby region has no app namespace), in role order. */
export function regionNamespaces(plan: RegionPlan): string[] {
  return NAMESPACE_ROLES.filter((role) => plan.region.namespaces[role] !== undefined).map((role) => plan.namespaces[role]);
}

function namespaceNames(global: GlobalConfig): Record<NamespaceRole, string> {
  const prefix = global.platform.name;
  return { app: `${prefix}-app`, data: `${prefix}-data`, monitoring: `${prefix}-monitoring` };
}

function platformNames(global: GlobalConfig): PlatformNames {
  const p = global.platform.name;
  const ns = namespaceNames(global);
  return {
    api: {
      app: 'api',
      rollout: `${p}-api`,
      stableService: `${p}-api`,
      canaryService: `${p}-api-canary`,
      virtualService: `${p}-api`,
      destinationRule: `${p}-api`,
      route: 'primary',
      idempotentRoute: 'idempotent',
      configMap: `${p}-api-config`,
      serviceAccount: `${p}-api`,
      analysisTemplate: `${p}-api-canary-health`,
      stableSubset: 'stable',
      canarySubset: 'canary',
      metricsPort: 9464,
    },
    web: {
      app: 'web',
      rollout: `${p}-web`,
      activeService: `${p}-web`,
      previewService: `${p}-web-preview`,
      virtualService: `${p}-web`,
      destinationRule: `${p}-web`,
      serviceAccount: `${p}-web`,
      analysisTemplate: `${p}-web-release-health`,
      metricsPort: 9464,
    },
    data: {
      pgbouncerApp: 'pgbouncer',
      pgbouncerPort: 6432,
      redisApp: 'redis',
      redisPort: 6379,
      sentinelPort: 26379,
      shardMapConfigMap: `${p}-shard-map`,
      shardMapMountPath: '/etc/bookedbarber/shard-map',
      shardMapFile: 'shard-map.json',
      readWriteDatabase: 'bookings',
      readOnlyDatabase: 'bookings_ro',
      pgbouncer: (shardId) => `${p}-pgbouncer-shard-${shardId}`,
      remoteShardHost: (shardId, region) => `${p}-pgbouncer-shard-${shardId}.${region}.${p}.global`,
    },
    mesh: {
      gateway: `${p}-public`,
      ingressNamespace: 'istio-ingress',
      ingressSelector: { istio: 'ingressgateway' },
      ingressServiceAccount: 'istio-ingressgateway',
      rootNamespace: 'istio-system',
    },
    monitoring: {
      prometheusUrl: `http://prometheus-operated.${ns.monitoring}.svc.cluster.local:9090`,
      prometheusServiceAccount: 'prometheus',
    },
  };
}

/**
 * A checked model as plain data (regions/load.ts checkedConfig): every file passed its schema and
 * the invariants across files; `file` is the region file's path.
 */
export interface CheckedConfig {
  readonly global: GlobalConfig;
  readonly versions: VersionsConfig;
  readonly regions: readonly { readonly file: string; readonly config: RegionConfig }[];
}

/** The sites `regionName` runs, from every region file (invariants: DR sites exist and differ from home). */
function hostedShards(model: CheckedConfig, regionName: string): HostedShard[] {
  const regions = new Map(model.regions.map((l) => [l.config.name, l.config]));
  const sites: HostedShard[] = [];
  for (const home of model.regions.map((l) => l.config)) {
    for (const shard of home.shards) {
      const drRegion = shard.disasterRecovery.region;
      const activeRegion = shard.activeRegion ?? home.name;
      const site: ShardSite | undefined = home.name === regionName ? 'home' : drRegion === regionName ? 'dr' : undefined;
      if (!site) continue;
      const peer = regions.get(site === 'home' ? drRegion : home.name)!;
      sites.push({
        config: shard,
        site,
        homeRegion: home.name,
        drRegion,
        activeRegion,
        active: activeRegion === regionName,
        peer: { site: site === 'home' ? 'dr' : 'home', region: peer.name, eastWestGateway: peer.eastWestGateway, backupBucket: peer.backup.bucket },
      });
    }
  }
  return sites.sort((a, b) => a.config.id - b.config.id);
}

/** Every other region's VPC blocks, in address order (vpcCidrsAreDisjoint: no two overlap). */
function peerVpcCidrs(model: CheckedConfig, self: string): string[] {
  const start = (block: string) => {
    const range = parseCidr(block);
    return 'first' in range ? range.first : 0;
  };
  return model.regions.filter((other) => other.config.name !== self).flatMap((other) => other.config.vpcCidrs).sort((a, b) => start(a) - start(b));
}

export function buildPlan(model: CheckedConfig): PlatformPlan {
  const { global, versions } = model;
  // exactlyOnePrimaryRegion guarantees there is one.
  const primary = model.regions.map((l) => l.config).find((r) => r.role === 'primary')!;
  const partial = model.regions
    .map((loaded) => ({
      global,
      versions,
      region: loaded.config,
      sourceFile: loaded.file,
      namespaces: namespaceNames(global),
      names: platformNames(global),
      shardRoutes: [] as ShardRoute[],
      primaryRegion: { name: primary.name, eastWestGateway: primary.eastWestGateway },
      peerVpcCidrs: peerVpcCidrs(model, loaded.config.name),
      hostedShards: hostedShards(model, loaded.config.name),
    }))
    .sort((a, b) => a.region.rolloutWave - b.region.rolloutWave);
  const withoutRoutes: PlatformPlan = { global, versions, regions: partial };
  return { global, versions, regions: partial.map((r) => ({ ...r, shardRoutes: shardRoutes(withoutRoutes, r) })) };
}
