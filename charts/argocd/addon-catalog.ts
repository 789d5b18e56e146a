/**
 * The platform add-ons every region cluster runs before our own objects, as data: which upstream
 * Helm chart (repository, name, exact version), where it goes, in which sync wave, with which
 * values, and which fields its own controllers rewrite. One pure function of the region plan, so
 * the AppProject (charts/argocd/chart.ts), the Applications (charts/argocd/addons-chart.ts) and the tests
 * read the very same list.
 *
 * Versions: each add-on's chart (repository, name, exact version) is pinned in
 * regions/versions.yaml (`helmCharts`), read here from the plan; this catalog keeps what is ours
 * (values, namespaces, sync waves, ignored fields).
 */
import { serving } from '../../regions/plan';
import { isServingRegion } from '../../regions/model';
import type { GlobalConfig } from '../../regions/model';
import type { PlatformPlan, RegionPlan } from '../../regions/plan';
import type { HelmChartPin, VersionsConfig } from '../../regions/versions-model';
import { secretRefreshInterval } from '../lib/external-secret';
import { LABELS } from '../lib/labels';
import { EAST_WEST_GATEWAY, MESH_CA_FILE, meshNetwork, NETWORK_LABEL } from '../lib/mesh-network';
import { EXTERNAL_SECRETS_IDENTITY, SECRET_STORE_FILE } from '../lib/secret-store';
import { KUBE_STATE_METRICS_ALLOWLIST, KUBELET } from '../lib/monitoring-targets';
import { dnsEndpointNamespace, EXTERNAL_DNS, externalDnsOwnerId, PUBLIC_DNS_APP } from '../lib/public-dns';
import { MIN_RATE_WINDOW_SECONDS, promDuration, SCRAPE_INTERVAL } from '../lib/promql';

/** Label on region and add-on Applications naming the region's rollout wave (`argocd app list -l`). */
export const WAVE_LABEL = 'bookedbarber.com/rollout-wave';

/** Name of the AppProject confining the platform add-on Applications. */
export function addonProjectName(global: GlobalConfig): string {
  return `${global.argocd.project}-platform`;
}

/** Key of an add-on's chart in regions/versions.yaml `helmCharts`. */
export type HelmChartKey = keyof VersionsConfig['helmCharts'];

/**
 * Sync waves of the objects in dist/argocd, applied by the root Application (bootstrap.yaml).
 * Argo CD waits for every object of a wave to be Healthy before the next one, which for child
 * Applications needs the Application health check in argocd-cm (see README). Lower first:
 * projects, then add-ons in dependency order, then the ApplicationSet of the regions.
 */
export const ROOT_SYNC_WAVE = {
  /** AppProjects (and the root Application itself): every Application names one. */
  projects: -10,
  /** Each region's node pools and StorageClasses (charts/lib/cluster-capacity.ts): every add-on runs on those nodes. */
  capacity: -8,
  /** Charts that own CRDs and need nothing else: Istio CRDs, External Secrets, Argo Rollouts,
   *  VPA, the OpenTelemetry operator, external-dns. */
  crds: -6,
  /** monitoring.coreos.com CRDs + operator + Grafana, whose admin Secret is an ExternalSecret. */
  monitoring: -5,
  /** The CNI node agent: on every node before any meshed pod (the ingress gateway included). */
  meshNode: -4,
  /** istiod: sidecar injection and xDS, once the CRDs are in and redirection works on every node. */
  meshControlPlane: -3,
  /** The ingress gateway: an injected pod, so istiod's webhook must be up. */
  meshIngress: -2,
  /** What only serves our workloads: the custom-metrics adapter for the API's HPA. */
  platform: -1,
  /** The region ApplicationSet: our objects need every add-on above. */
  regions: 0,
} as const;

export type PodSecurityLevel = 'restricted' | 'baseline' | 'privileged';

