/**
 * Patroni's configuration (patroni.yml) and its failover timing.
 *
 * Patroni runs in every Postgres pod with the Kubernetes API as its store (ConfigMaps, as
 * Spilo does with KUBERNETES_USE_CONFIGMAPS): the leader holds the `<scope>-leader` ConfigMap
 * lock, renews it every `loop_wait`, and labels the pods `spilo-role=master|replica`, which the
 * Services select. Passwords and per-pod values (name, IP) come from environment variables
 * (PATRONI_*), so this file holds no secret.
 */
import type { ShardConfig } from '../../regions/model';
import type { RegionPlan } from '../../regions/plan';
import { patroniManagedParameters, postgresParameters, POSTGRES_PATHS, WALG_RESTORE_COMMAND } from './conf';
import { PATRONI_LABELS, POSTGRES_PORTS, POSTGRES_USERS, postgresNames } from './names';
import { FAILSAFE_MODE, hostedShard, permanentSlots, standbyClusterConfig } from './site-topology';

// The timing and its worst case live in regions/ so the invariant that holds them to
// global.postgres.rtoSeconds runs before any chart is built (regions/derived-invariants.ts).
import { DEFAULT_PATRONI_TIMING, FAILOVER_BUDGETS, failoverWorstCase, type FailoverWorstCase, type PatroniTiming } from '../../regions/failover-timing';

export { DEFAULT_PATRONI_TIMING, failoverWorstCase, type FailoverWorstCase, type PatroniTiming };

/**
 * Worst-case write outage of a planned switchover (`patronictl switchover`, each rollout of a
 * shard: docs/postgres-maintenance.md). No lock has to expire: the leader demotes itself and
 * releases the lock (a fast shutdown with its checkpoint, part of the promotion budget here);
 * the candidate, which Patroni has checked is caught up, notices the free lock at the latest on
 * its next loop (`loop_wait`; usually at once, it watches the leader ConfigMap), promotes, and
 * the Service endpoints move.
 */
export function switchoverWorstCase(t: PatroniTiming = DEFAULT_PATRONI_TIMING): number {
  return t.loopWait + FAILOVER_BUDGETS.promoteSeconds + FAILOVER_BUDGETS.endpointPropagationSeconds;
}

/** Patroni refuses (or misbehaves with) timings that let the lock expire while the leader retries. */
export function checkPatroniTiming(t: PatroniTiming, rtoSeconds: number): void {
  if (t.loopWait + 2 * t.retryTimeout > t.ttl) {
    throw new Error(`Patroni loop_wait (${t.loopWait}) + 2 x retry_timeout (${t.retryTimeout}) must be <= ttl (${t.ttl})`);
  }
  const worst = failoverWorstCase(t).seconds;
  if (worst > rtoSeconds) {
    throw new Error(`worst-case failover (${worst}s) must be <= global.postgres.rtoSeconds (${rtoSeconds}s): lower ttl/loop_wait/primary_start_timeout`);
  }
}

