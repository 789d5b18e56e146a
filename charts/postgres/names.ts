/**
 * Names, ports, labels and secret-store keys of a Postgres shard, computed once here so the
 * Postgres chart, the PgBouncer chart, the topology Job and the mesh/NetworkPolicy rules agree.
 * Exported for the mesh engineer: import `postgresNames(plan, shardId)` rather than
 * rebuilding a string.
 */
import type { RegionPlan, ShardSite } from '../../regions/plan';
import { LABELS } from '../lib/labels';
import { appLabels } from '../lib/metadata';

/** Ports of a Postgres pod. Names start with the protocol so Istio treats them right. */
export const POSTGRES_PORTS = {
  postgres: { name: 'tcp-postgres', port: 5432 },
  /**
   * Patroni REST API: health checks and the members' leader race talk to it. TCP to Istio, not
   * HTTP: members call each other by pod IP (their api_url), and on a headless Service Istio
   * routes HTTP by the Host header, which a pod IP never matches (REGISTRY_ONLY: BlackHole).
   * TCP ports of a headless Service get one listener per pod address instead.
   */
  patroni: { name: 'tcp-patroni', port: 8008 },
  /** postgres_exporter sidecar. */
  metrics: { name: 'http-metrics', port: 9187 },
} as const;

/**
 * Labels Patroni reads and writes. `cluster-name` (Patroni's `scope_label`) tells the shards of
 * one namespace apart; Patroni sets `spilo-role` (its `role_label`) to master or replica on the
 * running pods, and the read-write / read-only Services select on it.
 */
export const PATRONI_LABELS = {
  /** Labels Patroni puts on the ConfigMaps it creates and selects its member pods by. */
  application: { key: 'application', value: 'spilo' },
  scope: 'cluster-name',
  role: 'spilo-role',
  leader: 'master',
  follower: 'replica',
} as const;

/** Postgres roles the rendered files name (passwords come from the secret store). */
export const POSTGRES_USERS = {
  /** Patroni's local superuser (unix socket only). */
  superuser: 'postgres',
  /** Streaming replication between the members. */
  replication: 'standby',
  /** pg_rewind of a former primary (Patroni creates it with the minimal grants). */
  rewind: 'rewind',
  /** PgBouncer's auth_user: runs auth_query to look up client SCRAM secrets. */
  pgbouncer: 'pgbouncer',
  /** postgres_exporter (pg_monitor). */
  exporter: 'postgres_exporter',
  /** The booking API, through PgBouncer; owns the bookings database. */
  api: 'bookings_api',
} as const;

/** The database the API uses (PgBouncer exposes it as `bookings` and `bookings_ro`). */
export const BOOKINGS_DATABASE = 'bookings';

/**
 * Properties of the shard's credentials entry in the secret store (one JSON object per shard,
 * key `remoteKeys.credentials`). The API engineer reads `api-password` from the same key.
 */
export const CREDENTIAL_PROPERTIES = {
  superuserPassword: 'superuser-password',
  replicationPassword: 'replication-password',
  rewindPassword: 'rewind-password',
  pgbouncerPassword: 'pgbouncer-password',
  exporterPassword: 'exporter-password',
  apiPassword: 'api-password',
  patroniApiPassword: 'patroni-api-password',
  /** PgBouncer's admin-console user for its exporter (PgBouncer only, never a Postgres role). */
  pgbouncerStatsPassword: 'pgbouncer-stats-password',
} as const;

