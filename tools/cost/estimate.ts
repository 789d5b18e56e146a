/**
 * The monthly cost estimate of one region, from its RENDERED objects (never from regions/): pod
 * requests × pods at the HPA minimum and maximum split by capacity type (Karpenter NodePools),
 * PersistentVolumes by StorageClass, the WAL-G archive in the region's bucket, and load
 * balancers; priced with the pinned price table of regions/global.yaml (regions/pricing.ts).
 *
 * "Max scale" is the steady state: every HPA at its maximum, one stack per Rollout. The second
 * stack a release runs (the API's stable side at full size beside a canary at 100 % before an
 * instant abort or promotion, the web's blue-green preview) lasts minutes to hours, so it is
 * reported as a per-hour surcharge (`releasePeakPerHour`), not put into the monthly totals.
 *
 * Pure: same objects and prices in, same numbers out. Method and caveats: docs/cost.md.
 */
import type { RegionPrices } from '../../regions/pricing';
import { type DocObject, type RegionObjects, type WorkloadCapacity, quantity, regionCapacity, requiredNodeLabels, toleratedKeys } from '../docs/region-doc';

const GIB = 1024 ** 3;
export const CAPACITY_TYPE_LABEL = 'karpenter.sh/capacity-type';
export const NODEPOOL_LABEL = 'karpenter.sh/nodepool';

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// What runs: workloads (from the capacity table) plus the gateways the region's add-ons install

/** One group of identical pods with its bounds. */
export interface PodGroup {
  readonly component: string;
  readonly name: string;
  readonly minPods: number;
  readonly maxPods: number;
  /** Requests per pod (istio-proxy included), cores and bytes. */
  readonly cpu: number;
  readonly memory: number;
  readonly tolerations: readonly string[];
  /** Node labels the pods require (nodeAffinity `In`): only NodePools whose nodes carry them can run the pods. */
  readonly nodeRequirements: Readonly<Record<string, readonly string[]>>;
  readonly secondStackAtRelease: boolean;
}

/** A Service of type LoadBalancer, rendered or installed by an add-on Application (its Helm values). */
export interface LoadBalancer {
  readonly name: string;
  readonly source: string;
}

/** Argo CD Applications of the region's add-ons whose Helm values install a LoadBalancer Service (the Istio gateways). */
function addonGateways(objects: RegionObjects): { pods: PodGroup[]; loadBalancers: LoadBalancer[] } {
  const pods: PodGroup[] = [];
  const loadBalancers: LoadBalancer[] = [];
  for (const [component, list] of Object.entries(objects)) {
    for (const o of list) {
      if (o.kind !== 'Application') continue;
      const values = (o.spec as any)?.source?.helm?.valuesObject;
      if (values?.service?.type !== 'LoadBalancer') continue;
      const name = String((o.metadata as any).labels?.['bookedbarber.com/addon'] ?? o.metadata.name);
      loadBalancers.push({ name, source: `Application ${o.metadata.name}` });
      const auto = values.autoscaling;
      const fixed = Number(values.replicaCount ?? 1);
      pods.push({
        component,
        name,
        minPods: auto?.enabled ? Number(auto.minReplicas ?? 1) : fixed,
        maxPods: auto?.enabled ? Number(auto.maxReplicas ?? auto.minReplicas ?? 1) : fixed,
        cpu: quantity(values.resources?.requests?.cpu),
        memory: quantity(values.resources?.requests?.memory),
        tolerations: toleratedKeys(values.tolerations),
        nodeRequirements: requiredNodeLabels(values.affinity),
        secondStackAtRelease: false,
      });
    }
  }
  return { pods, loadBalancers };
}

function podGroup(w: WorkloadCapacity): PodGroup {
  return {
    component: w.component,
    name: `${w.namespace}/${w.name}`,
    minPods: w.minPods,
    maxPods: w.maxPods,
    cpu: w.pod.cpu,
    memory: w.pod.memory,
    tolerations: w.tolerations,
    nodeRequirements: w.nodeRequirements,
    secondStackAtRelease: w.secondStackAtRelease,
  };
}

