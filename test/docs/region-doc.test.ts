/**
 * The generated region page (dist/<region>/README.md): its Mermaid diagram and capacity table
 * are drawn from the rendered objects. Expected numbers are computed here by hand from small
 * object lists, and for the shipped us-east-1 from its rendered objects. Guards issue #6 item 3.
 */
import { describe, expect, it } from 'vitest';
import { definition } from '../../main';
import { loadPlan } from '../../regions/load';
import { regionPrices } from '../../regions/pricing';
import { ADDONS_COMPONENT, addonApplications, type DocObject, formatNumber, objectsFromFiles, regionCapacity, renderRegionDoc } from '../../tools/docs/region-doc';
import { renderAll } from '../../tools/synth/run';
import { REGIONS_DIR } from '../support/regions';
import { renderShipped } from '../support/rendered';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

const proxy = { 'sidecar.istio.io/proxyCPU': '100m', 'sidecar.istio.io/proxyMemory': '128Mi' };

function obj(kind: string, name: string, namespace: string, spec: unknown, apiVersion = 'v1'): DocObject {
  return { apiVersion, kind, metadata: { name, namespace }, spec };
}

/** A tiny region: gateway -> web/api, api -> pgbouncer shard 7 -> postgres shard 7, redis, monitoring, tracing, a cross-region link. */
function tinyRegion(): Record<string, DocObject[]> {
  const apiLabels = { app: 'api' };
  const webLabels = { app: 'web' };
  return {
    api: [
      obj('Service', 'svc-api', 'app', { selector: apiLabels }),
      obj('HorizontalPodAutoscaler', 'api', 'app', { minReplicas: 4, maxReplicas: 40, scaleTargetRef: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'api' } }),
      obj('Rollout', 'api', 'app', {
        template: {
          metadata: { labels: apiLabels, annotations: proxy },
          spec: {
            containers: [{ name: 'api', resources: { requests: { cpu: '250m', memory: '384Mi' } } }],
            initContainers: [
              { name: 'native-sidecar', restartPolicy: 'Always', resources: { requests: { cpu: '50m', memory: '64Mi' } } },
              { name: 'migrate', resources: { requests: { cpu: '4', memory: '4Gi' } } },
            ],
          },
        },
      }),
    ],
    web: [
      obj('Service', 'svc-web', 'app', { selector: webLabels }),
      obj('Deployment', 'web', 'app', { replicas: 3, template: { metadata: { labels: webLabels }, spec: { containers: [{ name: 'web', resources: { requests: { cpu: '1', memory: '1Gi' } } }] } } }),
    ],
    mesh: [
      obj('Gateway', 'public', 'app', { selector: { istio: 'ingressgateway' }, servers: [] }),
      obj('VirtualService', 'api', 'app', { gateways: ['app/public', 'mesh'], hosts: ['api.example.com', 'svc-api.app.svc.cluster.local'], http: [{ route: [{ destination: { host: 'svc-api.app.svc.cluster.local' } }] }] }),
      obj('VirtualService', 'web', 'app', { gateways: ['app/public'], hosts: ['www.example.com'], http: [{ route: [{ destination: { host: 'svc-web.app.svc.cluster.local' } }] }] }),
    ],
    data: [
      obj('Deployment', 'pgbouncer-shard-7', 'data', { replicas: 2, template: { metadata: { labels: { app: 'pgb' } }, spec: { containers: [{ name: 'pgb', resources: { requests: { cpu: '500m', memory: '256Mi' } } }] } } }),
      obj('StatefulSet', 'postgres-shard-7', 'data', {
        replicas: 3,
        template: { metadata: { labels: { app: 'pg' }, annotations: { ...proxy, 'sidecar.istio.io/inject': 'false' } }, spec: { containers: [{ name: 'pg', resources: { requests: { cpu: '2', memory: '8Gi' } } }] } },
        volumeClaimTemplates: [{ metadata: { name: 'pgdata' }, spec: { resources: { requests: { storage: '100Gi' } } } }],
      }),
      obj('StatefulSet', 'redis-cache', 'data', { replicas: 3, template: { metadata: { labels: { app: 'rc' } }, spec: { containers: [{ name: 'redis', resources: { requests: { cpu: '500m', memory: '2Gi' } } }] } } }),
      obj('StatefulSet', 'redis-cache-sentinel', 'data', { replicas: 3, template: { metadata: { labels: { app: 'rcs' } }, spec: { containers: [{ name: 's', resources: { requests: { cpu: '50m', memory: '64Mi' } } }] } } }),
      obj('ServiceEntry', 'redis-cache-other', 'data', { hosts: ['redis-cache-proxy.other-1.example.global'], endpoints: [{ address: 'eastwest.other-1.internal' }] }),
    ],
    monitoring: [
      obj('Prometheus', 'prom', 'mon', { replicas: 2, shards: 2, resources: { requests: { cpu: '1', memory: '4Gi' } }, storage: { volumeClaimTemplate: { spec: { resources: { requests: { storage: '50Gi' } } } } } }),
      obj('Alertmanager', 'am', 'mon', { replicas: 3, resources: { requests: { cpu: '100m', memory: '128Mi' } } }),
    ],
    tracing: [
      obj('OpenTelemetryCollector', 'otel', 'mon', { replicas: 2, mode: 'deployment', podAnnotations: proxy, resources: { requests: { cpu: '250m', memory: '512Mi' } }, config: { exporters: { otlp: { endpoint: 'otel-sampler-collector-headless.mon.svc.cluster.local:4317' } } } }),
      obj('OpenTelemetryCollector', 'otel-sampler', 'mon', { replicas: 1, mode: 'deployment', resources: { requests: { cpu: '500m', memory: '1Gi' } }, config: { exporters: { otlp: { endpoint: 'jaeger-collector.mon.svc.cluster.local:4317' } } } }),
      obj('Service', 'jaeger-collector', 'mon', { selector: { app: 'jaeger' } }),
      obj('StatefulSet', 'jaeger', 'mon', { replicas: 1, template: { metadata: { labels: { app: 'jaeger' } }, spec: { containers: [{ name: 'j', resources: { requests: { cpu: '500m', memory: '2Gi' } } }] } }, volumeClaimTemplates: [{ spec: { resources: { requests: { storage: '10Gi' } } } }] }),
    ],
  };
}

