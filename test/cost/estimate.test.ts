/**
 * The monthly cost estimate (tools/cost), its diff line and risk flag (tools/diff/cost.ts), on
 * small fixture objects. Every expected dollar figure is computed here by hand, in the comments,
 * never with the function under test. Guards issue #14 item 3 ("What it costs").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { PricingConfig } from '../../regions/model';
import { regionPrices, solveUnitPrices } from '../../regions/pricing';
import { estimateRegionCost, formatUsd, formatUsdCents } from '../../tools/cost/estimate';
import { diffTrees } from '../../tools/diff/diff';
import { renderMarkdown } from '../../tools/diff/report';
import { readTreeFiles } from '../../tools/diff/tree';
import { renderRegionDoc, type DocObject } from '../../tools/docs/region-doc';
import { writeTree } from '../support/tree';

// Prices: 2 vCPU/4 GiB at $0.12/h and 2 vCPU/8 GiB at $0.16/h -> 4 GiB cost $0.04/h, so a GiB-hour
// is $0.01 and a vCPU-hour (0.12 - 4 x 0.01) / 2 = $0.04. A month is 700 h (round numbers):
// a node vCPU-month is 0.04 x 700 = $28, a node GiB-month 0.01 x 700 = $7.
const pricing: PricingConfig = {
  date: '2026-01-02',
  sources: ['https://example.com/prices'],
  hoursPerMonth: 700,
  spotDiscountPercent: 50,
  riskIncreasePercent: 10,
  backups: { dataFillRatio: 0.5, compressionRatio: 0.5, walPerDayRatio: 0.25 },
  regions: {
    'r1-test-1': {
      referenceInstances: [
        { type: 'a1.large', vcpu: 2, memoryGiB: 4, hourly: 0.12 },
        { type: 'b1.large', vcpu: 2, memoryGiB: 8, hourly: 0.16 },
      ],
      blockStorageGbMonth: { gp3: 0.1 },
      objectStorageGbMonth: 0.02,
      loadBalancerHour: 0.03,
    },
  },
};
// Node capacity = requests / 0.8 (nodes.packingEfficiency, the figure the NodePools' limits use too).
const nodes = { packingEfficiency: 0.8, rootVolumeGiB: 100, consolidateAfter: '5m', addonsCpu: 8 };
const REGION = 'r1-test-1';
const prices = regionPrices({ pricing, nodes }, REGION)!;
const APP_TAINT = 'bookedbarber.com/app';

function obj(kind: string, name: string, namespace: string | undefined, spec: unknown, apiVersion = 'v1', extra: Record<string, unknown> = {}): DocObject {
  return { apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) }, spec, ...extra };
}

/**
 * API: Rollout (canary, no dynamicStableScale), HPA 4..maxApi, pod 0.9 CPU + 1792Mi plus the
 * istio-proxy's 100m / 256Mi = 1 CPU, 2 GiB; tolerates the app taint. Database: StatefulSet x2, 2 CPU,
 * 4 GiB, no sidecar, 100Gi of class `fast` (gp3), WAL-G archive with 4 full backups. One LoadBalancer Service.
 */
function region(maxApi: number, withPools = true): Record<string, DocObject[]> {
  const proxy = { 'sidecar.istio.io/proxyCPU': '100m', 'sidecar.istio.io/proxyMemory': '256Mi' };
  const pool = (name: string, type: string, weight: number | undefined, taint: boolean, limitCpu?: string) =>
    obj('NodePool', name, undefined, {
      ...(weight === undefined ? {} : { weight }),
      ...(limitCpu ? { limits: { cpu: limitCpu } } : {}),
      template: {
        spec: {
          requirements: [{ key: 'karpenter.sh/capacity-type', operator: 'In', values: [type] }],
          ...(taint ? { taints: [{ key: APP_TAINT, value: 'true', effect: 'NoSchedule' }] } : {}),
        },
      },
    }, 'karpenter.sh/v1');
  return {
    api: [
      obj('HorizontalPodAutoscaler', 'api', 'app', { minReplicas: 4, maxReplicas: maxApi, scaleTargetRef: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'api' } }, 'autoscaling/v2'),
      obj('Rollout', 'api', 'app', {
        strategy: { canary: { steps: [{ setWeight: 10 }] } },
        template: {
          metadata: { annotations: proxy },
          spec: {
            tolerations: [{ key: APP_TAINT, operator: 'Exists', effect: 'NoSchedule' }],
            containers: [{ name: 'api', resources: { requests: { cpu: '900m', memory: '1792Mi' } } }],
          },
        },
      }, 'argoproj.io/v1alpha1'),
      obj('Service', 'public', 'app', { type: 'LoadBalancer', selector: { app: 'api' } }),
    ],
    data: [
      obj('StatefulSet', 'db', 'data', {
        replicas: 2,
        template: {
          metadata: { annotations: { ...proxy, 'sidecar.istio.io/inject': 'false' } },
          spec: {
            containers: [
              {
                name: 'pg',
                resources: { requests: { cpu: '2', memory: '4Gi' } },
                env: [
                  { name: 'WALG_S3_PREFIX', value: 's3://bucket/shard-1' },
                  { name: 'RETAIN_FULL_BACKUPS', value: '4' },
                ],
              },
            ],
          },
        },
        volumeClaimTemplates: [{ metadata: { name: 'pgdata' }, spec: { storageClassName: 'fast', resources: { requests: { storage: '100Gi' } } } }],
      }, 'apps/v1'),
    ],
    storage: [obj('StorageClass', 'fast', undefined, undefined, 'storage.k8s.io/v1', { provisioner: 'ebs.csi.aws.com', parameters: { type: 'gp3' } })],
    nodes: withPools
      ? [pool('platform', 'on-demand', undefined, false), pool('app-base', 'on-demand', 100, true, '10'), pool('app-burst', 'spot', 10, true)]
      : [],
  };
}

