/**
 * The rendered PrometheusRules on Prometheus' own tool (issue #5, item 6):
 * - every rule group of every region passes `promtool check rules`, exactly as the operator
 *   hands them to Prometheus (one file per PrometheusRule, its spec.groups);
 * - `promtool test rules` with synthetic series proves the alerts fire when they should and
 *   stay silent when they should not: each burn-rate tier at its burn rate (14.4× of a
 *   0.01 % budget = 0.144 % errors) and not below, nothing at 99.995 % success, the short
 *   window ending a page soon after the burn stops; p95 latency, replication lag, pool
 *   saturation, Redis memory, booking drop, payment success and aborted or blocked releases at
 *   their thresholds and not at them / below; the alerting path and the tracing pipeline;
 * - issue #12 item 4: a total outage seen only at the ingress gateway (no destination series),
 *   no traffic at all, WAL archiving failing and behind the RPO (not when idle, not on a
 *   replica), a shard site without a primary, a Redis tier without a master or Sentinel
 *   quorum, data-tier, gateway and cluster-metrics targets down, mesh CA certificate expiry.
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
import { INGRESS_GATEWAY_JOB, POSTGRES_APP, POSTGRES_SCOPE_LABEL } from '../../charts/lib/monitoring-targets';
import { REVISION_LABEL } from '../../charts/lib/http-service';
import { postgresNames } from '../../charts/postgres/names';
import { WebChart } from '../../charts/web/chart';
import type { RegionPlan } from '../../regions/plan';
import { newApp, objectsOf, regionPlan, shippedPlan } from '../support/charts';
import { tempDir } from '../support/regions';
import { describeWithPrograms } from '../support/real-servers';

/** A PrometheusRule's spec.groups, as prometheus-operator writes them to a rule file. */
type RuleGroups = { name: string; rules: Record<string, unknown>[] }[];

/** PrometheusRule name → its groups (without the rules' annotations when `withAnnotations` is false). */
function ruleGroups(plan: RegionPlan, withAnnotations = true): Record<string, RuleGroups> {
  const objects = objectsOf(new AlertsChart(newApp(), { plan })).filter((o) => o.kind === 'PrometheusRule');
  return Object.fromEntries(objects.map((o) => {
    const groups = (o.spec.groups as any[]).map((g) => ({
      ...g,
      rules: (g.rules as any[]).map((r) => (withAnnotations ? r : Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'annotations')))),
    }));
    return [o.metadata.name as string, groups];
  }));
}