/** Table rows of the capacity table, by component. */
function capacityTable(doc: string): Record<string, string[]> {
  const section = doc.slice(doc.indexOf('## Capacity'), doc.indexOf('### Per workload'));
  const rows = section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Component'));
  return Object.fromEntries(rows.map((l) => l.slice(2, -2).split(' | ')).map(([c, ...rest]) => [c, rest]));
}

describe('region capacity, computed independently from a small object list', () => {
  const cap = regionCapacity(tinyRegion());
  const row = (c: string) => cap.rows.find((r) => r.component === c)!;

  it('scales an HPA target min..max and counts containers, native sidecars and istio-proxy (not plain init containers)', () => {
    const perPodCpu = 0.25 + 0.05 + 0.1;
    const perPodMem = (384 + 64 + 128) * MiB;
    expect(row('api')).toMatchObject({ minPods: 4, maxPods: 40 });
    expect(row('api').minCpu).toBeCloseTo(4 * perPodCpu, 9);
    expect(row('api').maxCpu).toBeCloseTo(40 * perPodCpu, 9);
    expect(row('api').minMemory).toBe(4 * perPodMem);
    expect(row('api').maxMemory).toBe(40 * perPodMem);
  });

  it('uses fixed replicas without an HPA, skips the proxy when injection is off, and counts volumeClaimTemplates × replicas', () => {
    expect(row('web')).toMatchObject({ minPods: 3, maxPods: 3, minCpu: 3, maxCpu: 3, minMemory: 3 * GiB, storage: 0 });
    const data = row('data');
    expect(data.minPods).toBe(2 + 3 + 3 + 3);
    expect(data.minCpu).toBeCloseTo(2 * 0.5 + 3 * 2 + 3 * 0.5 + 3 * 0.05, 9);
    expect(data.minMemory).toBe(2 * 256 * MiB + 3 * 8 * GiB + 3 * 2 * GiB + 3 * 64 * MiB);
    expect(data.storage).toBe(3 * 100 * GiB);
  });

  it('counts operator resources as replicas × resources, Prometheus storage per replica and shard', () => {
    const mon = row('monitoring');
    expect(mon.minPods).toBe(2 * 2 + 3);
    expect(mon.minCpu).toBeCloseTo(4 * 1 + 3 * 0.1, 9);
    expect(mon.minMemory).toBe(4 * 4 * GiB + 3 * 128 * MiB);
    expect(mon.storage).toBe(4 * 50 * GiB);
    const tracing = row('tracing');
    expect(tracing.minPods).toBe(2 + 1 + 1);
    expect(tracing.minCpu).toBeCloseTo(2 * (0.25 + 0.1) + 0.5 + 0.5, 9);
    expect(tracing.storage).toBe(10 * GiB);
  });

  it('totals are the sums of the rows, and the page shows them formatted', () => {
    for (const key of ['minPods', 'maxPods', 'minCpu', 'maxCpu', 'minMemory', 'maxMemory', 'storage'] as const) {
      expect(cap.total[key]).toBeCloseTo(cap.rows.reduce((n, r) => n + r[key], 0), 6);
    }
    const table = capacityTable(renderRegionDoc('tiny-1', tinyRegion()));
    expect(Object.keys(table)).toEqual(['api', 'data', 'monitoring', 'tracing', 'web', '**Total**']);
    // api: pods 4..40, CPU 1.6..16 cores, memory 4×576Mi = 2.25 GiB .. 22.5 GiB
    expect(table.api).toEqual(['4', '40', '1.6', '16', '2.25', '22.5', '0']);
    expect(table['**Total**'][0]).toBe(String(4 + 3 + 11 + 7 + 4));
  });
});

