/**
 * The pieces every Grafana dashboard of ours is built from, on top of
 * `@grafana/grafana-foundation-sdk`'s builders: one Prometheus datasource by uid, the `region`
 * template variable every query filters on, panel helpers with our units and thresholds, and
 * the step that turns a built dashboard into deterministic JSON (fixed uid, `id: null`, panel
 * ids and query refIds by position, keys sorted) for a provisioning ConfigMap.
 *
 * Plain functions: tests build dashboards without synthesising a chart.
 */
import {
  GraphThresholdsStyleConfigBuilder,
  GraphThresholdsStyleMode,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  StackingConfigBuilder,
  StackingMode,
  VizLegendOptionsBuilder,
  BigValueColorMode,
  BigValueGraphMode,
} from '@grafana/grafana-foundation-sdk/common';
import {
  DashboardBuilder,
  DashboardCursorSync,
  QueryVariableBuilder,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
  type DataSourceRef,
  type Threshold,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder, PromQueryFormat, QueryEditorMode } from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { promString } from '../lib/promql';

/**
 * The Prometheus datasource, by uid. The kube-prometheus-stack add-on provisions it
 * (`grafana.sidecar.datasources`, whose `uid` must stay `prometheus`, the chart's default) and
 * points it at the region's Prometheus. A uid, not a name: renaming the datasource in the UI
 * does not break the dashboards.
 */
export const PROMETHEUS_DATASOURCE: Readonly<Required<DataSourceRef>> = { type: 'prometheus', uid: 'prometheus' };

/** Name of the template variable every query filters on. */
export const REGION_VARIABLE = 'region';

/**
 * The matcher every vector selector carries. A regex match so that "All" (allValue `.*`) also
 * matches series without a region label: the region's own Prometheus only sees the label on
 * series whose scrape config adds it (the external label is applied to federation,
 * remote-write and alerts, not to local queries), a global store sees it on all of them.
 */
export const REGION_MATCHER = `${REGION_VARIABLE}=~"$${REGION_VARIABLE}"`;

/** Query shown in the variable's drop-down: every region Prometheus (or the global store) has. */
export const REGION_VARIABLE_QUERY = `label_values(up, ${REGION_VARIABLE})`;

/** Grafana's interval macros, which are not PromQL: what Grafana substitutes before sending. */
const GRAFANA_MACROS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\$__rate_interval\b/g, '5m'],
  [/\$__interval\b/g, '1m'],
  [/\$__range\b/g, '6h'],
];

/** An expression as Prometheus receives it (interval macros replaced); `$region` stays inside its string. */
export function expandGrafanaMacros(expr: string): string {
  return GRAFANA_MACROS.reduce((out, [macro, value]) => out.replace(macro, value), expr);
}

/**
 * A number as a reader expects it in an expression or a description: at most 12 significant
 * digits (1 - 0.9999 is 0.0001, not 0.00009999999999998899) and never exponent notation.
 */
export function num(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`${value} is not a finite number`);
  const rounded = Number(value.toPrecision(12));
  const text = String(rounded);
  if (!/e/i.test(text)) return text;
  const decimals = Math.min(100, Math.max(0, 11 - Math.floor(Math.log10(Math.abs(rounded)))));
  return rounded.toFixed(decimals).replace(/0+$/, '').replace(/\.$/, '');
}

/** `label="value"` */
export const eq = (label: string, value: string): string => `${label}=${promString(value)}`;
/** `label=~"regex"` */
export const re = (label: string, regex: string): string => `${label}=~${promString(regex)}`;
/** `label!~"regex"` */
export const nre = (label: string, regex: string): string => `${label}!~${promString(regex)}`;
/** `label!="value"` */
export const ne = (label: string, value: string): string => `${label}!=${promString(value)}`;

/** A vector selector restricted to the selected regions: `metric{region=~"$region",...}`. */
export function series(metric: string, ...matchers: string[]): string {
  return `${metric}{${[REGION_MATCHER, ...matchers].join(',')}}`;
}

/** Regex alternation of literal values (namespace lists and the like). */
export function anyOf(values: readonly string[]): string {
  return values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
}

interface Query {
  readonly expr: string;
  /** Legend template, e.g. `{{region}}`. @default the series labels */
  readonly legend?: string;
  /** One value per series at the end of the range (stat and table panels). @default false */
  readonly instant?: boolean;
}

