/**
 * The "What it costs" section of dist/<region>/README.md, from a CostEstimate. Fixed formatting
 * (tools/cost/estimate.ts), so the same objects and prices give the same bytes on every machine.
 */
import { formatNumber, table } from '../docs/region-doc';
import { type CostEstimate, formatUnitPrice, formatUsd, formatUsdCents } from './estimate';

const GIB = 1024 ** 3;

export const COST_HEADING = '## What it costs';

export function costSection(e: CostEstimate | undefined, region: string): string[] {
  if (!e) {
    return [COST_HEADING, '', `No price table for ${region} in regions/global.yaml (\`pricing.regions\`): no estimate.`, ''];
  }
  const p = e.prices;
  const cores = (n: number) => formatNumber(n);
  const gib = (bytes: number) => formatNumber(bytes / GIB);
  const same = (v: number) => [formatUsd(v), formatUsd(v)];
  const spotPools = e.nodePools.filter((x) => x.spot).map((x) => x.name);
  const limited = e.nodePools.filter((x) => !x.spot && x.taints.length > 0 && Number.isFinite(x.limitCpu)).map((x) => `${x.name} (limits.cpu ${formatNumber(x.limitCpu)})`);
  const rows: string[][] = [
    [
      `Compute, on-demand (node vCPU ${cores(e.placement.min.onDemand.cpu)} / ${cores(e.placement.max.onDemand.cpu)})`,
      formatUsd(e.computeOnDemand.min),
      formatUsd(e.computeOnDemand.max),
    ],
    [
      `Compute, spot (node vCPU ${cores(e.placement.min.spot.cpu)} / ${cores(e.placement.max.spot.cpu)})`,
      formatUsd(e.computeSpot.min),
      formatUsd(e.computeSpot.max),
    ],
    ...e.storage.map((s) => [`Block storage, ${s.storageClass} (${s.volumeType}, ${formatNumber(s.gib)} GiB)${s.note ? ` (${s.note})` : ''}`, ...same(s.monthly)]),
    [`Object storage, WAL-G archive (${e.backups.length} site(s), about ${formatNumber(e.backups.reduce((n, s) => n + s.storedGiB, 0))} GiB)`, ...same(e.objectStorage)],
    [`Load balancers (${e.loadBalancers.length} NLB: ${e.loadBalancers.map((l) => l.name).join(', ') || 'none'})`, ...same(e.loadBalancerMonthly)],
    ['**Total per month**', `**${formatUsd(e.total.min)}**`, `**${formatUsd(e.total.max)}**`],
  ];
  return [
    COST_HEADING,
    '',
    `Monthly estimate in USD at list prices, from the rendered objects of this region (and the Istio gateways its`,
    `platform add-ons install, \`argocd/platform-addons.yaml\`), priced with the price table of **${p.date}** in`,
    '`regions/global.yaml` (`pricing`). Method, assumptions and what is not counted: [docs/cost.md](../../docs/cost.md).',
    '',
    `- **At HPA maximum** means steady state: every HPA at maxReplicas, one stack per Rollout. A release runs a second`,
    `  stack (the API's stable side beside a canary at 100 % until promotion or instant abort; the web's blue-green`,
    `  preview): **+${formatUsdCents(e.releasePeakPerHour)} per hour** while it lasts at max scale, not in the totals.`,
    `- Compute = pod requests (istio-proxy included) / packing efficiency ${formatNumber(p.packingEfficiency)} (assumption: bin packing, DaemonSets,`,
    `  system reserved) × ${formatUnitPrice(p.vcpuHour)} per vCPU-hour and ${formatUnitPrice(p.gibHour)} per GiB-hour × ${formatNumber(p.hoursPerMonth)} h, solved from`,
    `  ${p.derivedFrom}.`,
    spotPools.length === 0
      ? '- No Karpenter NodePools rendered in this region: every pod is priced on-demand.'
      : `- Spot (${spotPools.join(', ')}) at ${formatNumber(p.spotDiscountPercent)} % below on-demand (assumption): pods tolerating the app taint fill ${limited.join(', ') || 'the on-demand pools'} first, the rest runs on spot.`,
    `- Requests: ${cores(e.placement.min.requests.cpu)} / ${cores(e.placement.max.requests.cpu)} vCPU and ${gib(e.placement.min.requests.memory)} / ${gib(e.placement.max.requests.memory)} GiB at minimum / maximum.`,
    '',
    ...table(['Item', 'At HPA minimum', 'At HPA maximum'], ['l', 'r', 'r'], rows),
    '',
    '### Compute by component (every pod on-demand)',
    '',
    ...table(
      ['Component', 'Pods', 'At minimum', 'At maximum'],
      ['l', 'r', 'r', 'r'],
      e.components.map((c) => [c.component, c.minPods === c.maxPods ? String(c.minPods) : `${c.minPods}..${c.maxPods}`, formatUsd(c.onDemandMonthly.min), formatUsd(c.onDemandMonthly.max)]),
    ),
    '',
    '### Price table',
    '',
    ...table(
      ['Price', 'Value'],
      ['l', 'r'],
      [
        ['vCPU-hour, on-demand (derived)', formatUnitPrice(p.vcpuHour)],
        ['GiB-hour, on-demand (derived)', formatUnitPrice(p.gibHour)],
        ...Object.entries(p.blockStorageGbMonth)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([type, price]) => [`EBS ${type}, GB-month`, formatUnitPrice(price)]),
        ['S3 Standard, GB-month', formatUnitPrice(p.objectStorageGbMonth)],
        ['NLB, hour (NLCU usage not counted)', formatUnitPrice(p.loadBalancerHour)],
        ['Spot discount (assumption)', `${formatNumber(p.spotDiscountPercent)} %`],
        [
          'WAL-G archive (assumption)',
          `fill ${formatNumber(p.backups.dataFillRatio)}, compression ${formatNumber(p.backups.compressionRatio)}, WAL/day ${formatNumber(p.backups.walPerDayRatio)}`,
        ],
      ],
    ),
    '',
    `Sources (read ${p.date}): ${p.sources.join(', ')}.`,
    '',
  ];
}