// ---------------------------------------------------------------------------------------------
// Where it runs: Karpenter NodePools

export interface NodePoolInfo {
  readonly name: string;
  readonly weight: number;
  readonly spot: boolean;
  /** Capacity types its nodes may have (`karpenter.sh/capacity-type`). */
  readonly capacityTypes: readonly string[];
  /** Taint keys with effect NoSchedule or NoExecute: only pods tolerating all of them land here. */
  readonly taints: readonly string[];
  /** spec.limits.cpu in cores (node capacity); Infinity without a limit. */
  readonly limitCpu: number;
}

export function nodePools(objects: RegionObjects): NodePoolInfo[] {
  const pools: NodePoolInfo[] = [];
  for (const o of Object.values(objects).flat()) {
    if (o.kind !== 'NodePool' || !String(o.apiVersion ?? '').startsWith('karpenter.sh/')) continue;
    const template = (o.spec as any)?.template?.spec ?? {};
    const requirement = ((template.requirements ?? []) as any[]).find((r) => r?.key === CAPACITY_TYPE_LABEL);
    // Karpenter's default without a capacity-type requirement is on-demand; with spot allowed it prefers spot.
    const types: string[] = requirement?.operator === 'In' ? (requirement.values ?? []).map(String) : ['on-demand'];
    const taints = ((template.taints ?? []) as any[]).filter((t) => t?.effect !== 'PreferNoSchedule').map((t) => String(t.key));
    const limit = (o.spec as any)?.limits?.cpu;
    pools.push({
      name: o.metadata.name,
      weight: Number((o.spec as any)?.weight ?? 0),
      spot: types.includes('spot'),
      capacityTypes: types,
      taints: [...new Set(taints)].sort(compare),
      limitCpu: limit === undefined ? Infinity : quantity(limit),
    });
  }
  // Karpenter tries the highest weight first; ties by name, so the result is deterministic.
  return pools.sort((a, b) => b.weight - a.weight || compare(a.name, b.name));
}

const tolerates = (group: PodGroup, pool: NodePoolInfo) => pool.taints.every((t) => group.tolerations.includes(t) || group.tolerations.includes('*'));

/** Whether the pool's nodes carry the labels the pods require (Karpenter's nodepool and capacity-type labels). */
function satisfies(group: PodGroup, pool: NodePoolInfo): boolean {
  const names = group.nodeRequirements[NODEPOOL_LABEL];
  const types = group.nodeRequirements[CAPACITY_TYPE_LABEL];
  return (!names || names.includes(pool.name)) && (!types || types.some((t) => pool.capacityTypes.includes(t)));
}

/** Node capacity (requests / packing efficiency) on on-demand and on spot nodes. */
export interface Placement {
  readonly onDemand: { readonly cpu: number; readonly memory: number };
  readonly spot: { readonly cpu: number; readonly memory: number };
  /** Requests (not node capacity) in total. */
  readonly requests: { readonly cpu: number; readonly memory: number };
}

/**
 * Places pod groups on NodePools: each group fills the pools it tolerates in weight order, a pool
 * taking node CPU up to what is left of its `limits.cpu` (shared by every group that lands there),
 * memory following the group's CPU share. No NodePools, or no pool a group tolerates: on-demand.
 */
