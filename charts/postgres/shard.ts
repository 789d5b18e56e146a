/**
 * One Postgres shard: a StatefulSet of 1 + readReplicas pods running Patroni (Kubernetes API
 * as its store), which elects one primary and labels every pod `spilo-role=master|replica`.
 *
 * Why one StatefulSet and not "a primary StatefulSet and a replica StatefulSet": with
 * automatic failover the primary moves between pods, so a StatefulSet named "primary" would
 * hold a replica after the first failover and its name would lie. Patroni (as in Spilo and
 * Zalando's operator) treats all members alike: same image, same volume template, same
 * config; the role is a runtime label, and the read-write Service selects `master`, the
 * read-only Service `replica`. What the issue asks of the two StatefulSets holds: one primary,
 * `readReplicas` streaming replicas, each with its own volume, spread over zones.
 */
import { meshedTarget, mergedMetricsAnnotations, POSTGRES_APP } from '../lib/monitoring-targets';
import { JsonPatch } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { ImageRelease, ShardConfig } from '../../regions/model';
import { postgresSettings } from '../../regions/capacity';
import { IN_CLUSTER_TOKEN_DIR } from '../../regions/wiring';
import type { RegionPlan } from '../../regions/plan';
import { CredentialsFromStore } from '../lib/external-secret';
import { HardenedWorkload } from '../lib/hardened-workload';
import type { HardenedContainerProps } from '../lib/hardened-pod';
import { shutdownSafeProxy, SYNC_WAVE, syncWave } from '../lib/metadata';
import { ARCHIVE_WAL_SCRIPT, renderArchiveWalScript } from './archive';
import { PATRONI_REST_USER } from './topology';
import { BASE_BACKUP_SCRIPT, EXPORTER_QUERIES_FILE, renderExporterQueries, BASE_BACKUP_SCRIPT_ITEM, baseBackupContainer, renderBaseBackupScript, type BaseBackupOptions } from './backup';
import { BASE_BACKUP_AGE_FUNCTION, BOOTSTRAP_PASSWORDS, renderBootstrapSql, renderPostBootstrapScript } from './bootstrap';
import { POSTGRES_PATHS, renderPgHba, renderPostgresqlConf } from './conf';
import { POSTGRES_EXPORTER_RESOURCES, SPILO_UID } from './images';
import { CREDENTIAL_PROPERTIES, PATRONI_LABELS, POSTGRES_PORTS, POSTGRES_USERS, postgresNames, siteOf, type PostgresShardNames } from './names';
import { checkPatroniTiming, DEFAULT_PATRONI_TIMING, renderPatroniYaml, type PatroniTiming } from './patroni';
import { BackupStorageCredentials, walgEnvironment, type BackupIdentity } from './walg';

export interface PostgresShardProps {
  /** The region's plan. */
  readonly plan: RegionPlan;
  /** The shard (franchise range, replicas, storage) this renders. */
  readonly shard: ShardConfig;
  /** Patroni's failover timing; checked against `global.postgres.rtoSeconds`. @default DEFAULT_PATRONI_TIMING */
  readonly timing?: PatroniTiming;
  /** How WAL-G authenticates to object storage. @default - static keys from the secret store */
  readonly backupIdentity?: BackupIdentity;
  /**
   * postgres_exporter sidecar image.
   * @default plan.versions.images.postgresExporter — every pin lives once in regions/versions.yaml
   */
  readonly exporterImage?: ImageRelease;
  /** Time for Patroni to stop Postgres cleanly and hand over the leader lock. @default postgresShutdownGraceSeconds() */
  readonly terminationGracePeriodSeconds?: number;
  /** The base-backup sidecar (charts/postgres/backup.ts). @default its own defaults */
  readonly baseBackup?: BaseBackupOptions;
}

/** gp3's baseline write throughput, MB/s: the classes set no other (regions/storage.ts). */
const GP3_BASELINE_MB_PER_SECOND = 125;

/**
 * How long a stopping member may take before the kubelet kills it: Postgres' shutdown checkpoint
 * writes every dirty buffer (at most shared_buffers) at the volume's throughput, then Patroni
 * hands over the leader lock through the API server. Twice the checkpoint's worst case plus 15 s
 * for the hand-over, and never under 60 s: a primary killed mid-checkpoint is a crash, with the
 * lock left to expire (ttl) and crash recovery to follow. 4 GiB of shared_buffers: 81 s.
 */
export function postgresShutdownGraceSeconds(sharedBuffersMb: number): number {
  return Math.max(60, Math.ceil((2 * sharedBuffersMb) / GP3_BASELINE_MB_PER_SECOND) + 15);
}

