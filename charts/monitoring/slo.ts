/**
 * The availability and latency SLOs of the API and the web front end, on Istio's standard
 * request metrics as the server-side sidecars report them (`reporter="destination"`): the
 * same definition of an error the release gates use (response code 5xx, or 0 when Envoy saw
 * no response at all).
 *
 * Recording rules first compute the 5-minute request and error rates and latency histogram
 * per service, once; every longer window (30m … 3d) is an average of those 5-minute rates
 * over the window. avg(errors)/avg(requests) over a window is the share of failed requests
 * in it (traffic-weighted, unlike an average of ratios), and it reads 2 series × 8640 points
 * for 3 days instead of re-reading three days of raw samples from every sidecar each cycle.
 *
 * Alerts follow the Google SRE workbook, "Alerting on SLOs", multiwindow multi-burn-rate:
 * page when 2 % of a 30-day budget burns within 1 h (14.4×, confirmed over 5 m) or 5 %
 * within 6 h (6×, confirmed over 30 m); ticket (warning) at 10 % within 1 d (3×, 2 h) or 3 d
 * (1×, 6 h). The short window makes an alert stop soon after the burn stops.
 */
import type { RegionPlan } from '../../regions/plan';
import { alertRule, recordingRule, type AlertDefinition, type PromRule, type PromRuleGroup, type Severity } from './rules';
import { eq, promNumber, selector, sumRate, type Matcher } from '../lib/promql';
import { INGRESS_GATEWAY_JOB } from '../lib/monitoring-targets';

export interface BurnRateWindow {
  readonly severity: Severity;
  readonly long: string;
  readonly short: string;
  /** Budget burn rate: 1 spends exactly the budget over the 30-day SLO period. */
  readonly factor: number;
}

/** The workbook's table (30-day SLO period). */
export const BURN_RATE_WINDOWS: readonly BurnRateWindow[] = [
  { severity: 'critical', long: '1h', short: '5m', factor: 14.4 },
  { severity: 'critical', long: '6h', short: '30m', factor: 6 },
  { severity: 'warning', long: '1d', short: '2h', factor: 3 },
  { severity: 'warning', long: '3d', short: '6h', factor: 1 },
];

/** Windows of the success-ratio SLI: every window an alert reads. */
export const SUCCESS_WINDOWS: readonly string[] = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'];
/** Windows of the p95 latency SLI (alerts read 5m and 30m; dashboards the rest). */
const LATENCY_WINDOWS: readonly string[] = ['5m', '30m', '1h', '6h'];

/** Recording rule names (Prometheus convention level:metric:operations). */
export const SLI = {
  requests: 'service:istio_requests:rate5m',
  errors: 'service:istio_request_errors:rate5m',
  success: (window: string) => `service:istio_request_success:ratio_rate${window}`,
  buckets: 'service:istio_request_duration_milliseconds_bucket:rate5m',
  p95: (window: string) => `service:istio_request_duration_milliseconds:p95_rate${window}`,
} as const;

/** A service with SLOs: which Istio requests count, and its latency ceiling. */
interface SloService {
  /** Value of the `service` label on the SLIs and alerts (the app name). */
  readonly service: string;
  /** Prefix of its alert names, e.g. `Api` → ApiErrorBudgetBurn. */
  readonly alertPrefix: string;
  /** Matchers selecting its server-side Istio request metrics. */
  readonly matchers: readonly Matcher[];
  /** @default none — no latency SLI or alert (the edge: its latency is the backends') */
  readonly latencyThresholdMs?: number;
}

/**
 * The API and the web front end. The latency SLO of the config (slo.latencyP95Ms) is the
 * API's, the promise made to franchise apps; the web front end renders pages server-side and
 * is held to the ceiling its own releases are gated on, so the alert never fires on a latency
 * a release would pass.
 */
function sloServices(plan: RegionPlan): SloService[] {
  const { names, namespaces, global } = plan;
  const matchers = (app: string): Matcher[] => eq({ reporter: 'destination', destination_workload_namespace: namespaces.app, destination_canonical_service: app });
  return [
    { service: names.api.app, alertPrefix: 'Api', matchers: matchers(names.api.app), latencyThresholdMs: global.monitoring.slo.latencyP95Ms },
    { service: names.web.app, alertPrefix: 'Web', matchers: matchers(names.web.app), latencyThresholdMs: global.delivery.web.analysis.maxLatencyP95Ms },
    // Every public request as the ingress gateway saw it. The server-side SLIs above go silent
    // when no API or web pod answers (no destination sidecar, no series); the gateway still
    // reports each request, with 503 (no healthy upstream) or 0, so a total outage burns here.
    { service: INGRESS_GATEWAY_JOB, alertPrefix: 'Edge', matchers: edgeMatchers(plan) },
  ];
}

/** Istio's request metrics as the ingress gateway reports them (client side: reporter="source"). */
export function edgeMatchers(plan: RegionPlan): Matcher[] {
  return eq({ reporter: 'source', source_workload_namespace: plan.names.mesh.ingressNamespace });
}

