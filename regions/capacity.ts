/**
 * Capacity derived from the model, computed once so charts render it and invariants check it
 * from the same numbers: Postgres settings from the pod's memory, PgBouncer pool sizes from the
 * Postgres limits, and each shard's client capacity.
 */
import type { GlobalConfig, ShardConfig } from './model';
import { parseQuantity } from './quantity';

/** The seed system's promise: every shard accepts at least this many client connections. */
export const MIN_CLIENT_CONNECTIONS_PER_SHARD = 2000;

export interface PostgresSettings {
  readonly maxConnections: number;
  /** postgresql.conf memory settings, in whole megabytes. */
  readonly sharedBuffersMb: number;
  readonly effectiveCacheSizeMb: number;
  readonly workMemMb: number;
  readonly maintenanceWorkMemMb: number;
}

const MB = 1024 ** 2;

/**
 * Postgres memory settings from the container memory limit, by the usual rules: shared_buffers
 * 25 % of memory, effective_cache_size 75 %, maintenance_work_mem 1/16 (at most 2 GB), and
 * max_connections such that every backend can use a few work_mem buffers without the sum
 * leaving the limit: 25 connections per GiB, between 100 and 800.
 */
export function postgresSettings(global: GlobalConfig): PostgresSettings {
  const memory = parseQuantity(global.postgres.resources.limits.memory);
  const gib = memory / 1024 ** 3;
  const maxConnections = Math.max(100, Math.min(800, Math.floor(gib * 25)));
  const sharedBuffersMb = Math.floor((memory * 0.25) / MB);
  const effectiveCacheSizeMb = Math.floor((memory * 0.75) / MB);
  const maintenanceWorkMemMb = Math.min(2048, Math.floor(memory / 16 / MB));
  // What is left after shared buffers, shared by all connections at ~3 sorts/hashes each.
  const workMemMb = Math.max(4, Math.floor((memory - sharedBuffersMb * MB) / MB / (maxConnections * 3)));
  return { maxConnections, sharedBuffersMb, effectiveCacheSizeMb, workMemMb, maintenanceWorkMemMb };
}

export interface ShardPools {
  /** max_client_conn of one PgBouncer pod. */
  readonly maxClientConnectionsPerReplica: number;
  /** All PgBouncer pods of the shard together. */
  readonly clientCapacity: number;
  /** Server connections one PgBouncer pod opens per database (read-write to the primary, read-only to the replicas). */
  readonly poolSizePerReplica: number;
  /** Server connections all PgBouncer pods may open to one Postgres instance. */
  readonly serverConnections: number;
  /** Connections Postgres gives to PgBouncer: max_connections minus the reserved ones. */
  readonly serverBudget: number;
}

/**
 * PgBouncer pool sizes from the Postgres limit: the PgBouncer pods of a shard split the
 * connections Postgres can give them (max_connections - reserved) evenly. The read-only pool
 * goes through the replicas' Service, which may land all pods on one replica, so it gets the
 * same size rather than `readReplicas` times more.
 */
export function shardPools(global: GlobalConfig, shard: ShardConfig): ShardPools {
  const serverBudget = postgresSettings(global).maxConnections - global.postgres.reservedConnections;
  const replicas = shard.pgbouncer.replicas;
  const poolSizePerReplica = Math.floor(serverBudget / replicas);
  return {
    maxClientConnectionsPerReplica: shard.pgbouncer.maxClientConnectionsPerReplica,
    clientCapacity: replicas * shard.pgbouncer.maxClientConnectionsPerReplica,
    poolSizePerReplica,
    serverConnections: replicas * poolSizePerReplica,
    serverBudget,
  };
}