// Per pod, node capacity = requests / 0.8. API pod: 1.25 vCPU x $28 + 2.5 GiB x $7 = $52.5 a month.
// Database pod: 2.5 vCPU x $28 + 5 GiB x $7 = $105; two pods $210.
// Storage: 2 x 100 GiB x $0.1 = $20. Archive: 100 x 0.5 x 0.5 x 4 x (1 + 0.25) = 125 GiB x $0.02 = $2.5.
// Load balancer: 1 x $0.03 x 700 = $21. Fixed part: 20 + 2.5 + 21 = $43.5.

describe('price table', () => {
  it('solves the vCPU-hour and GiB-hour prices from the two reference instances', () => {
    expect(prices.vcpuHour).toBeCloseTo(0.04, 12);
    expect(prices.gibHour).toBeCloseTo(0.01, 12);
    expect(prices.date).toBe('2026-01-02');
  });

  it('refuses two instances with the same vCPU-to-memory ratio', () => {
    expect(() =>
      solveUnitPrices([
        { type: 'a.large', vcpu: 2, memoryGiB: 8, hourly: 0.1 },
        { type: 'a.xlarge', vcpu: 4, memoryGiB: 16, hourly: 0.2 },
      ]),
    ).toThrow(/same vCPU-to-memory ratio/);
  });

  it('has no table for a region the pricing block does not list', () => {
    expect(regionPrices({ pricing, nodes }, 'zz-nowhere-9')).toBeUndefined();
  });
});

describe('the estimate, on fixture objects', () => {
  it('at the minimum everything fits the on-demand app-base pool', () => {
    // API 4 pods = 5 node vCPU <= app-base's limits.cpu 10: 4 x 52.5 + 210 = $420 on-demand, no spot.
    const e = estimateRegionCost(REGION, region(20), prices);
    expect(e.computeOnDemand.min).toBeCloseTo(420, 6);
    expect(e.computeSpot.min).toBeCloseTo(0, 6);
    expect(e.total.min).toBeCloseTo(420 + 43.5, 6);
  });

  it('splits the API at the app-base limit: the rest runs on spot at the discount', () => {
    // API 20 pods = 25 node vCPU: app-base takes 10 (40 %), spot 15 (60 %). API $1,050 a month:
    // on-demand 0.4 x 1050 = 420, spot 0.6 x 1050 x 0.5 = 315. On-demand total 420 + 210 = 630.
    const e = estimateRegionCost(REGION, region(20), prices);
    expect(e.placement.max.onDemand.cpu).toBeCloseTo(10 + 5, 9);
    expect(e.placement.max.spot.cpu).toBeCloseTo(15, 9);
    expect(e.computeOnDemand.max).toBeCloseTo(630, 6);
    expect(e.computeSpot.max).toBeCloseTo(315, 6);
    expect(e.total.max).toBeCloseTo(630 + 315 + 43.5, 6);
  });

  it('prices storage by StorageClass, the WAL-G archive and the load balancer', () => {
    const e = estimateRegionCost(REGION, region(20), prices);
    expect(e.storage).toEqual([{ storageClass: 'fast', volumeType: 'gp3', gib: 200, monthly: expect.closeTo(20, 9) }]);
    expect(e.backups.map((b) => b.storedGiB)).toEqual([expect.closeTo(125, 9)]);
    expect(e.objectStorage).toBeCloseTo(2.5, 9);
    expect(e.loadBalancers).toEqual([{ name: 'app/public', source: 'Service' }]);
    expect(e.loadBalancerMonthly).toBeCloseTo(21, 9);
  });

  it('without NodePools, every pod is on-demand', () => {
    // 20 x 52.5 + 210 = $1,260.
    const e = estimateRegionCost(REGION, region(20, false), prices);
    expect(e.computeSpot.max).toBe(0);
    expect(e.computeOnDemand.max).toBeCloseTo(1260, 6);
    expect(e.total.max).toBeCloseTo(1260 + 43.5, 6);
  });

  it('reports the release peak (second API stack) per hour, outside the monthly totals', () => {
    // 40 API pods = 50 node vCPU: app-base 10 (20 %), spot 80 %. API 40 x 52.5 = 2100: on-demand 420,
    // spot 1680 x 0.5 = 840. Compute 420 + 840 + 210 = 1470 vs 945 at max: 525 / 700 h = $0.75 an hour.
    const e = estimateRegionCost(REGION, region(20), prices);
    expect(e.releasePeakPerHour).toBeCloseTo(0.75, 9);
  });

  it('formats money with a fixed formatter', () => {
    expect([0, 988.5, 1093.5, 1234567.49, -1500].map(formatUsd)).toEqual(['$0', '$989', '$1,094', '$1,234,567', '-$1,500']);
    expect([0.755, 32.5, 1234.5].map(formatUsdCents)).toEqual(['$0.76', '$32.50', '$1,234.50']);
  });

  it('the region page carries the cost section with totals, the date and the sources', () => {
    const doc = renderRegionDoc(REGION, region(20), prices);
    const section = doc.slice(doc.indexOf('## What it costs'));
    expect(section).toContain('| **Total per month** | **$464** | **$989** |');
    expect(section).toContain('| Compute, spot (node vCPU 0 / 15) | $0 | $315 |');
    expect(section).toContain('| Block storage, fast (gp3, 200 GiB) | $20 | $20 |');
    expect(section).toContain('price table of **2026-01-02**');
    expect(section).toContain('https://example.com/prices');
    expect(section).toContain('+$0.75 per hour');
    expect(renderRegionDoc(REGION, region(20))).toContain('No price table for r1-test-1');
  });
});

