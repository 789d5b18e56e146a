/**
 * Issue 12 item 6: the metric names the platform reads, and what the exporters really expose.
 *
 * - `loadCatalogue()` reads the pinned lists in test/fixtures/metrics/ (one file per exporter,
 *   headed with its source and version).
 * - `platformExpressions()` collects every PromQL expression we ship: the rule files of every
 *   region (`ruleFiles(plan)`), every dashboard panel query (`dashboardExpressions(plan)`, Grafana
 *   macros expanded, `$region` as "All" = `.*`, what a region's own Prometheus is queried with),
 *   the AnalysisTemplates (their `{{args.x}}` filled from the Rollouts' args, from dist/) and the
 *   prometheus-adapter rule (its `<<.Series>>` templates filled as the adapter fills them).
 * - `selectorsOf()` / `probeQueries()` take expressions apart with Prometheus' own grammar
 *   (@prometheus-io/lezer-promql).
 * - `syntheticSeries()` writes, for every vector selector, series that the exporter named in the
 *   catalogue could emit: the metric's own labels (enumerated values only) plus the target
 *   labels its scrape adds (charts/lib/monitoring-targets.ts). It refuses a name no list has and
 *   a label the exporter does not set, so a rule that reads a metric that does not exist cannot
 *   get data.
 */
import { parser } from '@prometheus-io/lezer-promql';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ruleFiles } from '../../charts/monitoring/alerts-chart';
import { dashboardExpressions } from '../../charts/dashboards/chart';
import { expandGrafanaMacros } from '../../charts/dashboards/kit';
import {
  INGRESS_GATEWAY_JOB, ISTIO_UNREAD_METRICS, ISTIOD_MONITORING, jobOf, KUBE_STATE_METRICS_ALLOWLIST, KUBELET, POSTGRES_APP, scrapeTargets, type ScrapeTarget,
} from '../../charts/lib/monitoring-targets';
import type { RegionPlan } from '../../regions/plan';
import { shippedPlan } from './charts';
import { DIST, distObjectsMentioning } from './dist';
import { REPO_ROOT } from './regions';

export const METRICS_DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'metrics');

// ------------------------------------------------------------------ the pinned lists

export interface CatalogueEntry {
  readonly metric: string;
  /** Fixture file it comes from. */
  readonly file: string;
  /** Label → the values the exporter emits (undefined: any value). */
  readonly labels: ReadonlyMap<string, readonly string[] | undefined>;
}

export interface CatalogueFile {
  readonly file: string;
  readonly source: string;
  readonly version: string;
  /** `# debian-lacks:` names (Postgres and Redis files). */
  readonly debianLacks: readonly string[];
  readonly entries: readonly CatalogueEntry[];
}

export function loadCatalogueFiles(dir = METRICS_DIR): CatalogueFile[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.txt')).sort().map((file) => {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    const header = (key: string) => text.split('\n').filter((l) => l.startsWith(`# ${key}:`)).map((l) => l.slice(`# ${key}:`.length).trim());
    const entries: CatalogueEntry[] = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '' || line.startsWith('#')) continue;
      const [metric, ...labels] = line.trim().split(/\s+/);
      entries.push({
        metric: metric!,
        file,
        labels: new Map(labels.map((l) => {
          const at = l.indexOf('=');
          return at < 0 ? [l, undefined] : [l.slice(0, at), l.slice(at + 1).split('|')];
        })),
      });
    }
    return { file, source: header('source').join(' '), version: header('version').join(' '), debianLacks: header('debian-lacks').join(' ').split(/\s+/).filter(Boolean), entries };
  });
}

export function loadCatalogue(dir = METRICS_DIR): Map<string, CatalogueEntry> {
  const out = new Map<string, CatalogueEntry>();
  for (const f of loadCatalogueFiles(dir)) {
    for (const e of f.entries) {
      if (out.has(e.metric)) throw new Error(`${e.metric} is listed in both ${out.get(e.metric)!.file} and ${f.file}`);
      out.set(e.metric, e);
    }
  }
  return out;
}

// ------------------------------------------------------------------ the expressions we ship

