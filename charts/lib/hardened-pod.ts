/**
 * The hardened pod template every workload we render is built from (Deployments,
 * StatefulSets, and the pod templates of Argo Rollouts).
 *
 * cdk8s-plus-28's secure defaults stop short of Pod Security "restricted" (no seccompProfile,
 * no `capabilities.drop: [ALL]`); this adds them, makes resources and probes mandatory, pins
 * images, mounts an emptyDir wherever a process must write (the root filesystem is read-only)
 * and spreads pods over zones. Invalid props throw, naming both values.
 */
import { k8s } from 'cdk8s-plus-28';
import type { ImageRelease } from '../../regions/model';
import { parseQuantity } from '../../regions/quantity';
import { imageReference } from './image';
import { LABELS, MANAGED_BY } from './labels';
import { nodePlacement, type Placement } from './node-placement';

/** UID/GID of distroless "nonroot"; any non-zero id satisfies "restricted". */
export const DEFAULT_RUN_AS_USER = 65532;

export interface ContainerResources {
  readonly requests: { readonly cpu: string; readonly memory: string };
  /** A memory limit is required (OOM instead of starving neighbours); a CPU limit is optional because it throttles. */
  readonly limits: { readonly memory: string; readonly cpu?: string };
}

export interface ContainerPort {
  readonly name: string;
  readonly containerPort: number;
  /** @default 'TCP' */
  readonly protocol?: 'TCP' | 'UDP';
}

export interface HardenedContainerProps {
  /** Container name. */
  readonly name: string;
  /** Image release (repository, tag, digest) the container runs. */
  readonly image: ImageRelease;
  /** Entrypoint override. @default the image's ENTRYPOINT — most images start the right process */
  readonly command?: readonly string[];
  /** Arguments. @default the image's CMD — settings come from config files where the image allows */
  readonly args?: readonly string[];
  /** Container ports. @default none — init containers and workers listen on nothing */
  readonly ports?: readonly ContainerPort[];
  /** Environment variables. @default none — only what the process reads is set */
  readonly env?: readonly k8s.EnvVar[];
  /** Requests and memory limit: the scheduler, the namespace quota and the HPA all depend on them. */
  readonly resources: ContainerResources;
  /**
   * Restarts a stuck container. Required for serving containers.
   * @default none — init containers run to completion and have none
   */
  readonly livenessProbe?: k8s.Probe;
  /**
   * Keeps an unready pod out of its Services' endpoints. Required for serving containers.
   * @default none — init containers have none
   */
  readonly readinessProbe?: k8s.Probe;
  /**
   * Holds off liveness until a slow start has finished.
   * @default none — the liveness probe's own delay covers fast starters
   */
  readonly startupProbe?: k8s.Probe;
  /**
   * Directories the process writes to. Each gets its own emptyDir, because the root filesystem
   * is read-only. @default none
   */
  readonly writablePaths?: readonly string[];
  /** Further mounts of volumes given in `HardenedPodProps.volumes`. @default none */
  readonly volumeMounts?: readonly k8s.VolumeMount[];
}

export interface HardenedPodProps {
  /** Stable selector labels (app.kubernetes.io/name, instance, component). */
  readonly selectorLabels: Readonly<Record<string, string>>;
  /** Region name, stamped on the pods like on every object. */
  readonly region: string;
  /** `app.kubernetes.io/part-of` value. */
  readonly partOf: string;
  /** Version running in the pods (app.kubernetes.io/version). */
  readonly version: string;
  /** The long-running containers (at least one). */
  readonly containers: readonly HardenedContainerProps[];
  /** Containers run to completion before the others start. @default none — most pods need no preparation */
  readonly initContainers?: readonly HardenedContainerProps[];
  /** ServiceAccount of the pods: the mesh authorises callers by it. */
  readonly serviceAccountName: string;
  /** Pods that never call the Kubernetes API get no token. @default false */
  readonly automountServiceAccountToken?: boolean;
  /** Volumes beyond the generated emptyDirs. @default none */
  readonly volumes?: readonly k8s.Volume[];
  /**
   * UID and GID of every container.
   * @default DEFAULT_RUN_AS_USER (65532, distroless nonroot) — any non-zero id satisfies Pod
   * Security restricted
   */
  readonly runAsUser?: number;
  /**
   * @default 30 — Kubernetes' default: time to finish in-flight requests after the pod leaves its
   * endpoints
   */
  readonly terminationGracePeriodSeconds?: number;
  /**
   * Pod label keys that tell revisions apart (`pod-template-hash` for Deployments,
   * `rollouts-pod-template-hash` for Argo Rollouts), so the soft host spread spreads the new
   * revision on its own; the zone spread counts every revision (see zoneSpread). @default none
   */
  readonly spreadMatchLabelKeys?: readonly string[];
  /**
   * The pods' volumes pin each to a zone (a StatefulSet's volumeClaimTemplates): the zone spread
   * is then a hard rule (see zoneSpread). @default false — a preference, so a zone outage never
   * stops replacements or scale-up elsewhere
   */
  readonly zonePinnedByVolumes?: boolean;
  /** Pod annotations (sidecar sizing, scrape settings). @default none */
  readonly annotations?: Readonly<Record<string, string>>;
  /**
   * Which node pools the pod may run on (charts/lib/node-placement.ts).
   * @default 'platform' — on-demand nodes: only the API and web may burst onto spot
   */
  readonly placement?: Placement;
}

