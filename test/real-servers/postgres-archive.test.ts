/**
 * The shard's archive_command script (charts/postgres/archive.ts), run by the real sh and curl
 * against a stand-in for Patroni's GET /leader and a stand-in `wal-g` that records its calls:
 * only the lock holder pushes, a replica reports success without pushing, and an unanswered
 * Patroni fails the command so Postgres keeps the segment and retries.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderArchiveWalScript } from '../../charts/postgres/archive';

describe('archive_command on a stand-in Patroni', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bb-archive-'));
  let leaderStatus = 200;
  let server: http.Server;
  let port = 0;

  beforeAll(async () => {
    writeFileSync(path.join(dir, 'wal-g'), `#!/bin/sh\necho "$*" >> "${dir}/wal-g.log"\n`);
    chmodSync(path.join(dir, 'wal-g'), 0o755);
    server = http.createServer((req, res) => res.writeHead(req.url === '/leader' ? leaderStatus : 404).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  // Asynchronous: the stand-in Patroni answers from this same process.
  const archive = (patroniPort: number) =>
    new Promise<{ status: number | null; stderr: string; pushed: string }>((resolve) => {
      rmSync(path.join(dir, 'wal-g.log'), { force: true });
      const child = spawn('sh', ['-c', renderArchiveWalScript(patroniPort), 'archive-wal.sh', 'pg_wal/000000010000000000000007'], {
        env: { PATH: `${dir}:${process.env.PATH}` },
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (status) => {
        const log = existsSync(path.join(dir, 'wal-g.log')) ? readFileSync(path.join(dir, 'wal-g.log'), 'utf8').trim() : '';
        resolve({ status, stderr, pushed: log });
      });
    });

  it('the lock holder (primary or standby leader: GET /leader 200) pushes the segment', async () => {
    leaderStatus = 200;
    expect(await archive(port)).toMatchObject({ status: 0, pushed: 'wal-push pg_wal/000000010000000000000007' });
  });

  it('a replica (503) reports the segment archived without pushing it', async () => {
    leaderStatus = 503;
    expect(await archive(port)).toMatchObject({ status: 0, pushed: '' });
  });

  it('fails, keeping the segment for a retry, when Patroni does not answer or answers oddly', async () => {
    leaderStatus = 500;
    const odd = await archive(port);
    expect(odd).toMatchObject({ status: 1, pushed: '' });
    expect(odd.stderr).toContain('Patroni answered 500');
    // Nothing listens on port 1.
    expect(await archive(1)).toMatchObject({ status: 1, pushed: '' });
  });
});
