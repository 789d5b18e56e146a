/**
 * The region's Prometheus as a prometheus-operator resource, plus its PDB. The operator turns
 * it into StatefulSet `prometheus-<name>` behind the `prometheus-operated` Service (the plan's
 * names.monitoring.prometheusUrl), in the monitoring namespace.
 */
import { Construct } from 'constructs';
import {
  Prometheus, PrometheusSpecAlertingAlertmanagersApiVersion, PrometheusSpecAlertingAlertmanagersPort, PrometheusSpecContainersResourcesLimits,
  PrometheusSpecContainersResourcesRequests, PrometheusSpecInitContainersResourcesLimits, PrometheusSpecInitContainersResourcesRequests,
  PrometheusSpecResourcesLimits, PrometheusSpecResourcesRequests, PrometheusSpecServiceDiscoveryRole,
  PrometheusSpecStorageVolumeClaimTemplateSpecResourcesRequests,
} from '../../imports/prometheus-monitoring.coreos.com';
import type { RegionPlan } from '../../regions/plan';
import { parseQuantity } from '../../regions/quantity';
import { nodePlacement } from '../lib/node-placement';
import { imageReference } from '../lib/image';
import { LABELS } from '../lib/labels';
import { appLabels, SYNC_WAVE, syncWave } from '../lib/metadata';
import { type MonitoringNames, namespaceSelector, operatorPodSelector } from './names';
import { OPERATED_POD_SECURITY, operatedDisruptionBudget, operatedPodLabels, operatedSpread, quantities, RELOADER_RESOURCES } from './operated';
import { SCRAPE_INTERVAL } from '../lib/promql';

/** `200Gi` × 0.85 → `170GB` (Prometheus reads GB as 2^30 bytes, like Gi). */
export function retentionSize(volume: string, ratio: number): string {
  if (!(ratio > 0 && ratio <= 1)) throw new Error(`retentionSizeRatio (${ratio}) must be in (0, 1]`);
  const gib = Math.floor((parseQuantity(volume) * ratio) / 1024 ** 3);
  if (gib < 1) throw new Error(`Prometheus volume ${volume} is too small for a retention size`);
  return `${gib}GB`;
}

export interface RegionPrometheusProps {
  /** The region's plan. */
  readonly plan: RegionPlan;
  /** Monitoring object names, computed once in the plan. */
  readonly names: MonitoringNames;
  /** Default scrape interval (monitors set their own). @default '30s' */
  readonly scrapeInterval?: string;
  /** Rule evaluation interval (groups set their own). @default '30s' */
  readonly evaluationInterval?: string;
  /**
   * Share of the volume the TSDB may use: past it Prometheus drops its oldest blocks before
   * `retention`, instead of filling the disk and stopping ingestion.
   * @default 0.85
   */
  readonly retentionSizeRatio?: number;
}

export class RegionPrometheus extends Construct {
  readonly apiObject: Prometheus;

  constructor(scope: Construct, id: string, props: RegionPrometheusProps) {
    super(scope, id);
    const { plan, names } = props;
    const { global, region } = plan;
    const ns = plan.namespaces.monitoring;
    const prom = global.monitoring.prometheus;
    const image = plan.versions.images.prometheus;
    const labels = { ...appLabels(plan, 'prometheus', 'monitoring'), [LABELS.version]: image.version };
    const selector = operatorPodSelector('prometheus', names.prometheus);
    const ours = { matchLabels: { ...names.selectorLabels } };
    const onlyMonitoringNamespace = namespaceSelector(ns);

    this.apiObject = new Prometheus(this, 'Resource', {
      metadata: { name: names.prometheus, namespace: ns, labels, annotations: syncWave(SYNC_WAVE.workloads) },
      spec: {
        image: imageReference(image),
        // The operator generates configuration (flags, config fields) for this version.
        version: image.version,
        replicas: prom.replicas,
        retention: prom.retention,
        retentionSize: retentionSize(prom.storage.size, props.retentionSizeRatio ?? 0.85),
        storage: {
          volumeClaimTemplate: {
            spec: {
              storageClassName: prom.storage.className,
              accessModes: ['ReadWriteOnce'],
              resources: { requests: quantities(PrometheusSpecStorageVolumeClaimTemplateSpecResourcesRequests, { storage: prom.storage.size }) },
            },
          },
        },
        resources: {
          requests: quantities(PrometheusSpecResourcesRequests, prom.resources.requests),
          limits: quantities(PrometheusSpecResourcesLimits, prom.resources.limits),
        },
        // On every alert and every remote-written sample: which region and cluster said so.
        externalLabels: { region: region.name, cluster: region.cluster.name },
        scrapeInterval: props.scrapeInterval ?? SCRAPE_INTERVAL,
        evaluationInterval: props.evaluationInterval ?? '30s',
        // EndpointSlices, not the deprecated Endpoints API (the RBAC grants exactly these).
        serviceDiscoveryRole: PrometheusSpecServiceDiscoveryRole.ENDPOINT_SLICE,
        walCompression: true,
        // Rules and monitors: ours only (selector label), from our monitoring namespace only.
        ruleSelector: ours,
        ruleNamespaceSelector: onlyMonitoringNamespace,
        serviceMonitorSelector: ours,
        serviceMonitorNamespaceSelector: onlyMonitoringNamespace,
        podMonitorSelector: ours,
        podMonitorNamespaceSelector: onlyMonitoringNamespace,
        // probeSelector and scrapeConfigSelector stay unset: the operator then selects none.
        alerting: {
          alertmanagers: [{
            namespace: ns,
            name: 'alertmanager-operated',
            port: PrometheusSpecAlertingAlertmanagersPort.fromString('web'),
            apiVersion: PrometheusSpecAlertingAlertmanagersApiVersion.V2,
          }],
        },
        ...(prom.remoteWriteUrl ? { remoteWrite: [{ url: prom.remoteWriteUrl, name: 'global' }] } : {}),
        serviceAccountName: names.prometheusServiceAccount,
        // Service discovery reads the Kubernetes API: the only pod here that gets a token.
        automountServiceAccountToken: true,
        securityContext: { ...OPERATED_POD_SECURITY },
        podMetadata: { labels: operatedPodLabels(plan, 'monitoring', image.version) },
        topologySpreadConstraints: operatedSpread(selector),
        // On-demand nodes only (charts/lib/node-placement.ts).
        affinity: nodePlacement('platform', plan.global.platform.name).affinity,
        containers: [{
          name: 'config-reloader',
          resources: {
            requests: quantities(PrometheusSpecContainersResourcesRequests, RELOADER_RESOURCES.requests),
            limits: quantities(PrometheusSpecContainersResourcesLimits, RELOADER_RESOURCES.limits),
          },
        }],
        initContainers: [{
          name: 'init-config-reloader',
          resources: {
            requests: quantities(PrometheusSpecInitContainersResourcesRequests, RELOADER_RESOURCES.requests),
            limits: quantities(PrometheusSpecInitContainersResourcesLimits, RELOADER_RESOURCES.limits),
          },
        }],
      },
    });
    operatedDisruptionBudget(this, 'Budget', {
      name: `${global.platform.name}-prometheus`, namespace: ns, labels, selector, replicas: prom.replicas,
    });
  }
}
