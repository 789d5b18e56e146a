/**
 * Issue 12 item 1: docs/postgres-restore.md executed on Debian's Postgres.
 *
 * A shard pair on the rendered configuration archives WAL to a local folder (archive_command
 * `cp`, same %p/%f contract as `wal-g wal-push`); a base backup is taken without WAL
 * (`pg_basebackup -X none`, like a WAL-G backup); rows are written at distinct times before and
 * after a switchover (timeline 1 → 2), and one is deleted after the target. Then the runbook's
 * own text is run, with a stand-in `wal-g` on PATH whose `backup-fetch` and `wal-fetch` copy from
 * those folders:
 * - "Looking at old data": the shell block, through bash, up to the line that starts postgres
 *   (the test starts that exact command under its own process control), then the block's query;
 * - step 2 (in place): the `jq` program on the rendered ConfigMap (as `kubectl get -o json`
 *   prints it), then the bootstrap method it writes — its command and its recovery_conf, applied
 *   as Patroni does (the settings plus recovery.signal) to the rendered postgresql.conf.
 * Both must hold exactly the rows committed up to the target; step 2's settings with
 * `recovery_target_timeline: "current"` must fail (the switchover is after the backup).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresChart } from '../../charts/postgres/chart';
import { BOOTSTRAP_PASSWORDS } from '../../charts/postgres/bootstrap';
import { POSTGRES_PATHS, renderPgHba, renderPostgresqlConf, WALG_RESTORE_COMMAND } from '../../charts/postgres/conf';
import { BOOKINGS_DATABASE, POSTGRES_USERS, postgresNames } from '../../charts/postgres/names';
import { find, newApp, objectsOf, regionPlan } from '../support/charts';
import { shardPairOptions } from '../support/postgres-pair';
import {
  cleanup,
  connString,
  describeWithPrograms,
  freePort,
  makeOwnedDir,
  POSTGRES_PROGRAMS,
  psql,
  psqlOk,
  rewriteSettings,
  runCommand,
  serverUser,
  startServer,
  startShardPair,
  stopServer,
  waitFor,
  writeOwnedFile,
  type PgConn,
  type Server,
  type ShardPair,
} from '../support/real-servers';

const plan = regionPlan('us-east-1');
const shard = plan.region.shards[0];
const names = postgresNames(plan, shard.id);
const u = POSTGRES_USERS;
const PASSWORDS = { superuser: 'su-pw-r', replication: 'repl-pw-r', rewind: 'rewind-pw-r' };
const BOOTSTRAP_ENV = Object.fromEntries(BOOTSTRAP_PASSWORDS.map((p) => [p.env, `${p.variable}-secret`]));
const BACKUP = 'base_000000010000000000000004';

const RUNBOOK = readFileSync(path.join(__dirname, '../../docs/postgres-restore.md'), 'utf8');

/** The text of a `## ` section whose heading starts with `heading`. */
function section(heading: string): string {
  const start = RUNBOOK.indexOf(`\n## ${heading}`);
  if (start < 0) throw new Error(`docs/postgres-restore.md has no section "## ${heading}"`);
  const next = RUNBOOK.indexOf('\n## ', start + 4);
  return RUNBOOK.slice(start, next < 0 ? undefined : next);
}
const shellBlocks = (text: string) => [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);

/** Step 2's jq program (between the quotes after `jq --arg backup ... --arg target ...`). */
function inPlaceJqProgram(): string {
  const m = /jq --arg backup "\$BACKUP" --arg target "\$TARGET" '([\s\S]*?)' \\\n/.exec(section('2.'));
  if (!m) throw new Error('step 2 has no `jq --arg backup "$BACKUP" --arg target "$TARGET" \'...\'` program');
  return m[1];
}

