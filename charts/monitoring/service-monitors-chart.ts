/**
 * What the region's Prometheus scrapes (dist/<region>/service-monitors.yaml): one PodMonitor
 * per meshed workload and one ServiceMonitor per target outside the mesh, rendered from the
 * scrape-target table (charts/lib/monitoring-targets.ts, which explains the Istio merged
 * endpoint).
 *
 * Every monitor lives in the monitoring namespace and names its target namespace explicitly:
 * the Prometheus resource only loads monitors from there (with our selector label), so no
 * object created in the app or data namespaces can add scrape configuration.
 */
import type { ApiObjectMetadata } from 'cdk8s';
import type { Construct } from 'constructs';
import {
  PodMonitor,
  PodMonitorSpecPodMetricsEndpointsMetricRelabelingsAction as PodMetricRelabelAction,
  PodMonitorSpecPodMetricsEndpointsRelabelingsAction as PodRelabelAction,
  PodMonitorSpecPodMetricsEndpointsScheme,
  type PodMonitorSpecPodMetricsEndpointsRelabelings,
} from '../../imports/podmonitor-monitoring.coreos.com';
import {
  ServiceMonitor, ServiceMonitorSpecEndpointsMetricRelabelingsAction as MetricRelabelAction, ServiceMonitorSpecEndpointsScheme,
} from '../../imports/servicemonitor-monitoring.coreos.com';
import { LABELS } from '../lib/labels';
import { appLabels, SYNC_WAVE, syncWave } from '../lib/metadata';
import { monitoringNames } from './names';
import {
  ISTIO_ENVOY_PROM_PORT_NAME, ISTIO_MERGED_METRICS_PATH, ISTIO_MERGED_METRICS_PORT, ISTIO_UNREAD_METRICS, scrapeTargets,
  type MeshedPodsTarget, type ScrapeTarget, type ServiceTarget,
} from '../lib/monitoring-targets';
import { RegionChart, type RegionChartProps } from '../lib/region-chart';
import { SCRAPE_INTERVAL } from '../lib/promql';

export interface ServiceMonitorsChartProps extends RegionChartProps {
  /**
   * Scrape interval of every target. 30 s: the SLO rules use 5-minute rates, which need at
   * least two samples per window with room for a missed scrape.
   * @default '30s'
   */
  readonly interval?: string;
  /**
   * What to render monitors for.
   * @default scrapeTargets(plan) — the list MonitoringChart grants Prometheus access to, so every
   * monitor can scrape
   */
  readonly targets?: readonly ScrapeTarget[];
}

/** Prometheus' meta label of a pod label: every character outside [a-zA-Z0-9_] becomes `_`. */
function podLabelMeta(key: string): string {
  return `__meta_kubernetes_pod_label_${key.replace(/[^a-zA-Z0-9_]/g, '_')}`;
}

/**
 * Relabelings of a meshed target: keep the sidecar's declared Envoy port as the one target
 * of each pod, then point it at the agent's merged endpoint. `(.+):\d+` keeps the host part
 * of both `10.0.0.7:15090` and `[fd00::7]:15090`.
 */
function mergedEndpointRelabelings(target: MeshedPodsTarget): PodMonitorSpecPodMetricsEndpointsRelabelings[] {
  // Pods without app.kubernetes.io/name (the ingress gateway) get their job from the row.
  const job: PodMonitorSpecPodMetricsEndpointsRelabelings[] = LABELS.name in target.podSelector
    ? []
    : [{ action: PodRelabelAction.REPLACE, replacement: target.name, targetLabel: 'job' }];
  return [
    {
      action: PodRelabelAction.REPLACE,
      sourceLabels: ['__address__'],
      regex: '(.+):\\d+',
      replacement: `$1:${ISTIO_MERGED_METRICS_PORT}`,
      targetLabel: '__address__',
    },
    ...(target.targetLabelsFromPod ?? []).map((copy) => ({
      action: PodRelabelAction.REPLACE,
      sourceLabels: [podLabelMeta(copy.podLabel)],
      regex: copy.regex ?? '(.*)',
      replacement: copy.replacement ?? '$1',
      targetLabel: copy.targetLabel,
    })),
    ...job,
  ];
}

export class ServiceMonitorsChart extends RegionChart {
  constructor(scope: Construct, props: ServiceMonitorsChartProps) {
    super(scope, 'service-monitors', props);
    const { plan } = props;
    const names = monitoringNames(plan);
    const interval = props.interval ?? SCRAPE_INTERVAL;
    const namespace = plan.namespaces.monitoring;
    const meta = (target: ScrapeTarget) => ({
      name: `${plan.global.platform.name}-${target.name}`,
      namespace,
      labels: { ...appLabels(plan, 'prometheus', 'monitoring'), ...names.selectorLabels },
      // Before the Prometheus resource (wave 0), so its first configuration is complete.
      annotations: { ...syncWave(SYNC_WAVE.config), 'bookedbarber.com/scrape-target': target.why },
    });

    for (const target of props.targets ?? scrapeTargets(plan)) {
      if (target.kind === 'meshed-pods') this.podMonitor(target, meta(target), interval);
      else this.serviceMonitor(target, meta(target), interval);
    }
  }

  private podMonitor(target: MeshedPodsTarget, metadata: ApiObjectMetadata, interval: string): void {
    new PodMonitor(this, `pods-${target.name}`, {
      metadata,
      spec: {
        // job = the workload's app name (api, pgbouncer, ...), as `up{job="api"}` reads.
        jobLabel: LABELS.name,
        namespaceSelector: { matchNames: [target.namespace] },
        selector: { matchLabels: { ...target.podSelector } },
        podMetricsEndpoints: [
          {
            port: ISTIO_ENVOY_PROM_PORT_NAME,
            path: ISTIO_MERGED_METRICS_PATH,
            scheme: PodMonitorSpecPodMetricsEndpointsScheme.HTTP,
            interval,
            relabelings: mergedEndpointRelabelings(target),
            // Istio's size histograms: nobody reads them, and they are two of its three histograms.
            metricRelabelings: [{ action: PodMetricRelabelAction.DROP, sourceLabels: ['__name__'], regex: ISTIO_UNREAD_METRICS.join('|') }],
          },
        ],
      },
    });
  }

  private serviceMonitor(target: ServiceTarget, metadata: ApiObjectMetadata, interval: string): void {
    new ServiceMonitor(this, `service-${target.name}`, {
      metadata,
      spec: {
        ...(target.jobLabel ? { jobLabel: target.jobLabel } : {}),
        namespaceSelector: { matchNames: [target.namespace] },
        selector: { matchLabels: { ...target.serviceSelector } },
        endpoints: [
          {
            port: target.portName,
            path: target.path,
            scheme: target.kubeletAuth ? ServiceMonitorSpecEndpointsScheme.HTTPS : ServiceMonitorSpecEndpointsScheme.HTTP,
            interval,
            ...(target.honorLabels ? { honorLabels: true } : {}),
            ...(target.kubeletAuth
              ? {
                  // The projected service-account token of the Prometheus pod; the kubelet checks
                  // it against nodes/metrics (ClusterRole from the kube-prometheus-stack add-on).
                  bearerTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token',
                  tlsConfig: { caFile: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt', insecureSkipVerify: true },
                }
              : {}),
            ...(target.keepMetrics
              ? { metricRelabelings: [{ action: MetricRelabelAction.KEEP, sourceLabels: ['__name__'], regex: target.keepMetrics.join('|') }] }
              : {}),
          },
        ],
      },
    });
  }
}