/** PrometheusRule name → rule file text (`groups:`), as prometheus-operator writes it. */
function ruleFiles(plan: RegionPlan, withAnnotations = true): Record<string, string> {
  return Object.fromEntries(Object.entries(ruleGroups(plan, withAnnotations)).map(([name, groups]) => [name, stringify({ groups })]));
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

  /** The annotation-free rule groups, rendered once for every unit test below (the plan does not change). */
  let unitRuleGroups: Record<string, RuleGroups> | undefined;

  /**
   * Runs promtool test rules on `ruleFile` (annotation-free) with these tests. The file keeps
   * every recording rule of every group (in order: what the alerts and promql_expr_tests read)
   * and, of its alerting rules, those the tests name: promtool evaluates every rule of the file
   * at every step, and the alerts a test does not name are never compared (several fire on
   * absent series all along, which costs most of the CPU over the long tests). No rule reads
   * another alert's ALERTS series; `check rules` above still judges the whole files.
   */
  function unitTest(ruleFile: string, tests: UnitTest[], evaluationInterval = '1m'): void {
    const dir = tempDir('bb-promtool-');
    unitRuleGroups ??= ruleGroups(plan, false);
    const groups = unitRuleGroups[ruleFile];
    expect(groups, `no PrometheusRule ${ruleFile}`).toBeDefined();
    const named = new Set(tests.flatMap((t) => (t.alert_rule_test ?? []).map((a) => a.alertname)));
    const alerts = new Set(groups!.flatMap((g) => g.rules.map((r) => r.alert as string | undefined)).filter((a) => a !== undefined));
    for (const alert of named) expect(alerts.has(alert), `${ruleFile} has no alert ${alert}`).toBe(true);
    const kept = groups!.map((g) => ({ ...g, rules: g.rules.filter((r) => r.alert === undefined || named.has(r.alert as string)) }));
    fs.writeFileSync(path.join(dir, `${ruleFile}.yaml`), stringify({ groups: kept }));
    fs.writeFileSync(path.join(dir, 'test.yaml'), stringify({ rule_files: [`${ruleFile}.yaml`], evaluation_interval: evaluationInterval, tests }));
    const r = promtool(['test', 'rules', 'test.yaml'], dir);
    expect(r.status, r.output).toBe(0);
    fs.rmSync(dir, { recursive: true, force: true });
  }

  it('every rule group of every region passes promtool check rules', () => {
    for (const region of shippedPlan().regions) {
      const dir = tempDir('bb-promtool-');
      const files = ruleFiles(region);
      // A standby region (DR sites only) loads the data-tier and platform rules alone.
      expect(Object.keys(files).sort()).toEqual(isServingRegion(region.region)
        ? ['bookedbarber-business', 'bookedbarber-data-tier', 'bookedbarber-delivery', 'bookedbarber-platform', 'bookedbarber-slo']
        : ['bookedbarber-data-tier', 'bookedbarber-platform']);
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
        { eval_time: '20m', alertname: 'SloMetricsMissing', exp_alerts: ['web', INGRESS_GATEWAY_JOB].map((service) => ({ exp_labels: { service, severity: 'warning', team: 'platform' } })) },
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

  // ------------------------------------------------------------------ edge (ingress gateway)

  const ingress = plan.names.mesh.ingressNamespace;
  const edge = (code: string) => series('istio_requests_total', {
    reporter: 'source', source_workload: 'istio-ingressgateway', source_workload_namespace: ingress, destination_service_name: 'bookedbarber-api', response_code: code,
  });
  const edgeBurn = (evalTime: string, ...severities: ('critical' | 'warning')[]) => ({
    eval_time: evalTime, alertname: 'EdgeErrorBudgetBurn', exp_alerts: severities.map((severity) => ({ exp_labels: { service: INGRESS_GATEWAY_JOB, severity, team: 'platform' } })),
  });
  const page = (extra: Record<string, string>) => ({ exp_labels: { ...extra, severity: 'critical', team: 'platform' } });
  const ticket = (extra: Record<string, string>) => ({ exp_labels: { ...extra, severity: 'warning', team: 'platform' } });

  it('pages on a total outage that the server-side SLIs cannot see: every request 503 at the gateway, no API sidecar reporting', () => {
    unitTest('bookedbarber-slo', [
      {
        interval: '1m',
        // No API or web pod answers: the gateway returns 503 (no healthy upstream) for everything,
        // and there is no reporter="destination" series at all.
        input_series: [{ series: edge('503'), values: counter(REQUESTS_PER_MIN, 30) }],
        alert_rule_test: [edgeBurn('5m', 'critical'), apiBurn('5m'), apiBurn('20m')],
      },
      {
        interval: '1m',
        // 99.995 % success at the edge: silent.
        input_series: [
          { series: edge('200'), values: counter(REQUESTS_PER_MIN - 5, 90) },
          { series: edge('503'), values: counter(5, 90) },
        ],
        alert_rule_test: [edgeBurn('30m'), edgeBurn('90m')],
      },
    ]);
  });

  it('pages when no request reaches the gateway for 10 minutes (flat counter, or no gateway series at all), not while traffic flows', () => {
    const noTraffic = (evalTime: string, fires: boolean) => ({ eval_time: evalTime, alertname: 'EdgeNoTraffic', exp_alerts: fires ? [page({})] : [] });
    unitTest('bookedbarber-slo', [
      // Traffic stops at minute 10: the 5-minute rate is 0 from minute 15, the page 10 minutes later.
      { interval: '1m', input_series: [{ series: edge('200'), values: `0+${REQUESTS_PER_MIN}x10 ${10 * REQUESTS_PER_MIN}x30` }], alert_rule_test: [noTraffic('20m', false), noTraffic('27m', true)] },
      // Every gateway pod gone: not a single series.
      { interval: '1m', input_series: [{ series: series('up', { job: 'prometheus' }), values: gauge(1, 20) }], alert_rule_test: [noTraffic('5m', false), noTraffic('15m', true)] },
      { interval: '1m', input_series: [{ series: edge('200'), values: counter(REQUESTS_PER_MIN, 40) }], alert_rule_test: [noTraffic('35m', false)] },
    ]);
  });

  it('pages when an ingress gateway pod cannot be scraped for 5 minutes', () => {
    const labels = { namespace: ingress, job: INGRESS_GATEWAY_JOB, pod: 'istio-ingressgateway-abc', instance: '10.0.0.9:15020' };
    const up = (v: number) => ({ series: series('up', labels), values: gauge(v, 10) });
    unitTest('bookedbarber-slo', [
      { interval: '1m', input_series: [up(0)], alert_rule_test: [{ eval_time: '3m', alertname: 'IngressGatewayTargetDown', exp_alerts: [] }, { eval_time: '6m', alertname: 'IngressGatewayTargetDown', exp_alerts: [page(labels)] }] },
      { interval: '1m', input_series: [up(1)], alert_rule_test: [{ eval_time: '8m', alertname: 'IngressGatewayTargetDown', exp_alerts: [] }] },
    ]);
  });

  // ------------------------------------------------------------------ data tier: availability

  const activeScope = postgresNames(plan, plan.hostedShards.find((h) => h.active)!.config.id).scope;
  const pgPod = `${activeScope}-0`;
  const pgSeries = (metric: string, pod: string, values: string, extra: Record<string, string> = {}) =>
    ({ series: series(metric, { namespace: data, job: POSTGRES_APP, pod, [POSTGRES_SCOPE_LABEL]: activeScope, server: 'localhost:5432', ...extra }), values });
  const pgAlert = (pod: string) => page({ namespace: data, pod, [POSTGRES_SCOPE_LABEL]: activeScope });

  it('pages when WAL archiving keeps failing without a success, not on a failure the archiver recovered from', () => {
    const failing = (evalTime: string, fires: boolean) => ({ eval_time: evalTime, alertname: 'PostgresWalArchiveFailing', exp_alerts: fires ? [pgAlert(pgPod)] : [] });
    unitTest('bookedbarber-data-tier', [
      // One failed attempt a minute, nothing archived.
      { interval: '1m', input_series: [pgSeries('pg_stat_archiver_failed_count', pgPod, counter(1, 20)), pgSeries('pg_stat_archiver_archived_count', pgPod, gauge(40, 20))],
        alert_rule_test: [failing('4m', false), failing('10m', true)] },
      // Failures now and then, but segments keep being archived (a retried upload that succeeded).
      { interval: '1m', input_series: [pgSeries('pg_stat_archiver_failed_count', pgPod, counter(1, 20)), pgSeries('pg_stat_archiver_archived_count', pgPod, counter(3, 20))],
        alert_rule_test: [failing('10m', false), failing('20m', false)] },
      { interval: '1m', input_series: [pgSeries('pg_stat_archiver_failed_count', pgPod, gauge(2, 20)), pgSeries('pg_stat_archiver_archived_count', pgPod, counter(3, 20))],
        alert_rule_test: [failing('15m', false)] },
    ]);
  });

  it(`pages when a site's newest base backup is older than postgres.baseBackupMaxAgeHours (${plan.global.postgres.baseBackupMaxAgeHours} h) or it has none; not while the leader backs up daily`, () => {
    const maxAgeHours = plan.global.postgres.baseBackupMaxAgeHours;
    const stale = (evalTime: string, fires: boolean) => ({ eval_time: evalTime, alertname: 'PostgresBaseBackupStale',
      exp_alerts: fires ? [page({ namespace: data, [POSTGRES_SCOPE_LABEL]: activeScope })] : [] });
    // 5-minute steps and evaluations (as for the booking drop below): the thresholds are hours
    // apart and the `for` is 30 minutes, and promtool evaluates every rule of the group at every
    // step up to the last eval_time (1-minute steps over ~40 h cost ~9 s of CPU).
    const step = 5;
    const steps = ((maxAgeHours + 10) * 60) / step;
    const perDay = 1440 / step;
    // The leader backs up at 01:00 every day (epoch seconds written), a replica never did (0).
    const daily = Array.from({ length: Math.ceil(steps / perDay) + 1 }, (_, day) => `${day * 86400 + 3600}x${perDay - 1}`).join(' ');
    unitTest('bookedbarber-data-tier', [
      // No backup ever (a new site, or the function missing): 0 on every member.
      { interval: `${step}m`, input_series: [pgSeries('pg_base_backup_last_success_timestamp_seconds', pgPod, gauge(0, steps)), pgSeries('pg_base_backup_last_success_timestamp_seconds', `${activeScope}-1`, gauge(0, steps))],
        alert_rule_test: [stale(`${maxAgeHours - 1}h`, false), stale(`${maxAgeHours + 1}h`, true)] },
      // The leader's last backup at 01:00 on day 0 and none after: stale from 01:00 + max age (+ the 30 min for).
      { interval: `${step}m`, input_series: [pgSeries('pg_base_backup_last_success_timestamp_seconds', pgPod, gauge(3600, steps))],
        alert_rule_test: [stale(`${maxAgeHours}h`, false), stale(`${maxAgeHours + 2}h`, true)] },
      { interval: `${step}m`, input_series: [pgSeries('pg_base_backup_last_success_timestamp_seconds', pgPod, daily), pgSeries('pg_base_backup_last_success_timestamp_seconds', `${activeScope}-1`, gauge(0, steps))],
        alert_rule_test: [stale(`${maxAgeHours + 2}h`, false), stale(`${maxAgeHours + 8}h`, false)] },
    ], `${step}m`);
  });

  it(`pages when the primary writes but its last archived segment is older than the RPO (${plan.global.postgres.rpoSeconds} s); not when idle, not on a replica, not while archiving keeps up`, () => {
    const lagAlert = (evalTime: string, fires: boolean) => ({ eval_time: evalTime, alertname: 'PostgresWalArchiveLagHigh', exp_alerts: fires ? [pgAlert(pgPod)] : [] });
    const db = { datname: 'bookings', datid: '16384' };
    const writes = (perMin: number) => pgSeries('pg_stat_database_tup_inserted', pgPod, counter(perMin, 20), db);
    const others = ['updated', 'deleted'].map((k) => pgSeries(`pg_stat_database_tup_${k}`, pgPod, gauge(0, 20), db));
    const replica = (v: number) => pgSeries('pg_replication_is_replica', pgPod, gauge(v, 20));
    // Stuck archiver: the age grows by 60 s a minute.
    const stuck = pgSeries('pg_stat_archiver_last_archive_age', pgPod, '0+60x20');
    unitTest('bookedbarber-data-tier', [
      { interval: '1m', input_series: [stuck, replica(0), writes(500), ...others], alert_rule_test: [lagAlert('2m', false), lagAlert('5m', true)] },
      // Idle primary: nothing new to lose, however old the last segment.
      { interval: '1m', input_series: [stuck, replica(0), writes(0), ...others], alert_rule_test: [lagAlert('10m', false)] },
      // A replica archives only what it receives: its age says nothing about the RPO, never judged
      // here (PostgresWalArchiveFailing covers a replica whose archiver fails).
      { interval: '1m', input_series: [stuck, replica(1), writes(500), ...others], alert_rule_test: [lagAlert('10m', false)] },
      // Healthy: archive_timeout switches segments, the age stays within the RPO.
      { interval: '1m', input_series: [pgSeries('pg_stat_archiver_last_archive_age', pgPod, '20 5 15 20 10 5 15 20 10 5 15 20 10 5 15'), replica(0), writes(500), ...others],
        alert_rule_test: [lagAlert('10m', false)] },
    ]);
  });

  it('pages when no member of an active shard site runs as primary, including when none is scraped; not while one does', () => {
    const isReplica = (pod: string, v: number) => pgSeries('pg_replication_is_replica', pod, gauge(v, 10));
    const noPrimary = (evalTime: string, fires: boolean) => ({
      eval_time: evalTime, alertname: 'PostgresShardWithoutPrimary', exp_alerts: fires ? [page({ [POSTGRES_SCOPE_LABEL]: activeScope })] : [],
    });
    unitTest('bookedbarber-data-tier', [
      { interval: '1m', input_series: [isReplica(`${activeScope}-0`, 1), isReplica(`${activeScope}-1`, 1)], alert_rule_test: [noPrimary('3m', true)] },
      { interval: '1m', input_series: [{ series: series('up', { job: 'prometheus' }), values: gauge(1, 10) }], alert_rule_test: [noPrimary('3m', true)] },
      { interval: '1m', input_series: [isReplica(`${activeScope}-0`, 0), isReplica(`${activeScope}-1`, 1)], alert_rule_test: [noPrimary('5m', false)] },
    ]);
  });

  const redisApp = plan.names.data.redisApp;
  const redisInfo = (tier: string, ordinal: number, role: string) => ({
    series: series('redis_instance_info', { namespace: data, job: redisApp, pod: `bookedbarber-redis-${tier}-${ordinal}`, tier, role, redis_version: '7.2.5', redis_mode: 'standalone' }),
    values: gauge(1, 10),
  });

  it('pages for a Redis tier (Sentinel-managed here) whose servers are all replicas, not for tiers with a master', () => {
    const noMaster = (tiers: string[]) => ({ eval_time: '5m', alertname: 'RedisTierWithoutMaster', exp_alerts: tiers.map((tier) => page({ namespace: data, job: redisApp, tier, role: 'master' })) });
    unitTest('bookedbarber-data-tier', [
      { interval: '1m', input_series: [redisInfo('cache', 0, 'master'), redisInfo('cache', 1, 'slave'), redisInfo('sessions', 0, 'slave'), redisInfo('sessions', 1, 'slave'), redisInfo('rate-limit', 2, 'master')],
        alert_rule_test: [noMaster(['sessions'])] },
      { interval: '1m', input_series: [redisInfo('cache', 0, 'master'), redisInfo('sessions', 1, 'master'), redisInfo('rate-limit', 2, 'master')], alert_rule_test: [noMaster([])] },
    ]);
  });

  it('pages when no Sentinel of a tier passes CKQUORUM (or none is scraped), not while one does', () => {
    const ckquorum = (tier: string, ordinal: number, v: number) => ({
      series: series('redis_sentinel_master_ckquorum_status', { namespace: data, job: redisApp, pod: `bookedbarber-redis-${tier}-sentinel-${ordinal}`, tier, master_name: tier, message: v ? 'OK 3 usable Sentinels' : 'NOQUORUM 1 usable Sentinels' }),
      values: gauge(v, 10),
    });
    const lost = (tiers: string[]) => ({ eval_time: '5m', alertname: 'RedisSentinelQuorumLost', exp_alerts: tiers.map((tier) => page({ tier })) });
    unitTest('bookedbarber-data-tier', [
      { interval: '1m', input_series: [ckquorum('cache', 0, 1), ckquorum('cache', 1, 0), ckquorum('sessions', 0, 0), ckquorum('sessions', 1, 0)], alert_rule_test: [lost(['rate-limit', 'sessions'])] },
      { interval: '1m', input_series: [ckquorum('cache', 0, 1), ckquorum('sessions', 0, 1), ckquorum('rate-limit', 0, 1)], alert_rule_test: [lost([])] },
    ]);
  });

  it('pages when a data-tier scrape target is down for 5 minutes, or its exporter is (the sidecar agent still answers), not while it is read', () => {
    const labels = { namespace: data, job: plan.names.data.pgbouncerApp, pod: 'bookedbarber-pgbouncer-shard-1-abc', instance: '10.0.1.7:15020' };
    const up = (v: number) => ({ series: series('up', labels), values: gauge(v, 20) });
    // The merged endpoint answers 200 with Envoy's metrics and counts the application scrape that failed.
    const agent = (failedPerScrape: number) => [
      { series: series('istio_agent_scrapes_total', labels), values: counter(2, 20) },
      { series: series('istio_agent_scrape_failures_total', { ...labels, type: 'application' }), values: counter(2 * failedPerScrape, 20) },
    ];
    unitTest('bookedbarber-data-tier', [
      { interval: '1m', input_series: [up(0)], alert_rule_test: [{ eval_time: '3m', alertname: 'DataTierTargetDown', exp_alerts: [] }, { eval_time: '7m', alertname: 'DataTierTargetDown', exp_alerts: [page(labels)] }] },
      { interval: '1m', input_series: [up(1), ...agent(1)], alert_rule_test: [{ eval_time: '15m', alertname: 'DataTierTargetDown', exp_alerts: [page(labels)] }] },
      { interval: '1m', input_series: [up(1), ...agent(0)], alert_rule_test: [{ eval_time: '15m', alertname: 'DataTierTargetDown', exp_alerts: [] }] },
    ]);
  });

  it('pages when an exporter answers but the Postgres, Redis or PgBouncer it watches is down (pg_up, redis_up, pgbouncer_up 0), not while it is up', () => {
    const target = (metric: string, job: string, pod: string, v: number) => ({ series: series(metric, { namespace: data, job, pod, instance: '10.0.1.8:15020' }), values: gauge(v, 20) });
    const down = (metric: string, job: string, pod: string) => ({
      interval: '1m',
      input_series: [target(metric, job, pod, 0)],
      alert_rule_test: [{ eval_time: '7m', alertname: 'DataTierTargetDown', exp_alerts: [page({ namespace: data, job, pod, instance: '10.0.1.8:15020' })] }],
    });
    unitTest('bookedbarber-data-tier', [
      down('pg_up', 'postgres', 'bookedbarber-postgres-shard-1-2'),
      down('redis_up', plan.names.data.redisApp, 'bookedbarber-redis-sessions-1'),
      down('pgbouncer_up', plan.names.data.pgbouncerApp, 'bookedbarber-pgbouncer-shard-1-abc'),
      { interval: '1m', input_series: [target('pg_up', 'postgres', 'bookedbarber-postgres-shard-1-2', 1)], alert_rule_test: [{ eval_time: '15m', alertname: 'DataTierTargetDown', exp_alerts: [] }] },
    ]);
  });

  // ------------------------------------------------------------------ platform

  it('warns 30 days before a mesh CA certificate expires and pages at 7 days, per certificate; silent at 90 days', () => {
    const day = 86400;
    const expiry = (cert: 'root_cert' | 'cert_chain', inDays: number) => ({
      series: series(`citadel_server_${cert}_expiry_timestamp`, { job: 'istiod', namespace: 'istio-system', pod: 'istiod-abc', instance: '10.0.2.3:15014' }),
      values: gauge(inDays * day, 30),
    });
    const cert = (certificate: string, severity: 'critical' | 'warning') => ({ exp_labels: { certificate, severity, team: 'platform' } });
    unitTest('bookedbarber-platform', [
      {
        interval: '1m',
        input_series: [expiry('root_cert', 20), expiry('cert_chain', 5)],
        alert_rule_test: [
          { eval_time: '15m', alertname: 'MeshCertificateExpiring', exp_alerts: [cert('intermediate', 'critical'), cert('intermediate', 'warning'), cert('root', 'warning')] },
        ],
      },
      { interval: '1m', input_series: [expiry('root_cert', 3650), expiry('cert_chain', 90)], alert_rule_test: [{ eval_time: '15m', alertname: 'MeshCertificateExpiring', exp_alerts: [] }] },
    ]);
  });

  it('warns when kube-state-metrics, a kubelet or istiod cannot be scraped for 15 minutes', () => {
    const labels = { job: 'kubelet', namespace: 'kube-system', instance: '10.0.3.4:10250', node: 'ip-10-0-3-4' };
    unitTest('bookedbarber-platform', [{
      interval: '1m',
      input_series: [{ series: series('up', labels), values: gauge(0, 20) }],
      alert_rule_test: [{ eval_time: '10m', alertname: 'ClusterMetricsTargetDown', exp_alerts: [] }, { eval_time: '17m', alertname: 'ClusterMetricsTargetDown', exp_alerts: [ticket(labels)] }],
    }]);
  });

  // ------------------------------------------------------------------ the alerting path

  describeAlertingPath();

  function describeAlertingPath(): void {
    const mon = plan.namespaces.monitoring;
    const critical = (extra: Record<string, string>) => ({ exp_labels: { ...extra, severity: 'critical', team: 'platform' } });
    const prom = { namespace: mon, pod: 'prometheus-bookedbarber-0', job: 'prometheus-operated' };
    const am = { namespace: mon, pod: 'alertmanager-bookedbarber-0', job: 'alertmanager-operated' };

    it('pages when a rule group keeps failing to evaluate, not after a single failure', () => {
      const failures = (values: string) => ({ series: series('prometheus_rule_evaluation_failures_total', { ...prom, rule_group: 'slo' }), values });
      unitTest('bookedbarber-platform', [
        { interval: '1m', input_series: [failures(counter(1, 40))], alert_rule_test: [{ eval_time: '30m', alertname: 'PrometheusRuleEvaluationFailing', exp_alerts: [critical({ namespace: mon, pod: prom.pod, rule_group: 'slo' })] }] },
        // One failure at minute 2, then none: over by the time `for` would have passed.
        { interval: '1m', input_series: [failures('0 0 1x40')], alert_rule_test: [{ eval_time: '30m', alertname: 'PrometheusRuleEvaluationFailing', exp_alerts: [] }] },
      ]);
    });

    it('pages when a Prometheus fails to send alerts (2 % of sends) or discovers no Alertmanager; silent at 0.5 %', () => {
      const sends = (errorsPerStep: number, discovered: number) => [
        { series: series('prometheus_notifications_sent_total', { ...prom, alertmanager: 'http://10.0.4.1:9093/api/v2/alerts' }), values: counter(100, 40) },
        { series: series('prometheus_notifications_errors_total', { ...prom, alertmanager: 'http://10.0.4.1:9093/api/v2/alerts' }), values: counter(errorsPerStep, 40) },
        { series: series('prometheus_notifications_alertmanagers_discovered', prom), values: gauge(discovered, 40) },
      ];
      const test = (input: ReturnType<typeof sends>, fired: boolean) => ({
        interval: '1m', input_series: input,
        alert_rule_test: [{ eval_time: '30m', alertname: 'PrometheusAlertmanagerUnreachable', exp_alerts: fired ? [critical({ namespace: mon, pod: prom.pod })] : [] }],
      });
      unitTest('bookedbarber-platform', [test(sends(2, 2), true), test(sends(0, 0), true), test(sends(0.5, 2), false), test(sends(0, 2), false)]);
    });

    it('pages when one receiver integration fails (2 % of its notifications), naming it; silent while it delivers', () => {
      const notify = (integration: string, failedPerStep: number) => [
        { series: series('alertmanager_notifications_total', { ...am, integration }), values: counter(50, 40) },
        { series: series('alertmanager_notifications_failed_total', { ...am, integration, reason: 'clientError' }), values: counter(failedPerStep, 40) },
      ];
      unitTest('bookedbarber-platform', [{
        interval: '1m',
        input_series: [...notify('pagerduty', 1), ...notify('slack', 0)],
        alert_rule_test: [{ eval_time: '30m', alertname: 'AlertmanagerNotificationsFailing', exp_alerts: [critical({ namespace: mon, integration: 'pagerduty' })] }],
      }]);
    });

    it('warns when a tracing tier keeps losing spans (failed after retries, or refused), per tier; silent while none is lost', () => {
      const tier = (job: string) => ({ namespace: mon, pod: `${job}-0`, job });
      const lost = (failedPerStep: number, refusedPerStep: number) => [
        { series: series('otelcol_exporter_send_failed_spans', { ...tier('otel-sampler'), exporter: 'otlp/jaeger' }), values: counter(failedPerStep, 40) },
        { series: series('otelcol_receiver_refused_spans', { ...tier('otel-collector'), receiver: 'otlp', transport: 'grpc' }), values: counter(refusedPerStep, 40) },
      ];
      const test = (input: ReturnType<typeof lost>, jobs: string[]) => ({
        interval: '1m', input_series: input,
        alert_rule_test: [{ eval_time: '30m', alertname: 'TracingSpansLost', exp_alerts: jobs.map((job) => warning({ namespace: mon, job })) }],
      });
      unitTest('bookedbarber-platform', [test(lost(30, 0), ['otel-sampler']), test(lost(0, 30), ['otel-collector']), test(lost(0, 0), [])]);
      // A full sending queue drops spans before any send (the gateway's per-sampler queues).
      const queueFull = [{ series: series('otelcol_exporter_enqueue_failed_spans', { ...tier('otel-collector'), exporter: 'loadbalancing' }), values: counter(30, 40) }];
      unitTest('bookedbarber-platform', [test(queueFull as ReturnType<typeof lost>, ['otel-collector'])]);
    });

    it('warns when a collector or Jaeger pod cannot be read: gone, or its own endpoint failing behind a live sidecar agent', () => {
      const pod = { namespace: mon, job: 'otel-sampler', pod: 'otel-sampler-collector-abc', instance: '10.0.5.9:15020' };
      const up = (v: number) => ({ series: series('up', pod), values: gauge(v, 40) });
      const agent = (failedPerScrape: number) => [
        { series: series('istio_agent_scrapes_total', pod), values: counter(2, 40) },
        { series: series('istio_agent_scrape_failures_total', { ...pod, type: 'application' }), values: counter(2 * failedPerScrape, 40) },
      ];
      const test = (input: Array<{ series: string; values: string }>, alerts: Array<{ exp_labels: Record<string, string> }>) => ({
        interval: '1m', input_series: input, alert_rule_test: [{ eval_time: '30m', alertname: 'TracingTargetDown', exp_alerts: alerts }],
      });
      unitTest('bookedbarber-platform', [test([up(0)], [warning(pod)]), test([up(1), ...agent(1)], [warning(pod)]), test([up(1), ...agent(0)], [])]);
    });

    it('warns when Prometheus or Alertmanager rejected its new configuration, not while the last reload succeeded', () => {
      const reload = (metric: string, labels: Record<string, string>, value: number) => ({ series: series(metric, labels), values: gauge(value, 40) });
      const test = (value: number, fired: boolean) => ({
        interval: '1m',
        input_series: [reload('prometheus_config_last_reload_successful', prom, value), reload('alertmanager_config_last_reload_successful', am, value)],
        alert_rule_test: [{
          eval_time: '30m', alertname: 'MonitoringConfigReloadFailed',
          exp_alerts: fired ? [warning({ namespace: mon, pod: prom.pod }), warning({ namespace: mon, pod: am.pod })] : [],
        }],
      });
      unitTest('bookedbarber-platform', [test(0, true), test(1, false)]);
    });
  }

  // ------------------------------------------------------------------ delivery

  it('warns when a release was aborted or timed out (the controller phases Abort, Timeout), and when the controller cannot act (Error, InvalidSpec); silent while it progresses or completed', () => {
    const rollout = (phase: string) => ({
      series: series('rollout_info', { namespace: app, name: 'bookedbarber-api', strategy: 'canary', traffic_router: 'Istio', phase, job: 'argo-rollouts-metrics' }),
      values: gauge(1, 10),
    });
    const fires = (alertname: string, phase: string, fired: boolean) => ({
      interval: '1m',
      input_series: [rollout(phase)],
      alert_rule_test: [{ eval_time: '8m', alertname, exp_alerts: fired ? [warning({ namespace: app, name: 'bookedbarber-api' })] : [] }],
    });
    unitTest('bookedbarber-delivery', [
      ...['Abort', 'Timeout'].map((phase) => fires('RolloutAborted', phase, true)),
      ...['Completed', 'Progressing', 'Paused', 'Error', 'InvalidSpec'].map((phase) => fires('RolloutAborted', phase, false)),
      ...['Error', 'InvalidSpec'].map((phase) => fires('RolloutBlocked', phase, true)),
      ...['Completed', 'Progressing', 'Paused', 'Abort', 'Timeout'].map((phase) => fires('RolloutBlocked', phase, false)),
    ]);
  });

  it("judges the web release on the new pods' requests whichever of its two Services the sidecar names them by", () => {
    // After promotion the active and the preview Service both select the new pods, and the
    // sidecar labels an inbound request with the first of them in istiod's order (creation
    // time, then host name), not with the Service the request came through.
    const web = plan.names.web;
    const objects = objectsOf(new WebChart(newApp(), { plan }));
    const rollout = objects.find((o) => o.kind === 'Rollout' && o.metadata.name === web.rollout)!;
    const template = objects.find((o) => o.kind === 'AnalysisTemplate' && o.metadata.name === web.analysisTemplate)!;
    const args: Record<string, string> = Object.fromEntries(rollout.spec.strategy.blueGreen.postPromotionAnalysis.args.map((a: any) => [a.name, a.value]));
    const query = (metric: string) =>
      (template.spec.metrics as any[]).find((m) => m.name === metric).provider.prometheus.query.replace(/\{\{args\.([a-z-]+)\}\}/g, (_: string, k: string) => args[k]);
    const revision = rollout.spec.template.metadata.labels[REVISION_LABEL];
    const pods = (service: string, podRevision: string) => ({
      reporter: 'destination', destination_workload_namespace: app, destination_canonical_service: 'web', destination_canonical_revision: podRevision, destination_service_name: service,
    });
    for (const service of [web.activeService, web.previewService]) {
      unitTest('bookedbarber-delivery', [{
        interval: '1m',
        input_series: [
          { series: series('istio_requests_total', { ...pods(service, revision), response_code: '200' }), values: counter(600, 10) },
          // The old stack, still draining, fails: it must not count.
          { series: series('istio_requests_total', { ...pods(service, 'old'), response_code: '503' }), values: counter(600, 10) },
          { series: series('istio_request_duration_milliseconds_bucket', { ...pods(service, revision), le: '100' }), values: counter(600, 10) },
          { series: series('istio_request_duration_milliseconds_bucket', { ...pods(service, revision), le: '+Inf' }), values: counter(600, 10) },
        ],
        promql_expr_test: [
          { expr: query('success-rate'), eval_time: '5m', exp_samples: [{ labels: '{}', value: 1 }] },
          { expr: query('latency-p95'), eval_time: '5m', exp_samples: [{ labels: '{}', value: 95 }] },
        ],
      }]);
    }
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
