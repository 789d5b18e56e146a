/**
 * Workload discovery shared by the enum, policy and reference layers: given an object, where
 * are its pod templates? One place, so a new workload kind is taught to every rule at once.
 */
import { item } from './paths';
import { apiGroup, asArray, isRecord, KubeObject } from './types';

export interface PodTemplate {
  /** Path of the template inside the object ('' when the object is itself a Pod). */
  path: string;
  metadata: KubeObject;
  spec: KubeObject;
  /** Deployment/StatefulSet/DaemonSet/ReplicaSet/Rollout: probes, spread and PDB apply. */
  longRunning: boolean;
  /** Kind of the object that owns the template. */
  owner: string;
}

export interface ContainerRef {
  container: KubeObject;
  path: string;
  kind: 'containers' | 'initContainers' | 'ephemeralContainers';
}

/** Long-running controllers by API group; their pods are expected to stay up. */
const LONG_RUNNING: Record<string, string[]> = { apps: ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'], 'argoproj.io': ['Rollout'] };

export function isLongRunningWorkload(obj: KubeObject): boolean {
  return (LONG_RUNNING[apiGroup(obj.apiVersion)] ?? []).includes(obj.kind);
}

function template(obj: KubeObject, path: string, node: unknown, longRunning: boolean): PodTemplate[] {
  if (!isRecord(node)) return [];
  return [{ path, metadata: isRecord(node.metadata) ? node.metadata : {}, spec: isRecord(node.spec) ? node.spec : {}, longRunning, owner: String(obj.kind) }];
}

export function podTemplates(obj: KubeObject): PodTemplate[] {
  const group = apiGroup(obj.apiVersion);
  const spec = isRecord(obj.spec) ? obj.spec : {};
  if (isLongRunningWorkload(obj)) return template(obj, 'spec.template', spec.template, true);
  if (group === 'batch' && obj.kind === 'Job') return template(obj, 'spec.template', spec.template, false);
  if (group === 'batch' && obj.kind === 'CronJob') {
    const jobSpec = isRecord(spec.jobTemplate) && isRecord(spec.jobTemplate.spec) ? spec.jobTemplate.spec : {};
    return template(obj, 'spec.jobTemplate.spec.template', jobSpec.template, false);
  }
  if (group === '' && obj.kind === 'Pod') return template(obj, '', obj, false);
  // Argo Rollouts analysis Jobs run as pods in our (restricted) namespaces too: a template that
  // Pod Security rejects would only fail at analysis time, in the middle of a rollout.
  if (group === 'argoproj.io' && (obj.kind === 'AnalysisTemplate' || obj.kind === 'ClusterAnalysisTemplate')) {
    return asArray(spec.metrics).flatMap((m, i) => {
      const job = isRecord(m) && isRecord(m.provider) && isRecord(m.provider.job) ? m.provider.job : undefined;
      const jobSpec = job && isRecord(job.spec) ? job.spec : undefined;
      return jobSpec ? template(obj, `spec.metrics[${i}].provider.job.spec.template`, jobSpec.template, false) : [];
    });
  }
  return [];
}

/** Path of a field relative to the template: at(tpl, 'spec.containers') → 'spec.template.spec.containers'. */
export function at(tpl: PodTemplate, rel: string): string {
  return tpl.path ? `${tpl.path}.${rel}` : rel;
}

export function containersOf(tpl: PodTemplate, kinds: ContainerRef['kind'][] = ['initContainers', 'containers', 'ephemeralContainers']): ContainerRef[] {
  const out: ContainerRef[] = [];
  for (const kind of kinds) {
    asArray(tpl.spec[kind]).forEach((c, i) => {
      if (isRecord(c)) out.push({ container: c, path: item(at(tpl, `spec.${kind}`), i), kind });
    });
  }
  return out;
}

/** Display name of a container for messages: `container "api"`. */
export function containerLabel(ref: ContainerRef): string {
  const name = typeof ref.container.name === 'string' ? ref.container.name : '?';
  return `${ref.kind === 'containers' ? 'container' : ref.kind === 'initContainers' ? 'init container' : 'ephemeral container'} "${name}"`;
}

/**
 * Labels controllers put on the pods they make, which no pod template carries (ReplicaSets,
 * Argo Rollouts, StatefulSets, DaemonSets, Jobs): a selector on one of them is about running pods.
 */
export const CONTROLLER_POD_LABELS: ReadonlySet<string> = new Set([
  'pod-template-hash', 'rollouts-pod-template-hash', 'controller-revision-hash', 'pod-template-generation', 'statefulset.kubernetes.io/pod-name',
  'apps.kubernetes.io/pod-index', 'job-name', 'batch.kubernetes.io/job-name', 'controller-uid', 'batch.kubernetes.io/controller-uid',
]);

/**
 * The literal texts one container is given: env values (`env: true`), command and args, each with
 * its path under `path` (the container's own).
 */
export function textsOfContainer(container: Record<string, any>, path: string): Array<{ path: string; text: string; env: boolean }> {
  const out: Array<{ path: string; text: string; env: boolean }> = [];
  asArray(container.env).forEach((env, i) => {
    if (isRecord(env) && typeof env.value === 'string') out.push({ path: `${item(`${path}.env`, i)}.value`, text: env.value, env: true });
  });
  for (const field of ['command', 'args'] as const) {
    asArray(container[field]).forEach((v, i) => {
      if (typeof v === 'string') out.push({ path: item(`${path}.${field}`, i), text: v, env: false });
    });
  }
  return out;
}

/**
 * The literal texts the containers (init ones too) of an object's pod templates are given
 * (textsOfContainer). Rules that read addresses or command lines in them start here.
 */
export function containerTexts(obj: KubeObject): Array<{ path: string; text: string; env: boolean }> {
  return podTemplates(obj).flatMap((tpl) => containersOf(tpl, ['initContainers', 'containers']).flatMap(({ container, path }) => textsOfContainer(container, path)));
}
