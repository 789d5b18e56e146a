/**
 * PgBouncer in front of one shard: a Deployment (replicas from the shard config, zone spread,
 * PDB), its ConfigMap (pgbouncer.ini), an ExternalSecret with userlist.txt and the exporter's
 * connection string, and a Service the API reaches over the mesh.
 */
import { meshedTarget, mergedMetricsAnnotations } from '../lib/monitoring-targets';
import { JsonPatch } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { PGBOUNCER_ROLLOUT } from '../../regions/capacity';
import type { ImageRelease, ShardConfig } from '../../regions/model';
import type { RegionPlan } from '../../regions/plan';
import { CredentialsFromStore } from '../lib/external-secret';
import { HardenedWorkload } from '../lib/hardened-workload';
import { configHash } from '../lib/http-service';
import { LABELS } from '../lib/labels';
import { appLabels, shutdownSafeProxy, SYNC_WAVE, syncWave } from '../lib/metadata';
import {
  exporterConnectionTemplate,
  PGBOUNCER_EXPORTER_PORT,
  PGBOUNCER_PATHS,
  renderPgbouncerIni,
  userlistTemplate,
  type PgbouncerPoolOptions,
} from './config';
import { PGBOUNCER_EXPORTER_RESOURCES, PGBOUNCER_UID } from './images';
import { PGBOUNCER_RUN_SCRIPT, renderPgbouncerRunScript } from './run-script';

const PGBOUNCER_GRACE_SECONDS = PGBOUNCER_ROLLOUT.graceSeconds;
import { CREDENTIAL_PROPERTIES, postgresNames } from '../postgres/names';

export interface PgbouncerShardProps {
  /** The region's plan. */
  readonly plan: RegionPlan;
  /** The Postgres shard this PgBouncer fronts. */
  readonly shard: ShardConfig;
  /**
   * @default {} (reserve pool 0) — a reserve is taken out of each pod's server budget, so none
   * unless asked for
   */
  readonly pools?: PgbouncerPoolOptions;
  /**
   * pgbouncer_exporter sidecar image.
   * @default plan.versions.images.pgbouncerExporter — every pin lives once in regions/versions.yaml
   */
  readonly exporterImage?: ImageRelease;
}

export interface PgbouncerShardNames {
  readonly deployment: string;
  readonly service: string;
  /**
   * The pods' identity, one per shard: the mesh admits exactly this pooler to its own shard's
   * Postgres (a pooler of another shard is refused by the AuthorizationPolicy, not only by the
   * NetworkPolicy).
   */
  readonly serviceAccount: string;
  readonly configMap: string;
  readonly authSecret: string;
  readonly selectorLabels: Readonly<Record<string, string>>;
}

/** Secret keys of the auth Secret (identifier-like: the ESO templates address them). */
export const PGBOUNCER_AUTH_KEYS = {
  pgbouncerPassword: 'pgbouncer_password',
  statsPassword: 'stats_password',
  userlist: 'userlist.txt',
  exporterConnection: 'exporter_connection_string',
} as const;

export function pgbouncerNames(plan: RegionPlan, shardId: number): PgbouncerShardNames {
  const name = plan.names.data.pgbouncer(shardId);
  return {
    deployment: name,
    service: name,
    serviceAccount: name,
    configMap: `${name}-config`,
    authSecret: `${name}-auth`,
    selectorLabels: { ...appLabels(plan, plan.names.data.pgbouncerApp, 'connection-pooler'), [LABELS.instance]: `${name}-${plan.region.name}` },
  };
}

const port = (n: number) => k8s.IntOrString.fromNumber(n);

export class PgbouncerShard extends Construct {
  readonly names: PgbouncerShardNames;
  readonly workload: HardenedWorkload;

