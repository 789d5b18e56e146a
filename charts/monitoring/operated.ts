/**
 * What the pods prometheus-operator creates for a Prometheus or Alertmanager resource need
 * from us, since no hardened pod template of ours is involved: the Pod Security "restricted"
 * pod securityContext (the operator already sets the container-level part: read-only root
 * filesystem, no privilege escalation, all capabilities dropped), zone spread, resources for
 * the config-reloader sidecars it injects, the pod labels, and a PodDisruptionBudget.
 */
import type { Construct } from 'constructs';
import type { RegionPlan } from '../../regions/plan';
import { WorkloadDisruptionBudget } from '../lib/hardened-workload';
import { LABELS } from '../lib/labels';
import { ISTIO_INJECT_LABEL } from './names';
import { SYNC_WAVE } from '../lib/metadata';

/**
 * Non-root with a fixed uid/gid (the upstream images run as `nobody` otherwise, which cannot
 * write the volume), fsGroup so the TSDB / silence volume is writable, seccomp RuntimeDefault.
 */
export const OPERATED_POD_SECURITY = {
  runAsNonRoot: true,
  runAsUser: 1000,
  runAsGroup: 2000,
  fsGroup: 2000,
  // Only re-chown the volume when its root is not already ours: a 200 GiB TSDB would
  // otherwise be walked file by file on every restart.
  fsGroupChangePolicy: 'OnRootMismatch',
  seccompProfile: { type: 'RuntimeDefault' },
} as const;

/** Zone spread is the point (a zone outage takes at most its share); host spread is best effort. */
export function operatedSpread(selector: Readonly<Record<string, string>>) {
  const labelSelector = { matchLabels: { ...selector } };
  return [
    { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector },
    { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector },
  ];
}

/**
 * Labels for the pods (`podMetadata`): ours (component, part-of, region, version) plus the
 * mesh opt-out. The operator adds and owns name, instance and managed-by on these pods.
 */
export function operatedPodLabels(plan: RegionPlan, component: string, version: string): Record<string, string> {
  return {
    [LABELS.component]: component,
    [LABELS.partOf]: plan.global.platform.name,
    [LABELS.region]: plan.region.name,
    [LABELS.version]: version,
    [ISTIO_INJECT_LABEL]: 'false',
  };
}

type QuantityClass<T> = { fromString(value: string): T };
/** Quantities as the generated CRD classes want them (`{ cpu: '2' }` → `{ cpu: X.fromString('2') }`). */
export function quantities<T>(cls: QuantityClass<T>, values: Readonly<Record<string, string>>): Record<string, T> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, cls.fromString(v)]));
}

/** Resources of the operator's config-reloader containers (a small Go process each). */
export const RELOADER_RESOURCES = {
  requests: { cpu: '10m', memory: '32Mi' },
  limits: { memory: '64Mi' },
} as const;

export interface OperatedBudgetProps {
  /** PodDisruptionBudget name. */
  readonly name: string;
  /** Namespace of the operator-managed pods. */
  readonly namespace: string;
  /** Labels of the PodDisruptionBudget. */
  readonly labels: Readonly<Record<string, string>>;
  /** The operator's pod selector labels (operatorPodSelector). */
  readonly selector: Readonly<Record<string, string>>;
  /** Replicas of the Prometheus or Alertmanager resource: with fewer than 2 no budget is rendered. */
  readonly replicas: number;
}

/**
 * One pod at a time during node drains, and only when there is more than one: a PDB over a
 * single replica would block every drain of its node.
 */
export function operatedDisruptionBudget(scope: Construct, id: string, props: OperatedBudgetProps): WorkloadDisruptionBudget | undefined {
  if (props.replicas < 2) return undefined;
  const budget = new WorkloadDisruptionBudget(scope, id, {
    name: props.name,
    namespace: props.namespace,
    labels: props.labels,
    selectorLabels: props.selector,
    maxUnavailable: 1,
  });
  budget.apiObject.metadata.addAnnotation('argocd.argoproj.io/sync-wave', String(SYNC_WAVE.workloads));
  return budget;
}
