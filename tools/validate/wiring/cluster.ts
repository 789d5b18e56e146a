/**
 * What the wiring check sees of one region: the rendered objects indexed the way a cluster
 * would use them. Pods come from every pod template (workloads, Jobs, CronJobs) and from the
 * custom resources whose operators create pods (Prometheus, Alertmanager, OpenTelemetryCollector);
 * Services include the ones those operators create, with the names and ports their source code
 * gives them, because clients call them by those names.
 */
import { operatorManagedPodLabels } from '../context';
import { podTemplates } from '../pod-templates';
import { apiGroup, asArray, Entry, isKind, isRecord, KubeObject, labelsOf, nameOf, namespaceOf, pushTo } from '../types';

/** Annotation on a Service listing selector keys only set at run time (see ServiceInfo.runtimeKeys). */
export const RUNTIME_SELECTOR_ANNOTATION = 'bookedbarber.com/runtime-selector-labels';

/**
 * Ports every injected pod has besides its own: the istio-proxy container's Envoy statistics
 * (15090, declared by the injector) and pilot-agent's health and merged-metrics port (15020) and
 * readiness port (15021).
 */
const SIDECAR_PORTS: ContainerPort[] = [
  { name: 'http-envoy-prom', port: 15090, protocol: 'TCP' },
  { port: 15020, protocol: 'TCP' },
  { port: 15021, protocol: 'TCP' },
];

export interface ContainerPort {
  readonly name?: string;
  readonly port: number;
  readonly protocol: string;
}

/** A set of identical pods (one pod template, or the pods an operator creates for one resource). */
export interface PodSet {
  readonly entry: Entry;
  /** Path of the pod template in the object, for findings. */
  readonly path: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly serviceAccount: string;
  /** Containers and init containers (env, args, mounts). */
  readonly containers: KubeObject[];
  readonly volumes: KubeObject[];
  readonly ports: ContainerPort[];
  /** Pod-level sidecar.istio.io/inject, if set. */
  readonly injectOverride?: boolean;
}

export interface ServicePort {
  readonly name?: string;
  readonly port: number;
  readonly targetPort: number | string;
  readonly protocol: string;
  readonly appProtocol?: string;
}

export interface ServiceInfo {
  /** Undefined for Services an operator creates (not rendered by us). */
  readonly entry?: Entry;
  /** Who creates it, for messages: `rendered` or the operator's name. */
  readonly origin: string;
  readonly namespace: string;
  readonly name: string;
  readonly selector?: Record<string, string>;
  /**
   * Selector keys a controller sets on the pods at run time (Patroni's `spilo-role`), named by
   * the Service's `bookedbarber.com/runtime-selector-labels` annotation: no rendered pod carries
   * them, so matching ignores them.
   */
  readonly runtimeKeys: readonly string[];
  readonly headless: boolean;
  readonly ports: ServicePort[];
}

const strings = (v: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  if (isRecord(v)) for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
};

function containerPorts(containers: KubeObject[]): ContainerPort[] {
  return containers.flatMap((c) =>
    asArray(c.ports).filter(isRecord).filter((p) => typeof p.containerPort === 'number').map((p) => ({
      name: typeof p.name === 'string' ? p.name : undefined,
      port: p.containerPort as number,
      protocol: typeof p.protocol === 'string' ? p.protocol : 'TCP',
    })),
  );
}

function injectOverride(labels: Record<string, string>, annotations: Record<string, string>): boolean | undefined {
  const v = labels['sidecar.istio.io/inject'] ?? annotations['sidecar.istio.io/inject'];
  return v === undefined ? undefined : v === 'true';
}

/**
 * Pods and Services prometheus-operator creates (pkg/prometheus/statefulset.go,
 * pkg/alertmanager/statefulset.go): the governing Services `prometheus-operated` (web 9090)
 * and `alertmanager-operated` (web 9093, tcp-mesh and udp-mesh 9094), selecting every pod of
 * the kind in the namespace.
 */
