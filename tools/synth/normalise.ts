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
 * rest sorted. Undefined values are dropped.
 */
export function canonical(value: unknown, level: 'top' | 'metadata' | 'inner' = 'top'): unknown {
  if (Array.isArray(value)) return value.map((item) => canonical(item, 'inner'));
  if (value === null || typeof value !== 'object') return value;
  const input = value as Record<string, unknown>;
  const keys = Object.keys(input).filter((k) => input[k] !== undefined);
  const ordered = level === 'top' ? orderKeys(keys, TOP_FIRST) : level === 'metadata' ? orderKeys(keys, METADATA_FIRST) : orderKeys(keys, ['name']);
  const out: Record<string, unknown> = {};
  for (const key of ordered) {
    out[key] = canonical(input[key], level === 'top' && key === 'metadata' ? 'metadata' : 'inner');
  }
  return out;
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
