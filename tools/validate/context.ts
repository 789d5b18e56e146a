/**
 * What the cross-object rules (policy availability checks, references) can see: the objects
 * of one region folder plus the global argocd folder, indexed by namespace and kind.
 * Built once per run; a region never sees another region's objects (each is its own cluster).
 */
import { isLongRunningWorkload, podTemplates, PodTemplate } from './pod-templates';
import { apiGroup, Entry, isKind, isRecord, KubeObject, labelsOf, nameOf, namespaceOf } from './types';

export interface Workload {
  entry: Entry;
  tpl: PodTemplate;
  podLabels: Record<string, unknown>;
}

export class Scope {
  readonly workloads: Workload[] = [];
  /** Namespace objects rendered in this scope. */
  readonly namespaces = new Set<string>();
  private readonly byNsKind = new Map<string, Entry[]>();

  constructor(readonly entries: Entry[]) {
    for (const e of entries) {
      const ns = namespaceOf(e.obj) ?? '';
      const key = `${ns} ${apiGroup(e.obj.apiVersion)}/${e.obj.kind}`;
      const list = this.byNsKind.get(key) ?? [];
      list.push(e);
      this.byNsKind.set(key, list);
      if (isKind(e.obj, '', 'Namespace') && nameOf(e.obj)) this.namespaces.add(nameOf(e.obj)!);
      if (isLongRunningWorkload(e.obj)) {
        for (const tpl of podTemplates(e.obj)) this.workloads.push({ entry: e, tpl, podLabels: labelsOf(tpl.metadata) });
      }
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
    return this.workloads.filter((w) => (namespaceOf(w.entry.obj) ?? '') === ns);
  }
}

export class Context {
  private readonly scopes = new Map<string, Scope>();

  constructor(readonly entries: Entry[]) {}

  /** Region folder + global objects; the global folder alone for global objects. */
  scope(e: Entry): Scope {
    const key = e.region ?? '';
    let s = this.scopes.get(key);
    if (!s) {
      s = new Scope(this.entries.filter((x) => x.region === null || x.region === e.region));
      this.scopes.set(key, s);
    }
    return s;
  }
}

export function specOf(obj: KubeObject): KubeObject {
  return isRecord(obj.spec) ? obj.spec : {};
}
