/**
 * Business, data-tier and delivery alerts. Thresholds that the region model holds come from
 * it (payment success, booking drop ratio, RPO); the rest are tuning props with their
 * defaults here, in one place.
 *
 * Metric contracts (the names these rules read; a rename upstream is caught by the
 * SloMetricsMissing-style checks only for the SLIs, so keep these in step with the apps):
 * - the API (OpenTelemetry Prometheus exporter on its metrics port, merged by Istio):
 *   `bookedbarber_bookings_created_total` — counter, +1 per booking committed to a shard;
 *   `bookedbarber_payments_total{outcome}` — counter, +1 per payment attempt, outcome one of
 *   `success`, `error` (our side or the payment provider failed) or `declined` (the card
 *   issuer said no: the customer's problem, not counted against the success ratio);
 * - postgres_exporter ≥ 0.15: `pg_replication_lag_seconds` (0 on a primary and on a replica
 *   that has replayed all it received);
 * - pgbouncer_exporter: `pgbouncer_pools_client_waiting_connections{database,user}`;
 * - redis_exporter: `redis_memory_used_bytes`, `redis_memory_max_bytes` (0 without maxmemory),
 *   plus the `tier` target label the Redis PodMonitor copies from the pods;
 * - Argo Rollouts controller: `rollout_info{namespace,name,phase}` (phase Degraded once a
 *   release was aborted, manually or by a failed analysis, or missed its progress deadline).
 */
import type { RegionPlan } from '../../regions/plan';
import { alertRule, type AlertDefinition, type PromRuleGroup } from './rules';
import { POSTGRES_APP, REDIS_TIER_LABEL } from '../lib/monitoring-targets';
import { durationToSeconds, eq, promNumber, selector, sumRate } from '../lib/promql';

export const BOOKINGS_METRIC = 'bookedbarber_bookings_created_total';
export const PAYMENTS_METRIC = 'bookedbarber_payments_total';

export interface AlertTuning {
  /** Window of the booking rate compared with the same window a week earlier. @default '1h' */
  readonly bookingWindow?: string;
  /** Last week's bookings in that window below which no comparison is made (quiet hours). @default 20 */
  readonly minBookingsLastWeek?: number;
  /** @default '10m' */
  readonly bookingFor?: string;
  /** Window of the payment success ratio. @default '15m' */
  readonly paymentWindow?: string;
  /** Payments in that window below which the ratio is not judged (one failure of three is no outage). @default 20 */
  readonly minPayments?: number;
  /** @default '5m' */
  readonly paymentFor?: string;
  /** @default '1m' */
  readonly replicationLagFor?: string;
  /** How long clients must keep waiting for a server connection. @default '5m' */
  readonly poolWaitingFor?: string;
  /** used / maxmemory above which a Redis tier is under pressure. @default 0.9 */
  readonly redisMemoryRatio?: number;
  /**
   * Tiers that evict by design (allkeys-lru cache sits at maxmemory): never judged.
   * @default ['cache']
   */
  readonly redisEvictingTiers?: readonly string[];
  /** @default '5m' */
  readonly redisMemoryFor?: string;
  /** @default '1m' */
  readonly rolloutAbortedFor?: string;
}

function businessAlerts(plan: RegionPlan, t: AlertTuning): AlertDefinition[] {
  const slo = plan.global.monitoring.slo;
  const bw = t.bookingWindow ?? '1h';
  const bookings = selector(BOOKINGS_METRIC);
  const bookingsNow = sumRate(bookings, bw);
  const bookingsLastWeek = `sum(rate(${bookings}[${bw}] offset 1w))`;
  const minBookingsRate = promNumber((t.minBookingsLastWeek ?? 20) / durationToSeconds(bw));
  const pw = t.paymentWindow ?? '15m';
  const attempts = sumRate(selector(PAYMENTS_METRIC, [['outcome', '!=', 'declined']]), pw);
  // `or vector(0)`: when every payment fails there is no success series at all, and that is
  // precisely when this alert must fire.
  const successes = `(${sumRate(selector(PAYMENTS_METRIC, eq({ outcome: 'success' })), pw)} or vector(0))`;
  const minPaymentRate = promNumber((t.minPayments ?? 20) / durationToSeconds(pw));
  const pct = (x: number) => `${promNumber(x * 100)} %`;
  return [
    {
      alert: 'BookingRateDrop',
      expr: `${bookingsNow} < ${promNumber(slo.bookingDropRatio)} * ${bookingsLastWeek}\nand\n${bookingsLastWeek} >= ${minBookingsRate}`,
      for: t.bookingFor ?? '10m',
      severity: 'warning',
      team: 'business',
      summary: `Bookings are below ${pct(slo.bookingDropRatio)} of the same hour last week`,
      description:
        `Bookings committed in {{ $externalLabels.region }} over the last ${bw} ({{ $value | humanize }}/s) are below ` +
        `${pct(slo.bookingDropRatio)} of the same ${bw} one week ago. Check for a broken booking flow before assuming demand dropped.`,
      runbook: 'booking-rate-drop',
    },
    {
      alert: 'PaymentSuccessLow',
      expr: `${successes} / ${attempts} < ${promNumber(slo.paymentSuccessMin)}\nand\n${attempts} >= ${minPaymentRate}`,
      for: t.paymentFor ?? '5m',
      severity: 'critical',
      team: 'business',
      summary: `Payment success {{ $value | humanizePercentage }} is below ${pct(slo.paymentSuccessMin)}`,
      description:
        `Over the last ${pw}, only {{ $value | humanizePercentage }} of payment attempts in {{ $externalLabels.region }} succeeded ` +
        `(card declines excluded); the minimum is ${pct(slo.paymentSuccessMin)}. Customers cannot pay for bookings.`,
      runbook: 'payment-success-low',
    },
  ];
}