const port = (n: number) => k8s.IntOrString.fromNumber(n);
/** Where the exporter container mounts its query file. */
const EXPORTER_CONFIG_DIR = '/etc/postgres-exporter';
const fromSecret = (name: string, secret: string, key: string): k8s.EnvVar => ({ name, valueFrom: { secretKeyRef: { name: secret, key } } });
const fromField = (name: string, fieldPath: string): k8s.EnvVar => ({ name, valueFrom: { fieldRef: { fieldPath } } });

export class PostgresShard extends Construct {
  readonly names: PostgresShardNames;
  readonly workload: HardenedWorkload;

  constructor(scope: Construct, id: string, props: PostgresShardProps) {
    super(scope, id);
    const { plan, shard } = props;
    const timing = props.timing ?? DEFAULT_PATRONI_TIMING;
    checkPatroniTiming(timing, plan.global.postgres.rtoSeconds);
    const grace = props.terminationGracePeriodSeconds ?? postgresShutdownGraceSeconds(postgresSettings(plan.global).sharedBuffersMb);
    const names = postgresNames(plan, shard.id);
    this.names = names;
    const namespace = plan.namespaces.data;
    const labels = names.selectorLabels;
    const meta = (name: string, wave?: number) => ({ name, namespace, labels: { ...labels }, ...(wave === undefined ? {} : { annotations: syncWave(wave) }) });

    this.identity(names, meta, membersOf(plan, shard), props.backupIdentity);
    const credentials = this.credentials(plan, names, namespace);
    if (!props.backupIdentity) new BackupStorageCredentials(this, 'BackupStorage', { plan, names, labels });
    new k8s.KubeConfigMap(this, 'Files', {
      metadata: meta(names.configMap, SYNC_WAVE.config),
      data: {
        'postgresql.conf': renderPostgresqlConf(plan, shard),
        'pg_hba.conf': renderPgHba(plan, shard),
        'patroni.yml': renderPatroniYaml(plan, shard, timing),
        'bootstrap.sql': renderBootstrapSql(),
        'post-bootstrap.sh': renderPostBootstrapScript(POSTGRES_PATHS.configDir),
        [BASE_BACKUP_SCRIPT]: renderBaseBackupScript(),
        [ARCHIVE_WAL_SCRIPT]: renderArchiveWalScript(POSTGRES_PORTS.patroni.port),
        [EXPORTER_QUERIES_FILE]: renderExporterQueries(BASE_BACKUP_AGE_FUNCTION),
      },
    });
    this.services(names, meta);

    const walg = walgEnvironment(plan, names, props.backupIdentity);
    const c = CREDENTIAL_PROPERTIES;
    const secret = credentials.secretName;
    const bootstrapEnv = BOOTSTRAP_PASSWORDS.map((p) => fromSecret(p.env, secret, p.property));
    const postgres: HardenedContainerProps = {
      name: 'postgres',
      image: plan.versions.images.spilo,
      command: ['patroni', `${POSTGRES_PATHS.configDir}/patroni.yml`],
      ports: [
        { name: POSTGRES_PORTS.postgres.name, containerPort: POSTGRES_PORTS.postgres.port },
        { name: POSTGRES_PORTS.patroni.name, containerPort: POSTGRES_PORTS.patroni.port },
      ],
      env: [
        fromField('PATRONI_NAME', 'metadata.name'),
        fromField('PATRONI_KUBERNETES_NAMESPACE', 'metadata.namespace'),
        fromField('PATRONI_KUBERNETES_POD_IP', 'status.podIP'),
        // Members find each other by pod IP (the headless Service declares the ports for Istio).
        { name: 'PATRONI_POSTGRESQL_CONNECT_ADDRESS', value: `$(PATRONI_KUBERNETES_POD_IP):${POSTGRES_PORTS.postgres.port}` },
        { name: 'PATRONI_RESTAPI_CONNECT_ADDRESS', value: `$(PATRONI_KUBERNETES_POD_IP):${POSTGRES_PORTS.patroni.port}` },
        fromSecret('PATRONI_SUPERUSER_PASSWORD', secret, c.superuserPassword),
        fromSecret('PATRONI_REPLICATION_PASSWORD', secret, c.replicationPassword),
        fromSecret('PATRONI_REWIND_PASSWORD', secret, c.rewindPassword),
        { name: 'PATRONI_RESTAPI_USERNAME', value: PATRONI_REST_USER },
        fromSecret('PATRONI_RESTAPI_PASSWORD', secret, c.patroniApiPassword),
        ...bootstrapEnv,
        ...walg.env,
      ],
      resources: plan.global.postgres.resources,
      // /liveness: Patroni's HA loop runs; /readiness: Postgres is up and (on a replica) streaming.
      livenessProbe: { httpGet: { path: '/liveness', port: port(POSTGRES_PORTS.patroni.port) }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
      readinessProbe: { httpGet: { path: '/readiness', port: port(POSTGRES_PORTS.patroni.port) }, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 3 },
      writablePaths: ['/tmp'],
      volumeMounts: [
        { name: 'pgdata', mountPath: POSTGRES_PATHS.volumeDir },
        { name: 'files', mountPath: POSTGRES_PATHS.configDir, readOnly: true },
        { name: 'tls', mountPath: POSTGRES_PATHS.tlsDir, readOnly: true },
        { name: 'socket', mountPath: POSTGRES_PATHS.socketDir },
        // Patroni's API token, in this container only (see API_TOKEN_VOLUME).
        { name: API_TOKEN_VOLUME.name, mountPath: IN_CLUSTER_TOKEN_DIR, readOnly: true },
        ...walg.volumeMounts,
      ],
    };
    const exporter: HardenedContainerProps = {
      name: 'exporter',
      image: props.exporterImage ?? plan.versions.images.postgresExporter,
      args: [`--web.listen-address=:${POSTGRES_PORTS.metrics.port}`],
      ports: [{ name: POSTGRES_PORTS.metrics.name, containerPort: POSTGRES_PORTS.metrics.port }],
      env: [
        // The pod-local unix socket: pg_hba.conf lets the exporter in only there.
        { name: 'DATA_SOURCE_URI', value: `localhost:${POSTGRES_PORTS.postgres.port}/postgres?host=${POSTGRES_PATHS.socketDir}&sslmode=disable` },
        { name: 'DATA_SOURCE_USER', value: POSTGRES_USERS.exporter },
        fromSecret('DATA_SOURCE_PASS', secret, c.exporterPassword),
        // The base backup's age (backup.ts), on top of the built-in collectors.
        { name: 'PG_EXPORTER_EXTEND_QUERY_PATH', value: `${EXPORTER_CONFIG_DIR}/${EXPORTER_QUERIES_FILE}` },
      ],
      resources: POSTGRES_EXPORTER_RESOURCES,
      // TCP only: an exporter that cannot reach Postgres must not mark the database pod unready.
      livenessProbe: { tcpSocket: { port: port(POSTGRES_PORTS.metrics.port) }, periodSeconds: 20 },
      readinessProbe: { tcpSocket: { port: port(POSTGRES_PORTS.metrics.port) }, periodSeconds: 10 },
      volumeMounts: [
        { name: 'socket', mountPath: POSTGRES_PATHS.socketDir, readOnly: true },
        { name: 'exporter-queries', mountPath: EXPORTER_CONFIG_DIR, readOnly: true },
      ],
    };

    // The home site runs a primary and its read replicas; a DR site its standby leader and
    // cascade replicas (disasterRecovery.members), which become primary and replicas on promotion.
    const replicas = membersOf(plan, shard);
    this.workload = new HardenedWorkload(this, 'Members', {
      kind: 'StatefulSet',
      name: names.statefulSet,
      namespace,
      replicas,
      selectorLabels: labels,
      region: plan.region.name,
      partOf: plan.global.platform.name,
      version: plan.versions.images.spilo.version,
      serviceAccountName: names.serviceAccount,
      // Patroni keeps its lock and the role labels through the Kubernetes API, with a token
      // mounted into its own container only (API_TOKEN_VOLUME): the exporter, which Prometheus
      // reaches over the network, and the backup sidecar get none.
      automountServiceAccountToken: false,
      runAsUser: SPILO_UID,
      terminationGracePeriodSeconds: grace,
      annotations: { ...shutdownSafeProxy(grace - 5), ...mergedMetricsAnnotations(meshedTarget(plan, POSTGRES_APP)) },
      containers: [postgres, exporter, baseBackupContainer(plan, names, walg, props.baseBackup)],
      volumes: [
        {
          name: 'files',
          configMap: {
            name: names.configMap,
            items: [
              { key: 'postgresql.conf', path: 'postgresql.conf', mode: 0o444 },
              { key: 'pg_hba.conf', path: 'pg_hba.conf', mode: 0o444 },
              { key: 'patroni.yml', path: 'patroni.yml', mode: 0o444 },
              { key: 'bootstrap.sql', path: 'bootstrap.sql', mode: 0o444 },
              { key: 'post-bootstrap.sh', path: 'post-bootstrap.sh', mode: 0o555 },
              BASE_BACKUP_SCRIPT_ITEM,
              { key: ARCHIVE_WAL_SCRIPT, path: ARCHIVE_WAL_SCRIPT, mode: 0o555 },
            ],
          },
        },
        // The exporter sees its query file only, not the rest of the shard's files.
        { name: 'exporter-queries', configMap: { name: names.configMap, items: [{ key: EXPORTER_QUERIES_FILE, path: EXPORTER_QUERIES_FILE, mode: 0o444 }] } },
        // Root-owned and group-readable (fsGroup): the only key mode Postgres accepts for a file it does not own.
        { name: 'tls', secret: { secretName: names.tlsSecret, defaultMode: 0o640 } },
        { name: 'socket', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString('1Mi') } },
        API_TOKEN_VOLUME,
        ...walg.volumes,
      ],
      statefulSet: {
        serviceName: names.headlessService,
        // All members start together; Patroni, not the StatefulSet controller, orders them.
        podManagementPolicy: 'Parallel',
        volumeClaimTemplates: [
          {
            metadata: { name: 'pgdata', labels: { ...labels } },
            spec: {
              accessModes: ['ReadWriteOnce'],
              storageClassName: shard.storage.className,
              resources: { requests: { storage: k8s.Quantity.fromString(shard.storage.size) } },
            },
          },
        ],
      },
    });
    // Leader-aware maintenance: the StatefulSet controller never restarts a member by itself (a
    // RollingUpdate would restart the primary without a switchover: a write outage of at least
    // Patroni's ttl). An operator deletes the replicas first, switches over, then deletes the old
    // primary (docs/postgres-maintenance.md); a rollout then costs one switchover.
    this.workload.apiObject.addJsonPatch(JsonPatch.replace('/spec/updateStrategy', { type: 'OnDelete' }));
    // Never two members on one node (a node loss must not take the primary and a replica), and
    // prefer distinct zones; the shared zone spread (maxSkew 1, DoNotSchedule) already makes a
    // zone hold at most ceil(members / zones).
    const selector = { matchLabels: { ...labels } };
    this.workload.apiObject.addJsonPatch(
      // Beside the node affinity every pod gets (on-demand nodes only, charts/lib/node-placement.ts).
      JsonPatch.add('/spec/template/spec/affinity/podAntiAffinity', {
        requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: selector }],
        preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'topology.kubernetes.io/zone', labelSelector: selector } }],
      }),
    );
  }

  private identity(names: PostgresShardNames, meta: (name: string, wave?: number) => k8s.ObjectMeta, members: number, backup?: BackupIdentity): void {
    const sa = meta(names.serviceAccount, SYNC_WAVE.config);
    new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: { ...sa, annotations: { ...sa.annotations, ...backup?.serviceAccountAnnotations } },
      // Only the Postgres pods mount a token (Patroni); anything else using this account gets none.
      automountServiceAccountToken: false,
    });
    new k8s.KubeRole(this, 'Role', { metadata: meta(names.role, SYNC_WAVE.config), rules: patroniRbacRules(names.scope, names.statefulSet, members) });
    new k8s.KubeRoleBinding(this, 'RoleBinding', {
      metadata: meta(names.role, SYNC_WAVE.config),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: names.role },
      subjects: [{ kind: 'ServiceAccount', name: names.serviceAccount, namespace: meta(names.role).namespace }],
    });
  }

  private credentials(plan: RegionPlan, names: PostgresShardNames, namespace: string): CredentialsFromStore {
    const key = names.remoteKeys.credentials;
    const c = CREDENTIAL_PROPERTIES;
    const credentials = new CredentialsFromStore(this, 'Credentials', {
      plan,
      name: names.credentialsSecret,
      namespace,
      labels: names.selectorLabels,
      // Everything but PgBouncer's own stats password, which no Postgres pod needs.
      keys: Object.fromEntries(Object.values(c).filter((p) => p !== c.pgbouncerStatsPassword).map((property) => [property, { key, property }])),
    });
    new CredentialsFromStore(this, 'Tls', {
      plan,
      name: names.tlsSecret,
      namespace,
      labels: names.selectorLabels,
      secretType: 'kubernetes.io/tls',
      // The certificate must name the rw and ro Services (PgBouncer verifies the host name).
      keys: { 'tls.crt': { key: names.remoteKeys.tls, property: 'tls.crt' }, 'tls.key': { key: names.remoteKeys.tls, property: 'tls.key' }, 'ca.crt': { key: names.remoteKeys.tls, property: 'ca.crt' } },
    });
    return credentials;
  }

  private services(names: PostgresShardNames, meta: (name: string, wave?: number) => k8s.ObjectMeta): void {
    const svcPort = (p: { name: string; port: number }) => ({ name: p.name, port: p.port, targetPort: port(p.port), protocol: 'TCP', appProtocol: p.name.startsWith('http') ? 'http' : 'tcp' });
    const role = (value: string) => ({ ...names.selectorLabels, [PATRONI_LABELS.role]: value });
    new k8s.KubeService(this, 'Headless', {
      metadata: meta(names.headlessService),
      spec: {
        clusterIp: 'None',
        // Members must resolve each other before they are ready (a replica is not ready until it streams).
        publishNotReadyAddresses: true,
        selector: { ...names.selectorLabels },
        ports: [svcPort(POSTGRES_PORTS.postgres), svcPort(POSTGRES_PORTS.patroni), svcPort(POSTGRES_PORTS.metrics)],
      },
    });
    new k8s.KubeService(this, 'ReadWrite', {
      metadata: { ...meta(names.readWriteService), annotations: RUNTIME_SELECTOR_ANNOTATION },
      // Patroni's REST API of the leader too: the topology Job sets the site's role through it.
      spec: { type: 'ClusterIP', selector: role(PATRONI_LABELS.leader), ports: [svcPort(POSTGRES_PORTS.postgres), svcPort(POSTGRES_PORTS.patroni)] },
    });
    new k8s.KubeService(this, 'ReadOnly', {
      metadata: { ...meta(names.readOnlyService), annotations: RUNTIME_SELECTOR_ANNOTATION },
      spec: { type: 'ClusterIP', selector: role(PATRONI_LABELS.follower), ports: [svcPort(POSTGRES_PORTS.postgres)] },
    });
  }
}