  constructor(scope: Construct, id: string, props: PgbouncerShardProps) {
    super(scope, id);
    const { plan, shard } = props;
    const names = pgbouncerNames(plan, shard.id);
    this.names = names;
    const pg = postgresNames(plan, shard.id);
    const namespace = plan.namespaces.data;
    const labels = names.selectorLabels;
    const listenPort = plan.names.data.pgbouncerPort;
    const k = PGBOUNCER_AUTH_KEYS;

    new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: { name: names.serviceAccount, namespace, labels: { ...labels }, annotations: syncWave(SYNC_WAVE.config) },
      // PgBouncer never calls the Kubernetes API.
      automountServiceAccountToken: false,
    });

    const config = { 'pgbouncer.ini': renderPgbouncerIni(plan, shard, props.pools), [PGBOUNCER_RUN_SCRIPT]: renderPgbouncerRunScript() };
    new k8s.KubeConfigMap(this, 'Config', {
      metadata: { name: names.configMap, namespace, labels: { ...labels }, annotations: syncWave(SYNC_WAVE.config) },
      data: config,
    });
    // The same passwords Postgres was bootstrapped with (the shard's credentials entry).
    const auth = new CredentialsFromStore(this, 'Auth', {
      plan,
      name: names.authSecret,
      namespace,
      labels,
      keys: {
        [k.pgbouncerPassword]: { key: pg.remoteKeys.credentials, property: CREDENTIAL_PROPERTIES.pgbouncerPassword },
        [k.statsPassword]: { key: pg.remoteKeys.credentials, property: CREDENTIAL_PROPERTIES.pgbouncerStatsPassword },
      },
      template: {
        [k.userlist]: userlistTemplate({ pgbouncerPassword: k.pgbouncerPassword, statsPassword: k.statsPassword }),
        [k.exporterConnection]: exporterConnectionTemplate(k.statsPassword, listenPort),
      },
    });

    this.workload = new HardenedWorkload(this, 'Pooler', {
      kind: 'Deployment',
      name: names.deployment,
      namespace,
      replicas: shard.pgbouncer.replicas,
      selectorLabels: labels,
      region: plan.region.name,
      partOf: plan.global.platform.name,
      version: plan.versions.images.pgbouncer.version,
      serviceAccountName: names.serviceAccount,
      runAsUser: PGBOUNCER_UID,
      annotations: {
        ...shutdownSafeProxy(PGBOUNCER_GRACE_SECONDS - 5),
        ...mergedMetricsAnnotations(meshedTarget(plan, plan.names.data.pgbouncerApp)),
        // PgBouncer reads pgbouncer.ini at start: a changed file (or run script) rolls the pods,
        // one at a time (PGBOUNCER_ROLLOUT), or the new pool sizes and limits would wait for the
        // next restart. (A rotated userlist.txt needs no roll: run-pgbouncer.sh reloads it.)
        'bookedbarber.com/config-sha256': configHash(config),
      },
      terminationGracePeriodSeconds: PGBOUNCER_GRACE_SECONDS,
      // What a drain may take; the connection invariants count the pods left (regions/capacity.ts).
      maxUnavailable: PGBOUNCER_ROLLOUT.disruptionBudgetMaxUnavailable,
      containers: [
        {
          name: 'pgbouncer',
          image: plan.versions.images.pgbouncer,
          // PgBouncer under run-pgbouncer.sh: stop signals forwarded, SIGHUP when the auth_file
          // Secret changes (PgBouncer >= 1.17 reads it only at start and on a reload).
          command: ['sh', `${PGBOUNCER_PATHS.configDir}/${PGBOUNCER_RUN_SCRIPT}`, '/usr/bin/pgbouncer', `${PGBOUNCER_PATHS.configDir}/pgbouncer.ini`, PGBOUNCER_PATHS.authDir],
          ports: [{ name: 'tcp-pgbouncer', containerPort: listenPort }],
          resources: plan.global.pgbouncer.resources,
          livenessProbe: { tcpSocket: { port: port(listenPort) }, periodSeconds: 10, failureThreshold: 3 },
          readinessProbe: { tcpSocket: { port: port(listenPort) }, periodSeconds: 5 },
          volumeMounts: [
            { name: 'config', mountPath: PGBOUNCER_PATHS.configDir, readOnly: true },
            { name: 'auth', mountPath: PGBOUNCER_PATHS.authDir, readOnly: true },
            { name: 'ca', mountPath: PGBOUNCER_PATHS.caDir, readOnly: true },
          ],
        },
        {
          name: 'exporter',
          image: props.exporterImage ?? plan.versions.images.pgbouncerExporter,
          args: [`--web.listen-address=:${PGBOUNCER_EXPORTER_PORT.port}`],
          ports: [{ name: PGBOUNCER_EXPORTER_PORT.name, containerPort: PGBOUNCER_EXPORTER_PORT.port }],
          env: [{ name: 'PGBOUNCER_EXPORTER_CONNECTION_STRING', valueFrom: { secretKeyRef: { name: auth.secretName, key: k.exporterConnection } } }],
          resources: PGBOUNCER_EXPORTER_RESOURCES,
          // TCP only: a broken exporter must not take the pooler out of its Service.
          livenessProbe: { tcpSocket: { port: port(PGBOUNCER_EXPORTER_PORT.port) }, periodSeconds: 20 },
          readinessProbe: { tcpSocket: { port: port(PGBOUNCER_EXPORTER_PORT.port) }, periodSeconds: 10 },
        },
      ],
      volumes: [
        { name: 'config', configMap: { name: names.configMap, defaultMode: 0o444 } },
        { name: 'auth', secret: { secretName: auth.secretName, items: [{ key: k.userlist, path: 'userlist.txt' }], defaultMode: 0o440 } },
        // Only the CA of the shard's certificate, never its key.
        { name: 'ca', secret: { secretName: pg.tlsSecret, items: [{ key: 'ca.crt', path: 'ca.crt' }], defaultMode: 0o444 } },
      ],
    });

    // The rollout the server budget is split for (shardPools: max_connections - reserved over
    // replicas + maxSurge + one draining pod): a fixed count, not the workload default's
    // percentage, so the invariant and the Deployment cannot disagree; minReadySeconds past the
    // grace period so that a replaced pod has stopped before the next one drains.
    // (Patched before KubeDeployment converts its props, hence IntOrString values.)
    this.workload.apiObject.addJsonPatch(
      JsonPatch.add('/spec/minReadySeconds', PGBOUNCER_ROLLOUT.minReadySeconds),
      JsonPatch.replace('/spec/strategy/rollingUpdate/maxSurge', k8s.IntOrString.fromNumber(PGBOUNCER_ROLLOUT.maxSurge)),
      JsonPatch.replace('/spec/strategy/rollingUpdate/maxUnavailable', k8s.IntOrString.fromNumber(PGBOUNCER_ROLLOUT.maxUnavailable)),
    );

    new k8s.KubeService(this, 'Service', {
      metadata: { name: names.service, namespace, labels: { ...labels } },
      spec: {
        type: 'ClusterIP',
        selector: { ...labels },
        ports: [
          // tcp- name + appProtocol: Istio proxies it as opaque TCP (the Postgres protocol is not HTTP).
          { name: 'tcp-pgbouncer', port: listenPort, targetPort: port(listenPort), protocol: 'TCP', appProtocol: 'tcp' },
          { name: PGBOUNCER_EXPORTER_PORT.name, port: PGBOUNCER_EXPORTER_PORT.port, targetPort: port(PGBOUNCER_EXPORTER_PORT.port), protocol: 'TCP', appProtocol: 'http' },
        ],
      },
    });
  }
}