/** A namespace an add-on lives in, created by Argo CD (CreateNamespace) with these labels. */
export interface AddonNamespace {
  readonly name: string;
  /**
   * Pod Security level enforced. Audit and warn are always "restricted", so anything an
   * enforce level above it lets through still shows up (API warnings, audit log).
   */
  readonly enforce: PodSecurityLevel;
  /** Why the namespace needs more than "restricted" (required unless enforce is restricted). */
  readonly why?: string;
  /** Further labels the namespace carries. @default none */
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * The AWS Load Balancer Controller injects a readiness gate into pods of a labelled namespace
 * that are targets of its load balancers: a new gateway pod counts as Ready (for the rollout and
 * the PDB) only once the load balancer sends it traffic.
 */
const LB_READINESS_GATE = { 'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled' } as const;

/**
 * How a gateway behind a load balancer stops. On SIGTERM its endpoint leaves the Service; the
 * load balancer controller deregisters the target (`deregistrationLagSeconds`, our budget for
 * the controller and the load balancer to act), which stops new connections, and the
 * connections still open get `deregistrationDelaySeconds` before the load balancer resets them.
 * Envoy must keep accepting and serving through both (Istio's default drain is 5 s), and the
 * pod's grace period must outlast the drain.
 */
const GATEWAY_SHUTDOWN = { drainSeconds: 45, graceSeconds: 60, deregistrationLagSeconds: 15, deregistrationDelaySeconds: 30 } as const;

/** Values of the istio/gateway chart for the shutdown above. */
function gatewayShutdownValues(): Record<string, unknown> {
  const drain = `${GATEWAY_SHUTDOWN.drainSeconds}s`;
  return {
    terminationGracePeriodSeconds: GATEWAY_SHUTDOWN.graceSeconds,
    // Merged with the chart's default podAnnotations (inject template, merged metrics).
    // drainDuration is how long Envoy keeps accepting once draining starts (--drain-time-s;
    // Istio's default 45 s); terminationDrainDuration how long pilot-agent waits before it stops
    // Envoy. Both, so that raising one alone cannot stop the gateway accepting early.
    podAnnotations: { 'proxy.istio.io/config': JSON.stringify({ drainDuration: drain, terminationDrainDuration: drain }) },
  };
}

/** Load balancer annotation: a deregistered target's open connections get `deregistrationDelaySeconds`, then are reset. */
const GATEWAY_TARGET_GROUP = {
  'service.beta.kubernetes.io/aws-load-balancer-target-group-attributes':
    `deregistration_delay.timeout_seconds=${GATEWAY_SHUTDOWN.deregistrationDelaySeconds},deregistration_delay.connection_termination.enabled=true`,
} as const;

/**
 * Load balancer health checks of the gateways: Istio's readiness endpoint on the status port, not
 * the controller's default (a TCP connect to the traffic port). /healthz/ready answers 200 only
 * once Envoy holds its configuration from istiod and stops when it starts draining, so a target
 * takes traffic when it can route it; a TCP connect succeeds on a listener that has nothing to route to yet.
 * The status port is the chart's `status-port` (15021) on every gateway pod.
 */
export const GATEWAY_HEALTH_CHECK = {
  'service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol': 'http',
  'service.beta.kubernetes.io/aws-load-balancer-healthcheck-port': '15021',
  'service.beta.kubernetes.io/aws-load-balancer-healthcheck-path': '/healthz/ready',
} as const;

/**
 * Every add-on namespace. "restricted" unless a pod needs host access, which only the Istio CNI
 * node agent does: it writes the CNI config and binary into the node (hostPath), runs in the
 * host network namespace and needs NET_ADMIN/SYS_ADMIN. It gets its own namespace so that only
 * it runs privileged (not istiod in istio-system, and we never relabel kube-system).
 */
export const ADDON_NAMESPACES: readonly AddonNamespace[] = [
  { name: 'istio-system', enforce: 'restricted', labels: LB_READINESS_GATE },
  {
    name: 'istio-cni',
    enforce: 'privileged',
    why: 'the istio-cni node agent installs the CNI plugin on the node (hostPath, host network, NET_ADMIN/SYS_ADMIN)',
  },
  { name: 'istio-ingress', enforce: 'restricted', labels: LB_READINESS_GATE },
  { name: 'external-secrets', enforce: 'restricted' },
  { name: 'monitoring-system', enforce: 'restricted' },
  { name: 'argo-rollouts', enforce: 'restricted' },
  { name: 'vpa-system', enforce: 'restricted' },
  { name: 'opentelemetry-operator-system', enforce: 'restricted' },
  { name: 'prometheus-adapter', enforce: 'restricted' },
  { name: EXTERNAL_DNS.namespace, enforce: 'restricted' },
];

/**
 * Namespaces add-on charts write into without owning them (never created or relabelled by us):
 * prometheus-adapter, an aggregated API server, binds the extension-apiserver-authentication-reader
 * Role in kube-system so the API server's front-proxy requests can be authenticated.
 */
export const ADDON_FOREIGN_NAMESPACES: readonly string[] = ['kube-system'];

/** Pod Security labels of an add-on namespace, pinned like ours to the cluster's version. */
export function podSecurityLabels(level: PodSecurityLevel): Record<string, string> {
  return {
    'pod-security.kubernetes.io/enforce': level,
    'pod-security.kubernetes.io/enforce-version': 'v1.28',
    'pod-security.kubernetes.io/audit': 'restricted',
    'pod-security.kubernetes.io/audit-version': 'v1.28',
    'pod-security.kubernetes.io/warn': 'restricted',
    'pod-security.kubernetes.io/warn-version': 'v1.28',
  };
}

/**
 * Cluster-scoped kinds the add-on charts render (the platform AppProject allows exactly these):
 * CRDs (all charts), RBAC (all), admission webhooks (istio base/istiod, External Secrets,
 * OpenTelemetry operator), the custom-metrics APIService (prometheus-adapter) and the
 * Namespaces Argo CD creates for them (CreateNamespace=true).
 */
export const ADDON_CLUSTER_KINDS: ReadonlyArray<{ group: string; kind: string }> = [
  { group: '', kind: 'Namespace' },
  { group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition' },
  { group: 'rbac.authorization.k8s.io', kind: 'ClusterRole' },
  { group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding' },
  { group: 'admissionregistration.k8s.io', kind: 'MutatingWebhookConfiguration' },
  { group: 'admissionregistration.k8s.io', kind: 'ValidatingWebhookConfiguration' },
  { group: 'apiregistration.k8s.io', kind: 'APIService' },
  // The region's store, synced with External Secrets (charts/secret-store).
  { group: 'external-secrets.io', kind: 'ClusterSecretStore' },
];

/**
 * Namespaced kinds the add-on charts render with the values below (Helm test hooks are not
 * synced by Argo CD). A chart upgrade that needs another kind fails its sync naming the kind:
 * add it here, in review.
 */
export const ADDON_NAMESPACED_KINDS: ReadonlyArray<{ group: string; kind: string }> = [
  { group: '', kind: 'ConfigMap' },
  { group: '', kind: 'Secret' },
  { group: '', kind: 'Service' },
  { group: '', kind: 'ServiceAccount' },
  { group: 'apps', kind: 'DaemonSet' },
  { group: 'apps', kind: 'Deployment' },
  { group: 'autoscaling', kind: 'HorizontalPodAutoscaler' },
  { group: 'policy', kind: 'PodDisruptionBudget' },
  { group: 'rbac.authorization.k8s.io', kind: 'Role' },
  { group: 'rbac.authorization.k8s.io', kind: 'RoleBinding' },
  { group: 'monitoring.coreos.com', kind: 'ServiceMonitor' },
  { group: 'external-secrets.io', kind: 'ExternalSecret' },
];

/** A field an add-on's own controller rewrites after Argo CD applied the chart. */
export interface IgnoreRule {
  readonly group: string;
  readonly kind: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly jsonPointers?: readonly string[];
  readonly jqPathExpressions?: readonly string[];
}

/** CA bundles injected at run time by a controller that manages its own webhook certificates. */
const WEBHOOK_CA_BUNDLES: readonly IgnoreRule[] = [
  { group: 'admissionregistration.k8s.io', kind: 'ValidatingWebhookConfiguration', jqPathExpressions: ['.webhooks[]?.clientConfig.caBundle'] },
  { group: 'admissionregistration.k8s.io', kind: 'MutatingWebhookConfiguration', jqPathExpressions: ['.webhooks[]?.clientConfig.caBundle'] },
];
const CRD_CONVERSION_CA_BUNDLE: IgnoreRule = {
  group: 'apiextensions.k8s.io',
  kind: 'CustomResourceDefinition',
  jqPathExpressions: ['.spec.conversion.webhook?.clientConfig?.caBundle'],
};

export interface AddonSpec {
  /** Short name, unique per cluster: the Application is `<platform>-<region>-<id>`. */
  readonly id: string;
  /** Its entry in regions/versions.yaml `helmCharts`, where repoURL, chart and version come from. */
  readonly pin: HelmChartKey;
  readonly repoURL: string;
  readonly chart: string;
  /** Exact chart version (never a range): what is deployed changes only in review. */
  readonly version: string;
  readonly releaseName: string;
  readonly namespace: string;
  readonly wave: number;
  /**
   * Whether automated sync may delete what disappears from the chart. False for charts that
   * own CRDs: pruning a CRD deletes every object of that kind in the cluster (every Rollout,
   * every ExternalSecret), so an upstream chart dropping or renaming a CRD must be a reviewed
   * manual prune, never a side effect of a version bump.
   */
  readonly prune: boolean;
  readonly values: Record<string, unknown>;
  /**
   * Chart defaults to remove: value paths rendered as `null`, which makes Helm drop the key (an
   * absent value would keep the default). The parent of each path must be in `values`.
   */
  readonly unset?: ReadonlyArray<readonly string[]>;
  readonly ignoreDifferences: readonly IgnoreRule[];
  /**
   * Files of the region's dist/<region> the Application syncs beside its chart (a second
   * source), for what the chart's workloads need at their first start; each object in them sets
   * a sync wave below 0, so Argo CD applies the chart's own objects (wave 0) only once they are
   * Healthy. The region Application leaves these files out.
   * @default - the chart alone
   */
  readonly regionFiles?: readonly string[];
}

/** Where the region's OpenTelemetry collector (rendered by the tracing chart) receives OTLP/gRPC. */
export function otelCollectorEndpoint(region: RegionPlan): { service: string; port: number } {
  return { service: `otel-collector.${region.namespaces.monitoring}.svc.cluster.local`, port: 4317 };
}

/** Name Istio tracing providers are referenced by (Telemetry in the mesh chart uses it). */
export const TRACING_PROVIDER = 'otel-tracing';

/** Secret (in monitoring-system) holding Grafana's admin credentials, from External Secrets. */
export const GRAFANA_ADMIN_SECRET = 'grafana-admin';

/**
 * The custom metric the API's HPA scales on (a Pods metric): requests per second each pod
 * receives, from the server-side Istio proxies (reporter="destination").
 */
export const REQUESTS_PER_SECOND_METRIC = 'istio_requests_per_second';

function prometheusEndpoint(region: RegionPlan): { url: string; port: number } {
  const url = new URL(region.names.monitoring.prometheusUrl);
  return { url: `${url.protocol}//${url.hostname}`, port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) };
}

const restrictedContainer = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  seccompProfile: { type: 'RuntimeDefault' },
};
const restrictedPod = { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } };

/**
 * Spread replicas of an add-on Deployment across the region's zones, as a preference: a hard
 * spread would refuse every replacement and scale-up during a zone outage (charts/lib zoneSpread).
 */
function zoneSpread(matchLabels: Record<string, string>) {
  return [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels } }];
}

/** The chart fields of an add-on, from its pin in regions/versions.yaml. */
function chartOf(versions: VersionsConfig, pin: HelmChartKey): Pick<AddonSpec, 'pin' | 'repoURL' | 'chart' | 'version'> {
  const { repoURL, chart, version }: HelmChartPin = versions.helmCharts[pin];
  return { pin, repoURL, chart, version };
}

/** The add-ons of one region cluster, in wave order. */
export function platformAddons(region: RegionPlan): AddonSpec[] {
  const { global, names } = region;
  const source = (pin: HelmChartKey) => chartOf(region.versions, pin);
  const platform = global.platform.name;
  const sidecar = global.mesh.sidecar;
  const prometheus = prometheusEndpoint(region);
  const collector = otelCollectorEndpoint(region);
  const zones = region.region.zones.length;

  const addons: AddonSpec[] = [
    {
      id: 'istio-base',
      ...source('istioBase'),
      releaseName: 'istio-base',
      namespace: names.mesh.rootNamespace,
      wave: ROOT_SYNC_WAVE.crds,
      prune: false,
      values: { defaultRevision: 'default', global: { istioNamespace: names.mesh.rootNamespace } },
      ignoreDifferences: [
        // istiod patches its CA into the default validator and, once it serves, switches the
        // failurePolicy from Ignore to Fail (Istio's Argo CD notes).
        {
          group: 'admissionregistration.k8s.io',
          kind: 'ValidatingWebhookConfiguration',
          jqPathExpressions: ['.webhooks[]?.clientConfig.caBundle', '.webhooks[]?.failurePolicy'],
        },
      ],
    },
    {
      id: 'external-secrets',
      ...source('externalSecrets'),
      releaseName: EXTERNAL_SECRETS_IDENTITY.name,
      namespace: EXTERNAL_SECRETS_IDENTITY.namespace,
      wave: ROOT_SYNC_WAVE.crds,
      prune: false,
      // The region's ClusterSecretStore (charts/secret-store), after the chart's objects: every
      // ExternalSecret of the cluster, from the next wave on, reads through it.
      regionFiles: [SECRET_STORE_FILE],
      values: {
        installCRDs: true,
        replicaCount: 2,
        leaderElect: true,
        podDisruptionBudget: { enabled: true, minAvailable: 1 },
        topologySpreadConstraints: zoneSpread({ 'app.kubernetes.io/name': 'external-secrets' }),
        // Metrics Services, no ServiceMonitor: the region Prometheus selects monitors in the
        // monitoring namespace only, and the monitoring CRDs arrive one wave later
        // (kube-prometheus-stack needs External Secrets for Grafana's admin Secret).
        serviceMonitor: { enabled: false },
        metrics: { service: { enabled: true } },
        webhook: { replicaCount: 2, podDisruptionBudget: { enabled: true, minAvailable: 1 }, metrics: { service: { enabled: true } } },
        certController: { replicaCount: 1, metrics: { service: { enabled: true } } },
      },
      // The cert-controller issues the webhook certificate itself and writes its CA into the
      // CRD conversion webhooks and the ValidatingWebhookConfigurations.
      ignoreDifferences: [CRD_CONVERSION_CA_BUNDLE, ...WEBHOOK_CA_BUNDLES],
    },
    {
      id: 'kube-prometheus-stack',
      ...source('kubePrometheusStack'),
      releaseName: 'kube-prometheus-stack',
      namespace: 'monitoring-system',
      wave: ROOT_SYNC_WAVE.monitoring,
      prune: false,
      values: {
        crds: { enabled: true },
        // Prometheus and Alertmanager are rendered per region by the monitoring chart (operator
        // CRs in the monitoring namespace); they scrape and evaluate only what that chart
        // selects there (its scrape-target table reads kube-state-metrics from this release,
        // and cAdvisor from the kubelet Service the operator maintains).
        // So this release brings the operator, kube-state-metrics and Grafana, and none of the
        // monitors, rules and dashboards nothing would read: no node-exporter (which would also
        // need a privileged namespace), no kubelet monitor of its own (the monitoring chart
        // renders one), no default rules or dashboards.
        prometheus: { enabled: false },
        alertmanager: { enabled: false },
        // The PrometheusRule admission webhook needs certificates patched in by Helm hook Jobs,
        // which fight Argo CD; our rules are checked with promtool in CI instead.
        prometheusOperator: {
          admissionWebhooks: { enabled: false },
          tls: { enabled: false },
          resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '512Mi' } },
          // The operator keeps a selector-less Service kube-system/kube-prometheus-stack-kubelet
          // with one endpoint per node (written at run time by the operator, not by this
          // release); the monitoring chart's kubelet ServiceMonitor scrapes cAdvisor through it.
          kubeletService: { enabled: true, namespace: KUBELET.namespace },
        },
        // EKS runs the control plane out of reach and kube-proxy serves metrics on localhost
        // only; CoreDNS is an EKS add-on. Each of these would also put a Service into
        // kube-system: this release never writes there.
        kubeControllerManager: { enabled: false },
        kubeScheduler: { enabled: false },
        kubeEtcd: { enabled: false },
        kubeProxy: { enabled: false },
        coreDns: { enabled: false },
        kubelet: { enabled: false },
        kubeStateMetrics: { enabled: true },
        // Least privilege: kube-state-metrics' ClusterRole lists and watches exactly the kinds
        // of these collectors (the subchart derives its rules from the list; the default list
        // includes Secrets and ConfigMaps), and exports only the series a rule or panel reads.
        // The region Prometheus scrapes it through the monitoring chart's ServiceMonitor.
        'kube-state-metrics': {
          collectors: ['horizontalpodautoscalers', 'pods'],
          metricAllowlist: [...KUBE_STATE_METRICS_ALLOWLIST],
          rbac: { create: true, useClusterRole: true },
          prometheus: { monitor: { enabled: false } },
        },
        nodeExporter: { enabled: false },
        defaultRules: { create: false },
        grafana: {
          enabled: true,
          // Our dashboards are provisioned by the dashboards chart; the stack's defaults need the
          // node-exporter, kubelet and recording rules left out above.
          defaultDashboardsEnabled: false,
          // Pod Security "restricted", stated rather than left to the chart's defaults.
          securityContext: { ...restrictedPod, runAsUser: 472, runAsGroup: 472, fsGroup: 472 },
          containerSecurityContext: { ...restrictedContainer, readOnlyRootFilesystem: false },
          admin: { existingSecret: GRAFANA_ADMIN_SECRET, userKey: 'admin-user', passwordKey: 'admin-password' },
          // A Role in its own namespace (ConfigMaps and Secrets of monitoring-system, for the
          // datasource sidecar), not the chart's default ClusterRole: with any sidecar on, that
          // grants get/list/watch on every ConfigMap and Secret of the cluster (grafana chart
          // templates/clusterrole.yaml), so a Grafana compromise would read the mesh CA key and
          // every database credential. The monitoring chart's Role lets it read the ConfigMaps
          // of the monitoring namespace (charts/monitoring/rbac.ts GrafanaDashboardReader).
          rbac: { namespaced: true },
          sidecar: {
            // Dashboards are ConfigMaps labelled grafana_dashboard=1 in the monitoring namespace
            // only (the dashboards chart renders ours as provisioned JSON); ConfigMaps only.
            // The sidecar writes each into the folder its grafana_folder annotation names, and
            // Grafana's provider turns those directories into dashboard folders.
            dashboards: {
              enabled: true, label: 'grafana_dashboard', labelValue: '1', searchNamespace: region.namespaces.monitoring, resource: 'configmap',
              folderAnnotation: 'grafana_folder', provider: { foldersFromFilesStructure: true },
            },
            // The scrape interval Grafana assumes for $__rate_interval (4 x it): set to ours, since the
            // chart falls back on a default when its own Prometheus is disabled.
            datasources: {
              enabled: true, defaultDatasourceEnabled: true, isDefaultDatasource: true, url: names.monitoring.prometheusUrl, defaultDatasourceScrapeInterval: SCRAPE_INTERVAL,
              // The chart adds an Alertmanager data source by default, at its own Alertmanager's
              // address (<release>-alertmanager.monitoring-system:9093, templates/grafana/
              // configmaps-datasources.yaml), which is off here: ours is the monitoring chart's, and
              // only Prometheus may reach it. Left on, Grafana would show a data source that always fails.
              alertmanager: { enabled: false },
            },
            securityContext: restrictedContainer,
          },
        },
        // Grafana's admin credentials come from the secret store, never from values. The
        // region Prometheus' access to the kubelets: cluster-scoped (nodes/metrics, which the
        // kubelet checks for /metrics/cadvisor; not nodes/proxy) and discovery of the kubelet
        // Service in kube-system, neither of which the region's own Application may write.
        extraManifests: [
          {
            apiVersion: 'external-secrets.io/v1beta1',
            kind: 'ExternalSecret',
            metadata: { name: GRAFANA_ADMIN_SECRET, namespace: 'monitoring-system' },
            spec: {
              refreshInterval: secretRefreshInterval(global),
              secretStoreRef: { kind: global.secretStore.kind, name: global.secretStore.name },
              target: { name: GRAFANA_ADMIN_SECRET, creationPolicy: 'Owner' },
              data: [
                { secretKey: 'admin-user', remoteRef: { key: `${platform}/grafana-admin`, property: 'user' } },
                { secretKey: 'admin-password', remoteRef: { key: `${platform}/grafana-admin`, property: 'password' } },
              ],
            },
          },
          ...kubeletScrapeRbac(region),
        ],
      },
      ignoreDifferences: [],
    },
    {
      id: 'argo-rollouts',
      ...source('argoRollouts'),
      releaseName: 'argo-rollouts',
      namespace: 'argo-rollouts',
      wave: ROOT_SYNC_WAVE.crds,
      prune: false,
      values: {
        installCRDs: true,
        keepCRDs: true,
        controller: {
          replicas: 2,
          pdb: { enabled: true, minAvailable: 1 },
          // The metrics Service the monitoring chart scrapes (its Prometheus selects monitors in
          // the monitoring namespace only, so no ServiceMonitor here).
          metrics: { enabled: true, serviceMonitor: { enabled: false } },
          resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } },
          // No labelSelector: the chart fills in the controller Deployment's own selector.
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' }],
        },
        dashboard: { enabled: false },
        // Least privilege: only the traffic router we use (Istio) gets RBAC.
        providerRBAC: {
          enabled: true,
          providers: {
            istio: true,
            smi: false,
            ambassador: false,
            awsLoadBalancerController: false,
            awsAppMesh: false,
            traefik: false,
            apisix: false,
            contour: false,
            glooPlatform: false,
            gatewayAPI: false,
          },
        },
      },
      ignoreDifferences: [],
    },
    {
      id: 'vpa',
      ...source('vpa'),
      releaseName: 'vpa',
      namespace: 'vpa-system',
      wave: ROOT_SYNC_WAVE.crds,
      prune: false,
      values: {
        // Recommendations only: the HPAs own the replica count and the pods' requests come from
        // git; an updater evicting pods to resize them would fight both.
        recommender: {
          enabled: true,
          podSecurityContext: { ...restrictedPod, runAsUser: 65534 },
          securityContext: restrictedContainer,
        },
        updater: { enabled: false },
        admissionController: { enabled: false },
        'metrics-server': { enabled: false },
      },
      ignoreDifferences: [],
    },
    {
      id: 'opentelemetry-operator',
      ...source('opentelemetryOperator'),
      releaseName: 'opentelemetry-operator',
      namespace: 'opentelemetry-operator-system',
      wave: ROOT_SYNC_WAVE.crds,
      prune: false,
      values: {
        replicaCount: 2,
        pdb: { create: true, minAvailable: 1 },
        manager: { serviceMonitor: { enabled: false } },
        // No cert-manager in these clusters: the chart generates the webhook certificate.
        admissionWebhooks: {
          certManager: { enabled: false },
          autoGenerateCert: { enabled: true, recreate: false },
          secretAnnotations: {},
        },
      },
      // The chart makes the certificate Secret a Helm pre-install/pre-upgrade hook, which Argo CD
      // would re-create with a new random certificate on every sync while keeping the webhooks'
      // CA bundle (ignored below): a plain object instead, created once.
      unset: [
        ['admissionWebhooks', 'secretAnnotations', 'helm.sh/hook'],
        ['admissionWebhooks', 'secretAnnotations', 'helm.sh/hook-delete-policy'],
      ],
      // The generated certificate is random on every render (Argo CD renders without Helm's
      // `lookup`): keep the one created at install everywhere it appears, consistently.
      ignoreDifferences: [
        { group: '', kind: 'Secret', namespace: 'opentelemetry-operator-system', jsonPointers: ['/data'] },
        CRD_CONVERSION_CA_BUNDLE,
        ...WEBHOOK_CA_BUNDLES,
      ],
    },
    ...(isServingRegion(region.region) ? [externalDnsAddon(region, source)] : []),
    {
      id: 'istio-cni',
      ...source('istioCni'),
      releaseName: 'istio-cni',
      namespace: 'istio-cni',
      wave: ROOT_SYNC_WAVE.meshNode,
      prune: true,
      values: {
        // Our namespaces enforce Pod Security "restricted", which forbids the NET_ADMIN
        // istio-init container: the node agent sets up the traffic redirection instead.
        seccompProfile: { type: 'RuntimeDefault' },
        global: { istioNamespace: names.mesh.rootNamespace },
      },
      ignoreDifferences: [],
    },
    {
      id: 'istiod',
      ...source('istiod'),
      releaseName: 'istiod',
      namespace: names.mesh.rootNamespace,
      wave: ROOT_SYNC_WAVE.meshControlPlane,
      prune: true,
      // cacerts: istiod reads its CA once, at start, and signs with a root of its own without it.
      regionFiles: [MESH_CA_FILE],
      values: {
        pilot: {
          // Inject the istio-validation init container (no privileges) instead of istio-init.
          cni: { enabled: true },
          autoscaleMin: 2,
          replicaCount: 2,
          seccompProfile: { type: 'RuntimeDefault' },
        },
        global: {
          istioNamespace: names.mesh.rootNamespace,
          // Multi-primary, multi-network (one network per region): regions share the mesh ID and
          // the root CA (cacerts, charts/mesh-ca); cross-region traffic enters through each
          // region's east-west gateway.
          meshID: platform,
          multiCluster: { clusterName: region.region.cluster.name },
          network: meshNetwork(region),
          // Every sidecar's resources, as counted by the namespace quotas of the region model.
          proxy: {
            resources: {
              requests: { cpu: sidecar.requests.cpu, memory: sidecar.requests.memory },
              limits: { memory: sidecar.limits.memory },
            },
          },
        },
        meshConfig: {
          // Sidecars merge the app's own metrics into their scrape endpoint.
          enablePrometheusMerge: true,
          defaultConfig: {
            proxyMetadata: {
              // The sidecar answers DNS for ServiceEntry hosts (the other regions' *.global
              // names no DNS server knows) and gives each a virtual IP of its own, so a
              // ServiceEntry without addresses gets a listener for that address only. (Istio 1.25
              // deprecates this flag for istiod's PILOT_ENABLE_IP_AUTOALLOCATE: revisit on upgrade.)
              ISTIO_META_DNS_CAPTURE: 'true',
              ISTIO_META_DNS_AUTO_ALLOCATE: 'true',
            },
          },
          // Telemetry (mesh chart) sends spans to this provider: the region's OTel collector.
          extensionProviders: [{ name: TRACING_PROVIDER, opentelemetry: { service: collector.service, port: collector.port } }],
        },
      },
      // istiod writes its CA into the injector and validator webhooks it owns, and turns the
      // validator's failurePolicy from Ignore to Fail once it serves.
      ignoreDifferences: [
        {
          group: 'admissionregistration.k8s.io',
          kind: 'ValidatingWebhookConfiguration',
          jqPathExpressions: ['.webhooks[]?.clientConfig.caBundle', '.webhooks[]?.failurePolicy'],
        },
        { group: 'admissionregistration.k8s.io', kind: 'MutatingWebhookConfiguration', jqPathExpressions: ['.webhooks[]?.clientConfig.caBundle'] },
      ],
    },
    {
      id: 'istio-ingressgateway',
      ...source('istioGateway'),
      releaseName: names.mesh.ingressServiceAccount,
      namespace: names.mesh.ingressNamespace,
      wave: ROOT_SYNC_WAVE.meshIngress,
      prune: true,
      values: {
        // The labels our Gateway selects and the identity our AuthorizationPolicies allow.
        labels: { ...names.mesh.ingressSelector },
        serviceAccount: { create: true, name: names.mesh.ingressServiceAccount },
        autoscaling: { enabled: true, minReplicas: Math.max(3, zones), maxReplicas: 30, targetCPUUtilizationPercentage: 70 },
        podDisruptionBudget: { maxUnavailable: 1 },
        topologySpreadConstraints: zoneSpread(names.mesh.ingressSelector),
        // Pod Security "restricted" (with the sysctl that lets the proxy bind 80/443 as non-root).
        securityContext: {
          ...restrictedPod,
          sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }],
        },
        resources: { requests: { cpu: '500m', memory: '256Mi' }, limits: { memory: '1Gi' } },
        ...gatewayShutdownValues(),
        service: {
          type: 'LoadBalancer',
          annotations:
            region.region.provider === 'aws'
              ? {
                  'service.beta.kubernetes.io/aws-load-balancer-type': 'external',
                  'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip',
                  'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internet-facing',
                  ...GATEWAY_TARGET_GROUP,
                  ...GATEWAY_HEALTH_CHECK,
                }
              : {},
        },
      },
      ignoreDifferences: [],
    },
    {
      // The other regions' sidecars reach this region's exported hosts through it (15443,
      // AUTO_PASSTHROUGH: routed by SNI, mTLS not terminated). Istio's multi-network install:
      // the gateway chart with the network label and the requested network view.
      id: 'istio-eastwestgateway',
      ...source('istioGateway'),
      releaseName: EAST_WEST_GATEWAY.name,
      namespace: EAST_WEST_GATEWAY.namespace,
      wave: ROOT_SYNC_WAVE.meshIngress,
      prune: true,
      values: {
        labels: { ...EAST_WEST_GATEWAY.labels, [NETWORK_LABEL]: meshNetwork(region) },
        // Not `networkGateway`: in the 1.24 chart it writes ISTIO_META_REQUESTED_NETWORK_VIEW a
        // second time (a duplicate env entry server-side apply rejects) and replaces our ports
        // with 15012/15017 (istiod exposure, which ServiceEntry-based routing does not need).
        serviceAccount: { create: true, name: EAST_WEST_GATEWAY.name },
        env: { ISTIO_META_REQUESTED_NETWORK_VIEW: meshNetwork(region) },
        autoscaling: { enabled: true, minReplicas: Math.max(3, zones), maxReplicas: 10, targetCPUUtilizationPercentage: 70 },
        podDisruptionBudget: { maxUnavailable: 1 },
        topologySpreadConstraints: zoneSpread(EAST_WEST_GATEWAY.labels),
        securityContext: restrictedPod,
        resources: { requests: { cpu: '500m', memory: '256Mi' }, limits: { memory: '1Gi' } },
        ...gatewayShutdownValues(),
        service: {
          type: 'LoadBalancer',
          // Only the status port (load balancer health checks) and the passthrough port.
          ports: [
            { name: 'status-port', port: 15021, targetPort: 15021, protocol: 'TCP' },
            { name: 'tls', port: EAST_WEST_GATEWAY.port, targetPort: EAST_WEST_GATEWAY.port, protocol: 'TCP' },
          ],
          annotations:
            region.region.provider === 'aws'
              ? {
                  'service.beta.kubernetes.io/aws-load-balancer-type': 'external',
                  'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip',
                  // Reached from the other regions' VPCs (peering / transit), not the internet.
                  'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internal',
                  ...GATEWAY_TARGET_GROUP,
                  ...GATEWAY_HEALTH_CHECK,
                }
              : {},
          // Who may connect: the other regions' VPCs, and nothing else. Without source ranges the
          // AWS Load Balancer Controller's NLB security group (v2.6+) admits, depending on its
          // version, 0.0.0.0/0 or, for an internal scheme, only the load balancer's own VPC, where
          // no caller of this gateway is (pkg/service/model_build_managed_sg.go
          // buildCIDRsFromSourceRanges). Controllers before v2.6 ignore the ranges for ip targets
          // without client IP preservation.
          loadBalancerSourceRanges: [...region.peerVpcCidrs],
        },
      },
      ignoreDifferences: [],
    },
    {
      id: 'prometheus-adapter',
      ...source('prometheusAdapter'),
      releaseName: 'prometheus-adapter',
      namespace: 'prometheus-adapter',
      wave: ROOT_SYNC_WAVE.platform,
      prune: true,
      values: {
        replicas: 2,
        podDisruptionBudget: { enabled: true, maxUnavailable: 1 },
        prometheus: { url: prometheus.url, port: prometheus.port },
        // The adapter's query for a Pods metric names every pod the HPA selects (pod=~"a|b|...");
        // at a release peak (~2,000 API pods) that is ~70 KB, which a GET carries in the URL:
        // past Envoy's 60 KiB header limit and most proxies' (prometheus-adapter#668). POST puts
        // it in the body (cmd/adapter/adapter.go, --prometheus-verb; Prometheus takes both).
        extraArguments: ['--prometheus-verb=POST'],
        podSecurityContext: restrictedPod,
        securityContext: restrictedContainer,
        rules: {
          // Only what our HPAs read; CPU and memory come from metrics-server (metrics.k8s.io),
          // so this adapter registers the custom metrics API alone.
          default: false,
          custom: [
            {
              seriesQuery: 'istio_requests_total{reporter="destination",namespace!="",pod!=""}',
              resources: { overrides: { namespace: { resource: 'namespace' }, pod: { resource: 'pod' } } },
              name: { matches: '^istio_requests_total$', as: REQUESTS_PER_SECOND_METRIC },
              // Four scrapes per window (MIN_RATE_WINDOW_SECONDS): a missed scrape never empties the rate.
              metricsQuery: `sum(rate(<<.Series>>{<<.LabelMatchers>>,reporter="destination"}[${promDuration(MIN_RATE_WINDOW_SECONDS)}])) by (<<.GroupBy>>)`,
            },
          ],
        },
      },
      ignoreDifferences: [],
    },
  ];
  // A standby region (DR sites only) needs the mesh, secrets and monitoring, nothing that serves
  // users, releases them or publishes them in DNS.
  const kept = isServingRegion(region.region) ? addons : addons.filter((a) => STANDBY_REGION_ADDONS.has(a.id));
  return [...kept].sort((a, b) => a.wave - b.wave);
}