describe('region diagram, from the same objects', () => {
  const doc = renderRegionDoc('tiny-1', tinyRegion());
  const mermaid = doc.slice(doc.indexOf('```mermaid'), doc.indexOf('```', doc.indexOf('```mermaid') + 3));

  it('draws gateway -> web/API from Gateways and VirtualServices, web -> API', () => {
    expect(mermaid).toContain('flowchart');
    expect(mermaid).toContain('gw_public -->|"api.example.com"| w_api');
    expect(mermaid).toContain('gw_public -->|"www.example.com"| w_web');
    expect(mermaid).toContain('w_web -->|"HTTP"| w_api');
  });

  it('draws API -> PgBouncer per shard -> Postgres shard, and Redis tiers with their sentinels', () => {
    expect(mermaid).toContain('w_api -->|"SQL"| w_pgbouncer_shard_7');
    expect(mermaid).toContain('w_pgbouncer_shard_7 -->|"shard 7"| w_postgres_shard_7');
    expect(mermaid).toContain('w_api -->|"cache"| w_redis_cache');
    expect(mermaid).toContain('w_redis_cache_sentinel -.->|"monitors"| w_redis_cache');
  });

  it('draws monitoring, the tracing pipeline and cross-region links', () => {
    expect(mermaid).toContain('prom_prom -->|"alerts"| am_am');
    expect(mermaid).toContain('otel_otel -->|"OTLP"| otel_otel_sampler');
    expect(mermaid).toContain('otel_otel_sampler -->|"OTLP"| w_jaeger');
    expect(mermaid).toContain('w_api -.->|"spans"| otel_otel');
    expect(mermaid).not.toContain('w_api -.->|"spans"| otel_otel_sampler');
    expect(mermaid).toMatch(/w_redis_cache -\.->\|"redis-cache-other"\| remote_redis_cache_proxy_other_1_example_global/);
    expect(mermaid).toContain('via eastwest.other-1.internal');
  });

  it('is deterministic: the order of the input does not change a byte', () => {
    const reversed = Object.fromEntries(Object.entries(tinyRegion()).reverse().map(([k, v]) => [k, [...v].reverse()]));
    expect(renderRegionDoc('tiny-1', reversed)).toBe(doc);
  });

  it('formats numbers with at most 2 decimals and no exponent', () => {
    expect([0, 0.125, 1.006, 2, 1100, 0.3 + 0.6, 1e-9].map(formatNumber)).toEqual(['0', '0.13', '1.01', '2', '1100', '0.9', '0']);
  });
});

