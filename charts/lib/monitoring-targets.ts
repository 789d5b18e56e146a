/**
 * The scrape-target table: everything the region's Prometheus scrapes, as data. The
 * service-monitors chart renders one PodMonitor or ServiceMonitor per row, and the monitoring
 * chart derives Prometheus' RBAC from the same rows (read access only in the namespaces a row
 * names, only to the kinds its discovery needs).
 *
 * How a meshed pod is scraped. Our namespaces run Istio with PeerAuthentication STRICT, so a
 * plain-text scrape of an application port is refused by the sidecar. Istio's metrics merging
 * (meshConfig.enablePrometheusMerge, on by default and set by the istiod add-on) serves the
 * Envoy statistics *and* the application's own metrics on the sidecar agent's port 15020
 * (`/stats/prometheus`), a port the sidecar does not capture: plain text, outside mTLS. The
 * agent finds the application's endpoint in the pod's `prometheus.io/port` and `/path`
 * annotations, which the injector records before rewriting them to 15020 (see
 * istio.io/latest/docs/ops/integrations/prometheus/#option-1-metrics-merging). So:
 * - workload pods must carry `mergedMetricsAnnotations(row)` in their pod template;
 * - each meshed row becomes a PodMonitor that selects its pods, keeps the one target of the
 *   sidecar's declared `http-envoy-prom` port and rewrites the address to the agent port:
 *   one scrape per pod, Envoy and application metrics together. Pod discovery (not Service
 *   endpoints) on purpose: Argo Rollouts points the stable/canary and active/preview Services
 *   at the same pods at times, and a pod scraped twice double-counts every SLI.
 * Targets outside the mesh (the Argo Rollouts controller, Prometheus and Alertmanager
 * themselves) are scraped directly through their Services.
 */
import { isServingRegion } from '../../regions/model';
import type { RegionPlan } from '../../regions/plan';
import { LABELS } from './labels';
import { COLLECTOR_METRICS_PORT, JAEGER_ADMIN_PORT, TRACING_APPS } from './otel';

/**
 * Port of the sidecar's pilot-agent that serves Istio's merged Prometheus endpoint
 * (`/stats/prometheus`: the application's own metrics plus Envoy's). It is excluded from the
 * sidecar's inbound capture, so it is reachable in plain text even under STRICT mTLS.
 */
export const ISTIO_AGENT_METRICS_PORT = 15020;

/** Port the injected istio-proxy container declares for Envoy's own statistics (15090). */
export const ISTIO_ENVOY_PROM_PORT_NAME = 'http-envoy-prom';
/** The sidecar agent's merged endpoint: Envoy + application metrics (enablePrometheusMerge). */
export const ISTIO_MERGED_METRICS_PORT = ISTIO_AGENT_METRICS_PORT;
export const ISTIO_MERGED_METRICS_PATH = '/stats/prometheus';

/**
 * Istio standard metrics on the merged endpoint that nothing reads (no rule, dashboard, analysis
 * or adapter: test/real-servers/metric-names.test.ts fails if one starts to): the request and
 * response size histograms, two of the three histograms Istio writes per HTTP label combination
 * of every meshed pod (up to 1,000 API pods a region). Dropped after the scrape on every meshed
 * PodMonitor.
 */
export const ISTIO_UNREAD_METRICS = ['istio_request_bytes_bucket', 'istio_request_bytes_sum', 'istio_request_bytes_count',
  'istio_response_bytes_bucket', 'istio_response_bytes_sum', 'istio_response_bytes_count'] as const;

/** `job` of the ingress gateway's pods (their labels carry no app.kubernetes.io/name). */
export const INGRESS_GATEWAY_JOB = 'ingress-gateway';

/** The namespace the Argo Rollouts add-on runs in (charts/argocd/addon-catalog.ts). */
const ARGO_ROLLOUTS_NAMESPACE = 'argo-rollouts';

