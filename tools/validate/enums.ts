/**
 * Layer 1c — enumerations the Kubernetes OpenAPI does not declare but the API server
 * enforces in its Go validation (`imagePullPolicy: Sometimes` passes every schema, then the
 * apply fails in the cluster). Our own table, applied to every pod spec (pod-templates.ts)
 * and to the object-level fields of the kinds we render.
 */
import { child, item } from './paths';
import { at, containersOf, podTemplates, PodTemplate } from './pod-templates';
import { closest } from './suggest';
import { apiGroup, asArray, Entry, finding, isRecord, RawFinding } from './types';

const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];
const SECCOMP = ['RuntimeDefault', 'Localhost', 'Unconfined'];
const ACCESS_MODES = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'];
const VOLUME_MODES = ['Filesystem', 'Block'];
const HTTP_SCHEMES = ['HTTP', 'HTTPS'];
const HPA_TARGET = ['Utilization', 'Value', 'AverageValue'];
const SCALING_POLICY = { selectPolicy: ['Max', 'Min', 'Disabled'], policyType: ['Pods', 'Percent'] };

type Table = Record<string, string[]>;

/** Fields of a pod spec (relative to the template's `spec`). */
const POD_SPEC: Table = {
  dnsPolicy: ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'],
  preemptionPolicy: ['PreemptLowerPriority', 'Never'],
  'securityContext.seccompProfile.type': SECCOMP,
  'securityContext.fsGroupChangePolicy': ['OnRootMismatch', 'Always'],
  'topologySpreadConstraints[].whenUnsatisfiable': ['DoNotSchedule', 'ScheduleAnyway'],
  'topologySpreadConstraints[].nodeAffinityPolicy': ['Honor', 'Ignore'],
  'topologySpreadConstraints[].nodeTaintsPolicy': ['Honor', 'Ignore'],
  'tolerations[].operator': ['Exists', 'Equal'],
  'tolerations[].effect': ['NoSchedule', 'PreferNoSchedule', 'NoExecute'],
  'volumes[].hostPath.type': ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'],
  'volumes[].ephemeral.volumeClaimTemplate.spec.accessModes[]': ACCESS_MODES,
  'volumes[].ephemeral.volumeClaimTemplate.spec.volumeMode': VOLUME_MODES,
};

/** Fields of every container (containers, initContainers, ephemeralContainers). */
const CONTAINER: Table = {
  imagePullPolicy: ['Always', 'IfNotPresent', 'Never'],
  terminationMessagePolicy: ['File', 'FallbackToLogsOnError'],
  'ports[].protocol': PROTOCOLS,
  'securityContext.seccompProfile.type': SECCOMP,
  'securityContext.procMount': ['Default', 'Unmasked'],
  'resizePolicy[].resourceName': ['cpu', 'memory'],
  'resizePolicy[].restartPolicy': ['NotRequired', 'RestartContainer'],
  'volumeMounts[].mountPropagation': ['None', 'HostToContainer', 'Bidirectional'],
  'livenessProbe.httpGet.scheme': HTTP_SCHEMES,
  'readinessProbe.httpGet.scheme': HTTP_SCHEMES,
  'startupProbe.httpGet.scheme': HTTP_SCHEMES,
  'lifecycle.postStart.httpGet.scheme': HTTP_SCHEMES,
  'lifecycle.preStop.httpGet.scheme': HTTP_SCHEMES,
};

/** In 1.28 only init containers take a restartPolicy, and only `Always` (sidecars). */
const INIT_CONTAINER: Table = { restartPolicy: ['Always'] };

const hpaScaling = (dir: 'scaleUp' | 'scaleDown'): Table => ({
  [`spec.behavior.${dir}.selectPolicy`]: SCALING_POLICY.selectPolicy,
  [`spec.behavior.${dir}.policies[].type`]: SCALING_POLICY.policyType,
});

/** Object-level fields, keyed by `group/Kind` (core group: `/Kind`). */
const OBJECT: Record<string, Table> = {
  '/Service': {
    'spec.type': ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'],
    'spec.sessionAffinity': ['ClientIP', 'None'],
    'spec.externalTrafficPolicy': ['Cluster', 'Local'],
    'spec.internalTrafficPolicy': ['Cluster', 'Local'],
    'spec.ipFamilyPolicy': ['SingleStack', 'PreferDualStack', 'RequireDualStack'],
    'spec.ipFamilies[]': ['IPv4', 'IPv6'],
    'spec.ports[].protocol': PROTOCOLS,
  },
  '/PersistentVolumeClaim': { 'spec.accessModes[]': ACCESS_MODES, 'spec.volumeMode': VOLUME_MODES },
  'policy/PodDisruptionBudget': { 'spec.unhealthyPodEvictionPolicy': ['IfHealthyBudget', 'AlwaysAllow'] },
  'networking.k8s.io/NetworkPolicy': {
    'spec.policyTypes[]': ['Ingress', 'Egress'],
    'spec.ingress[].ports[].protocol': PROTOCOLS,
    'spec.egress[].ports[].protocol': PROTOCOLS,
  },
  'networking.k8s.io/Ingress': { 'spec.rules[].http.paths[].pathType': ['Exact', 'Prefix', 'ImplementationSpecific'] },
  'apps/Deployment': { 'spec.strategy.type': ['RollingUpdate', 'Recreate'] },
  'apps/DaemonSet': { 'spec.updateStrategy.type': ['RollingUpdate', 'OnDelete'] },
  'apps/StatefulSet': {
    'spec.podManagementPolicy': ['OrderedReady', 'Parallel'],
    'spec.updateStrategy.type': ['RollingUpdate', 'OnDelete'],
    'spec.persistentVolumeClaimRetentionPolicy.whenDeleted': ['Retain', 'Delete'],
    'spec.persistentVolumeClaimRetentionPolicy.whenScaled': ['Retain', 'Delete'],
    'spec.volumeClaimTemplates[].spec.accessModes[]': ACCESS_MODES,
    'spec.volumeClaimTemplates[].spec.volumeMode': VOLUME_MODES,
  },
  'batch/Job': { 'spec.completionMode': ['NonIndexed', 'Indexed'] },
  'batch/CronJob': {
    'spec.concurrencyPolicy': ['Allow', 'Forbid', 'Replace'],
    'spec.jobTemplate.spec.completionMode': ['NonIndexed', 'Indexed'],
  },
  'autoscaling/HorizontalPodAutoscaler': {
    'spec.metrics[].type': ['Object', 'Pods', 'Resource', 'ContainerResource', 'External'],
    'spec.metrics[].resource.target.type': HPA_TARGET,
    'spec.metrics[].containerResource.target.type': HPA_TARGET,
    'spec.metrics[].pods.target.type': HPA_TARGET,
    'spec.metrics[].object.target.type': HPA_TARGET,
    'spec.metrics[].external.target.type': HPA_TARGET,
    ...hpaScaling('scaleUp'),
    ...hpaScaling('scaleDown'),
  },
};