function operatorPods(e: Entry): { pods: PodSet; services: ServiceInfo[] } | undefined {
  const labels = operatorManagedPodLabels(e.obj);
  const ns = namespaceOf(e.obj);
  if (!labels || !ns) return undefined;
  const spec = isRecord(e.obj.spec) ? e.obj.spec : {};
  const meta = isRecord(spec.podMetadata) ? spec.podMetadata : {};
  const podLabels = strings(labels);
  const annotations = strings(meta.annotations);
  const prometheus = e.obj.kind === 'Prometheus';
  const ports: ContainerPort[] = prometheus
    ? [{ name: 'web', port: 9090, protocol: 'TCP' }]
    : [{ name: 'web', port: 9093, protocol: 'TCP' }, { name: 'mesh-tcp', port: 9094, protocol: 'TCP' }, { name: 'mesh-udp', port: 9094, protocol: 'UDP' }];
  const containers = asArray(spec.containers).filter(isRecord);
  const pods: PodSet = {
    entry: e,
    path: 'spec.podMetadata',
    namespace: ns,
    labels: podLabels,
    annotations,
    serviceAccount: typeof spec.serviceAccountName === 'string' ? spec.serviceAccountName : 'default',
    containers,
    volumes: asArray(spec.volumes).filter(isRecord),
    ports,
    injectOverride: injectOverride(podLabels, annotations),
  };
  const kind = prometheus ? 'prometheus' : 'alertmanager';
  const service: ServiceInfo = {
    origin: 'prometheus-operator',
    namespace: ns,
    name: `${kind}-operated`,
    selector: { 'app.kubernetes.io/name': kind },
    runtimeKeys: [],
    headless: true,
    ports: prometheus
      ? [{ name: 'web', port: 9090, targetPort: 'web', protocol: 'TCP' }]
      : [
          { name: 'web', port: 9093, targetPort: 'web', protocol: 'TCP' },
          { name: 'tcp-mesh', port: 9094, targetPort: 9094, protocol: 'TCP' },
          { name: 'udp-mesh', port: 9094, targetPort: 9094, protocol: 'UDP' },
        ],
  };
  return { pods, services: [service] };
}

/** The governing Service prometheus-operator creates for a Prometheus or an Alertmanager (`<kind>-operated`), by the ports operatorPods gives it. */
export function prometheusOperatorServices(e: Entry): ServiceInfo[] {
  return operatorPods(e)?.services ?? [];
}

/** `0.0.0.0:4317` → 4317. */
function endpointPort(v: unknown, fallback: number): number {
  if (typeof v !== 'string') return fallback;
  const m = /:(\d+)$/.exec(v);
  return m ? Number(m[1]) : fallback;
}

/** The OTLP receiver ports the operator gives an OpenTelemetryCollector's Services (from its config). */
function collectorReceiverPorts(spec: Record<string, any>): ServicePort[] {
  const config = isRecord(spec.config) ? spec.config : {};
  const otlp = isRecord(config.receivers) && isRecord(config.receivers.otlp) && isRecord(config.receivers.otlp.protocols) ? config.receivers.otlp.protocols : {};
  const receiverPorts: ServicePort[] = [];
  if (isRecord(otlp.grpc) || otlp.grpc === null) {
    const port = endpointPort(isRecord(otlp.grpc) ? otlp.grpc.endpoint : undefined, 4317);
    receiverPorts.push({ name: 'otlp-grpc', port, targetPort: port, protocol: 'TCP', appProtocol: 'grpc' });
  }
  if (isRecord(otlp.http) || otlp.http === null) {
    const port = endpointPort(isRecord(otlp.http) ? otlp.http.endpoint : undefined, 4318);
    receiverPorts.push({ name: 'otlp-http', port, targetPort: port, protocol: 'TCP', appProtocol: 'http' });
  }
  return receiverPorts;
}

const COLLECTOR_SELECTOR = (ns: string, name: string) => ({
  'app.kubernetes.io/component': 'opentelemetry-collector',
  'app.kubernetes.io/instance': `${ns}.${name}`.slice(0, 63),
  'app.kubernetes.io/managed-by': 'opentelemetry-operator',
  'app.kubernetes.io/part-of': 'opentelemetry',
});

/**
 * The Services opentelemetry-operator creates for an OpenTelemetryCollector
 * (internal/manifests/collector): `<name>-collector` (receiver ports: OTLP as `otlp-grpc`/
 * appProtocol grpc and `otlp-http`/appProtocol http), `<name>-collector-headless` (same ports, no
 * ClusterIP) and `<name>-collector-monitoring` (`monitoring` 8888). Clients call them by these names.
 */
