/**
 * Franchise health overview: is the booking platform keeping its 99.99 % availability promise,
 * how much error budget is left, are bookings flowing, and which endpoints fail.
 *
 * Availability is measured where franchises feel it: server-side responses of the API
 * (Istio's destination reporter), a response code 0 (connection reset) or 5xx counting as a
 * failure, exactly like the release analysis does.
 */
import type { RegionPlan } from '../../regions/plan';
import {
  atLeast, buildDashboard, eq, nre, num, re, series, statPanel, tablePanel, timeseriesPanel, type DashboardJson, type Step,
} from './kit';
import { BUSINESS, HTTP_SERVER, ISTIO } from './metrics';
import { SLI } from '../monitoring/slo';

const FRANCHISE_HEALTH = 'franchise-health';

/** Rolling window of the availability objective and its error budget. */
const SLO_WINDOW = '30d';

/**
 * Burn rates of the Google SRE workbook's multi-window alerts for a 30-day budget: 14.4 spends
 * 2 % of it in an hour (page), 6 spends 5 % in six hours (page).
 */
const PAGE_BURN_RATE_1H = 14.4;
const PAGE_BURN_RATE_6H = 6;

/** Server errors as the availability SLI counts them: no response (0) or 5xx. */
const FAILED_RESPONSE_CODES = '0|5..';

export function franchiseHealthDashboard(plan: RegionPlan): DashboardJson {
  const { global, names, namespaces } = plan;
  const slo = global.monitoring.slo.availability;
  const api = [eq('reporter', 'destination'), eq('destination_workload_namespace', namespaces.app), eq('destination_canonical_service', names.api.app)];
  const rate = (window: string, by = '', ...extra: string[]) =>
    `sum${by ? ` by (${by}) ` : ''}(rate(${series(ISTIO.requests, ...api, ...extra)}[${window}]))`;
  const availability = (window: string, by = '') => `${rate(window, by, nre('response_code', FAILED_RESPONSE_CODES))} / ${rate(window, by)}`;
  // The 30-day figures read the recorded 5-minute SLI (charts/monitoring/slo.ts, the same
  // requests and failures): the raw series over 30 days is 86,400 samples each at a 30 s scrape,
  // and an API of up to 1,000 pods has thousands of series, past Prometheus' query.max-samples
  // (50 million). The mean of the 5-minute rates weighs each window by its traffic, as the rate does.
  const recorded = (metric: string) => `avg_over_time(${series(metric, eq('service', names.api.app))}[${SLO_WINDOW}])`;
  const availability30d = `1 - ${recorded(SLI.errors)} / ${recorded(SLI.requests)}`;
  const burnRate = (window: string) => `(1 - ${availability(window)}) / ${num(1 - slo)}`;
  const bookingsPerMinute = (window: string, by = '') =>
    `sum${by ? ` by (${by}) ` : ''}(rate(${series(BUSINESS.bookingsCreated)}[${window}])) * 60`;
  const serverErrors = (window: string) =>
    `sum by (${HTTP_SERVER.method}, ${HTTP_SERVER.route}) (rate(${series(HTTP_SERVER.durationCount, eq('namespace', namespaces.app), re(HTTP_SERVER.statusCode, '5..'))}[${window}]))`;
  const sloText = `${num(slo * 100)} %`;
  const burnSteps: Step[] = [[null, 'green'], [1, 'orange'], [PAGE_BURN_RATE_6H, 'red']];

  return buildDashboard({
    key: FRANCHISE_HEALTH,
    platform: global.platform.name,
    title: 'Franchise health overview',
    description: `Availability of the booking API against its ${sloText} objective, error budget, bookings and failing endpoints.`,
    rows: [
      {
        title: `Availability objective (${sloText} over ${SLO_WINDOW})`,
        panels: [
          statPanel({
            title: `Availability (${SLO_WINDOW})`,
            description: `Share of API requests answered without a server error over ${SLO_WINDOW}; red below the ${sloText} objective.`,
            queries: [{ expr: availability30d, instant: true }],
            unit: 'percentunit',
            decimals: 3,
            steps: atLeast(slo),
          }),
          statPanel({
            title: `Error budget remaining (${SLO_WINDOW})`,
            description: `Share of the ${SLO_WINDOW} error budget (${num((1 - slo) * 100)} % of requests may fail) not yet spent. Below zero the objective is missed.`,
            queries: [{ expr: `1 - (1 - (${availability30d})) / ${num(1 - slo)}`, instant: true }],
            unit: 'percentunit',
            decimals: 1,
            steps: [[null, 'red'], [0, 'orange'], [0.25, 'green']],
          }),
          statPanel({
            title: 'Error budget burn rate (1 h)',
            description: `How fast the budget burns: 1 spends it exactly in ${SLO_WINDOW}; ${PAGE_BURN_RATE_1H} over 1 h pages.`,
            queries: [{ expr: burnRate('1h'), instant: true }],
            unit: 'short',
            decimals: 2,
            steps: [[null, 'green'], [1, 'orange'], [PAGE_BURN_RATE_1H, 'red']],
          }),
          statPanel({
            title: 'Bookings per minute',
            description: 'Bookings created per minute over the last 5 minutes.',
            queries: [{ expr: bookingsPerMinute('5m'), instant: true }],
            unit: 'short',
            decimals: 1,
          }),
          timeseriesPanel({
            title: 'Availability vs objective',
            description: `API availability per region over 5-minute windows; the dashed line is the ${sloText} objective.`,
            queries: [{ expr: availability('5m', 'region'), legend: '{{region}}' }],
            unit: 'percentunit',
            decimals: 3,
            max: 1,
            steps: atLeast(slo),
          }),
          timeseriesPanel({
            title: 'Error budget burn rate',
            description: `Burn rate over 1 h and 6 h windows (the alerting windows); the alerts page at ${PAGE_BURN_RATE_1H} (1 h) and ${PAGE_BURN_RATE_6H} (6 h).`,
            queries: [
              { expr: burnRate('1h'), legend: '1 h window' },
              { expr: burnRate('6h'), legend: '6 h window' },
            ],
            unit: 'short',
            min: 0,
            steps: burnSteps,
          }),
        ],
      },
      {
        title: 'Bookings',
        panels: [
          timeseriesPanel({
            title: 'Bookings per minute by region',
            description: 'Bookings created per minute in each region.',
            queries: [{ expr: bookingsPerMinute('$__rate_interval', 'region'), legend: '{{region}}' }],
            unit: 'short',
            min: 0,
            width: 24,
          }),
        ],
      },
      {
        title: 'Failing endpoints',
        panels: [
          tablePanel({
            title: 'Top failing endpoints (last 15 min)',
            description: 'API routes answering with 5xx, per second, over the last 15 minutes (the API\'s own HTTP server metrics).',
            queries: [{ expr: `topk(10, ${serverErrors('15m')} > 0)` }],
            unit: 'reqps',
            decimals: 3,
          }),
          timeseriesPanel({
            title: 'Server errors by endpoint',
            description: '5xx responses per second of the five routes failing most.',
            queries: [{ expr: `topk(5, ${serverErrors('$__rate_interval')})`, legend: `{{${HTTP_SERVER.method}}} {{${HTTP_SERVER.route}}}` }],
            unit: 'reqps',
            min: 0,
          }),
        ],
      },
    ],
  });
}