export interface Expression {
  readonly where: string;
  readonly expr: string;
}

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface PlatformExpressions {
  /** Alert expressions, dashboard queries, analysis queries, the adapter's queries. */
  readonly expressions: Expression[];
  /** Recording rules (deduplicated over regions): their outputs are the only names no exporter has. */
  readonly recordingRules: RecordingRule[];
}

/** `$region` as Grafana's "All" (allValue `.*`), the interval macros as Grafana substitutes them. */
export function dashboardQuery(expr: string): string {
  return expandGrafanaMacros(expr).replace(/\$\{region\}|\$region\b/g, '.*');
}

/** The prometheus-adapter's templates as it fills them for the HPA of the API's pods. */
export function adapterQuery(query: string, namespace: string, podPrefix: string): string {
  return query
    .replace(/<<\.Series>>/g, 'istio_requests_total')
    .replace(/<<\.LabelMatchers>>/g, `namespace="${namespace}",pod=~"${podPrefix}-.*"`)
    .replace(/<<\.GroupBy>>/g, 'pod');
}

export function platformExpressions(plans: readonly RegionPlan[] = shippedPlan().regions): PlatformExpressions {
  const expressions: Expression[] = [];
  const recording = new Map<string, RecordingRule>();
  const seen = new Set<string>();
  const add = (where: string, expr: string) => {
    if (seen.has(expr)) return;
    seen.add(expr);
    expressions.push({ where, expr });
  };
  for (const plan of plans) {
    const region = plan.region.name;
    for (const [file, groups] of Object.entries(ruleFiles(plan))) {
      for (const g of groups) {
        for (const r of g.rules) {
          if ('record' in r && r.record) {
            const rule = { record: r.record, expr: r.expr, labels: { ...(r.labels ?? {}) } };
            recording.set(JSON.stringify(rule), rule);
          } else add(`${region} rule ${file}/${g.name}/${(r as { alert?: string }).alert}`, r.expr);
        }
      }
    }
    for (const d of dashboardExpressions(plan)) add(`${region} dashboard ${d.dashboard} "${d.panel}" ${d.refId}`, dashboardQuery(d.expr));
  }
  // Analysis templates and the adapter: as rendered (dist/), the args filled from the Rollouts
  // (only the documents that can be one of them are parsed, not all of dist/).
  const objects = distObjectsMentioning(['Rollout', 'AnalysisTemplate']);
  const args = new Map<string, string>();
  for (const { object } of objects) {
    if (object.kind !== 'Rollout') continue;
    JSON.stringify(object, (key, value) => {
      if (key === 'args' && Array.isArray(value)) for (const a of value) if (typeof a?.value === 'string' && typeof a?.name === 'string') args.set(a.name, a.value);
      return value;
    });
  }
  for (const { folder, object } of objects) {
    if (!/AnalysisTemplate$/.test(object.kind)) continue;
    for (const m of object.spec?.metrics ?? []) {
      const q = m.provider?.prometheus?.query;
      if (typeof q !== 'string') continue;
      const filled = q.replace(/\{\{\s*args\.([\w-]+)\s*\}\}/g, (_: string, name: string) => args.get(name) ?? `${name}-value`);
      add(`${folder} ${object.kind} ${object.metadata.name}/${m.name}`, filled);
    }
  }
  const plan = plans[0]!;
  for (const rule of adapterRules()) {
    add(`prometheus-adapter seriesQuery`, rule.seriesQuery);
    add(`prometheus-adapter metricsQuery`, adapterQuery(rule.metricsQuery, plan.namespaces.app, plan.names.api.app));
  }
  return { expressions, recordingRules: [...recording.values()] };
}

/** The prometheus-adapter custom rules as rendered into dist/argocd. */
export function adapterRules(): { seriesQuery: string; metricsQuery: string }[] {
  const out = new Map<string, { seriesQuery: string; metricsQuery: string }>();
  const dir = path.join(DIST, 'argocd');
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(fs.readFileSync(path.join(dir, file), 'utf8'))) {
      JSON.stringify(doc.toJS(), (_key, value) => {
        if (value && typeof value === 'object' && typeof value.seriesQuery === 'string' && typeof value.metricsQuery === 'string') {
          out.set(value.seriesQuery + value.metricsQuery, { seriesQuery: value.seriesQuery, metricsQuery: value.metricsQuery });
        }
        return value;
      });
    }
  }
  if (out.size === 0) throw new Error('no prometheus-adapter rule found in dist/argocd');
  return [...out.values()];
}

