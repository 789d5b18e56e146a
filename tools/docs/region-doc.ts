/**
 * The generated page `dist/<region>/README.md`: a Mermaid topology diagram and a capacity table,
 * both read from the RENDERED objects of the region (never from regions/), so the page shows
 * what Argo CD applies. Pure: same objects in, same bytes out (code-point order, fixed number
 * formatting). Argo CD ignores the page (its ApplicationSet includes only `*.yaml`), and so does
 * the validator.
 */
import { parseAllDocuments } from 'yaml';
import type { RegionPrices } from '../../regions/pricing';
import { estimateRegionCost } from '../cost/estimate';
import { costSection } from '../cost/section';

/** A rendered object, as read back from a rendered file. */
export interface DocObject {
  readonly apiVersion?: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly [key: string]: unknown };
  readonly spec?: any;
  readonly [key: string]: unknown;
}

/** The rendered objects of one region, by component (the rendered file name without `.yaml`). */
export type RegionObjects = Readonly<Record<string, readonly DocObject[]>>;

// ---------------------------------------------------------------------------------------------
// Quantities and formatting

const SUFFIX: Readonly<Record<string, number>> = {
  '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, Pi: 1024 ** 5,
};

/** A Kubernetes quantity as a number (CPU in cores, memory/storage in bytes); absent = 0. */
export function quantity(value: unknown): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number') return value;
  const match = /^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|Ki|Mi|Gi|Ti|Pi)?$/.exec(String(value).trim());
  if (!match) throw new Error(`"${String(value)}" is not a Kubernetes quantity`);
  return Number(match[1]) * SUFFIX[match[2] ?? ''];
}

const GIB = 1024 ** 3;

/** Up to 2 decimals, no trailing zeros, no exponent, no locale: 0.1, 2, 1100, 0.13. */
export function formatNumber(value: number): string {
  const fixed = (Math.round(value * 100) / 100).toFixed(2);
  return fixed.replace(/\.?0+$/, '') || '0';
}
const formatCores = (cores: number): string => formatNumber(cores);
const formatGiB = (bytes: number): string => formatNumber(bytes / GIB);

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Capacity

/** Requests of one pod (containers + restartable init containers + istio-proxy), storage per pod. */
export interface PodShape {
  readonly cpu: number;
  readonly memory: number;
  readonly storage: number;
  /** Sum of the containers' memory limits (the sidecar's from its annotation): what a quota's limits.memory counts. */
  readonly limitsMemory: number;
}

export interface WorkloadCapacity {
  readonly component: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** `HPA`, `fixed` or `operator`. */
  readonly scaling: string;
  readonly minPods: number;
  readonly maxPods: number;
  readonly pod: PodShape;
  /** Taint keys its pods tolerate (`Exists` without a key: `*`); decides which NodePools may run them. */
  readonly tolerations: readonly string[];
  /** Node labels its pods require (the first required nodeSelectorTerm's `In` expressions): `karpenter.sh/nodepool`, `karpenter.sh/capacity-type`. */
  readonly nodeRequirements: Readonly<Record<string, readonly string[]>>;
  /**
   * Whether a release runs a second full stack beside it: a canary Rollout without
   * dynamicStableScale (the stable side stays at full size until promotion) or a blue-green Rollout
   * without previewReplicaCount (the preview stack is as large as the active one).
   */
  readonly secondStackAtRelease: boolean;
  /**
   * Extra pods a rolling update runs at its maximum (a Deployment's or collector's maxSurge; a
   * percentage of the maximum pods, rounded up, as the Deployment controller does; 25 % when
   * unset). 0 for StatefulSets (replaced in place), operator StatefulSets and Rollouts, whose
   * release is secondStackAtRelease.
   */
  readonly surgePods: number;
}

export interface CapacityRow {
  readonly component: string;
  readonly minPods: number;
  readonly maxPods: number;
  readonly minCpu: number;
  readonly maxCpu: number;
  readonly minMemory: number;
  readonly maxMemory: number;
  /** Persistent storage requested, in bytes, at the maximum pod count. */
  readonly storage: number;
}

