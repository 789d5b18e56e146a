/**
 * What the API pods receive to reach the data tier, named once for the API chart (which renders
 * it), the shard-map chart (which points each shard at its password file) and the wiring
 * declaration (which proves it): per shard a database user and a password file, per Redis tier
 * its endpoints and its password.
 */
import type { RegionPlan } from '../../regions/plan';
import { postgresNames, POSTGRES_USERS, CREDENTIAL_PROPERTIES } from '../postgres/names';
import { REDIS_TIERS, redisClientEndpoints, type RedisTierKey, TIER_SLUG } from '../redis/topology';
import type { RemoteKeyRef } from '../lib/external-secret';

/** Secret (from an ExternalSecret in the app namespace) with one key per shard: `shard-<id>`. */
export function apiDatabaseSecret(plan: RegionPlan): string {
  return `${plan.global.platform.name}-api-database`;
}

/** Where the API finds the database passwords: `<dir>/shard-<id>` (the shard map names each file). */
export const API_DATABASE_SECRET_DIR = '/etc/bookedbarber/secrets/database';

/** The database role the API logs in as, through PgBouncer (auth_query looks up its SCRAM secret). */
export const API_DATABASE_USER = POSTGRES_USERS.api;

export const shardPasswordKey = (shardId: number) => `shard-${shardId}`;

/** Secret key → the shard's `api-password`, for every shard of the routing map (remote ones too). */
export function apiDatabaseKeys(plan: RegionPlan): Record<string, RemoteKeyRef> {
  return Object.fromEntries(plan.shardRoutes.map((r) => [
    shardPasswordKey(r.shard),
    { key: postgresNames(plan, r.shard).remoteKeys.credentials, property: CREDENTIAL_PROPERTIES.apiPassword },
  ]));
}

const envTier = (tier: RedisTierKey) => TIER_SLUG[tier].toUpperCase().replace(/-/g, '_');

/** Environment variable carrying a Redis tier's password (`REDIS_RATE_LIMIT_PASSWORD`). */
export function apiRedisPasswordEnv(tier: RedisTierKey): string {
  return `REDIS_${envTier(tier)}_PASSWORD`;
}

/**
 * The Redis endpoints as the API's settings (ConfigMap keys, read as environment variables).
 * A Sentinel-managed tier gives the Sentinels (host:port) and the master name: the client asks
 * them for the master, which moves on failover. The session store of a secondary region gives a
 * write URL (the primary region's master) and a read URL (the local replicas).
 */
export function apiRedisSettings(plan: RegionPlan): Record<string, string> {
  const endpoints = redisClientEndpoints(plan);
  const out: Record<string, string> = {};
  for (const tier of REDIS_TIERS) {
    const e = endpoints[tier];
    const prefix = `REDIS_${envTier(tier)}`;
    if (e.sentinels && e.masterName) {
      out[`${prefix}_SENTINELS`] = e.sentinels;
      out[`${prefix}_MASTER_NAME`] = e.masterName;
    } else {
      out[`${prefix}_WRITE_URL`] = e.write;
      out[`${prefix}_READ_URL`] = e.read;
    }
  }
  return out;
}

/** The Secret (app namespace) holding a tier's password, key `password`. */
export function apiRedisPasswordSecret(plan: RegionPlan, tier: RedisTierKey): string {
  return redisClientEndpoints(plan)[tier].passwordSecret;
}
