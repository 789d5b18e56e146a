/**
 * Rules that span fields or files, checked after every file passed its schema and before any
 * chart is built. Each rule is one function returning the problems it found; the message says
 * what the config must look like and which field to change.
 */
import type { ConfigIssue } from './config-error';
import { isServingRegion, QUOTA_CPU, QUOTA_MEMORY, type GlobalConfig, type RegionConfig, type ServingRegionConfig } from './model';
import type { VersionsConfig } from './versions-model';
import {
  apiCanaryExtraWhy, apiPeakPods, CLIENT_SPREAD_MARGIN_PERCENT, REDIS_MEMORY_HEADROOM, redisMaxmemoryCeiling, MIN_CLIENT_CONNECTIONS_PER_SHARD, PGBOUNCER_ADMIN_CLIENTS_PER_POD, PGBOUNCER_ROLLOUT, postgresSettings, RELEASE_GATE_JOBS, shardClientCapacity, shardClientDemand, shardPools,
} from './capacity';
import { parseCidr, type Cidr } from './formats';
import { parseQuantity } from './quantity';
import type { SourceFile } from './source-file';
import { backupBucketsAreDistinct, drSiteWithinRpo, regionRoleShape, shardsHaveResidentDrSite, standbyRegionsHostDrSites } from './disaster-recovery-invariants';
import { routeBudgetsHold } from './route-budget-invariants';
import { derivedLimitsHold } from './derived-invariants';
import { backupKmsKeyOnlyForS3, kmsKeyInRegion, redisClassOnlyWhenPersisted, storageClassesAreOurs } from './storage-invariants';

export interface LoadedGlobal {
  readonly source: SourceFile;
  readonly config: GlobalConfig;
}

export interface LoadedRegion {
  readonly source: SourceFile;
  readonly config: RegionConfig;
}

export interface LoadedVersions {
  readonly source: SourceFile;
  readonly config: VersionsConfig;
}

export interface LoadedModel {
  readonly global: LoadedGlobal;
  readonly versions: LoadedVersions;
  readonly regions: readonly LoadedRegion[];
}

export type Invariant = (model: LoadedModel) => ConfigIssue[];

interface LoadedServingRegion extends LoadedRegion {
  readonly config: ServingRegionConfig;
}

/**
 * The regions that serve users. Rules about the API, web, public DNS and the app namespace
 * judge only these; `regionRoleShape` reports a serving region that lacks those fields (and a
 * standby region that has them), so by the time these rules run the fields are there.
 */
const servingRegions = (regions: readonly LoadedRegion[]): LoadedServingRegion[] =>
  regions.filter((r): r is LoadedServingRegion => isServingRegion(r.config) && r.config.autoscaling !== undefined && r.config.dns !== undefined && r.config.namespaces.app !== undefined);

const fmt = (n: number) => String(n);

/** The franchise ID space must be a non-empty range. */
const franchiseSpaceIsRange: Invariant = ({ global }) => {
  const { first, last } = global.config.franchiseIds;
  return first <= last
    ? []
    : [global.source.issue(['franchiseIds', 'last'], fmt(last), `>= franchiseIds.first (${first})`, `swap franchiseIds.first and franchiseIds.last, or set last to at least ${first}`)];
};

/** Shard ranges tile the franchise ID space: every ID on exactly one shard. */
const shardsCoverFranchiseSpace: Invariant = ({ global, regions }) => {
  const space = global.config.franchiseIds;
  if (space.first > space.last) return []; // reported by franchiseSpaceIsRange
  const issues: ConfigIssue[] = [];
  const shards = regions.flatMap((region) =>
    region.config.shards.map((shard, index) => ({ region, shard, index, path: ['shards', index, 'franchises'] as const })),
  );
  const where = (s: (typeof shards)[number]) => `shard ${s.shard.id} (${s.region.source.file} shards[${s.index}])`;
  for (const s of shards) {
    const { first, last } = s.shard.franchises;
    if (first > last) {
      issues.push(s.region.source.issue([...s.path, 'last'], fmt(last), `>= franchises.first (${first})`, `swap franchises.first and franchises.last of shard ${s.shard.id}, or set last to at least ${first}`));
    } else if (first < space.first || last > space.last) {
      issues.push(
        s.region.source.issue(
          [...s.path],
          `${first}..${last}`,
          `a range inside the franchise ID space ${space.first}..${space.last} (regions/global.yaml franchiseIds)`,
          `move shard ${s.shard.id}'s range inside ${space.first}..${space.last}, or widen franchiseIds in regions/global.yaml`,
        ),
      );
    }
  }
  if (issues.length > 0) return issues;
  const sorted = [...shards].sort((a, b) => a.shard.franchises.first - b.shard.franchises.first || a.shard.id - b.shard.id);
  let next = space.first;
  let previous: (typeof shards)[number] | undefined;
  for (const s of sorted) {
    const { first, last } = s.shard.franchises;
    if (first > next) {
      issues.push(
        s.region.source.issue(
          [...s.path, 'first'],
          fmt(first),
          `first = ${next}, right after the previous shard; franchise IDs ${next}..${first - 1} belong to no shard`,
          previous
            ? `set this first to ${next}, or extend ${where(previous)} to end at ${first - 1}`
            : `set this first to ${next}`,
        ),
      );
    } else if (first < next && previous) {
      issues.push(
        s.region.source.issue(
          [...s.path, 'first'],
          fmt(first),
          `first = ${next}, right after the previous shard; IDs ${first}..${Math.min(last, next - 1)} are already on ${where(previous)}`,
          last < next
            ? // Moving first to `next` would put it past last: the whole range is taken (a copied shard).
              `give shard ${s.shard.id} a range no other shard holds (all of ${first}..${last} is already on ${where(previous)}), or remove it if it is a copy`
            : `set this first to ${next}, or end ${where(previous)} at ${first - 1}`,
        ),
      );
    }
    next = Math.max(next, last + 1);
    previous = s;
  }
  if (previous && next <= space.last) {
    issues.push(
      previous.region.source.issue(
        [...previous.path, 'last'],
        fmt(previous.shard.franchises.last),
        `last = ${space.last}, the end of the franchise ID space; IDs ${next}..${space.last} belong to no shard`,
        `add a shard for ${next}..${space.last} in a region of those franchises' residency, or extend ${where(previous)} (residency "${previous.shard.residency}") to end at ${space.last} if their data may live there`,
      ),
    );
  }
  return issues;
};

