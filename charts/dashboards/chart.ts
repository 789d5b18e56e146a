/**
 * Grafana dashboards (dist/<region>/dashboards.yaml): franchise health, regional performance,
 * business metrics and infrastructure, each a ConfigMap in the monitoring namespace holding
 * one provisioned dashboard JSON file.
 *
 * Provisioning contract with the kube-prometheus-stack add-on (charts/argocd/addon-catalog.ts):
 * - Grafana's dashboard sidecar loads every ConfigMap labelled `grafana_dashboard: "1"`
 *   (`grafana.sidecar.dashboards.label`/`labelValue`) in the monitoring namespace
 *   (`searchNamespace`, `resource: configmap`), which it may read through the monitoring chart's
 *   Role (charts/monitoring/rbac.ts; its own RBAC is namespaced: the chart's ClusterRole would
 *   read every Secret of the cluster);
 * - the queries name the Prometheus datasource by uid `prometheus`
 *   (`grafana.sidecar.datasources.uid`, the chart's default), pointed at the region's Prometheus;
 * - `grafana_folder` files them in one folder: the sidecar sets `folderAnnotation:
 *   grafana_folder` and its provider `foldersFromFilesStructure: true` (without both, Grafana's
 *   General folder).
 *
 * The JSON is deterministic: fixed uids derived from the dashboard keys, `id: null`, no
 * timestamps or versions, keys sorted; a re-render changes nothing unless the config did.
 */
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import type { RegionPlan } from '../../regions/plan';
import { businessMetricsDashboard } from './business-metrics';
import { franchiseHealthDashboard } from './franchise-health';
import { infrastructureDashboard } from './infrastructure';
import { regionalPerformanceDashboard } from './regional-performance';
import { dashboardExpressionsOf, dashboardFileContent, type DashboardJson, type PanelExpression } from './kit';
import { appLabels, SYNC_WAVE, syncWave } from '../lib/metadata';
import { RegionChart, type RegionChartProps } from '../lib/region-chart';

/** The label Grafana's dashboard sidecar selects ConfigMaps by (kube-prometheus-stack default). */
export const GRAFANA_DASHBOARD_LABEL: Readonly<Record<string, string>> = { grafana_dashboard: '1' };

/**
 * Annotation naming the Grafana folder: honoured when the sidecar sets `folderAnnotation` to it
 * and the provider `foldersFromFilesStructure: true` (grafana chart values).
 */
export const GRAFANA_FOLDER_ANNOTATION = 'grafana_folder';

/** Every dashboard, in the order they render. */
const BUILDERS: ReadonlyArray<(plan: RegionPlan) => DashboardJson> = [
  franchiseHealthDashboard,
  regionalPerformanceDashboard,
  businessMetricsDashboard,
  infrastructureDashboard,
];

export interface ProvisionedDashboard {
  /** ConfigMap holding the dashboard: `<platform>-dashboard-<key>`. */
  readonly configMapName: string;
  /** File name inside the ConfigMap (what the sidecar writes into Grafana's provisioning folder). */
  readonly fileName: string;
  readonly dashboard: DashboardJson;
}

/** The dashboards of a region, built once (tests call this without synthesising). */
export function provisionedDashboards(plan: RegionPlan): ProvisionedDashboard[] {
  const out = BUILDERS.map((build) => {
    const dashboard = build(plan);
    // uid = `<platform>-<key>`; the ConfigMap is named after it.
    const key = dashboard.uid.slice(plan.global.platform.name.length + 1);
    return { configMapName: `${plan.global.platform.name}-dashboard-${key}`, fileName: `${dashboard.uid}.json`, dashboard };
  });
  const uids = out.map((d) => d.dashboard.uid);
  const duplicate = uids.find((u, i) => uids.indexOf(u) !== i);
  if (duplicate) throw new Error(`dashboard uid ${duplicate} is used twice`);
  return out;
}

/** Every PromQL expression of every dashboard, for the parse tests and the whole-tree PromQL check. */
export function dashboardExpressions(plan: RegionPlan): PanelExpression[] {
  return provisionedDashboards(plan).flatMap((d) => dashboardExpressionsOf(d.dashboard));
}

export class DashboardsChart extends RegionChart {
  constructor(scope: Construct, props: RegionChartProps) {
    super(scope, 'dashboards', props);
    const namespace = props.plan.namespaces.monitoring;
    for (const d of provisionedDashboards(props.plan)) {
      new k8s.KubeConfigMap(this, d.configMapName, {
        metadata: {
          name: d.configMapName,
          namespace,
          labels: { ...appLabels(props.plan, 'grafana-dashboards', 'dashboards'), ...GRAFANA_DASHBOARD_LABEL },
          annotations: { ...syncWave(SYNC_WAVE.config), [GRAFANA_FOLDER_ANNOTATION]: props.plan.global.platform.name },
        },
        data: { [d.fileName]: dashboardFileContent(d.dashboard) },
      });
    }
  }
}
