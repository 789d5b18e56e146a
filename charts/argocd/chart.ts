/**
 * Argo CD objects in dist/argocd: what confines each Application (three AppProjects), the
 * ApplicationSets that generate, per region of the model, its capacity Application (node pools,
 * StorageClasses) and its region Application, and the root Application that syncs dist/argocd
 * itself (bootstrap.yaml).
 *
 * Progressive region rollout is a git promotion, not a RollingSync:
 * - every region Application syncs automatically, with prune and self-heal, all the time;
 * - the wave-1 region tracks `global.git.targetRevision` (main); every later wave tracks its own
 *   branch `rollout/wave-<n>`, which only .github/workflows/promote-regions.yml moves: after a
 *   green CI run on main it fast-forwards wave n's branch to a commit only once every Application
 *   of the previous wave reports Synced + Healthy at that very commit (or a later one).
 * Why not RollingSync (Argo CD 2.14): it strips `automated` from every generated Application, so
 * nothing self-heals drift while a step is waiting (a Degraded wave-1 region would leave drift in
 * every other region uncorrected), it needs a controller-wide beta flag, and its gate is "the
 * previous step is Healthy now", not "Healthy at the new revision": a wave-1 Application that has
 * not refreshed yet still reports Healthy at the old commit and lets wave 2 go first. The git
 * gate checks the revision, keeps Argo CD's ordinary automated sync semantics in every region,
 * and leaves an audit trail (the branch history says which commit each wave runs).
 */
import type { Construct } from 'constructs';
import { Application } from '../../imports/application-argoproj.io';
import { ApplicationSet } from '../../imports/applicationset-argoproj.io';
import { AppProject } from '../../imports/appproject-argoproj.io';
import { NAMESPACE_ROLES, type PlatformPlan } from '../../regions/plan';
import type { GlobalConfig } from '../../regions/model';
import {
  ADDON_CLUSTER_KINDS,
  ADDON_FOREIGN_NAMESPACES,
  ADDON_NAMESPACED_KINDS,
  ADDON_NAMESPACES,
  addonHelmRepos,
  addonProjectName,
  addonRegionFiles,
  type IgnoreRule,
  ROOT_SYNC_WAVE,
  WAVE_LABEL,
} from './addon-catalog';
import { CAPACITY_FILES } from '../lib/cluster-capacity';
import { GlobalChart, type GlobalChartProps } from '../lib/global-chart';
import { monitoringForeignNamespaces } from './monitoring-namespaces';
import { LABELS } from '../lib/labels';
import { syncWave } from '../lib/metadata';

export { addonProjectName, WAVE_LABEL };

/** The cluster Argo CD itself runs in (the root Application and its children live there). */
const IN_CLUSTER = { name: 'in-cluster', server: 'https://kubernetes.default.svc' } as const;

/**
 * Kinds the region Applications may create. An explicit allow list: a chart that starts
 * rendering a new kind must add it here, in review (a test checks dist/ against this list).
 */
