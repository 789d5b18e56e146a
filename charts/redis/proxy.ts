/**
 * The sessions proxy of the primary region: HAProxy in front of the sessions tier, with a
 * master port (6379) and a replica port (6380), following Sentinel's view (the redis-ha chart's
 * HAProxy pattern).
 *
 * Why it exists: a Sentinel answers with cluster-local pod names, which mean nothing in another
 * region, and a Redis replica cannot follow Sentinel by itself. Other regions therefore need one
 * fixed address that always reaches the current master (the API's session writes) and one that
 * reaches a replica (the cross-region read replicas: replicating from a replica keeps the far
 * links off the master, so they never count towards its `min-replicas-to-write` or `WAIT`).
 * Inside the primary region clients use Sentinel directly; the proxy is the cross-region door.
 *
 * A Kubernetes Service cannot select "the master" without a controller relabelling pods (API
 * write access from the data plane, racing the failover); HAProxy checks each pod's role itself
 * every second and cuts the sessions of a pod that stops being master.
 */
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { ImageRelease } from '../../regions/model';
import type { RegionPlan } from '../../regions/plan';
import { type ContainerResources, DEFAULT_RUN_AS_USER } from '../lib/hardened-pod';
import { HardenedWorkload } from '../lib/hardened-workload';
import { configHash, sidecarAnnotations } from '../lib/http-service';
import { LABELS } from '../lib/labels';
import { SYNC_WAVE, syncWave } from '../lib/metadata';
import {
  PROXY_HEALTH_PORT, PROXY_METRICS_PORT, type RedisTopology, redisTopology, REDIS_REPLICAS, SENTINEL_REPLICAS,
  sessionsProxyNames, type SessionsProxyNames,
} from './topology';

/** Sized for session traffic (logins, refreshes) and three replication streams; proposed for the model. */
const PROXY_RESOURCES: ContainerResources = { requests: { cpu: '200m', memory: '128Mi' }, limits: { memory: '256Mi' } };

/** Two proxies in different zones: one may go (drain, zone loss) while the other carries on. */
const PROXY_REPLICAS = 2;
/** Seconds a proxy pod gets to stop (its sidecar drains for all but the last five). */
const PROXY_GRACE_SECONDS = 30;

/** Connections one proxy accepts (see the comment in the rendered global section). */
const PROXY_MAX_CONNECTIONS = 8000;

/** Env var HAProxy expands in the config (`"${REDIS_PASSWORD}"`), filled from the Secret. */
export const PROXY_PASSWORD_ENV = 'REDIS_PASSWORD';

const CONFIG_DIR = '/usr/local/etc/haproxy';

/**
 * The health checks that tell HAProxy whether a server is what a frontend needs: `expect`, a
 * `tcp-check expect` pattern (`string …` or `rstring …`) on its INFO replication.
 */
function redisCheck(expect: string): string[] {
  return [
    '  option tcp-check',
    '  tcp-check connect',
    `  tcp-check send "AUTH \${${PROXY_PASSWORD_ENV}}\\r\\n"`,
    '  tcp-check expect string +OK',
    '  tcp-check send "INFO replication\\r\\n"',
    `  tcp-check expect ${expect}`,
    '  tcp-check send "QUIT\\r\\n"',
    '  tcp-check expect string +OK',
  ];
}