/** Pod Security "restricted" for one container; also what operators are told to apply. */
export const RESTRICTED_CONTAINER_SECURITY: k8s.SecurityContext = {
  allowPrivilegeEscalation: false,
  privileged: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

/** Volume name for a writable path: `/var/cache/nginx` → `tmp-var-cache-nginx`. */
function writableVolumeName(container: string, writablePath: string): string {
  const slug = writablePath.replace(/^\/+|\/+$/g, '').replace(/[^a-z0-9]+/gi, '-').toLowerCase();
  return `${container}-${slug}`.slice(0, 63).replace(/-+$/, '');
}

function checkContainer(c: HardenedContainerProps, serving: boolean): void {
  const what = `container "${c.name}"`;
  const r = c.resources as Partial<ContainerResources> | undefined;
  if (!r?.requests?.cpu || !r.requests.memory) {
    throw new Error(`${what} must set resources.requests.cpu and resources.requests.memory`);
  }
  if (!r.limits?.memory) throw new Error(`${what} must set resources.limits.memory`);
  if (parseQuantity(r.requests.memory) > parseQuantity(r.limits.memory)) {
    throw new Error(`${what} memory request (${r.requests.memory}) must be <= memory limit (${r.limits.memory})`);
  }
  if (r.limits.cpu && parseQuantity(r.requests.cpu) > parseQuantity(r.limits.cpu)) {
    throw new Error(`${what} cpu request (${r.requests.cpu}) must be <= cpu limit (${r.limits.cpu})`);
  }
  if (serving && (!c.livenessProbe || !c.readinessProbe)) {
    throw new Error(`${what} must define livenessProbe and readinessProbe`);
  }
  const paths = c.writablePaths ?? [];
  if (new Set(paths).size !== paths.length) throw new Error(`${what} lists a writable path twice: ${paths.join(', ')}`);
}

function renderContainer(c: HardenedContainerProps): k8s.Container {
  const writable = (c.writablePaths ?? []).map((mountPath) => ({ name: writableVolumeName(c.name, mountPath), mountPath }));
  const mounts = [...writable, ...(c.volumeMounts ?? [])];
  return {
    name: c.name,
    image: imageReference(c.image),
    imagePullPolicy: 'IfNotPresent',
    command: c.command ? [...c.command] : undefined,
    args: c.args ? [...c.args] : undefined,
    ports: c.ports?.map((p) => ({ name: p.name, containerPort: p.containerPort, protocol: p.protocol ?? 'TCP' })),
    env: c.env ? [...c.env] : undefined,
    resources: {
      requests: { cpu: k8s.Quantity.fromString(c.resources.requests.cpu), memory: k8s.Quantity.fromString(c.resources.requests.memory) },
      limits: {
        memory: k8s.Quantity.fromString(c.resources.limits.memory),
        ...(c.resources.limits.cpu ? { cpu: k8s.Quantity.fromString(c.resources.limits.cpu) } : {}),
      },
    },
    livenessProbe: c.livenessProbe,
    readinessProbe: c.readinessProbe,
    startupProbe: c.startupProbe,
    securityContext: RESTRICTED_CONTAINER_SECURITY,
    volumeMounts: mounts.length > 0 ? mounts : undefined,
  };
}

/**
 * Spread over zones (a zone outage takes about its share) and hosts (best effort).
 *
 * The zone spread is a hard rule (DoNotSchedule) only for pods whose volumes pin them to a zone
 * anyway (StatefulSets with volumeClaimTemplates: the first placement is the one that counts).
 * For every other pod it is a preference: in a zone outage the lost zone's nodes stay registered
 * (NotReady) and its evicted pods stay Terminating, which the scheduler does not count, so the
 * lost zone holds 0 pods and a hard maxSkew 1 would refuse every replacement and every scale-up
 * in the zones that still run (kube-scheduler podtopologyspread counts only non-terminating pods;
 * Karpenter 1.0 likewise, and it cannot honour nodeTaintsPolicy). Scored, the spread still
 * balances; Karpenter treats it as required until it cannot, then relaxes it.
 *
 * `matchLabelKeys` (the revision's hash: each revision spread on its own) only on the host spread:
 * Karpenter ignores the field (kubernetes-sigs/karpenter#1569) and would count every revision's
 * pods where the scheduler counts one.
 */
export function zoneSpread(selectorLabels: Readonly<Record<string, string>>, matchLabelKeys?: readonly string[], pinnedByVolumes = false): k8s.TopologySpreadConstraint[] {
  const selector = { matchLabels: { ...selectorLabels } };
  const keys = matchLabelKeys && matchLabelKeys.length > 0 ? [...matchLabelKeys] : undefined;
  return [
    { topologyKey: 'topology.kubernetes.io/zone', maxSkew: 1, whenUnsatisfiable: pinnedByVolumes ? 'DoNotSchedule' : 'ScheduleAnyway', labelSelector: selector },
    { topologyKey: 'kubernetes.io/hostname', maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: selector, matchLabelKeys: keys },
  ];
}

/** Pod labels: selector labels plus version, part-of, managed-by and region. */
export function podLabels(props: HardenedPodProps): Record<string, string> {
  return {
    ...props.selectorLabels,
    [LABELS.partOf]: props.partOf,
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.version]: props.version,
    [LABELS.region]: props.region,
  };
}