export function collectorServices(e: Entry): ServiceInfo[] {
  const ns = namespaceOf(e.obj);
  const name = nameOf(e.obj);
  if (!ns || !name || !isKind(e.obj, 'opentelemetry.io', 'OpenTelemetryCollector')) return [];
  const receiverPorts = collectorReceiverPorts(isRecord(e.obj.spec) ? e.obj.spec : {});
  const selector = COLLECTOR_SELECTOR(ns, name);
  const base = `${name}-collector`;
  const svc = (svcName: string, ports: ServicePort[], headless: boolean): ServiceInfo => ({
    origin: 'opentelemetry-operator', namespace: ns, name: svcName, selector, runtimeKeys: [], headless, ports,
  });
  return [
    svc(base, receiverPorts, false),
    svc(`${base}-headless`, receiverPorts, true),
    svc(`${base}-monitoring`, [{ name: 'monitoring', port: 8888, targetPort: 8888, protocol: 'TCP' }], false),
  ];
}

/**
 * Pods and Services opentelemetry-operator creates for an OpenTelemetryCollector: pods labelled
 * with the CR's labels plus its selector labels, listening on the receivers' ports and 8888, and
 * the Services of collectorServices.
 */
function collectorPods(e: Entry): { pods: PodSet; services: ServiceInfo[] } | undefined {
  const ns = namespaceOf(e.obj);
  const name = nameOf(e.obj);
  if (!ns || !name) return undefined;
  const spec = isRecord(e.obj.spec) ? e.obj.spec : {};
  // The operator copies the CR's labels to the pods but never overrides its own selector labels.
  const labels = { ...strings(labelsOf(e.obj.metadata)), ...COLLECTOR_SELECTOR(ns, name) };
  const receiverPorts = collectorReceiverPorts(spec);
  const annotations = strings(spec.podAnnotations);
  const pods: PodSet = {
    entry: e,
    path: 'spec',
    namespace: ns,
    labels,
    annotations,
    serviceAccount: typeof spec.serviceAccount === 'string' ? spec.serviceAccount : `${name}-collector`,
    containers: [{ name: 'otc-container', env: asArray(spec.env), args: spec.args, volumeMounts: asArray(spec.volumeMounts) }],
    volumes: asArray(spec.volumes).filter(isRecord),
    ports: [...receiverPorts.map((p) => ({ name: p.name, port: p.port, protocol: 'TCP' })), { name: 'monitoring', port: 8888, protocol: 'TCP' }],
    injectOverride: injectOverride(labels, annotations),
  };
  return { pods, services: collectorServices(e) };
}

function renderedService(e: Entry): ServiceInfo | undefined {
  const ns = namespaceOf(e.obj);
  const name = nameOf(e.obj);
  if (!ns || !name) return undefined;
  const spec = isRecord(e.obj.spec) ? e.obj.spec : {};
  return {
    entry: e,
    origin: 'rendered',
    namespace: ns,
    name,
    selector: isRecord(spec.selector) ? strings(spec.selector) : undefined,
    runtimeKeys: (strings(isRecord(e.obj.metadata) ? e.obj.metadata.annotations : undefined)[RUNTIME_SELECTOR_ANNOTATION] ?? '').split(',').map((k) => k.trim()).filter(Boolean),
    headless: spec.clusterIP === 'None',
    ports: asArray(spec.ports).filter(isRecord).filter((p) => typeof p.port === 'number').map((p) => ({
      name: typeof p.name === 'string' ? p.name : undefined,
      port: p.port as number,
      targetPort: typeof p.targetPort === 'number' || typeof p.targetPort === 'string' ? p.targetPort : (p.port as number),
      protocol: typeof p.protocol === 'string' ? p.protocol : 'TCP',
      appProtocol: typeof p.appProtocol === 'string' ? p.appProtocol : undefined,
    })),
  };
}

/** Whether Istio's injection webhook adds a sidecar to a namespace's pods, by the namespace's labels. */
export function namespaceInjects(labels: Readonly<Record<string, unknown>>): boolean {
  return labels['istio-injection'] === 'enabled' || (labels['istio.io/rev'] !== undefined && labels['istio-injection'] !== 'disabled');
}

export class Cluster {
  readonly pods: PodSet[] = [];
  readonly services: ServiceInfo[] = [];
  /** Labels of the Namespaces rendered here (plus the name label Kubernetes adds). */
  readonly namespaceLabels = new Map<string, Record<string, string>>();
  private readonly byKind = new Map<string, Entry[]>();
  private readonly byNamespaceKind = new Map<string, Entry[]>();