/**
 * What automountServiceAccountToken would mount into every container (the kubelet's projected
 * kube-api-access volume: a bound token it refreshes, the cluster CA, the namespace), as a volume
 * one container mounts. Patroni re-reads the token file (its K8sConfig token refresh).
 */
export const API_TOKEN_VOLUME: k8s.Volume = {
  name: 'kube-api-access',
  projected: {
    defaultMode: 0o444,
    sources: [
      { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardApi: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ],
  },
};

/** Pods of a shard site: its primary and read replicas at home, disasterRecovery.members at a DR site. */
function membersOf(plan: RegionPlan, shard: ShardConfig): number {
  return siteOf(plan, shard.id) === 'dr' ? shard.disasterRecovery.members : 1 + shard.readReplicas;
}

/** The ConfigMaps Patroni keeps its cluster state in (`<scope>-<key>`; initialize and history live in config). */
export const PATRONI_CONFIGMAPS = ['leader', 'config', 'failover', 'sync'] as const;

/**
 * Patroni's rights with ConfigMaps as its store, from its own code (patroni/dcs/kubernetes.py):
 * list+watch pods and ConfigMaps for its caches (by label selector, so by no name), create its
 * ConfigMaps (a create names none), get and patch only `<scope>-leader|config|failover|sync`, and
 * patch only the site's own pods (role label, status annotation: touch_member patches
 * `self._name`). Every rule that can be narrowed to names is: the namespace also holds PgBouncer,
 * Redis and other shards, whose pods and ConfigMaps (scripts they run) a broader patch right would
 * let a compromised Postgres pod rewrite. Not granted: endpoints and services (only used with
 * use_endpoints), delete/deletecollection (only `patronictl remove`, an operator's job), update.
 */
export function patroniRbacRules(scope: string, statefulSet: string, members: number): k8s.PolicyRule[] {
  return [
    { apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'watch', 'create'] },
    { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'patch'], resourceNames: PATRONI_CONFIGMAPS.map((key) => `${scope}-${key}`) },
    { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
    { apiGroups: [''], resources: ['pods'], verbs: ['patch'], resourceNames: Array.from({ length: members }, (_, i) => `${statefulSet}-${i}`) },
  ];
}

/**
 * Marks a Service whose selector names a label a controller sets on running pods (Patroni's
 * `spilo-role`), so the validator compares only the other keys with the pod template.
 */
export const RUNTIME_SELECTOR_ANNOTATION = { 'bookedbarber.com/runtime-selector-labels': PATRONI_LABELS.role } as const;
