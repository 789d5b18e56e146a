/**
 * The cost line of the rendered diff: per region, the monthly estimate at max scale on each side
 * (tools/cost/estimate.ts over ALL the region's rendered objects, not only the changed ones, plus
 * its add-on Applications in argocd/), and the `cost-increase` risk when it rises by more than
 * the price table's `riskIncreasePercent`. Both sides are priced with the same table (the one
 * the caller passes, from the working copy's regions/global.yaml): the line shows what the
 * rendered change costs, not price-table edits.
 */
import type { RegionPrices } from '../../regions/pricing';
import { estimateRegionCost } from '../cost/estimate';
import { ADDONS_COMPONENT, addonApplications, objectsFromFiles, type DocObject } from '../docs/region-doc';
import type { Risk } from './risks';
import { compareText, identicalPaths, type TreeFile } from './tree';

export interface CostChange {
  readonly region: string;
  /** Monthly estimate at max scale, USD; absent when the region folder is absent on that side. */
  readonly before?: number;
  readonly after?: number;
  /** The threshold the risk flag used, in %. */
  readonly riskIncreasePercent: number;
  /** The region has no price table (pricing.regions in regions/global.yaml): not estimated. */
  readonly unpriced?: true;
}

export type PriceLookup = (region: string) => RegionPrices | undefined;

const GLOBAL_FOLDERS = new Set(['argocd', '.']);

/**
 * What one file holds for the estimate (objectsFromFiles of that file alone). A file identical at
 * the same path on the other side is read once for both: the estimate only reads the objects.
 */
type FileObjects = Record<string, DocObject[]>;

function regionObjects(files: readonly TreeFile[], region: string, applications: readonly DocObject[], read: (f: TreeFile) => FileObjects): Record<string, DocObject[]> | undefined {
  const mine = files.filter((f) => f.path.startsWith(`${region}/`));
  if (mine.length === 0) return undefined;
  // objectsFromFiles(mine), file by file: a later file of the same name replaces an earlier one, as there.
  const objects: Record<string, DocObject[]> = {};
  for (const f of mine) Object.assign(objects, read(f));
  objects[ADDONS_COMPONENT] = addonApplications(region, applications);
  return objects;
}

/**
 * The add-on Applications of `region` (in argocd/ and at the top level). The Application
 * documents of 64 regions are a megabyte of YAML: only the documents whose text names the region
 * are parsed, which cannot drop one: a document labelled with the region holds its name (synth
 * writes no anchors or aliases). The documents kept are split and parsed as objectsFromFiles
 * splits and parses them, so the result is the same.
 */
function regionApplications(files: readonly TreeFile[], region: string): DocObject[] {
  const narrowed = files
    .filter((f) => !f.path.includes('/') || f.path.startsWith('argocd/'))
    .map((f) => ({ path: f.path, content: f.content.split(/^---$/m).filter((chunk) => chunk.includes(region)).join('---') }));
  return addonApplications(region, Object.values(objectsFromFiles(narrowed)).flat());
}

/**
 * Estimates of `regions` on both sides. A region without a price table that the change leaves in
 * place is listed as unpriced (a reviewer must see that its cost is missing, not read a total
 * without it); one it removes is left out.
 */
export function costChanges(filesA: readonly TreeFile[], filesB: readonly TreeFile[], regions: readonly string[], prices: PriceLookup): CostChange[] {
  const named = [...new Set(regions)].filter((r) => !GLOBAL_FOLDERS.has(r)).sort(compareText);
  const priced = named.flatMap((region) => {
    const p = prices(region);
    return p ? [{ region, p }] : [];
  });
  const unpriced: CostChange[] = named
    .filter((region) => !prices(region) && filesB.some((f) => f.path.startsWith(`${region}/`)))
    .map((region) => ({ region, riskIncreasePercent: 0, unpriced: true }));
  if (priced.length === 0) return unpriced;
  const cache = new Map<string, FileObjects>();
  const identical = identicalPaths(filesA, filesB);
  const read = (side: 'a' | 'b') => (f: TreeFile): FileObjects => {
    const key = identical.has(f.path) ? f.path : `${side}\u0000${f.path}`;
    let objects = cache.get(key);
    if (!objects) cache.set(key, (objects = objectsFromFiles([f])));
    return objects;
  };
  const out: CostChange[] = [];
  for (const { region, p } of priced) {
    const a = regionObjects(filesA, region, regionApplications(filesA, region), read('a'));
    const b = regionObjects(filesB, region, regionApplications(filesB, region), read('b'));
    out.push({
      region,
      ...(a ? { before: estimateRegionCost(region, a, p).total.max } : {}),
      ...(b ? { after: estimateRegionCost(region, b, p).total.max } : {}),
      riskIncreasePercent: p.riskIncreasePercent,
    });
  }
  return [...out, ...unpriced].sort((x, y) => compareText(x.region, y.region));
}

/** Percent change with one decimal and a sign, fixed formatting: +12.5 %, -3 %, 0 %. */
export function formatPercent(before: number, after: number): string {
  if (before === 0) return after === 0 ? '0 %' : 'new';
  const pct = Math.round(((after - before) / before) * 1000) / 10;
  const text = pct.toFixed(1).replace(/\.0$/, '');
  return `${pct > 0 ? '+' : ''}${text === '-0' ? '0' : text} %`;
}

/** The `cost-increase` risks: the estimate at max scale rose by more than the threshold (a new region always counts). */
export function costRisks(changes: readonly CostChange[], formatUsd: (n: number) => string): Risk[] {
  const risks: Risk[] = [];
  for (const c of changes) {
    if (c.unpriced) {
      risks.push({
        rule: 'cost-unknown',
        region: c.region,
        object: 'monthly estimate at max scale',
        detail: `not estimated: no price table (pricing.regions.${c.region} in regions/global.yaml)`,
      });
      continue;
    }
    if (c.after === undefined) continue;
    const before = c.before ?? 0;
    const over = before === 0 ? c.after > 0 : ((c.after - before) / before) * 100 > c.riskIncreasePercent;
    if (!over) continue;
    risks.push({
      rule: 'cost-increase',
      region: c.region,
      object: 'monthly estimate at max scale',
      detail: `${formatUsd(before)} → ${formatUsd(c.after)} (${formatPercent(before, c.after)}, threshold +${c.riskIncreasePercent} %)`,
    });
  }
  return risks;
}

/** Regions whose add-on Applications changed: their estimate may move although their own folder did not. */
export function regionsOfApplications(objects: readonly { kind: string; metadata: Record<string, unknown> }[]): string[] {
  return objects
    .filter((o) => o.kind === 'Application')
    .map((o) => (o.metadata.labels as Record<string, string> | undefined)?.['bookedbarber.com/region'])
    .filter((r): r is string => typeof r === 'string');
}
