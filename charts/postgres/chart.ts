/**
 * Postgres of a region (dist/<region>/postgres.yaml): for every shard site this region runs (the
 * home site of the shards homed here, the DR site of those whose disasterRecovery.region is
 * here), the Patroni StatefulSet with its Services, RBAC, configuration and credentials
 * (charts/postgres/shard.ts; its pods carry the scheduled base backup, charts/postgres/backup.ts), the
 * topology Job that sets the site's role (charts/postgres/topology.ts), and the global name
 * that joins the two sites across regions.
 */
import type { Construct } from 'constructs';
import type { PatroniTiming } from './patroni';
import { PostgresShard } from './shard';
import type { BackupIdentity } from './walg';
import { RegionChart, type RegionChartProps } from '../lib/region-chart';
import type { HostedShard } from '../../regions/plan';
import { GlobalServiceExport, GlobalServiceImport } from '../lib/global-service';
import { SYNC_WAVE, syncWave } from '../lib/metadata';
import { POSTGRES_PORTS, postgresGlobalHost, postgresScope, type PostgresShardNames } from './names';
import { activeSiteOf } from './site-topology';
import { TopologyJob } from './topology';

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
    const { plan } = props;
    this.shards = plan.hostedShards.map((hosted) => {
      const shard = hosted.config;
      new TopologyJob(this, `shard-${shard.id}-topology`, { plan, shard });
      const site = new PostgresShard(this, `shard-${shard.id}`, { plan, shard, backupIdentity: props.backupIdentity, timing: props.timing });
      this.crossRegion(hosted, site.names);
      return site;
    });
  }

  /**
   * The active site exports its read-write Service under a global name; the other site imports
   * that name, which leads to the active region's east-west gateway (charts/lib/global-service.ts).
   */
  private crossRegion(hosted: HostedShard, names: PostgresShardNames): void {
    const { plan } = this;
    const p = plan.global.platform.name;
    const id = hosted.config.id;
    const ports = [{ name: POSTGRES_PORTS.postgres.name, number: POSTGRES_PORTS.postgres.port }];
    const metadata = (name: string) => ({ name, namespace: plan.namespaces.data, labels: { ...names.selectorLabels }, annotations: syncWave(SYNC_WAVE.config) });
    if (hosted.active) {
      new GlobalServiceExport(this, `shard-${id}-export`, {
        metadata: metadata(`${names.readWriteService}-global`),
        globalHost: postgresGlobalHost(p, id, hosted.site, plan.region.name),
        localHost: names.readWriteHost,
        ports,
        exportTo: ['.', plan.names.mesh.rootNamespace],
      });
      return;
    }
    const active = activeSiteOf(plan, hosted);
    new GlobalServiceImport(this, `shard-${id}-import`, {
      metadata: metadata(`${postgresScope(p, id, hosted.peer.site)}-${active.region}`),
      globalHost: active.globalHost,
      ports,
      gatewayHost: active.eastWestGateway,
      // Only this site's Postgres pods stream from the active primary.
      exportTo: ['.'],
      // The active site's members (each site's own ServiceAccount, named as its Patroni scope).
      server: { namespace: plan.namespaces.data, serviceAccount: postgresScope(p, id, hosted.peer.site) },
    });
  }
}
