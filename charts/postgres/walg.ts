/**
 * WAL-G's view of the shard's backup storage: the environment the Postgres pods (archive_command,
 * restore_command) and the base-backup sidecar share, and how they authenticate.
 *
 * Workload identity is preferred: annotate the ServiceAccounts (IRSA on EKS:
 * `eks.amazonaws.com/role-arn: arn:aws:iam::<account>:role/<name>`; GKE:
 * `iam.gke.io/gcp-service-account`) and no key is rendered or mounted at all. Without it, static
 * keys come from the secret store through an ExternalSecret.
 */
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { RegionPlan } from '../../regions/plan';
import { CredentialsFromStore } from '../lib/external-secret';
import type { Credential } from '../../regions/wiring';
import type { PostgresShardNames } from './names';

export interface BackupIdentity {
  /**
   * Annotations for the Postgres ServiceAccount (archiving and base backups run in its pods) that grant object-storage access by
   * workload identity, e.g. `{ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/pitr-us-east-1' }`.
   */
  readonly serviceAccountAnnotations: Readonly<Record<string, string>>;
}

/** Keys of the static-credentials Secret (used only without workload identity). */
const BACKUP_STORAGE_KEYS = {
  s3: { accessKeyId: 'access-key-id', secretAccessKey: 'secret-access-key' },
  gs: { serviceAccountJson: 'service-account.json' },
} as const;

export interface WalgEnvironment {
  readonly env: k8s.EnvVar[];
  readonly volumes: k8s.Volume[];
  readonly volumeMounts: k8s.VolumeMount[];
}

const GCS_KEY_DIR = '/etc/wal-g/gcs';

function scheme(plan: RegionPlan): 's3' | 'gs' {
  return plan.region.backup.bucket.startsWith('gs://') ? 'gs' : 's3';
}

/** Where WAL-G reaches the region's bucket. */
export interface ObjectStorageEndpoint {
  /** Host WAL-G connects to (TLS SNI): the bucket's virtual-hosted name on the regional endpoint. */
  readonly host: string;
  /** Endpoint WAL-G is configured with (AWS_ENDPOINT), or the fixed GCS API host. */
  readonly endpoint: string;
}

/**
 * The regional endpoint, always explicit: without AWS_ENDPOINT the AWS SDK in WAL-G uses the
 * legacy global endpoint (`<bucket>.s3.amazonaws.com`) for us-east-1, which the data namespace's
 * ServiceEntry (REGISTRY_ONLY sidecars) does not admit, so archiving would stop and pg_wal grow
 * until the volume fills.
 */
export function objectStorageEndpoint(plan: RegionPlan): ObjectStorageEndpoint {
  return bucketEndpoint(plan.region.backup.bucket, plan.region.name);
}

