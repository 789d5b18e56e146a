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
 * - Argo Rollouts controller v1.8 (controller/metrics/rollouts.go, calculatePhase):
 *   `rollout_info{namespace,name,phase}` with the controller's own phases — `Abort` once a
 *   release was aborted (a failed analysis or by hand), `Timeout` once it missed its progress
 *   deadline (with progressDeadlineAbort it is rolled back too), `Error` while the new
 *   ReplicaSet cannot be created, `InvalidSpec`; never Argo CD's health words (`Degraded`).
 * - postgres_exporter v0.15.0 (collector/pg_replication.go, the default metrics of
 *   cmd/postgres_exporter/postgres_exporter.go): `pg_replication_is_replica` (1 while
 *   pg_is_in_recovery(), so 0 on the primary only; absent while Postgres is down),
 *   `pg_stat_archiver_archived_count`, `pg_stat_archiver_failed_count` and
 *   `pg_stat_archiver_last_archive_age` (seconds since the last WAL segment was archived;
 *   NaN until one was), `pg_stat_database_tup_{inserted,updated,deleted}`; plus the
 *   `patroni_scope` target label the Postgres PodMonitor copies from the pods;
 * - redis_exporter v1.62.0 (exporter/exporter.go, info.go, sentinels.go):
 *   `redis_instance_info{role}` (role "master" or "slave" on a server, empty on a Sentinel),
 *   `redis_sentinel_master_ckquorum_status{master_name}` (1 when SENTINEL CKQUORUM succeeds:
 *   enough Sentinels reachable to authorise a failover);
 *
 * Not alerted on, because nothing exposes it: the age of the last base backup. The backup runs
 * in a sidecar of each Postgres member (charts/postgres/backup.ts) and records its last success
 * in a file of the pod's emptyDir only; see docs/observability.md for what would expose it.
 */
import { BASE_BACKUP_AGE_METRIC } from '../postgres/backup';
import { isServingRegion } from '../../regions/model';
import type { RegionPlan } from '../../regions/plan';
import { alertRule, type AlertDefinition, type PromRuleGroup } from './rules';
import { ISTIOD_MONITORING, KUBE_STATE_METRICS, KUBELET, POSTGRES_APP, POSTGRES_SCOPE_LABEL, REDIS_TIER_LABEL } from '../lib/monitoring-targets';
import { TRACING_APPS } from '../lib/otel';
import { durationToSeconds, eq, type Matcher, MIN_RATE_WINDOW_SECONDS, promDuration, promNumber, selector, sumRate } from '../lib/promql';
import { postgresNames } from '../postgres/names';
import { REDIS_TIERS, redisTopology, TIER_SLUG } from '../redis/topology';

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
  /** @default '5m' */
  readonly rolloutBlockedFor?: string;
  /** Share of alert notifications failing (Prometheus → Alertmanager, Alertmanager → receiver) that alerts. @default 0.01 */
  readonly notificationFailRatio?: number;
  /** How long spans must keep being lost before TracingSpansLost fires. @default '10m' */
  readonly tracingLossFor?: string;
  /**
   * How long WAL archiving must fail without a single success. The archiver retries a failed
   * segment about once a minute, so 5 minutes are several failures in a row.
   * @default '5m'
   */
  /** How long a site's newest base backup stays too old before paging. @default 30m — a backup may be running */
  readonly baseBackupStaleFor?: string;
  readonly archiveFailingFor?: string;
  /**
   * How long the last archived segment must be older than the RPO while the primary keeps
   * writing. Longer than postgres.archiveTimeoutSeconds + walUploadBudgetSeconds (the worst case
   * of a healthy archiver after a quiet spell), so the first write after idle never pages.
   * @default '2m'
   */
  readonly archiveLagFor?: string;
  /** How long a shard's active site may run without a primary (Patroni failover is well under it). @default '1m' */
  readonly noPrimaryFor?: string;
  /** How long a Sentinel-managed Redis tier may run without a master (Sentinel failover is seconds). @default '1m' */
  readonly noRedisMasterFor?: string;
  /** @default '2m' */
  readonly sentinelQuorumFor?: string;
  /** How long a data-tier scrape target must be down (`up == 0`) before a page. @default '5m' */
  readonly targetDownFor?: string;
  /** Mesh CA certificate lifetime left below which a warning goes to Slack. @default '30d' */
  readonly certWarnLeft?: string;
  /** … and below which it pages. @default '7d' */
  readonly certPageLeft?: string;
}