// ------------------------------------------------------------------ PromQL

export type MatchOp = '=' | '!=' | '=~' | '!~';
export interface Matcher { readonly label: string; readonly op: MatchOp; readonly value: string }
export interface Selector { readonly metric: string; readonly matchers: readonly Matcher[]; readonly text: string }

const unquote = (s: string) => JSON.parse(s.startsWith("'") ? `"${s.slice(1, -1).replace(/"/g, '\\"')}"` : s) as string;

/** Every vector selector of an expression (Prometheus' grammar). */
export function selectorsOf(expr: string): Selector[] {
  const out: Selector[] = [];
  const tree = parser.parse(expr);
  tree.iterate({
    enter: (n) => {
      if (n.type.isError) throw new Error(`PromQL does not parse at ${n.from}: ${expr}`);
      if (n.name !== 'VectorSelector') return;
      const node = n.node;
      const metric = node.getChild('Identifier');
      const matchers: Matcher[] = [];
      const list = node.getChild('LabelMatchers');
      let child = list?.firstChild ?? null;
      for (; child; child = child.nextSibling) {
        if (!/LabelMatcher$/.test(child.name)) continue;
        const name = child.getChild('LabelName');
        const op = child.getChild('MatchOp');
        const value = child.getChild('StringLiteral');
        if (!name || !op || !value) throw new Error(`unsupported matcher ${expr.slice(child.from, child.to)}`);
        matchers.push({ label: expr.slice(name.from, name.to), op: expr.slice(op.from, op.to) as MatchOp, value: unquote(expr.slice(value.from, value.to)) });
      }
      if (!metric) throw new Error(`selector without a metric name: ${expr.slice(n.from, n.to)}`);
      out.push({ metric: expr.slice(metric.from, metric.to), matchers, text: expr.slice(n.from, n.to) });
    },
  });
  return out;
}

/** Labels named in by/without/on/ignoring clauses. */
export function groupingLabelsOf(expr: string): string[] {
  const out = new Set<string>();
  parser.parse(expr).iterate({
    enter: (n) => {
      if (n.name !== 'GroupingLabels') return;
      for (let c = n.node.firstChild; c; c = c.nextSibling) if (c.name === 'LabelName') out.add(expr.slice(c.from, c.to));
    },
  });
  return [...out];
}

const COMPARISONS = new Set(['Gtr', 'Lss', 'Gte', 'Lte', 'Eql', 'Neq']);

/**
 * What "the expression returns at least one series" means for an alert or a filtered panel,
 * judged on data that is not in the alert's state: every comparison becomes a `bool` one (a 0/1
 * series instead of a filter), `unless` becomes `and` (its right side must match the left on the
 * `on(...)` labels to ever have an effect) and `absent(x)` becomes `x` (the metric it watches
 * must exist). Vector matching, grouping and functions stay as they are. Each operand of an
 * `or` is returned as a query of its own too, so a fallback (`or vector(0)`) cannot hide an empty
 * side.
 */
export function probeQueries(expr: string): string[] {
  const edits: { at: number; to: number; text: string }[] = [];
  const orOperands: [number, number][] = [];
  parser.parse(expr).iterate({
    enter: (n) => {
      if (n.name === 'BinaryExpr') {
        const kids: { name: string; from: number; to: number }[] = [];
        for (let c = n.node.firstChild; c; c = c.nextSibling) kids.push({ name: c.name, from: c.from, to: c.to });
        const op = kids.find((k) => COMPARISONS.has(k.name));
        if (op && !kids.some((k) => k.name === 'BoolModifier')) edits.push({ at: op.to, to: op.to, text: ' bool' });
        const unless = kids.find((k) => k.name === 'Unless');
        if (unless) edits.push({ at: unless.from, to: unless.to, text: 'and' });
        if (kids.some((k) => k.name === 'Or')) {
          const operands = kids.filter((k) => !['Or', 'MatchingModifierClause'].includes(k.name));
          for (const o of operands) orOperands.push([o.from, o.to]);
        }
      }
      if (n.name === 'Absent' && n.node.parent?.name === 'FunctionIdentifier') edits.push({ at: n.from, to: n.to, text: '' });
    },
  });
  const apply = (from: number, to: number) => {
    let out = '';
    let pos = from;
    for (const e of [...edits].sort((a, b) => a.at - b.at)) {
      if (e.at < from || e.to > to) continue;
      out += expr.slice(pos, e.at) + e.text;
      pos = e.to;
    }
    return out + expr.slice(pos, to);
  };
  return [...new Set([apply(0, expr.length), ...orOperands.map(([a, b]) => apply(a, b))])];
}

