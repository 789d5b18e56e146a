/**
 * Our StorageClasses and every config field that names one. Plain data: the storage chart
 * renders `storageClasses`, the invariants (regions/storage-invariants.ts) check that every
 * `claimClassFields` entry names one of them, and tests compare the rendered PVCs with both.
 *
 * Two classes per region, both encrypted gp3 with the region's own KMS key (storage.kmsKeyArn):
 * - `<platform>-gp3-retain` for data nobody can re-create (Postgres, persisted Redis tiers):
 *   a deleted PVC leaves its EBS volume behind (reclaimPolicy Retain), so a slip of `kubectl
 *   delete pvc`, a renamed StatefulSet or a pruned namespace never destroys a database.
 * - `<platform>-gp3-delete` for telemetry that is re-created by running (Prometheus TSDB,
 *   Alertmanager's silences and notification log, Jaeger badger): a deleted PVC takes its
 *   volume with it, instead of leaving hundreds of GiB that nobody will ever re-attach.
 */
import type { FieldPath } from './config-error';
import type { GlobalConfig, RegionConfig } from './model';

export type ReclaimPolicy = 'Retain' | 'Delete';

export interface StorageClassPlan {
  readonly name: string;
  readonly reclaimPolicy: ReclaimPolicy;
  /** What it is for, in a sentence (rendered as an annotation, used in messages). */
  readonly purpose: string;
}

/** The two classes, named after the platform (cluster-scoped names: never EKS' own gp2/gp3). */
export function storageClasses(global: GlobalConfig): readonly [retain: StorageClassPlan, remove: StorageClassPlan] {
  const platform = global.platform.name;
  return [
    { name: `${platform}-gp3-retain`, reclaimPolicy: 'Retain', purpose: 'data that cannot be re-created (Postgres, persisted Redis tiers): the EBS volume outlives its PVC' },
    { name: `${platform}-gp3-delete`, reclaimPolicy: 'Delete', purpose: 'telemetry re-created by running (Prometheus, Alertmanager, Jaeger badger): the EBS volume goes with its PVC' },
  ];
}

/** The class durable data must use. */
export function retainClass(global: GlobalConfig): StorageClassPlan {
  return storageClasses(global)[0];
}

/** One config field naming the StorageClass of volumes the platform renders. */
export interface ClaimClassField {
  readonly path: FieldPath;
  /** The class it names; undefined when the field is missing although a volume is rendered. */
  readonly className: string | undefined;
  /** True for data that cannot be re-created: must be the Retain class. */
  readonly durable: boolean;
  /** Whose volumes, for messages. */
  readonly volumes: string;
}

/** The Redis tiers kept on disk (AOF); the others are memory only (regions/invariants.ts). */
export const PERSISTED_REDIS_TIERS: readonly string[] = ['sessions'];

/** Fields of regions/global.yaml: Prometheus (and Alertmanager), Jaeger, persisted Redis tiers. */
export function globalClaimClassFields(global: GlobalConfig): ClaimClassField[] {
  const fields: ClaimClassField[] = [
    { path: ['monitoring', 'prometheus', 'storage', 'className'], className: global.monitoring.prometheus.storage.className, durable: false, volumes: 'Prometheus and Alertmanager volumes' },
    { path: ['tracing', 'jaeger', 'storage', 'className'], className: global.tracing.jaeger.storage.className, durable: false, volumes: 'the Jaeger badger volume' },
  ];
  for (const [tier, config] of Object.entries(global.redis.tiers)) {
    // A tier that is not persisted names no class (redisClassOnlyWhenPersisted); its storage field
    // is judged by redisMemoryBelowLimit.
    if (!PERSISTED_REDIS_TIERS.includes(tier)) continue;
    fields.push({ path: ['redis', 'tiers', tier, 'storageClassName'], className: config.storageClassName, durable: true, volumes: `the Redis ${tier} AOF volumes` });
  }
  return fields;
}

/** Fields of a region file: each shard's data volumes (its home site and its DR site use them). */
export function regionClaimClassFields(region: RegionConfig): ClaimClassField[] {
  return region.shards.map((shard, index) => ({
    path: ['shards', index, 'storage', 'className'],
    className: shard.storage.className,
    durable: true,
    volumes: `the Postgres volumes of shard ${shard.id}`,
  }));
}

/** The region part of a KMS ARN (arn:aws:kms:<region>:<account>:...). */
export function kmsKeyRegion(arn: string): string | undefined {
  return arn.split(':')[3];
}
