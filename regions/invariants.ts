/**
 * Rules that span fields or files, checked after every file passed its schema and before any
 * chart is built. Each rule is one function returning the problems it found; the message says
 * what the config must look like and which field to change.
 */
import type { ConfigIssue } from './config-error';
import type { GlobalConfig, RegionConfig } from './model';
import { parseQuantity } from './quantity';
import type { SourceFile } from './source-file';

export interface LoadedGlobal {
  readonly source: SourceFile;
  readonly config: GlobalConfig;
}

export interface LoadedRegion {
  readonly source: SourceFile;
  readonly config: RegionConfig;
}

export interface LoadedModel {
  readonly global: LoadedGlobal;
  readonly regions: readonly LoadedRegion[];
}

export type Invariant = (model: LoadedModel) => ConfigIssue[];

const fmt = (n: number) => String(n);

/** The franchise ID space must be a non-empty range. */
export const franchiseSpaceIsRange: Invariant = ({ global }) => {
  const { first, last } = global.config.franchiseIds;
  return first <= last
    ? []
    : [global.source.issue(['franchiseIds', 'last'], fmt(last), `>= franchiseIds.first (${first})`)];
};

/** Shard ranges tile the franchise ID space: every ID on exactly one shard. */
export const shardsCoverFranchiseSpace: Invariant = ({ global, regions }) => {
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
      issues.push(s.region.source.issue([...s.path, 'last'], fmt(last), `>= franchises.first (${first})`));
    } else if (first < space.first || last > space.last) {
      issues.push(
        s.region.source.issue(
          [...s.path],
          `${first}..${last}`,
          `a range inside the franchise ID space ${space.first}..${space.last} (regions/global.yaml franchiseIds)`,
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
          `set this first to ${next}, or end ${where(previous)} at ${first - 1}`,
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
        `extend ${where(previous)} to end at ${space.last}, or add a shard for ${next}..${space.last}`,
      ),
    );
  }
  return issues;
};

/** Data residency: a shard lives only in a region of its own residency zone. */
export const shardResidencyMatchesRegion: Invariant = ({ regions }) =>
  regions.flatMap((region) =>
    region.config.shards.flatMap((shard, index) =>
      shard.residency === region.config.residency
        ? []
        : [
            region.source.issue(
              ['shards', index, 'residency'],
              JSON.stringify(shard.residency),
              `"${region.config.residency}", the residency of region ${region.config.name}`,
              `home shard ${shard.id} in a region whose residency is "${shard.residency}"`,
            ),
          ],
    ),
  );

export const shardIdsAreUnique: Invariant = ({ regions }) => {
  const seen = new Map<number, string>();
  const issues: ConfigIssue[] = [];
  for (const region of regions) {
    region.config.shards.forEach((shard, index) => {
      const other = seen.get(shard.id);
      if (other) {
        issues.push(region.source.issue(['shards', index, 'id'], fmt(shard.id), `a shard id not used elsewhere (also in ${other})`));
      } else {
        seen.set(shard.id, region.source.file);
      }
    });
  }
  return issues;
};

/** HPA bounds: Kubernetes rejects minReplicas > maxReplicas. */
export const autoscalingMinNotAboveMax: Invariant = ({ regions }) =>
  regions.flatMap((region) =>
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
export const regionNamesAreUniqueAndMatchFiles: Invariant = ({ regions }) => {
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
    if (other) issues.push(region.source.issue(['name'], JSON.stringify(name), `a region name not used by ${other}`));
    else seen.set(name, region.source.file);
  }
  return issues;
};

export const clusterNamesAreUnique: Invariant = ({ regions }) => {
  const issues: ConfigIssue[] = [];
  const seen = new Map<string, string>();
  for (const region of regions) {
    for (const field of ['name', 'server'] as const) {
      const value = region.config.cluster[field];
      const other = seen.get(`${field}:${value}`);
      if (other) issues.push(region.source.issue(['cluster', field], JSON.stringify(value), `a cluster ${field} not used by ${other}`));
      else seen.set(`${field}:${value}`, region.source.file);
    }
  }
  return issues;
};