function dataAlerts(plan: RegionPlan, t: AlertTuning): AlertDefinition[] {
  const { namespaces, names, global } = plan;
  const rpo = global.postgres.rpoSeconds;
  const evicting = t.redisEvictingTiers ?? ['cache'];
  const ratio = t.redisMemoryRatio ?? 0.9;
  const redis = (metric: string) => selector(metric, [
    ['namespace', '=', namespaces.data],
    ...(evicting.length > 0 ? [[REDIS_TIER_LABEL, '!~', evicting.join('|')] as const] : []),
  ]);
  return [
    {
      alert: 'PostgresReplicationLagHigh',
      expr: `max by (namespace, pod) (${selector('pg_replication_lag_seconds', eq({ namespace: namespaces.data, job: POSTGRES_APP }))}) > ${rpo}`,
      for: t.replicationLagFor ?? '1m',
      severity: 'critical',
      team: 'platform',
      summary: 'Postgres replica {{ $labels.pod }} lags {{ $value | humanizeDuration }} behind its primary (RPO ' + `${rpo} s)`,
      description:
        `Replica {{ $labels.pod }} in {{ $externalLabels.region }} has not replayed the primary's latest transactions for {{ $value | humanizeDuration }}, ` +
        `more than the ${rpo} s recovery point objective: a failover to it now would lose more data than promised.`,
      runbook: 'postgres-replication-lag',
    },
    {
      alert: 'PgBouncerPoolSaturated',
      expr: `max by (namespace, pod, database) (${selector('pgbouncer_pools_client_waiting_connections', [
        ['namespace', '=', namespaces.data], ['job', '=', names.data.pgbouncerApp], ['database', '!=', 'pgbouncer'],
      ])}) > 0`,
      for: t.poolWaitingFor ?? '5m',
      severity: 'warning',
      team: 'platform',
      summary: 'PgBouncer {{ $labels.pod }}: clients wait for a server connection to {{ $labels.database }}',
      description:
        'All server connections of the {{ $labels.database }} pool on {{ $labels.pod }} ({{ $externalLabels.region }}) have been busy for a while: ' +
        '{{ $value }} client connections are queued, which adds their wait to API latency.',
      runbook: 'pgbouncer-pool-saturated',
    },
    {
      alert: 'RedisMemoryPressure',
      expr: `${redis('redis_memory_used_bytes')} / (${redis('redis_memory_max_bytes')} > 0) > ${promNumber(ratio)}`,
      for: t.redisMemoryFor ?? '5m',
      severity: 'warning',
      team: 'platform',
      summary: `Redis {{ $labels.pod }} ({{ $labels.${REDIS_TIER_LABEL} }}) uses {{ $value | humanizePercentage }} of maxmemory`,
      description:
        `Redis {{ $labels.pod }} of the {{ $labels.${REDIS_TIER_LABEL} }} tier in {{ $externalLabels.region }} is above ${promNumber(ratio * 100)} % of maxmemory. ` +
        'At 100 % a noeviction tier (sessions) rejects writes and a volatile-ttl tier (rate limits) drops live windows.',
      runbook: 'redis-memory-pressure',
    },
  ];
}

function deliveryAlerts(plan: RegionPlan, t: AlertTuning): AlertDefinition[] {
  return [
    {
      alert: 'RolloutAborted',
      // max: both controller replicas report the Rollouts they see.
      expr: `max by (namespace, name) (${selector('rollout_info', eq({ namespace: plan.namespaces.app, phase: 'Degraded' }))}) > 0`,
      for: t.rolloutAbortedFor ?? '1m',
      severity: 'warning',
      team: 'platform',
      summary: 'Release of {{ $labels.name }} was aborted and rolled back',
      description:
        'Argo Rollout {{ $labels.name }} in {{ $externalLabels.region }} is Degraded: its release was aborted (a failed analysis, a manual abort ' +
        'or a missed progress deadline) and traffic went back to the stable version. The new version needs a look before it is retried.',
      runbook: 'rollout-aborted',
    },
  ];
}

/** Rule groups besides the SLOs: business, data tier, delivery. */
export function platformRuleGroups(plan: RegionPlan, tuning: AlertTuning = {}): { business: PromRuleGroup; data: PromRuleGroup; delivery: PromRuleGroup } {
  const group = (name: string, alerts: AlertDefinition[]): PromRuleGroup => ({ name, interval: '1m', rules: alerts.map((a) => alertRule(plan, a)) });
  return {
    business: group('business', businessAlerts(plan, tuning)),
    data: group('data-tier', dataAlerts(plan, tuning)),
    delivery: group('delivery', deliveryAlerts(plan, tuning)),
  };
}