/** external-dns: serving regions only (a standby region is not in public DNS). */
function externalDnsAddon(region: RegionPlan, source: (pin: HelmChartKey) => ReturnType<typeof chartOf>): AddonSpec {
  const { global } = region;
  return {
    // The Route 53 records of the public host names: the DNSEndpoints of charts/dns (see
    // charts/lib/public-dns.ts for the records and why they point where they do). One instance
    // per region, each writing only its own region's records: a failed region's external-dns
    // being down changes nothing, its records stay and its health check takes it out.
    id: 'external-dns',
    ...source('externalDns'),
    releaseName: EXTERNAL_DNS.releaseName,
    namespace: EXTERNAL_DNS.namespace,
    wave: ROOT_SYNC_WAVE.crds,
    // Owns the DNSEndpoint CRD (the chart's crds/ folder): pruning it would delete every record.
    prune: false,
    values: {
      provider: { name: 'aws' },
      // Our DNSEndpoints only: no `service`/`ingress` source, so no Service or Ingress in the
      // cluster can publish a name by annotation, and the ClusterRole reads DNSEndpoints only.
      sources: ['crd'],
      // `sync`, not `upsert-only`: git is the source of truth, so a record removed from dist/
      // (a region taken out of DNS by dropping dns.ingressLoadBalancer, a host renamed) is
      // removed from Route 53 too; under upsert-only it would stay and keep answering
      // (health checks permitting) until someone deleted it by hand. The TXT registry limits
      // deletes to what this region's owner ID created: never another region's record of
      // the same name, never a record made outside external-dns.
      policy: 'sync',
      registry: 'txt',
      txtOwnerId: externalDnsOwnerId(region),
      domainFilters: [global.dns.zone],
      // Only our DNSEndpoints, in the one namespace the region Applications put them in.
      labelFilter: `${LABELS.name}=${PUBLIC_DNS_APP}`,
      extraArgs: {
        namespace: dnsEndpointNamespace(region),
        // The public zone only, never a private zone of the same name.
        'aws-zone-type': 'public',
      },
      // IRSA: the pod gets the region's IAM role (Route 53 changes on the zone) through its
      // ServiceAccount; no access keys anywhere.
      serviceAccount: {
        create: true,
        name: EXTERNAL_DNS.serviceAccount,
        annotations: { 'eks.amazonaws.com/role-arn': serving(region).dns.externalDnsRoleArn },
      },
      env: [{ name: 'AWS_DEFAULT_REGION', value: region.region.name }],
      // Pod Security "restricted", stated rather than left to the chart's defaults.
      podSecurityContext: { ...restrictedPod, fsGroup: 65534 },
      securityContext: { ...restrictedContainer, privileged: false, runAsUser: 65532, runAsGroup: 65532 },
      resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
      serviceMonitor: { enabled: false },
    },
    ignoreDifferences: [],
  };
}

