/**
 * The rendered PrometheusRules on Prometheus' own tool (issue #5, item 6):
 * - every rule group of every region passes `promtool check rules`, exactly as the operator
 *   hands them to Prometheus (one file per PrometheusRule, its spec.groups);
 * - `promtool test rules` with synthetic series proves the alerts fire when they should and
 *   stay silent when they should not: each burn-rate tier at its burn rate (14.4× of a
 *   0.01 % budget = 0.144 % errors) and not below, nothing at 99.995 % success, the short
 *   window ending a page soon after the burn stops; p95 latency, replication lag, pool
 *   saturation, Redis memory, booking drop, payment success and aborted releases at their
 *   thresholds and not at them / below.
 * The unit tests use a copy of the rule files without annotations: promtool compares
 * annotations verbatim, and these tests judge when alerts fire (check rules parses the
 * annotation templates of the real files).
 * Without promtool: skipped locally, failed under CI (.ci/run installs Debian's `prometheus`).
 */
import { isServingRegion } from '../../regions/model';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { stringify } from 'yaml';
import { AlertsChart } from '../../charts/monitoring/alerts-chart';
import { BOOKINGS_METRIC, PAYMENTS_METRIC } from '../../charts/monitoring/alerts';
import { POSTGRES_APP } from '../../charts/lib/monitoring-targets';
import type { RegionPlan } from '../../regions/plan';
import { newApp, objectsOf, regionPlan, shippedPlan } from '../support/charts';
import { tempDir } from '../support/regions';
import { describeWithPrograms } from '../support/real-servers';

/** PrometheusRule name → rule file text (`groups:`), as prometheus-operator writes it. */
function ruleFiles(plan: RegionPlan, withAnnotations = true): Record<string, string> {
  const objects = objectsOf(new AlertsChart(newApp(), { plan })).filter((o) => o.kind === 'PrometheusRule');
  return Object.fromEntries(objects.map((o) => {
    const groups = (o.spec.groups as any[]).map((g) => ({
      ...g,
      rules: (g.rules as any[]).map((r) => (withAnnotations ? r : Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'annotations')))),
    }));
    return [o.metadata.name as string, stringify({ groups })];
  }));
}

/** `name{k="v",...}` as promtool's series notation reads it. */
const series = (name: string, labels: Record<string, string>) => `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}}`;
/** A counter growing by `perStep` each step for `steps` steps. */
const counter = (perStep: number, steps: number) => `0+${perStep}x${steps}`;
/** A constant gauge. */
const gauge = (value: number, steps: number) => `${value}x${steps}`;

interface UnitTest {
  readonly interval: string;
  readonly input_series: { series: string; values: string }[];
  readonly alert_rule_test?: { eval_time: string; alertname: string; exp_alerts: { exp_labels: Record<string, string> }[] }[];
  readonly promql_expr_test?: { expr: string; eval_time: string; exp_samples: { labels: string; value: number }[] }[];
}

