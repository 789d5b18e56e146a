/**
 * Regional performance: latency percentiles per region against the p95 objective, request
 * rates, autoscaling (HPA current vs desired replicas) and the canary's real traffic share.
 */
import type { RegionPlan } from '../../regions/plan';
import { below, buildDashboard, eq, series, statPanel, timeseriesPanel, type DashboardJson } from './kit';
import { ISTIO, KUBE } from './metrics';

const REGIONAL_PERFORMANCE = 'regional-performance';

const LATENCY_QUANTILES: ReadonlyArray<readonly [number, string]> = [
  [0.5, 'p50'],
  [0.95, 'p95'],
  [0.99, 'p99'],
];

export function regionalPerformanceDashboard(plan: RegionPlan): DashboardJson {
  const { global, names, namespaces } = plan;
  const objectiveMs = global.monitoring.slo.latencyP95Ms;
  const webObjectiveMs = global.delivery.web.analysis.maxLatencyP95Ms;
  const inApp = [eq('reporter', 'destination'), eq('destination_workload_namespace', namespaces.app)];
  const service = (app: string) => [...inApp, eq('destination_canonical_service', app)];
  const quantile = (q: number, app: string) =>
    `histogram_quantile(${q}, sum by (region, le) (rate(${series(ISTIO.durationBucket, ...service(app))}[$__rate_interval])))`;
  const apiRate = (by: string) => `sum by (${by}) (rate(${series(ISTIO.requests, ...service(names.api.app))}[$__rate_interval]))`;
  const hpa = (metric: string) => `sum by (region, horizontalpodautoscaler) (${series(metric, eq('namespace', namespaces.app))})`;

  return buildDashboard({
    key: REGIONAL_PERFORMANCE,
    platform: global.platform.name,
    title: 'Regional performance',
    description: `Latency per region against the p95 objective of ${objectiveMs} ms, traffic, autoscaling and canary weights.`,
    rows: [
      {
        title: `Latency (objective: API p95 < ${objectiveMs} ms)`,
        panels: [
          timeseriesPanel({
            title: 'API latency percentiles per region',
            description: `Server-side request duration of the API (p50, p95, p99); the dashed line is the p95 objective (${objectiveMs} ms).`,
            queries: LATENCY_QUANTILES.map(([q, label]) => ({ expr: quantile(q, names.api.app), legend: `${label} {{region}}` })),
            unit: 'ms',
            min: 0,
            steps: below(objectiveMs),
          }),
          timeseriesPanel({
            title: 'Web front end p95 latency per region',
            description: `Server-side p95 of the web front end; the dashed line is its release gate (${webObjectiveMs} ms).`,
            queries: [{ expr: quantile(0.95, names.web.app), legend: 'p95 {{region}}' }],
            unit: 'ms',
            min: 0,
            steps: below(webObjectiveMs),
          }),
        ],
      },
      {
        title: 'Traffic',
        panels: [
          statPanel({
            title: 'API requests per second',
            description: 'Requests the API served per second over the last 5 minutes.',
            queries: [{ expr: `sum(rate(${series(ISTIO.requests, ...service(names.api.app))}[5m]))`, instant: true }],
            unit: 'reqps',
            decimals: 0,
            width: 6,
          }),
          timeseriesPanel({
            title: 'Request rate per region and service',
            description: 'Requests per second each service in the app namespace serves, per region.',
            queries: [
              {
                expr: `sum by (region, destination_canonical_service) (rate(${series(ISTIO.requests, ...inApp)}[$__rate_interval]))`,
                legend: '{{destination_canonical_service}} {{region}}',
              },
            ],
            unit: 'reqps',
            min: 0,
            width: 18,
          }),
        ],
      },
      {
        title: 'Autoscaling and releases',
        panels: [
          timeseriesPanel({
            title: 'HPA replicas: current vs desired',
            description: 'Pods each HorizontalPodAutoscaler runs, wants and may run at most. Desired pinned at max means the HPA bound is too low.',
            queries: [
              { expr: hpa(KUBE.hpaCurrentReplicas), legend: 'current {{horizontalpodautoscaler}} {{region}}' },
              { expr: hpa(KUBE.hpaDesiredReplicas), legend: 'desired {{horizontalpodautoscaler}} {{region}}' },
              { expr: hpa(KUBE.hpaMaxReplicas), legend: 'max {{horizontalpodautoscaler}} {{region}}' },
            ],
            unit: 'short',
            min: 0,
          }),
          timeseriesPanel({
            title: 'Canary weight (API traffic share by revision)',
            description:
              `Share of API requests each pod template revision serves. During a canary the new revision follows the steps ` +
              `${global.delivery.api.canarySteps.map((s) => `${s} %`).join(', ')} and then 100 %; an abort drops it to 0.`,
            queries: [
              {
                expr: `${apiRate('region, destination_canonical_revision')} / ignoring (destination_canonical_revision) group_left ${apiRate('region')}`,
                legend: '{{destination_canonical_revision}} {{region}}',
              },
            ],
            unit: 'percentunit',
            min: 0,
            max: 1,
          }),
        ],
      },
    ],
  });
}
