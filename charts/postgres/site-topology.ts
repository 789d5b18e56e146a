/**
 * The two sites of a shard, as Patroni sees them. The active site is an ordinary Patroni
 * cluster that keeps a permanent replication slot for the other site; the other site is a
 * Patroni standby cluster (https://patroni.readthedocs.io/en/latest/standby_cluster.html): its
 * standby leader streams from the active primary's global name through the east-west gateways
 * and falls back to the active site's WAL archive, and its other members cascade from it.
 *
 * Patroni applies `bootstrap.dcs` only when a cluster is first created; afterwards the dynamic
 * configuration lives in the DCS. So the same desired state is rendered twice: into patroni.yml
 * (a new site starts right) and into the topology Job (charts/postgres/topology.ts), which
 * PATCHes it into the running cluster on every sync. Removing `standby_cluster` promotes the
 * standby leader; adding it demotes a primary to a standby leader following the new one.
 */
import type { HostedShard, RegionPlan } from '../../regions/plan';
import { POSTGRES_PORTS, postgresGlobalHost, standbySlotName } from './names';
import { bucketEndpoint, bucketPrefixSettings } from './walg';

export function hostedShard(plan: RegionPlan, shardId: number): HostedShard {
  const hosted = plan.hostedShards.find((h) => h.config.id === shardId);
  if (!hosted) throw new Error(`region ${plan.region.name} runs no site of shard ${shardId}`);
  return hosted;
}

/** Where the active site is: its read-write Service's global name and its region's gateway. */
export function activeSiteOf(plan: RegionPlan, hosted: HostedShard): { globalHost: string; eastWestGateway: string; bucket: string; region: string } {
  if (hosted.active) throw new Error(`shard ${hosted.config.id} is active in ${plan.region.name}: it follows no other site`);
  return {
    globalHost: postgresGlobalHost(plan.global.platform.name, hosted.config.id, hosted.peer.site, hosted.peer.region),
    eastWestGateway: hosted.peer.eastWestGateway,
    bucket: hosted.peer.backupBucket,
    region: hosted.peer.region,
  };
}

/** Host WAL-G connects to for the active site's bucket (the standby's archive fallback). */
export function activeBucketHost(plan: RegionPlan, hosted: HostedShard): string {
  const { bucket, region } = activeSiteOf(plan, hosted);
  return bucketEndpoint(bucket, region).host;
}

/** Patroni's `standby_cluster` section of a site that follows the active one; null on the active site. */
export function standbyClusterConfig(plan: RegionPlan, hosted: HostedShard): Record<string, unknown> | null {
  if (hosted.active) return null;
  const active = activeSiteOf(plan, hosted);
  return {
    host: active.globalHost,
    port: POSTGRES_PORTS.postgres.port,
    primary_slot_name: standbySlotName(hosted.site),
    // A new standby site copies the active primary over the replication protocol.
    create_replica_methods: ['basebackup'],
    // When the stream is broken, WAL still arrives from the active site's archive (same residency).
    restore_command: `${bucketPrefixSettings(active.bucket, active.region, hosted.config.id).map(([k, v]) => `${k}=${v}`).join(' ')} wal-g wal-fetch "%f" "%p"`,
  };
}

/** Permanent slots of the site: the active one keeps the other site's slot, a standby keeps none. */
export function permanentSlots(hosted: HostedShard): Record<string, { type: 'physical' }> | null {
  return hosted.active ? { [standbySlotName(hosted.peer.site)]: { type: 'physical' } } : null;
}

/**
 * Patroni's DCS failsafe mode. The DCS is the Kubernetes API: without it, a primary that cannot
 * renew its leader lock demotes itself at once (Patroni's dcs_failsafe_mode.rst: "with K8s API
 * ... it could be observed more frequently"), so a control-plane upgrade or blip longer than
 * retry_timeout would make every shard of the region read-only at the same moment, with no pod
 * failed. With it, the primary keeps running while every member it last saw in the DCS confirms
 * over the REST API (POST /failsafe on 8008: Postgres to Postgres, allowed by the mesh, with the
 * REST credentials every member shares). Set at bootstrap and, since Patroni reads bootstrap.dcs
 * only when a cluster is created, by the topology Job on every sync.
 */
export const FAILSAFE_MODE = true;

/** The dynamic configuration the topology Job PATCHes into the running cluster (null deletes a key). */
export function desiredDynamicConfig(plan: RegionPlan, hosted: HostedShard): Record<string, unknown> {
  return { standby_cluster: standbyClusterConfig(plan, hosted), slots: permanentSlots(hosted), failsafe_mode: FAILSAFE_MODE };
}
