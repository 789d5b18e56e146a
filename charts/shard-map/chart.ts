/**
 * The franchise → shard routing map (dist/<region>/shard-map.yaml): a ConfigMap in the app
 * namespace that the API mounts. Every region carries the whole map, as that region sees it:
 * shards homed here by cluster DNS, shards homed elsewhere through the mesh's cross-region path.
 * The routes are computed once in regions/router.ts; this chart only serialises them.
 */
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { apiPoolSplit } from '../../regions/capacity';
import { API_DATABASE_SECRET_DIR, API_DATABASE_USER, shardPasswordKey } from '../api/client';
import { GlobalServiceImport } from '../lib/global-service';
import { appLabels, SYNC_WAVE, syncWave } from '../lib/metadata';
import { RegionChart, type RegionChartProps } from '../lib/region-chart';

/** Bumped when the JSON layout changes, so the API can refuse a map it does not understand. */
const SHARD_MAP_FORMAT = 2;

/**
 * How the API logs in to a shard: its database user and the file (the mounted Secret) holding
 * that shard's password. Plain TCP to PgBouncer: the sidecars encrypt the hop (Istio mTLS).
 */
const login = (shard: number) => ({ user: API_DATABASE_USER, passwordFile: `${API_DATABASE_SECRET_DIR}/${shardPasswordKey(shard)}`, sslmode: 'disable' });

function shardMapJson(props: RegionChartProps): string {
  const { plan } = props;
  // The size of each of the API's pools to a shard: the client budget (regions/capacity.ts) counts
  // exactly these, so the API must not open more.
  const pools = apiPoolSplit(plan.global.postgres.apiPoolPerPod);
  const document = {
    format: SHARD_MAP_FORMAT,
    region: plan.region.name,
    franchiseIds: { first: plan.global.franchiseIds.first, last: plan.global.franchiseIds.last },
    shards: plan.shardRoutes.map((r) => ({
      shard: r.shard,
      first: r.first,
      last: r.last,
      homeRegion: r.homeRegion,
      activeRegion: r.activeRegion,
      local: r.local,
      readWrite: { host: r.readWrite.host, port: r.readWrite.port, database: r.readWrite.database, maxConnections: pools.readWrite, ...login(r.shard) },
      readOnly: { host: r.readOnly.host, port: r.readOnly.port, database: r.readOnly.database, maxConnections: pools.readOnly, ...login(r.shard) },
    })),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

export class ShardMapChart extends RegionChart {
  constructor(scope: Construct, props: RegionChartProps) {
    super(scope, 'shard-map', props);
    const data = props.plan.names.data;
    // The shards homed elsewhere: their global names lead to the home region's east-west gateway.
    const { plan } = props;
    for (const route of plan.shardRoutes.filter((r) => !r.local)) {
      new GlobalServiceImport(this, `shard-${route.shard}-import`, {
        metadata: {
          name: `${data.pgbouncer(route.shard)}-${route.activeRegion}`,
          namespace: plan.namespaces.app,
          labels: appLabels(plan, 'shard-map', 'routing'),
          annotations: syncWave(SYNC_WAVE.config),
        },
        globalHost: route.readWrite.host,
        ports: [{ name: 'tcp-pgbouncer', number: route.readWrite.port }],
        gatewayHost: route.activeGateway,
        // Only the API (app namespace) calls other regions' shards.
        exportTo: ['.'],
        // The shard's pooler (one ServiceAccount per shard, named as its Deployment).
        server: { namespace: plan.namespaces.data, serviceAccount: data.pgbouncer(route.shard) },
      });
    }
    new k8s.KubeConfigMap(this, 'shard-map', {
      metadata: {
        name: data.shardMapConfigMap,
        namespace: props.plan.namespaces.app,
        labels: appLabels(props.plan, 'shard-map', 'routing'),
        annotations: syncWave(SYNC_WAVE.config),
      },
      data: { [data.shardMapFile]: shardMapJson(props) },
    });
  }
}
