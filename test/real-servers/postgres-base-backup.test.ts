/**
 * Issue 12 item 1: the base-backup sidecar's script (charts/postgres/backup.ts), run by the real
 * dash, curl, flock, timeout and date (what Spilo's Ubuntu image has), against a stand-in for
 * Patroni's REST API (200 or 503 on GET /leader, as Patroni answers) and a stand-in `wal-g` that
 * records its arguments. Proves: only the leader backs up, with the data directory (not
 * remote mode); retention runs after a successful backup and never after a failed one; two
 * backups never overlap; the schedule matches exactly the minutes cron would pick; the loop
 * backs up at a scheduled minute and stops promptly on SIGTERM.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { renderBaseBackupScript } from '../../charts/postgres/backup';
import { regionPlan } from '../support/charts';
import { describeWithPrograms, runCommand, startServer, stopServer, waitFor } from '../support/real-servers';

const plan = regionPlan('us-east-1');
const PGDATA = '/home/postgres/pgdata/pgroot/data';

describeWithPrograms('base-backup sidecar script (real dash, curl, flock, timeout)', ['dash', 'curl', 'flock', 'timeout', 'nice'], (bins) => {
  let dir: string;
  let script: string;
  let patroni: http.Server;
  let leaderStatus = 200;
  let leaderCalls = 0;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'base-backup-'));
    script = path.join(dir, 'base-backup.sh');
    writeFileSync(script, renderBaseBackupScript(), { mode: 0o555 });
    // wal-g stand-in: logs each call; backup-push sleeps WALG_SLEEP s and fails when WALG_FAIL=push.
    writeFileSync(path.join(dir, 'wal-g'), [
      '#!/bin/sh',
      'echo "$*" >> "$WALG_LOG"',
      'if [ "$1" = backup-push ]; then sleep "${WALG_SLEEP:-0}"; [ "${WALG_FAIL:-}" = push ] && exit 1; fi',
      'exit 0',
      '',
    ].join('\n'));
    chmodSync(path.join(dir, 'wal-g'), 0o755);
    patroni = http.createServer((req, res) => {
      if (req.url === '/leader') leaderCalls++;
      res.statusCode = req.url === '/leader' ? leaderStatus : 404;
      res.end();
    });
    await new Promise<void>((r) => patroni.listen(0, '127.0.0.1', () => r()));
  });

  afterAll(async () => {
    await new Promise<void>((r) => patroni.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  const env = (extra: Record<string, string> = {}) => ({
    PATH: `${dir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    PATRONI_URL: `http://127.0.0.1:${(patroni.address() as AddressInfo).port}`,
    PGDATA,
    BASE_BACKUP_SCHEDULE: plan.global.postgres.baseBackupSchedule,
    RETAIN_FULL_BACKUPS: String(plan.global.postgres.retainFullBackups),
    BACKUP_TIMEOUT_SECONDS: '60',
    BACKUP_STATE_DIR: path.join(dir, 'state'),
    WALG_LOG: path.join(dir, 'wal-g.log'),
    ...extra,
  });
  const calls = () => (existsSync(path.join(dir, 'wal-g.log')) ? readFileSync(path.join(dir, 'wal-g.log'), 'utf8').trim().split('\n').filter(Boolean) : []);
  const reset = () => rmSync(path.join(dir, 'wal-g.log'), { force: true });
  const now = (extra: Record<string, string> = {}) => runCommand(bins.dash, [script, 'now'], { env: env(extra) });

  it('on the leader: wal-g backup-push of the data directory, then retention, in that order', async () => {
    reset();
    leaderStatus = 200;
    const r = await now();
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(calls()).toEqual([`backup-push ${PGDATA}`, `delete retain FULL ${plan.global.postgres.retainFullBackups} --confirm`]);
    expect(existsSync(path.join(dir, 'state', 'last-success'))).toBe(true);
  });

  it('on a replica (Patroni answers 503): no WAL-G call at all, exit 3', async () => {
    reset();
    leaderStatus = 503;
    const r = await now();
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/not the leader/);
    expect(calls()).toEqual([]);
    leaderStatus = 200;
  });

  it('with Patroni unreachable: no backup either', async () => {
    reset();
    const r = await now({ PATRONI_URL: 'http://127.0.0.1:1' });
    expect(r.code).toBe(3);
    expect(calls()).toEqual([]);
  });

  it('a failed backup-push: no retention run, exit 1, logged', async () => {
    reset();
    const r = await now({ WALG_FAIL: 'push' });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAILED: wal-g backup-push \(no retention run\)/);
    expect(calls()).toEqual([`backup-push ${PGDATA}`]);
  });

  it('a backup that outlives BACKUP_TIMEOUT_SECONDS is stopped and counts as failed', async () => {
    reset();
    const r = await now({ WALG_SLEEP: '5', BACKUP_TIMEOUT_SECONDS: '1' });
    expect(r.code).toBe(1);
    expect(calls()).toEqual([`backup-push ${PGDATA}`]);
  });

  it('never runs two backups at once (flock): the second exits 4 while the first runs', async () => {
    reset();
    const first = now({ WALG_SLEEP: '2' });
    await waitFor('the first backup to start', async () => (calls().length > 0 ? true : undefined), 5000, 50);
    const second = await now();
    expect(second.code).toBe(4);
    expect((await first).code).toBe(0);
    expect(calls()).toEqual([`backup-push ${PGDATA}`, `delete retain FULL ${plan.global.postgres.retainFullBackups} --confirm`]);
  });

  it('matches the schedule exactly where cron does', async () => {
    const matches = async (cron: string, at: string) => (await runCommand(bins.dash, [script, 'matches', cron, at], { env: env() })).code === 0;
    // The shipped schedule: 02:15 UTC daily, and no other minute.
    const shipped = plan.global.postgres.baseBackupSchedule;
    expect(shipped).toBe('15 2 * * *');
    expect(await matches(shipped, '15 2 6 12 0')).toBe(true);
    for (const at of ['14 2 6 12 0', '16 2 6 12 0', '15 3 6 12 0', '15 14 6 12 0', '2 15 6 12 0']) expect(await matches(shipped, at), at).toBe(false);
    const cases: Array<[string, string, boolean]> = [
      ['*/15 * * * *', '45 7 1 1 1', true],
      ['*/15 * * * *', '40 7 1 1 1', false],
      ['0 1-5/2 * * *', '0 3 1 1 1', true],
      ['0 1-5/2 * * *', '0 4 1 1 1', false],
      ['0 0 * * 0', '0 0 6 12 0', true], // Sunday
      ['0 0 * * 7', '0 0 6 12 0', true], // 7 is Sunday too
      ['0 0 * * 1-5', '0 0 6 12 0', false],
      ['0 0 1 * *', '0 0 2 12 3', false],
      // Both day fields restricted: either matches (cron's rule).
      ['0 0 1 * 3', '0 0 2 12 3', true],
      ['0 0 1 * 3', '0 0 1 12 5', true],
      ['0 0 1 * 3', '0 0 2 12 5', false],
      ['0 0 */10 * *', '0 0 11 1 1', true], // day-of-month steps start at 1
      ['0 0 */10 * *', '0 0 10 1 1', false],
      ['5,35 * * * *', '35 9 1 1 1', true],
    ];
    for (const [cron, at, want] of cases) expect(await matches(cron, at), `${cron} at ${at}`).toBe(want);
  });

  it('the loop backs up in a scheduled minute and stops at once on SIGTERM', async () => {
    reset();
    const started = Date.now();
    // Every minute is scheduled: the loop's first pass backs up.
    const loop = startServer('base-backup-loop', bins.dash, [script, 'run'], { env: env({ BASE_BACKUP_SCHEDULE: '* * * * *' }), user: { uid: 0, gid: 0, switched: false } });
    await waitFor('a scheduled backup', async () => (calls().length === 2 ? true : undefined), 10000, 100);
    expect(calls()).toEqual([`backup-push ${PGDATA}`, `delete retain FULL ${plan.global.postgres.retainFullBackups} --confirm`]);
    expect(existsSync(path.join(dir, 'state', 'heartbeat'))).toBe(true);
    await stopServer(loop, 3000);
    // SIGTERM ended it (exit 0 from the trap), not the SIGKILL after the grace period.
    expect(await loop.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(15000);
  }, 20000);

  it('the loop asks Patroni once per scheduled minute and leaves a non-leader alone', async () => {
    reset();
    leaderStatus = 503;
    leaderCalls = 0;
    const loop = startServer('base-backup-loop-replica', bins.dash, [script, 'run'], { env: env({ BASE_BACKUP_SCHEDULE: '* * * * *' }), user: { uid: 0, gid: 0, switched: false } });
    await waitFor('the leader check', async () => (leaderCalls > 0 ? true : undefined), 10000, 100);
    await new Promise((r) => setTimeout(r, 1000));
    await stopServer(loop, 3000);
    expect(leaderCalls).toBe(1);
    expect(calls()).toEqual([]);
    expect(loop.output()).toMatch(/not the leader/);
    leaderStatus = 200;
  }, 20000);
});
