/**
 * The shard's scheduled base backup: a CronJob that streams a base backup from the primary with
 * WAL-G's remote mode (the replication protocol, no access to the data volume needed), then
 * keeps `retainFullBackups` full backups and the WAL they need. Together with continuous WAL
 * archiving (archive_command) this is the point-in-time recovery of docs/postgres-restore.md.
 */
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { ShardConfig } from '../../regions/model';
import type { RegionPlan } from '../../regions/plan';
import { hardenedPodTemplate, type HardenedContainerProps } from '../lib/hardened-pod';
import { LABELS } from '../lib/labels';
import { HOLD_UNTIL_PROXY_STARTS, SYNC_WAVE, syncWave } from '../lib/metadata';
import { POSTGRES_PATHS } from './conf';
import { QUIT_SIDECAR_ON_EXIT, runToCompletion } from './job-pod';
import { SPILO_UID } from './images';
import { CREDENTIAL_PROPERTIES, POSTGRES_PORTS, POSTGRES_USERS, postgresNames } from './names';
import { walgEnvironment, type BackupIdentity } from './walg';

export interface BaseBackupProps {
  /** The region's plan. */
  readonly plan: RegionPlan;
  /** The shard whose primary is backed up. */
  readonly shard: ShardConfig;
  /**
   * How WAL-G authenticates to object storage.
   * @default - static keys from the secret store — must match the PostgresShard's, or base backups
   * and WAL land apart
   */
  readonly backupIdentity?: BackupIdentity;
  /** Longest a backup may run before Kubernetes stops it. @default 21600 (6 h) */
  readonly activeDeadlineSeconds?: number;
  /** Retries of a failed backup within one schedule slot. @default 2 */
  readonly backoffLimit?: number;
  /**
   * @default { requests: { cpu: '500m', memory: '512Mi' }, limits: { memory: '1Gi' } } — WAL-G
   * compresses the stream: half a core, memory for its upload buffers
   */
  readonly resources?: HardenedContainerProps['resources'];
}

/**
 * The Job's script. The istio-proxy sidecar would keep the pod running after the backup ends
 * (the Job never completes), so the script asks it to quit on exit; with native sidecars
 * (Istio ENABLE_NATIVE_SIDECARS on Kubernetes >= 1.29) that call is a harmless no-op.
 */
function renderBackupScript(retainFullBackups: number): string {
  return [
    'set -eu',
    QUIT_SIDECAR_ON_EXIT,
    'wal-g backup-push',
    `wal-g delete retain FULL ${retainFullBackups} --confirm`,
  ].join('\n');
}

export class BaseBackupCronJob extends Construct {
  readonly apiObject: k8s.KubeCronJob;

  constructor(scope: Construct, id: string, props: BaseBackupProps) {
    super(scope, id);
    const { plan, shard } = props;
    const pg = plan.global.postgres;
    const names = postgresNames(plan, shard.id);
    const namespace = plan.namespaces.data;
    const labels = names.backupSelectorLabels;
    const walg = walgEnvironment(plan, names, props.backupIdentity);
    const secret = (name: string, key: string): k8s.EnvVar => ({ name, valueFrom: { secretKeyRef: { name: names.credentialsSecret, key } } });

    new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: {
        name: names.backupServiceAccount,
        namespace,
        labels: { ...labels },
        annotations: { ...syncWave(SYNC_WAVE.config), ...props.backupIdentity?.serviceAccountAnnotations },
      },
      automountServiceAccountToken: false,
    });

    const container: HardenedContainerProps = {
      name: 'base-backup',
      image: plan.versions.images.spilo,
      command: ['/bin/sh', '-c', renderBackupScript(pg.retainFullBackups)],
      env: [
        // Streams from the primary (rw Service): its name is on the server certificate.
        { name: 'PGHOST', value: names.readWriteHost },
        { name: 'PGPORT', value: String(POSTGRES_PORTS.postgres.port) },
        { name: 'PGUSER', value: POSTGRES_USERS.backup },
        { name: 'PGDATABASE', value: 'postgres' },
        { name: 'PGSSLMODE', value: 'verify-full' },
        { name: 'PGSSLROOTCERT', value: `${POSTGRES_PATHS.tlsDir}/ca.crt` },
        // The Spilo image sets PGDATA; empty makes `wal-g backup-push` take the remote path
        // (BASE_BACKUP over the connection above) instead of reading a local data directory.
        { name: 'PGDATA', value: '' },
        secret('PGPASSWORD', CREDENTIAL_PROPERTIES.backupPassword),
        ...walg.env,
      ],
      resources: props.resources ?? { requests: { cpu: '500m', memory: '512Mi' }, limits: { memory: '1Gi' } },
      // hardenedPodTemplate requires probes of serving containers; a Job's are removed below.
      livenessProbe: { exec: { command: ['true'] } },
      readinessProbe: { exec: { command: ['true'] } },
      writablePaths: ['/tmp'],
      volumeMounts: [{ name: 'ca', mountPath: POSTGRES_PATHS.tlsDir, readOnly: true }, ...walg.volumeMounts],
    };
    const template = hardenedPodTemplate({
      selectorLabels: labels,
      region: plan.region.name,
      partOf: plan.global.platform.name,
      version: plan.versions.images.spilo.version,
      serviceAccountName: names.backupServiceAccount,
      runAsUser: SPILO_UID,
      annotations: HOLD_UNTIL_PROXY_STARTS,
      containers: [container],
      volumes: [
        // Only the CA: the Job verifies the server and never sees the server's key.
        { name: 'ca', secret: { secretName: names.tlsSecret, items: [{ key: 'ca.crt', path: 'ca.crt' }], defaultMode: 0o444 } },
        ...walg.volumes,
      ],
    });
    const jobTemplate = runToCompletion(template);

    this.apiObject = new k8s.KubeCronJob(this, 'Resource', {
      metadata: { name: names.backupCronJob, namespace, labels: { ...labels, [LABELS.version]: plan.versions.images.spilo.version } },
      spec: {
        schedule: pg.baseBackupSchedule,
        timeZone: 'Etc/UTC',
        // Two backups of one shard at once only double the load on the primary.
        concurrencyPolicy: 'Forbid',
        // A slot missed by more than an hour (controller down) is skipped, not run late at peak.
        startingDeadlineSeconds: 3600,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          metadata: { labels: { ...labels } },
          spec: {
            backoffLimit: props.backoffLimit ?? 2,
            activeDeadlineSeconds: props.activeDeadlineSeconds ?? 21600,
            ttlSecondsAfterFinished: 7 * 24 * 3600,
            template: jobTemplate,
          },
        },
      },
    });
  }
}
