/**
 * A Deployment or StatefulSet built on the hardened pod template, with its PodDisruptionBudget
 * whenever it can run more than one replica. Argo Rollouts use `hardenedPodTemplate` and
 * `WorkloadDisruptionBudget` directly, since their object is a CRD.
 */
import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { hardenedPodTemplate, podLabels, type HardenedPodProps } from './hardened-pod';
import { LABELS } from './labels';
import { KEEP_ON_PRUNE } from './metadata';

export interface DisruptionBudgetProps {
  /** PodDisruptionBudget name. */
  readonly name: string;
  /** Namespace of the workload. */
  readonly namespace: string;
  /** Labels of the PodDisruptionBudget. */
  readonly labels: Readonly<Record<string, string>>;
  /** Pod selector labels of the workload the budget protects. */
  readonly selectorLabels: Readonly<Record<string, string>>;
  /**
   * PodDisruptionBudget maxUnavailable.
   * @default 1 — one pod at a time, so a drain never takes more than one replica
   */
  readonly maxUnavailable?: number | string;
}

/** A PDB over the selector labels; unhealthy pods may always be evicted (they serve nothing). */
export class WorkloadDisruptionBudget extends Construct {
  readonly apiObject: ApiObject;

  constructor(scope: Construct, id: string, props: DisruptionBudgetProps) {
    super(scope, id);
    const maxUnavailable = props.maxUnavailable ?? 1;
    this.apiObject = new k8s.KubePodDisruptionBudget(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace, labels: { ...props.labels } },
      spec: {
        maxUnavailable: typeof maxUnavailable === 'number' ? k8s.IntOrString.fromNumber(maxUnavailable) : k8s.IntOrString.fromString(maxUnavailable),
        selector: { matchLabels: { ...props.selectorLabels } },
        unhealthyPodEvictionPolicy: 'AlwaysAllow',
      },
    });
  }
}

export interface StatefulSetOptions {
  /** Headless Service that gives each pod its DNS name. */
  readonly serviceName: string;
  /** @default none */
  readonly volumeClaimTemplates?: readonly k8s.KubePersistentVolumeClaimProps[];
  /** @default 'OrderedReady' */
  readonly podManagementPolicy?: 'OrderedReady' | 'Parallel';
}

export interface HardenedWorkloadProps extends HardenedPodProps {
  /** Deployment, or StatefulSet for pods with a stable identity and volumes. */
  readonly kind: 'Deployment' | 'StatefulSet';
  /** Explicit metadata.name: hash-suffixed names churn the PR diff. */
  readonly name: string;
  /** Namespace of the workload. */
  readonly namespace: string;
  /**
   * Fixed replica count. Leave it unset when an HPA owns replicas, and give `maxReplicas`.
   * @default unset (owned by an autoscaler)
   */
  readonly replicas?: number;
  /** Most replicas an autoscaler may run; decides whether a PDB is needed. @default replicas */
  readonly maxReplicas?: number;
  /** StatefulSet options. Required for kind StatefulSet. @default none — a Deployment has none */
  readonly statefulSet?: StatefulSetOptions;
  /**
   * PodDisruptionBudget maxUnavailable.
   * @default 1 — one pod at a time, so a drain never takes more than one replica
   */
  readonly maxUnavailable?: number | string;
}

export class HardenedWorkload extends Construct {
  readonly apiObject: ApiObject;
  /** Labels on the pods; Services and monitors select on `selectorLabels`. */
  readonly podLabels: Readonly<Record<string, string>>;
  readonly selectorLabels: Readonly<Record<string, string>>;
  readonly disruptionBudget?: WorkloadDisruptionBudget;

  constructor(scope: Construct, id: string, props: HardenedWorkloadProps) {
    super(scope, id);
    const upper = props.maxReplicas ?? props.replicas;
    if (upper === undefined) {
      throw new Error(`${props.kind} ${props.name}: set replicas, or maxReplicas when an autoscaler owns replicas`);
    }
    if (props.replicas !== undefined && props.replicas < 1) {
      throw new Error(`${props.kind} ${props.name}: replicas (${props.replicas}) must be >= 1`);
    }
    if (props.replicas !== undefined && props.maxReplicas !== undefined && props.replicas > props.maxReplicas) {
      throw new Error(`${props.kind} ${props.name}: replicas (${props.replicas}) must be <= maxReplicas (${props.maxReplicas})`);
    }
    if (props.kind === 'StatefulSet' && !props.statefulSet) {
      throw new Error(`StatefulSet ${props.name}: statefulSet.serviceName (a headless Service) is required`);
    }

    this.selectorLabels = { ...props.selectorLabels };
    this.podLabels = podLabels(props);
    const metadata = { name: props.name, namespace: props.namespace, labels: { ...props.selectorLabels, [LABELS.version]: props.version } };
    const selector = { matchLabels: { ...props.selectorLabels } };

    if (props.kind === 'Deployment') {
      const template = hardenedPodTemplate({ ...props, spreadMatchLabelKeys: props.spreadMatchLabelKeys ?? ['pod-template-hash'] });
      this.apiObject = new k8s.KubeDeployment(this, 'Resource', {
        metadata,
        spec: {
          replicas: props.replicas,
          revisionHistoryLimit: 5,
          selector,
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: k8s.IntOrString.fromString('25%'), maxUnavailable: k8s.IntOrString.fromNumber(0) } },
          template,
        },
      });
    } else {
      const sts = props.statefulSet!;
      this.apiObject = new k8s.KubeStatefulSet(this, 'Resource', {
        metadata,
        spec: {
          replicas: props.replicas,
          revisionHistoryLimit: 5,
          serviceName: sts.serviceName,
          podManagementPolicy: sts.podManagementPolicy ?? 'OrderedReady',
          selector,
          updateStrategy: { type: 'RollingUpdate' },
          persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
          template: hardenedPodTemplate({ ...props, zonePinnedByVolumes: (sts.volumeClaimTemplates?.length ?? 0) > 0 }),
          volumeClaimTemplates: sts.volumeClaimTemplates?.map((claim) => ({ metadata: claim.metadata, spec: claim.spec })),
        },
      });
      // A StatefulSet with volumes holds data: Argo CD never prunes or deletes it (KEEP_ON_PRUNE).
      if ((sts.volumeClaimTemplates?.length ?? 0) > 0) {
        for (const [key, value] of Object.entries(KEEP_ON_PRUNE)) this.apiObject.metadata.addAnnotation(key, value);
      }
    }

    if (upper > 1) {
      this.disruptionBudget = new WorkloadDisruptionBudget(this, 'Budget', {
        name: props.name,
        namespace: props.namespace,
        labels: metadata.labels,
        selectorLabels: props.selectorLabels,
        maxUnavailable: props.maxUnavailable,
      });
    }
  }
}
