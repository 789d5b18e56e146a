/**
 * One Redis tier of a region: its config, password, Redis StatefulSet (with redis_exporter) and,
 * when Sentinel-managed, its Sentinel StatefulSet, plus the Services in front of them.
 *
 * Sentinels run as their own StatefulSet, not as a sidecar of each Redis pod:
 * - a Redis restart or rollout (new image, new redis.conf) never takes a Sentinel vote with it,
 *   and a Sentinel change never restarts a Redis (a restarted cache replica starts cold);
 * - each has its own resources, probes and PDB;
 * - the fault tolerance is the same: both sets spread one pod per zone, so a zone outage costs
 *   one Redis and one Sentinel, and the two Sentinels left are the majority a failover needs.
 * A StatefulSet, not a Deployment: Sentinels announce stable per-pod DNS names.
 */
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { ImageRelease } from '../../regions/model';
import type { RegionPlan } from '../../regions/plan';
import type { ContainerResources, HardenedContainerProps } from '../lib/hardened-pod';
import { HardenedWorkload } from '../lib/hardened-workload';
import { configHash, sidecarAnnotations } from '../lib/http-service';
import { LABELS } from '../lib/labels';
import { SYNC_WAVE, syncWave } from '../lib/metadata';
import { CredentialsFromStore } from '../lib/external-secret';
import { isPersistent, REDIS_FILES, REDIS_PATHS, renderRedisConf, renderSentinelConf } from './config';
import {
  redisProbeCommand, type RedisProbeCheck, REDIS_START_ENV, renderProbeScript, renderRedisStartScript, renderSentinelStartScript, SENTINEL_START_ENV,
} from './scripts';

/** Seconds a Redis or Sentinel pod gets to shut down (the master's `shutdown-timeout` fits in it). */
const REDIS_GRACE_SECONDS = 30;
import {
  EXPORTER_PORT, type PrimaryRegionRef, REDIS_REPLICAS, type RedisTierKey, type RedisTopology, redisServiceAccount, redisTopology,
  SENTINEL_REPLICAS, SENTINEL_TIMING,
} from './topology';

/** The `redis` user of the official image: owns what it writes on the volume (fsGroup too). */
const REDIS_RUN_AS_USER = 999;

/** Sentinel is tiny (a few connections, no data); proposed for the model as `global.redis.sentinel.resources`. */
const SENTINEL_RESOURCES: ContainerResources = { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '128Mi' } };
const EXPORTER_RESOURCES: ContainerResources = { requests: { cpu: '50m', memory: '32Mi' }, limits: { memory: '128Mi' } };

/** Name of the persistent volume claim template (sessions) and of the data mount. */
const DATA_VOLUME = 'data';
const CONFIG_VOLUME = 'config';
const AUTH_VOLUME = 'auth';
const PASSWORD_FILE = `${REDIS_PATHS.auth}/password`;

export interface RedisTierProps {
  /** The region's plan. */
  readonly plan: RegionPlan;
  /** Which tier (cache, sessions, rateLimit) this renders. */
  readonly tier: RedisTierKey;
  /** The primary region (remote-replica tiers replicate it). @default the plan's */
  readonly primaryRegion?: PrimaryRegionRef;
  /**
   * redis_exporter sidecar image.
   * @default plan.versions.images.redisExporter — every pin lives once in regions/versions.yaml
   */
  readonly exporterImage?: ImageRelease;
  /** @default SENTINEL_RESOURCES — 50m/64Mi: Sentinel holds a few connections and no data */
  readonly sentinelResources?: ContainerResources;
  /** @default EXPORTER_RESOURCES — 50m/32Mi: one small scrape every 30 s */
  readonly exporterResources?: ContainerResources;
}

/** Selector labels of a tier's pods: `name` and `component` select each part for the connection declaration (charts/wiring/peers.ts). */
function tierSelectorLabels(plan: RegionPlan, tier: RedisTierKey, part: 'server' | 'sentinel'): Record<string, string> {
  const t = redisTopology(plan, tier);
  return {
    [LABELS.name]: plan.names.data.redisApp,
    [LABELS.instance]: `redis-${t.slug}-${plan.region.name}`,
    [LABELS.component]: `${t.slug}-${part}`,
  };
}

export class RedisTier extends Construct {
  readonly topology: RedisTopology;
  /** The ConfigMap's files (also what the real-server tests load). */
  readonly files: Readonly<Record<string, string>>;
  readonly redis: HardenedWorkload;
  readonly sentinel?: HardenedWorkload;