function target(q: Query, refId: string): DataqueryBuilder {
  const b = new DataqueryBuilder().expr(q.expr).refId(refId).datasource({ ...PROMETHEUS_DATASOURCE }).editorMode(QueryEditorMode.Code);
  if (q.legend) b.legendFormat(q.legend);
  if (q.instant) b.instant().format(PromQueryFormat.Table);
  else b.range();
  return b;
}

/** refIds by position: A, B, ..., Z. */
function refId(index: number): string {
  if (index >= 26) throw new Error(`a panel may have at most 26 queries, got ${index + 1}`);
  return String.fromCharCode(65 + index);
}

/** A threshold step: `[value, color]`; the first step's value is null (from -infinity). */
export type Step = readonly [number | null, string];

function thresholds(steps: readonly Step[]): ThresholdsConfigBuilder {
  if (steps.length === 0 || steps[0][0] !== null) throw new Error('threshold steps must start with [null, <base color>]');
  const list: Threshold[] = steps.map(([value, color]) => ({ value, color }));
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(list);
}

/** Green when high is good (availability, success ratios): red below `objective`. */
export function atLeast(objective: number): Step[] {
  return [[null, 'red'], [objective, 'green']];
}

/** Green when low is good (latency, lag): red at or above `limit`. */
export function below(limit: number): Step[] {
  return [[null, 'green'], [limit, 'red']];
}

interface PanelCommon {
  readonly title: string;
  readonly description: string;
  readonly queries: readonly Query[];
  /** Grafana unit id (percentunit, ms, reqps, bytes, s, short, ...). */
  readonly unit: string;
  /** @default none */
  readonly steps?: readonly Step[];
  readonly min?: number;
  readonly max?: number;
  readonly decimals?: number;
  /** Grid width (of 24). */
  readonly width?: number;
  readonly height?: number;
}

export interface TimeseriesProps extends PanelCommon {
  /** Draw the thresholds as a dashed line (the objective the series is judged against). @default true when steps are set */
  readonly thresholdLine?: boolean;
  /** Stack series as shares of 100 %. @default false */
  readonly percentStacked?: boolean;
}

export type AnyPanelBuilder = timeseries.PanelBuilder | stat.PanelBuilder | table.PanelBuilder;

export function timeseriesPanel(p: TimeseriesProps): timeseries.PanelBuilder {
  const b = new timeseries.PanelBuilder()
    .title(p.title)
    .description(p.description)
    .datasource({ ...PROMETHEUS_DATASOURCE })
    .unit(p.unit)
    .span(p.width ?? 12)
    .height(p.height ?? 8)
    .lineWidth(1)
    .fillOpacity(10)
    .legend(new VizLegendOptionsBuilder().displayMode(LegendDisplayMode.Table).placement(LegendPlacement.Bottom).showLegend(true).calcs(['mean', 'max', 'lastNotNull']));
  p.queries.forEach((q, i) => b.withTarget(target(q, refId(i))));
  if (p.steps) {
    b.thresholds(thresholds(p.steps));
    if (p.thresholdLine ?? true) b.thresholdsStyle(new GraphThresholdsStyleConfigBuilder().mode(GraphThresholdsStyleMode.Dashed));
  }
  if (p.percentStacked) b.stacking(new StackingConfigBuilder().mode(StackingMode.Percent));
  if (p.min !== undefined) b.min(p.min);
  if (p.max !== undefined) b.max(p.max);
  if (p.decimals !== undefined) b.decimals(p.decimals);
  return b;
}

export function statPanel(p: PanelCommon): stat.PanelBuilder {
  const b = new stat.PanelBuilder()
    .title(p.title)
    .description(p.description)
    .datasource({ ...PROMETHEUS_DATASOURCE })
    .unit(p.unit)
    .span(p.width ?? 6)
    .height(p.height ?? 5)
    .graphMode(BigValueGraphMode.Area)
    .colorMode(BigValueColorMode.Background)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
  p.queries.forEach((q, i) => b.withTarget(target(q, refId(i))));
  if (p.steps) b.thresholds(thresholds(p.steps));
  if (p.min !== undefined) b.min(p.min);
  if (p.max !== undefined) b.max(p.max);
  if (p.decimals !== undefined) b.decimals(p.decimals);
  return b;
}

/** A table of instant values, one row per series (top-N lists). */
export function tablePanel(p: PanelCommon): table.PanelBuilder {
  const b = new table.PanelBuilder()
    .title(p.title)
    .description(p.description)
    .datasource({ ...PROMETHEUS_DATASOURCE })
    .unit(p.unit)
    .span(p.width ?? 12)
    .height(p.height ?? 8);
  p.queries.forEach((q, i) => b.withTarget(target({ ...q, instant: true }, refId(i))));
  if (p.steps) b.thresholds(thresholds(p.steps));
  if (p.decimals !== undefined) b.decimals(p.decimals);
  return b;
}

