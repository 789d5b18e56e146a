/**
 * The region's alerting and recording rules (dist/<region>/alerts.yaml), as PrometheusRules
 * the region's Prometheus selects by our label in the monitoring namespace:
 * - `<platform>-slo`: SLI recording rules (success ratio 5m…3d, p95 latency 5m…6h) and the
 *   multiwindow multi-burn-rate and latency alerts of the API and the web front end;
 * - `<platform>-business`: booking rate against last week, payment success;
 * - `<platform>-slo` also holds the edge: the ingress gateway's SLI (burn rate of every public
 *   request, a total outage included), no traffic at all, a gateway pod not scraped;
 * - `<platform>-data-tier`: Postgres replication lag against the RPO, WAL archiving failing or
 *   behind the RPO, a shard site without a primary, base backups older than their schedule,
 *   PgBouncer pool saturation, Redis memory pressure, a Redis tier without a master or without
 *   Sentinel quorum, any data-tier scrape target down;
 * - `<platform>-delivery`: an aborted (rolled back) release;
 * - `<platform>-platform`: the mesh CA certificates' expiry, cluster-metrics targets down.
 * Every alert carries severity, team, summary, description and runbook_url
 * (charts/monitoring/rules.ts); every threshold comes from the region model or from the
 * tuning props below. test/real-servers/promtool.test.ts proves them with promtool.
 */
import { isServingRegion } from '../../regions/model';
import type { Construct } from 'constructs';
import { PrometheusRule, PrometheusRuleSpecGroupsRulesExpr, type PrometheusRuleSpecGroups } from '../../imports/prometheusrule-monitoring.coreos.com';
import type { RegionPlan } from '../../regions/plan';
import { appLabels, SYNC_WAVE, syncWave } from '../lib/metadata';
import { platformRuleGroups, type AlertTuning } from './alerts';
import { monitoringNames } from './names';
import type { PromRuleGroup } from './rules';
import { sloRuleGroups, type SloAlertTuning } from './slo';
import { RegionChart, type RegionChartProps } from '../lib/region-chart';

export interface AlertsChartProps extends RegionChartProps {
  /**
   * Burn-rate alert tuning of the SLO rules.
   * @default the defaults of SloAlertTuning — each documented, with its reason, on its field there
   */
  readonly slo?: SloAlertTuning;
  /**
   * Thresholds of the latency, business and data alerts.
   * @default the defaults of AlertTuning — each documented, with its reason, on its field there
   */
  readonly alerts?: AlertTuning;
}

/** The rule files of a region: PrometheusRule name suffix → its groups. Tests call this without synthesising. */
export function ruleFiles(plan: RegionPlan, props: Pick<AlertsChartProps, 'slo' | 'alerts'> = {}): Record<string, PromRuleGroup[]> {
  const other = platformRuleGroups(plan, props.alerts);
  // A standby region runs only DR sites: the data-tier alerts (the DR standby's lag against the
  // RPO among them) apply; SLOs, bookings and releases have nothing to measure there.
  // The platform file (mesh CA expiry, cluster-metrics targets) applies everywhere.
  if (!isServingRegion(plan.region)) return { 'data-tier': [other.data], platform: [other.platform] };
  return {
    slo: sloRuleGroups(plan, props.slo),
    business: [other.business],
    'data-tier': [other.data],
    delivery: [other.delivery],
    platform: [other.platform],
  };
}

function toSpecGroup(group: PromRuleGroup): PrometheusRuleSpecGroups {
  return {
    name: group.name,
    interval: group.interval,
    rules: group.rules.map((r) => ({
      ...r,
      labels: r.labels ? { ...r.labels } : undefined,
      annotations: r.annotations ? { ...r.annotations } : undefined,
      expr: PrometheusRuleSpecGroupsRulesExpr.fromString(r.expr),
    })),
  };
}

export class AlertsChart extends RegionChart {
  constructor(scope: Construct, props: AlertsChartProps) {
    super(scope, 'alerts', props);
    const { plan } = props;
    const names = monitoringNames(plan);
    for (const [suffix, groups] of Object.entries(ruleFiles(plan, props))) {
      new PrometheusRule(this, suffix, {
        metadata: {
          name: `${plan.global.platform.name}-${suffix}`,
          namespace: plan.namespaces.monitoring,
          labels: { ...appLabels(plan, 'prometheus', 'monitoring'), ...names.selectorLabels },
          // Before the Prometheus resource, so its first start loads every rule.
          annotations: syncWave(SYNC_WAVE.config),
        },
        spec: { groups: groups.map(toSpecGroup) },
      });
    }
  }
}
