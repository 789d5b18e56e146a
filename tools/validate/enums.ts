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

/** Calls `cb` for each value at `pattern` (`a.b[].c`; a trailing `[]` visits each element). */
function visit(node: unknown, segs: string[], path: string, cb: (value: unknown, path: string) => void): void {
  if (segs.length === 0) {
    cb(node, path);
    return;
  }
  const [seg, ...rest] = segs;
  const isList = seg.endsWith('[]');
  const key = isList ? seg.slice(0, -2) : seg;
  if (!isRecord(node) || node[key] === undefined || node[key] === null) return;
  const p = child(path, key);
  if (isList) asArray(node[key]).forEach((el, i) => visit(el, rest, item(p, i), cb));
  else visit(node[key], rest, p, cb);
}

function checkValue(e: Entry, value: unknown, path: string, allowed: string[], out: RawFinding[]): void {
  if (typeof value === 'string' && allowed.includes(value)) return;
  const field = path.replace(/^.*\./, '').replace(/\[\d+\]$/, '');
  const guess = typeof value === 'string' ? closest(value, allowed) : undefined;
  const list = allowed.map((a) => (a === '' ? '""' : a)).join(', ');
  out.push(finding(e, path, 'schema-enum', `${field} ${JSON.stringify(value)} is not one of ${list}; the API server rejects it`,
    guess ? `did you mean "${guess}"?` : `use one of ${list}`));
}

function applyTable(e: Entry, root: unknown, base: string, table: Table, out: RawFinding[]): void {
  for (const [pattern, allowed] of Object.entries(table)) {
    visit(root, pattern.split('.'), base, (value, path) => checkValue(e, value, path, allowed, out));
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
      // In 1.28 only init containers take a restartPolicy, and only `Always` (sidecars).
      if (ref.kind === 'initContainers') applyTable(e, ref.container, ref.path, { restartPolicy: ['Always'] }, out);
    }
  }
  return out;
}
