/**
 * The rendered Postgres files and users a real-server shard pair starts from, shared by the
 * Postgres and PgBouncer real-server tests (test/support/real-servers.ts stays chart-free).
 */
import { renderBootstrapSql, renderPostBootstrapScript } from '../../charts/postgres/bootstrap';
import { MESH_INBOUND_SOURCES, POSTGRES_PATHS, renderPgHba, renderPostgresqlConf } from '../../charts/postgres/conf';
import { POSTGRES_USERS } from '../../charts/postgres/names';
import type { ShardConfig } from '../../regions/model';
import type { RegionPlan } from '../../regions/plan';
import type { ShardPairOptions } from './real-servers';

/** The address the sidecar connects to Postgres from (pg_hba's only network source). */
export const MESH_SOURCE = MESH_INBOUND_SOURCES[0].split('/')[0];

export function shardPairOptions(
  plan: RegionPlan,
  shard: ShardConfig,
  bins: Record<string, string>,
  passwords: ShardPairOptions['passwords'],
  bootstrapEnv: Record<string, string>,
): ShardPairOptions {
  const u = POSTGRES_USERS;
  return {
    bins,
    files: {
      postgresqlConf: renderPostgresqlConf(plan, shard),
      pgHba: renderPgHba(plan, shard),
      bootstrapSql: renderBootstrapSql(),
      postBootstrapScript: renderPostBootstrapScript(POSTGRES_PATHS.configDir),
      configDir: POSTGRES_PATHS.configDir,
    },
    users: { superuser: u.superuser, replication: u.replication, rewind: u.rewind },
    passwords,
    bootstrapEnv,
    meshSource: MESH_SOURCE,
  };
}
