/**
 * The semantic diff of two rendered trees: per region folder, the objects added, removed and
 * changed (field by field), renames recognised, and the risk flags a reviewer must see first.
 */
import { diffValues, type FieldChange } from './compare';
import { formatUsd } from '../cost/estimate';
import { costChanges, costRisks, regionsOfApplications, type CostChange, type PriceLookup } from './cost';
import { findRisks, RISK_RULES, type Risk, type RiskRule } from './risks';
import { compareText, loadPair, type Entry, type KubeObject, type TreeFile } from './tree';

export interface ObjectRef {
  readonly kind: string;
  readonly apiVersion: string;
  readonly namespace?: string;
  readonly name: string;
  /** File in the region folder, e.g. api.yaml (for changed objects: the new file). */
  readonly file: string;
}

export interface AddedObject extends ObjectRef {
  /** Set when a removed object of the same kind had an identical body: the name it had before. */
  readonly renamedFrom?: string;
}

export interface RemovedObject extends ObjectRef {
  readonly renamedTo?: string;
}

export interface ChangedObject extends ObjectRef {
  /** Set when the object moved to another file of the region. */
  readonly previousFile?: string;
  readonly changes: readonly FieldChange[];
}

export interface RegionDiff {
  readonly region: string;
  /** `added` / `removed`: the whole region folder is new / gone. */
  readonly status: 'added' | 'removed' | 'changed';
  readonly added: readonly AddedObject[];
  readonly removed: readonly RemovedObject[];
  readonly changed: readonly ChangedObject[];
}

export interface DiffResult {
  readonly from: string;
  readonly to: string;
  readonly risks: readonly Risk[];
  /** Only regions with at least one difference, sorted by name. */
  readonly regions: readonly RegionDiff[];
  /** Monthly estimate at max scale per region whose rendered objects changed (when prices were given). */
  readonly costs: readonly CostChange[];
  readonly summary: { readonly added: number; readonly removed: number; readonly changed: number; readonly regions: number };
}

/** What risk rules see of one object-level difference. */
export interface ObjectDelta {
  readonly region: string;
  /** Whether the region folder exists on both sides (new regions do not raise "added policy" flags). */
  readonly regionInBoth: boolean;
  readonly before?: KubeObject;
  readonly after?: KubeObject;
  readonly changes: readonly FieldChange[];
  readonly renamed?: { readonly from?: string; readonly to?: string };
}

function ref(e: Entry): ObjectRef {
  const o = e.object;
  const r: { kind: string; apiVersion: string; namespace?: string; name: string; file: string } = {
    kind: o.kind,
    apiVersion: o.apiVersion,
    name: o.metadata.name,
    file: e.file,
  };
  if (o.metadata.namespace !== undefined) r.namespace = o.metadata.namespace;
  return r;
}

function compareRefs(a: ObjectRef, b: ObjectRef): number {
  return compareText(a.kind, b.kind) || compareText(a.namespace ?? '', b.namespace ?? '') || compareText(a.name, b.name) || compareText(a.apiVersion, b.apiVersion);
}

/** JSON with sorted keys, so that two bodies compare regardless of key order. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort(compareText)
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** An object without its metadata and version: what must match for "renamed from". */
function bodyKey(o: KubeObject): string {
  const { metadata: _m, apiVersion: _v, ...rest } = o;
  return `${o.kind}\u0000${stableJson(rest)}`;
}