describeWithPrograms('PrometheusRules on promtool', ['promtool'], (bins) => {
  const promtool = (args: string[], cwd: string) => {
    const r = spawnSync(bins.promtool!, args, { cwd, encoding: 'utf8', timeout: 120_000 });
    return { status: r.status, output: `${r.stdout}\n${r.stderr}` };
  };
  const plan = regionPlan('us-east-1');
  const app = plan.namespaces.app;
  const data = plan.namespaces.data;

  /** Writes the annotation-free rule files and one test file, runs promtool test rules. */
  function unitTest(ruleFile: string, tests: UnitTest[], evaluationInterval = '1m'): void {
    const dir = tempDir('bb-promtool-');
    for (const [name, text] of Object.entries(ruleFiles(plan, false))) fs.writeFileSync(path.join(dir, `${name}.yaml`), text);
    fs.writeFileSync(path.join(dir, 'test.yaml'), stringify({ rule_files: [`${ruleFile}.yaml`], evaluation_interval: evaluationInterval, tests }));
    const r = promtool(['test', 'rules', 'test.yaml'], dir);
    expect(r.status, r.output).toBe(0);
    fs.rmSync(dir, { recursive: true, force: true });
  }

  it('every rule group of every region passes promtool check rules', () => {
    for (const region of shippedPlan().regions) {
      const dir = tempDir('bb-promtool-');
      const files = ruleFiles(region);
      // A standby region (DR sites only) loads the data-tier rules alone.
      expect(Object.keys(files).sort()).toEqual(isServingRegion(region.region)
        ? ['bookedbarber-business', 'bookedbarber-data-tier', 'bookedbarber-delivery', 'bookedbarber-slo']
        : ['bookedbarber-data-tier']);
      for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, `${name}.yaml`), text);
      const r = promtool(['check', 'rules', ...Object.keys(files).map((n) => `${n}.yaml`)], dir);
      expect(r.status, `${region.region.name}: ${r.output}`).toBe(0);
      expect(r.output).not.toMatch(/FAILED/);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  // ------------------------------------------------------------------ availability SLO

  const slo = plan.global.monitoring.slo;
  const budget = 1 - slo.availability;
  const REQUESTS_PER_MIN = 100_000;
  const istio = (service: string, code: string) => series('istio_requests_total', {
    reporter: 'destination', destination_workload_namespace: app, destination_canonical_service: service, response_code: code,
  });
  /** API traffic for `minutes` minutes at `burn` × the error budget (0.144 % errors at 14.4×). */
  const apiTraffic = (burn: number, minutes: number) => {
    const errors = Math.round(REQUESTS_PER_MIN * budget * burn * 1000) / 1000;
    return [
      { series: istio('api', '200'), values: counter(REQUESTS_PER_MIN - errors, minutes) },
      { series: istio('api', '503'), values: counter(errors, minutes) },
    ];
  };
  const burnAlert = (severity: 'critical' | 'warning') => ({ exp_labels: { service: 'api', severity, team: 'platform' } });
  const apiBurn = (evalTime: string, ...severities: ('critical' | 'warning')[]) => ({
    eval_time: evalTime, alertname: 'ApiErrorBudgetBurn', exp_alerts: severities.map(burnAlert),
  });

  it('pages within 5 minutes at 14.4× burn (0.144 % errors), and opens the ticket too once it lasts', () => {
    unitTest('bookedbarber-slo', [{
      interval: '1m',
      input_series: apiTraffic(14.4, 60),
      promql_expr_test: [{ expr: 'round(1 - service:istio_request_success:ratio_rate1h{service="api"}, 0.000001)', eval_time: '30m', exp_samples: [{ labels: '{service="api"}', value: 0.00144 }] }],
      alert_rule_test: [apiBurn('5m', 'critical'), apiBurn('20m', 'critical', 'warning')],
    }]);
  });

  it('pages at 6× burn (the 6 h / 30 min pair) but not at 5.9×', () => {
    unitTest('bookedbarber-slo', [
      { interval: '1m', input_series: apiTraffic(6, 60), alert_rule_test: [apiBurn('5m', 'critical'), apiBurn('30m', 'critical', 'warning')] },
      { interval: '1m', input_series: apiTraffic(5.9, 60), alert_rule_test: [apiBurn('5m'), apiBurn('30m', 'warning')] },
    ]);
  });

  it('opens a ticket (warning) at 3× and at 1× burn, never a page', () => {
    unitTest('bookedbarber-slo', [
      { interval: '1m', input_series: apiTraffic(3, 60), alert_rule_test: [apiBurn('10m'), apiBurn('30m', 'warning')] },
      { interval: '1m', input_series: apiTraffic(1, 60), alert_rule_test: [apiBurn('10m'), apiBurn('30m', 'warning')] },
    ]);
  });

  it('stays silent below 1× burn and at 99.995 % success', () => {
    unitTest('bookedbarber-slo', [
      { interval: '1m', input_series: apiTraffic(0.9, 90), alert_rule_test: [apiBurn('30m'), apiBurn('90m')] },
      { interval: '1m', input_series: apiTraffic((1 - 0.99995) / budget, 90), alert_rule_test: [apiBurn('30m'), apiBurn('90m')] },
    ]);
  });

  it('ends the page soon after the burn stops, while the long windows still remember it (short window)', () => {
    // 100 % errors for 5 minutes, then none: the 1 h and 6 h windows stay far above the page
    // thresholds, the short windows clear.
    unitTest('bookedbarber-slo', [{
      interval: '1m',
      input_series: [
        { series: istio('api', '200'), values: `0x5 0+${REQUESTS_PER_MIN}x55` },
        { series: istio('api', '503'), values: `0+${REQUESTS_PER_MIN}x5 ${5 * REQUESTS_PER_MIN}x55` },
      ],
      // 45 min: both short windows (5 min, 30 min) are clean again, so the page has ended; the
      // 1 d / 2 h ticket stays open: the budget really was spent. (Not 40 min: promtool, like
      // Prometheus, may evaluate the alert group before the recording group of the same
      // instant, so the SLIs an alert sees can be one evaluation old.)
      alert_rule_test: [apiBurn('6m', 'critical'), apiBurn('45m', 'warning')],
    }]);
  });

  it('pages for the web front end at 14.4× too, and not for the API it does not concern', () => {
    const errors = Math.round(REQUESTS_PER_MIN * budget * 14.4 * 1000) / 1000;
    unitTest('bookedbarber-slo', [{
      interval: '1m',
      input_series: [
        { series: istio('web', '200'), values: counter(REQUESTS_PER_MIN - errors, 30) },
        { series: istio('web', '500'), values: counter(errors, 30) },
        { series: istio('api', '200'), values: counter(REQUESTS_PER_MIN, 30) },
      ],
      alert_rule_test: [
        { eval_time: '5m', alertname: 'WebErrorBudgetBurn', exp_alerts: [{ exp_labels: { service: 'web', severity: 'critical', team: 'platform' } }] },
        apiBurn('5m'),
      ],
    }]);
  });

  it('warns when the SLI of a service is missing (no scrape, renamed metric)', () => {
    unitTest('bookedbarber-slo', [{
      interval: '1m',
      input_series: apiTraffic(0, 30),
      alert_rule_test: [
        { eval_time: '20m', alertname: 'SloMetricsMissing', exp_alerts: [{ exp_labels: { service: 'web', severity: 'warning', team: 'platform' } }] },
      ],
    }]);
  });

  // ------------------------------------------------------------------ latency SLO

  /** API requests per minute by bucket: `under100` of 100 are ≤ 100 ms, the rest ≤ 250 ms. */
  const apiLatency = (under100: number, minutes: number) => {
    const bucket = (le: string, perMin: number) => ({
      series: series('istio_request_duration_milliseconds_bucket', {
        reporter: 'destination', destination_workload_namespace: app, destination_canonical_service: 'api', le,
      }),
      values: counter(perMin, minutes),
    });
    return [bucket('50', 0), bucket('100', under100), bucket('250', 100), bucket('+Inf', 100)];
  };
  const apiLatencyAlert = (evalTime: string, ...severities: ('critical' | 'warning')[]) => ({
    eval_time: evalTime, alertname: 'ApiLatencyP95High', exp_alerts: severities.map((severity) => ({ exp_labels: { service: 'api', severity, team: 'platform' } })),
  });

  it(`pages when the API p95 is above ${slo.latencyP95Ms} ms (94 % of requests under it: p95 = 125 ms), warns after 10 minutes`, () => {
    expect(slo.latencyP95Ms, 'the synthetic buckets assume the shipped 100 ms objective').toBe(100);
    unitTest('bookedbarber-slo', [{
      interval: '1m',
      input_series: apiLatency(94, 40),
      promql_expr_test: [{ expr: 'round(service:istio_request_duration_milliseconds:p95_rate30m{service="api"}, 0.001)', eval_time: '20m', exp_samples: [{ labels: '{service="api"}', value: 125 }] }],
      alert_rule_test: [apiLatencyAlert('6m', 'critical'), apiLatencyAlert('20m', 'critical', 'warning')],
    }]);
  });

  it('stays silent with p95 exactly at the objective (95 % under 100 ms) and below it (96 %)', () => {
    unitTest('bookedbarber-slo', [
      { interval: '1m', input_series: apiLatency(95, 40), alert_rule_test: [apiLatencyAlert('30m')] },
      { interval: '1m', input_series: apiLatency(96, 40), alert_rule_test: [apiLatencyAlert('30m')] },
    ]);
  });

  // ------------------------------------------------------------------ data tier

  const rpo = plan.global.postgres.rpoSeconds;
  const lag = (seconds: number) => ({
    series: series('pg_replication_lag_seconds', { namespace: data, job: POSTGRES_APP, pod: 'bookedbarber-postgres-shard-1-1' }),
    values: gauge(seconds, 10),
  });
  const critical = (extra: Record<string, string>) => ({ exp_labels: { ...extra, severity: 'critical', team: 'platform' } });
  const warning = (extra: Record<string, string>) => ({ exp_labels: { ...extra, severity: 'warning', team: 'platform' } });

  it(`pages when a Postgres replica lags more than the RPO (${rpo} s), not at the RPO`, () => {
    unitTest('bookedbarber-data-tier', [
      {
        interval: '1m',
        input_series: [lag(rpo + 1)],
        alert_rule_test: [{ eval_time: '5m', alertname: 'PostgresReplicationLagHigh', exp_alerts: [critical({ namespace: data, pod: 'bookedbarber-postgres-shard-1-1' })] }],
      },
      { interval: '1m', input_series: [lag(rpo)], alert_rule_test: [{ eval_time: '5m', alertname: 'PostgresReplicationLagHigh', exp_alerts: [] }] },
    ]);
  });

  it('warns when PgBouncer clients keep waiting for a server connection, not when none waits', () => {
    const waiting = (n: number) => ({
      series: series('pgbouncer_pools_client_waiting_connections', { namespace: data, job: plan.names.data.pgbouncerApp, pod: 'bookedbarber-pgbouncer-shard-1-abc', database: 'bookings', user: 'api' }),
      values: gauge(n, 15),
    });
    const pool = { namespace: data, pod: 'bookedbarber-pgbouncer-shard-1-abc', database: 'bookings' };
    unitTest('bookedbarber-data-tier', [
      { interval: '1m', input_series: [waiting(1)], alert_rule_test: [{ eval_time: '3m', alertname: 'PgBouncerPoolSaturated', exp_alerts: [] }, { eval_time: '10m', alertname: 'PgBouncerPoolSaturated', exp_alerts: [warning(pool)] }] },
      { interval: '1m', input_series: [waiting(0)], alert_rule_test: [{ eval_time: '10m', alertname: 'PgBouncerPoolSaturated', exp_alerts: [] }] },
    ]);
  });

  it('warns above 90 % of maxmemory on the sessions tier, not at 90 %, never for the LRU cache', () => {
    // A round maxmemory, so that 90 % of it is exactly 0.9 in floating point.
    const max = 3_000_000_000;
    const redis = (tier: string, usedRatio: number) => {
      const labels = { namespace: data, job: 'redis', pod: `bookedbarber-redis-${tier}-0`, tier };
      return [
        { series: series('redis_memory_used_bytes', labels), values: gauge(Math.round(max * usedRatio), 10) },
        { series: series('redis_memory_max_bytes', labels), values: gauge(max, 10) },
      ];
    };
    unitTest('bookedbarber-data-tier', [
      {
        interval: '1m',
        input_series: [...redis('sessions', 0.91), ...redis('cache', 1)],
        alert_rule_test: [{ eval_time: '8m', alertname: 'RedisMemoryPressure', exp_alerts: [warning({ namespace: data, job: 'redis', pod: 'bookedbarber-redis-sessions-0', tier: 'sessions' })] }],
      },
      { interval: '1m', input_series: redis('sessions', 0.9), alert_rule_test: [{ eval_time: '8m', alertname: 'RedisMemoryPressure', exp_alerts: [] }] },
    ]);
  });

  // ------------------------------------------------------------------ delivery

  it('warns when a release was aborted (Rollout Degraded), not while it is Healthy', () => {
    const rollout = (phase: string) => ({
      series: series('rollout_info', { namespace: app, name: 'bookedbarber-api', strategy: 'canary', traffic_router: 'Istio', phase, job: 'argo-rollouts-metrics' }),
      values: gauge(1, 10),
    });
    unitTest('bookedbarber-delivery', [
      { interval: '1m', input_series: [rollout('Degraded')], alert_rule_test: [{ eval_time: '5m', alertname: 'RolloutAborted', exp_alerts: [warning({ namespace: app, name: 'bookedbarber-api' })] }] },
      { interval: '1m', input_series: [rollout('Healthy')], alert_rule_test: [{ eval_time: '5m', alertname: 'RolloutAborted', exp_alerts: [] }] },
    ]);
  });

  // ------------------------------------------------------------------ business

  const business = (severity: 'critical' | 'warning') => ({ exp_labels: { severity, team: 'business' } });

  it(`pages and tells the business when payment success drops below ${slo.paymentSuccessMin * 100} % (declines excluded)`, () => {
    const payments = (outcome: string, perMin: number) => ({ series: series(PAYMENTS_METRIC, { outcome, job: 'api' }), values: counter(perMin, 30) });
    const payAlert = (evalTime: string, fires: boolean) => ({ eval_time: evalTime, alertname: 'PaymentSuccessLow', exp_alerts: fires ? [business('critical')] : [] });
    unitTest('bookedbarber-business', [
      // 97 % of 100 attempts succeed; 50 declines a minute do not count.
      { interval: '1m', input_series: [payments('success', 97), payments('error', 3), payments('declined', 50)], alert_rule_test: [payAlert('25m', true)] },
      // Every payment fails: there is no success series at all.
      { interval: '1m', input_series: [payments('error', 40)], alert_rule_test: [payAlert('25m', true)] },
      // 99 % succeed.
      { interval: '1m', input_series: [payments('success', 99), payments('error', 1), payments('declined', 50)], alert_rule_test: [payAlert('25m', false)] },
      // One failing payment a minute is too little traffic to judge.
      { interval: '1m', input_series: [payments('error', 1)], alert_rule_test: [payAlert('25m', false)] },
    ]);
  });

  it(`warns the business when bookings fall below ${slo.bookingDropRatio * 100} % of the same hour last week`, () => {
    // 5-minute steps: one week is 2016 steps; then two hours at this week's rate.
    const week = 2016;
    const bookings = (lastWeekPer5m: number, nowPer5m: number) => ({
      series: series(BOOKINGS_METRIC, { job: 'api' }),
      values: `${counter(lastWeekPer5m, week - 1)} ${lastWeekPer5m * week}+${nowPer5m}x24`,
    });
    const drop = (fires: boolean) => ({ eval_time: '170h', alertname: 'BookingRateDrop', exp_alerts: fires ? [business('warning')] : [] });
    unitTest('bookedbarber-business', [
      { interval: '5m', input_series: [bookings(500, 200)], alert_rule_test: [drop(true)] },
      { interval: '5m', input_series: [bookings(500, 300)], alert_rule_test: [drop(false)] },
      // A quiet hour last week (12 bookings): no comparison, even with none now.
      { interval: '5m', input_series: [bookings(1, 0)], alert_rule_test: [drop(false)] },
    ], '5m');
  });
});
