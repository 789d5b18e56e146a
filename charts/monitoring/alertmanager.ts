/**
 * The region's Alertmanager as a prometheus-operator resource: a gossip cluster of
 * `replicas`, configured entirely by one AlertmanagerConfig (monitoring-routing.ts) whose keys
 * and webhook URLs come from an ExternalSecret; its ServiceAccount and PDB. The operator runs
 * it as StatefulSet `alertmanager-<name>` behind the `alertmanager-operated` Service.
 */
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import {
  Alertmanager, AlertmanagerSpecContainersResourcesLimits, AlertmanagerSpecContainersResourcesRequests, AlertmanagerSpecInitContainersResourcesLimits,
  AlertmanagerSpecInitContainersResourcesRequests, AlertmanagerSpecResourcesLimits, AlertmanagerSpecResourcesRequests,
  AlertmanagerSpecStorageVolumeClaimTemplateSpecResourcesRequests,
} from '../../imports/alertmanager-monitoring.coreos.com';
import { AlertmanagerConfig } from '../../imports/alertmanagerconfig-monitoring.coreos.com';
import type { ImageRelease } from '../../regions/model';
import type { RegionPlan } from '../../regions/plan';
import { nodePlacement } from '../lib/node-placement';
import { CredentialsFromStore } from '../lib/external-secret';
import { imageReference } from '../lib/image';
import { LABELS } from '../lib/labels';
import { appLabels, SYNC_WAVE, syncWave } from '../lib/metadata';
import { type MonitoringNames, operatorPodSelector } from './names';
import { OPERATED_POD_SECURITY, operatedDisruptionBudget, operatedPodLabels, operatedSpread, quantities, RELOADER_RESOURCES } from './operated';
import { alertmanagerConfigSpec, receiverRemoteKeys, type RoutingTuning } from './routing';


export interface ContainerResources {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly memory: string };
}

export interface RegionAlertmanagerProps {
  /** The region's plan. */
  readonly plan: RegionPlan;
  /** Monitoring object names, computed once in the plan. */
  readonly names: MonitoringNames;
  /**
   * Alertmanager image.
   * @default plan.versions.images.alertmanager — every pin lives once in regions/versions.yaml
   */
  readonly image?: ImageRelease;
  /**
   * @default { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } } — one
   * region's alerts: little CPU, memory for silences and the notification log
   */
  readonly resources?: ContainerResources;
  /**
   * Volume per replica for silences and the notification log, so a restart of every replica
   * (a region-wide upgrade) neither forgets silences nor re-sends pages.
   * @default '1Gi' (StorageClass of the Prometheus volume)
   */
  readonly storage?: string;
  /** How long resolved alerts and expired silences are kept. @default '120h' */
  readonly retention?: string;
  /**
   * Grouping and repeat timing of notifications.
   * @default the defaults of RoutingTuning — each documented, with its reason, on its field there
   */
  readonly routing?: RoutingTuning;
}

export class RegionAlertmanager extends Construct {
  readonly apiObject: Alertmanager;

  constructor(scope: Construct, id: string, props: RegionAlertmanagerProps) {
    super(scope, id);
    const { plan, names } = props;
    const { global } = plan;
    const ns = plan.namespaces.monitoring;
    const image = props.image ?? plan.versions.images.alertmanager;
    const own = appLabels(plan, 'alertmanager', 'alerting');
    const labels = { ...own, [LABELS.version]: image.version };
    const resources = props.resources ?? { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } };
    const selector = operatorPodSelector('alertmanager', names.alertmanager);
    // Before the Alertmanager (wave 0): its first start finds its configuration and Secret.
    const config = (name: string) => ({ name, namespace: ns, labels: own, annotations: syncWave(SYNC_WAVE.config) });

    const receivers = new CredentialsFromStore(this, 'Receivers', {
      plan, name: names.receiversSecret, namespace: ns, labels: own, keys: receiverRemoteKeys(plan),
    });
    new AlertmanagerConfig(this, 'Config', {
      metadata: config(names.alertmanagerConfig),
      spec: alertmanagerConfigSpec(plan, { ...names, receiversSecret: receivers.secretName }, props.routing),
    });
    new k8s.KubeServiceAccount(this, 'ServiceAccount', { metadata: config(names.alertmanagerServiceAccount), automountServiceAccountToken: false });

    this.apiObject = new Alertmanager(this, 'Resource', {
      metadata: { name: names.alertmanager, namespace: ns, labels, annotations: syncWave(SYNC_WAVE.workloads) },
      spec: {
        image: imageReference(image),
        version: image.version,
        replicas: global.monitoring.alertmanager.replicas,
        retention: props.retention ?? '120h',
        // The whole configuration is this AlertmanagerConfig, without the namespace matcher the
        // operator adds to selected ones (our alerts carry the namespace of what they watch).
        // alertmanagerConfigSelector stays unset: no other AlertmanagerConfig can add routes.
        alertmanagerConfiguration: { name: names.alertmanagerConfig, global: { resolveTimeout: '5m' } },
        storage: {
          volumeClaimTemplate: {
            spec: {
              storageClassName: global.monitoring.prometheus.storage.className,
              accessModes: ['ReadWriteOnce'],
              resources: { requests: quantities(AlertmanagerSpecStorageVolumeClaimTemplateSpecResourcesRequests, { storage: props.storage ?? '1Gi' }) },
            },
          },
        },
        resources: {
          requests: quantities(AlertmanagerSpecResourcesRequests, resources.requests),
          limits: quantities(AlertmanagerSpecResourcesLimits, resources.limits),
        },
        serviceAccountName: names.alertmanagerServiceAccount,
        // Alertmanager never calls the Kubernetes API (its configuration is a mounted Secret).
        automountServiceAccountToken: false,
        securityContext: { ...OPERATED_POD_SECURITY },
        podMetadata: { labels: operatedPodLabels(plan, 'alerting', image.version) },
        topologySpreadConstraints: operatedSpread(selector),
        // On-demand nodes only (charts/lib/node-placement.ts).
        affinity: nodePlacement('platform', plan.global.platform.name).affinity,
        containers: [{
          name: 'config-reloader',
          resources: {
            requests: quantities(AlertmanagerSpecContainersResourcesRequests, RELOADER_RESOURCES.requests),
            limits: quantities(AlertmanagerSpecContainersResourcesLimits, RELOADER_RESOURCES.limits),
          },
        }],
        initContainers: [{
          name: 'init-config-reloader',
          resources: {
            requests: quantities(AlertmanagerSpecInitContainersResourcesRequests, RELOADER_RESOURCES.requests),
            limits: quantities(AlertmanagerSpecInitContainersResourcesLimits, RELOADER_RESOURCES.limits),
          },
        }],
      },
    });
    operatedDisruptionBudget(this, 'Budget', {
      name: `${global.platform.name}-alertmanager`, namespace: ns, labels, selector, replicas: global.monitoring.alertmanager.replicas,
    });
  }
}
