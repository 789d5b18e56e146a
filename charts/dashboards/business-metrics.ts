/**
 * Business metrics: bookings created (and against the same hour last week, the comparison the
 * booking-drop alert makes) and payment success against its threshold.
 */
import type { RegionPlan } from '../../regions/plan';
import { atLeast, buildDashboard, eq, ne, num, series, statPanel, timeseriesPanel, type DashboardJson } from './kit';
import { BUSINESS } from './metrics';

const BUSINESS_METRICS = 'business-metrics';

export function businessMetricsDashboard(plan: RegionPlan): DashboardJson {
  const { global } = plan;
  const { paymentSuccessMin, bookingDropRatio } = global.monitoring.slo;
  const bookings = series(BUSINESS.bookingsCreated);
  const lastHour = `sum(increase(${bookings}[1h]))`;
  const sameHourLastWeek = `sum(increase(${bookings}[1h] offset 1w))`;
  const payments = (by: string, window: string, ...extra: string[]) =>
    `sum${by ? ` by (${by}) ` : ''}(rate(${series(BUSINESS.payments, ...extra)}[${window}]))`;
  // Declined cards are the bank's answer, not a failure: out of the denominator, as
  // PaymentSuccessLow counts them (charts/monitoring/alerts.ts), so panel and alert agree.
  const successRatio = (by: string, window: string) =>
    `${payments(by, window, eq(BUSINESS.paymentOutcomeLabel, BUSINESS.paymentSuccess))} / ${payments(by, window, ne(BUSINESS.paymentOutcomeLabel, BUSINESS.paymentDeclined))}`;
  const pct = (v: number) => `${num(v * 100)} %`;

  return buildDashboard({
    key: BUSINESS_METRICS,
    platform: global.platform.name,
    title: 'Business metrics',
    description: 'Bookings created, compared with the same hour last week, and payment success.',
    rows: [
      {
        title: 'Bookings',
        panels: [
          statPanel({
            title: 'Bookings, last hour',
            description: 'Bookings created in the last hour.',
            queries: [{ expr: lastHour, instant: true }],
            unit: 'short',
            decimals: 0,
          }),
          statPanel({
            title: 'Bookings vs same hour last week',
            description: `Bookings of the last hour as a share of the same hour a week ago; the booking-drop alert fires below ${pct(bookingDropRatio)}.`,
            queries: [{ expr: `${lastHour} / ${sameHourLastWeek}`, instant: true }],
            unit: 'percentunit',
            decimals: 0,
            steps: atLeast(bookingDropRatio),
          }),
          timeseriesPanel({
            title: 'Bookings per hour: this week vs last week',
            description: 'Bookings created in the preceding hour, now and at the same time one week earlier.',
            queries: [
              { expr: lastHour, legend: 'this week' },
              { expr: sameHourLastWeek, legend: 'same hour last week' },
            ],
            unit: 'short',
            min: 0,
          }),
          timeseriesPanel({
            title: 'Bookings per minute by region',
            description: 'Bookings created per minute in each region.',
            queries: [{ expr: `sum by (region) (rate(${bookings}[$__rate_interval])) * 60`, legend: '{{region}}' }],
            unit: 'short',
            min: 0,
            width: 24,
          }),
        ],
      },
      {
        title: `Payments (success threshold ${pct(paymentSuccessMin)})`,
        panels: [
          statPanel({
            title: 'Payment success ratio (1 h)',
            description: `Share of payments that succeeded in the last hour; red below ${pct(paymentSuccessMin)}.`,
            queries: [{ expr: successRatio('', '1h'), instant: true }],
            unit: 'percentunit',
            decimals: 2,
            steps: atLeast(paymentSuccessMin),
          }),
          timeseriesPanel({
            title: 'Payment success ratio vs threshold',
            description: `Payment success per region over 5-minute windows; the dashed line is the ${pct(paymentSuccessMin)} threshold.`,
            queries: [{ expr: successRatio('region', '5m'), legend: '{{region}}' }],
            unit: 'percentunit',
            decimals: 2,
            max: 1,
            steps: atLeast(paymentSuccessMin),
            width: 9,
          }),
          timeseriesPanel({
            title: 'Payments per minute by outcome',
            description: 'Payments per minute, split by how they ended.',
            queries: [{ expr: `${payments(BUSINESS.paymentOutcomeLabel, '$__rate_interval')} * 60`, legend: `{{${BUSINESS.paymentOutcomeLabel}}}` }],
            unit: 'short',
            min: 0,
            width: 9,
          }),
        ],
      },
    ],
  });
}