/** Rollout waves order regions one after another: two regions in one wave would release together. */
export const rolloutWavesAreUnique: Invariant = ({ regions }) => {
  const issues: ConfigIssue[] = [];
  const seen = new Map<number, string>();
  for (const region of regions) {
    const wave = region.config.rolloutWave;
    const other = seen.get(wave);
    if (other) {
      const used = [...seen.keys(), ...regions.map((r) => r.config.rolloutWave)];
      issues.push(
        region.source.issue(['rolloutWave'], fmt(wave), `a wave no other region uses (${other} is in wave ${wave})`, `set rolloutWave to ${Math.max(...used) + 1}`),
      );
    } else {
      seen.set(wave, region.config.name);
    }
  }
  return issues;
};

export const exactlyOnePrimaryRegion: Invariant = ({ global, regions }) => {
  const primaries = regions.filter((r) => r.config.role === 'primary');
  if (primaries.length === 1) return [];
  if (primaries.length === 0) {
    const first = regions[0];
    return [
      first
        ? first.source.issue(['role'], '"secondary" in every region', 'exactly one region with role "primary"', 'set role: primary in the region that hosts the primary control flow')
        : global.source.issue([], 'no region files', 'at least one regions/<name>.yaml next to global.yaml'),
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

/** AWS zone names start with their region (us-east-1a); anything else is a copy-paste slip. */
export const zonesBelongToRegion: Invariant = ({ regions }) =>
  regions.flatMap((region) =>
    region.config.provider !== 'aws'
      ? []
      : region.config.zones.flatMap((zone, index) =>
          new RegExp(`^${region.config.name}[a-z]$`).test(zone)
            ? []
            : [region.source.issue(['zones', index], JSON.stringify(zone), `a zone of ${region.config.name}, e.g. ${region.config.name}a`)],
        ),
  );

/** LimitRange defaults must fit under its own maxima, and quota limits above quota requests. */
export const namespaceSizingIsConsistent: Invariant = ({ regions }) =>
  regions.flatMap((region) =>
    (['app', 'data', 'monitoring'] as const).flatMap((role) => {
      const { quota, containerDefaults: d } = region.config.namespaces[role];
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
 * The app namespace must admit every pod the autoscalers may ask for: the API at its maximum
 * plus the web front end twice over, because a blue-green release runs the preview stack at
 * full size beside the active one. Otherwise a traffic peak during a release hits the quota.
 */
export const appQuotaHoldsPeakPods: Invariant = ({ regions }) =>
  regions.flatMap((region) => {
    const { api, web } = region.config.autoscaling;
    const needed = api.maxReplicas + 2 * web.maxReplicas;
    const pods = region.config.namespaces.app.quota.pods;
    return pods >= needed
      ? []
      : [
          region.source.issue(
            ['namespaces', 'app', 'quota', 'pods'],
            fmt(pods),
            `>= ${needed} = autoscaling.api.maxReplicas (${api.maxReplicas}) + 2 x autoscaling.web.maxReplicas (${web.maxReplicas}, blue-green runs two stacks)`,
            `raise namespaces.app.quota.pods by ${needed - pods} or lower the maxima`,
          ),
        ];
  });

/** Every invariant, in the order problems are reported. */
export const INVARIANTS: readonly Invariant[] = [
  franchiseSpaceIsRange,
  shardsCoverFranchiseSpace,
  shardResidencyMatchesRegion,
  shardIdsAreUnique,
  autoscalingMinNotAboveMax,
  regionNamesAreUniqueAndMatchFiles,
  clusterNamesAreUnique,
  rolloutWavesAreUnique,
  exactlyOnePrimaryRegion,
  zonesBelongToRegion,
  namespaceSizingIsConsistent,
  appQuotaHoldsPeakPods,
];

export function checkInvariants(model: LoadedModel): ConfigIssue[] {
  return INVARIANTS.flatMap((invariant) => invariant(model));
}