/** Data residency: a shard lives only in a region of its own residency zone. */
const shardResidencyMatchesRegion: Invariant = ({ regions }) =>
  regions.flatMap((region) =>
    region.config.shards.flatMap((shard, index) =>
      shard.residency === region.config.residency
        ? []
        : [
            region.source.issue(
              ['shards', index, 'residency'],
              JSON.stringify(shard.residency),
              `"${region.config.residency}", the residency of region ${region.config.name}`,
              `set shards[${index}].residency to "${region.config.residency}"; if the shard's data must live in "${shard.residency}", home shard ${shard.id} in a region of that residency instead`,
            ),
          ],
    ),
  );

/**
 * Two places holding one value that must be unique. Which of them is the mistake (the new or
 * copied one) is not in the files, so the problem names both lines and says which one to change.
 * Located only when a problem names it: a line number needs the file's YAML document, which a
 * clean run (its files from the parse cache) never parses.
 */
const elsewhere = (region: LoadedRegion, path: readonly (string | number)[]) => () => region.source.where(path);

const shardIdsAreUnique: Invariant = ({ regions }) => {
  const seen = new Map<number, () => string>();
  const issues: ConfigIssue[] = [];
  for (const region of regions) {
    region.config.shards.forEach((shard, index) => {
      const other = seen.get(shard.id);
      if (other) {
        const used = new Set(regions.flatMap((r) => r.config.shards.map((x) => x.id)));
        let free = 1;
        while (used.has(free)) free++;
        issues.push(
          region.source.issue(
            ['shards', index, 'id'],
            fmt(shard.id),
            `a shard id no other shard uses (${other()} has id ${shard.id} too)`,
            `give the shard you added or copied an unused id, e.g. ${free}; a shard that already holds data keeps its id (its StatefulSet, volumes, backups and routing entries carry it)`,
          ),
        );
      } else {
        seen.set(shard.id, elsewhere(region, ['shards', index, 'id']));
      }
    });
  }
  return issues;
};

/** HPA bounds: Kubernetes rejects minReplicas > maxReplicas. */
const autoscalingMinNotAboveMax: Invariant = ({ regions }) =>
  servingRegions(regions).flatMap((region) =>
    (['api', 'web'] as const).flatMap((workload) => {
      const { minReplicas, maxReplicas } = region.config.autoscaling[workload];
      return minReplicas <= maxReplicas
        ? []
        : [
            region.source.issue(
              ['autoscaling', workload, 'minReplicas'],
              fmt(minReplicas),
              `<= maxReplicas (${maxReplicas})`,
              `lower autoscaling.${workload}.minReplicas or raise maxReplicas`,
            ),
          ];
    }),
  );

/** One file per region, named after it; names identify Argo CD Applications and dist/ folders. */
const regionNamesAreUniqueAndMatchFiles: Invariant = ({ regions }) => {
  const issues: ConfigIssue[] = [];
  const seen = new Map<string, string>();
  for (const region of regions) {
    const name = region.config.name;
    const expectedFile = `${name}.yaml`;
    const base = region.source.file.split('/').pop();
    if (base !== expectedFile) {
      issues.push(region.source.issue(['name'], JSON.stringify(name), `the file name without .yaml ("${base?.replace(/\.yaml$/, '')}")`, `rename the file to ${expectedFile} or fix name`));
    }
    const other = seen.get(name);
    if (other) issues.push(region.source.issue(['name'], JSON.stringify(name), `a region name not used by ${other}`, `delete ${base} if it is a copy, or give it its own region name and file name`));
    else seen.set(name, region.source.file);
  }
  return issues;
};

const clusterNamesAreUnique: Invariant = ({ regions }) => {
  const issues: ConfigIssue[] = [];
  const seen = new Map<string, () => string>();
  for (const region of regions) {
    for (const field of ['name', 'server'] as const) {
      const value = region.config.cluster[field];
      const other = seen.get(`${field}:${value}`);
      if (other) {
        issues.push(
          region.source.issue(
            ['cluster', field],
            JSON.stringify(value),
            `a cluster ${field} no other region uses (${other()} has it too)`,
            `set cluster.${field} of the region you added or copied to that region's own cluster (as registered in Argo CD)`,
          ),
        );
      } else seen.set(`${field}:${value}`, elsewhere(region, ['cluster', field]));
    }
  }
  return issues;
};

