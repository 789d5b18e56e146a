/**
 * What the cross-object rules (policy availability checks, references) can see: the objects
 * of one region folder plus the global argocd folder, indexed by namespace and kind.
 * Built once per run; a region never sees another region's objects (each is its own cluster).
 */
import { isLongRunningWorkload, podTemplates, PodTemplate } from './pod-templates';
import { apiGroup, Entry, isKind, isRecord, KubeObject, labelsOf, nameOf, namespaceOf, pushTo } from './types';

export interface Workload {
  entry: Entry;
  tpl: PodTemplate;
  podLabels: Record<string, unknown>;
}

/**
 * Pods prometheus-operator creates for a Prometheus or Alertmanager resource. No pod template is
 * rendered, but PDBs and Services select these pods by the labels the operator always sets on
 * them (its StatefulSets' selector labels, which win over podMetadata) plus podMetadata.labels.
 */
export function operatorManagedPodLabels(obj: KubeObject): Record<string, unknown> | undefined {
  if (apiGroup(obj.apiVersion) !== 'monitoring.coreos.com') return undefined;
  const kind = obj.kind === 'Prometheus' ? 'prometheus' : obj.kind === 'Alertmanager' ? 'alertmanager' : undefined;
  const name = nameOf(obj);
  if (!kind || !name) return undefined;
  const spec = isRecord(obj.spec) ? obj.spec : {};
  return {
    ...labelsOf(isRecord(spec.podMetadata) ? spec.podMetadata : {}),
    'app.kubernetes.io/name': kind,
    'app.kubernetes.io/instance': name,
    'app.kubernetes.io/managed-by': 'prometheus-operator',
    [kind]: name,
  };
}

/** What a scope indexes of one object: worked out once, though global objects join every region's scope. */
interface Facts {
  readonly key: string;
  readonly namespace?: string;
  readonly workloads: readonly Workload[];
}
const factsOf = new WeakMap<Entry, Facts>();

function facts(e: Entry): Facts {
  let known = factsOf.get(e);
  if (known) return known;
  const ns = namespaceOf(e.obj) ?? '';
  const workloads: Workload[] = [];
  if (isLongRunningWorkload(e.obj)) {
    for (const tpl of podTemplates(e.obj)) workloads.push({ entry: e, tpl, podLabels: labelsOf(tpl.metadata) });
  }
  const operated = operatorManagedPodLabels(e.obj);
  if (operated) {
    const tpl: PodTemplate = { path: 'spec.podMetadata', metadata: { labels: operated }, spec: {}, longRunning: true, owner: String(e.obj.kind) };
    workloads.push({ entry: e, tpl, podLabels: operated });
  }
  known = {
    key: `${ns} ${apiGroup(e.obj.apiVersion)}/${e.obj.kind}`,
    namespace: isKind(e.obj, '', 'Namespace') ? nameOf(e.obj) : undefined,
    workloads,
  };
  factsOf.set(e, known);
  return known;
}

export class Scope {
  readonly workloads: Workload[] = [];
  /** Namespace objects rendered in this scope. */
  readonly namespaces = new Set<string>();
  private readonly byNsKind = new Map<string, Entry[]>();
  private readonly workloadsByNamespace = new Map<string, Workload[]>();

  constructor(readonly entries: Entry[]) {
    for (const e of entries) {
      const { key, namespace, workloads } = facts(e);
      pushTo(this.byNsKind, key, e);
      if (namespace) this.namespaces.add(namespace);
      this.workloads.push(...workloads);
    }
  }

  /** Objects of `group/kind` in namespace `ns` ('' for cluster-scoped). */
  find(ns: string, group: string, kind: string): Entry[] {
    return this.byNsKind.get(`${ns} ${group}/${kind}`) ?? [];
  }

  named(ns: string, group: string, kind: string, name: string): Entry | undefined {
    return this.find(ns, group, kind).find((e) => nameOf(e.obj) === name);
  }

  workloadsIn(ns: string): Workload[] {
    let list = this.workloadsByNamespace.get(ns);
    if (!list) this.workloadsByNamespace.set(ns, (list = this.workloads.filter((w) => (namespaceOf(w.entry.obj) ?? '') === ns)));
    return list;
  }
}

export class Context {
  private readonly scopes = new Map<string, Scope>();

  constructor(readonly entries: Entry[]) {}

  /** Region folder + global objects; the global folder alone for global objects. */
  scope(e: Entry): Scope {
    return this.regionScope(e.region);
  }

  /** What scope() gives an object of `region` (null: the global folder alone): for a global object that acts on one region. */
  regionScope(region: string | null): Scope {
    const key = region ?? '';
    let s = this.scopes.get(key);
    if (!s) {
      s = new Scope(this.entries.filter((x) => x.region === null || x.region === region));
      this.scopes.set(key, s);
    }
    return s;
  }
}

export function specOf(obj: KubeObject): KubeObject {
  return isRecord(obj.spec) ? obj.spec : {};
}