/** `label_replace(expr, "<label>", "<value>", "", "")`: puts a constant label on a result (absent() has none). */
const withLabel = (expr: string, label: string, value: string) => `label_replace(${expr}, "${label}", "${value}", "", "")`;

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

/**
 * What breaks the data tier's promises: WAL archiving (the PITR archive and the DR site's
 * fallback), a shard with no primary, a Redis tier with no master or without the
 * Sentinels to fail over, and any of its scrape targets down (every alert above is blind then).
 * Site and tier alerts list what this region runs: the active shard sites (a standby site's
 * members are all in recovery by design) and the tiers Sentinel manages here.
 */
function dataAvailabilityAlerts(plan: RegionPlan, t: AlertTuning): AlertDefinition[] {
  const { namespaces, names, global } = plan;
  const ns = namespaces.data;
  const rpo = global.postgres.rpoSeconds;
  const pg = (metric: string, extra: Record<string, string> = {}) => selector(metric, eq({ namespace: ns, job: POSTGRES_APP, ...extra }));
  const byPod = `namespace, pod, ${POSTGRES_SCOPE_LABEL}`;
  const maxBackupAge = global.postgres.baseBackupMaxAgeHours * 3600;
  const writes = ['inserted', 'updated', 'deleted'].map((k) => `rate(${pg(`pg_stat_database_tup_${k}`)}[${promDuration(MIN_RATE_WINDOW_SECONDS)}])`).join(' + ');
  const activeScopes = plan.hostedShards.filter((h) => h.active).map((h) => postgresNames(plan, h.config.id).scope);
  // Redis runs in serving regions only; there, the tiers Sentinel manages (a replica-mode
  // sessions tier follows the primary region's master, which that region's rules watch).
  const sentinelTiers = isServingRegion(plan.region)
    ? REDIS_TIERS.filter((tier) => redisTopology(plan, tier).mode === 'sentinel').map((tier) => TIER_SLUG[tier])
    : [];
  const redis = (metric: string, extra: Record<string, string>) => selector(metric, eq({ namespace: ns, job: names.data.redisApp, ...extra }));
  const out: AlertDefinition[] = [
    {
      alert: 'PostgresWalArchiveFailing',
      expr: `max by (${byPod}) (increase(${pg('pg_stat_archiver_failed_count')}[5m])) > 0\nunless on (namespace, pod)\n` +
        `max by (namespace, pod) (increase(${pg('pg_stat_archiver_archived_count')}[5m])) > 0`,
      for: t.archiveFailingFor ?? '5m',
      severity: 'critical',
      team: 'platform',
      summary: 'Postgres {{ $labels.pod }} fails to archive WAL',
      description:
        'Member {{ $labels.pod }} ({{ $labels.' + POSTGRES_SCOPE_LABEL + ' }}, {{ $externalLabels.region }}) has failed to archive WAL to object storage ' +
        'without a single success for several minutes (every member archives what it writes or receives). On the primary, point-in-time recovery ' +
        'and the DR site\'s fallback stop at the last archived segment; on any member, unarchived WAL piles up on its volume until it fills.',
      runbook: 'postgres-wal-archiving',
    },
    {
      alert: 'PostgresBaseBackupStale',
      // Newest value over the site's members: the leader that backed up wrote it, the others have
      // an older copy or none (0). Before the first backup the site reports 0, which fires too.
      expr: `time() - max by (namespace, ${POSTGRES_SCOPE_LABEL}) (${pg(BASE_BACKUP_AGE_METRIC)}) > ${maxBackupAge}`,
      for: t.baseBackupStaleFor ?? '30m',
      severity: 'critical',
      team: 'platform',
      summary: 'Postgres site {{ $labels.' + POSTGRES_SCOPE_LABEL + ' }} has no base backup for {{ $value | humanizeDuration }}',
      description:
        'The newest base backup of {{ $labels.' + POSTGRES_SCOPE_LABEL + ' }} in {{ $externalLabels.region }} is older than ' +
        `postgres.baseBackupMaxAgeHours (${global.postgres.baseBackupMaxAgeHours} h): a point-in-time restore must replay WAL from an ever older backup, ` +
        'and retention keeps deleting the old ones only after new ones succeed.',
      runbook: 'postgres-base-backup-stale',
    },
    {
      alert: 'PostgresWalArchiveLagHigh',
      expr: `max by (${byPod}) (${pg('pg_stat_archiver_last_archive_age')}) > ${rpo}\n` +
        `and on (namespace, pod)\nmax by (namespace, pod) (${pg('pg_replication_is_replica')}) == 0\n` +
        `and on (namespace, pod)\nsum by (namespace, pod) (${writes}) > 0`,
      for: t.archiveLagFor ?? '2m',
      severity: 'critical',
      team: 'platform',
      summary: `Postgres {{ $labels.pod }}: last WAL archived {{ $value | humanizeDuration }} ago while it keeps writing (RPO ${rpo} s)`,
      description:
        `The primary {{ $labels.pod }} in {{ $externalLabels.region }} writes rows but archived its last WAL segment {{ $value | humanizeDuration }} ago; ` +
        `archive_timeout (${global.postgres.archiveTimeoutSeconds} s) should switch segments well within the ${rpo} s RPO. ` +
        'Losing this primary now would lose more than the RPO from the archive.',
      runbook: 'postgres-wal-archiving',
    },
  ];
  if (activeScopes.length > 0) {
    out.push({
      alert: 'PostgresShardWithoutPrimary',
      // One term per active site: no member reporting pg_is_in_recovery() = false, including
      // when no member is scraped at all.
      expr: activeScopes.map((scope) => withLabel(`absent(${pg('pg_replication_is_replica', { [POSTGRES_SCOPE_LABEL]: scope })} == 0)`, POSTGRES_SCOPE_LABEL, scope)).join('\nor\n'),
      for: t.noPrimaryFor ?? '1m',
      severity: 'critical',
      team: 'platform',
      summary: `Shard site {{ $labels.${POSTGRES_SCOPE_LABEL} }} has no primary`,
      description:
        `No Postgres member of {{ $labels.${POSTGRES_SCOPE_LABEL} }} in {{ $externalLabels.region }} runs as primary: writes to the shard fail. ` +
        'Patroni should have promoted a replica within its TTL; it has not (no healthy replica, the leader lock is stuck, or every pod is down).',
      runbook: 'postgres-shard-without-primary',
    });
  }
  if (sentinelTiers.length > 0) {
    out.push(
      {
        alert: 'RedisTierWithoutMaster',
        expr: sentinelTiers.map((tier) => `absent(${redis('redis_instance_info', { [REDIS_TIER_LABEL]: tier, role: 'master' })})`).join('\nor\n'),
        for: t.noRedisMasterFor ?? '1m',
        severity: 'critical',
        team: 'platform',
        summary: `Redis tier {{ $labels.${REDIS_TIER_LABEL} }} has no master`,
        description:
          `No Redis server of the {{ $labels.${REDIS_TIER_LABEL} }} tier in {{ $externalLabels.region }} reports role master: writes to the tier fail ` +
          '(sessions cannot be created, rate limits are not counted). The Sentinels should have promoted a replica within seconds.',
        runbook: 'redis-tier-without-master',
      },
      {
        alert: 'RedisSentinelQuorumLost',
        expr: sentinelTiers.map((tier) => withLabel(`absent(${redis('redis_sentinel_master_ckquorum_status', { [REDIS_TIER_LABEL]: tier })} == 1)`, REDIS_TIER_LABEL, tier)).join('\nor\n'),
        for: t.sentinelQuorumFor ?? '2m',
        severity: 'critical',
        team: 'platform',
        summary: `Redis tier {{ $labels.${REDIS_TIER_LABEL} }}: no Sentinel has the quorum to fail over`,
        description:
          `No Sentinel of the {{ $labels.${REDIS_TIER_LABEL} }} tier in {{ $externalLabels.region }} passes SENTINEL CKQUORUM: too few Sentinels reach each other ` +
          'to authorise a failover. The master still serves, but losing it now means an outage of the tier until someone intervenes.',
        runbook: 'redis-sentinel-quorum',
      },
    );
  }
  out.push({
    alert: 'DataTierTargetDown',
    // The exporters answer (up 1, the scrape succeeds) while the database they watch is down:
    // postgres_exporter, redis_exporter and pgbouncer_exporter then report pg_up, redis_up and
    // pgbouncer_up as 0, which only this catches for a replica (the leader and master alerts
    // cover a lost primary).
    expr: `${mergedTargetDown(eq({ namespace: ns }))}\nor\n${['pg_up', 'redis_up', 'pgbouncer_up'].map((m) => `${selector(m, eq({ namespace: ns }))} == 0`).join('\nor\n')}`,
    for: t.targetDownFor ?? '5m',
    severity: 'critical',
    team: 'platform',
    summary: 'Prometheus cannot scrape {{ $labels.job }} pod {{ $labels.pod }}',
    description:
      'The metrics endpoint of {{ $labels.pod }} ({{ $labels.job }}, {{ $externalLabels.region }}) has failed every scrape for minutes, or its exporter ' +
      'answers but cannot reach the Postgres, Redis or PgBouncer it watches: the pod, its exporter or its server is down, and every data-tier alert ' +
      'about it (lag, archiving, leader, pools, Redis) is blind.',
    runbook: 'scrape-target-down',
  });
  return out;
}

