/**
 * The metrics the dashboards read, and who produces them: the contract between the dashboards
 * and the exporters other charts run. One place, so a renamed metric fails here (and in the
 * PromQL tests) instead of silently emptying a panel.
 *
 * - Istio's standard request metrics (every sidecar, scraped through the merged endpoint).
 * - The API's own OpenTelemetry HTTP server metrics, exported in Prometheus format
 *   (`OTEL_METRICS_EXPORTER=prometheus`): names follow the stable semantic conventions,
 *   translated the way the OpenTelemetry Prometheus exporter does (dots to underscores, unit
 *   suffix).
 * - Business counters the API increments: `bookedbarber_bookings_created_total`,
 *   `bookedbarber_payments_total{outcome}`.
 * - kube-state-metrics and the kubelet's cAdvisor (kube-prometheus-stack add-on).
 * - postgres_exporter (replication collector), prometheus-community/pgbouncer_exporter,
 *   oliver006/redis_exporter (Redis and Sentinel): the data tier's exporters.
 */
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  METRIC_HTTP_SERVER_REQUEST_DURATION,
} from '@opentelemetry/semantic-conventions';

/**
 * A metric or attribute name as the OpenTelemetry Prometheus exporter writes it: characters
 * outside `[a-zA-Z0-9_:]` become `_`, and the unit is appended (`http.server.request.duration`
 * in seconds → `http_server_request_duration_seconds`).
 */
export function prometheusName(otelName: string, unitSuffix?: string): string {
  const base = otelName.replace(/[^a-zA-Z0-9_:]/g, '_');
  return unitSuffix ? `${base}_${unitSuffix}` : base;
}

/** The API's HTTP server histogram and the labels the dashboards group by. */
export const HTTP_SERVER = {
  durationCount: `${prometheusName(METRIC_HTTP_SERVER_REQUEST_DURATION, 'seconds')}_count`,
  route: prometheusName(ATTR_HTTP_ROUTE),
  method: prometheusName(ATTR_HTTP_REQUEST_METHOD),
  statusCode: prometheusName(ATTR_HTTP_RESPONSE_STATUS_CODE),
} as const;

export const ISTIO = {
  requests: 'istio_requests_total',
  durationBucket: 'istio_request_duration_milliseconds_bucket',
} as const;

/** Business counters of the API. */
export const BUSINESS = {
  bookingsCreated: 'bookedbarber_bookings_created_total',
  payments: 'bookedbarber_payments_total',
  /** Label of `payments` naming how a payment ended, and its value for a successful one. */
  paymentOutcomeLabel: 'outcome',
  paymentSuccess: 'success',
  /** A card the bank declined: not a failure of ours, left out of the success ratio (as the alert does). */
  paymentDeclined: 'declined',
} as const;

export const KUBE = {
  hpaCurrentReplicas: 'kube_horizontalpodautoscaler_status_current_replicas',
  hpaDesiredReplicas: 'kube_horizontalpodautoscaler_status_desired_replicas',
  hpaMaxReplicas: 'kube_horizontalpodautoscaler_spec_max_replicas',
  containerCpuSeconds: 'container_cpu_usage_seconds_total',
  containerMemoryWorkingSet: 'container_memory_working_set_bytes',
  containerRequests: 'kube_pod_container_resource_requests',
  containerLimits: 'kube_pod_container_resource_limits',
} as const;

export const DATA_TIER = {
  /** postgres_exporter: seconds since the replica last replayed WAL (0 while caught up). */
  replicationLagSeconds: 'pg_replication_lag_seconds',
  pgbouncerClientActive: 'pgbouncer_pools_client_active_connections',
  pgbouncerClientWaiting: 'pgbouncer_pools_client_waiting_connections',
  pgbouncerServerActive: 'pgbouncer_pools_server_active_connections',
  pgbouncerServerIdle: 'pgbouncer_pools_server_idle_connections',
  pgbouncerClientMaxWait: 'pgbouncer_pools_client_maxwait_seconds',
  redisMemoryUsed: 'redis_memory_used_bytes',
  redisMemoryMax: 'redis_memory_max_bytes',
  /** redis_exporter on a Sentinel: one series per monitored master, `master_address` changes on failover. */
  sentinelMasterStatus: 'redis_sentinel_master_status',
} as const;