export const NAMESPACED_KINDS: ReadonlyArray<{ group: string; kind: string }> = [
  { group: '', kind: 'ResourceQuota' },
  { group: '', kind: 'LimitRange' },
  { group: '', kind: 'ServiceAccount' },
  { group: '', kind: 'ConfigMap' },
  { group: '', kind: 'Service' },
  { group: 'networking.k8s.io', kind: 'NetworkPolicy' },
  { group: 'policy', kind: 'PodDisruptionBudget' },
  { group: 'autoscaling', kind: 'HorizontalPodAutoscaler' },
  { group: 'autoscaling.k8s.io', kind: 'VerticalPodAutoscaler' },
  { group: 'argoproj.io', kind: 'Rollout' },
  { group: 'argoproj.io', kind: 'AnalysisTemplate' },
  { group: 'networking.istio.io', kind: 'VirtualService' },
  { group: 'networking.istio.io', kind: 'DestinationRule' },
  { group: 'networking.istio.io', kind: 'Gateway' },
  { group: 'networking.istio.io', kind: 'Sidecar' },
  { group: 'security.istio.io', kind: 'PeerAuthentication' },
  { group: 'security.istio.io', kind: 'AuthorizationPolicy' },
  { group: 'telemetry.istio.io', kind: 'Telemetry' },
  { group: 'networking.istio.io', kind: 'ServiceEntry' },
  { group: 'apps', kind: 'StatefulSet' },
  { group: 'apps', kind: 'Deployment' },
  { group: 'external-secrets.io', kind: 'ExternalSecret' },
  { group: 'opentelemetry.io', kind: 'OpenTelemetryCollector' },
  { group: 'batch', kind: 'CronJob' },
  // The topology Job of every Postgres site (an Argo CD PostSync hook: hooks need the kind allowed too).
  { group: 'batch', kind: 'Job' },
  { group: 'rbac.authorization.k8s.io', kind: 'Role' },
  { group: 'rbac.authorization.k8s.io', kind: 'RoleBinding' },
  // Prometheus and Alertmanager (operator resources), their routing, rules and scrape targets.
  { group: 'monitoring.coreos.com', kind: 'Prometheus' },
  { group: 'monitoring.coreos.com', kind: 'Alertmanager' },
  { group: 'monitoring.coreos.com', kind: 'AlertmanagerConfig' },
  { group: 'monitoring.coreos.com', kind: 'PrometheusRule' },
  { group: 'monitoring.coreos.com', kind: 'ServiceMonitor' },
  { group: 'monitoring.coreos.com', kind: 'PodMonitor' },
  // The region's public DNS records, written to Route 53 by the external-dns add-on.
  { group: 'externaldns.k8s.io', kind: 'DNSEndpoint' },
];
export const CLUSTER_KINDS: ReadonlyArray<{ group: string; kind: string }> = [
  { group: '', kind: 'Namespace' },
  // The region's encrypted EBS classes (charts/storage), which every PVC we render names.
  { group: 'storage.k8s.io', kind: 'StorageClass' },
  // The region's Karpenter node pools and the node class they launch from (charts/nodes).
  { group: 'karpenter.sh', kind: 'NodePool' },
  { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass' },
];

/** Objects every namespace gets from Kubernetes or Istio: never "orphaned". */
const IMPLICIT_OBJECTS = [
  { group: '', kind: 'ConfigMap', name: 'kube-root-ca.crt' },
  { group: '', kind: 'ConfigMap', name: 'istio-ca-root-cert' },
  { group: '', kind: 'ServiceAccount', name: 'default' },
  { group: '', kind: 'Endpoints' },
  // Patroni's state (leader lock, dynamic config, failover and sync keys) and the data volumes
  // of the Postgres StatefulSets: created at run time, never in git.
  { group: '', kind: 'ConfigMap', name: '*-postgres-shard-*-leader' },
  { group: '', kind: 'ConfigMap', name: '*-postgres-shard-*-config' },
  { group: '', kind: 'ConfigMap', name: '*-postgres-shard-*-failover' },
  { group: '', kind: 'ConfigMap', name: '*-postgres-shard-*-sync' },
  { group: '', kind: 'PersistentVolumeClaim' },
];

/** Name of the AppProject of the root Application (it only manages Argo CD objects). */
export function bootstrapProjectName(global: GlobalConfig): string {
  return `${global.argocd.project}-bootstrap`;
}

export interface RolloutWave {
  readonly wave: number;
  /** The git revision this wave's Applications track: main for the first wave, else its branch. */
  readonly targetRevision: string;
  readonly regions: readonly string[];
  /** What the promotion workflow waits for: each region's Application and its capacity Application. */
  readonly applications: readonly string[];
}

/** The region Application of a region: `<platform>-<region>`. */
function regionApplicationName(plan: PlatformPlan, region: string): string {
  return `${plan.global.platform.name}-${region}`;
}

/** The Application syncing a region's node pools and StorageClasses: `<platform>-<region>-capacity`. */
export function capacityApplicationName(plan: PlatformPlan, region: string): string {
  return `${regionApplicationName(plan, region)}-capacity`;
}

/** Files of dist/<region> the region Application leaves to others: the add-ons' (the mesh CA) and the capacity Application's. */
export function filesSyncedElsewhere(plan: PlatformPlan): string[] {
  return [...addonRegionFiles(plan), ...CAPACITY_FILES].sort();
}

/** The folder of the repository holding a region's rendered files (`{{.region}}` in the ApplicationSet). */
export function regionSourcePath(region: string): string {
  return `dist/${region}`;
}

/** Waves in release order, with the revision each one tracks (what the promotion workflow moves). */
export function rolloutWaves(plan: PlatformPlan): RolloutWave[] {
  const waves = [...new Set(plan.regions.map((r) => r.region.rolloutWave))].sort((a, b) => a - b);
  return waves.map((wave, index) => {
    const regions = plan.regions.filter((r) => r.region.rolloutWave === wave).map((r) => r.region.name);
    return {
      wave,
      targetRevision: index === 0 ? plan.global.git.targetRevision : `rollout/wave-${wave}`,
      regions,
      applications: regions.flatMap((r) => [regionApplicationName(plan, r), capacityApplicationName(plan, r)]),
    };
  });
}

/**
 * Fields in dist/<region> that a controller owns after Argo CD applied them. Ignored in the diff,
 * so the Application stays Synced and self-heal does not fight the controller; with
 * ApplyOutOfSyncOnly a sync applies such an object only when git changed it.
 */
export function regionIgnoreDifferences(plan: PlatformPlan): IgnoreRule[] {
  const { names, namespaces } = plan.regions[0]!;
  const namespace = namespaces.app;
  const selectorHash = '/spec/selector/rollouts-pod-template-hash';
  return [
    // The HPAs own the replica count of both Rollouts (git leaves spec.replicas out).
    { group: 'argoproj.io', kind: 'Rollout', name: names.api.rollout, namespace, jsonPointers: ['/spec/replicas'] },
    { group: 'argoproj.io', kind: 'Rollout', name: names.web.rollout, namespace, jsonPointers: ['/spec/replicas'] },
    // The API canary: Argo Rollouts sets the weights of the stable/canary destinations of the
    // routes it manages (git holds 100/0) ...
    {
      group: 'networking.istio.io',
      kind: 'VirtualService',
      name: names.api.virtualService,
      namespace,
      jqPathExpressions: [names.api.route, names.api.idempotentRoute].map((r) => `.spec.http[] | select(.name == "${r}") | .route[].weight`),
    },
    // ... and pins each DestinationRule subset to its ReplicaSet with the pod-template-hash label.
    {
      group: 'networking.istio.io',
      kind: 'DestinationRule',
      name: names.api.destinationRule,
      namespace,
      jqPathExpressions: ['.spec.subsets[]?.labels["rollouts-pod-template-hash"]'],
    },
    // It adds the same hash to the selectors of the canary's Services and of the blue-green
    // active/preview Services, which is how the web release switches traffic.
    ...[names.api.stableService, names.api.canaryService, names.web.activeService, names.web.previewService].map((name) => ({
      group: '',
      kind: 'Service',
      name,
      namespace,
      jsonPointers: [selectorHash],
    })),
  ];
}

/** Namespaces a region Application may deploy into: ours, plus the mesh root for mesh-wide objects. */
export function regionDestinationNamespaces(plan: PlatformPlan): string[] {
  const first = plan.regions[0]!;
  // The ingress gateway's namespace receives the public TLS certificate (mesh chart).
  return [...NAMESPACE_ROLES.map((role) => first.namespaces[role]), first.names.mesh.rootNamespace, first.names.mesh.ingressNamespace, ...monitoringForeignNamespaces(first)];
}

/** An Argo CD directory glob matching exactly these file names (`{a,b}` for several). */
export function globOf(files: readonly string[]): string {
  return files.length === 1 ? files[0]! : `{${files.join(',')}}`;
}

const RETRY = { limit: 10, backoff: { duration: '15s', factor: 2, maxDuration: '5m' } } as const;

/**
 * The field of a generated Application its ApplicationSet leaves as it finds it: auto-sync, so
 * that pausing one region holds. (A change to the template's `automated` therefore reaches
 * existing Applications only by `argocd app set`; docs/argocd.md.)
 */
export const AUTOMATED_SYNC_POINTER = '/spec/syncPolicy/automated';

function gitopsLabels(name: string, platform: string): Record<string, string> {
  return { [LABELS.name]: name, [LABELS.instance]: `${name}-${platform}`, [LABELS.component]: 'gitops' };
}

/**
 * An ApplicationSet of one Application per region (`<platform>-<id>`), each syncing files of
 * dist/<region> at the revision of the region's rollout wave (the promotion workflow reads
 * these elements: the revisions it moves are exactly the ones Argo CD tracks).
 */
function regionApplicationSet(
  scope: Construct,
  plan: PlatformPlan,
  props: {
    readonly id: string;
    readonly wave: number;
    readonly app: (region: string) => string;
    readonly directory: { readonly recurse: boolean; readonly include: string; readonly exclude?: string };
    /** The Application template's ignoreDifferences and syncPolicy. */
    readonly spec: Record<string, unknown>;
  },
): void {
  const { global, regions } = plan;
  const platform = global.platform.name;
  const waves = rolloutWaves(plan);
  const waveOf = (region: string) => waves.find((w) => w.regions.includes(region))!;
  new ApplicationSet(scope, props.id, {
    metadata: {
      name: `${platform}-${props.id}`,
      namespace: global.argocd.namespace,
      labels: gitopsLabels(`argocd-${props.id}`, platform),
      annotations: syncWave(props.wave),
    },
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
              targetRevision: waveOf(r.region.name).targetRevision,
              app: props.app(r.region.name),
            })),
          },
        },
      ],
      // Every Application is created and updated at once; releases progress through the
      // revision each wave tracks (see the file comment), not through the ApplicationSet.
      strategy: { type: 'AllAtOnce' },
      // Deleting the ApplicationSet (or a region from it) must never delete a live region.
      syncPolicy: { preserveResourcesOnDeletion: true },
      // What pauses one region (a restore, a fence): `argocd app set <app> --sync-policy none`
      // removes the Application's `automated`, which the controller would otherwise put back on
      // its next reconcile (it keeps generated Applications equal to the template). Only that
      // field: syncOptions and retry still follow the template. Upstream's "Allow temporarily
      // toggling auto-sync" (applicationset/Controlling-Resource-Modification.md).
      ignoreApplicationDifferences: [{ jsonPointers: [AUTOMATED_SYNC_POINTER] }],
      template: {
        metadata: {
          name: '{{.app}}',
          labels: { [LABELS.partOf]: platform, [LABELS.region]: '{{.region}}', [WAVE_LABEL]: '{{.wave}}' },
        },
        spec: {
          project: global.argocd.project,
          source: { repoUrl: global.git.repoURL, targetRevision: '{{.targetRevision}}', path: regionSourcePath('{{.region}}'), directory: { ...props.directory } },
          // Every object names its namespace; this one (allowed by the project) only makes the
          // Application's own destination valid.
          destination: { server: '{{.server}}', namespace: regionDestinationNamespaces(plan)[0]! },
          revisionHistoryLimit: 10,
          ...props.spec,
        },
      },
    },
  });
}