/**
 * The alerting path itself (Prometheus v2.55 rules/group.go, notifier/notifier.go, cmd/prometheus;
 * Alertmanager v0.28 notify/notify.go, config/coordinator.go): rules that fail to evaluate,
 * alerts that do not reach an Alertmanager, a receiver that refuses notifications, a config
 * reload that failed. Each of these silences other alerts without a sign. kube-prometheus-stack's
 * default rules are off (defaultRules.create: false), so these are the only ones. Prometheus
 * and Alertmanager run several replicas each: one failing is still reported by the others; and
 * critical notifications go to PagerDuty and Slack, so one receiver failing is reported through
 * the other.
 */
function monitoringAlerts(plan: RegionPlan, t: AlertTuning): AlertDefinition[] {
  const ns = plan.namespaces.monitoring;
  const own = (metric: string) => selector(metric, eq({ namespace: ns }));
  const failRatio = t.notificationFailRatio ?? 0.01;
  return [
    {
      alert: 'PrometheusRuleEvaluationFailing',
      expr: `sum by (namespace, pod, rule_group) (increase(${own('prometheus_rule_evaluation_failures_total')}[5m])) > 0`,
      for: '15m',
      severity: 'critical',
      team: 'platform',
      summary: 'Prometheus {{ $labels.pod }} fails to evaluate rules of {{ $labels.rule_group }}',
      description:
        'Rules of {{ $labels.rule_group }} in {{ $externalLabels.region }} keep failing to evaluate on {{ $labels.pod }}: their alerts cannot fire and their ' +
        'recorded series (SLIs, the HPA\'s request rate) have gaps.',
      runbook: 'alerting-pipeline',
    },
    {
      alert: 'PrometheusAlertmanagerUnreachable',
      // Errors out of all sent, per Prometheus (sent_total counts failed sends too); none discovered counts as unreachable.
      expr:
        `min by (namespace, pod) (rate(${own('prometheus_notifications_errors_total')}[5m]) / rate(${own('prometheus_notifications_sent_total')}[5m])) > ${promNumber(failRatio)}` +
        `\nor\nmax by (namespace, pod) (max_over_time(${own('prometheus_notifications_alertmanagers_discovered')}[5m])) < 1`,
      for: '10m',
      severity: 'critical',
      team: 'platform',
      summary: 'Prometheus {{ $labels.pod }} cannot hand alerts to any Alertmanager',
      description:
        'Prometheus {{ $labels.pod }} in {{ $externalLabels.region }} fails to send alerts to every Alertmanager, or discovers none: the alerts it evaluates ' +
        'reach nobody.',
      runbook: 'alerting-pipeline',
    },
    {
      alert: 'AlertmanagerNotificationsFailing',
      expr:
        `sum by (namespace, integration) (rate(${own('alertmanager_notifications_failed_total')}[5m]))\n` +
        `/ sum by (namespace, integration) (rate(${own('alertmanager_notifications_total')}[5m])) > ${promNumber(failRatio)}`,
      for: '5m',
      severity: 'critical',
      team: 'platform',
      summary: 'Alertmanager fails to notify through {{ $labels.integration }}',
      description:
        'Notifications through {{ $labels.integration }} in {{ $externalLabels.region }} are failing ({{ $value | humanizePercentage }} of attempts): a revoked ' +
        'key, a removed channel or the provider down. Alerts routed only there reach nobody.',
      runbook: 'alerting-pipeline',
    },
    {
      alert: 'MonitoringConfigReloadFailed',
      expr:
        `max by (namespace, pod) (max_over_time(${own('prometheus_config_last_reload_successful')}[5m])) == 0` +
        `\nor\nmax by (namespace, pod) (max_over_time(${own('alertmanager_config_last_reload_successful')}[5m])) == 0`,
      for: '10m',
      severity: 'warning',
      team: 'platform',
      summary: '{{ $labels.pod }} rejected its new configuration',
      description:
        '{{ $labels.pod }} in {{ $externalLabels.region }} could not load the configuration prometheus-operator generated and runs with the previous one: ' +
        'new rules, scrape targets or routes are not in effect.',
      runbook: 'alerting-pipeline',
    },
  ];
}