interface TargetCommon {
  /** Monitor name suffix and Prometheus `job` label: `up{job="<name>"}`. */
  readonly name: string;
  /** Namespace of the pods or Service scraped. */
  readonly namespace: string;
  /** Why it is scraped: which alerts or dashboards read it. */
  readonly why: string;
}

/** Pods with an Istio sidecar, scraped through the merged endpoint on the agent port. */
export interface MeshedPodsTarget extends TargetCommon {
  readonly kind: 'meshed-pods';
  /** Labels every pod of the workload carries (PodMonitor selector). */
  readonly podSelector: Readonly<Record<string, string>>;
  /**
   * The application's own metrics endpoint in the pod, merged in by the sidecar agent.
   * @default none — Envoy's and the agent's metrics only (the ingress gateway is all proxy)
   */
  readonly app?: { readonly portName: string; readonly port: number; readonly path: string };
  /**
   * Target labels taken from a pod label (optionally a regex capture of it), put on every
   * series of the target.
   * @default none
   */
  readonly targetLabelsFromPod?: readonly PodLabelCopy[];
}

/** `targetLabel` = `replacement` applied to pod label `podLabel` matched against `regex`. */
export interface PodLabelCopy {
  readonly targetLabel: string;
  readonly podLabel: string;
  /** Anchored RE2. @default '(.*)' */
  readonly regex?: string;
  /** @default '$1' */
  readonly replacement?: string;
}

/** A Service outside the mesh, scraped on one of its named ports. */
export interface ServiceTarget extends TargetCommon {
  readonly kind: 'service';
  /** Labels of the Service (ServiceMonitor selector). */
  readonly serviceSelector: Readonly<Record<string, string>>;
  readonly portName: string;
  readonly path: string;
  /**
   * Keep the target's own `namespace`/`name` labels instead of renaming them `exported_*`
   * (the Argo Rollouts controller reports other objects' namespaces).
   * @default false
   */
  readonly honorLabels?: boolean;
  /**
   * HTTPS with the Prometheus service account's token (the kubelet authorises the scrape with
   * a SubjectAccessReview on `nodes/metrics`); the kubelet's serving certificate is
   * self-signed on EKS nodes, so it is not verified.
   * @default false (plain HTTP)
   */
  readonly kubeletAuth?: boolean;
  /**
   * Metric names kept after the scrape (everything else is dropped before storage): bounds the
   * cardinality of exporters that expose far more than any rule or panel reads.
   * @default keep everything
   */
  readonly keepMetrics?: readonly string[];
  /**
   * Prometheus' discovery access in this namespace is granted by the add-on that owns the
   * namespace (charts/argocd/addon-catalog.ts), not by a Role of the monitoring chart.
   * @default false
   */
  readonly rbacFromAddon?: boolean;
  /**
   * Service label whose value becomes `job` (ServiceMonitor jobLabel); the selector must hold it.
   * @default the Service's name (prometheus-operator's default): `serviceName`
   */
  readonly jobLabel?: string;
  /**
   * The name of the Service the selector finds: the `service` label of its series, and their
   * `job` when there is no jobLabel (prometheus-operator's defaults).
   */
  readonly serviceName: string;
}

export type ScrapeTarget = MeshedPodsTarget | ServiceTarget;

/**
 * The `job` label of a target's series, as prometheus-operator sets it: a PodMonitor's jobLabel
 * (the pods' app.kubernetes.io/name, charts/monitoring/service-monitors-chart.ts) is the target's
 * name; a ServiceMonitor's is its jobLabel's value on the Service, else the Service's name.
 */
export function jobOf(target: ScrapeTarget): string {
  if (target.kind === 'meshed-pods') return target.podSelector[LABELS.name] ?? target.name;
  const job = target.jobLabel ? target.serviceSelector[target.jobLabel] : target.serviceName;
  if (job === undefined) {
    throw new Error(`scrape target ${target.name}: ${target.jobLabel ? `its selector has no ${target.jobLabel} (the jobLabel)` : 'neither jobLabel nor serviceName'}`);
  }
  return job;
}

