/**
 * The shard's archive_command script (charts/postgres/archive.ts), run by the real sh and curl
 * against a stand-in for Patroni's GET /primary and a stand-in `wal-g` that records its calls and
 * answers as the real one does (success, WALG_PREVENT_WAL_OVERWRITE's refusal of other bytes, or
 * a storage error): every member pushes; a member that receives WAL (replica, standby site's
 * leader: GET /primary 503) keeps the archive's copy of a segment whose bytes differ, the primary
 * never does; any other failure, and an unanswered Patroni, keep the segment for a retry.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderArchiveWalScript, WALG_CONTENTS_DIFFER } from '../../charts/postgres/archive';

const SEGMENT = 'pg_wal/000000010000000000000007';

describe('archive_command on a stand-in Patroni and wal-g', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bb-archive-'));
  let leaderStatus = 200;
  let server: http.Server;
  let port = 0;

  beforeAll(async () => {
    // $WALG_ANSWER: ok, differ (wal-g's own message for a refused overwrite) or broken.
    writeFileSync(
      path.join(dir, 'wal-g'),
      `#!/bin/sh
echo "$*" >> "${dir}/wal-g.log"
case "$WALG_ANSWER" in
  differ) echo "ERROR: 2026/12/07 08:00:00.000000 WAL file '$2' already archived, ${WALG_CONTENTS_DIFFER}" >&2; exit 1 ;;
  broken) echo "ERROR: 2026/12/07 08:00:00.000000 upload: could not Upload '$2': RequestError: send request failed" >&2; exit 1 ;;
esac
`,
    );
    chmodSync(path.join(dir, 'wal-g'), 0o755);
    server = http.createServer((req, res) => res.writeHead(req.url === '/primary' ? leaderStatus : 404).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  // Asynchronous: the stand-in Patroni answers from this same process.
  const archive = (patroniPort: number, walgAnswer = 'ok') =>
    new Promise<{ status: number | null; stderr: string; pushed: string }>((resolve) => {
      rmSync(path.join(dir, 'wal-g.log'), { force: true });
      const child = spawn('sh', ['-c', renderArchiveWalScript(patroniPort), 'archive-wal.sh', SEGMENT], {
        env: { PATH: `${dir}:${process.env.PATH}`, WALG_ANSWER: walgAnswer },
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (status) => {
        const log = existsSync(path.join(dir, 'wal-g.log')) ? readFileSync(path.join(dir, 'wal-g.log'), 'utf8').trim() : '';
        resolve({ status, stderr, pushed: log });
      });
    });

  it('the primary (GET /primary 200) pushes the segment, and any refusal fails', async () => {
    leaderStatus = 200;
    expect(await archive(port)).toMatchObject({ status: 0, pushed: `wal-push ${SEGMENT}` });
    const refused = await archive(port, 'differ');
    expect(refused).toMatchObject({ status: 1, pushed: `wal-push ${SEGMENT}` });
    expect(refused.stderr).toContain(WALG_CONTENTS_DIFFER);
  });

  it('a replica or a standby site\'s leader (GET /primary 503) pushes the segment too: the archive gets what a lost primary never uploaded', async () => {
    leaderStatus = 503;
    expect(await archive(port)).toMatchObject({ status: 0, pushed: `wal-push ${SEGMENT}` });
  });

  it('a receiving member keeps the archive\'s copy of a segment archived with other bytes (a timeline\'s last, partial segment)', async () => {
    leaderStatus = 503;
    const kept = await archive(port, 'differ');
    expect(kept).toMatchObject({ status: 0, pushed: `wal-push ${SEGMENT}` });
    expect(kept.stderr).toContain('the archive\'s copy stays');
  });

  it('a replica keeps the segment for a retry when the storage fails', async () => {
    leaderStatus = 503;
    const failed = await archive(port, 'broken');
    expect(failed).toMatchObject({ status: 1, pushed: `wal-push ${SEGMENT}` });
    expect(failed.stderr).toContain('could not Upload');
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