export interface RegionCapacity {
  readonly workloads: readonly WorkloadCapacity[];
  readonly rows: readonly CapacityRow[];
  readonly total: CapacityRow;
}

type Annotations = Readonly<Record<string, string>> | undefined;

function sidecarInjected(annotations: Annotations, labels: Annotations): boolean {
  const flag = labels?.['sidecar.istio.io/inject'] ?? annotations?.['sidecar.istio.io/inject'];
  return flag !== 'false';
}

/** The istio-proxy sidecar's requests, from the pod annotations (none: no sidecar counted). */
function proxyRequests(annotations: Annotations, labels: Annotations): { cpu: number; memory: number; limitsMemory: number } {
  if (!annotations || !sidecarInjected(annotations, labels)) return { cpu: 0, memory: 0, limitsMemory: 0 };
  return {
    cpu: quantity(annotations['sidecar.istio.io/proxyCPU']),
    memory: quantity(annotations['sidecar.istio.io/proxyMemory']),
    limitsMemory: quantity(annotations['sidecar.istio.io/proxyMemoryLimit']),
  };
}

function containerRequests(containers: readonly any[] | undefined): { cpu: number; memory: number; limitsMemory: number } {
  let cpu = 0;
  let memory = 0;
  let limitsMemory = 0;
  for (const c of containers ?? []) {
    cpu += quantity(c?.resources?.requests?.cpu);
    memory += quantity(c?.resources?.requests?.memory);
    limitsMemory += quantity(c?.resources?.limits?.memory);
  }
  return { cpu, memory, limitsMemory };
}

/** The `In` expressions of a pod's first required nodeSelectorTerm, by label key. */
export function requiredNodeLabels(affinity: unknown): Record<string, string[]> {
  const terms = (affinity as any)?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  const out: Record<string, string[]> = {};
  for (const e of (Array.isArray(terms) && terms.length === 1 ? terms[0]?.matchExpressions : undefined) ?? []) {
    if (e?.operator === 'In' && typeof e.key === 'string') out[e.key] = (e.values ?? []).map(String);
  }
  return out;
}

/** Tolerated taint keys of a pod spec; a toleration with operator Exists and no key tolerates every taint. */
export function toleratedKeys(tolerations: unknown): string[] {
  if (!Array.isArray(tolerations)) return [];
  return [...new Set(tolerations.map((t: any) => (t?.key ? String(t.key) : t?.operator === 'Exists' ? '*' : '')).filter(Boolean))].sort(compare);
}

function secondStack(o: DocObject): boolean {
  if (o.kind !== 'Rollout') return false;
  const strategy = o.spec?.strategy ?? {};
  if (strategy.canary) return strategy.canary.dynamicStableScale !== true;
  if (strategy.blueGreen) return strategy.blueGreen.previewReplicaCount === undefined;
  return false;
}

/** Pods a rolling update adds above `pods` (k8s.io/kubernetes deployment util ResolveFenceposts: a percentage rounds up). */
export function surgeOf(strategy: any, pods: number): number {
  if (strategy?.type === 'Recreate') return 0;
  const surge = strategy?.rollingUpdate?.maxSurge ?? '25%';
  if (typeof surge === 'number') return surge;
  const percent = /^([0-9]+)%$/.exec(String(surge));
  return percent ? Math.ceil((pods * Number(percent[1])) / 100) : Number(surge) || 0;
}

function podTemplateShape(template: any, claims: readonly any[] | undefined): PodShape {
  const main = containerRequests(template?.spec?.containers);
  // Native sidecars (init containers with restartPolicy Always) run for the pod's lifetime.
  const sidecars = containerRequests((template?.spec?.initContainers ?? []).filter((c: any) => c?.restartPolicy === 'Always'));
  const proxy = proxyRequests(template?.metadata?.annotations, template?.metadata?.labels);
  const storage = (claims ?? []).reduce((n: number, c: any) => n + quantity(c?.spec?.resources?.requests?.storage), 0);
  return { cpu: main.cpu + sidecars.cpu + proxy.cpu, memory: main.memory + sidecars.memory + proxy.memory, storage, limitsMemory: main.limitsMemory + sidecars.limitsMemory + proxy.limitsMemory };
}

