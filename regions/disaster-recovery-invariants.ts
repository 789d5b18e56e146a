/**
 * Rules of regional disaster recovery: every shard has a DR site outside its home region and
 * inside its residency, the site that takes writes is one of the two, standby-only regions
 * serve nobody, and a DR site can never fall further behind than the RPO.
 */
import type { ConfigIssue } from './config-error';
import type { Invariant, LoadedRegion } from './invariants';

const SERVING_ONLY = ['autoscaling', 'dns'] as const;

/**
 * Serving regions (primary, secondary) carry autoscaling, public DNS and an app namespace; a
 * standby region carries none of them and homes no shard (it only hosts DR sites), so nothing
 * in its file is silently ignored.
 */
export const regionRoleShape: Invariant = ({ regions }) =>
  regions.flatMap((region) => {
    const c = region.config;
    const issues: ConfigIssue[] = [];
    if (c.role === 'standby') {
      for (const field of SERVING_ONLY) {
        if (c[field] !== undefined) {
          issues.push(region.source.issue([field], 'set', `absent: a standby region (role: standby) serves no users`, `remove ${field}, or make the region a secondary`));
        }
      }
      if (c.namespaces.app !== undefined) {
        issues.push(region.source.issue(['namespaces', 'app'], 'set', 'absent: a standby region runs no API or web front end', 'remove namespaces.app'));
      }
      if (c.shards.length > 0) {
        issues.push(
          region.source.issue(['shards'], `${c.shards.length} shard(s) homed here`, 'none: a standby region only hosts DR sites of shards homed in serving regions', 'move the shards to a serving region of the same residency'),
        );
      }
      return issues;
    }
    for (const field of SERVING_ONLY) {
      if (c[field] === undefined) {
        issues.push(region.source.issue([field], 'nothing (field missing)', `${field}: a ${c.role} region serves users`, `add ${field} (see regions/us-east-1.yaml), or set role: standby`));
      }
    }
    if (c.namespaces.app === undefined) {
      issues.push(region.source.issue(['namespaces', 'app'], 'nothing (field missing)', `the app namespace sizing: a ${c.role} region runs the API and web front end`, 'add namespaces.app (see regions/us-east-1.yaml)'));
    }
    return issues;
  });

/**
 * Every shard survives the loss of its home region: its DR site is another region of the file
 * set, in the shard's own residency (an EU shard's standby, WAL archive and base backups never
 * leave the EU), and the active site is one of the two.
 */
export const shardsHaveResidentDrSite: Invariant = ({ regions }) => {
  const byName = new Map(regions.map((r) => [r.config.name, r]));
  const issues: ConfigIssue[] = [];
  for (const home of regions) {
    home.config.shards.forEach((shard, index) => {
      // A shard whose residency is not its home region's is reported as such (invariants.ts):
      // judging its DR site by that residency would only suggest moving the DR site too.
      if (shard.residency !== home.config.residency) return;
      const path = ['shards', index, 'disasterRecovery', 'region'];
      const dr = shard.disasterRecovery.region;
      const site = byName.get(dr);
      const sameResidency = regions.filter((r) => r.config.residency === shard.residency && r.config.name !== home.config.name).map((r) => r.config.name);
      const candidates = sameResidency.length > 0
        ? `one of ${sameResidency.join(', ')}`
        : `a new standby-only region file of residency "${shard.residency}" (role: standby, see regions/eu-central-1.yaml)`;
      if (dr === home.config.name) {
        issues.push(home.source.issue(path, JSON.stringify(dr), 'a region other than the home region: losing the region would lose both sites', `set it to ${candidates}`));
      } else if (!site) {
        issues.push(home.source.issue(path, JSON.stringify(dr), `a region with a file in regions/ (${regions.map((r) => r.config.name).join(', ')})`, `set it to ${candidates}, or add regions/${dr}.yaml`));
      } else if (site.config.residency !== shard.residency) {
        issues.push(
          home.source.issue(
            path,
            `${JSON.stringify(dr)} (residency "${site.config.residency}")`,
            `a region of the shard's residency "${shard.residency}": the standby and its WAL archive and base backups hold the shard's data`,
            // With no other region of the shard's residency, the DR region's own residency may be
            // the slip (an edited or copied standby file): say where it is.
            sameResidency.length > 0 ? `set it to ${candidates}` : `set it to ${candidates}; or, if ${dr} is in "${shard.residency}", correct residency at ${site.source.where(['residency'])}`,
          ),
        );
      }
      const active = shard.activeRegion;
      // Promoted, the DR site takes the shard's writes: a leader and at least one replica, so that
      // Patroni has a failover target and the read-only endpoint a member (the home site keeps two
      // read replicas; a DR site may run leaner until it is promoted, not after).
      const promotedMinimum = 2;
      if (active === dr && active !== home.config.name && shard.disasterRecovery.members < promotedMinimum) {
        issues.push(
          home.source.issue(
            ['shards', index, 'disasterRecovery', 'members'],
            String(shard.disasterRecovery.members),
            `at least ${promotedMinimum} while the DR site takes the shard's writes (activeRegion ${dr}): a leader and a replica; a single member is the shard's only copy in the region, with no failover target and no read endpoint`,
            `set disasterRecovery.members to ${promotedMinimum} in the same change (the standby site grows its replicas from its standby leader before the promotion takes effect)`,
          ),
        );
      }
      if (active !== undefined && active !== home.config.name && active !== dr) {
        issues.push(
          home.source.issue(
            ['shards', index, 'activeRegion'],
            JSON.stringify(active),
            `the home region (${home.config.name}) or the DR site (${dr}): only those two hold the shard`,
            `remove activeRegion to keep writes at home, or set it to ${dr} to promote the DR site`,
          ),
        );
      }
    });
  }
  return issues;
};

