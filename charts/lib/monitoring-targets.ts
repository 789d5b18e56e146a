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
  /** The application's own metrics endpoint in the pod, merged in by the sidecar agent. */
  readonly app: { readonly portName: string; readonly port: number; readonly path: string };
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
}

export type ScrapeTarget = MeshedPodsTarget | ServiceTarget;

/** Exporter sidecars of the data tier: their standard ports (prometheus/docs/default-port-allocations). */
const EXPORTER_PORTS = {
  postgres: 9187,
  pgbouncer: 9127,
  redis: 9121,
} as const;

/** app.kubernetes.io/name of the Postgres (Patroni/Spilo) pods; the plan has no name for it yet. */
export const POSTGRES_APP = 'postgres';

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
    meshed(POSTGRES_APP, namespaces.data, exporter(EXPORTER_PORTS.postgres), 'postgres_exporter: replication lag against the RPO'),
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
      portName: 'metrics',
      path: '/metrics',
      honorLabels: true,
      why: 'rollout_info: a release that was aborted and rolled back',
    },
    operated('prometheus'),
    operated('alertmanager'),
  ];
  // A standby region runs only the DR sites' PgBouncer and Postgres besides monitoring itself.
  if (isServingRegion(plan.region)) return all;
  const standby = new Set<string>([names.data.pgbouncerApp, POSTGRES_APP, 'prometheus', 'alertmanager']);
  return all.filter((t) => standby.has(t.name));
}

/**
 * Pod annotations that make Istio merge the application's metrics into the sidecar's
 * endpoint. The workload charts spread these into their pod template annotations; without
 * them the PodMonitor still scrapes Envoy's metrics, but not the application's.
 */
export function mergedMetricsAnnotations(target: MeshedPodsTarget): Record<string, string> {
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
  return [...new Set(targets.map((t) => t.namespace))];
}