/** Error budget as a ratio of requests: 1 − objective, printed without float noise. */
export function errorBudget(availability: number): number {
  if (!(availability > 0 && availability < 1)) throw new Error(`availability objective ${availability} must be between 0 and 1`);
  return Number((1 - availability).toPrecision(12));
}

function sliRecordingRules(s: SloService): PromRule[] {
  const labels = { service: s.service };
  const own = (record: string) => selector(record, eq(labels));
  const errorMatchers: Matcher[] = [...s.matchers, ['response_code', '=~', '0|5..']];
  const requests = sumRate(selector('istio_requests_total', s.matchers), '5m');
  const rules: PromRule[] = [
    recordingRule({ record: SLI.requests, expr: requests, labels }),
    // No error at all must read as 0 errors, not as no data; but only while there is traffic
    // (`0 * requests`, not `vector(0)`): a zero recorded without requests would dilute the
    // averages of the long windows.
    recordingRule({ record: SLI.errors, expr: `${sumRate(selector('istio_requests_total', errorMatchers), '5m')}\nor\n0 * ${requests}`, labels }),
  ];
  for (const w of SUCCESS_WINDOWS) {
    const expr = w === '5m'
      ? `1 - (${own(SLI.errors)} / ${own(SLI.requests)})`
      : `1 - (avg_over_time(${own(SLI.errors)}[${w}]) / avg_over_time(${own(SLI.requests)}[${w}]))`;
    rules.push(recordingRule({ record: SLI.success(w), expr, labels }));
  }
  if (s.latencyThresholdMs === undefined) return rules;
  rules.push(recordingRule({
    record: SLI.buckets,
    expr: sumRate(selector('istio_request_duration_milliseconds_bucket', s.matchers), '5m', ['le']),
    labels,
  }));
  for (const w of LATENCY_WINDOWS) {
    const buckets = w === '5m' ? own(SLI.buckets) : `avg_over_time(${own(SLI.buckets)}[${w}])`;
    rules.push(recordingRule({ record: SLI.p95(w), expr: `histogram_quantile(0.95, ${buckets})`, labels }));
  }
  return rules;
}

/**
 * `burn(window) >= factor` for a success-ratio SLI. The burn rate is rounded to a thousandth:
 * the ratio of two float rates is off by a few ulps, and a budget burning at exactly 14.4×
 * must page (14.399999999999999 would not).
 */
function burnAtLeast(s: SloService, window: string, factor: number, budget: number): string {
  return `round((1 - ${selector(SLI.success(window), eq({ service: s.service }))}) / ${promNumber(budget)}, 0.001) >= ${promNumber(factor)}`;
}

export interface SloAlertTuning {
  /** How long a page-level burn must hold. @default '2m' */
  readonly pageFor?: string;
  /** How long a ticket-level burn must hold. @default '15m' */
  readonly ticketFor?: string;
  /** How long p95 latency must stay above its ceiling before a page. @default '3m' */
  readonly latencyPageFor?: string;
  /** How long p95 latency over 5 m must stay above its ceiling before a warning. @default '10m' */
  readonly latencyWarnFor?: string;
  /** How long the SLI may be absent (broken scrape, renamed metric) before a warning. @default '15m' */
  readonly missingFor?: string;
  /**
   * How long the ingress gateway may see no request at all before a page. A serving region
   * always has traffic (franchise apps poll, the web front end is public); 10 minutes of none
   * is a broken load balancer, DNS or gateway, not a quiet hour.
   * @default '10m'
   */
  readonly noTrafficFor?: string;
  /** How long an ingress gateway pod must fail its scrape before a page. @default '5m' */
  readonly gatewayDownFor?: string;
}

/**
 * The edge beyond its error budget: no request reaches the gateway at all (load balancer, DNS,
 * every gateway pod down), or a gateway pod is not scraped (its requests are missing from the
 * SLI, so the burn-rate alerts undercount).
 */
function edgeAlerts(plan: RegionPlan, tuning: SloAlertTuning): AlertDefinition[] {
  const requests = sumRate(selector('istio_requests_total', edgeMatchers(plan)), '5m');
  const ns = plan.names.mesh.ingressNamespace;
  return [
    {
      alert: 'EdgeNoTraffic',
      // `or vector(0)`: with every gateway pod gone there is no series at all.
      expr: `(${requests} or vector(0)) == 0`,
      for: tuning.noTrafficFor ?? '10m',
      severity: 'critical',
      team: 'platform',
      summary: 'No request reaches the ingress gateway',
      description:
        `The ingress gateway (${ns}) in {{ $externalLabels.region }} has reported no request at all for 10 minutes: franchises cannot reach the region ` +
        '(public load balancer, DNS, or every gateway pod down), and the availability SLIs have nothing to count. If the region was drained on purpose, silence this.',
      runbook: 'edge-no-traffic',
    },
    {
      alert: 'IngressGatewayTargetDown',
      expr: `${selector('up', eq({ namespace: ns, job: INGRESS_GATEWAY_JOB }))} == 0`,
      for: tuning.gatewayDownFor ?? '5m',
      severity: 'critical',
      team: 'platform',
      summary: 'Prometheus cannot scrape ingress gateway pod {{ $labels.pod }}',
      description:
        'The sidecar agent of ingress gateway pod {{ $labels.pod }} ({{ $externalLabels.region }}) has failed every scrape for minutes: the pod is down or ' +
        'unreachable, and the requests it serves are missing from the edge SLI.',
      runbook: 'scrape-target-down',
    },
  ];
}

