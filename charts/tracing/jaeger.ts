/**
 * Jaeger (all-in-one image: OTLP collector + query UI in one process) with its span storage
 * from config (`global.tracing.jaeger.storage.type`):
 *
 * - `elasticsearch` (shipped): the region's own external Elasticsearch/OpenSearch cluster (URL
 *   from `storage.elasticsearch.urlTemplate`), credentials from the secret store
 *   (ExternalSecret). Jaeger is stateless: a Deployment of `jaegerReplicas` pods with a PDB and
 *   zone spread; every daily index is created with `numReplicas` replica copies of each shard
 *   (ES_NUM_REPLICAS), so losing one data node, or one zone of a multi-zone cluster, loses no
 *   stored trace. Elasticsearch does not expire documents, so a daily index-cleaner CronJob
 *   deletes indices older than the retention (whole days: Jaeger writes one index per day).
 *   Both the Jaeger pods and the cleaner reach the cluster through declared connections
 *   (charts/wiring/connections.ts), from which the mesh chart renders the egress policy and the
 *   ServiceEntry.
 * - `badger`: an embedded key-value store on a PersistentVolume, so a StatefulSet of exactly
 *   one pod (badger is single-writer; two pods cannot share it). A single point of failure, for
 *   test clusters only: while the pod restarts the UI is down and the sampler tier queues kept
 *   traces (sending queue + retries, minutes); a lost volume loses every stored trace.
 *
 * Every pod: Pod Security "restricted", read-only root filesystem (badger writes to its volume,
 * everything else to an emptyDir /tmp), probes on the admin port.
 */
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { RegionPlan } from '../../regions/plan';
import { CredentialsFromStore } from '../lib/external-secret';
import { hardenedPodTemplate, type ContainerResources, type HardenedContainerProps } from '../lib/hardened-pod';
import { HardenedWorkload } from '../lib/hardened-workload';
import { LABELS } from '../lib/labels';
import { appLabels, SYNC_WAVE, syncWave } from '../lib/metadata';
import { JAEGER_PORTS, type TracingNames } from './names';

/** Istio's per-pod sidecar-injection opt-out (a pod label since Istio 1.14). */
const ISTIO_INJECT_LABEL = 'sidecar.istio.io/inject';

/** UID/GID the upstream Jaeger images run as. */
const JAEGER_USER = 10001;

/** Where the badger volume is mounted, and its two directories. */
const BADGER_MOUNT = '/badger';

/**
 * Kept traces only reach Jaeger: errors, slow traces and the baseline share, about a tenth of the
 * region's peak spans (32 000/s at the shipped bounds, charts/tracing/sizing.ts), spread over the
 * Jaeger pods and written to the cluster in bulk requests.
 */
const DEFAULT_JAEGER_RESOURCES: ContainerResources = {
  requests: { cpu: '1', memory: '2Gi' },
  limits: { memory: '2Gi' },
};

/** Spans a Jaeger pod queues in memory between OTLP and storage (Jaeger's default, 2000, is a fraction of a second here). */
const JAEGER_QUEUE_SPANS = 100_000;
/** Concurrent bulk requests of one Jaeger pod to the cluster. */
const ES_BULK_WORKERS = 4;

/** Seconds a Jaeger pod gets to stop (its sidecar drains all but the last five, charts/tracing/chart.ts). */
export const JAEGER_GRACE_SECONDS = 60;

/** An external Elasticsearch (or OpenSearch) cluster for `storage.type: elasticsearch`. */
export interface ElasticsearchStorage {
  /** Cluster URL, e.g. https://traces.es.internal:9200. */
  readonly url: string;
  /**
   * Key in the secret store of a JSON value with `username` and `password`.
   * @default '<platform>/<region>/jaeger-elasticsearch'
   */
  readonly credentialsKey?: string;
  /**
   * Index name prefix (several regions may share one cluster).
   * @default '<platform>-<region>'
   */
  readonly indexPrefix?: string;
}