export interface PostgresShardNames {
  /** Patroni scope = StatefulSet name = read-write Service name. */
  readonly scope: string;
  readonly statefulSet: string;
  /** Read-write Service: the primary only (`spilo-role=master`). */
  readonly readWriteService: string;
  /** Read-only Service: the streaming replicas only (`spilo-role=replica`). */
  readonly readOnlyService: string;
  /** Headless Service of the StatefulSet (pod DNS names, Patroni member traffic). */
  readonly headlessService: string;
  /** ServiceAccount of the Postgres pods (Patroni talks to the Kubernetes API with it). */
  readonly serviceAccount: string;
  readonly role: string;
  /** postgresql.conf, pg_hba.conf, patroni.yml and the bootstrap script. */
  readonly configMap: string;
  /** ExternalSecret + Secret with every password of the shard. */
  readonly credentialsSecret: string;
  /** ExternalSecret + Secret with the server certificate (tls.crt, tls.key, ca.crt). */
  readonly tlsSecret: string;
  /** ExternalSecret + Secret with object-storage keys (absent with workload identity). */
  readonly backupStorageSecret: string;
  /** Argo CD PostSync Job that puts the site's role (active or standby) into Patroni's DCS. */
  readonly topologyJob: string;
  readonly topologyServiceAccount: string;
  /** Fully qualified in-cluster DNS names. */
  readonly readWriteHost: string;
  readonly readOnlyHost: string;
  /** Object-storage prefix of the shard's WAL archive and base backups. */
  readonly backupPrefix: string;
  /** Keys in the secret store. */
  readonly remoteKeys: { readonly credentials: string; readonly tls: string; readonly backupStorage: string };
  /** Selector labels of the shard's pods (stable across releases). */
  readonly selectorLabels: Readonly<Record<string, string>>;
  /** Selector labels of the topology Job pods. */
  readonly topologySelectorLabels: Readonly<Record<string, string>>;
}

/**
 * Which site of the shard this region runs. The DR site's objects carry a `-dr` suffix: Patroni
 * member names (the pod names) must be unique across a primary cluster and the standby cluster
 * streaming from it (they become application_name on the primary), and the suffix keeps them so.
 */
export function siteOf(plan: RegionPlan, shardId: number): ShardSite {
  return plan.hostedShards.find((h) => h.config.id === shardId)?.site ?? 'home';
}

/** Patroni scope (= StatefulSet, read-write Service) of a site; the same in every region that names it. */
export function postgresScope(platform: string, shardId: number, site: ShardSite): string {
  return `${platform}-postgres-shard-${shardId}${site === 'dr' ? '-dr' : ''}`;
}

/**
 * The mesh-wide name of a site's read-write Service (`<scope>.<region>.<platform>.global`): the
 * other site's standby leader streams from it through the east-west gateways.
 */
export function postgresGlobalHost(platform: string, shardId: number, site: ShardSite, region: string): string {
  return `${postgresScope(platform, shardId, site)}.${region}.${platform}.global`;
}

/** Physical replication slot the active site keeps for the other site's standby leader. */
export function standbySlotName(follower: ShardSite): string {
  return `standby_${follower}_site`;
}

export function postgresNames(plan: RegionPlan, shardId: number): PostgresShardNames {
  const p = plan.global.platform.name;
  const site = siteOf(plan, shardId);
  const scope = postgresScope(p, shardId, site);
  const ns = plan.namespaces.data;
  const fqdn = (svc: string) => `${svc}.${ns}.svc.cluster.local`;
  const readOnlyService = `${scope}-ro`;
  const selectorLabels = {
    ...appLabels(plan, 'postgres', 'database'),
    // One instance per shard: two shards of a region never share a selector.
    [LABELS.instance]: `${scope}-${plan.region.name}`,
    [PATRONI_LABELS.application.key]: PATRONI_LABELS.application.value,
    [PATRONI_LABELS.scope]: scope,
  };
  return {
    scope,
    statefulSet: scope,
    readWriteService: scope,
    readOnlyService,
    headlessService: `${scope}-members`,
    serviceAccount: scope,
    role: `${scope}-patroni`,
    configMap: `${scope}-files`,
    credentialsSecret: `${scope}-credentials`,
    tlsSecret: `${scope}-tls`,
    backupStorageSecret: `${scope}-backup-storage`,
    topologyJob: `${scope}-topology`,
    topologyServiceAccount: `${scope}-topology`,
    readWriteHost: fqdn(scope),
    readOnlyHost: fqdn(readOnlyService),
    backupPrefix: `${plan.region.backup.bucket.replace(/\/+$/, '')}/shard-${shardId}`,
    remoteKeys: {
      credentials: `${p}/postgres/shard-${shardId}/credentials`,
      // One certificate per site: it names that site's Services (same CA for both sites).
      tls: site === 'dr' ? `${p}/postgres/shard-${shardId}-dr/tls` : `${p}/postgres/shard-${shardId}/tls`,
      backupStorage: `${p}/postgres/${plan.region.name}/backup-storage`,
    },
    selectorLabels,
    topologySelectorLabels: {
      ...appLabels(plan, 'postgres-topology', 'failover'),
      [LABELS.instance]: `${scope}-topology-${plan.region.name}`,
    },
  };
}