export function place(groups: readonly PodGroup[], pools: readonly NodePoolInfo[], pods: (g: PodGroup) => number, efficiency: number): Placement {
  const left = new Map(pools.map((p) => [p.name, p.limitCpu]));
  let odCpu = 0;
  let odMem = 0;
  let spotCpu = 0;
  let spotMem = 0;
  let reqCpu = 0;
  let reqMem = 0;
  const ordered = [...groups].sort((a, b) => compare(a.component, b.component) || compare(a.name, b.name));
  for (const g of ordered) {
    const n = pods(g);
    reqCpu += n * g.cpu;
    reqMem += n * g.memory;
    const cpu = (n * g.cpu) / efficiency;
    const memory = (n * g.memory) / efficiency;
    let need = cpu;
    let spotShare = 0;
    for (const pool of pools.filter((p) => tolerates(g, p) && satisfies(g, p))) {
      if (need <= 0) break;
      const take = Math.min(need, left.get(pool.name)!);
      if (take <= 0) continue;
      left.set(pool.name, left.get(pool.name)! - take);
      need -= take;
      if (pool.spot) spotShare += take;
    }
    // Whatever no pool could take (no NodePools, limits reached) is counted on-demand.
    const share = cpu > 0 ? spotShare / cpu : 0;
    spotCpu += cpu * share;
    spotMem += memory * share;
    odCpu += cpu * (1 - share);
    odMem += memory * (1 - share);
  }
  return { onDemand: { cpu: odCpu, memory: odMem }, spot: { cpu: spotCpu, memory: spotMem }, requests: { cpu: reqCpu, memory: reqMem } };
}

// ---------------------------------------------------------------------------------------------
// Storage: PVCs by StorageClass, and the WAL-G archive

export interface StorageLine {
  readonly storageClass: string;
  /** EBS volume type (StorageClass parameter `type`). */
  readonly volumeType: string;
  readonly gib: number;
  readonly monthly: number;
  /** Set when the class is not rendered or its type has no price. */
  readonly note?: string;
}

interface Claim {
  readonly storageClass: string;
  readonly bytes: number;
}

function claimsOf(o: DocObject, hpaMax: (o: DocObject) => number | undefined): Claim[] {
  const spec = o.spec ?? {};
  const claim = (c: any, times: number): Claim => ({ storageClass: String(c?.spec?.storageClassName ?? ''), bytes: times * quantity(c?.spec?.resources?.requests?.storage) });
  switch (o.kind) {
    case 'StatefulSet':
      return ((spec.volumeClaimTemplates ?? []) as any[]).map((c) => claim(c, hpaMax(o) ?? spec.replicas ?? 1));
    case 'Prometheus':
    case 'Alertmanager': {
      const t = spec.storage?.volumeClaimTemplate;
      const pods = (spec.replicas ?? 1) * (o.kind === 'Prometheus' ? (spec.shards ?? 1) : 1);
      return t ? [claim(t, pods)] : [];
    }
    case 'OpenTelemetryCollector':
      if (spec.mode !== 'statefulset') return [];
      return ((spec.volumeClaimTemplates ?? []) as any[]).map((c) => claim(c, spec.autoscaler?.maxReplicas ?? spec.replicas ?? 1));
    case 'PersistentVolumeClaim':
      return [claim(o, 1)];
    default:
      return [];
  }
}