/** The add-ons a standby region installs. */
export const STANDBY_REGION_ADDONS: ReadonlySet<string> = new Set([
  'istio-base', 'external-secrets', 'kube-prometheus-stack', 'istio-cni', 'istiod', 'istio-eastwestgateway',
]);

/** Every Helm repository any region's add-ons use (the platform AppProject's sources). */
export function addonHelmRepos(plan: PlatformPlan): string[] {
  return [...new Set(plan.regions.flatMap((r) => platformAddons(r).map((a) => a.repoURL)))].sort();
}

/** Files of dist/<region> an add-on Application syncs (`regionFiles`), in any region: the region Applications leave them out. */
export function addonRegionFiles(plan: PlatformPlan): string[] {
  return [...new Set(plan.regions.flatMap((r) => platformAddons(r).flatMap((a) => a.regionFiles ?? [])))].sort();
}

/** The declared add-on namespace of that name (throws for a namespace missing from ADDON_NAMESPACES). */
export function addonNamespace(name: string): AddonNamespace {
  const found = ADDON_NAMESPACES.find((n) => n.name === name);
  if (!found) throw new Error(`add-on namespace ${name} is not in ADDON_NAMESPACES (${ADDON_NAMESPACES.map((n) => n.name).join(', ')})`);
  return found;
}

/**
 * RBAC of the region Prometheus for the kubelet ServiceMonitor (charts/lib/monitoring-targets.ts
 * KUBELET): `get` on `nodes/metrics` only (cAdvisor and the kubelet's own metrics; no proxy,
 * no logs, no exec), and read access to the kubelet Service's endpoints in kube-system.
 */
function kubeletScrapeRbac(region: RegionPlan): Record<string, unknown>[] {
  const name = `${region.global.platform.name}-prometheus-kubelet`;
  const subjects = [{ kind: 'ServiceAccount', name: region.names.monitoring.prometheusServiceAccount, namespace: region.namespaces.monitoring }];
  const read = ['get', 'list', 'watch'];
  return [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name }, rules: [{ apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] }] },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name }, subjects },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace: KUBELET.namespace },
      rules: [
        { apiGroups: [''], resources: ['services', 'endpoints', 'pods'], verbs: read },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: read },
      ],
    },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name, namespace: KUBELET.namespace }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name }, subjects },
  ];
}