export interface JaegerProps {
  /** The region's plan. */
  readonly plan: RegionPlan;
  /** Tracing object names (tracingNames). */
  readonly names: TracingNames;
  /** @default DEFAULT_JAEGER_RESOURCES — 500m/2Gi, limit 4Gi: all-in-one Jaeger buffers spans in memory */
  readonly resources?: ContainerResources;
  /**
   * Elasticsearch connection. Required when `storage.type` is `elasticsearch`.
   * @default none — badger storage needs none
   */
  readonly elasticsearch?: ElasticsearchStorage;
  /** Jaeger pods with elasticsearch storage (stateless). @default `storage.elasticsearch.jaegerReplicas`, else 2 */
  readonly elasticsearchReplicas?: number;
  /** Pod annotations (Istio sidecar sizing, and the prometheus.io/* ones that make Istio merge the admin port's metrics). @default none */
  readonly podAnnotations?: Readonly<Record<string, string>>;
  /** Daily run time (cron, UTC) of the index cleaner. @default '15 0 * * *' */
  readonly indexCleanerSchedule?: string;
}

/** The Elasticsearch settings with their defaults applied, and the Secret holding the credentials. */
export type ResolvedElasticsearch = ElasticsearchStorage & { readonly indexPrefix: string; readonly secretName: string };

/** `72h` → 72. */
function retentionHours(retention: string): number {
  const m = /^([1-9][0-9]*)h$/.exec(retention);
  if (!m) throw new Error(`tracing.jaeger.retention "${retention}" must be whole hours, e.g. 72h`);
  return Number(m[1]);
}

/** Indices the cleaner keeps: the retention in whole days, rounded up (Jaeger writes daily indices). */
export function retentionDays(retention: string): number {
  return Math.ceil(retentionHours(retention) / 24);
}

/** What the Jaeger process reads its storage settings from (environment, Jaeger v1 naming). */
function jaegerStorageEnv(plan: RegionPlan, es?: ResolvedElasticsearch): k8s.EnvVar[] {
  const { storage, retention } = plan.global.tracing.jaeger;
  const queue = [{ name: 'COLLECTOR_QUEUE_SIZE', value: String(JAEGER_QUEUE_SPANS) }];
  if (storage.type === 'badger') {
    return [
      { name: 'SPAN_STORAGE_TYPE', value: 'badger' },
      { name: 'BADGER_EPHEMERAL', value: 'false' },
      { name: 'BADGER_DIRECTORY_KEY', value: `${BADGER_MOUNT}/key` },
      { name: 'BADGER_DIRECTORY_VALUE', value: `${BADGER_MOUNT}/data` },
      { name: 'BADGER_SPAN_STORE_TTL', value: `${retentionHours(retention)}h` },
      ...queue,
    ];
  }
  if (!es) throw new Error('tracing.jaeger.storage.type is elasticsearch: the Elasticsearch URL and credentials are required');
  return [
    { name: 'SPAN_STORAGE_TYPE', value: 'elasticsearch' },
    { name: 'ES_SERVER_URLS', value: es.url },
    { name: 'ES_INDEX_PREFIX', value: es.indexPrefix },
    { name: 'ES_TLS_ENABLED', value: String(es.url.startsWith('https://')) },
    { name: 'ES_USERNAME', valueFrom: { secretKeyRef: { name: es.secretName, key: 'username' } } },
    { name: 'ES_PASSWORD', valueFrom: { secretKeyRef: { name: es.secretName, key: 'password' } } },
    // Set when an index is created (daily): shards spread the writes, replicas keep a copy of
    // every shard on another node (another zone in a zone-aware cluster).
    { name: 'ES_NUM_SHARDS', value: String(storage.elasticsearch?.numShards ?? 5) },
    { name: 'ES_NUM_REPLICAS', value: String(storage.elasticsearch?.numReplicas ?? 1) },
    { name: 'ES_BULK_WORKERS', value: String(ES_BULK_WORKERS) },
    ...queue,
  ];
}

const tcp = (name: string, containerPort: number) => ({ name, containerPort });

/** Jaeger and its Services (and, for elasticsearch, its credentials and index cleaner). */
export class Jaeger extends Construct {
  readonly workload: HardenedWorkload;