// ------------------------------------------------------------------ who exposes what, scraped how

/** The scrape jobs whose targets expose the names of a catalogue file. */
function jobsOf(entry: CatalogueEntry, plan: RegionPlan): string[] {
  const { names } = plan;
  if (entry.metric.startsWith('citadel_')) return [ISTIOD_MONITORING.job];
  switch (entry.file.replace(/-v?[\d.x]+\.txt$|\.txt$/, '')) {
    case 'istio': return [names.api.app, names.web.app, INGRESS_GATEWAY_JOB];
    case 'istio-agent': return scrapeTargets(plan).filter((t) => t.kind === 'meshed-pods').map((t) => t.name);
    case 'bookedbarber-api': return [names.api.app];
    case 'postgres-exporter': return [POSTGRES_APP];
    case 'bookedbarber-postgres-queries': return [POSTGRES_APP];
    case 'pgbouncer-exporter': return [names.data.pgbouncerApp];
    case 'redis-exporter': return [names.data.redisApp];
    case 'kube-state-metrics': return ['kube-state-metrics'];
    case 'cadvisor-kubelet': return [KUBELET.job];
    case 'argo-rollouts': return ['argo-rollouts'];
    case 'prometheus': return ['*'];
    case 'prometheus-self': return ['prometheus'];
    case 'alertmanager': return ['alertmanager'];
    case 'otel-collector': return ['otel-collector', 'otel-sampler'];
    default: throw new Error(`no scrape job known for ${entry.file}`);
  }
}

/** Labels a scrape of this target puts on every series, fixed ones with their value. */
function targetLabels(t: ScrapeTarget): { fixed: Record<string, string>; free: string[] } {
  const honor = t.kind === 'service' && t.honorLabels;
  const fixed: Record<string, string> = { job: jobOf(t), instance: '10.0.0.1:9090', endpoint: 'metrics' };
  if (!honor) Object.assign(fixed, { namespace: t.namespace, pod: `${t.name}-0`, container: t.kind === 'meshed-pods' ? 'istio-proxy' : t.name });
  if (t.kind === 'service') fixed.service = t.serviceName;
  const free = t.kind === 'meshed-pods' ? (t.targetLabelsFromPod ?? []).map((c) => c.targetLabel) : [];
  return { fixed, free };
}

/** Values for labels the exporter or the discovery sets freely, consistent across metrics (joins). */
const FREE_DEFAULTS: Readonly<Record<string, string>> = {
  container: 'api', database: 'bookings', user: 'api', horizontalpodautoscaler: 'api', name: 'api', pod: 'api-0',
  master_name: 'cache', master_address: '10.0.0.2:6379', http_route: '/bookings', datname: 'bookings',
};

const matches = (m: Matcher, value: string) => {
  const re = new RegExp(`^(?:${m.value})$`);
  switch (m.op) {
    case '=': return value === m.value;
    case '!=': return value !== m.value;
    case '=~': return re.test(value);
    case '!~': return !re.test(value);
  }
};

/** A value of a free label satisfying the matchers on it. */
function freeValue(label: string, ms: readonly Matcher[], fallback: string): string | undefined {
  const candidates = [
    ...ms.filter((m) => m.op === '=').map((m) => m.value),
    ...ms.filter((m) => m.op === '=~').flatMap((m) => m.value.split('|').map((alt) => alt.replace(/\.\*|\.\+/g, 'x').replace(/\./g, 'x'))),
    FREE_DEFAULTS[label] ?? fallback,
    `${label}-1`,
  ];
  return candidates.find((v) => ms.every((m) => matches(m, v)));
}

export interface SeriesProblem { readonly selector: string; readonly problem: string }

export interface SyntheticSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly kind: 'counter' | 'gauge';
  /** Bucket index (histograms: cumulative counts grow with `le`). */
  readonly weight: number;
}