describe('restore runbook: what step 2 deletes', () => {
  it('deletes Patroni\'s ConfigMaps by exact name, never by a label that also selects the rendered ones', () => {
    const step = section('2.');
    const deletes = [...step.matchAll(/^kubectl -n \$NS delete configmap (.*)$/gm)].map((m) => m[1]);
    expect(deletes).toHaveLength(1);
    const args = deletes[0].split(/\s+/);
    expect(args.filter((a) => a.startsWith('-l') || a.startsWith('--selector'))).toEqual([]);
    const deleted = args.filter((a) => !a.startsWith('-')).map((a) => a.replace('$SCOPE', names.scope));
    // Patroni 3.3 with ConfigMaps (use_endpoints: false) keeps exactly these (patroni/dcs/kubernetes.py).
    expect(deleted).toEqual(['leader', 'config', 'failover', 'sync'].map((k) => `${names.scope}-${k}`));
    // None of them is rendered, and the ConfigMap the next command reads survives.
    const rendered = objectsOf(new PostgresChart(newApp(), { plan })).filter((o) => o.kind === 'ConfigMap').map((o) => o.metadata.name);
    expect(rendered).toContain(names.configMap);
    expect(deleted.filter((n) => rendered.includes(n))).toEqual([]);
    expect(step).toContain('kubectl -n $NS get configmap $SCOPE-files -o json');
    // The old label selector matched the Files ConfigMap (the bug): its labels carry both keys.
    const files = find(objectsOf(new PostgresChart(newApp(), { plan })), 'ConfigMap', names.configMap);
    expect(files.metadata.labels).toMatchObject({ application: 'spilo', 'cluster-name': names.scope });
  });

  it('takes the post-restore base backup with the sidecar, not a CronJob', () => {
    expect(RUNBOOK).not.toMatch(/cronjob\//);
    expect(section('3.')).toContain('kubectl -n $NS exec $PRIMARY -c base-backup -- /bin/sh /etc/patroni/base-backup.sh now');
  });
});

describeWithPrograms('restore runbook executed on a real Postgres', [...POSTGRES_PROGRAMS, 'pg_controldata', 'bash', 'jq'], (bins) => {
  let pair: ShardPair;
  let dir: string;
  let backupsDir: string;
  let target: string;
  let stubPath: string;
  const timings: Record<string, number> = {};

  const su = (port: number, socketDir: string, dbname = BOOKINGS_DATABASE): PgConn => ({ host: socketDir, port, user: u.superuser, password: PASSWORDS.superuser, dbname });
  const walgEnv = () => ({ PATH: stubPath, WALG_TEST_BACKUPS: backupsDir, WALG_TEST_ARCHIVE: pair.archiveDir });
  const rows = (conn: PgConn) => psqlOk(bins.psql, conn, 'SELECT string_agg(id::text, \',\' ORDER BY id) FROM pitr_probe');

  beforeAll(async () => {
    const t0 = Date.now();
    pair = await startShardPair('pg-pitr', shardPairOptions(plan, shard, bins, PASSWORDS, BOOTSTRAP_ENV));
    dir = pair.dir;
    backupsDir = makeOwnedDir(path.join(dir, 'backups'));
    // The stand-in wal-g: the same commands and arguments the runbook and the rendered files use.
    const stubDir = makeOwnedDir(path.join(dir, 'stub-bin'));
    writeOwnedFile(path.join(stubDir, 'wal-g'), [
      '#!/bin/sh',
      'case "$1" in',
      '  backup-fetch) mkdir -m 700 "$2" && cp -a "$WALG_TEST_BACKUPS/$3/." "$2/" ;;',
      '  wal-fetch) [ -f "$WALG_TEST_ARCHIVE/$2" ] || exit 74; cp "$WALG_TEST_ARCHIVE/$2" "$3" ;;',
      '  *) echo "unexpected: wal-g $*" >&2; exit 2 ;;',
      'esac',
      '',
    ].join('\n'), 0o755);
    stubPath = [stubDir, path.dirname(bins.pg_controldata), path.dirname(bins.postgres), process.env.PATH ?? '/usr/bin:/bin'].join(':');

    const primary = su(pair.primary.port, pair.primary.socketDir);
    await psqlOk(bins.psql, primary, 'CREATE TABLE pitr_probe (id int PRIMARY KEY, note text, at timestamptz NOT NULL DEFAULT clock_timestamp())');
    await psqlOk(bins.psql, primary, "INSERT INTO pitr_probe (id, note) VALUES (1, 'before the base backup')");

    // The base backup, over the replication protocol through the "sidecar", without WAL.
    const source: PgConn = { host: '127.0.0.1', port: pair.primaryMesh.port, user: u.replication, dbname: 'replication', password: PASSWORDS.replication, sslmode: 'verify-ca', sslrootcert: pair.tls.ca };
    const b = await runCommand(bins.pg_basebackup, ['-d', connString(source), '-D', path.join(backupsDir, BACKUP), '-X', 'none', '-c', 'fast'], { user: serverUser(), timeoutMs: 60000 });
    if (b.code !== 0) throw new Error(`pg_basebackup failed: ${b.stderr}`);
    await psqlOk(bins.psql, primary, "INSERT INTO pitr_probe (id, note) VALUES (2, 'after the backup, timeline 1')");
    const replica = su(pair.replica.port, pair.replica.socketDir);
    await waitFor('row 2 on the replica', async () => ((await psql(bins.psql, replica, 'SELECT 1 FROM pitr_probe WHERE id = 2')).stdout.trim() === '1' ? true : undefined));

    // A switchover, as Patroni does it: stop the primary cleanly, promote the replica (timeline 2).
    await stopServer(pair.primary.server);
    await psqlOk(bins.psql, replica, 'SELECT pg_promote()');
    await waitFor('the replica to be promoted', async () => ((await psqlOk(bins.psql, replica, 'SELECT pg_is_in_recovery()')) === 'f' ? true : undefined));
    await psqlOk(bins.psql, replica, "INSERT INTO pitr_probe (id, note) VALUES (3, 'after the switchover, timeline 2')");
    await new Promise((r) => setTimeout(r, 300));
    target = await psqlOk(bins.psql, replica, "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'");
    await new Promise((r) => setTimeout(r, 300));
    await psqlOk(bins.psql, replica, "INSERT INTO pitr_probe (id, note) VALUES (4, 'after the target')");
    await psqlOk(bins.psql, replica, 'DELETE FROM pitr_probe WHERE id = 1'); // the bad change
    // What archive_timeout does within 20 s: ship the segment holding the last commits.
    const last = await psqlOk(bins.psql, replica, 'SELECT pg_walfile_name(pg_switch_wal())');
    await waitFor(`segment ${last} in the archive`, async () => ((await psqlOk(bins.psql, replica, 'SELECT last_archived_wal FROM pg_stat_archiver')) >= last ? true : undefined), 30000);
    expect(await rows(replica)).toBe('2,3,4');
    await stopServer(pair.replica.server);
    timings.setup = Date.now() - t0;
  }, 120000);

  afterAll(async () => {
    // eslint-disable-next-line no-console
    console.log(`restore test timings (ms): ${JSON.stringify(timings)}`);
    await cleanup();
  }, 30000);

  it('"Looking at old data": the runbook block holds exactly the rows up to the target, paused there', async () => {
    const t0 = Date.now();
    const block = shellBlocks(section('Looking at old data'))[0];
    const lines = block.split('\n');
    const startAt = lines.findIndex((l) => /^postgres -D /.test(l));
    expect(startAt).toBeGreaterThan(0);
    const restore = makeOwnedDir(path.join(dir, 'look'));
    // The one substitution: the folder. Everything else runs as written.
    expect(lines[0]).toMatch(/^RESTORE=\/restore\b/);
    const script = [`RESTORE=${restore}`, ...lines.slice(1, startAt)].join('\n');
    // From a file: `bash -c` with a socket as stdin (node's pipes) would read bash.bashrc first.
    const file = writeOwnedFile(path.join(dir, 'look.sh'), `${script}\n`);
    const prepared = await runCommand('/bin/bash', ['-euo', 'pipefail', file], { user: serverUser(), env: { ...walgEnv(), BACKUP, TARGET: target }, timeoutMs: 60000 });
    expect(prepared.code, prepared.stderr).toBe(0);
    // The hot-standby minimums came from pg_control, i.e. the shard's rendered values.
    const conf = readFileSync(path.join(restore, 'restore.conf'), 'utf8');
    expect(conf).toMatch(new RegExp(`^max_connections = ${/max_connections = (\d+)/.exec(renderPostgresqlConf(plan, shard))![1]}$`, 'm'));
    expect(conf).toContain(`restore_command = '${WALG_RESTORE_COMMAND}'`);

    const args = lines[startAt].replace(/\s*&\s*$/, '').split(/\s+/).slice(1).map((a) => a.split('$RESTORE').join(restore));
    const server = startServer('look', bins.postgres, args, { env: walgEnv(), stopSignal: 'SIGINT' });
    const query = /^psql -h \$RESTORE -U postgres -d bookings -c '(.*)'$/m.exec(block)![1];
    const local: PgConn = { host: restore, port: 5432, user: 'postgres', dbname: BOOKINGS_DATABASE };
    const state = await waitFor('recovery to pause at the target', async () => {
      if (server.child.exitCode !== null) return 'exited';
      const r = await psql(bins.psql, local, query);
      return r.code === 0 && r.stdout.startsWith('t|') ? r.stdout.trim() : undefined;
    }, 60000);
    expect(state, server.output()).not.toBe('exited');
    expect(await rows(local)).toBe('1,2,3');
    // The newest commit replayed is before the target; the next one (row 4) was not applied.
    expect(await psqlOk(bins.psql, local, `SELECT pg_last_xact_replay_timestamp() <= '${target}'::timestamptz`)).toBe('t');
    // It followed the switchover: timeline 2's WAL was replayed.
    expect(await psqlOk(bins.psql, local, "SELECT note FROM pitr_probe WHERE id = 3")).toBe('after the switchover, timeline 2');
    expect(server.output()).toMatch(/recovery stopping before commit of transaction \d+, time /);
    await stopServer(server);
    timings.lookAtOldData = Date.now() - t0;
  }, 90000);

  /** Step 2 as Patroni runs it: the jq program, then the bootstrap method's command and recovery_conf. */
  async function inPlace(name: string, timeline?: string): Promise<{ server: Server; conn: PgConn; dataDir: string }> {
    const configMap = find(objectsOf(new PostgresChart(newApp(), { plan })), 'ConfigMap', names.configMap);
    const jq = await runCommand('jq', ['--arg', 'backup', BACKUP, '--arg', 'target', target, inPlaceJqProgram()], { input: JSON.stringify(configMap) });
    expect(jq.code, jq.stderr).toBe(0);
    const replaced = JSON.parse(jq.stdout);
    expect(replaced.metadata.name).toBe(names.configMap);
    const patroni = JSON.parse(replaced.data['patroni.yml']);
    expect(patroni.bootstrap.post_bootstrap).toBeUndefined();
    const method = patroni.bootstrap[patroni.bootstrap.method];
    expect(method).toMatchObject({ no_params: true, keep_existing_recovery_conf: false });
    const recovery: Record<string, string> = { ...method.recovery_conf, ...(timeline ? { recovery_target_timeline: timeline } : {}) };
    expect(recovery.restore_command).toBe(WALG_RESTORE_COMMAND);
    expect(recovery.recovery_target_time).toBe(target);

    const dataDir = path.join(dir, `${name}-data`);
    expect(method.command).toContain(POSTGRES_PATHS.dataDir);
    const fetched = await runCommand('/bin/sh', ['-c', method.command.split(POSTGRES_PATHS.dataDir).join(dataDir)], { user: serverUser(), env: walgEnv() });
    expect(fetched.code, fetched.stderr).toBe(0);
    // The rendered postgresql.conf, host/port/paths rewritten as in the other real-server tests,
    // the new timeline archived apart; Patroni adds recovery_conf and recovery.signal.
    const port = await freePort();
    const socketDir = makeOwnedDir(path.join(dir, `${name}-socket`));
    const archive = makeOwnedDir(path.join(dir, `${name}-archive`));
    const hba = writeOwnedFile(path.join(dir, `${name}-pg_hba.conf`), renderPgHba(plan, shard));
    const { restore_command: restoreCommand, ...rest } = recovery;
    const conf = rewriteSettings(renderPostgresqlConf(plan, shard), {
      listen_addresses: "'127.0.0.1'",
      port: String(port),
      unix_socket_directories: `'${socketDir}'`,
      hba_file: `'${hba}'`,
      ssl_cert_file: `'${pair.tls.cert}'`,
      ssl_key_file: `'${pair.tls.key}'`,
      ssl_ca_file: `'${pair.tls.ca}'`,
      archive_command: `'cp %p ${archive}/%f'`,
      restore_command: `'${restoreCommand.replace(/'/g, "''")}'`,
    }) + Object.entries(rest).map(([k, v]) => `${k} = '${String(v).replace(/'/g, "''")}'\n`).join('');
    const confFile = writeOwnedFile(path.join(dir, `${name}.conf`), conf);
    writeOwnedFile(path.join(dataDir, 'recovery.signal'), '');
    const server = startServer(name, bins.postgres, ['-D', dataDir, '-c', `config_file=${confFile}`], { env: walgEnv(), stopSignal: 'SIGINT' });
    return { server, conn: su(port, socketDir), dataDir };
  }

  it('step 2 (in place, Patroni bootstrap): promoted on a new timeline with exactly the rows up to the target', async () => {
    const t0 = Date.now();
    const { server, conn } = await inPlace('in-place');
    const state = await waitFor('the restored server to promote', async () => {
      if (server.child.exitCode !== null) return 'exited';
      const r = await psql(bins.psql, conn, 'SELECT pg_is_in_recovery()');
      return r.code === 0 && r.stdout.trim() === 'f' ? 'promoted' : undefined;
    }, 60000);
    expect(state, server.output()).toBe('promoted');
    expect(await rows(conn)).toBe('1,2,3');
    // Backup on timeline 1, switchover to 2, the restore's promotion starts 3.
    expect((await psqlOk(bins.psql, conn, 'SELECT pg_walfile_name(pg_current_wal_lsn())')).slice(0, 8)).toBe('00000003');
    expect(server.output()).toMatch(/recovery stopping before commit of transaction \d+, time /);
    // The shard takes writes again.
    await psqlOk(bins.psql, conn, "INSERT INTO pitr_probe (id, note) VALUES (5, 'after the restore')");
    await stopServer(server);
    timings.inPlace = Date.now() - t0;
  }, 90000);

  it('fails with recovery_target_timeline "current" (the old runbook\'s value): the target lies after a switchover', async () => {
    const { server } = await inPlace('in-place-current', 'current');
    const code = await Promise.race([server.exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 30000))]);
    expect(code, server.output()).not.toBe('running');
    expect(server.output()).toMatch(/recovery ended before configured recovery target was reached/);
  }, 60000);
});