  constructor(readonly entries: Entry[]) {
    for (const e of entries) {
      const key = `${apiGroup(e.obj.apiVersion)}/${e.obj.kind}`;
      const ns = namespaceOf(e.obj) ?? '';
      pushTo(this.byKind, key, e);
      if (namespaceOf(e.obj) !== undefined) pushTo(this.byNamespaceKind, `${ns} ${key}`, e);
      if (isKind(e.obj, '', 'Namespace') && nameOf(e.obj)) {
        this.namespaceLabels.set(nameOf(e.obj)!, { ...strings(labelsOf(e.obj.metadata)), 'kubernetes.io/metadata.name': nameOf(e.obj)! });
      }
      if (isKind(e.obj, '', 'Service')) {
        const s = renderedService(e);
        if (s) this.services.push(s);
      }
      const operated = apiGroup(e.obj.apiVersion) === 'monitoring.coreos.com' ? operatorPods(e) : isKind(e.obj, 'opentelemetry.io', 'OpenTelemetryCollector') ? collectorPods(e) : undefined;
      if (operated) {
        this.pods.push(operated.pods);
        this.services.push(...operated.services);
        continue;
      }
      for (const tpl of podTemplates(e.obj)) {
        // Analysis Jobs (AnalysisTemplate job metrics) run as pods in the template's namespace
        // (Argo Rollouts creates them in the Rollout's): they are clients like any other.
        const containers = [...asArray(tpl.spec.initContainers), ...asArray(tpl.spec.containers)].filter(isRecord);
        const labels = strings(labelsOf(tpl.metadata));
        const annotations = strings(isRecord(tpl.metadata) ? tpl.metadata.annotations : undefined);
        this.pods.push({
          entry: e,
          path: tpl.path,
          namespace: ns,
          labels,
          annotations,
          serviceAccount: typeof tpl.spec.serviceAccountName === 'string' ? tpl.spec.serviceAccountName : 'default',
          containers,
          volumes: asArray(tpl.spec.volumes).filter(isRecord),
          ports: containerPorts(containers),
          injectOverride: injectOverride(labels, annotations),
        });
      }
    }
  }

  /** Objects of `group/kind` (any namespace). */
  all(group: string, kind: string): Entry[] {
    return this.byKind.get(`${group}/${kind}`) ?? [];
  }

  /** Objects of `group/kind` in `namespace`. */
  in(namespace: string, group: string, kind: string): Entry[] {
    return this.byNamespaceKind.get(`${namespace} ${group}/${kind}`) ?? [];
  }

  /** Labels of a namespace as NetworkPolicy namespaceSelectors see them. */
  labelsOfNamespace(namespace: string): Record<string, string> {
    return this.namespaceLabels.get(namespace) ?? { 'kubernetes.io/metadata.name': namespace };
  }

  /**
   * Whether pods get an Istio sidecar: the pod's own `sidecar.istio.io/inject` wins, else the
   * namespace's `istio-injection=enabled` or `istio.io/rev` label (Istio's injection webhook).
   */
  isMeshed(pods: PodSet): boolean {
    if (pods.injectOverride !== undefined) return pods.injectOverride;
    return namespaceInjects(this.namespaceLabels.get(pods.namespace) ?? {});
  }

  podsMatching(namespace: string, selector: Readonly<Record<string, string>>, runtimeKeys: readonly string[] = []): PodSet[] {
    return this.pods.filter((p) => p.namespace === namespace && Object.entries(selector).every(([k, v]) => runtimeKeys.includes(k) || p.labels[k] === v));
  }

  /** The pods' own ports plus the sidecar's, once injected. */
  portsOf(pods: PodSet): ContainerPort[] {
    return this.isMeshed(pods) ? [...pods.ports, ...SIDECAR_PORTS] : pods.ports;
  }

  /** A Service's selector matches the pods (run-time keys aside). */
  selects(service: ServiceInfo, pods: PodSet): boolean {
    const selector = service.selector ?? {};
    return Object.keys(selector).length > 0 && service.namespace === pods.namespace &&
      Object.entries(selector).every(([k, v]) => service.runtimeKeys.includes(k) || pods.labels[k] === v);
  }

  servicesIn(namespace: string): ServiceInfo[] {
    return this.services.filter((s) => s.namespace === namespace);
  }

  configMapData(namespace: string, name: string): string[] {
    const cm = this.in(namespace, '', 'ConfigMap').find((e) => nameOf(e.obj) === name);
    return cm && isRecord(cm.obj.data) ? Object.values(cm.obj.data).filter((v): v is string => typeof v === 'string') : [];
  }
}