/** A table's pattern, split once: its keys (`[]`: visit each element) and the allowed values. */
interface Pattern {
  readonly segs: readonly { readonly key: string; readonly list: boolean }[];
  readonly allowed: string[];
}

const compiled = new WeakMap<Table, Pattern[]>();

function patterns(table: Table): Pattern[] {
  let list = compiled.get(table);
  if (!list) {
    list = Object.entries(table).map(([pattern, allowed]) => ({
      segs: pattern.split('.').map((seg) => (seg.endsWith('[]') ? { key: seg.slice(0, -2), list: true } : { key: seg, list: false })),
      allowed,
    }));
    compiled.set(table, list);
  }
  return list;
}

/**
 * Calls `cb` for each value at `segs` (from `i`); `parts` holds the keys and indexes walked so
 * far, turned into a path only for a value that fails (every object is visited, few fail).
 */
function visit(node: unknown, segs: Pattern['segs'], i: number, parts: (string | number)[], cb: (value: unknown, parts: readonly (string | number)[]) => void): void {
  if (i === segs.length) {
    cb(node, parts);
    return;
  }
  const { key, list } = segs[i]!;
  if (!isRecord(node)) return;
  const value = node[key];
  if (value === undefined || value === null) return;
  parts.push(key);
  if (list) {
    const items = asArray(value);
    for (let j = 0; j < items.length; j++) {
      parts.push(j);
      visit(items[j], segs, i + 1, parts, cb);
      parts.pop();
    }
  } else visit(value, segs, i + 1, parts, cb);
  parts.pop();
}

/** `base` followed by the walked keys and indexes, as paths.ts writes them. */
function pathOf(base: string, parts: readonly (string | number)[]): string {
  return parts.reduce<string>((p, part) => (typeof part === 'number' ? item(p, part) : child(p, part)), base);
}

function checkValue(e: Entry, value: unknown, path: string | (() => string), allowed: string[], out: RawFinding[]): void {
  if (typeof value === 'string' && allowed.includes(value)) return;
  if (typeof path !== 'string') path = path();
  const field = path.replace(/^.*\./, '').replace(/\[\d+\]$/, '');
  const guess = typeof value === 'string' ? closest(value, allowed) : undefined;
  const list = allowed.map((a) => (a === '' ? '""' : a)).join(', ');
  out.push(finding(e, path, 'schema-enum', `${field} ${JSON.stringify(value)} is not one of ${list}; the API server rejects it`,
    guess ? `did you mean "${guess}"?` : `use one of ${list}`));
}

function applyTable(e: Entry, root: unknown, base: string, table: Table, out: RawFinding[]): void {
  for (const { segs, allowed } of patterns(table)) {
    visit(root, segs, 0, [], (value, parts) => checkValue(e, value, () => pathOf(base, parts), allowed, out));
  }
}

/** restartPolicy depends on the owner: controllers keep pods running, Jobs must not. */
function restartPolicy(e: Entry, tpl: PodTemplate, out: RawFinding[]): void {
  const path = at(tpl, 'spec.restartPolicy');
  const value = tpl.spec.restartPolicy;
  const isJob = !tpl.longRunning && tpl.owner !== 'Pod';
  if (value === undefined || value === null) {
    if (isJob) {
      out.push(finding(e, path, 'schema-required', `a ${tpl.owner}'s pod template needs restartPolicy OnFailure or Never (the default, Always, is rejected for Jobs)`,
        'set restartPolicy: Never (let the Job controller retry with backoffLimit) or OnFailure'));
    }
    return;
  }
  const allowed = tpl.longRunning ? ['Always'] : isJob ? ['OnFailure', 'Never'] : ['Always', 'OnFailure', 'Never'];
  checkValue(e, value, path, allowed, out);
}

export function checkEnums(e: Entry): RawFinding[] {
  const out: RawFinding[] = [];
  const table = OBJECT[`${apiGroup(e.obj.apiVersion)}/${e.obj.kind}`];
  if (table) applyTable(e, e.obj, '', table, out);
  for (const tpl of podTemplates(e.obj)) {
    restartPolicy(e, tpl, out);
    applyTable(e, tpl.spec, at(tpl, 'spec'), POD_SPEC, out);
    for (const ref of containersOf(tpl)) {
      applyTable(e, ref.container, ref.path, CONTAINER, out);
      if (ref.kind === 'initContainers') applyTable(e, ref.container, ref.path, INIT_CONTAINER, out);
    }
  }
  return out;
}