/** Exporter sidecars of the data tier: their standard ports (prometheus/docs/default-port-allocations). */
const EXPORTER_PORTS = {
  postgres: 9187,
  pgbouncer: 9127,
  redis: 9121,
} as const;

/** app.kubernetes.io/name of the Postgres (Patroni/Spilo) pods; the plan has no name for it yet. */
export const POSTGRES_APP = 'postgres';

/**
 * Target label carrying the Patroni scope of a Postgres pod (one per shard site, e.g.
 * `bookedbarber-postgres-shard-1-a`), copied from the pod label Patroni selects its members by
 * (`cluster-name`, charts/postgres/names.ts PATRONI_LABELS.scope; lib imports no chart, a test
 * holds the two equal). The leader alert counts primaries per scope.
 */
export const POSTGRES_SCOPE_LABEL = 'patroni_scope';
export const PATRONI_SCOPE_POD_LABEL = 'cluster-name';

/**
 * Grafana of the kube-prometheus-stack release (charts/argocd/addon-catalog.ts): its namespace
 * and ServiceAccount (the grafana subchart's fullname, `<release>-grafana`), which the dashboards
 * chart lets read its ConfigMaps.
 */
export const GRAFANA = { namespace: 'monitoring-system', serviceAccount: 'kube-prometheus-stack-grafana' } as const;

/** kube-state-metrics of the kube-prometheus-stack release (charts/argocd/addon-catalog.ts). */
export const KUBE_STATE_METRICS = {
  namespace: 'monitoring-system',
  /** The kube-state-metrics subchart's Service labels and port (service.port 8080, name http). */
  serviceSelector: { 'app.kubernetes.io/name': 'kube-state-metrics', 'app.kubernetes.io/instance': 'kube-prometheus-stack' },
  portName: 'http',
  port: 8080,
  /** `job` of its series: the Service's app.kubernetes.io/name (ServiceMonitor jobLabel). */
  job: 'kube-state-metrics',
} as const;

/**
 * The only series kube-state-metrics exports (its --metric-allowlist): what the dashboards'
 * HPA and resource panels read (charts/dashboards/metrics.ts KUBE).
 */
export const KUBE_STATE_METRICS_ALLOWLIST = [
  'kube_horizontalpodautoscaler_status_current_replicas',
  'kube_horizontalpodautoscaler_status_desired_replicas',
  'kube_horizontalpodautoscaler_spec_max_replicas',
  'kube_pod_container_resource_requests',
  'kube_pod_container_resource_limits',
] as const;

/**
 * The kubelet Service prometheus-operator maintains (kube-prometheus-stack
 * `prometheusOperator.kubeletService`): one endpoint per node, on the kubelet's port.
 */
export const KUBELET = {
  namespace: 'kube-system',
  serviceSelector: { 'app.kubernetes.io/name': 'kubelet', 'k8s-app': 'kubelet' },
  portName: 'https-metrics',
  port: 10250,
  job: 'kubelet',
  /** cAdvisor's container metrics the dashboards read; the rest of cAdvisor is dropped. */
  keep: ['container_cpu_usage_seconds_total', 'container_memory_working_set_bytes'],
} as const;

/** istiod's monitoring port: its own metrics, the mesh CA's certificate expiry among them. */
export const ISTIOD_MONITORING = { portName: 'http-monitoring', port: 15014, job: 'istiod' } as const;

/**
 * Target label carrying the Redis tier (cache, sessions, rate-limit), so alerts can tell an
 * LRU cache from the session store. The Redis chart labels its pods
 * `app.kubernetes.io/component: <tier>-server` or `<tier>-sentinel` (charts/redis/tier.ts).
 */
export const REDIS_TIER_LABEL = 'tier';
const REDIS_TIER_FROM_COMPONENT: PodLabelCopy = { targetLabel: REDIS_TIER_LABEL, podLabel: LABELS.component, regex: '(.+)-(server|sentinel)', replacement: '$1' };

/**
 * Every target of a region. Rows for the data tier follow the data charts' conventions as far
 * as they exist (plan.names.data) and the exporters' default ports otherwise.
 */