/** Rollout waves order regions one after another: two regions in one wave would release together. */
const rolloutWavesAreUnique: Invariant = ({ regions }) => {
  const issues: ConfigIssue[] = [];
  const seen = new Map<number, { name: string; where: () => string }>();
  for (const region of regions) {
    const wave = region.config.rolloutWave;
    const other = seen.get(wave);
    if (other) {
      const used = [...seen.keys(), ...regions.map((r) => r.config.rolloutWave)];
      issues.push(
        region.source.issue(
          ['rolloutWave'],
          fmt(wave),
          `a wave no other region uses (${other.name} at ${other.where()} is in wave ${wave} too)`,
          `give the region you added or edited a free wave, e.g. ${Math.max(...used) + 1} (released last); a region already serving keeps its wave and its rollout/wave-N branch`,
        ),
      );
    } else {
      seen.set(wave, { name: region.config.name, where: elsewhere(region, ['rolloutWave']) });
    }
  }
  return issues;
};

/**
 * VPC CIDR blocks are disjoint, within a region and across regions: peering and transit gateway
 * routes cannot reach two VPCs through one block, and an east-west gateway admitting another
 * region's block would also admit (or, routed locally, never see) the overlapping one.
 */
const vpcCidrsAreDisjoint: Invariant = ({ regions }) => {
  const issues: ConfigIssue[] = [];
  const seen: { block: string; range: Cidr; region: string; where: () => string }[] = [];
  for (const region of regions) {
    region.config.vpcCidrs.forEach((block, index) => {
      const range = parseCidr(block);
      if (!('first' in range)) return; // the schema reported it
      const other = seen.find((s) => s.range.first <= range.last && range.first <= s.range.last);
      if (other) {
        const owner = other.region === region.config.name ? 'this region' : other.region;
        issues.push(
          region.source.issue(
            ['vpcCidrs', index],
            block,
            `a block that overlaps no other VPC block (${other.block} of ${owner} at ${other.where()} overlaps it)`,
            `use the block the region's VPC really has; VPCs that are peered or share a transit gateway need disjoint blocks, so a copied region file needs its own`,
          ),
        );
      } else seen.push({ block, range, region: region.config.name, where: elsewhere(region, ['vpcCidrs', index]) });
    });
  }
  return issues;
};

const exactlyOnePrimaryRegion: Invariant = ({ global, regions }) => {
  const primaries = regions.filter((r) => r.config.role === 'primary');
  if (primaries.length === 1) return [];
  if (primaries.length === 0) {
    const first = regions[0];
    return [
      first
        ? first.source.issue(['role'], '"secondary" in every region', 'exactly one region with role "primary"', 'set role: primary in the region that hosts the primary control flow')
        : global.source.issue([], 'no region files', 'at least one regions/<name>.yaml next to global.yaml', 'add a region file, e.g. copy a shipped one and rename it and its name:'),
    ];
  }
  // Which of them is wrong is the author's call: point at every one of them.
  return primaries.map((r) =>
    r.source.issue(
      ['role'],
      '"primary"',
      `exactly one primary region; also primary: ${primaries.filter((p) => p !== r).map((p) => p.config.name).join(', ')}`,
      'set role: secondary in all but one of them',
    ),
  );
};

/**
 * AWS zone names are their region and one letter, a to f (no region has more than six zones:
 * us-east-1 has a-f); anything else is a copy-paste slip or a typo, and the zone count feeds the
 * zone-outage capacity checks, so a zone that does not exist must not count.
 */
const zonesBelongToRegion: Invariant = ({ regions }) =>
  regions.flatMap((region) =>
    region.config.provider !== 'aws'
      ? []
      : region.config.zones.flatMap((zone, index) =>
          new RegExp(`^${region.config.name}[a-f]$`).test(zone)
            ? []
            : [
                region.source.issue(
                  ['zones', index],
                  JSON.stringify(zone),
                  `a zone of ${region.config.name}, e.g. ${region.config.name}a`,
                  `use a zone of ${region.config.name}: ${region.config.name} followed by one letter from a to f (aws ec2 describe-availability-zones --region ${region.config.name})`,
                ),
              ],
        ),
  );

/** LimitRange defaults must fit under its own maxima, and quota limits above quota requests. */
const namespaceSizingIsConsistent: Invariant = ({ regions }) =>
  regions.flatMap((region) =>
    (['app', 'data', 'monitoring'] as const).flatMap((role) => {
      const sizing = region.config.namespaces[role];
      if (!sizing) return []; // a standby region has no app namespace (regionRoleShape)
      const { quota, containerDefaults: d } = sizing;
      const base = ['namespaces', role];
      const issues: ConfigIssue[] = [];
      const atMost = (field: string, value: string, boundField: string, bound: string, path: (string | number)[]) => {
        if (parseQuantity(value) > parseQuantity(bound)) {
          issues.push(region.source.issue([...base, ...path], value, `<= ${boundField} (${bound})`, `lower ${field} or raise ${boundField}`));
        }
      };
      atMost('containerDefaults.requestMemory', d.requestMemory, 'containerDefaults.limitMemory', d.limitMemory, ['containerDefaults', 'requestMemory']);
      atMost('containerDefaults.limitMemory', d.limitMemory, 'containerDefaults.maxMemory', d.maxMemory, ['containerDefaults', 'limitMemory']);
      atMost('containerDefaults.requestCpu', d.requestCpu, 'containerDefaults.maxCpu', d.maxCpu, ['containerDefaults', 'requestCpu']);
      atMost('quota.requestsMemory', quota.requestsMemory, 'quota.limitsMemory', quota.limitsMemory, ['quota', 'requestsMemory']);
      return issues;
    }),
  );

