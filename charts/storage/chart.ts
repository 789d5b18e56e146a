/**
 * The region's StorageClasses (dist/<region>/storage.yaml): every persistent volume the platform
 * renders (Postgres, persisted Redis tiers, Prometheus, Alertmanager, Jaeger badger) is an EBS gp3
 * volume encrypted with the region's own KMS key (`storage.kmsKeyArn`). Which classes exist and
 * which volume uses which is plain data in regions/storage.ts; the invariants refuse a config field
 * that names any other class, and the validator (`ref-storage-class`) refuses a rendered claim whose
 * class is not rendered in the same region folder.
 *
 * Parameters are those of the AWS EBS CSI driver (kubernetes-sigs/aws-ebs-csi-driver,
 * docs/parameters.md): `type`, `encrypted` ("true"/"false", a string), `kmsKeyId` (the key's
 * full ARN; without it AWS uses the account's default aws/ebs key), `csi.storage.k8s.io/fstype`.
 *
 * A StorageClass is immutable apart from its metadata (the API server refuses changes to
 * provisioner, parameters, reclaimPolicy, volumeBindingMode): changing the key or a parameter
 * means deleting the class (existing volumes keep their key; a PV names its class only by name)
 * and letting Argo CD re-create it. See docs/secrets.md, "Storage encryption".
 */
import { CAPACITY_COMPONENTS } from '../lib/cluster-capacity';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { storageClasses, type ReclaimPolicy } from '../../regions/storage';
import { appLabels, KEEP_ON_PRUNE, SYNC_WAVE, syncWave } from '../lib/metadata';
import { RegionChart, type RegionChartProps } from '../lib/region-chart';

/** The AWS EBS CSI driver (the EKS add-on aws-ebs-csi-driver). */
export const EBS_CSI_PROVISIONER = 'ebs.csi.aws.com';

export interface EncryptedStorageClassProps {
  /** Class name (cluster-scoped): what PVCs name in `storageClassName`. */
  readonly name: string;
  /** Labels of the object. */
  readonly labels: Readonly<Record<string, string>>;
  /** Full ARN of the KMS key every volume of the class is encrypted with (key or alias ARN, same region). */
  readonly kmsKeyArn: string;
  /** Retain for data that cannot be re-created, Delete for telemetry (regions/storage.ts). */
  readonly reclaimPolicy: ReclaimPolicy;
  /** One sentence: what the class is for (annotation `bookedbarber.com/purpose`). */
  readonly purpose: string;
  /**
   * EBS volume type.
   * @default 'gp3' (3,000 IOPS and 125 MiB/s baseline at any size, cheaper per GiB than gp2; the
   * driver's own default, set explicitly so a driver upgrade cannot change it)
   */
  readonly volumeType?: string;
  /**
   * File system the driver formats a new volume with.
   * @default 'ext4' (the driver's default; Postgres, Redis AOF, Prometheus TSDB and badger run on
   * it, and ext4 grows online when a PVC is expanded)
   */
  readonly fsType?: 'ext4' | 'xfs';
}

/**
 * One encrypted EBS StorageClass. Always: `encrypted: "true"` with our key (never the account
 * default), `WaitForFirstConsumer` (an EBS volume lives in one zone: it is created in the zone the
 * scheduler picked for the pod, so zone spread and volume placement never disagree), and volume
 * expansion (a filling disk is grown online by raising the PVC request; gp3 expands in place).
 */
export class EncryptedStorageClass extends Construct {
  readonly apiObject: k8s.KubeStorageClass;

  constructor(scope: Construct, id: string, props: EncryptedStorageClassProps) {
    super(scope, id);
    this.apiObject = new k8s.KubeStorageClass(this, 'Resource', {
      metadata: {
        name: props.name,
        labels: { ...props.labels },
        // Before anything that claims a volume: a PVC naming a class that does not exist yet waits.
        // Never pruned or deleted by Argo CD (KEEP_ON_PRUNE): live volumes name their class.
        annotations: { ...syncWave(SYNC_WAVE.namespaces), 'bookedbarber.com/purpose': props.purpose, ...KEEP_ON_PRUNE },
      },
      provisioner: EBS_CSI_PROVISIONER,
      parameters: {
        type: props.volumeType ?? 'gp3',
        // StorageClass parameters are strings: the driver reads "true", not a YAML boolean.
        encrypted: 'true',
        kmsKeyId: props.kmsKeyArn,
        'csi.storage.k8s.io/fstype': props.fsType ?? 'ext4',
      },
      reclaimPolicy: props.reclaimPolicy,
      volumeBindingMode: 'WaitForFirstConsumer',
      allowVolumeExpansion: true,
    });
  }
}

/** The region's two classes (regions/storage.ts), both with the region's KMS key. */
export class StorageChart extends RegionChart {
  constructor(scope: Construct, props: RegionChartProps) {
    super(scope, CAPACITY_COMPONENTS.storage, props);
    const { plan } = props;
    for (const storageClass of storageClasses(plan.global)) {
      new EncryptedStorageClass(this, storageClass.name, {
        name: storageClass.name,
        labels: appLabels(plan, 'storage', 'storage'),
        kmsKeyArn: plan.region.storage.kmsKeyArn,
        reclaimPolicy: storageClass.reclaimPolicy,
        purpose: storageClass.purpose,
      });
    }
  }
}