const POD_KINDS = new Set(['Deployment', 'StatefulSet', 'Rollout']);

/** Pods, CPU, memory and storage per workload, per component and in total. */
export function regionCapacity(objects: RegionObjects): RegionCapacity {
  const all = Object.entries(objects).flatMap(([component, list]) => list.map((object) => ({ component, object })));
  const hpas = all.filter(({ object }) => object.kind === 'HorizontalPodAutoscaler').map(({ object }) => object);
  const hpaFor = (o: DocObject) =>
    hpas.find(
      (h) =>
        (h.metadata.namespace ?? '') === (o.metadata.namespace ?? '') &&
        h.spec?.scaleTargetRef?.kind === o.kind &&
        h.spec?.scaleTargetRef?.name === o.metadata.name,
    );
  const workloads: WorkloadCapacity[] = [];
  for (const { component, object } of all) {
    const base = { component, kind: object.kind, namespace: object.metadata.namespace ?? '', name: object.metadata.name };
    const spec = object.spec ?? {};
    if (POD_KINDS.has(object.kind)) {
      const hpa = hpaFor(object);
      const fixed = spec.replicas ?? 1;
      const claims = object.kind === 'StatefulSet' ? spec.volumeClaimTemplates : undefined;
      workloads.push({
        ...base,
        scaling: hpa ? 'HPA' : 'fixed',
        minPods: hpa ? (hpa.spec.minReplicas ?? 1) : fixed,
        maxPods: hpa ? hpa.spec.maxReplicas : fixed,
        pod: podTemplateShape(spec.template, claims),
        tolerations: toleratedKeys(spec.template?.spec?.tolerations),
        nodeRequirements: requiredNodeLabels(spec.template?.spec?.affinity),
        secondStackAtRelease: secondStack(object),
        surgePods: object.kind === 'Deployment' ? surgeOf(spec.strategy, hpa ? hpa.spec.maxReplicas : fixed) : 0,
      });
    } else if (object.kind === 'Prometheus' || object.kind === 'Alertmanager') {
      const pods = (spec.replicas ?? 1) * (object.kind === 'Prometheus' ? (spec.shards ?? 1) : 1);
      const proxy = proxyRequests(spec.podMetadata?.annotations, spec.podMetadata?.labels);
      const main = containerRequests([{ resources: spec.resources }]);
      const extra = containerRequests(spec.containers?.filter((c: any) => c?.resources));
      const storage = quantity(spec.storage?.volumeClaimTemplate?.spec?.resources?.requests?.storage);
      workloads.push({
        ...base,
        scaling: 'operator',
        minPods: pods,
        maxPods: pods,
        pod: { cpu: main.cpu + extra.cpu + proxy.cpu, memory: main.memory + extra.memory + proxy.memory, storage, limitsMemory: main.limitsMemory + extra.limitsMemory + proxy.limitsMemory },
        tolerations: toleratedKeys(spec.tolerations),
        nodeRequirements: requiredNodeLabels(spec.affinity),
        secondStackAtRelease: false,
        surgePods: 0,
      });
    } else if (object.kind === 'OpenTelemetryCollector') {
      const auto = spec.autoscaler;
      const fixed = spec.replicas ?? 1;
      const proxy = proxyRequests(spec.podAnnotations, spec.podLabels);
      const main = containerRequests([{ resources: spec.resources }]);
      const storage = (spec.volumeClaimTemplates ?? []).reduce((n: number, c: any) => n + quantity(c?.spec?.resources?.requests?.storage), 0);
      workloads.push({
        ...base,
        scaling: auto ? 'HPA' : 'operator',
        minPods: auto ? (auto.minReplicas ?? fixed) : fixed,
        maxPods: auto ? (auto.maxReplicas ?? fixed) : fixed,
        pod: { cpu: main.cpu + proxy.cpu, memory: main.memory + proxy.memory, storage: spec.mode === 'statefulset' ? storage : 0, limitsMemory: main.limitsMemory + proxy.limitsMemory },
        tolerations: toleratedKeys(spec.tolerations),
        nodeRequirements: requiredNodeLabels(spec.affinity),
        secondStackAtRelease: false,
        // The operator renders mode deployment as a Deployment with this strategy.
        surgePods: (spec.mode ?? 'deployment') === 'deployment' ? surgeOf(spec.deploymentUpdateStrategy, auto ? (auto.maxReplicas ?? fixed) : fixed) : 0,
      });
    }
  }
  workloads.sort((a, b) => compare(a.component, b.component) || compare(a.kind, b.kind) || compare(a.namespace, b.namespace) || compare(a.name, b.name));
  const rows: CapacityRow[] = [];
  for (const component of [...new Set(workloads.map((w) => w.component))].sort(compare)) {
    rows.push(sumRows(component, workloads.filter((w) => w.component === component).map(workloadRow)));
  }
  return { workloads, rows, total: sumRows('**Total**', rows) };
}

