/**
 * Platform add-ons (dist/argocd/platform-addons.yaml): per region cluster, one Argo CD
 * Application per pinned upstream Helm chart of charts/argocd/addon-catalog.ts, values inline
 * (`helm.valuesObject`), in the root Application's sync waves before the region ApplicationSet:
 * the charts that own CRDs (Istio base, External Secrets, Argo Rollouts, VPA, OpenTelemetry
 * operator), then the monitoring stack, the Istio CNI node agent, istiod, the ingress gateway,
 * and the custom-metrics adapter.
 *
 * Every add-on syncs automatically and self-heals. Charts that own CRDs never prune on their own
 * (a pruned CRD takes every object of its kind with it); the others do. The first Application
 * into a namespace creates it with its Pod Security labels; no Application has a deletion
 * finalizer, so deleting one (or a region) never uninstalls anything from a live cluster.
 */
import { JsonPatch } from 'cdk8s';
import type { Construct } from 'constructs';
import { Application } from '../../imports/application-argoproj.io';
import type { RegionPlan } from '../../regions/plan';
import { addonNamespace, addonProjectName, type AddonSpec, platformAddons, podSecurityLabels, WAVE_LABEL } from './addon-catalog';
import { GlobalChart, type GlobalChartProps } from '../lib/global-chart';
import { meshNetwork, NETWORK_LABEL } from '../lib/mesh-network';
import { LABELS } from '../lib/labels';
import { syncWave } from '../lib/metadata';
import { globOf, regionSourcePath } from './chart';

/** Label naming the add-on an Application installs. */
export const ADDON_LABEL = 'bookedbarber.com/addon';

/** The Application installing an add-on into a region: `<platform>-<region>-<addon>`. */
function addonApplicationName(region: RegionPlan, addon: AddonSpec): string {
  return `${region.global.platform.name}-${region.region.name}-${addon.id}`;
}

export class PlatformAddonsChart extends GlobalChart {
  constructor(scope: Construct, props: GlobalChartProps) {
    super(scope, 'platform-addons', props);
    for (const region of props.plan.regions) {
      const created = new Set<string>();
      for (const addon of platformAddons(region)) {
        // The first add-on (in wave order) into a namespace creates it and owns its labels.
        const createsNamespace = !created.has(addon.namespace);
        created.add(addon.namespace);
        this.application(region, addon, createsNamespace);
      }
    }
  }

  private application(region: RegionPlan, addon: AddonSpec, createsNamespace: boolean): void {
    const { global } = region;
    const chart = {
      repoUrl: addon.repoURL,
      chart: addon.chart,
      targetRevision: addon.version,
      helm: { releaseName: addon.releaseName, valuesObject: addon.values },
    };
    // Files of dist/<region> synced with the chart (a second source), at the revision the add-on
    // Applications themselves come from (the root Application's, main): like the chart, never
    // held back by a region's rollout wave, and never waiting for a wave branch to exist.
    const files = addon.regionFiles ?? [];
    const sources = files.length > 0
      ? { sources: [chart, { repoUrl: global.git.repoURL, targetRevision: global.git.targetRevision, path: regionSourcePath(region.region.name), directory: { recurse: false, include: globOf(files) } }] }
      : { source: chart };
    const platform = global.platform.name;
    const ns = addonNamespace(addon.namespace);
    const application = new Application(this, `${region.region.name}-${addon.id}`, {
      metadata: {
        name: addonApplicationName(region, addon),
        namespace: global.argocd.namespace,
        labels: {
          [LABELS.name]: addon.id,
          [LABELS.instance]: `${addon.id}-${region.region.name}`,
          [LABELS.component]: 'platform-addon',
          [LABELS.version]: addon.version,
          [LABELS.region]: region.region.name,
          [WAVE_LABEL]: String(region.region.rolloutWave),
          [ADDON_LABEL]: addon.id,
        },
        annotations: syncWave(addon.wave),
      },
      spec: {
        project: addonProjectName(global),
        ...sources,
        destination: { server: region.region.cluster.server, namespace: addon.namespace },
        revisionHistoryLimit: 10,
        ignoreDifferences:
          addon.ignoreDifferences.length > 0
            ? addon.ignoreDifferences.map((rule) => ({
                ...rule,
                jsonPointers: rule.jsonPointers ? [...rule.jsonPointers] : undefined,
                jqPathExpressions: rule.jqPathExpressions ? [...rule.jqPathExpressions] : undefined,
              }))
            : undefined,
        syncPolicy: {
          automated: { prune: addon.prune, selfHeal: true, allowEmpty: false },
          syncOptions: [
            // Server-side apply: CRDs such as the Prometheus one exceed the 256 KiB annotation
            // client-side apply would write.
            'ServerSideApply=true',
            ...(createsNamespace ? ['CreateNamespace=true'] : []),
            ...(addon.ignoreDifferences.length > 0 ? ['RespectIgnoreDifferences=true'] : []),
            'PruneLast=true',
            'FailOnSharedResource=true',
          ],
          managedNamespaceMetadata: createsNamespace
            ? {
                labels: {
                  ...podSecurityLabels(ns.enforce),
                  // Istio multi-network: the control plane's namespace names the region's network.
                  ...(ns.name === region.names.mesh.rootNamespace ? { [NETWORK_LABEL]: meshNetwork(region) } : {}),
                  ...ns.labels,
                  [LABELS.name]: ns.name,
                  [LABELS.partOf]: platform,
                  [LABELS.managedBy]: 'argocd',
                },
                annotations: ns.why ? { 'bookedbarber.com/pod-security-exception': ns.why } : undefined,
              }
            : undefined,
          retry: { limit: 10, backoff: { duration: '15s', factor: 2, maxDuration: '5m' } },
        },
      },
    });
    // cdk8s drops null values from props; a JSON patch keeps them, so Helm removes the default.
    // (Patched at spec.source: an add-on that also syncs region files has spec.sources instead.)
    if ((addon.unset ?? []).length > 0 && files.length > 0) throw new Error(`add-on ${addon.id}: unset and regionFiles together are not supported`);
    for (const path of addon.unset ?? []) {
      const parent = path.slice(0, -1).reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], addon.values);
      if (typeof parent !== 'object' || parent === null) {
        throw new Error(`add-on ${addon.id}: cannot unset ${path.join('.')}: ${path.slice(0, -1).join('.')} is not an object in its values`);
      }
      const pointer = ['spec', 'source', 'helm', 'valuesObject', ...path].map((k) => k.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
      application.addJsonPatch(JsonPatch.add(`/${pointer}`, null));
    }
  }
}
