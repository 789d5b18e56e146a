/**
 * One style for every rendered file, independent of construct order, cdk8s version, locale or
 * environment (cdk8s sorts keys unless CDK8S_DISABLE_SORT is set; we never depend on that):
 * objects in install order (Helm's, which reviewers know), keys in a fixed order, YAML 1.1
 * quoting so that Kubernetes' YAML parser reads every string back as a string.
 */
import { emitYaml } from './emit-yaml';

export type KubeObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } & Record<string, unknown> } & Record<
  string,
  unknown
>;

/** Helm's install order (pkg/releaseutil/kind_sorter.go), plus the CRD kinds we render. */
const INSTALL_ORDER = [
  'PriorityClass', 'Namespace', 'NetworkPolicy', 'ResourceQuota', 'LimitRange', 'PodSecurityPolicy',
  'PodDisruptionBudget', 'ServiceAccount', 'Secret', 'SecretList', 'ConfigMap', 'StorageClass',
  'PersistentVolume', 'PersistentVolumeClaim', 'CustomResourceDefinition', 'ClusterRole',
  'ClusterRoleList', 'ClusterRoleBinding', 'ClusterRoleBindingList', 'Role', 'RoleList', 'RoleBinding',
  'RoleBindingList', 'Service', 'DaemonSet', 'Pod', 'ReplicationController', 'ReplicaSet', 'Deployment',
  'HorizontalPodAutoscaler', 'StatefulSet', 'Job', 'CronJob', 'IngressClass', 'Ingress', 'APIService',
];

function kindRank(kind: string): number {
  const index = INSTALL_ORDER.indexOf(kind);
  return index === -1 ? INSTALL_ORDER.length : index;
}

/** Plain code-unit comparison: never localeCompare, whose order depends on LANG. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sortObjects<T extends KubeObject>(objects: readonly T[]): T[] {
  return [...objects].sort(
    (a, b) =>
      kindRank(a.kind) - kindRank(b.kind) ||
      compareText(a.kind, b.kind) ||
      compareText(a.metadata.namespace ?? '', b.metadata.namespace ?? '') ||
      compareText(a.metadata.name, b.metadata.name) ||
      compareText(a.apiVersion, b.apiVersion),
  );
}

const TOP_FIRST = ['apiVersion', 'kind', 'metadata'];
const METADATA_FIRST = ['name', 'namespace', 'labels', 'annotations'];
const NAME_FIRST = ['name'];

function orderKeys(keys: string[], first: readonly string[]): string[] {
  let leading: string[] | undefined;
  const rest: string[] = [];
  for (const key of keys) {
    if (first.includes(key)) (leading ??= []).push(key);
    else rest.push(key);
  }
  // cdk8s already sorts keys: most lists are in order, and checking is cheaper than sorting.
  for (let i = 1; i < rest.length; i++) {
    if (rest[i - 1]! > rest[i]!) {
      rest.sort(compareText);
      break;
    }
  }
  if (!leading) return rest;
  if (leading.length > 1) leading.sort((a, b) => first.indexOf(a) - first.indexOf(b));
  return [...leading, ...rest];
}

/**
 * Keys in a fixed order: apiVersion/kind/metadata first at the top, name/namespace/labels/
 * annotations first in metadata, `name` first in any list item (containers, ports, env), the
 * rest sorted. Undefined values are dropped. Nothing is changed in place: a value already in
 * canonical form (most of what cdk8s renders: its keys come sorted) is returned as it is, not
 * copied, and so is any part of it already in form (less to allocate and to collect at 64
 * regions; the result may share parts with the input).
 */
export function canonical(value: unknown, level: 'top' | 'metadata' | 'inner' = 'top'): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = canonical(value[i], 'inner');
      if (out) out[i] = item;
      else if (item !== value[i]) (out = value.slice(0, i))[i] = item;
    }
    return out ?? value;
  }
  const input = value as Record<string, unknown>;
  const keys = Object.keys(input);
  const first = level === 'top' ? TOP_FIRST : level === 'metadata' ? METADATA_FIRST : NAME_FIRST;
  const ordered = inOrder(input, keys, first) ? keys : orderKeys(keys.filter((k) => input[k] !== undefined), first);
  let out: Record<string, unknown> | undefined;
  if (ordered !== keys) out = {};
  for (let i = 0; i < ordered.length; i++) {
    const key = ordered[i]!;
    const v = input[key];
    const c = canonical(v, level === 'top' && key === 'metadata' ? 'metadata' : 'inner');
    if (out) out[key] = c;
    else if (c !== v) {
      // The first changed value: copy what came before it, then go on writing.
      out = {};
      for (let j = 0; j < i; j++) out[ordered[j]!] = input[ordered[j]!];
      out[key] = c;
    }
  }
  return out ?? input;
}

/** Whether `keys` are already in canonical order (`first` keys leading in their order, the rest sorted) with no undefined value. */
function inOrder(input: Record<string, unknown>, keys: readonly string[], first: readonly string[]): boolean {
  let rank = -1;
  let previous: string | undefined;
  for (const key of keys) {
    if (input[key] === undefined) return false;
    const r = first.indexOf(key);
    if (r >= 0) {
      if (r < rank || previous !== undefined) return false;
      rank = r;
    } else {
      if (previous !== undefined && previous > key) return false;
      previous = key;
    }
  }
  return true;
}

/** The objects of a file as it holds them: install order, canonical keys (what its YAML parses back to). */
export function canonicalDocuments(objects: readonly KubeObject[]): unknown[] {
  return sortObjects(objects).map((o) => canonical(o));
}

/** A multi-document YAML file of canonical documents: header comment, then one document each. */
export function yamlFile(documents: readonly unknown[], header: readonly string[]): string {
  const docs = documents.map((d) => emitYaml(d));
  return `${header.map((line) => `# ${line}`).join('\n')}\n---\n${docs.join('---\n')}`;
}

/** A multi-document YAML file: header comment, then the objects in install order. */
export function toYamlFile(objects: readonly KubeObject[], header: readonly string[]): string {
  return yamlFile(canonicalDocuments(objects), header);
}