function workloadRow(w: WorkloadCapacity): CapacityRow {
  return {
    component: w.component,
    minPods: w.minPods,
    maxPods: w.maxPods,
    minCpu: w.minPods * w.pod.cpu,
    maxCpu: w.maxPods * w.pod.cpu,
    minMemory: w.minPods * w.pod.memory,
    maxMemory: w.maxPods * w.pod.memory,
    storage: w.maxPods * w.pod.storage,
  };
}

function sumRows(component: string, rows: readonly CapacityRow[]): CapacityRow {
  const sum = (key: Exclude<keyof CapacityRow, 'component'>) => rows.reduce((n, r) => n + r[key], 0);
  return {
    component,
    minPods: sum('minPods'),
    maxPods: sum('maxPods'),
    minCpu: sum('minCpu'),
    maxCpu: sum('maxCpu'),
    minMemory: sum('minMemory'),
    maxMemory: sum('maxMemory'),
    storage: sum('storage'),
  };
}

// ---------------------------------------------------------------------------------------------
// Topology

interface Topology {
  /** Node id -> label, grouped by subgraph title ('' = top level). */
  readonly groups: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** `from|to|label|style` where style is `solid` or `dotted`, unique and sorted. */
  readonly edges: readonly string[];
}

/** A Mermaid-safe node id. */
function nodeId(kind: string, name: string): string {
  return `${kind}_${name}`.replace(/[^A-Za-z0-9_]/g, '_');
}