/**
 * The tracing pipeline (serving regions; OpenTelemetry Collector v0.115 exporterhelper and
 * receiverhelper telemetry, named as its Prometheus reader writes them: no `_total` suffix). A
 * send failure is counted after the exporter's retries gave up, so any is spans lost.
 */
function tracingAlerts(plan: RegionPlan, t: AlertTuning): AlertDefinition[] {
  const ns = plan.namespaces.monitoring;
  const own = (metric: string) => selector(metric, eq({ namespace: ns }));
  return [
    {
      alert: 'TracingSpansLost',
      expr:
        `sum by (namespace, job) (rate(${own('otelcol_exporter_send_failed_spans')}[5m])) > 0` +
        // A full sending queue drops spans before any send is tried (exporterhelper's own count).
        `\nor\nsum by (namespace, job) (rate(${own('otelcol_exporter_enqueue_failed_spans')}[5m])) > 0` +
        `\nor\nsum by (namespace, job) (rate(${own('otelcol_receiver_refused_spans')}[5m])) > 0`,
      for: t.tracingLossFor ?? '10m',
      severity: 'warning',
      team: 'platform',
      summary: 'The {{ $labels.job }} tier is losing spans',
      description:
        'The {{ $labels.job }} collectors in {{ $externalLabels.region }} keep failing to pass spans on (after retries, or their sending queue is full) or refusing them (memory limit): ' +
        'traces are missing, the slow and failed ones the sampler should keep included.',
      runbook: 'tracing-pipeline',
    },
    {
      alert: 'TracingTargetDown',
      expr: mergedTargetDown([['namespace', '=', ns], ['job', '=~', Object.values(TRACING_APPS).join('|')]]),
      for: '15m',
      severity: 'warning',
      team: 'platform',
      summary: 'Prometheus cannot scrape {{ $labels.job }} pod {{ $labels.pod }}',
      description:
        'The metrics of {{ $labels.pod }} ({{ $labels.job }}, {{ $externalLabels.region }}) have not been readable for 15 minutes: the pod, or the collector or ' +
        'Jaeger in it, is down, and its span losses are not seen.',
      runbook: 'tracing-pipeline',
    },
  ];
}