/** A standby region exists for DR sites; one that hosts none costs money and protects nothing. */
export const standbyRegionsHostDrSites: Invariant = ({ regions }) => {
  const hosted = new Set(regions.flatMap((r) => r.config.shards.map((s) => s.disasterRecovery.region)));
  return regions
    .filter((r) => r.config.role === 'standby' && !hosted.has(r.config.name))
    .map((r: LoadedRegion) =>
      r.source.issue(['role'], '"standby" with no DR site hosted here', `a region named by some shard's disasterRecovery.region`, `point a shard of residency "${r.config.residency}" at ${r.config.name}, or delete this file`),
    );
};

/**
 * A DR copy in the bucket it copies is no copy: every region writes its own bucket. Of regions
 * sharing one, the one whose bucket is named after it keeps it; the others are told to move.
 */
export const backupBucketsAreDistinct: Invariant = ({ regions }) => {
  const byBucket = new Map<string, LoadedRegion[]>();
  for (const region of regions) {
    const bucket = region.config.backup.bucket.replace(/^[a-z0-9]+:\/\//, '').split('/')[0]!;
    byBucket.set(bucket, [...(byBucket.get(bucket) ?? []), region]);
  }
  const issues: ConfigIssue[] = [];
  for (const [bucket, sharing] of byBucket) {
    if (sharing.length < 2) continue;
    const owner = sharing.find((r) => bucket.endsWith(`-${r.config.name}`)) ?? sharing[0]!;
    const stem = bucket.replace(/-[a-z]{2}-[a-z]+-[0-9]$/, '');
    for (const region of sharing.filter((r) => r !== owner)) {
      issues.push(
        region.source.issue(
          ['backup', 'bucket'],
          region.config.backup.bucket,
          `a bucket of its own (${owner.config.name} writes to ${bucket}); a DR site's copy must survive the loss of the home region's bucket`,
          `use a bucket in ${region.config.name}, e.g. s3://${stem}-${region.config.name}`,
        ),
      );
    }
  }
  return issues;
};

/**
 * The DR site's worst case: it streams from the active primary over the east-west gateways,
 * and when that stream is broken at the moment the home region dies it has only what reached
 * the WAL archive: a segment is switched at most archive_timeout after its first write,
 * uploaded within walUploadBudgetSeconds, and fetched by the standby's next poll
 * (wal_retrieve_retry_interval). All of it must fit the RPO.
 */
export const drSiteWithinRpo: Invariant = ({ global }) => {
  const pg = global.config.postgres;
  const worst = pg.archiveTimeoutSeconds + pg.walUploadBudgetSeconds + pg.walRetrieveRetryIntervalSeconds;
  if (worst <= pg.rpoSeconds) return [];
  const room = pg.rpoSeconds - pg.walUploadBudgetSeconds - pg.walRetrieveRetryIntervalSeconds;
  return [
    global.source.issue(
      ['postgres', 'archiveTimeoutSeconds'],
      `${pg.archiveTimeoutSeconds} s + walUploadBudgetSeconds ${pg.walUploadBudgetSeconds} s + walRetrieveRetryIntervalSeconds ${pg.walRetrieveRetryIntervalSeconds} s = ${worst} s that a DR site can lag behind when its stream is broken`,
      `<= postgres.rpoSeconds (${pg.rpoSeconds}): losing the home region must not lose more than the RPO`,
      room >= 1 ? `set archiveTimeoutSeconds to ${room} or less` : 'lower walUploadBudgetSeconds and walRetrieveRetryIntervalSeconds, or raise rpoSeconds',
    ),
  ];
};