export function hardenedPodTemplate(props: HardenedPodProps): k8s.PodTemplateSpec {
  if (props.containers.length === 0) throw new Error('a pod needs at least one container');
  const names = [...props.containers, ...(props.initContainers ?? [])].map((c) => c.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) throw new Error(`container name "${duplicate}" is used twice`);
  props.containers.forEach((c) => checkContainer(c, true));
  (props.initContainers ?? []).forEach((c) => checkContainer(c, false));
  const runAsUser = props.runAsUser ?? DEFAULT_RUN_AS_USER;
  if (runAsUser === 0) throw new Error('runAsUser must not be 0 (root)');

  const emptyDirs: k8s.Volume[] = [...props.containers, ...(props.initContainers ?? [])].flatMap((c) =>
    (c.writablePaths ?? []).map((p) => ({ name: writableVolumeName(c.name, p), emptyDir: {} })),
  );
  const volumes = [...emptyDirs, ...(props.volumes ?? [])];
  return {
    metadata: {
      labels: podLabels(props),
      annotations: props.annotations ? { ...props.annotations } : undefined,
    },
    spec: {
      serviceAccountName: props.serviceAccountName,
      automountServiceAccountToken: props.automountServiceAccountToken ?? false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: props.terminationGracePeriodSeconds ?? 30,
      securityContext: {
        runAsNonRoot: true,
        runAsUser,
        runAsGroup: runAsUser,
        fsGroup: runAsUser,
        fsGroupChangePolicy: 'OnRootMismatch',
        seccompProfile: { type: 'RuntimeDefault' },
      },
      initContainers: props.initContainers?.map(renderContainer),
      containers: props.containers.map(renderContainer),
      volumes: volumes.length > 0 ? volumes : undefined,
      topologySpreadConstraints: zoneSpread(props.selectorLabels, props.spreadMatchLabelKeys, props.zonePinnedByVolumes),
      ...nodePlacement(props.placement ?? 'platform', props.partOf),
    },
  };
}