describe('the shipped us-east-1 page', () => {
  const plan = loadPlan(REGIONS_DIR);
  const files = renderShipped();
  const readme = files.find((f) => f.path === 'us-east-1/README.md');
  const objects = objectsFromFiles(files.filter((f) => f.path.startsWith('us-east-1/') && f.path.endsWith('.yaml')));
  const argocd = Object.values(objectsFromFiles(files.filter((f) => f.path.startsWith('argocd/')))).flat();

  it('is rendered next to the region YAML, from the rendered objects (and its add-on Applications, priced)', () => {
    expect(readme).toBeDefined();
    expect(readme!.objects).toBe(0);
    const withAddons = { ...objects, [ADDONS_COMPONENT]: addonApplications('us-east-1', argocd) };
    expect(readme!.content).toBe(renderRegionDoc('us-east-1', withAddons, regionPrices(plan.global, 'us-east-1')));
    // Every region's page, too: synth builds it from the documents in memory, this from the YAML text.
    for (const { region } of plan.regions) {
      const own = objectsFromFiles(files.filter((f) => f.path.startsWith(`${region.name}/`) && f.path.endsWith('.yaml')));
      const page = files.find((f) => f.path === `${region.name}/README.md`)!.content;
      expect(page, region.name).toBe(renderRegionDoc(region.name, { ...own, [ADDONS_COMPONENT]: addonApplications(region.name, argocd) }, regionPrices(plan.global, region.name)));
    }
  });

  it('is the same page when only that region is rendered (--region)', () => {
    const only = renderAll(definition, plan, { only: ['us-east-1'] }).find((f) => f.path === 'us-east-1/README.md');
    expect(only!.content).toBe(readme!.content);
  });

  it('has the cost section: breakdown, totals at min and max, the price table date and sources', () => {
    const content = readme!.content;
    const section = content.slice(content.indexOf('## What it costs'));
    expect(content).toContain('## What it costs');
    for (const row of ['Compute, on-demand', 'Compute, spot', 'Block storage, bookedbarber-gp3-retain (gp3', 'Object storage, WAL-G archive', 'Load balancers (2 NLB', '**Total per month**']) {
      expect(section).toContain(`| ${row}`);
    }
    expect(section).toContain(`price table of **${plan.global.pricing!.date}**`);
    for (const source of plan.global.pricing!.sources) expect(section).toContain(source);
    expect(section).toMatch(/\| \*\*Total per month\*\* \| \*\*\$[0-9,]+\*\* \| \*\*\$[0-9,]+\*\* \|/);
  });

  it('scales the API to its HPA maximum (1000 pods) and the totals are the sums of the rows', () => {
    const table = capacityTable(readme!.content);
    const hpa = objects.api.find((o) => o.kind === 'HorizontalPodAutoscaler')!;
    expect(hpa.spec.maxReplicas).toBe(1000);
    expect(table.api[1]).toBe('1000');
    expect(table.api[0]).toBe(String(hpa.spec.minReplicas));
    const components = Object.keys(table).filter((c) => c !== '**Total**');
    expect(components.length).toBeGreaterThanOrEqual(6);
    table['**Total**'].forEach((total, column) => {
      const sum = components.reduce((n, c) => n + Number(table[c][column]), 0);
      // Each cell is rounded to 2 decimals: the sum of rounded rows may differ by half a cent per row.
      expect(Math.abs(Number(total) - sum), `column ${column}`).toBeLessThanOrEqual(0.005 * components.length + 1e-9);
    });
  });

  it('shows every PgBouncer shard wired to its Postgres shard and the cross-region link', () => {
    const content = readme!.content;
    const shards = objects.postgres.filter((o) => o.kind === 'StatefulSet').map((o) => /shard-([0-9]+)/.exec(o.metadata.name)![1]);
    expect(shards.length).toBeGreaterThan(0);
    for (const id of shards) expect(content).toContain(`w_bookedbarber_pgbouncer_shard_${id} -->|"shard ${id}"| w_bookedbarber_postgres_shard_${id}`);
    const globals = Object.values(objects).flat().filter((o) => o.kind === 'ServiceEntry').flatMap((o) => o.spec.hosts as string[]).filter((h) => h.endsWith('.global'));
    for (const host of globals) expect(content).toContain(host);
  });
});