/**
 * The app namespace must admit everything the autoscalers may ask for during a release: the API
 * at its maximum plus what the canary adds (capacity.ts `apiCanaryExtraPercent`: 100 % with an
 * instant abort, whose stable ReplicaSet keeps its full size until the promoted canary is at
 * 100 %; the largest weight step with dynamicStableScale), plus the web front end twice over
 * (a blue-green release runs the preview stack at full size beside the active one), each pod with
 * its istio-proxy sidecar. Otherwise a traffic peak during a release hits the quota and new pods
 * are refused.
 */
const appQuotaHoldsPeak: Invariant = ({ global, regions }) =>
  servingRegions(regions).flatMap((region) => {
    const { api, web } = region.config.autoscaling;
    // The stable API at its maximum plus the canary beside it: at 100 % (promotion) when
    // delivery.api.abortScaling is instant (stable stays at full size), the largest weight step
    // when dynamic. regions/capacity.ts, apiCanaryExtraPercent, cites Argo Rollouts.
    const apiPods = apiPeakPods(global.config, region.config);
    const webPods = 2 * web.maxReplicas;
    const quota = region.config.namespaces.app.quota;
    const base = ['namespaces', 'app', 'quota'];
    const sidecar = global.config.mesh.sidecar;
    const w = global.config.workloads;
    const gates = Object.values(RELEASE_GATE_JOBS);
    const why = `autoscaling.api.maxReplicas (${api.maxReplicas}) API pods + ${apiCanaryExtraWhy(global.config)} + 2 x autoscaling.web.maxReplicas (${web.maxReplicas}) web pods (blue-green runs two stacks) + the ${gates.length} release-gate Jobs (load test, smoke tests), each with its sidecar`;
    const issues: ConfigIssue[] = [];
    const pods = apiPods + webPods + gates.length;
    if (quota.pods < pods) {
      issues.push(
        region.source.issue([...base, 'pods'], fmt(quota.pods), `>= ${pods} = ${why}`, `raise namespaces.app.quota.pods by ${pods - quota.pods} or lower the maxima`),
      );
    }
    const need = (pick: (r: { cpu?: string; memory: string }, s: { cpu?: string; memory: string }) => [string, string]) => {
      const [a, sa] = pick(w.api.resources.requests, sidecar.requests);
      const [b, sb] = pick(w.web.resources.requests, sidecar.requests);
      const gateNeed = gates.reduce((n, g) => {
        const [c, sc] = pick(g.requests, sidecar.requests);
        return n + parseQuantity(c) + parseQuantity(sc);
      }, 0);
      return apiPods * (parseQuantity(a) + parseQuantity(sa)) + webPods * (parseQuantity(b) + parseQuantity(sb)) + gateNeed;
    };
    const checks: Array<[string, string, number, (n: number) => string]> = [
      ['requestsCpu', quota.requestsCpu, need((r, s) => [r.cpu!, s.cpu!]), (n) => String(Math.ceil(n))],
      ['requestsMemory', quota.requestsMemory, need((r, s) => [r.memory, s.memory]), (n) => `${Math.ceil(n / 1024 ** 3)}Gi`],
      [
        'limitsMemory',
        quota.limitsMemory,
        apiPods * (parseQuantity(w.api.resources.limits.memory) + parseQuantity(sidecar.limits.memory)) +
          webPods * (parseQuantity(w.web.resources.limits.memory) + parseQuantity(sidecar.limits.memory)) +
          gates.reduce((n, g) => n + parseQuantity(g.limits.memory) + parseQuantity(sidecar.limits.memory), 0),
        (n) => `${Math.ceil(n / 1024 ** 3)}Gi`,
      ],
    ];
    for (const [field, value, needed, show] of checks) {
      if (parseQuantity(value) + 1e-9 < needed) {
        // Past what the field may hold, raising the quota is no fix: the per-pod sizes in
        // global.yaml (or the replica maxima) are what is off.
        const max = field === 'requestsCpu' ? QUOTA_CPU.max : QUOTA_MEMORY.max;
        const fix = needed > parseQuantity(max)
          ? `this is past the field's maximum ${max}: lower the per-pod ${field === 'requestsCpu' ? 'requests' : field === 'requestsMemory' ? 'memory requests' : 'memory limits'} of workloads.api/web or mesh.sidecar in regions/global.yaml, or the autoscaling maxima`
          : `set namespaces.app.quota.${field} to at least ${show(needed)}`;
        issues.push(region.source.issue([...base, field], value, `>= ${show(needed)} for ${why}`, fix));
      }
    }
    return issues;
  });