  constructor(scope: Construct, id: string, props: JaegerProps) {
    super(scope, id);
    const { plan, names } = props;
    const { jaeger } = plan.global.tracing;
    const n = names.jaeger;
    const namespace = plan.namespaces.monitoring;
    const labels = appLabels(plan, n.app, 'tracing');
    const badger = jaeger.storage.type === 'badger';
    if (!badger && !props.elasticsearch) {
      throw new Error('tracing.jaeger.storage.type is "elasticsearch": give the tracing chart the cluster (props.elasticsearch.url)');
    }
    if (props.elasticsearch && !/^https?:\/\/\S+$/.test(props.elasticsearch.url)) {
      throw new Error(`elasticsearch.url "${props.elasticsearch.url}" must be an http(s) URL`);
    }
    const es: ResolvedElasticsearch | undefined = !badger && props.elasticsearch
      ? {
          ...props.elasticsearch,
          indexPrefix: props.elasticsearch.indexPrefix ?? `${plan.global.platform.name}-${plan.region.name}`,
          secretName: n.elasticsearchSecret,
        }
      : undefined;
    if (es) {
      const key = es.credentialsKey ?? `${plan.global.platform.name}/${plan.region.name}/jaeger-elasticsearch`;
      new CredentialsFromStore(this, 'Credentials', {
        plan,
        name: es.secretName,
        namespace,
        labels,
        keys: { username: { key, property: 'username' }, password: { key, property: 'password' } },
      });
    }

    new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: { name: n.serviceAccount, namespace, labels, annotations: syncWave(SYNC_WAVE.config) },
      automountServiceAccountToken: false,
    });

    const admin = { httpGet: { path: '/', port: k8s.IntOrString.fromNumber(JAEGER_PORTS.admin) } };
    const container: HardenedContainerProps = {
      name: 'jaeger',
      image: plan.versions.images.jaeger,
      env: [
        ...jaegerStorageEnv(plan, es),
        // OTLP from the sampler tier (the Zipkin receiver stays off: it has no host:port).
        { name: 'COLLECTOR_OTLP_ENABLED', value: 'true' },
      ],
      ports: [
        tcp('grpc-otlp', JAEGER_PORTS.otlpGrpc),
        tcp('http-otlp', JAEGER_PORTS.otlpHttp),
        tcp('http-query', JAEGER_PORTS.queryHttp),
        tcp('grpc-query', JAEGER_PORTS.queryGrpc),
        tcp('http-admin', JAEGER_PORTS.admin),
      ],
      resources: props.resources ?? DEFAULT_JAEGER_RESOURCES,
      // The admin server answers 200 once storage and receivers are up, 503 otherwise.
      livenessProbe: { ...admin, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 6 },
      readinessProbe: { ...admin, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3 },
      // Badger replays its value log after an unclean stop: give it time before liveness counts.
      startupProbe: { ...admin, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 30 },
      writablePaths: ['/tmp'],
      volumeMounts: badger ? [{ name: 'data', mountPath: BADGER_MOUNT }] : undefined,
    };
    // The chart passes the sidecar sizing and the prometheus.io/* annotations of its scrape row.
    const annotations = { ...props.podAnnotations };
    const common = {
      name: n.workload,
      namespace,
      selectorLabels: labels,
      region: plan.region.name,
      partOf: plan.global.platform.name,
      version: plan.versions.images.jaeger.version,
      serviceAccountName: n.serviceAccount,
      runAsUser: JAEGER_USER,
      // Badger flushes its memtables on SIGTERM; with Elasticsearch, the queue drains to it.
      terminationGracePeriodSeconds: JAEGER_GRACE_SECONDS,
      annotations,
      containers: [container],
    };

    if (badger) {
      new k8s.KubeService(this, 'Headless', {
        metadata: { name: n.headlessService, namespace, labels, annotations: syncWave(SYNC_WAVE.config) },
        spec: { clusterIp: 'None', selector: { ...labels }, ports: [{ name: 'http-admin', port: JAEGER_PORTS.admin, targetPort: k8s.IntOrString.fromNumber(JAEGER_PORTS.admin) }] },
      });
      this.workload = new HardenedWorkload(this, 'Workload', {
        ...common,
        kind: 'StatefulSet',
        // One writer per badger directory: never more than one pod.
        replicas: 1,
        statefulSet: {
          serviceName: n.headlessService,
          volumeClaimTemplates: [
            {
              metadata: { name: 'data', labels },
              spec: {
                accessModes: ['ReadWriteOnce'],
                storageClassName: jaeger.storage.className,
                resources: { requests: { storage: k8s.Quantity.fromString(jaeger.storage.size) } },
              },
            },
          ],
        },
      });
    } else {
      const replicas = props.elasticsearchReplicas ?? jaeger.storage.elasticsearch?.jaegerReplicas ?? 2;
      if (replicas < 2) throw new Error(`elasticsearchReplicas (${replicas}) must be >= 2: with external storage Jaeger is stateless and should not be a single point of failure`);
      this.workload = new HardenedWorkload(this, 'Workload', { ...common, kind: 'Deployment', replicas });
      this.indexCleaner(props, es!);
    }

    const port = (name: string, number: number, appProtocol: string) => ({
      name,
      port: number,
      targetPort: k8s.IntOrString.fromNumber(number),
      protocol: 'TCP',
      appProtocol,
    });
    new k8s.KubeService(this, 'CollectorService', {
      metadata: { name: n.collectorService, namespace, labels, annotations: syncWave(SYNC_WAVE.config) },
      spec: {
        selector: { ...labels },
        ports: [port('grpc-otlp', JAEGER_PORTS.otlpGrpc, 'grpc'), port('http-otlp', JAEGER_PORTS.otlpHttp, 'http')],
      },
    });
    new k8s.KubeService(this, 'QueryService', {
      metadata: { name: n.queryService, namespace, labels, annotations: syncWave(SYNC_WAVE.config) },
      spec: {
        selector: { ...labels },
        ports: [
          port('http-query', JAEGER_PORTS.queryHttp, 'http'),
          port('grpc-query', JAEGER_PORTS.queryGrpc, 'grpc'),
          port('http-admin', JAEGER_PORTS.admin, 'http'),
        ],
      },
    });
  }

  /** Deletes daily indices older than the retention (Elasticsearch never expires them itself). */
  private indexCleaner(props: JaegerProps, es: ResolvedElasticsearch): void {
    const { plan, names } = props;
    const { jaeger } = plan.global.tracing;
    const namespace = plan.namespaces.monitoring;
    const cleanerLabels = appLabels(plan, names.jaeger.indexCleanerApp, 'tracing');
    // Released with Jaeger under the same version (loading regions/versions.yaml checks they agree).
    const image = plan.versions.images.jaegerEsIndexCleaner;
    const template = hardenedPodTemplate({
      selectorLabels: cleanerLabels,
      region: plan.region.name,
      partOf: plan.global.platform.name,
      version: image.version,
      serviceAccountName: names.jaeger.serviceAccount,
      runAsUser: JAEGER_USER,
      containers: [
        {
          name: 'index-cleaner',
          image,
          args: [String(retentionDays(jaeger.retention)), es.url],
          env: [
            { name: 'INDEX_PREFIX', value: es.indexPrefix },
            { name: 'ES_TLS_ENABLED', value: String(es.url.startsWith('https://')) },
            { name: 'ES_USERNAME', valueFrom: { secretKeyRef: { name: es.secretName, key: 'username' } } },
            { name: 'ES_PASSWORD', valueFrom: { secretKeyRef: { name: es.secretName, key: 'password' } } },
          ],
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
          // hardenedPodTemplate requires probes of serving containers; a Job's are removed below.
          livenessProbe: { exec: { command: ['true'] } },
          readinessProbe: { exec: { command: ['true'] } },
          writablePaths: ['/tmp'],
        },
      ],
    });
    const spec = template.spec!;
    new k8s.KubeCronJob(this, 'IndexCleaner', {
      metadata: { name: names.jaeger.indexCleaner, namespace, labels: { ...cleanerLabels, [LABELS.version]: image.version } },
      spec: {
        schedule: props.indexCleanerSchedule ?? '15 0 * * *',
        timeZone: 'Etc/UTC',
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: 3600,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          metadata: { labels: { ...cleanerLabels } },
          spec: {
            backoffLimit: 2,
            activeDeadlineSeconds: 3600,
            ttlSecondsAfterFinished: 7 * 24 * 3600,
            template: {
              // Outside the mesh: an injected sidecar would outlive the cleaner and keep the Job
              // from ever completing; the cleaner talks only to the external cluster (TLS).
              metadata: { ...template.metadata, labels: { ...template.metadata!.labels, [ISTIO_INJECT_LABEL]: 'false' } },
              spec: {
                ...spec,
                restartPolicy: 'Never',
                containers: spec.containers.map(({ livenessProbe: _l, readinessProbe: _r, ...c }) => c),
                topologySpreadConstraints: undefined,
              },
            },
          },
        },
      },
    });
  }
}
