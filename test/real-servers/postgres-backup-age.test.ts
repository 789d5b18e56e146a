/**
 * The base backup's age as monitoring sees it, on the real servers: the rendered bootstrap SQL
 * (monitoring.base_backup_last_success()), the rendered postgres_exporter query file run by
 * Debian's prometheus-postgres-exporter as the rendered exporter user over the socket, and the
 * status file written as the backup sidecar writes it (the server's COPY TO, into its own data
 * directory). The value is the time written on the member that backed up, 0 where no backup ran.
 */
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BASE_BACKUP_AGE_METRIC, BASE_BACKUP_STATUS_FILE, renderExporterQueries } from '../../charts/postgres/backup';
import { BASE_BACKUP_AGE_FUNCTION, BOOTSTRAP_PASSWORDS } from '../../charts/postgres/bootstrap';
import { CREDENTIAL_PROPERTIES, POSTGRES_USERS } from '../../charts/postgres/names';
import { regionPlan } from '../support/charts';
import { shardPairOptions } from '../support/postgres-pair';
import {
  cleanup,
  describeWithPrograms,
  freePort,
  makeTempDir,
  POSTGRES_PROGRAMS,
  psql,
  psqlOk,
  removeAtCleanup,
  startServer,
  startShardPair,
  waitFor,
  writeOwnedFile,
  type ShardPair,
} from '../support/real-servers';

describeWithPrograms('base backup age on the real Postgres and postgres_exporter', [...POSTGRES_PROGRAMS, 'prometheus-postgres-exporter'], (bins) => {
  const plan = regionPlan('us-east-1');
  const PASSWORDS = { superuser: 'su-pw-b', replication: 'repl-pw-b', rewind: 'rewind-pw-b' };
  const BOOTSTRAP_ENV = Object.fromEntries(BOOTSTRAP_PASSWORDS.map((p) => [p.env, `${p.variable}-secret`]));
  const exporterPassword = BOOTSTRAP_ENV[BOOTSTRAP_PASSWORDS.find((p) => p.property === CREDENTIAL_PROPERTIES.exporterPassword)!.env]!;
  const WRITTEN = 1765000000;
  let pair: ShardPair;
  const value: Record<'primary' | 'replica', number | undefined> = { primary: undefined, replica: undefined };

  beforeAll(async () => {
    pair = await startShardPair('pg-backup-age', shardPairOptions(plan, plan.region.shards[0]!, bins, PASSWORDS, BOOTSTRAP_ENV));
    // What the sidecar runs after a successful backup, with a fixed time instead of now().
    await psqlOk(bins.psql, pair.primary.local(POSTGRES_USERS.superuser, PASSWORDS.superuser, 'postgres'),
      `COPY (SELECT ${WRITTEN}::bigint) TO '${pair.primary.dataDir}/${BASE_BACKUP_STATUS_FILE}'`);
    const dir = makeTempDir('bb-exporter-queries');
    removeAtCleanup(dir);
    const queries = writeOwnedFile(path.join(dir, 'exporter-queries.yaml'), renderExporterQueries(BASE_BACKUP_AGE_FUNCTION));
    for (const node of ['primary', 'replica'] as const) {
      const pg = pair[node];
      const port = await freePort();
      startServer(`postgres-exporter-age-${node}`, bins['prometheus-postgres-exporter']!, [`--web.listen-address=127.0.0.1:${port}`], {
        env: {
          DATA_SOURCE_NAME: `host=${pg.socketDir} port=${pg.port} user=${POSTGRES_USERS.exporter} password=${exporterPassword} dbname=postgres sslmode=disable`,
          PG_EXPORTER_EXTEND_QUERY_PATH: queries,
        },
      });
      value[node] = await waitFor(`${BASE_BACKUP_AGE_METRIC} from the ${node}`, async () => {
        const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()).catch(() => '');
        const line = text.split('\n').find((l) => l.startsWith(`${BASE_BACKUP_AGE_METRIC} `) || l.startsWith(`${BASE_BACKUP_AGE_METRIC}{`));
        return line === undefined ? undefined : Number(line.split(' ').pop());
      }, 30000);
    }
  }, 120_000);

  afterAll(cleanup, 30000);

  it('the member that backed up reports the time written; a member without the file reports 0 (streaming does not copy it)', () => {
    expect(value).toEqual({ primary: WRITTEN, replica: 0 });
  });

  it('the exporter user reads that one file through the function and nothing else of the data directory', async () => {
    const exporter = pair.primary.local(POSTGRES_USERS.exporter, exporterPassword, 'postgres');
    expect(await psqlOk(bins.psql, exporter, `SELECT ${BASE_BACKUP_AGE_FUNCTION}()`)).toBe(String(WRITTEN));
    const direct = await psql(bins.psql, exporter, `SELECT pg_read_file('${BASE_BACKUP_STATUS_FILE}')`);
    expect(direct.code).not.toBe(0);
    expect(direct.stderr).toMatch(/permission denied for function pg_read_file/);
  });
});