/** Every zone gets a pod: fewer minimum replicas than zones leaves a zone without the service. */
const minReplicasCoverZones: Invariant = ({ regions }) =>
  servingRegions(regions).flatMap((region) =>
    (['api', 'web'] as const).flatMap((workload) => {
      const min = region.config.autoscaling[workload].minReplicas;
      const zones = region.config.zones.length;
      return min >= zones
        ? []
        : [region.source.issue(['autoscaling', workload, 'minReplicas'], fmt(min), `>= ${zones}, the number of zones, so a zone outage leaves the others serving`, `raise autoscaling.${workload}.minReplicas to ${zones}`)];
    }),
  );

/** Canary weights go up step by step; 100 % is the final promotion, not a step. */
const canaryStepsIncrease: Invariant = ({ global }) => {
  const steps = global.config.delivery.api.canarySteps;
  return steps.flatMap((weight, i) =>
    i > 0 && weight <= steps[i - 1]
      ? [global.source.issue(['delivery', 'api', 'canarySteps', i], fmt(weight), `> ${steps[i - 1]} (weights must increase)`, `list the weights in increasing order, e.g. [${[...new Set(steps)].sort((a, b) => a - b).join(', ')}]`)]
      : [],
  );
};

/** Workload sizes must fit their own limits, the namespace LimitRange and the VPA bounds. */
const workloadSizesFit: Invariant = ({ global, regions }) => {
  const issues: ConfigIssue[] = [];
  for (const name of ['api', 'web'] as const) {
    const w = global.config.workloads[name];
    const base = ['workloads', name];
    const q = parseQuantity;
    if (q(w.resources.requests.memory) > q(w.resources.limits.memory)) {
      issues.push(global.source.issue([...base, 'resources', 'requests', 'memory'], w.resources.requests.memory, `<= resources.limits.memory (${w.resources.limits.memory})`, `lower the request to ${w.resources.limits.memory} or less, or raise resources.limits.memory`));
    }
    for (const res of ['cpu', 'memory'] as const) {
      const { minAllowed, maxAllowed } = w.vpa;
      if (q(minAllowed[res]) > q(maxAllowed[res])) {
        issues.push(global.source.issue([...base, 'vpa', 'minAllowed', res], minAllowed[res], `<= vpa.maxAllowed.${res} (${maxAllowed[res]})`, `swap vpa.minAllowed.${res} and vpa.maxAllowed.${res}, or lower minAllowed to ${maxAllowed[res]} or less`));
      } else if (q(w.resources.requests[res]) < q(minAllowed[res]) || q(w.resources.requests[res]) > q(maxAllowed[res])) {
        issues.push(
          global.source.issue([...base, 'resources', 'requests', res], w.resources.requests[res], `within the VPA bounds ${minAllowed[res]}..${maxAllowed[res]}`, 'move the request or the vpa bounds'),
        );
      }
    }
    for (const region of servingRegions(regions)) {
      const max = region.config.namespaces.app.containerDefaults;
      if (q(w.resources.limits.memory) > q(max.maxMemory) || q(w.vpa.maxAllowed.memory) > q(max.maxMemory)) {
        issues.push(
          region.source.issue(['namespaces', 'app', 'containerDefaults', 'maxMemory'], max.maxMemory, `>= the ${name} memory limit and VPA maximum (${w.resources.limits.memory}, ${w.vpa.maxAllowed.memory} in regions/global.yaml)`, `raise namespaces.app.containerDefaults.maxMemory, or lower the ${name} limit and VPA maximum in regions/global.yaml`),
        );
      }
      if (q(w.vpa.maxAllowed.cpu) > q(max.maxCpu)) {
        issues.push(region.source.issue(['namespaces', 'app', 'containerDefaults', 'maxCpu'], max.maxCpu, `>= the ${name} VPA maximum CPU (${w.vpa.maxAllowed.cpu} in regions/global.yaml)`, `raise namespaces.app.containerDefaults.maxCpu to ${w.vpa.maxAllowed.cpu}, or lower workloads.${name}.vpa.maxAllowed.cpu`));
      }
    }
  }
  return issues;
};

/**
 * Connection budget, client side: every serving region's API reaches every shard (the shard map
 * in regions/router.ts), so a shard's PgBouncer must accept the clients of all of them at once:
 * each region's API pods at autoscaling.api.maxReplicas plus what the canary adds, x
 * postgres.apiPoolPerPod, plus a margin for uneven spread, and at least the 2,000 clients the
 * platform promises per shard; each PgBouncer pod's own exporter takes one of its clients. It must
 * do so one failure down (a zone outage or a drain), and so must the DR site, which gets the same
 * clients after a promotion with the same shard config.
 */
