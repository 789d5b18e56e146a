/**
 * The topology Job's script (charts/postgres/topology.ts), run with sh, curl and python3 against
 * a stand-in for Patroni's REST API on loopback: it must PATCH the rendered dynamic config with
 * the REST credentials, and succeed only once GET /patroni reports the expected role *running*
 * (not merely the lock), failing after its deadline otherwise.
 */
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { renderTopologyScript } from '../../charts/postgres/topology';

interface FakePatroni {
  readonly port: number;
  readonly patches: Array<{ auth: string | undefined; body: string }>;
  close(): Promise<void>;
}

/** Answers GET /patroni with the states given, one per poll (the last one repeats). */
async function fakePatroni(states: Array<Record<string, string>>): Promise<FakePatroni> {
  const patches: FakePatroni['patches'] = [];
  let polls = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      if (req.method === 'PATCH' && req.url === '/config') {
        patches.push({ auth: req.headers.authorization, body });
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
      } else if (req.method === 'GET' && req.url === '/patroni') {
        const state = states[Math.min(polls++, states.length - 1)];
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(state));
      } else {
        res.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, patches, close: () => new Promise((r) => server.close(() => r())) };
}

function runScript(port: number, expectedRole: string, timeoutSeconds: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', renderTopologyScript(timeoutSeconds)], {
      env: {
        PATH: process.env.PATH,
        LEADER_HOST: '127.0.0.1',
        PATRONI_PORT: String(port),
        PATRONI_USER: 'patroni',
        PATRONI_PASSWORD: 's3cret',
        DESIRED_CONFIG: '{"standby_cluster":null,"slots":{"standby_dr_site":{"type":"physical"}}}',
        EXPECTED_ROLE: expectedRole,
      },
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('topology Job script on a stand-in Patroni REST API', () => {
  it('PATCHes the desired config with the REST credentials, then waits until Postgres runs as primary (Patroni 3 says master)', async () => {
    const patroni = await fakePatroni([
      // The lock is held but Postgres is still a standby leader: not done yet.
      { role: 'standby_leader', state: 'running' },
      { role: 'master', state: 'starting' },
      { role: 'master', state: 'running' },
    ]);
    try {
      const r = await runScript(patroni.port, 'primary', 60);
      expect(r.code, r.output).toBe(0);
      expect(patroni.patches).toEqual([
        { auth: `Basic ${Buffer.from('patroni:s3cret').toString('base64')}`, body: '{"standby_cluster":null,"slots":{"standby_dr_site":{"type":"physical"}}}' },
      ]);
      expect(r.output).toContain('the leader is primary (role master, state running');
    } finally {
      await patroni.close();
    }
  }, 60_000);

  it('accepts a standby leader that runs, and fails after its deadline when the role never comes', async () => {
    const standby = await fakePatroni([{ role: 'standby_leader', state: 'running', replication_state: 'streaming' }]);
    try {
      const ok = await runScript(standby.port, 'standby_leader', 30);
      expect(ok.code, ok.output).toBe(0);
      expect(ok.output).toContain('replication streaming');
    } finally {
      await standby.close();
    }
    const stuck = await fakePatroni([{ role: 'replica', state: 'running' }]);
    try {
      const r = await runScript(stuck.port, 'primary', 3);
      expect(r.code).toBe(1);
      expect(r.output).toContain('the leader did not become primary within 3 s (role replica, state running)');
    } finally {
      await stuck.close();
    }
  }, 60_000);
});