/** haproxy.cfg of the sessions proxy. */
export function renderHaproxyConf(plan: RegionPlan): string {
  const t = redisTopology(plan, 'sessions');
  const proxy = sessionsProxyNames(plan, plan.region.name);
  const pods = Array.from({ length: REDIS_REPLICAS }, (_, i) => i);
  const sentinels = Array.from({ length: SENTINEL_REPLICAS }, (_, i) => i);
  const lines: string[] = [
    `# haproxy.cfg of the Redis sessions proxy in ${plan.region.name}.`,
    '# Rendered by charts/redis/proxy.ts; the password comes from the environment.',
    'global',
    '  log stdout format raw local0 notice',
    // Other regions' API pods (3 x up to 1,000, one pooled connection each, spread over the
    // proxies) plus replication links. Each connection costs two descriptors: 8,000 stays under
    // a 20,000 open-files limit (HAProxy refuses to start when it cannot raise its own).
    `  maxconn ${PROXY_MAX_CONNECTIONS}`,
    '',
    '# Pod names are re-resolved: a rescheduled pod keeps its name but gets a new IP.',
    'resolvers cluster',
    '  parse-resolv-conf',
    '  hold valid 5s',
    '  timeout resolve 1s',
    '  timeout retry 1s',
    '',
    'defaults',
    '  mode tcp',
    '  log global',
    '  option dontlognull',
    '  option clitcpka',
    '  option srvtcpka',
    '  timeout connect 3s',
    // Client pools and replication links are long-lived; keepalives find dead peers.
    '  timeout client 1h',
    '  timeout server 1h',
    '  timeout check 2s',
    // Check every second, two failures mark a server down, and its open sessions are cut: no
    // client stays on a demoted master (READONLY errors), and no remote replica stays on a pod
    // that is no longer a linked replica (a promoted one would count it towards the master's
    // min-replicas-to-write; one without a link serves it nothing). Cut streams reconnect to a
    // linked replica and continue with a partial resync (replicas of one master share its
    // replication ID).
    '  default-server init-addr last,libc,none resolvers cluster check inter 1s fall 2 rise 1 on-marked-down shutdown-sessions',
    '',
    'listen health',
    `  bind :${PROXY_HEALTH_PORT}`,
    '  mode http',
    '  monitor-uri /healthz',
    '',
    'frontend metrics',
    `  bind :${PROXY_METRICS_PORT}`,
    '  mode http',
    '  http-request use-service prometheus-exporter if { path /metrics }',
    '',
  ];
  // Per Redis pod: how many Sentinels currently name it the master.
  for (const i of pods) {
    lines.push(
      `backend sentinels_name_${i}_master`,
      '  option tcp-check',
      '  tcp-check connect',
      `  tcp-check send "AUTH \${${PROXY_PASSWORD_ENV}}\\r\\n"`,
      '  tcp-check expect string +OK',
      `  tcp-check send "SENTINEL get-master-addr-by-name ${t.masterName}\\r\\n"`,
      `  tcp-check expect string ${t.podHost(i)}`,
      '  tcp-check send "QUIT\\r\\n"',
      '  tcp-check expect string +OK',
      ...sentinels.map((s) => `  server sentinel${s} ${t.sentinelPodHost(s)}:${t.sentinelPort}`),
      '',
    );
  }
  lines.push(
    'frontend redis_master',
    `  bind :${proxy.masterPort}`,
    '  default_backend redis_master',
    '',
    '# The pod that reports role:master; when two do (a restarted old master), the one a majority',
    '# of Sentinels names wins.',
    'backend redis_master',
    ...redisCheck('string role:master'),
    ...pods.map((i) => `  use-server redis${i} if { srv_is_up(redis${i}) } { nbsrv(sentinels_name_${i}_master) ge 2 }`),
    ...pods.map((i) => `  server redis${i} ${t.podHost(i)}:${t.redisPort}`),
    '',
    'frontend redis_replica',
    `  bind :${proxy.replicaPort}`,
    '  default_backend redis_replica',
    '',
    '# Replicas whose own link to the master is up: one that lost it (failover, restart) answers',
    '# a remote replica\'s PSYNC with -NOMASTERLINK.',
    'backend redis_replica',
    '  balance leastconn',
    ...redisCheck('rstring role:slave[[:print:][:space:]]*master_link_status:up'),
    ...pods.map((i) => `  server redis${i} ${t.podHost(i)}:${t.redisPort}`),
  );
  return `${lines.join('\n')}\n`;
}

export interface SessionsProxyProps {
  /** The region's plan. */
  readonly plan: RegionPlan;
  /** Labels of the proxy's objects. */
  readonly labels: Readonly<Record<string, string>>;
  /** Pod selector labels of the proxy Deployment. */
  readonly selectorLabels: Readonly<Record<string, string>>;
  /** HAProxy 2.8 (LTS). @default plan.versions.images.haproxy */
  readonly image?: ImageRelease;
  /** @default PROXY_RESOURCES — 200m/128Mi, sized for session traffic and three replication streams */
  readonly resources?: ContainerResources;
  /** @default PROXY_REPLICAS (2) — in different zones, so a drain or a zone loss leaves one proxy serving */
  readonly replicas?: number;
}

/** ConfigMap, Deployment (+ PDB) and Service of the sessions proxy. */
export class SessionsProxy extends Construct {
  readonly names: SessionsProxyNames;
  readonly topology: RedisTopology;

