/**
 * Argo CD objects (dist/argocd/argocd.yaml): the AppProject confining what the region
 * Applications may deploy, and the ApplicationSet that generates one Application per region
 * from the region model, each syncing dist/<region>.
 *
 * Regions release in rollout-wave order through a RollingSync: the next wave starts only when
 * every Application of the previous one is Healthy. Argo CD forces autosync off on Applications a
 * RollingSync manages (it triggers their syncs itself), so the template carries the sync options
 * and retry policy those syncs use, and no `automated` block that would only log warnings.
 * RollingSync needs `applicationsetcontroller.enable.progressive.syncs: "true"` in
 * argocd-cmd-params-cm (see README).
 */
import type { Construct } from 'constructs';
import { ApplicationSet } from '../imports/applicationset-argoproj.io';
import { AppProject } from '../imports/appproject-argoproj.io';
import { LABELS } from './lib/labels';
import { GlobalChart, type GlobalChartProps } from './lib/global-chart';
import { NAMESPACE_ROLES } from '../regions/plan';

/** Label on each generated Application telling RollingSync its wave. */
export const WAVE_LABEL = 'bookedbarber.com/rollout-wave';

/**
 * Kinds the region Applications may create. An explicit allow list: a chart that starts
 * rendering a new kind must add it here, in review (a test checks dist/ against this list).
 */
export const NAMESPACED_KINDS: ReadonlyArray<{ group: string; kind: string }> = [
  { group: '', kind: 'ResourceQuota' },
  { group: '', kind: 'LimitRange' },
  { group: 'networking.k8s.io', kind: 'NetworkPolicy' },
];
export const CLUSTER_KINDS: ReadonlyArray<{ group: string; kind: string }> = [{ group: '', kind: 'Namespace' }];

export class ArgoCdChart extends GlobalChart {
  constructor(scope: Construct, props: GlobalChartProps) {
    super(scope, 'argocd', props);
    const { global, regions } = props.plan;
    const platform = global.platform.name;
    const namespace = global.argocd.namespace;
    const labels = (name: string) => ({ [LABELS.name]: name, [LABELS.instance]: `${name}-${platform}`, [LABELS.component]: 'gitops' });

    new AppProject(this, 'project', {
      metadata: { name: global.argocd.project, namespace, labels: labels('argocd-project') },
      spec: {
        description: `${platform}: the rendered dist/<region> of ${global.git.repoURL}, one Application per region`,
        sourceRepos: [global.git.repoURL],
        destinations: regions.flatMap((r) =>
          NAMESPACE_ROLES.map((role) => ({ name: r.region.cluster.name, server: r.region.cluster.server, namespace: r.namespaces[role] })),
        ),
        clusterResourceWhitelist: CLUSTER_KINDS.map((k) => ({ ...k })),
        namespaceResourceWhitelist: NAMESPACED_KINDS.map((k) => ({ ...k })),
        // Objects in our namespaces that git does not know about are shown, not deleted.
        orphanedResources: { warn: true },
      },
    });

    new ApplicationSet(this, 'regions', {
      metadata: { name: `${platform}-regions`, namespace, labels: labels('argocd-regions') },
      spec: {
        goTemplate: true,
        goTemplateOptions: ['missingkey=error'],
        generators: [
          {
            list: {
              elements: regions.map((r) => ({
                region: r.region.name,
                cluster: r.region.cluster.name,
                server: r.region.cluster.server,
                wave: String(r.region.rolloutWave),
              })),
            },
          },
        ],
        strategy: {
          type: 'RollingSync',
          rollingSync: {
            steps: [...new Set(regions.map((r) => r.region.rolloutWave))].map((wave) => ({
              matchExpressions: [{ key: WAVE_LABEL, operator: 'In', values: [String(wave)] }],
            })),
          },
        },
        // Deleting the ApplicationSet (or a region from it) must never delete a live region.
        syncPolicy: { preserveResourcesOnDeletion: true },
        template: {
          metadata: {
            name: `${platform}-{{.region}}`,
            labels: { [LABELS.partOf]: platform, [LABELS.region]: '{{.region}}', [WAVE_LABEL]: '{{.wave}}' },
          },
          spec: {
            project: global.argocd.project,
            source: {
              repoUrl: global.git.repoURL,
              targetRevision: global.git.targetRevision,
              path: 'dist/{{.region}}',
              // Only the manifests: generated docs next to them are not Kubernetes objects.
              directory: { recurse: false, include: '*.yaml' },
            },
            destination: { server: '{{.server}}' },
            revisionHistoryLimit: 10,
            syncPolicy: {
              syncOptions: ['ServerSideApply=true', 'RespectIgnoreDifferences=true', 'PruneLast=true', 'FailOnSharedResource=true'],
              retry: { limit: 5, backoff: { duration: '10s', factor: 2, maxDuration: '5m' } },
            },
          },
        },
      },
    });
  }
}