const pgbouncerHoldsApiPools: Invariant = ({ global, regions }) => {
  const serving = servingRegions(regions);
  const demand = shardClientDemand(global.config, serving.map((r) => r.config));
  const zonesOf = new Map(regions.map((r) => [r.config.name, r.config.zones.length]));
  const pool = global.config.postgres.apiPoolPerPod;
  const perRegion = demand.regions.map((r) => `${r.region} ${r.apiPods}`).join(' + ');
  const apiPods = demand.regions.reduce((sum, r) => sum + r.apiPods, 0);
  return regions.flatMap((region) =>
    region.config.shards.flatMap((shard, index) => {
      const zones = Math.min(region.config.zones.length, zonesOf.get(shard.disasterRecovery.region) ?? region.config.zones.length);
      const capacity = shardClientCapacity(shard, zones);
      if (capacity.clients >= demand.required) return [];
      const field = `shards[${index}].pgbouncer`;
      const fix =
        capacity.podsLeft > 0
          ? `short by ${demand.required - capacity.clients}: set ${field}.maxClientConnectionsPerReplica to ${Math.ceil(demand.required / capacity.podsLeft) + PGBOUNCER_ADMIN_CLIENTS_PER_POD}, add PgBouncer replicas, or lower postgres.apiPoolPerPod`
          : `a zone outage takes every PgBouncer pod (${shard.pgbouncer.replicas} replicas in ${zones} zone(s)): run the shard's sites in regions with more zones`;
      return [
        region.source.issue(
          ['shards', index, 'pgbouncer', 'maxClientConnectionsPerReplica'],
          `(${shard.pgbouncer.maxClientConnectionsPerReplica} - ${PGBOUNCER_ADMIN_CLIENTS_PER_POD} for the exporter) x (${shard.pgbouncer.replicas} replicas - ${capacity.podsLost} a zone outage or drain may take) = ${capacity.clients}`,
          `>= ${demand.required} client connections to shard ${shard.id}: every serving region's API reaches it, ${perRegion} = ${apiPods} API pods (autoscaling.api.maxReplicas + ${apiCanaryExtraWhy(global.config)}) x postgres.apiPoolPerPod (${pool}) = ${demand.clients}, + ${CLIENT_SPREAD_MARGIN_PERCENT} % for uneven spread = ${demand.withMargin}, and at least ${MIN_CLIENT_CONNECTIONS_PER_SHARD} per shard`,
          fix,
        ),
      ];
    }),
  );
};

/**
 * Connection budget, server side: every PgBouncer pod that can exist at once, replicas + maxSurge
 * + the one still draining during a rollout, opens up to its pool per Postgres instance; together they stay within
 * max_connections - reserved (shardPools splits the budget over that many), and each still gets a
 * usable pool.
 */
const pgbouncerFitsPostgres: Invariant = ({ global, regions }) =>
  regions.flatMap((region) =>
    region.config.shards.flatMap((shard, index) => {
      const pools = shardPools(global.config, shard);
      const minimum = 10;
      if (pools.poolSizePerReplica >= minimum && pools.serverConnections <= pools.serverBudget) return [];
      const { maxSurge, drainingPods } = PGBOUNCER_ROLLOUT;
      const maxReplicas = Math.floor(pools.serverBudget / minimum) - maxSurge - drainingPods;
      return [
        region.source.issue(
          ['shards', index, 'pgbouncer', 'replicas'],
          `${shard.pgbouncer.replicas} (+ maxSurge ${maxSurge} + ${drainingPods} draining during a rollout = ${pools.rolloutPods} PgBouncer pods, ${pools.poolSizePerReplica} server connections each)`,
          `few enough PgBouncer pods that each of the ${pools.rolloutPods} a rollout can run gets >= ${minimum} server connections of the ${pools.serverBudget} Postgres allows (max_connections ${postgresSettings(global.config).maxConnections} - reservedConnections ${global.config.postgres.reservedConnections})`,
          maxReplicas >= 2
            ? `set shards[${index}].pgbouncer.replicas to ${maxReplicas} or fewer, or give Postgres more memory (max_connections follows it)`
            : 'give Postgres more memory (max_connections follows it) or lower postgres.reservedConnections',
        ),
      ];
    }),
  );

/** A WAL segment older than the RPO must already be archived. */
const archiveTimeoutWithinRpo: Invariant = ({ global }) => {
  const { archiveTimeoutSeconds, rpoSeconds } = global.config.postgres;
  return archiveTimeoutSeconds <= rpoSeconds
    ? []
    : [global.source.issue(['postgres', 'archiveTimeoutSeconds'], fmt(archiveTimeoutSeconds), `<= postgres.rpoSeconds (${rpoSeconds}): WAL older than the RPO must be archived`, `set archiveTimeoutSeconds to ${rpoSeconds} or less`)];
};

/**
 * A failed region must stop being answered within the RTO: Route 53 needs requestInterval x
 * failureThreshold to mark its health check unhealthy, and resolvers keep the old answer for up
 * to the TTL after that. (Route 53's own propagation, typically under a minute, is inside the
 * margin the RTO leaves; the records themselves need no change: health-checked records are left
 * out of answers as soon as the check fails.)
 */
const dnsFailoverWithinRto: Invariant = ({ global }) => {
  const { ttlSeconds, healthCheck } = global.config.dns;
  const { rtoSeconds } = global.config.postgres;
  const detection = healthCheck.requestIntervalSeconds * healthCheck.failureThreshold;
  const total = ttlSeconds + detection;
  if (total <= rtoSeconds) return [];
  const ttlFix = rtoSeconds - detection >= 1 ? `lower dns.ttlSeconds to ${rtoSeconds - detection} or less` : 'lower dns.ttlSeconds';
  return [
    global.source.issue(
      ['dns', 'ttlSeconds'],
      `${ttlSeconds} s TTL + ${healthCheck.requestIntervalSeconds} s x ${healthCheck.failureThreshold} (dns.healthCheck.requestIntervalSeconds x failureThreshold) = ${total} s until every resolver stops answering with a failed region`,
      `<= postgres.rtoSeconds (${rtoSeconds}): DNS failover must finish within the RTO`,
      `${ttlFix}, or detect faster (dns.healthCheck.requestIntervalSeconds 10, a lower failureThreshold)`,
    ),
  ];
};