function matches(selector: Annotations, labels: Annotations): boolean {
  if (!selector || Object.keys(selector).length === 0 || !labels) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** The topology of the region, from its Gateways, VirtualServices, Services, workloads, CRs and ServiceEntries. */
function regionTopology(region: string, objects: RegionObjects): Topology {
  const all = Object.values(objects).flat();
  const of = (kind: string) => all.filter((o) => o.kind === kind).sort((a, b) => compare(a.metadata.namespace ?? '', b.metadata.namespace ?? '') || compare(a.metadata.name, b.metadata.name));
  const groups = new Map<string, Map<string, string>>();
  const edges = new Set<string>();
  const addNode = (group: string, id: string, label: string) => {
    if (!groups.has(group)) groups.set(group, new Map());
    groups.get(group)!.set(id, label);
  };
  const addEdge = (from: string, to: string, label = '', style: 'solid' | 'dotted' = 'solid') => {
    if (from !== to) edges.add(`${from}|${to}|${label}|${style}`);
  };
  const workloads = all.filter((o) => POD_KINDS.has(o.kind));
  const workloadId = (o: DocObject) => nodeId('w', o.metadata.name);
  const workloadLabel = (o: DocObject) => `${o.metadata.name}<br/>${o.kind}`;
  const isRedis = (o: DocObject) => /redis/.test(o.metadata.name);
  const isPgbouncer = (o: DocObject) => /pgbouncer/.test(o.metadata.name);
  const isPostgres = (o: DocObject) => /postgres/.test(o.metadata.name);
  const isJaeger = (o: DocObject) => /jaeger/.test(o.metadata.name);

  /** The workload(s) behind a Service, by selector. */
  const services = of('Service');
  const backends = (host: string): DocObject[] => {
    const [name, namespace] = host.split('.');
    const service = services.find((s) => s.metadata.name === name && (namespace === undefined || (s.metadata.namespace ?? '') === namespace || !host.includes('.')));
    if (!service) return [];
    return workloads.filter(
      (w) => (w.metadata.namespace ?? '') === (service.metadata.namespace ?? '') && matches(service.spec?.selector, w.spec?.template?.metadata?.labels),
    );
  };

  // Ingress gateway -> web / API, from Gateways and the VirtualServices bound to them.
  const gateways = of('Gateway');
  for (const gw of gateways) addNode('', nodeId('gw', gw.metadata.name), `Istio ingress gateway<br/>${gw.metadata.name}`);
  const apps = new Set<string>();
  for (const vs of of('VirtualService')) {
    const bound = (vs.spec?.gateways ?? []) as string[];
    const hosts = ((vs.spec?.hosts ?? []) as string[]).filter((h) => !h.endsWith('.cluster.local'));
    const targets = new Map<string, DocObject>();
    for (const route of [...(vs.spec?.http ?? []), ...(vs.spec?.tcp ?? []), ...(vs.spec?.tls ?? [])]) {
      for (const dest of route?.route ?? []) for (const w of backends(String(dest?.destination?.host ?? ''))) targets.set(w.metadata.name, w);
    }
    for (const gw of gateways) {
      const ref = `${gw.metadata.namespace ?? ''}/${gw.metadata.name}`;
      if (!bound.some((b) => b === ref || b === gw.metadata.name)) continue;
      for (const w of targets.values()) {
        addNode('Application', workloadId(w), workloadLabel(w));
        apps.add(w.metadata.name);
        addEdge(nodeId('gw', gw.metadata.name), workloadId(w), hosts.sort(compare).join(', '));
      }
    }
  }
  const appWorkloads = workloads.filter((w) => apps.has(w.metadata.name)).sort((a, b) => compare(a.metadata.name, b.metadata.name));
  const api = appWorkloads.filter((w) => /api/.test(w.metadata.name));
  const web = appWorkloads.filter((w) => !/api/.test(w.metadata.name));
  for (const w of web) for (const a of api) addEdge(workloadId(w), workloadId(a), 'HTTP');

  // API -> PgBouncer per shard -> Postgres shard.
  const shardOf = (o: DocObject) => /shard-([0-9]+)/.exec(o.metadata.name)?.[1];
  const postgres = workloads.filter((w) => isPostgres(w) && w.kind === 'StatefulSet');
  for (const pgb of workloads.filter(isPgbouncer).sort((a, b) => compare(a.metadata.name, b.metadata.name))) {
    addNode('Data', workloadId(pgb), workloadLabel(pgb));
    for (const a of api) addEdge(workloadId(a), workloadId(pgb), 'SQL');
    for (const pg of postgres.filter((p) => shardOf(p) !== undefined && shardOf(p) === shardOf(pgb))) {
      addNode('Data', workloadId(pg), `${workloadLabel(pg)} x${pg.spec?.replicas ?? 1}`);
      addEdge(workloadId(pgb), workloadId(pg), `shard ${shardOf(pg)}`);
    }
  }
  for (const pg of postgres) addNode('Data', workloadId(pg), `${workloadLabel(pg)} x${pg.spec?.replicas ?? 1}`);

  // Redis tiers: StatefulSets (and their proxies) named *redis*; sentinels watch their tier.
  const redis = workloads.filter(isRedis).sort((a, b) => compare(a.metadata.name, b.metadata.name));
  for (const r of redis) {
    addNode('Redis', workloadId(r), `${workloadLabel(r)} x${r.spec?.replicas ?? 1}`);
    const name = r.metadata.name;
    if (name.endsWith('-sentinel')) {
      const tier = redis.find((t) => t.metadata.name === name.slice(0, -'-sentinel'.length));
      if (tier) addEdge(workloadId(r), workloadId(tier), 'monitors', 'dotted');
    } else if (name.endsWith('-proxy')) {
      const tier = redis.find((t) => t.metadata.name === name.slice(0, -'-proxy'.length));
      if (tier) addEdge(workloadId(r), workloadId(tier));
    } else if (!redis.some((p) => p.metadata.name === `${name}-proxy`)) {
      for (const a of api) addEdge(workloadId(a), workloadId(r), 'cache');
    } else {
      for (const a of api) addEdge(workloadId(a), nodeId('w', `${name}-proxy`), 'via proxy');
    }
  }

  // Monitoring: Prometheus -> Alertmanager.
  const proms = of('Prometheus');
  const ams = of('Alertmanager');
  for (const p of proms) addNode('Monitoring', nodeId('prom', p.metadata.name), `Prometheus ${p.metadata.name} x${(p.spec?.replicas ?? 1) * (p.spec?.shards ?? 1)}`);
  for (const a of ams) addNode('Monitoring', nodeId('am', a.metadata.name), `Alertmanager ${a.metadata.name} x${a.spec?.replicas ?? 1}`);
  for (const p of proms) for (const a of ams) addEdge(nodeId('prom', p.metadata.name), nodeId('am', a.metadata.name), 'alerts');

  /** Whether a collector's config names the Service the operator creates for collector `name`. */
  const exportsTo = (text: string, name: string) =>
    new RegExp(`(^|[^a-z0-9-])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-collector(-headless)?\\.`).test(text);
  // Tracing: OTel collectors (chained by the endpoints in their config) and Jaeger.
  const collectors = of('OpenTelemetryCollector');
  for (const c of collectors) addNode('Tracing', nodeId('otel', c.metadata.name), `OTel collector ${c.metadata.name} x${c.spec?.replicas ?? 1}`);
  const jaegers = workloads.filter(isJaeger).sort((a, b) => compare(a.metadata.name, b.metadata.name));
  for (const j of jaegers) addNode('Tracing', workloadId(j), workloadLabel(j));
  for (const c of collectors) {
    const text = JSON.stringify(c.spec ?? {});
    for (const other of collectors) if (other !== c && exportsTo(text, other.metadata.name)) addEdge(nodeId('otel', c.metadata.name), nodeId('otel', other.metadata.name), 'OTLP');
    for (const s of services) {
      if (!text.includes(`${s.metadata.name}.${s.metadata.namespace ?? ''}`)) continue;
      for (const w of backends(`${s.metadata.name}.${s.metadata.namespace ?? ''}`)) if (isJaeger(w)) addEdge(nodeId('otel', c.metadata.name), workloadId(w), 'OTLP');
    }
  }
  // Who sends spans: any collector that no other collector exports to is an entry point for the apps.
  const entry = collectors.filter((c) => !collectors.some((o) => o !== c && exportsTo(JSON.stringify(o.spec ?? {}), c.metadata.name)));
  for (const w of appWorkloads) for (const c of entry) addEdge(workloadId(w), nodeId('otel', c.metadata.name), 'spans', 'dotted');

  // Cross-region links: ServiceEntries for `*.global` hosts.
  for (const se of of('ServiceEntry')) {
    for (const host of ((se.spec?.hosts ?? []) as string[]).filter((h) => h.endsWith('.global')).sort(compare)) {
      const [service, hostRegion] = host.split('.');
      const exact = workloads.filter((w) => w.metadata.name === service);
      const local = exact.length > 0 ? exact : workloads.filter((w) => w.metadata.name === service.replace(/-proxy$/, ''));
      if (hostRegion === region) {
        addNode('Other regions', nodeId('remote', 'peers'), 'other regions<br/>via east-west gateway');
        for (const w of local) addEdge(nodeId('remote', 'peers'), workloadId(w), host, 'dotted');
      } else {
        const endpoints = ((se.spec?.endpoints ?? []) as any[]).map((e) => String(e?.address ?? '')).filter(Boolean).sort(compare);
        addNode('Other regions', nodeId('remote', host), `${host}${endpoints.length ? `<br/>via ${endpoints.join(', ')}` : ''}`);
        const tier = workloads.filter((w) => isRedis(w) && service.startsWith(`${w.metadata.name}-`) && !w.metadata.name.endsWith('-sentinel'));
        const from = tier.length > 0 ? tier : api;
        for (const w of from) addEdge(workloadId(w), nodeId('remote', host), se.metadata.name, 'dotted');
      }
    }
  }
  return { groups, edges: [...edges].sort(compare) };
}

function mermaid(topology: Topology): string[] {
  const lines = ['```mermaid', 'flowchart LR'];
  const quote = (label: string) => `"${label.replace(/"/g, '#quot;')}"`;
  for (const group of [...topology.groups.keys()].sort(compare)) {
    const nodes = [...topology.groups.get(group)!.entries()].sort(([a], [b]) => compare(a, b));
    const indent = group === '' ? '  ' : '    ';
    if (group !== '') lines.push(`  subgraph ${nodeId('g', group)}[${quote(group)}]`);
    for (const [id, label] of nodes) lines.push(`${indent}${id}[${quote(label)}]`);
    if (group !== '') lines.push('  end');
  }
  for (const edge of topology.edges) {
    const [from, to, label, style] = edge.split('|');
    const arrow = style === 'dotted' ? '-.->' : '-->';
    lines.push(label ? `  ${from} ${arrow}|${quote(label)}| ${to}` : `  ${from} ${arrow} ${to}`);
  }
  lines.push('```');
  return lines;
}

// ---------------------------------------------------------------------------------------------
// The page

export function table(header: readonly string[], align: readonly ('l' | 'r')[], rows: readonly (readonly string[])[]): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `|${align.map((a) => (a === 'r' ? '---:' : '---')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}

const range = (min: string, max: string) => (min === max ? min : `${min}..${max}`);

/**
 * The page. `objects` may hold, besides the region's own files, the Argo CD Applications of the
 * region's platform add-ons (component `platform-addons`, see `addonApplications`): the cost
 * section counts the gateways and load balancers they install. `prices`: the region's price
 * table (regions/pricing.ts); without it the cost section says so.
 */
export function renderRegionDoc(region: string, objects: RegionObjects, prices?: RegionPrices): string {
  const capacity = regionCapacity(objects);
  const topology = regionTopology(region, objects);
  const row = (r: CapacityRow) => [
    r.component,
    String(r.minPods),
    String(r.maxPods),
    formatCores(r.minCpu),
    formatCores(r.maxCpu),
    formatGiB(r.minMemory),
    formatGiB(r.maxMemory),
    formatGiB(r.storage),
  ];
  const lines = [
    `# Region ${region}`,
    '',
    'Generated by `npm run synth` from the rendered objects in this folder. Do not edit: change the source and re-run.',
    'Argo CD ignores this page (it syncs only `*.yaml`).',
    '',
    '## Topology',
    '',
    ...mermaid(topology),
    '',
    '## Capacity',
    '',
    'Requests at the HPA minimum and maximum (workloads without an HPA at their fixed replicas; operator',
    'resources such as Prometheus, Alertmanager and OpenTelemetryCollector at replicas × their resources),',
    'including the istio-proxy sidecar from `sidecar.istio.io/proxyCPU` / `proxyMemory`. CPU in cores,',
    'memory and storage in GiB. Storage: volumeClaimTemplates (and Prometheus/Alertmanager storage) × pods at',
    'the maximum. Jobs and CronJobs are not counted; neither are containers an operator adds on its own.',
    '',
    ...table(
      ['Component', 'Pods min', 'Pods max', 'CPU min', 'CPU max', 'Memory min', 'Memory max', 'Storage'],
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      [...capacity.rows.map(row), row(capacity.total)],
    ),
    '',
    '### Per workload',
    '',
    ...table(
      ['Component', 'Kind', 'Namespace/name', 'Scaling', 'Pods', 'CPU/pod', 'Memory/pod', 'Storage/pod'],
      ['l', 'l', 'l', 'l', 'r', 'r', 'r', 'r'],
      capacity.workloads.map((w) => [
        w.component,
        w.kind,
        `${w.namespace}/${w.name}`,
        w.scaling,
        range(String(w.minPods), String(w.maxPods)),
        formatCores(w.pod.cpu),
        formatGiB(w.pod.memory),
        formatGiB(w.pod.storage),
      ]),
    ),
    '',
    ...costSection(prices ? estimateRegionCost(region, objects, prices) : undefined, region),
  ];
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// From rendered files