/** patroni.yml as a plain object (rendered as JSON, which is YAML). */
export function patroniConfig(plan: RegionPlan, shard: ShardConfig, timing: PatroniTiming = DEFAULT_PATRONI_TIMING): Record<string, unknown> {
  const names = postgresNames(plan, shard.id);
  const params = postgresParameters(plan, shard);
  const u = POSTGRES_USERS;
  const dir = POSTGRES_PATHS.configDir;
  const replicationTls = { sslmode: 'verify-ca', sslrootcert: `${POSTGRES_PATHS.tlsDir}/ca.crt` };
  const hosted = hostedShard(plan, shard.id);
  const standby = standbyClusterConfig(plan, hosted);
  const slots = permanentSlots(hosted);
  return {
    scope: names.scope,
    // name, namespace, pod_ip, connect addresses and passwords: PATRONI_* environment variables.
    kubernetes: {
      labels: { [PATRONI_LABELS.application.key]: PATRONI_LABELS.application.value },
      scope_label: PATRONI_LABELS.scope,
      role_label: PATRONI_LABELS.role,
      leader_label_value: PATRONI_LABELS.leader,
      // A standby cluster's leader is labelled like a primary, so the read-write Service (and the
      // topology Job) reach it; it refuses writes until the site is promoted.
      standby_leader_label_value: PATRONI_LABELS.leader,
      follower_label_value: PATRONI_LABELS.follower,
      // ConfigMaps, not Endpoints: the Services select on the role label, and Patroni needs no
      // rights on Endpoints or Services (see the Role in postgres-shard.ts).
      use_endpoints: false,
      bypass_api_service: false,
    },
    restapi: {
      listen: `0.0.0.0:${POSTGRES_PORTS.patroni.port}`,
      // username/password (PATRONI_RESTAPI_USERNAME/PASSWORD) guard the unsafe endpoints.
    },
    bootstrap: {
      dcs: {
        ttl: timing.ttl,
        loop_wait: timing.loopWait,
        retry_timeout: timing.retryTimeout,
        primary_start_timeout: timing.primaryStartTimeout,
        maximum_lag_on_failover: timing.maximumLagOnFailover,
        // Asynchronous replication: a lost primary costs at most maximum_lag_on_failover bytes,
        // never availability; PITR (archive_timeout) bounds the rest.
        synchronous_mode: false,
        // A Kubernetes API outage must not demote every primary (site-topology.ts).
        failsafe_mode: FAILSAFE_MODE,
        // Which site takes writes (charts/postgres/site-topology.ts); the topology Job keeps the
        // running cluster's DCS in step, since Patroni reads this section only at bootstrap.
        ...(standby ? { standby_cluster: standby } : {}),
        ...(slots ? { slots } : {}),
        postgresql: {
          use_pg_rewind: true,
          use_slots: true,
          parameters: patroniManagedParameters(plan, shard),
        },
      },
      initdb: [{ encoding: 'UTF8' }, { locale: 'C.UTF-8' }, 'data-checksums'],
      // Creates the databases and roles (passwords from the environment), once per cluster.
      post_bootstrap: `${dir}/post-bootstrap.sh`,
    },
    postgresql: {
      listen: `*:${POSTGRES_PORTS.postgres.port}`,
      data_dir: POSTGRES_PATHS.dataDir,
      pgpass: '/tmp/pgpass',
      custom_conf: `${dir}/postgresql.conf`,
      // Local parameters Patroni must know itself (socket to connect to, hba it must not overwrite).
      parameters: {
        unix_socket_directories: params.unix_socket_directories,
        hba_file: params.hba_file,
      },
      use_unix_socket: true,
      // Patroni's own replication connection to its member (IDENTIFY_SYSTEM: the timeline that
      // decides whether a replica needs pg_rewind after a failover) over the socket: over TCP it
      // goes to localhost, which pg_hba.conf does not admit (the network only from the sidecar).
      use_unix_socket_repl: true,
      authentication: {
        superuser: { username: u.superuser },
        replication: { username: u.replication, ...replicationTls },
        rewind: { username: u.rewind, ...replicationTls },
      },
      recovery_conf: { restore_command: WALG_RESTORE_COMMAND },
      create_replica_methods: ['basebackup'],
      basebackup: [{ checkpoint: 'fast' }, { 'wal-method': 'stream' }],
    },
    watchdog: { mode: 'off' },
    tags: { nofailover: false, noloadbalance: false, clonefrom: false, nosync: false },
  };
}

export function renderPatroniYaml(plan: RegionPlan, shard: ShardConfig, timing: PatroniTiming = DEFAULT_PATRONI_TIMING): string {
  const header = `# patroni.yml of Postgres shard ${shard.id} (${plan.region.name}); generated by charts/postgres/patroni.ts. JSON is YAML.\n`;
  return `${header}${JSON.stringify(patroniConfig(plan, shard, timing), null, 2)}\n`;
}