export class ArgoCdChart extends GlobalChart {
  constructor(scope: Construct, props: GlobalChartProps) {
    super(scope, 'argocd', props);
    const plan = props.plan;
    const { global, regions } = plan;
    const platform = global.platform.name;
    const namespace = global.argocd.namespace;
    const projectWave = syncWave(ROOT_SYNC_WAVE.projects);
    const orphanedResources = { warn: true, ignore: IMPLICIT_OBJECTS.map((o) => ({ ...o })) };

    new AppProject(this, 'project', {
      metadata: { name: global.argocd.project, namespace, labels: gitopsLabels('argocd-project', platform), annotations: projectWave },
      spec: {
        description: `${platform}: the rendered dist/<region> of ${global.git.repoURL}, one Application per region`,
        sourceRepos: [global.git.repoURL],
        destinations: regions.flatMap((r) =>
          regionDestinationNamespaces(plan).map((ns) => ({ name: r.region.cluster.name, server: r.region.cluster.server, namespace: ns })),
        ),
        clusterResourceWhitelist: CLUSTER_KINDS.map((k) => ({ ...k })),
        namespaceResourceWhitelist: NAMESPACED_KINDS.map((k) => ({ ...k })),
        // Objects in our namespaces that git does not know about are shown, not deleted.
        orphanedResources,
      },
    });

    new AppProject(this, 'platform-project', {
      metadata: { name: addonProjectName(global), namespace, labels: gitopsLabels('argocd-platform-project', platform), annotations: projectWave },
      spec: {
        description: `${platform}: pinned upstream Helm charts (Istio, Argo Rollouts, monitoring, VPA, External Secrets, OpenTelemetry) in every region cluster`,
        // The Helm repositories, and this repository when an add-on syncs files of dist/<region>.
        sourceRepos: [...addonHelmRepos(plan), ...(addonRegionFiles(plan).length > 0 ? [global.git.repoURL] : [])],
        destinations: regions.flatMap((r) =>
          [...ADDON_NAMESPACES.map((ns) => ns.name), ...ADDON_FOREIGN_NAMESPACES].map((ns) => ({
            name: r.region.cluster.name,
            server: r.region.cluster.server,
            namespace: ns,
          })),
        ),
        clusterResourceWhitelist: ADDON_CLUSTER_KINDS.map((k) => ({ ...k })),
        namespaceResourceWhitelist: ADDON_NAMESPACED_KINDS.map((k) => ({ ...k })),
        orphanedResources,
      },
    });

    // Node pools and StorageClasses first, each region at its wave's revision (a new node image
    // rolls region by region like everything else). Not in the region Application: every add-on
    // runs on nodes Karpenter launches from these pools, and the region Application syncs only
    // after every add-on is Healthy, so on a new cluster the two would wait for each other.
    regionApplicationSet(this, plan, {
      id: 'capacity',
      wave: ROOT_SYNC_WAVE.capacity,
      app: (region) => capacityApplicationName(plan, region),
      directory: { recurse: false, include: globOf(CAPACITY_FILES) },
      spec: {
        syncPolicy: {
          // No prune: a node pool that disappears from git would drain every node it runs (and a
          // StorageClass is referenced by live volumes); removing one is a reviewed, manual step.
          automated: { prune: false, selfHeal: true, allowEmpty: false },
          // No FailOnSharedResource: this Application takes over the pools a region
          // Application synced before they moved here.
          syncOptions: ['ServerSideApply=true'],
          retry: { limit: RETRY.limit, backoff: { ...RETRY.backoff } },
        },
      },
    });

    // After every platform add-on: the region's objects need their CRDs and controllers.
    regionApplicationSet(this, plan, {
      id: 'regions',
      wave: ROOT_SYNC_WAVE.regions,
      app: (region) => regionApplicationName(plan, region),
      // Only the manifests: generated docs next to them are not Kubernetes objects. Files an
      // add-on syncs before its chart (istiod: the mesh CA), and the node pools and StorageClasses
      // (the capacity Applications), are synced by those alone.
      directory: { recurse: false, include: '*.yaml', exclude: globOf(filesSyncedElsewhere(plan)) },
      spec: {
        ignoreDifferences: regionIgnoreDifferences(plan).map((rule) => ({
          ...rule,
          jsonPointers: rule.jsonPointers ? [...rule.jsonPointers] : undefined,
          jqPathExpressions: rule.jqPathExpressions ? [...rule.jqPathExpressions] : undefined,
        })),
        syncPolicy: {
          // allowEmpty=false: a dist/<region> that renders nothing never prunes a region.
          automated: { prune: true, selfHeal: true, allowEmpty: false },
          syncOptions: [
            'ServerSideApply=true',
            // Apply only what is OutOfSync (the ignored fields do not count), so a sync never
            // re-applies the VirtualService mid-canary (Argo Rollouts' GitOps guidance). Not
            // RespectIgnoreDifferences: for a CRD it patches the live object in with a JSON merge
            // patch, which copies a list whole, so the VirtualService's routes and the
            // DestinationRule's subsets in git would never be applied again (rule
            // argocd-ignored-list-kept). When git does change one of them, the apply resets the
            // weights and subset hashes and Argo Rollouts puts them back at once.
            'ApplyOutOfSyncOnly=true',
            'PruneLast=true',
            'FailOnSharedResource=true',
          ],
          // Automated sync does not retry a revision whose sync failed: retry generously.
          retry: { limit: RETRY.limit, backoff: { ...RETRY.backoff } },
        },
      },
    });
  }
}