/** Kinds the page reads; other documents are not parsed (keeps synth fast). */
const KINDS = [
  'Alertmanager', 'Application', 'Deployment', 'Gateway', 'HorizontalPodAutoscaler', 'NodePool', 'OpenTelemetryCollector', 'PersistentVolumeClaim',
  'Prometheus', 'Rollout', 'Service', 'ServiceEntry', 'StatefulSet', 'StorageClass', 'VirtualService',
];
const DOC_KINDS = new RegExp(`^kind: (${KINDS.join('|')})$`, 'm');

/** The component a rendered file holds: `us-east-1/api.yaml` → `api`. */
function componentOf(file: string): string {
  return file.slice(file.lastIndexOf('/') + 1, -'.yaml'.length);
}

/** Reads back the objects of rendered YAML files of one region (`<region>/<component>.yaml`). */
export function objectsFromFiles(files: readonly { readonly path: string; readonly content: string }[]): Record<string, DocObject[]> {
  const out: Record<string, DocObject[]> = {};
  for (const file of files) {
    if (!file.path.endsWith('.yaml')) continue;
    const component = componentOf(file.path);
    const list: DocObject[] = [];
    for (const chunk of file.content.split(/^---$/m)) {
      if (!DOC_KINDS.test(chunk)) continue;
      for (const doc of parseAllDocuments(chunk)) {
        const value = doc.toJS() as DocObject | null;
        if (value && typeof value === 'object' && value.kind && value.metadata) list.push(value);
      }
    }
    out[component] = list;
  }
  return out;
}

