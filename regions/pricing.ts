/**
 * The price table of one region, derived once from the pinned `pricing` block of global.yaml:
 * the price of a vCPU-hour and of a GiB-hour solved from two published instance prices (same
 * vCPUs, different memory), plus the settings the estimate uses. Plain data, no charts.
 */
import type { GlobalConfig, PricingConfig } from './model';

export interface RegionPrices {
  readonly region: string;
  readonly date: string;
  readonly sources: readonly string[];
  readonly hoursPerMonth: number;
  /** On-demand USD per vCPU-hour and per GiB-hour of node capacity. */
  readonly vcpuHour: number;
  readonly gibHour: number;
  /** How they were derived, e.g. "m6i.xlarge $0.192/h, r6i.xlarge $0.252/h". */
  readonly derivedFrom: string;
  readonly spotDiscountPercent: number;
  readonly packingEfficiency: number;
  readonly riskIncreasePercent: number;
  readonly blockStorageGbMonth: Readonly<Record<string, number>>;
  readonly objectStorageGbMonth: number;
  readonly loadBalancerHour: number;
  readonly backups: PricingConfig['backups'];
}

/**
 * Solves vcpu·a + memory·b = hourly for the two reference instances. Throws when they do not
 * determine a positive price for both (e.g. the same memory-to-vCPU ratio twice).
 */
export function solveUnitPrices(instances: PricingConfig['regions'][string]['referenceInstances']): { vcpuHour: number; gibHour: number } {
  const [x, y] = instances;
  const det = x.vcpu * y.memoryGiB - y.vcpu * x.memoryGiB;
  if (det === 0) throw new Error(`pricing: ${x.type} and ${y.type} have the same vCPU-to-memory ratio; they cannot split a price into vCPU and memory`);
  const vcpuHour = (x.hourly * y.memoryGiB - y.hourly * x.memoryGiB) / det;
  const gibHour = (x.vcpu * y.hourly - y.vcpu * x.hourly) / det;
  if (!(vcpuHour > 0 && gibHour > 0)) {
    throw new Error(`pricing: ${x.type} $${x.hourly}/h and ${y.type} $${y.hourly}/h give a non-positive price per vCPU-hour (${vcpuHour}) or GiB-hour (${gibHour})`);
  }
  return { vcpuHour, gibHour };
}

/** The prices of one region, or undefined when global.yaml has no price table for it. */
export function regionPrices(global: Pick<GlobalConfig, 'pricing' | 'nodes'>, region: string): RegionPrices | undefined {
  const pricing = global.pricing;
  const table = pricing?.regions[region];
  if (!pricing || !table) return undefined;
  const { vcpuHour, gibHour } = solveUnitPrices(table.referenceInstances);
  return {
    region,
    date: pricing.date,
    sources: pricing.sources,
    hoursPerMonth: pricing.hoursPerMonth,
    vcpuHour,
    gibHour,
    derivedFrom: table.referenceInstances.map((i) => `${i.type} (${i.vcpu} vCPU, ${i.memoryGiB} GiB) $${i.hourly}/h`).join(' and '),
    spotDiscountPercent: pricing.spotDiscountPercent,
    // One figure for the NodePools' limits and for the bill: nodes.packingEfficiency.
    packingEfficiency: global.nodes.packingEfficiency,
    riskIncreasePercent: pricing.riskIncreasePercent,
    blockStorageGbMonth: table.blockStorageGbMonth,
    objectStorageGbMonth: table.objectStorageGbMonth,
    loadBalancerHour: table.loadBalancerHour,
    backups: pricing.backups,
  };
}