export function objectLabel(o: { kind: string; namespace?: string; name: string }): string {
  return `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;
}

export interface DiffOptions {
  /** The price table per region (regions/pricing.ts); without it the diff has no cost lines. */
  readonly prices?: PriceLookup;
}

const RULE_ORDER = Object.keys(RISK_RULES) as RiskRule[];

export function diffTrees(filesA: readonly TreeFile[], filesB: readonly TreeFile[], labels: { from: string; to: string }, options: DiffOptions = {}): DiffResult {
  const pair = loadPair(filesA, filesB);
  const regions = [...new Set([...pair.regionsA, ...pair.regionsB])].sort(compareText);
  const byRegion = (entries: Entry[]): Map<string, Map<string, Entry>> => {
    const m = new Map<string, Map<string, Entry>>();
    for (const e of entries) {
      let r = m.get(e.region);
      if (!r) m.set(e.region, (r = new Map()));
      if (r.has(e.id)) throw new Error(`${e.region}: ${objectLabel(ref(e))} appears twice (${r.get(e.id)!.file}, ${e.file})`);
      r.set(e.id, e);
    }
    return m;
  };
  const a = byRegion(pair.a);
  const b = byRegion(pair.b);
  const out: RegionDiff[] = [];
  const deltas: ObjectDelta[] = [];
  for (const region of regions) {
    const ra = a.get(region) ?? new Map<string, Entry>();
    const rb = b.get(region) ?? new Map<string, Entry>();
    const regionInBoth = pair.regionsA.has(region) && pair.regionsB.has(region);
    const removedEntries: Entry[] = [];
    const addedEntries: Entry[] = [];
    const changed: ChangedObject[] = [];
    for (const [id, ea] of ra) {
      const eb = rb.get(id);
      if (!eb) {
        removedEntries.push(ea);
        continue;
      }
      const changes = diffValues(ea.object, eb.object);
      if (changes.length === 0 && ea.file === eb.file) continue;
      const c: ChangedObject = { ...ref(eb), ...(ea.file !== eb.file ? { previousFile: ea.file } : {}), changes };
      changed.push(c);
      deltas.push({ region, regionInBoth, before: ea.object, after: eb.object, changes });
    }
    for (const [id, eb] of rb) if (!ra.has(id)) addedEntries.push(eb);

    // Renames: exactly one removed and one added object with the same kind and body.
    const groups = new Map<string, { removed: Entry[]; added: Entry[] }>();
    const group = (k: string) => {
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { removed: [], added: [] }));
      return g;
    };
    for (const e of removedEntries) group(bodyKey(e.object)).removed.push(e);
    for (const e of addedEntries) group(bodyKey(e.object)).added.push(e);
    const renamedFrom = new Map<Entry, Entry>();
    const renamedTo = new Map<Entry, Entry>();
    for (const g of groups.values()) {
      if (g.removed.length === 1 && g.added.length === 1) {
        renamedFrom.set(g.added[0], g.removed[0]);
        renamedTo.set(g.removed[0], g.added[0]);
      }
    }
    const nameOf = (e: Entry) => `${e.object.metadata.namespace ? `${e.object.metadata.namespace}/` : ''}${e.object.metadata.name}`;
    const removed: RemovedObject[] = removedEntries.map((e) => {
      const to = renamedTo.get(e);
      deltas.push({ region, regionInBoth, before: e.object, changes: [], ...(to ? { renamed: { to: nameOf(to) } } : {}) });
      return { ...ref(e), ...(to ? { renamedTo: nameOf(to) } : {}) };
    });
    const added: AddedObject[] = addedEntries.map((e) => {
      const from = renamedFrom.get(e);
      deltas.push({ region, regionInBoth, after: e.object, changes: [], ...(from ? { renamed: { from: nameOf(from) } } : {}) });
      return { ...ref(e), ...(from ? { renamedFrom: nameOf(from) } : {}) };
    });
    if (added.length + removed.length + changed.length === 0) continue;
    out.push({
      region,
      status: !pair.regionsA.has(region) ? 'added' : !pair.regionsB.has(region) ? 'removed' : 'changed',
      added: added.sort(compareRefs),
      removed: removed.sort(compareRefs),
      changed: changed.sort(compareRefs),
    });
  }
  const costRegions = [
    ...out.map((r) => r.region),
    ...regionsOfApplications(deltas.filter((d) => d.region === 'argocd').flatMap((d) => [d.before, d.after]).filter((o): o is KubeObject => o !== undefined)),
  ];
  const costs = options.prices ? costChanges(filesA, filesB, costRegions, options.prices) : [];
  const risks = [...findRisks(deltas), ...costRisks(costs, formatUsd)].sort(
    (x, y) => RULE_ORDER.indexOf(x.rule) - RULE_ORDER.indexOf(y.rule) || compareText(x.region, y.region) || compareText(x.object, y.object) || compareText(x.detail, y.detail),
  );
  return {
    from: labels.from,
    to: labels.to,
    risks,
    regions: out,
    costs,
    summary: {
      added: out.reduce((n, r) => n + r.added.length, 0),
      removed: out.reduce((n, r) => n + r.removed.length, 0),
      changed: out.reduce((n, r) => n + r.changed.length, 0),
      regions: out.length,
    },
  };
}