  constructor(scope: Construct, id: string, props: SessionsProxyProps) {
    super(scope, id);
    const { plan } = props;
    this.topology = redisTopology(plan, 'sessions');
    this.names = sessionsProxyNames(plan, plan.region.name);
    const ns = this.topology.namespace;
    const image = props.image ?? plan.versions.images.haproxy;
    const data = { 'haproxy.cfg': renderHaproxyConf(plan) };

    new k8s.KubeConfigMap(this, 'config', {
      metadata: { name: this.names.configMap, namespace: ns, labels: { ...props.labels }, annotations: syncWave(SYNC_WAVE.config) },
      data,
    });

    const tcp = (port: number) => ({ tcpSocket: { port: k8s.IntOrString.fromNumber(port) } });
    const workload = new HardenedWorkload(this, 'workload', {
      kind: 'Deployment',
      name: this.names.deployment,
      namespace: ns,
      replicas: props.replicas ?? PROXY_REPLICAS,
      selectorLabels: props.selectorLabels,
      region: plan.region.name,
      partOf: plan.global.platform.name,
      version: image.version,
      serviceAccountName: this.names.serviceAccount,
      runAsUser: DEFAULT_RUN_AS_USER,
      // HAProxy finishes the replication streams it carries before its sidecar goes.
      terminationGracePeriodSeconds: PROXY_GRACE_SECONDS,
      annotations: {
        ...sidecarAnnotations(plan.global.mesh.sidecar, PROXY_GRACE_SECONDS - 5),
        'bookedbarber.com/config-sha256': configHash(data),
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(PROXY_METRICS_PORT),
        'prometheus.io/path': '/metrics',
      },
      containers: [
        {
          name: 'haproxy',
          image,
          command: ['haproxy', '-db', '-f', `${CONFIG_DIR}/haproxy.cfg`],
          ports: [
            { name: 'tcp-redis', containerPort: this.names.masterPort },
            { name: 'tcp-replica', containerPort: this.names.replicaPort },
            { name: 'http-health', containerPort: PROXY_HEALTH_PORT },
            { name: 'http-metrics', containerPort: PROXY_METRICS_PORT },
          ],
          env: [{ name: PROXY_PASSWORD_ENV, valueFrom: { secretKeyRef: { name: this.topology.authSecret, key: 'password' } } }],
          resources: props.resources ?? PROXY_RESOURCES,
          livenessProbe: { httpGet: { path: '/healthz', port: k8s.IntOrString.fromNumber(PROXY_HEALTH_PORT) }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
          // Ready once it listens: with no master up it still must accept (and reset) connections.
          readinessProbe: { ...tcp(this.names.masterPort), periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2 },
          writablePaths: ['/tmp'],
          volumeMounts: [{ name: 'config', mountPath: CONFIG_DIR, readOnly: true }],
        },
      ],
      volumes: [{ name: 'config', configMap: { name: this.names.configMap } }],
    });
    workload.apiObject.metadata.addAnnotation('argocd.argoproj.io/sync-wave', String(SYNC_WAVE.workloads));
    workload.disruptionBudget?.apiObject.metadata.addAnnotation('argocd.argoproj.io/sync-wave', String(SYNC_WAVE.workloads));

    const port = (name: string, number: number, appProtocol: string): k8s.ServicePort => ({
      name, port: number, targetPort: k8s.IntOrString.fromNumber(number), protocol: 'TCP', appProtocol,
    });
    new k8s.KubeService(this, 'service', {
      metadata: { name: this.names.service, namespace: ns, labels: { ...props.labels }, annotations: syncWave(SYNC_WAVE.config) },
      spec: {
        type: 'ClusterIP',
        selector: { ...props.selectorLabels },
        ports: [
          port('tcp-redis', this.names.masterPort, 'tcp'),
          port('tcp-replica', this.names.replicaPort, 'tcp'),
          port('http-metrics', PROXY_METRICS_PORT, 'http'),
        ],
      },
    });
  }
}

/** Selector labels of the proxy pods (same `name` as every Redis pod, so the API's flow covers it). */
export function proxySelectorLabels(plan: RegionPlan): Record<string, string> {
  return {
    [LABELS.name]: plan.names.data.redisApp,
    [LABELS.instance]: `redis-sessions-${plan.region.name}`,
    [LABELS.component]: 'sessions-proxy',
  };
}