/** The public host names live in the zone external-dns may write (its domainFilters). */
const publicHostsInDnsZone: Invariant = ({ global }) => {
  const { zone } = global.config.dns;
  return (['webHost', 'apiHost'] as const)
    .filter((key) => !global.config.ingress[key].endsWith(`.${zone}`))
    .map((key) =>
      global.source.issue(
        ['ingress', key],
        global.config.ingress[key],
        `a name inside dns.zone (${zone}): external-dns writes only that Route 53 zone`,
        `use a host under ${zone}, or set dns.zone to the zone holding ${global.config.ingress[key]}`,
      ),
    );
};

/**
 * Each region's records point at its own load balancer and carry its own health check: a name
 * copied from another region would send that region's traffic twice and never fail it over.
 */
const regionDnsIsItsOwn: Invariant = ({ regions }) => {
  const issues: ConfigIssue[] = [];
  const healthChecks = new Map<string, { name: string; where: () => string }>();
  for (const region of servingRegions(regions)) {
    const { name, provider, dns } = region.config;
    if (provider !== 'aws') {
      issues.push(region.source.issue(['provider'], provider, 'aws: public DNS is Route 53 (latency records by AWS region, Route 53 health checks)', 'run the region on AWS, or extend charts/dns for its provider'));
    }
    const suffix = `.elb.${name}.amazonaws.com`;
    if (dns.ingressLoadBalancer !== undefined && !dns.ingressLoadBalancer.endsWith(suffix)) {
      issues.push(
        region.source.issue(
          ['dns', 'ingressLoadBalancer'],
          dns.ingressLoadBalancer,
          `the load balancer of this region's ingress gateway (a name ending in ${suffix})`,
          `kubectl -n istio-ingress get svc istio-ingressgateway -o jsonpath='{.status.loadBalancer.ingress[0].hostname}' on ${name}'s cluster`,
        ),
      );
    }
    const other = healthChecks.get(dns.healthCheckId);
    if (other !== undefined) {
      issues.push(
        region.source.issue(
          ['dns', 'healthCheckId'],
          dns.healthCheckId,
          `a health check of its own (${other.name} at ${other.where()} uses this one too)`,
          'in the region you added or copied, use the ID of the Route 53 health check of that region\'s ingress',
        ),
      );
    } else healthChecks.set(dns.healthCheckId, { name, where: elsewhere(region, ['dns', 'healthCheckId']) });
  }
  return issues;
};

/**
 * Addresses that belong to one region and are easy to keep when a region file is copied: the
 * east-west gateway every other region sends this region's cross-region traffic to (a copy's
 * would send the new region's shards to the old region), and the IAM role external-dns assumes.
 * A value naming another region and not its own is that slip; two regions with one gateway are
 * one too, whatever the names.
 */
const regionAddressesAreTheirOwn: Invariant = ({ regions }) => {
  const issues: ConfigIssue[] = [];
  const names = regions.map((r) => r.config.name);
  const namesOther = (value: string, own: string) => {
    if (value.includes(own)) return undefined;
    return names.find((n) => n !== own && value.includes(n));
  };
  const flagged = new Set<string>();
  for (const region of regions) {
    const { name, eastWestGateway } = region.config;
    const other = namesOther(eastWestGateway, name);
    if (other) {
      flagged.add(name);
      issues.push(region.source.issue(['eastWestGateway'], eastWestGateway, `the address of ${name}'s own east-west gateway (this one names ${other}: the other regions would send ${name}'s cross-region traffic there)`, `set it to ${name}'s gateway address, e.g. ${eastWestGateway.split(other).join(name)}`));
    }
    const role = region.config.dns?.externalDnsRoleArn;
    const roleOther = role === undefined ? undefined : namesOther(role, name);
    if (role !== undefined && roleOther) {
      issues.push(region.source.issue(['dns', 'externalDnsRoleArn'], role, `the IAM role of ${name}'s external-dns (this one names ${roleOther})`, `set it to ${name}'s role, e.g. ${role.split(roleOther).join(name)}`));
    }
  }
  const seen = new Map<string, string>();
  for (const region of regions) {
    const { name, eastWestGateway } = region.config;
    const other = seen.get(eastWestGateway);
    if (other !== undefined && !flagged.has(name) && !flagged.has(other)) {
      issues.push(region.source.issue(['eastWestGateway'], eastWestGateway, `a gateway of its own (regions/${other}.yaml has the same address)`, `set it to the address of ${name}'s east-west gateway load balancer`));
    } else if (other === undefined) seen.set(eastWestGateway, name);
  }
  return issues;
};

/**
 * Redis needs room above maxmemory for what eviction does not count (the replication backlog and
 * a syncing replica's output buffer), fragmentation and the copy-on-write of a fork: keep
 * maxmemory at most 80 % of the container limit and below the limit less all of that
 * (redisMaxmemoryCeiling), or the kernel OOM-kills the master in the middle of a full sync.
 */