function storageLines(all: readonly DocObject[], prices: RegionPrices, hpaMax: (o: DocObject) => number | undefined): StorageLine[] {
  const classes = new Map(all.filter((o) => o.kind === 'StorageClass').map((o) => [o.metadata.name, o]));
  const defaultClass = [...classes.values()].find((c) => (c.metadata as any).annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true');
  const bytes = new Map<string, number>();
  for (const o of all) {
    for (const c of claimsOf(o, hpaMax)) {
      const name = c.storageClass || defaultClass?.metadata.name || '(cluster default)';
      bytes.set(name, (bytes.get(name) ?? 0) + c.bytes);
    }
  }
  return [...bytes.entries()]
    .sort(([a], [b]) => compare(a, b))
    .map(([storageClass, total]) => {
      const cls = classes.get(storageClass);
      // The EBS CSI driver's default volume type is gp3.
      const volumeType = String((cls as any)?.parameters?.type ?? 'gp3');
      const price = prices.blockStorageGbMonth[volumeType];
      const gib = total / GIB;
      const notes = [
        ...(cls ? [] : ['class not rendered in this region: priced as gp3']),
        ...(price === undefined ? [`no price for volume type ${volumeType} in the price table: not counted`] : []),
      ];
      // EBS bills provisioned GiB as "GB-month".
      return { storageClass, volumeType, gib, monthly: price === undefined ? 0 : gib * price, ...(notes.length ? { note: notes.join('; ') } : {}) };
    });
}

export interface BackupSite {
  /** The StatefulSet that archives (env WALG_S3_PREFIX). */
  readonly name: string;
  readonly prefix: string;
  readonly volumeGiB: number;
  readonly retainFullBackups: number;
  /** Estimated GiB kept in the bucket. */
  readonly storedGiB: number;
}

function env(o: DocObject, name: string): string | undefined {
  for (const c of [...(o.spec?.template?.spec?.containers ?? []), ...(o.spec?.template?.spec?.initContainers ?? [])]) {
    const e = ((c?.env ?? []) as any[]).find((x) => x?.name === name && typeof x.value === 'string');
    if (e) return e.value;
  }
  return undefined;
}

/**
 * Each Postgres site (a StatefulSet whose containers archive with WAL-G: env WALG_S3_PREFIX) keeps
 * RETAIN_FULL_BACKUPS daily base backups and the WAL since the oldest of them:
 * volume × dataFillRatio × compressionRatio × retain × (1 + walPerDayRatio). The ratios are
 * assumptions of the price table (daily base backups, as the shipped schedule runs).
 */
export function backupSites(all: readonly DocObject[], prices: RegionPrices): BackupSite[] {
  const sites: BackupSite[] = [];
  for (const o of all) {
    if (o.kind !== 'StatefulSet') continue;
    const prefix = env(o, 'WALG_S3_PREFIX');
    if (!prefix) continue;
    const volumeGiB = Math.max(0, ...((o.spec?.volumeClaimTemplates ?? []) as any[]).map((c) => quantity(c?.spec?.resources?.requests?.storage) / GIB));
    const retain = Math.max(1, Number.parseInt(env(o, 'RETAIN_FULL_BACKUPS') ?? '1', 10) || 1);
    const b = prices.backups;
    sites.push({
      name: `${o.metadata.namespace ?? ''}/${o.metadata.name}`,
      prefix,
      volumeGiB,
      retainFullBackups: retain,
      storedGiB: volumeGiB * b.dataFillRatio * b.compressionRatio * retain * (1 + b.walPerDayRatio),
    });
  }
  return sites.sort((a, b) => compare(a.name, b.name));
}

// ---------------------------------------------------------------------------------------------
// The estimate

export interface MinMax {
  readonly min: number;
  readonly max: number;
}

export interface ComponentCompute {
  readonly component: string;
  readonly minPods: number;
  readonly maxPods: number;
  /** Monthly, every pod priced on-demand (the split by capacity type is region-wide). */
  readonly onDemandMonthly: MinMax;
}

export interface CostEstimate {
  readonly region: string;
  readonly prices: RegionPrices;
  readonly nodePools: readonly NodePoolInfo[];
  readonly placement: { readonly min: Placement; readonly max: Placement };
  readonly computeOnDemand: MinMax;
  readonly computeSpot: MinMax;
  readonly components: readonly ComponentCompute[];
  readonly storage: readonly StorageLine[];
  readonly backups: readonly BackupSite[];
  readonly objectStorage: number;
  readonly loadBalancers: readonly LoadBalancer[];
  readonly loadBalancerMonthly: number;
  readonly total: MinMax;
  /** Extra USD per hour while a release runs its second stacks at max scale. */
  readonly releasePeakPerHour: number;
}

export function estimateRegionCost(region: string, objects: RegionObjects, prices: RegionPrices): CostEstimate {
  const all = Object.values(objects).flat();
  const capacity = regionCapacity(Object.fromEntries(Object.entries(objects).map(([k, v]) => [k, v.filter((o) => o.kind !== 'Application')])));
  const gateways = addonGateways(objects);
  const groups = [...capacity.workloads.map(podGroup), ...gateways.pods];
  const pools = nodePools(objects);
  const h = prices.hoursPerMonth;
  const eff = prices.packingEfficiency;
  const spotFactor = 1 - prices.spotDiscountPercent / 100;
  const nodeMonthly = (cpu: number, memory: number) => (cpu * prices.vcpuHour + (memory / GIB) * prices.gibHour) * h;

  const min = place(groups, pools, (g) => g.minPods, eff);
  const max = place(groups, pools, (g) => g.maxPods, eff);
  const peak = place(groups, pools, (g) => g.maxPods * (g.secondStackAtRelease ? 2 : 1), eff);
  const computeMonthly = (p: Placement) => ({ od: nodeMonthly(p.onDemand.cpu, p.onDemand.memory), spot: nodeMonthly(p.spot.cpu, p.spot.memory) * spotFactor });
  const cMin = computeMonthly(min);
  const cMax = computeMonthly(max);
  const cPeak = computeMonthly(peak);

  const components: ComponentCompute[] = [];
  for (const component of [...new Set(groups.map((g) => g.component))].sort(compare)) {
    const gs = groups.filter((g) => g.component === component);
    const monthly = (pods: (g: PodGroup) => number) => gs.reduce((n, g) => n + nodeMonthly((pods(g) * g.cpu) / eff, (pods(g) * g.memory) / eff), 0);
    components.push({
      component,
      minPods: gs.reduce((n, g) => n + g.minPods, 0),
      maxPods: gs.reduce((n, g) => n + g.maxPods, 0),
      onDemandMonthly: { min: monthly((g) => g.minPods), max: monthly((g) => g.maxPods) },
    });
  }

  const hpas = all.filter((o) => o.kind === 'HorizontalPodAutoscaler');
  const hpaMax = (o: DocObject): number | undefined =>
    hpas.find((x) => (x.metadata.namespace ?? '') === (o.metadata.namespace ?? '') && x.spec?.scaleTargetRef?.kind === o.kind && x.spec?.scaleTargetRef?.name === o.metadata.name)?.spec?.maxReplicas;
  const storage = storageLines(all, prices, hpaMax);
  const backups = backupSites(all, prices);
  const objectStorage = backups.reduce((n, s) => n + s.storedGiB, 0) * prices.objectStorageGbMonth;

  const rendered: LoadBalancer[] = all
    .filter((o) => o.kind === 'Service' && o.spec?.type === 'LoadBalancer')
    .map((o) => ({ name: `${o.metadata.namespace ?? ''}/${o.metadata.name}`, source: 'Service' }));
  const loadBalancers = [...rendered, ...gateways.loadBalancers].sort((a, b) => compare(a.name, b.name));
  const loadBalancerMonthly = loadBalancers.length * prices.loadBalancerHour * h;

  const fixed = storage.reduce((n, s) => n + s.monthly, 0) + objectStorage + loadBalancerMonthly;
  return {
    region,
    prices,
    nodePools: pools,
    placement: { min, max },
    computeOnDemand: { min: cMin.od, max: cMax.od },
    computeSpot: { min: cMin.spot, max: cMax.spot },
    components,
    storage,
    backups,
    objectStorage,
    loadBalancers,
    loadBalancerMonthly,
    total: { min: cMin.od + cMin.spot + fixed, max: cMax.od + cMax.spot + fixed },
    releasePeakPerHour: (cPeak.od + cPeak.spot - cMax.od - cMax.spot) / h,
  };
}

// ---------------------------------------------------------------------------------------------
// Formatting (fixed, never locale-dependent)

/** Whole dollars with thousands separators: $1,234,567 (half up, -0 as 0). */
export function formatUsd(value: number): string {
  // Cents first, so float noise (988.4999999 for 988.5) does not decide the rounding.
  const whole = Math.round(Math.round(value * 100) / 100);
  const sign = whole < 0 ? '-' : '';
  return `${sign}$${String(Math.abs(whole)).replace(/\B(?=(\d{3})+(?!\d))/g, ',')}`;
}

/** Dollars with cents: $12.34 (for hourly figures). */
export function formatUsdCents(value: number): string {
  const cents = Math.round(value * 100);
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}$${String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${String(abs % 100).padStart(2, '0')}`;
}

/** A small unit price without float noise: 0.033, 0.00375. */
export function formatUnitPrice(value: number): string {
  return `$${Number(value.toPrecision(6)).toString()}`;
}