/** The endpoint rule for any region's bucket (the DR fallback reads the other site's). */
export function bucketEndpoint(bucketUrl: string, region: string): ObjectStorageEndpoint {
  const bucket = bucketUrl.replace(/^[a-z0-9]+:\/\//, '').split('/')[0];
  if (bucketUrl.startsWith('gs://')) return { host: 'storage.googleapis.com', endpoint: 'storage.googleapis.com' };
  return { host: `${bucket}.s3.${region}.amazonaws.com`, endpoint: `https://s3.${region}.amazonaws.com` };
}

/** WAL-G's settings for a shard's prefix in a bucket (prefix, and region and endpoint for S3). */
export function bucketPrefixSettings(bucketUrl: string, region: string, shardId: number): Array<[string, string]> {
  const prefix = `${bucketUrl.replace(/\/+$/, '')}/shard-${shardId}`;
  return bucketUrl.startsWith('gs://')
    ? [['WALG_GS_PREFIX', prefix]]
    : [['WALG_S3_PREFIX', prefix], ['AWS_REGION', region], ['AWS_ENDPOINT', bucketEndpoint(bucketUrl, region).endpoint]];
}

/**
 * The static credentials WAL-G reads, as the wiring declaration states them (with workload
 * identity the charts render none; the shipped charts use static keys).
 */
export function walgCredentials(plan: RegionPlan, names: PostgresShardNames, container: string): Credential[] {
  const secret = names.backupStorageSecret;
  if (scheme(plan) === 'gs') return [{ secret, key: BACKUP_STORAGE_KEYS.gs.serviceAccountJson, mounted: true, container }];
  const k = BACKUP_STORAGE_KEYS.s3;
  return [
    { secret, key: k.accessKeyId, env: 'AWS_ACCESS_KEY_ID', container },
    { secret, key: k.secretAccessKey, env: 'AWS_SECRET_ACCESS_KEY', container },
  ];
}

/** Environment (and, for GCS static keys, a mounted key file) WAL-G needs to reach the shard's prefix. */
export function walgEnvironment(plan: RegionPlan, names: PostgresShardNames, identity?: BackupIdentity): WalgEnvironment {
  const kind = scheme(plan);
  const secret = names.backupStorageSecret;
  const env: k8s.EnvVar[] = [
    kind === 's3' ? { name: 'WALG_S3_PREFIX', value: names.backupPrefix } : { name: 'WALG_GS_PREFIX', value: names.backupPrefix },
    // lz4: cheap on the primary's CPU; archive_timeout already bounds how much WAL is in flight.
    { name: 'WALG_COMPRESSION_METHOD', value: 'lz4' },
    // A segment already archived with other content is an error, never overwritten (a diverged
    // timeline or a second site writing the same prefix); the same content is accepted.
    { name: 'WALG_PREVENT_WAL_OVERWRITE', value: 'true' },
    // Residency: the bucket and its endpoint are in the shard's own region.
    ...(kind === 's3' ? [{ name: 'AWS_REGION', value: plan.region.name }, { name: 'AWS_ENDPOINT', value: objectStorageEndpoint(plan).endpoint }] : []),
    // With backup.kmsKeyArn, every object WAL-G writes is encrypted with that key (SSE-KMS),
    // whatever the bucket's default (a bucket policy demanding aws:kms refuses anything else).
    // Opt-in: WAL-G's identity needs kms:GenerateDataKey on the key before the pods restart with
    // it, or every wal-push fails; without it the bucket's default encryption applies.
    ...(kind === 's3' && plan.region.backup.kmsKeyArn !== undefined
      ? [{ name: 'WALG_S3_SSE', value: 'aws:kms' }, { name: 'WALG_S3_SSE_KMS_ID', value: plan.region.backup.kmsKeyArn }]
      : []),
  ];
  if (identity) return { env, volumes: [], volumeMounts: [] };
  if (kind === 's3') {
    const k = BACKUP_STORAGE_KEYS.s3;
    env.push(
      { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: secret, key: k.accessKeyId } } },
      { name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: secret, key: k.secretAccessKey } } },
    );
    return { env, volumes: [], volumeMounts: [] };
  }
  env.push({ name: 'GOOGLE_APPLICATION_CREDENTIALS', value: `${GCS_KEY_DIR}/${BACKUP_STORAGE_KEYS.gs.serviceAccountJson}` });
  return {
    env,
    volumes: [{ name: 'backup-storage', secret: { secretName: secret, defaultMode: 0o440 } }],
    volumeMounts: [{ name: 'backup-storage', mountPath: GCS_KEY_DIR, readOnly: true }],
  };
}

export interface BackupStorageCredentialsProps {
  /** The region's plan (secret store, bucket). */
  readonly plan: RegionPlan;
  /** The shard's object names. */
  readonly names: PostgresShardNames;
  /** Labels of the ExternalSecret. */
  readonly labels: Readonly<Record<string, string>>;
}

/** The ExternalSecret with static object-storage keys; render it only without workload identity. */
export class BackupStorageCredentials extends CredentialsFromStore {
  constructor(scope: Construct, id: string, props: BackupStorageCredentialsProps) {
    const { plan, names } = props;
    const key = names.remoteKeys.backupStorage;
    const keys =
      scheme(plan) === 's3'
        ? Object.fromEntries(Object.values(BACKUP_STORAGE_KEYS.s3).map((property) => [property, { key, property }]))
        : { [BACKUP_STORAGE_KEYS.gs.serviceAccountJson]: { key, property: BACKUP_STORAGE_KEYS.gs.serviceAccountJson } };
    super(scope, id, { plan, name: names.backupStorageSecret, namespace: plan.namespaces.data, labels: props.labels, keys });
  }
}