function sloAlerts(plan: RegionPlan, s: SloService, tuning: SloAlertTuning): AlertDefinition[] {
  const slo = plan.global.monitoring.slo;
  const budget = errorBudget(slo.availability);
  const objective = `${promNumber(slo.availability * 100)} %`;
  const labels = { service: s.service };
  const burnAlert = (severity: Severity): AlertDefinition => {
    const pairs = BURN_RATE_WINDOWS.filter((w) => w.severity === severity);
    const expr = pairs
      .map((w) => `(\n  ${burnAtLeast(s, w.long, w.factor, budget)}\nand\n  ${burnAtLeast(s, w.short, w.factor, budget)}\n)`)
      .join('\nor\n');
    const spec = pairs.map((w) => `${promNumber(w.factor)}× over ${w.long} and ${w.short}`).join(', or ');
    return {
      alert: `${s.alertPrefix}ErrorBudgetBurn`,
      expr,
      for: severity === 'critical' ? tuning.pageFor ?? '2m' : tuning.ticketFor ?? '15m',
      severity,
      team: 'platform',
      labels,
      summary: `${s.service}: error budget of the ${objective} availability SLO is burning at {{ $value | humanize }}× (${severity === 'critical' ? 'page' : 'ticket'})`,
      description:
        `Requests to ${s.service} in {{ $externalLabels.region }} fail (5xx or no response) fast enough to spend the 30-day error budget ` +
        `of the ${objective} objective at {{ $value | humanize }}× the sustainable rate (threshold: ${spec}). ` +
        (severity === 'critical' ? 'Franchises are failing to book now.' : 'The budget will be gone before the period ends if this continues.'),
      // The edge's own page covers the gateway's failures; error-budget-burn walks API/web releases.
      runbook: s.alertPrefix === 'Edge' ? 'edge-no-traffic' : 'error-budget-burn',
    };
  };
  const ceiling = promNumber(s.latencyThresholdMs ?? 0);
  const p95 = (w: string) => selector(SLI.p95(w), eq(labels));
  const latencyAlert = (severity: Severity): AlertDefinition => ({
    alert: `${s.alertPrefix}LatencyP95High`,
    expr: severity === 'critical' ? `${p95('5m')} > ${ceiling}\nand\n${p95('30m')} > ${ceiling}` : `${p95('5m')} > ${ceiling}`,
    for: severity === 'critical' ? tuning.latencyPageFor ?? '3m' : tuning.latencyWarnFor ?? '10m',
    severity,
    team: 'platform',
    labels,
    summary: `${s.service}: p95 latency {{ $value | humanize }} ms is above ${ceiling} ms`,
    description: severity === 'critical'
      ? `The 95th percentile of ${s.service} request latency in {{ $externalLabels.region }} is above its ${ceiling} ms objective over both the last 5 and 30 minutes.`
      : `The 95th percentile of ${s.service} request latency in {{ $externalLabels.region }} has been above ${ceiling} ms over 5-minute windows for a while.`,
    runbook: 'latency-p95-high',
  });
  return [
    burnAlert('critical'),
    burnAlert('warning'),
    ...(s.latencyThresholdMs === undefined ? [] : [latencyAlert('critical'), latencyAlert('warning')]),
    {
      alert: 'SloMetricsMissing',
      expr: `absent(${selector(SLI.requests, eq(labels))})`,
      for: tuning.missingFor ?? '15m',
      severity: 'warning',
      team: 'platform',
      labels,
      summary: `${s.service}: no request metrics, the SLO alerts of ${s.service} cannot fire`,
      description:
        `Prometheus has no istio_requests_total series for ${s.service} in {{ $externalLabels.region }}: the sidecars are not scraped, ` +
        'the metric or its labels changed, or the service gets no traffic. Until this is fixed its availability and latency alerts are blind.',
      runbook: 'slo-metrics-missing',
    },
  ];
}

/** The SLI recording group and the SLO alert group. */
export function sloRuleGroups(plan: RegionPlan, tuning: SloAlertTuning = {}): PromRuleGroup[] {
  const services = sloServices(plan);
  return [
    // 30 s like the alert group, so a page never waits for a stale SLI.
    { name: 'slo-sli', interval: '30s', rules: services.flatMap(sliRecordingRules) },
    { name: 'slo-alerts', interval: '30s', rules: [...services.flatMap((s) => sloAlerts(plan, s, tuning)), ...edgeAlerts(plan, tuning)].map((a) => alertRule(plan, a)) },
  ];
}