  constructor(scope: Construct, id: string, props: RedisTierProps) {
    super(scope, id);
    const { plan, tier } = props;
    const t = (this.topology = redisTopology(plan, tier));
    const sentinelMode = t.mode === 'sentinel';
    const ns = t.namespace;
    const serverSelector = tierSelectorLabels(plan, tier, 'server');
    const sentinelSelector = tierSelectorLabels(plan, tier, 'sentinel');
    // Objects carry the labels of the pods they serve (the chart adds part-of, managed-by, region).
    const serverLabels = serverSelector;
    const sentinelLabels = sentinelSelector;

    const files: Record<string, string> = {
      [REDIS_FILES.redisConf]: renderRedisConf(plan, tier, props.primaryRegion),
      [REDIS_FILES.startRedis]: renderRedisStartScript(),
      [REDIS_FILES.probe]: renderProbeScript(),
    };
    if (sentinelMode) {
      files[REDIS_FILES.sentinelConf] = renderSentinelConf(plan, tier);
      files[REDIS_FILES.startSentinel] = renderSentinelStartScript();
    }
    this.files = files;
    new k8s.KubeConfigMap(this, 'config', {
      metadata: { name: t.configMap, namespace: ns, labels: { ...serverLabels }, annotations: syncWave(SYNC_WAVE.config) },
      data: files,
    });

    // The password: for the pods here, and for the API in the app namespace (same remote key).
    // `property`: like every other credential, the remote value is a JSON object; without it a
    // Vault KV store hands over the whole object and the start scripts reject the password.
    const password = { key: t.passwordRemoteKey, property: 'password' };
    new CredentialsFromStore(this, 'auth', { plan, name: t.authSecret, namespace: ns, labels: serverLabels, keys: { password } });
    new CredentialsFromStore(this, 'client-auth', {
      plan, name: t.clientSecret, namespace: plan.namespaces.app, labels: serverLabels, keys: { password },
    });

    // ---- Services
    const redisPort = servicePort('tcp-redis', t.redisPort, 'tcp');
    const sentinelPort = servicePort('tcp-sentinel', t.sentinelPort, 'tcp');
    const metricsPort = servicePort('http-metrics', EXPORTER_PORT, 'http');
    service(this, 'headless', t.headlessService, ns, serverLabels, serverSelector, [redisPort, metricsPort], true);
    if (sentinelMode) {
      service(this, 'sentinel-headless', t.sentinelHeadlessService, ns, sentinelLabels, sentinelSelector, [sentinelPort, metricsPort], true);
      // Clients' entry point: any Sentinel answers "where is the master".
      service(this, 'sentinel-service', t.sentinelService, ns, sentinelLabels, sentinelSelector, [sentinelPort], false);
    } else {
      // Remote replicas are all equal: any of them serves session reads.
      service(this, 'read', t.readService, ns, serverLabels, serverSelector, [redisPort], false);
    }

    // ---- Pods
    const annotations = (usedFiles: readonly string[]) => ({
      // The start script asks the Sentinels first; a master hands over on SIGTERM.
      ...sidecarAnnotations(plan.global.mesh.sidecar, REDIS_GRACE_SECONDS - 5),
      // Roll the pods when a file they use changes (they copy the config only at start); only
      // those: a redis.conf change must not restart the Sentinels that fail the master over.
      'bookedbarber.com/config-sha256': configHash(Object.fromEntries(usedFiles.map((f) => [f, files[f]]))),
      // Istio merges the exporter's metrics into its own endpoint on 15020 (STRICT mTLS).
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(EXPORTER_PORT),
      'prometheus.io/path': '/metrics',
    });
    const volumes: k8s.Volume[] = [
      { name: CONFIG_VOLUME, configMap: { name: t.configMap } },
      // 0440 + fsGroup: readable by the redis group only.
      { name: AUTH_VOLUME, secret: { secretName: t.authSecret, defaultMode: 0o440 } },
    ];
    const commonMounts: k8s.VolumeMount[] = [
      { name: CONFIG_VOLUME, mountPath: REDIS_PATHS.config, readOnly: true },
      { name: AUTH_VOLUME, mountPath: REDIS_PATHS.auth, readOnly: true },
    ];
    const podName: k8s.EnvVar = { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } };
    const peers = Array.from({ length: REDIS_REPLICAS }, (_, i) => `${t.podHost(i)}:${t.redisPort}`).join(' ');
    const persistent = isPersistent(tier);