export interface DashboardRow {
  readonly title: string;
  readonly panels: readonly AnyPanelBuilder[];
}

export interface DashboardProps {
  /** Stable key of the dashboard (`franchise-health`): its uid, ConfigMap and file names derive from it. */
  readonly key: string;
  /** Dashboard title shown in Grafana. */
  readonly title: string;
  /** What the dashboard answers, shown under its title. */
  readonly description: string;
  /** Rows of panels, top to bottom. */
  readonly rows: readonly DashboardRow[];
  /** Platform name: uid prefix and tag. */
  readonly platform: string;
}

/** Grafana caps dashboard uids at 40 characters. */
export const MAX_UID_LENGTH = 40;

/** Fixed uid derived from the platform and the dashboard key, never random: links survive re-provisioning. */
export function dashboardUid(platform: string, key: string): string {
  const uid = `${platform}-${key}`;
  if (!/^[a-z0-9-]+$/.test(uid)) throw new Error(`dashboard uid "${uid}" must be lowercase letters, digits and dashes`);
  if (uid.length > MAX_UID_LENGTH) throw new Error(`dashboard uid "${uid}" is ${uid.length} characters, Grafana allows ${MAX_UID_LENGTH}`);
  return uid;
}

function regionVariable(): QueryVariableBuilder {
  return new QueryVariableBuilder(REGION_VARIABLE)
    .label('Region')
    .description('Regions to show. "All" also covers series without a region label (the local Prometheus of one region).')
    .datasource({ ...PROMETHEUS_DATASOURCE })
    .query(REGION_VARIABLE_QUERY)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*')
    .current({ selected: true, text: 'All', value: '$__all' });
}

/** A dashboard as plain JSON (what Grafana reads from the provisioned file). */
export type DashboardJson = Record<string, unknown> & { uid: string; title: string; panels: Array<Record<string, any>> };

/** Plain code-unit order (never localeCompare, whose order depends on LANG). */
const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Deep copy with object keys sorted and undefined values dropped: stable JSON text for any input order. */
export function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value as Record<string, unknown>).sort(byCodeUnit)) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeysDeep(v);
    }
    return out;
  }
  return value;
}

/**
 * Builds the dashboard: the region variable, rows in order, panel ids by position (1, 2, ...),
 * `id: null` (Grafana assigns its database id on import; a fixed one would clash across
 * instances), no timestamps, keys sorted.
 */
export function buildDashboard(p: DashboardProps): DashboardJson {
  const builder = new DashboardBuilder(p.title)
    .uid(dashboardUid(p.platform, p.key))
    .description(p.description)
    .tags([p.platform, 'generated'])
    .timezone('utc')
    .time({ from: 'now-6h', to: 'now' })
    .refresh('1m')
    // Provisioned from git: a change made in the UI could not be saved back anyway.
    .readonly()
    .tooltip(DashboardCursorSync.Crosshair)
    .withVariable(regionVariable());
  let id = 0;
  for (const row of p.rows) {
    builder.withRow(new RowBuilder(row.title).id(++id));
    for (const panel of row.panels) builder.withPanel(panel.id(++id));
  }
  const built = builder.build() as unknown as Record<string, unknown>;
  return sortKeysDeep({ ...built, id: null }) as DashboardJson;
}

/** The dashboard file as provisioned: two-space JSON with sorted keys and a final newline. */
export function dashboardFileContent(dashboard: DashboardJson): string {
  return `${JSON.stringify(sortKeysDeep(dashboard), null, 2)}\n`;
}

export interface PanelExpression {
  readonly dashboard: string;
  readonly panel: string;
  readonly refId: string;
  readonly expr: string;
}

/** Every PromQL expression of a dashboard, with where it is (for tests and the whole-tree PromQL check). */
export function dashboardExpressionsOf(dashboard: DashboardJson): PanelExpression[] {
  const out: PanelExpression[] = [];
  const visit = (panels: ReadonlyArray<Record<string, any>>) => {
    for (const panel of panels) {
      for (const t of (panel.targets ?? []) as Array<Record<string, any>>) {
        if (typeof t.expr === 'string') out.push({ dashboard: dashboard.uid, panel: String(panel.title), refId: String(t.refId), expr: t.expr });
      }
      if (Array.isArray(panel.panels)) visit(panel.panels);
    }
  };
  visit(dashboard.panels);
  return out;
}