/**
 * Cluster-wide checks every region loads (standby regions too: their DR stream crosses regions
 * on the mesh's mTLS): the mesh CA certificates' expiry, and the cluster-metrics targets.
 */
function platformAlerts(t: AlertTuning): AlertDefinition[] {
  const warnLeft = durationToSeconds(t.certWarnLeft ?? '30d');
  const pageLeft = durationToSeconds(t.certPageLeft ?? '7d');
  // istiod (pilot/pkg security metrics): the root it distributes, and the chain it signs with
  // (this region's intermediate from cacerts under the shared root).
  const left = ([['citadel_server_root_cert_expiry_timestamp', 'root'], ['citadel_server_cert_chain_expiry_timestamp', 'intermediate']] as const).map(([metric, cert]) =>
    withLabel(`min(${selector(metric, eq({ job: ISTIOD_MONITORING.job }))}) - time()`, 'certificate', cert));
  const expiry = (severity: 'critical' | 'warning', seconds: number): AlertDefinition => ({
    alert: 'MeshCertificateExpiring',
    expr: left.map((l) => `${l} < ${seconds}`).join('\nor\n'),
    for: '10m',
    severity,
    team: 'platform',
    summary: 'The mesh CA {{ $labels.certificate }} certificate expires in {{ $value | humanizeDuration }}',
    description:
      'istiod in {{ $externalLabels.region }} signs workload certificates with a CA whose {{ $labels.certificate }} certificate expires in {{ $value | humanizeDuration }}. ' +
      'Once it has, sidecars reject each other (STRICT mTLS) and every meshed connection fails, the cross-region stream included. Rotate cacerts (runbook).',
    runbook: 'mesh-certificate-expiring',
  });
  return [
    expiry('warning', warnLeft),
    expiry('critical', pageLeft),
    {
      alert: 'ClusterMetricsTargetDown',
      expr: `${selector('up', [['job', '=~', [KUBE_STATE_METRICS.job, KUBELET.job, ISTIOD_MONITORING.job].join('|')]])} == 0`,
      for: '15m',
      severity: 'warning',
      team: 'platform',
      summary: 'Prometheus cannot scrape {{ $labels.job }} ({{ $labels.instance }})',
      description:
        '{{ $labels.job }} in {{ $externalLabels.region }} has failed every scrape for 15 minutes: the HPA and resource panels (kube-state-metrics), the CPU and ' +
        'memory panels (kubelet) or the certificate expiry alert (istiod) are blind.',
      runbook: 'scrape-target-down',
    },
  ];
}

