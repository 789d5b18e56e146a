/**
 * PgBouncer of a region (dist/<region>/pgbouncer.yaml): one pooler Deployment + Service per
 * shard site this region runs (charts/pgbouncer/shard.ts), each under a ServiceAccount of its own,
 * the identity the mesh authorises towards that shard's Postgres only.
 */
import type { Construct } from 'constructs';
import { appLabels, SYNC_WAVE, syncWave } from '../lib/metadata';
import type { PgbouncerPoolOptions } from './config';
import { PgbouncerShard } from './shard';
import { GlobalServiceExport } from '../lib/global-service';
import { RegionChart, type RegionChartProps } from '../lib/region-chart';

export { pgbouncerPools, renderPgbouncerIni } from './config';

export interface PgbouncerChartProps extends RegionChartProps {
  /**
   * @default {} (no reserve pool) — a reserve is taken out of each pod's server budget, so none
   * unless asked for
   */
  readonly pools?: PgbouncerPoolOptions;
}

export class PgbouncerChart extends RegionChart {
  readonly shards: readonly PgbouncerShard[];

  constructor(scope: Construct, props: PgbouncerChartProps) {
    super(scope, 'pgbouncer', props);
    const { plan } = props;
    // Both sites of a shard run their PgBouncer: at the DR site it waits warm for a promotion.
    this.shards = plan.hostedShards.map(
      (hosted) => new PgbouncerShard(this, `shard-${hosted.config.id}`, { plan, shard: hosted.config, pools: props.pools }),
    );
    // Every other region's API reaches the shards active here by their global names, through
    // this region's east-west gateway (a standby site exports nothing until it is promoted).
    for (const shard of plan.hostedShards.filter((h) => h.active).map((h) => h.config)) {
      const service = plan.names.data.pgbouncer(shard.id);
      new GlobalServiceExport(this, `shard-${shard.id}-export`, {
        metadata: {
          name: `${service}-global`,
          namespace: plan.namespaces.data,
          labels: appLabels(plan, plan.names.data.pgbouncerApp, 'connection-pooler'),
          annotations: syncWave(SYNC_WAVE.config),
        },
        globalHost: plan.names.data.remoteShardHost(shard.id, plan.region.name),
        localHost: `${service}.${plan.namespaces.data}.svc.cluster.local`,
        ports: [{ name: 'tcp-pgbouncer', number: plan.names.data.pgbouncerPort }],
        exportTo: ['.', plan.names.mesh.rootNamespace],
      });
    }
  }
}