    const redisEnv: k8s.EnvVar[] = [
      // First: Kubernetes expands $(POD_NAME) only from variables defined before.
      podName,
      env(REDIS_START_ENV.template, `${REDIS_PATHS.config}/${REDIS_FILES.redisConf}`),
      env(REDIS_START_ENV.runtimeDir, REDIS_PATHS.runtime),
      env(REDIS_START_ENV.passwordFile, PASSWORD_FILE),
      env(REDIS_START_ENV.port, String(t.redisPort)),
      env(REDIS_START_ENV.announceHost, `$(POD_NAME).${t.headlessService}.${ns}.svc.cluster.local`),
    ];
    if (sentinelMode) {
      redisEnv.push(
        env(REDIS_START_ENV.sentinelHost, t.sentinelServiceHost),
        env(REDIS_START_ENV.sentinelPort, String(t.sentinelPort)),
        env(REDIS_START_ENV.masterName, t.masterName),
        env(REDIS_START_ENV.bootstrapMaster, `${t.bootstrapMasterHost}:${t.redisPort}`),
        env(REDIS_START_ENV.peers, peers),
        env(REDIS_START_ENV.staleMasterWaitSeconds, String(staleMasterWaitSeconds())),
      );
    }
    const probeScript = `${REDIS_PATHS.config}/${REDIS_FILES.probe}`;
    const redisProbe = (check: RedisProbeCheck) => redisProbeCommand(probeScript, check, t.redisPort, REDIS_PATHS.runtime, PASSWORD_FILE);
    const redisContainer: HardenedContainerProps = {
      name: 'redis',
      image: plan.versions.images.redis,
      command: ['sh', `${REDIS_PATHS.config}/${REDIS_FILES.startRedis}`],
      ports: [{ name: 'tcp-redis', containerPort: t.redisPort }],
      env: redisEnv,
      resources: t.config.resources,
      // Up to 5 min to start: the wait for a failover (start-redis.sh) plus loading a large AOF.
      startupProbe: { exec: { command: redisProbe('alive') }, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 60 },
      livenessProbe: { exec: { command: redisProbe('alive') }, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
      readinessProbe: { exec: { command: redisProbe('synced') }, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 2 },
      writablePaths: persistent ? [REDIS_PATHS.runtime, '/tmp'] : [REDIS_PATHS.runtime, REDIS_PATHS.data, '/tmp'],
      volumeMounts: [...commonMounts, ...(persistent ? [{ name: DATA_VOLUME, mountPath: REDIS_PATHS.data }] : [])],
    };
    this.redis = new HardenedWorkload(this, 'redis-workload', {
      kind: 'StatefulSet',
      name: t.statefulSet,
      namespace: ns,
      replicas: REDIS_REPLICAS,
      selectorLabels: serverSelector,
      region: plan.region.name,
      partOf: plan.global.platform.name,
      version: plan.versions.images.redis.version,
      serviceAccountName: redisServiceAccount(plan, tier),
      runAsUser: REDIS_RUN_AS_USER,
      // shutdown-timeout (10 s) for replicas to catch up, plus the final AOF fsync.
      terminationGracePeriodSeconds: REDIS_GRACE_SECONDS,
      annotations: annotations([REDIS_FILES.redisConf, REDIS_FILES.startRedis, REDIS_FILES.probe]),
      containers: [redisContainer, exporter(props, t.redisPort)],
      volumes,
      statefulSet: {
        serviceName: t.headlessService,
        // Parallel: pods never wait for each other (start-redis.sh orders the roles), so a lost
        // pod 0 does not block the others' recovery as OrderedReady would.
        podManagementPolicy: 'Parallel',
        volumeClaimTemplates: persistent
          ? [{
              metadata: { name: DATA_VOLUME },
              spec: { accessModes: ['ReadWriteOnce'], storageClassName: requireStorageClass(t), resources: { requests: { storage: k8s.Quantity.fromString(requireStorage(t)) } } },
            }]
          : undefined,
      },
    });
    waves(this.redis);

    if (sentinelMode) {
      const sentinelEnv: k8s.EnvVar[] = [
        podName,
        env(SENTINEL_START_ENV.template, `${REDIS_PATHS.config}/${REDIS_FILES.sentinelConf}`),
        env(SENTINEL_START_ENV.runtimeDir, REDIS_PATHS.sentinelRuntime),
        env(SENTINEL_START_ENV.passwordFile, PASSWORD_FILE),
        env(SENTINEL_START_ENV.port, String(t.sentinelPort)),
        env(SENTINEL_START_ENV.announceHost, `$(POD_NAME).${t.sentinelHeadlessService}.${ns}.svc.cluster.local`),
        env(SENTINEL_START_ENV.masterName, t.masterName),
        env(SENTINEL_START_ENV.peersService, `${t.sentinelServiceHost}:${t.sentinelPort}`),
        env(SENTINEL_START_ENV.redisPeers, peers),
      ];
      const ping = redisProbeCommand(probeScript, 'serving', t.sentinelPort, REDIS_PATHS.sentinelRuntime, PASSWORD_FILE);
      this.sentinel = new HardenedWorkload(this, 'sentinel-workload', {
        kind: 'StatefulSet',
        name: t.sentinelStatefulSet,
        namespace: ns,
        replicas: SENTINEL_REPLICAS,
        selectorLabels: sentinelSelector,
        region: plan.region.name,
        partOf: plan.global.platform.name,
        version: plan.versions.images.redis.version,
        serviceAccountName: redisServiceAccount(plan, tier),
        runAsUser: REDIS_RUN_AS_USER,
        annotations: annotations([REDIS_FILES.sentinelConf, REDIS_FILES.startSentinel, REDIS_FILES.probe]),
        containers: [
          {
            name: 'sentinel',
            image: plan.versions.images.redis,
            command: ['sh', `${REDIS_PATHS.config}/${REDIS_FILES.startSentinel}`],
            ports: [{ name: 'tcp-sentinel', containerPort: t.sentinelPort }],
            env: sentinelEnv,
            resources: props.sentinelResources ?? SENTINEL_RESOURCES,
            // The start script may wait for pod 0's name to resolve (first start).
            startupProbe: { exec: { command: ping }, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 30 },
            livenessProbe: { exec: { command: ping }, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
            readinessProbe: { exec: { command: ping }, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 2 },
            writablePaths: [REDIS_PATHS.sentinelRuntime, '/tmp'],
            volumeMounts: commonMounts,
          },
          exporter(props, t.sentinelPort),
        ],
        volumes,
        statefulSet: { serviceName: t.sentinelHeadlessService, podManagementPolicy: 'Parallel' },
      });
      waves(this.sentinel);
    }
  }
}

/** Seconds start-redis.sh waits for the Sentinels to replace a restarted master. */
function staleMasterWaitSeconds(): number {
  return Math.ceil((SENTINEL_TIMING.downAfterMilliseconds + SENTINEL_TIMING.failoverTimeoutMilliseconds) / 1000);
}

function requireStorage(t: RedisTopology): string {
  if (!t.config.storage) throw new Error(`global.redis.tiers.${t.tier}.storage must be set: the tier is persisted (AOF)`);
  return t.config.storage;
}

/** The class of a persisted tier's volumes (one of ours: the storage invariants check the name). */
function requireStorageClass(t: RedisTopology): string {
  if (!t.config.storageClassName) throw new Error(`global.redis.tiers.${t.tier}.storageClassName must be set: the tier is persisted (AOF)`);
  return t.config.storageClassName;
}

function env(name: string, value: string): k8s.EnvVar {
  return { name, value };
}

function servicePort(name: string, port: number, appProtocol: string): k8s.ServicePort {
  // appProtocol tcp: Istio proxies the bytes as they are (no protocol sniffing delay).
  return { name, port, targetPort: k8s.IntOrString.fromNumber(port), protocol: 'TCP', appProtocol };
}

function service(
  scope: Construct, id: string, name: string, namespace: string, labels: Readonly<Record<string, string>>,
  selector: Readonly<Record<string, string>>, ports: k8s.ServicePort[], headless: boolean,
): void {
  new k8s.KubeService(scope, id, {
    metadata: { name, namespace, labels: { ...labels }, annotations: syncWave(SYNC_WAVE.config) },
    spec: headless
      ? {
          clusterIp: 'None',
          // Pod names resolve before the pods are ready: replicas and Sentinels must reach a
          // master (or a Sentinel its peers) while their own probes are still failing.
          publishNotReadyAddresses: true,
          selector: { ...selector },
          ports,
        }
      : { type: 'ClusterIP', selector: { ...selector }, ports },
  });
}

/** redis_exporter next to a Redis or a Sentinel (it detects which). */
function exporter(props: RedisTierProps, port: number): HardenedContainerProps {
  const t = redisTopology(props.plan, props.tier);
  const http = { httpGet: { path: '/health', port: k8s.IntOrString.fromNumber(EXPORTER_PORT) } };
  return {
    name: 'exporter',
    image: props.exporterImage ?? props.plan.versions.images.redisExporter,
    ports: [{ name: 'http-metrics', containerPort: EXPORTER_PORT }],
    env: [
      { name: 'REDIS_ADDR', value: `redis://127.0.0.1:${port}` },
      { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: t.authSecret, key: 'password' } } },
    ],
    resources: props.exporterResources ?? EXPORTER_RESOURCES,
    livenessProbe: { ...http, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
    readinessProbe: { ...http, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 2 },
  };
}

function waves(w: HardenedWorkload): void {
  w.apiObject.metadata.addAnnotation('argocd.argoproj.io/sync-wave', String(SYNC_WAVE.workloads));
  w.disruptionBudget?.apiObject.metadata.addAnnotation('argocd.argoproj.io/sync-wave', String(SYNC_WAVE.workloads));
}