function deliveryAlerts(plan: RegionPlan, t: AlertTuning): AlertDefinition[] {
  // max: both controller replicas report the Rollouts they see.
  const inPhase = (phases: readonly string[]) =>
    `max by (namespace, name) (${selector('rollout_info', [['namespace', '=', plan.namespaces.app], ['phase', '=~', phases.join('|')]])}) > 0`;
  return [
    {
      alert: 'RolloutAborted',
      expr: inPhase(['Abort', 'Timeout']),
      for: t.rolloutAbortedFor ?? '1m',
      severity: 'warning',
      team: 'platform',
      summary: 'Release of {{ $labels.name }} was aborted and rolled back',
      description:
        'The release of Argo Rollout {{ $labels.name }} in {{ $externalLabels.region }} was aborted (a failed analysis, ' +
        'a manual abort or a missed progress deadline) and traffic went back to the stable version. The new version needs a look before it is retried.',
      runbook: 'rollout-aborted',
    },
    {
      alert: 'RolloutBlocked',
      // Neither rolled back nor progressing: the controller cannot act on the Rollout at all.
      expr: inPhase(['Error', 'InvalidSpec']),
      for: t.rolloutBlockedFor ?? '5m',
      severity: 'warning',
      team: 'platform',
      summary: 'Argo Rollouts cannot act on {{ $labels.name }}',
      description:
        'Argo Rollout {{ $labels.name }} in {{ $externalLabels.region }} is stuck: its spec is invalid or its new ReplicaSet ' +
        'cannot be created (quota, admission). No release can start or finish until it is fixed; the running pods keep serving.',
      runbook: 'rollout-blocked',
    },
  ];
}

/**
 * Scrape targets behind Istio's merged endpoint (the sidecar agent on 15020) that are down:
 * `up == 0` (the pod or its sidecar is gone), or most scrapes of the application's own endpoint
 * failing while the agent still answers 200 with Envoy's metrics (pilot-agent
 * status/server.go: it only counts `istio_agent_scrape_failures_total{type="application"}`),
 * which is what a crash-looping exporter or collector looks like. `matchers` select the targets.
 */
function mergedTargetDown(matchers: readonly Matcher[]): string {
  const failed = `increase(${selector('istio_agent_scrape_failures_total', [...matchers, ['type', '=', 'application']])}[5m])`;
  const scrapes = `increase(${selector('istio_agent_scrapes_total', matchers)}[5m])`;
  return `${selector('up', matchers)} == 0\nor\n${failed} / ignoring(type) ${scrapes} > 0.5`;
}

/** Rule groups besides the SLOs: business, data tier, delivery. */
export function platformRuleGroups(plan: RegionPlan, tuning: AlertTuning = {}): { business: PromRuleGroup; data: PromRuleGroup; delivery: PromRuleGroup; platform: PromRuleGroup } {
  const group = (name: string, alerts: AlertDefinition[]): PromRuleGroup => ({ name, interval: '1m', rules: alerts.map((a) => alertRule(plan, a)) });
  return {
    business: group('business', businessAlerts(plan, tuning)),
    data: group('data-tier', [...dataAlerts(plan, tuning), ...dataAvailabilityAlerts(plan, tuning)]),
    delivery: group('delivery', deliveryAlerts(plan, tuning)),
    platform: group('platform', [
      ...platformAlerts(tuning),
      ...monitoringAlerts(plan, tuning),
      ...(isServingRegion(plan.region) ? tracingAlerts(plan, tuning) : []),
    ]),
  };
}