const redisMemoryBelowLimit: Invariant = ({ global }) =>
  (['cache', 'sessions', 'rateLimit'] as const).flatMap((tier) => {
    const t = global.config.redis.tiers[tier];
    const limit = parseQuantity(t.resources.limits.memory);
    const max = parseQuantity(t.maxmemory);
    const issues: ConfigIssue[] = [];
    const ceiling = redisMaxmemoryCeiling(limit);
    if (max > ceiling) {
      const h = REDIS_MEMORY_HEADROOM;
      issues.push(
        global.source.issue(
          ['redis', 'tiers', tier, 'maxmemory'],
          t.maxmemory,
          `<= ${Math.floor(ceiling / 1024 ** 2)}Mi for a ${t.resources.limits.memory} limit: at most ${h.maxmemoryPercent} %, and leaving room for what eviction does not count (${h.replBacklogMib}Mi replication backlog + ${h.replicaOutputBufferMib}Mi output buffer of a syncing replica) and ${h.forkAndFragmentationPercent} % for fragmentation and fork copy-on-write`,
          `lower maxmemory to ${Math.floor(ceiling / 1024 ** 2)}Mi or raise resources.limits.memory`,
        ),
      );
    }
    const persistent = tier === 'sessions';
    if (persistent !== (t.storage !== undefined)) {
      issues.push(
        global.source.issue(['redis', 'tiers', tier, 'storage'], t.storage ?? 'nothing', persistent ? 'a volume size: sessions are persisted (AOF)' : 'no storage: this tier keeps no data on disk', persistent ? 'add storage' : 'remove storage'),
      );
    }
    return issues;
  });

/** `v1.8.4` and `1.8.4` name the same release (Helm appVersions and tags differ in the `v`). */
const release = (version: string) => version.replace(/^v/, '');

/** A Helm chart that installs CRDs installs the release imports/ was generated from. */
export const chartCrdsMatchImports: Invariant = ({ versions }) => {
  const { helmCharts, crds } = versions.config;
  return Object.entries(helmCharts).flatMap(([key, chart]) => {
    if (chart.crds === undefined) return [];
    const pin = crds[chart.crds];
    return release(pin.version) === release(chart.appVersion)
      ? []
      : [
          versions.source.issue(
            ['helmCharts', key, 'appVersion'],
            chart.appVersion,
            `${pin.version}, the release of crds.${chart.crds} (${pin.project}@${pin.commit.slice(0, 12)}) whose CRDs imports/ is generated from`,
            `pick the ${chart.chart} chart release of ${pin.version}, or move crds.${chart.crds} (and cdk8s.yaml) to ${chart.appVersion}`,
          ),
        ];
  });
};

/** Pins that upstream releases together, under one version: bumped together or not at all. */
const RELEASED_TOGETHER: ReadonlyArray<readonly [section: 'images' | 'helmCharts', keys: readonly string[]]> = [
  ['helmCharts', ['istioBase', 'istioCni', 'istiod', 'istioGateway']],
  ['images', ['jaeger', 'jaegerEsIndexCleaner']],
];

export const releasedTogetherShareVersion: Invariant = ({ versions }) =>
  RELEASED_TOGETHER.flatMap(([section, keys]) => {
    const entries = versions.config[section] as Record<string, { version: string }>;
    const [first, ...rest] = keys;
    const version = entries[first!]!.version;
    return rest
      .filter((key) => entries[key]!.version !== version)
      .map((key) =>
        versions.source.issue(
          [section, key, 'version'],
          entries[key]!.version,
          `${version}, the version of ${section}.${first} (${keys.join(', ')} are released together)`,
          `set ${keys.map((k) => `${section}.${k}`).join(', ')} to one version`,
        ),
      );
  });

/** Every invariant, in the order problems are reported. */
const INVARIANTS: readonly Invariant[] = [
  regionRoleShape,
  franchiseSpaceIsRange,
  shardsCoverFranchiseSpace,
  shardResidencyMatchesRegion,
  shardIdsAreUnique,
  autoscalingMinNotAboveMax,
  clusterNamesAreUnique,
  rolloutWavesAreUnique,
  vpcCidrsAreDisjoint,
  exactlyOnePrimaryRegion,
  zonesBelongToRegion,
  namespaceSizingIsConsistent,
  appQuotaHoldsPeak,
  minReplicasCoverZones,
  canaryStepsIncrease,
  workloadSizesFit,
  pgbouncerHoldsApiPools,
  pgbouncerFitsPostgres,
  archiveTimeoutWithinRpo,
  shardsHaveResidentDrSite,
  standbyRegionsHostDrSites,
  backupBucketsAreDistinct,
  drSiteWithinRpo,
  routeBudgetsHold,
  dnsFailoverWithinRto,
  publicHostsInDnsZone,
  regionDnsIsItsOwn,
  regionAddressesAreTheirOwn,
  redisMemoryBelowLimit,
  storageClassesAreOurs,
  redisClassOnlyWhenPersisted,
  kmsKeyInRegion,
  backupKmsKeyOnlyForS3,
  chartCrdsMatchImports,
  releasedTogetherShareVersion,
  derivedLimitsHold,
];

export function checkInvariants(model: LoadedModel): ConfigIssue[] {
  // A region whose name is not its file's (a typo in name, a copied file) is judged by nothing
  // else: every other check would read it as that other region (its zones, its KMS key, its
  // load balancer) and suggest "fixes" that make it so.
  // (The identity check runs here, first, and not again in INVARIANTS.)
  const identity = regionNamesAreUniqueAndMatchFiles(model);
  if (identity.length > 0) return identity;
  return INVARIANTS.flatMap((invariant) => invariant(model));
}