/** Counters by the exporters' conventions and the pinned sources (COUNTER columns of postgres_exporter). */
const isCounter = (metric: string) => /(_total|_count|_bucket|_sum)$/.test(metric) || /^pg_stat_database_tup_/.test(metric);

/**
 * Series an exporter of the catalogue (scraped as the region scrapes it) could produce for one
 * selector, or the reason none can: an unknown name, a label the exporter does not set, a value
 * it never emits, no target of its job matching.
 */
export function seriesForSelector(sel: Selector, plan: RegionPlan, catalogue: ReadonlyMap<string, CatalogueEntry>, recorded: ReadonlySet<string>): SyntheticSeries[] | SeriesProblem {
  if (recorded.has(sel.metric)) return [];
  const entry = catalogue.get(sel.metric);
  if (!entry) return { selector: sel.text, problem: `no exporter exposes ${sel.metric} (not in test/fixtures/metrics/*.txt)` };
  const jobs = jobsOf(entry, plan);
  const targets = scrapeTargets(plan).filter((t) => jobs.includes('*') || jobs.includes(t.name));
  if (targets.length === 0) return { selector: sel.text, problem: `${sel.metric} (${entry.file}): the region scrapes none of ${jobs.join(', ')}` };
  let lastProblem = '';
  for (const t of targets) {
    const { fixed, free } = targetLabels(t);
    const labels: Record<string, string> = { __name__: sel.metric };
    let ok = true;
    const labelNames = new Set([...Object.keys(fixed), ...free, ...entry.labels.keys(), ...sel.matchers.map((m) => m.label)]);
    for (const label of labelNames) {
      const ms = sel.matchers.filter((m) => m.label === label);
      if (label in fixed && !entry.labels.has(label)) {
        if (!ms.every((m) => matches(m, fixed[label]!))) { ok = false; lastProblem = `target ${t.name} has ${label}="${fixed[label]}"`; break; }
        labels[label] = fixed[label]!;
        continue;
      }
      if (entry.labels.has(label)) {
        const values = entry.labels.get(label);
        const v = values ? values.find((x) => ms.every((m) => matches(m, x))) : freeValue(label, ms, fixed[label] ?? t.namespace);
        if (v === undefined) { ok = false; lastProblem = `${sel.metric} (${entry.file}) never has ${label} matching ${ms.map((m) => `${m.op}"${m.value}"`).join(',')}${values ? ` (values: ${values.join('|')})` : ''}`; break; }
        if (v !== '') labels[label] = v;
        continue;
      }
      if (free.includes(label)) {
        const v = freeValue(label, ms, `${label}-1`);
        if (v === undefined) { ok = false; lastProblem = `no value of ${label} matches`; break; }
        labels[label] = v;
        continue;
      }
      // A label nobody sets: fine only if the matcher accepts its absence (`region=~".*"`).
      if (ms.every((m) => matches(m, ''))) continue;
      ok = false;
      lastProblem = `${sel.metric} (${entry.file}) has no label ${label}, and the scrape of ${t.name} adds none`;
      break;
    }
    if (!ok) continue;
    const le = entry.labels.get('le');
    if (le && !sel.matchers.some((m) => m.label === 'le')) {
      return le.map((v, i) => ({ labels: { ...labels, le: v }, kind: 'counter' as const, weight: i + 1 }));
    }
    return [{ labels, kind: isCounter(sel.metric) ? 'counter' : 'gauge', weight: 1 }];
  }
  return { selector: sel.text, problem: lastProblem };
}

/** Metrics a dropping scrape keeps: a name the scrape drops is as absent as one that does not exist. */
export function droppedByScrape(metric: string): string | undefined {
  if (metric.startsWith('kube_') && !(KUBE_STATE_METRICS_ALLOWLIST as readonly string[]).includes(metric)) return 'not in KUBE_STATE_METRICS_ALLOWLIST (--metric-allowlist)';
  if (metric.startsWith('container_') && !(KUBELET.keep as readonly string[]).includes(metric)) return 'not in KUBELET.keep (dropped after the scrape)';
  if ((ISTIO_UNREAD_METRICS as readonly string[]).includes(metric)) return 'in ISTIO_UNREAD_METRICS (dropped after the scrape on every meshed PodMonitor)';
  return undefined;
}
