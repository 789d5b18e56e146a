/**
 * The franchise router: which shard holds a franchise, and how a region reaches it. Pure
 * functions of the checked model, used by the shard-map chart (the JSON the API mounts) and by
 * anyone who needs the same answer outside the cluster (tests, tooling, runbooks).
 */
import type { PlatformPlan, RegionPlan } from './plan';

export interface ShardLocation {
  readonly shard: number;
  readonly homeRegion: string;
  /** Region whose site takes the shard's writes: the home region, or its DR site once promoted. */
  readonly activeRegion: string;
  readonly first: number;
  readonly last: number;
}

export interface ShardEndpoint {
  readonly host: string;
  readonly port: number;
  readonly database: string;
}

export interface ShardRoute extends ShardLocation {
  /** True when the shard's active site is in the region reading the map (reached by cluster DNS). */
  readonly local: boolean;
  readonly readWrite: ShardEndpoint;
  readonly readOnly: ShardEndpoint;
  /** The active region's east-west gateway: where a remote shard's global host leads. */
  readonly activeGateway: string;
}

/** Shard ranges of the whole platform, ordered by first franchise ID. */
export function shardTable(plan: PlatformPlan): ShardLocation[] {
  return plan.regions
    .flatMap((r) =>
      r.region.shards.map((s) => ({ shard: s.id, homeRegion: r.region.name, activeRegion: s.activeRegion ?? r.region.name, first: s.franchises.first, last: s.franchises.last })),
    )
    .sort((a, b) => a.first - b.first);
}

/**
 * The shard holding `franchiseId`. Rejects anything that is not an integer inside the franchise
 * ID space (0, 100001, 1.5, "42"): a wrong ID must fail loudly, never land on some shard.
 */
export function shardFor(plan: PlatformPlan, franchiseId: unknown): ShardLocation {
  const { first, last } = plan.global.franchiseIds;
  if (typeof franchiseId !== 'number' || !Number.isInteger(franchiseId)) {
    throw new TypeError(`franchise ID must be an integer, got ${JSON.stringify(franchiseId)} (${typeof franchiseId})`);
  }
  if (franchiseId < first || franchiseId > last) {
    throw new RangeError(`franchise ID ${franchiseId} is outside ${first}..${last}`);
  }
  const table = shardTable(plan);
  // Binary search: the table covers the space without gaps (checked by the invariants).
  let lo = 0;
  let hi = table.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (franchiseId < table[mid].first) hi = mid - 1;
    else if (franchiseId > table[mid].last) lo = mid + 1;
    else return table[mid];
  }
  throw new Error(`no shard holds franchise ID ${franchiseId}: the shard ranges have a gap (the region invariants should have caught it)`);
}

/**
 * The routing map as `region` sees it: shards whose active site is here by cluster DNS, the
 * others through the mesh to their active region (so a promotion re-points every region).
 */
export function shardRoutes(plan: PlatformPlan, region: RegionPlan): ShardRoute[] {
  const data = region.names.data;
  const gateways = new Map(plan.regions.map((r) => [r.region.name, r.region.eastWestGateway]));
  return shardTable(plan).map((loc) => {
    const local = loc.activeRegion === region.region.name;
    const host = local
      ? `${data.pgbouncer(loc.shard)}.${region.namespaces.data}.svc.cluster.local`
      : data.remoteShardHost(loc.shard, loc.activeRegion);
    return {
      ...loc,
      local,
      readWrite: { host, port: data.pgbouncerPort, database: data.readWriteDatabase },
      readOnly: { host, port: data.pgbouncerPort, database: data.readOnlyDatabase },
      activeGateway: gateways.get(loc.activeRegion)!,
    };
  });
}