export function scrapeTargets(plan: RegionPlan): ScrapeTarget[] {
  const { names, namespaces } = plan;
  const meshed = (name: string, namespace: string, app: MeshedPodsTarget['app'], why: string): MeshedPodsTarget => ({
    kind: 'meshed-pods', name, namespace, podSelector: { [LABELS.name]: name }, app, why,
  });
  // The data charts name every exporter port http-metrics (Istio reads HTTP from the prefix).
  const exporter = (port: number) => ({ portName: 'http-metrics', port, path: '/metrics' });
  const operated = (kind: 'prometheus' | 'alertmanager'): ServiceTarget => ({
    kind: 'service',
    name: kind,
    namespace: namespaces.monitoring,
    // prometheus-operator labels the governing Services it creates this way.
    serviceSelector: { [`operated-${kind}`]: 'true' },
    serviceName: `${kind}-operated`,
    portName: 'web',
    path: '/metrics',
    why: `${kind}'s own metrics (self-monitoring for the dashboards)`,
  });
  const all: ScrapeTarget[] = [
    meshed(names.api.app, namespaces.app, { portName: 'http-metrics', port: names.api.metricsPort, path: '/metrics' },
      'Istio request metrics (availability and latency SLIs) and the booking and payment counters'),
    meshed(names.web.app, namespaces.app, { portName: 'http-metrics', port: names.web.metricsPort, path: '/metrics' },
      'Istio request metrics of the web front end (availability and latency SLIs)'),
    meshed(names.data.pgbouncerApp, namespaces.data, exporter(EXPORTER_PORTS.pgbouncer), 'pgbouncer_exporter: pool saturation'),
    {
      ...meshed(POSTGRES_APP, namespaces.data, exporter(EXPORTER_PORTS.postgres),
        'postgres_exporter: replication lag against the RPO, a shard without a primary, WAL archiving (pg_stat_archiver)'),
      targetLabelsFromPod: [{ targetLabel: POSTGRES_SCOPE_LABEL, podLabel: PATRONI_SCOPE_POD_LABEL }],
    },
    {
      ...meshed(names.data.redisApp, namespaces.data, exporter(EXPORTER_PORTS.redis), 'redis_exporter: memory pressure, per tier'),
      targetLabelsFromPod: [REDIS_TIER_FROM_COMPONENT],
    },
    {
      kind: 'service',
      name: 'argo-rollouts',
      namespace: ARGO_ROLLOUTS_NAMESPACE,
      // The argo-rollouts Helm chart's metrics Service (controller.metrics.enabled).
      serviceSelector: { [LABELS.name]: 'argo-rollouts', [LABELS.component]: 'rollouts-controller' },
      // The chart's templates/controller/metrics-service.yaml: `<fullname>-metrics`.
      serviceName: 'argo-rollouts-metrics',
      portName: 'metrics',
      path: '/metrics',
      honorLabels: true,
      why: 'rollout_info: a release that was aborted and rolled back, or that the controller cannot act on',
    },
    {
      kind: 'meshed-pods',
      name: INGRESS_GATEWAY_JOB,
      namespace: names.mesh.ingressNamespace,
      podSelector: { ...names.mesh.ingressSelector },
      why: 'Istio request metrics as the ingress gateway reports them (reporter="source"): the edge SLI, which still counts requests when no API or web pod answers',
    },
    {
      kind: 'service',
      name: 'kube-state-metrics',
      namespace: KUBE_STATE_METRICS.namespace,
      serviceSelector: { ...KUBE_STATE_METRICS.serviceSelector },
      // The subchart's fullname: <release>-kube-state-metrics.
      serviceName: 'kube-prometheus-stack-kube-state-metrics',
      portName: KUBE_STATE_METRICS.portName,
      path: '/metrics',
      jobLabel: LABELS.name,
      // Its series name the objects' namespaces and pods, not the exporter's.
      honorLabels: true,
      why: 'kube-state-metrics: HPA replicas, container requests and limits (infrastructure and regional performance dashboards)',
    },
    {
      kind: 'service',
      name: 'kubelet',
      namespace: KUBELET.namespace,
      serviceSelector: { ...KUBELET.serviceSelector },
      // The Service prometheus-operator keeps for the kubelets: the chart's --kubelet-service,
      // <fullname>-kubelet (templates/prometheus-operator/deployment.yaml).
      serviceName: 'kube-prometheus-stack-kubelet',
      portName: KUBELET.portName,
      path: '/metrics/cadvisor',
      jobLabel: LABELS.name,
      // cAdvisor labels every series with the container's namespace and pod.
      honorLabels: true,
      kubeletAuth: true,
      keepMetrics: KUBELET.keep,
      rbacFromAddon: true,
      why: 'cAdvisor on every kubelet: container CPU and memory (infrastructure dashboard)',
    },
    {
      kind: 'service',
      name: 'istiod',
      namespace: names.mesh.rootNamespace,
      // The istio/istiod chart's Service (labels app=istiod, istio=pilot).
      serviceSelector: { app: 'istiod', istio: 'pilot' },
      serviceName: 'istiod',
      portName: ISTIOD_MONITORING.portName,
      path: '/metrics',
      jobLabel: 'app',
      why: 'istiod: expiry of the mesh CA certificates (root and this region\'s intermediate)',
    },
    // The operator names the collector container's metrics port `metrics`.
    meshed(TRACING_APPS.collector, namespaces.monitoring, { portName: 'metrics', port: COLLECTOR_METRICS_PORT, path: '/metrics' },
      'the gateway collectors\' own metrics: spans refused or not forwarded to the samplers'),
    meshed(TRACING_APPS.sampler, namespaces.monitoring, { portName: 'metrics', port: COLLECTOR_METRICS_PORT, path: '/metrics' },
      'the sampling collectors\' own metrics: spans refused or not exported to Jaeger'),
    meshed(TRACING_APPS.jaeger, namespaces.monitoring, { portName: 'http-admin', port: JAEGER_ADMIN_PORT, path: '/metrics' },
      'Jaeger\'s own metrics (its admin port): whether it answers at all (TracingTargetDown)'),
    operated('prometheus'),
    operated('alertmanager'),
  ];
  // A standby region runs only the DR sites' PgBouncer and Postgres besides monitoring itself
  // and the cluster (kube-state-metrics, the kubelets, istiod).
  if (isServingRegion(plan.region)) return all;
  const standby = new Set<string>([names.data.pgbouncerApp, POSTGRES_APP, 'kube-state-metrics', 'kubelet', 'istiod', 'prometheus', 'alertmanager']);
  return all.filter((t) => standby.has(t.name));
}

/**
 * Pod annotations that make Istio merge the application's metrics into the sidecar's
 * endpoint. The workload charts spread these into their pod template annotations; without
 * them the PodMonitor still scrapes Envoy's metrics, but not the application's.
 */
export function mergedMetricsAnnotations(target: MeshedPodsTarget): Record<string, string> {
  if (!target.app) throw new Error(`scrape target ${target.name} has no application metrics to merge`);
  return {
    'prometheus.io/scrape': 'true',
    'prometheus.io/port': String(target.app.port),
    'prometheus.io/path': target.app.path,
  };
}

/** The row of a workload, by its app name (for the workload charts and tests). */
export function meshedTarget(plan: RegionPlan, app: string): MeshedPodsTarget {
  const found = scrapeTargets(plan).find((t): t is MeshedPodsTarget => t.kind === 'meshed-pods' && t.name === app);
  if (!found) throw new Error(`no meshed scrape target named ${app}`);
  return found;
}

/** Namespaces Prometheus discovers targets in: its Roles go exactly there. */
export function scrapedNamespaces(targets: readonly ScrapeTarget[]): string[] {
  return [...new Set(targets.filter((t) => !(t.kind === 'service' && t.rbacFromAddon)).map((t) => t.namespace))];
}