const APP_KINDS = new Set(KINDS);

/**
 * The objects the page reads, from rendered files' in-memory documents (what synth wrote and
 * validates): no second `toJson()` of the App. Same page as objectsFromFiles
 * (test/docs/region-doc.test.ts). `charts`: every chart id of the App, so a chart that renders
 * nothing is an empty component.
 */
export function objectsFromDocuments(
  files: readonly { readonly path: string; readonly documents?: readonly unknown[] }[], charts: readonly string[] = [],
): Record<string, DocObject[]> {
  const out: Record<string, DocObject[]> = {};
  for (const id of charts) out[id] = [];
  for (const file of files) {
    if (!file.path.endsWith('.yaml')) continue;
    const component = componentOf(file.path);
    out[component] = (file.documents ?? []).filter((d): d is DocObject => APP_KINDS.has((d as DocObject).kind));
  }
  return out;
}

/** The component name the add-on Applications of a region get in its objects. */
export const ADDONS_COMPONENT = 'platform-addons';
const REGION_LABEL = 'bookedbarber.com/region';

/** The Argo CD Applications among `objects` (e.g. the argocd/ folder) that belong to `region` (label bookedbarber.com/region). */
export function addonApplications(region: string, objects: readonly DocObject[]): DocObject[] {
  return objects.filter((o) => o.kind === 'Application' && (o.metadata as any).labels?.[REGION_LABEL] === region);
}

/** The README.md of one region from its objects by component (objectsFromDocuments or objectsFromFiles). */
export function regionDocFromObjects(
  region: string,
  objects: Record<string, DocObject[]>,
  options: { readonly addons?: readonly DocObject[]; readonly prices?: RegionPrices } = {},
): { path: string; content: string; objects: number } {
  const all = { ...objects };
  if (options.addons) all[ADDONS_COMPONENT] = addonApplications(region, options.addons);
  return { path: `${region}/README.md`, content: renderRegionDoc(region, all, options.prices), objects: 0 };
}
