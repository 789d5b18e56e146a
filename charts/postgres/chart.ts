/**
 * Postgres of a region (dist/<region>/postgres.yaml): for every shard homed here, the Patroni
 * StatefulSet with its Services, RBAC, configuration and credentials (charts/postgres/shard.ts)
 * and the scheduled base backup (charts/postgres/backup.ts).
 */
import type { Construct } from 'constructs';
import { BaseBackupCronJob } from './backup';
import type { PatroniTiming } from './patroni';
import { PostgresShard } from './shard';
import type { BackupIdentity } from './walg';
import { RegionChart, type RegionChartProps } from '../lib/region-chart';

export { renderPgHba, renderPostgresqlConf } from './conf';
export { renderPatroniYaml } from './patroni';

export interface PostgresChartProps extends RegionChartProps {
  /**
   * Patroni's failover timing.
   * @default DEFAULT_PATRONI_TIMING — its worst case fits `global.postgres.rtoSeconds` (checked per
   * shard)
   */
  readonly timing?: PatroniTiming;
  /** Workload identity for WAL-G (e.g. IRSA role annotation). @default - static keys from the secret store */
  readonly backupIdentity?: BackupIdentity;
}

export class PostgresChart extends RegionChart {
  readonly shards: readonly PostgresShard[];

  constructor(scope: Construct, props: PostgresChartProps) {
    super(scope, 'postgres', props);
    this.shards = props.plan.region.shards.map((shard) => {
      const common = { plan: props.plan, shard, backupIdentity: props.backupIdentity };
      new BaseBackupCronJob(this, `shard-${shard.id}-backup`, common);
      return new PostgresShard(this, `shard-${shard.id}`, { ...common, timing: props.timing });
    });
  }
}