describe('the diff: monthly estimate line and cost-increase risk', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'cost-test-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  let n = 0;
  const tree = (objects: Record<string, DocObject[]>) => {
    const dir = join(tmp, `t${n++}`);
    writeTree(dir, Object.fromEntries(Object.entries(objects).map(([file, list]) => [`${REGION}/${file}.yaml`, list.map((o) => `---\n${stringify(o)}`).join('')])));
    return readTreeFiles(dir);
  };
  const lookup = (r: string) => regionPrices({ pricing, nodes }, r);

  it('flags a change that raises the maximum by more than riskIncreasePercent', () => {
    // API max 20 -> 24: 30 node vCPU, app-base 10 (1/3), spot 2/3 of 24 x 52.5 = 1260: on-demand 420,
    // spot 840 x 0.5 = 420. Total 420 + 210 + 420 + 43.5 = $1,093.5 vs $988.5: +10.6 % > 10 %.
    const result = diffTrees(tree(region(20)), tree(region(24)), { from: 'a', to: 'b' }, { prices: lookup });
    expect(result.costs).toEqual([{ region: REGION, before: expect.closeTo(988.5, 6), after: expect.closeTo(1093.5, 6), riskIncreasePercent: 10 }]);
    const risk = result.risks.find((r) => r.rule === 'cost-increase');
    expect(risk).toEqual({ rule: 'cost-increase', region: REGION, object: 'monthly estimate at max scale', detail: '$989 → $1,094 (+10.6 %, threshold +10 %)' });
    const md = renderMarkdown(result);
    expect(md).toContain('monthly estimate at max scale: $989 → $1,094 (+10.6 %)');
    expect(md).toContain('**Monthly estimate at max scale raised by more than pricing.riskIncreasePercent**');
  });

  it('does not flag a rise below the threshold, but still prints the line', () => {
    // API max 20 -> 21: 26.25 node vCPU, app-base 10, spot 16.25 of 21 x 52.5 = 1102.5: on-demand 420,
    // spot 682.5 x 0.5 = 341.25. Total 420 + 210 + 341.25 + 43.5 = $1,014.75: +2.7 %.
    const result = diffTrees(tree(region(20)), tree(region(21)), { from: 'a', to: 'b' }, { prices: lookup });
    expect(result.costs[0].after).toBeCloseTo(1014.75, 6);
    expect(result.risks.some((r) => r.rule === 'cost-increase')).toBe(false);
    expect(renderMarkdown(result)).toContain('monthly estimate at max scale: $989 → $1,015 (+2.7 %)');
  });

  it('flags a changed region without a price table instead of leaving it out of the estimate', () => {
    const result = diffTrees(tree(region(20)), tree(region(24)), { from: 'a', to: 'b' }, { prices: () => undefined });
    expect(result.costs).toEqual([{ region: REGION, riskIncreasePercent: 0, unpriced: true }]);
    expect(result.risks.filter((r) => r.rule.startsWith('cost-'))).toEqual([
      { rule: 'cost-unknown', region: REGION, object: 'monthly estimate at max scale', detail: `not estimated: no price table (pricing.regions.${REGION} in regions/global.yaml)` },
    ]);
    expect(renderMarkdown(result)).toContain(`monthly estimate at max scale: not estimated (no price table: pricing.regions.${REGION} in regions/global.yaml)`);
  });

  it('has no cost lines without prices or without changes', () => {
    expect(diffTrees(tree(region(20)), tree(region(24)), { from: 'a', to: 'b' }).costs).toEqual([]);
    expect(diffTrees(tree(region(20)), tree(region(20)), { from: 'a', to: 'b' }, { prices: lookup }).costs).toEqual([]);
  });
});
