/**
 * The region's Prometheus and Alertmanager (dist/<region>/monitoring.yaml), as
 * prometheus-operator resources (the operator comes with the kube-prometheus-stack add-on):
 * - Prometheus (charts/monitoring/prometheus.ts): replicas, retention and volume from
 *   config, external labels region and cluster, rules and monitors selected by our label in
 *   our monitoring namespace only, alerts to the Alertmanager below, optional remote write to
 *   the global store; its ServiceAccount with namespaced read-only Roles derived from the
 *   scrape-target table (charts/monitoring/rbac.ts); a PDB.
 * - Alertmanager (charts/monitoring/alertmanager.ts): configured entirely by one
 *   AlertmanagerConfig (charts/monitoring/routing.ts) whose keys come from an
 *   ExternalSecret; a PDB.
 *
 * Both run outside the Istio mesh (`sidecar.istio.io/inject: "false"`): they scrape the
 * sidecars' merged endpoint on 15020 in plain text (the way past STRICT mTLS, see
 * monitoring-targets.ts); callers outside the mesh (the Argo Rollouts controller running
 * analyses, prometheus-adapter, Grafana) query Prometheus in plain text, which a meshed
 * Prometheus under STRICT would refuse; Alertmanager's receivers are outside the cluster.
 * NetworkPolicies guard each of these paths instead.
 */
import type { Construct } from 'constructs';
import { appLabels } from '../lib/metadata';
import { RegionAlertmanager, type RegionAlertmanagerProps } from './alertmanager';
import { monitoringNames } from './names';
import { RegionPrometheus, type RegionPrometheusProps } from './prometheus';
import { GrafanaDashboardReader, PrometheusRbac } from './rbac';
import { scrapeTargets, type ScrapeTarget } from '../lib/monitoring-targets';
import { RegionChart, type RegionChartProps } from '../lib/region-chart';

export { retentionSize } from './prometheus';

export interface MonitoringChartProps extends RegionChartProps {
  /**
   * What Prometheus scrapes (one Role per target namespace).
   * @default scrapeTargets(plan) — every exporter and app the region renders
   */
  readonly targets?: readonly ScrapeTarget[];
  /**
   * Prometheus settings.
   * @default the defaults of RegionPrometheusProps — each documented, with its reason, on its field
   * there
   */
  readonly prometheus?: Omit<RegionPrometheusProps, 'plan' | 'names'>;
  /**
   * Alertmanager settings.
   * @default the defaults of RegionAlertmanagerProps — each documented, with its reason, on its
   * field there
   */
  readonly alertmanager?: Omit<RegionAlertmanagerProps, 'plan' | 'names'>;
}

export class MonitoringChart extends RegionChart {
  readonly prometheus: RegionPrometheus;
  readonly alertmanager: RegionAlertmanager;

  constructor(scope: Construct, props: MonitoringChartProps) {
    super(scope, 'monitoring', props);
    const { plan } = props;
    const names = monitoringNames(plan);
    new PrometheusRbac(this, 'prometheus-rbac', {
      serviceAccountName: names.prometheusServiceAccount,
      namespace: plan.namespaces.monitoring,
      targets: props.targets ?? scrapeTargets(plan),
      labels: appLabels(plan, 'prometheus', 'monitoring'),
      roleName: `${plan.global.platform.name}-prometheus-discovery`,
    });
    new GrafanaDashboardReader(this, 'grafana-reader', {
      namespace: plan.namespaces.monitoring,
      name: `${plan.global.platform.name}-grafana-dashboards`,
      labels: appLabels(plan, 'grafana', 'monitoring'),
    });
    this.prometheus = new RegionPrometheus(this, 'prometheus', { ...props.prometheus, plan, names });
    this.alertmanager = new RegionAlertmanager(this, 'alertmanager', { ...props.alertmanager, plan, names });
  }
}