/**
 * dist/argocd/bootstrap.yaml: the root Application that syncs every *.yaml in dist/argocd (this
 * file included, so it manages itself) in sync-wave order, and the AppProject confining it to
 * Argo CD's own objects in Argo CD's namespace. Applied by hand once per Argo CD instance.
 */
export class BootstrapChart extends GlobalChart {
  constructor(scope: Construct, props: GlobalChartProps) {
    super(scope, 'bootstrap', props);
    const { global } = props.plan;
    const platform = global.platform.name;
    const namespace = global.argocd.namespace;
    const project = bootstrapProjectName(global);
    const annotations = syncWave(ROOT_SYNC_WAVE.projects);

    new AppProject(this, 'project', {
      metadata: { name: project, namespace, labels: gitopsLabels('argocd-bootstrap-project', platform), annotations },
      spec: {
        description: `${platform}: the root Application, which applies dist/argocd of ${global.git.repoURL}`,
        sourceRepos: [global.git.repoURL],
        destinations: [{ ...IN_CLUSTER, namespace }],
        clusterResourceWhitelist: [],
        namespaceResourceWhitelist: [
          { group: 'argoproj.io', kind: 'AppProject' },
          { group: 'argoproj.io', kind: 'Application' },
          { group: 'argoproj.io', kind: 'ApplicationSet' },
        ],
      },
    });

    new Application(this, 'root', {
      metadata: { name: `${platform}-root`, namespace, labels: gitopsLabels('argocd-root', platform), annotations },
      spec: {
        project,
        source: {
          repoUrl: global.git.repoURL,
          targetRevision: global.git.targetRevision,
          path: 'dist/argocd',
          directory: { recurse: false, include: '*.yaml' },
        },
        destination: { server: IN_CLUSTER.server, namespace },
        revisionHistoryLimit: 10,
        syncPolicy: {
          automated: { prune: true, selfHeal: true, allowEmpty: false },
          syncOptions: ['ServerSideApply=true', 'PruneLast=true', 'FailOnSharedResource=true'],
          retry: { limit: RETRY.limit, backoff: { ...RETRY.backoff } },
        },
      },
    });
  }
}
