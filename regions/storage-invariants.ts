/**
 * Rules of encrypted storage: every volume the platform renders names one of our StorageClasses
 * (an unknown class leaves the PVC Pending forever, and the cluster's default class, EKS' gp2, is
 * not encrypted with our key), durable data sits on the Retain class, and each region's KMS key is
 * in that region (EBS cannot encrypt a volume with a key of another region).
 */
import type { ConfigIssue } from './config-error';
import type { Invariant } from './invariants';
import { globalClaimClassFields, kmsKeyRegion, PERSISTED_REDIS_TIERS, regionClaimClassFields, retainClass, storageClasses, type ClaimClassField } from './storage';
import type { SourceFile } from './source-file';
import type { GlobalConfig } from './model';

function checkField(source: SourceFile, global: GlobalConfig, field: ClaimClassField): ConfigIssue[] {
  const ours = storageClasses(global);
  const names = ours.map((c) => c.name);
  const retain = retainClass(global);
  const suggestion = field.durable ? retain.name : names.join(' or ');
  if (field.className === undefined) {
    return [source.issue(field.path, 'nothing (field missing)', `one of our StorageClasses (${names.join(', ')}) for ${field.volumes}`, `set it to ${suggestion}`)];
  }
  const known = ours.find((c) => c.name === field.className);
  if (!known) {
    return [
      source.issue(
        field.path,
        JSON.stringify(field.className),
        `one of our StorageClasses (${names.join(', ')}, rendered by charts/storage, encrypted with the region's storage.kmsKeyArn) for ${field.volumes}`,
        `set it to ${suggestion}`,
      ),
    ];
  }
  if (field.durable && known.reclaimPolicy !== 'Retain') {
    return [
      source.issue(
        field.path,
        `${JSON.stringify(field.className)} (reclaimPolicy ${known.reclaimPolicy})`,
        `${retain.name} (reclaimPolicy Retain): ${field.volumes} hold data that cannot be re-created, so a deleted PVC must not delete the volume`,
        `set it to ${retain.name}`,
      ),
    ];
  }
  return [];
}

/** Every PVC and volumeClaimTemplate field names one of our classes; durable data the Retain one. */
export const storageClassesAreOurs: Invariant = ({ global, regions }) => [
  ...globalClaimClassFields(global.config).flatMap((f) => checkField(global.source, global.config, f)),
  ...regions.flatMap((r) => regionClaimClassFields(r.config).flatMap((f) => checkField(r.source, global.config, f))),
];

/** Only a persisted Redis tier names a class: on a memory-only tier it would configure nothing. */
export const redisClassOnlyWhenPersisted: Invariant = ({ global }) =>
  Object.entries(global.config.redis.tiers).flatMap(([tier, config]) =>
    config.storageClassName !== undefined && !PERSISTED_REDIS_TIERS.includes(tier)
      ? [global.source.issue(['redis', 'tiers', tier, 'storageClassName'], JSON.stringify(config.storageClassName), `absent: the ${tier} tier keeps no data on disk, so no volume uses it`, 'remove storageClassName')]
      : [],
  );

/**
 * The KMS keys of a region are in that region: EBS encrypts only with keys of the volume's region,
 * and S3 (SSE-KMS) only with keys of the bucket's region, which is the region's (residency).
 */
export const kmsKeyInRegion: Invariant = ({ regions }) =>
  regions.flatMap((r) => {
    const keys = [
      { path: ['storage', 'kmsKeyArn'], arn: r.config.storage.kmsKeyArn, what: 'EBS volumes there can only be encrypted with a key of their own region' },
      ...(r.config.backup.kmsKeyArn !== undefined
        ? [{ path: ['backup', 'kmsKeyArn'], arn: r.config.backup.kmsKeyArn, what: 'S3 encrypts the backup bucket (in this region) only with a key of its own region' }]
        : []),
    ];
    return keys.flatMap(({ path, arn, what }) => {
      const keyRegion = kmsKeyRegion(arn);
      if (keyRegion === r.config.name) return [];
      return [
        r.source.issue(
          path,
          `${JSON.stringify(arn)} (region ${keyRegion ?? 'none'})`,
          `a KMS key in ${r.config.name}: ${what}`,
          `use the ARN of the ${r.config.name} key, arn:aws:kms:${r.config.name}:<account>:key/<id> (a multi-Region key: its replica in ${r.config.name})`,
        ),
      ];
    });
  });

/** SSE-KMS is S3's: a gs:// bucket is encrypted by its own bucket settings (CMEK), not by WAL-G. */
export const backupKmsKeyOnlyForS3: Invariant = ({ regions }) =>
  regions.flatMap((r) =>
    r.config.backup.kmsKeyArn !== undefined && !r.config.backup.bucket.startsWith('s3://')
      ? [r.source.issue(['backup', 'kmsKeyArn'], JSON.stringify(r.config.backup.kmsKeyArn), `absent for a ${r.config.backup.bucket.split('://')[0]}:// bucket: WAL-G's SSE-KMS applies to S3 only`, 'remove backup.kmsKeyArn and set the bucket\'s default encryption key in its own settings')]
      : [],
  );
