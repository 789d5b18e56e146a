/**
 * The rendered Redis files on the real programs (issue #4, items 5 and 7): Debian's
 * redis-server and Sentinel (7.0) load the very redis.conf, sentinel.conf and start scripts of
 * the Redis chart's ConfigMaps, with only host, port, paths and announce addresses rewritten
 * (nothing is dropped: every rendered directive is accepted by 7.0). They prove:
 * - every tier's server accepts its config and runs with the rendered values (CONFIG GET);
 * - sessions: pod 0 bootstraps as master, the others replicate it, the Sentinels find all;
 * - SIGKILL of the master makes the Sentinels promote a replica within the configured timeouts;
 * - a client that asks Sentinel for the master reconnects and keeps writing;
 * - no write acknowledged by `WAIT 1` is lost;
 * - the killed master, restarted through start-redis.sh, rejoins as a replica (not a 2nd master).
 * Losing the whole primary region: redis-region-loss.test.ts (a second file, so vitest runs both
 * at once).
 *
 * Processes run as `nobody` when the tests run as root, each in its own process group, on free
 * loopback ports in a temp folder; all are killed and the folder removed afterwards (the shared
 * helpers of test/support/real-servers.ts). Without the programs: skipped locally, failed under
 * CI (CI=true must run them). Redis has no client package here: a 60-line RESP client does
 * (test/support/redis.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxmemoryBytes, REDIS_FILES, sentinelDirectives } from '../../charts/redis/config';
import { PROXY_PASSWORD_ENV } from '../../charts/redis/proxy';
import { REDIS_START_ENV, SENTINEL_START_ENV } from '../../charts/redis/scripts';
import { REDIS_TIERS, redisTopology, SENTINEL_QUORUM, SENTINEL_TIMING, sessionsProxyNames } from '../../charts/redis/topology';
import { RedisChart } from '../../charts/redis/chart';
import { newApp, type Obj, regionPlan } from '../support/charts';
import { cleanup, describeWithPrograms, freePort, type Server } from '../support/real-servers';
import {
  chart, Cluster, expectRunsWithRenderedConfig, filesOf, HAPROXY, info, IN_CI, loopbackHaproxyCfg, once, pairs, plan, PROGRAMS, redisConfFor, Resp, rewrite, until, withLogsOf,
} from '../support/redis';

// ------------------------------------------------------------------ the tests

// ------------------------------------------------------------------ the tests

describe.skipIf(!IN_CI || HAPROXY)('Redis sessions proxy under CI', () => {
  it('finds haproxy (CI must install it: .ci/run APT_PACKAGES)', () => {
    expect({ haproxy: HAPROXY }).toEqual({ haproxy: expect.any(String) });
  });
});


describeWithPrograms('rendered Redis config on the real servers', PROGRAMS, () => {
  let cluster: Cluster;
  const sessions = redisTopology(plan, 'sessions');
  const script = (name: string) => cluster.file(name, filesOf('sessions')[name]);
  let startRedis = '';
  let startSentinel = '';
  const redisPorts: number[] = [];
  const sentinelPorts: number[] = [];
  const servers: Server[] = [];
  const redisEnv = (i: number, template: string): Record<string, string> => ({
    [REDIS_START_ENV.template]: template,
    [REDIS_START_ENV.runtimeDir]: cluster.folder(`redis-${i}-run`),
    [REDIS_START_ENV.passwordFile]: cluster.passwordFile,
    [REDIS_START_ENV.port]: String(redisPorts[i]),
    [REDIS_START_ENV.announceHost]: '127.0.0.1',
    [REDIS_START_ENV.sentinelHost]: '127.0.0.1',
    [REDIS_START_ENV.sentinelPort]: String(sentinelPorts[0]),
    [REDIS_START_ENV.masterName]: sessions.masterName,
    [REDIS_START_ENV.bootstrapMaster]: `127.0.0.1:${redisPorts[0]}`,
    [REDIS_START_ENV.peers]: redisPorts.map((p) => `127.0.0.1:${p}`).join(' '),
    [REDIS_START_ENV.queryAttempts]: '1',
  });
  const templates: string[] = [];
  /** HAProxy's loopback ports (master, replica) and the secondary region's replica, when haproxy is there. */
  const proxyPorts = { master: 0, replica: 0 };
  let remoteReplicaPort = 0;

  // On failure the servers' logs go with the message (a start that fails says why).
  beforeAll(() => withLogsOf({ logs: () => cluster?.logs() ?? '' }, async () => {
    cluster = new Cluster();
    startRedis = script(REDIS_FILES.startRedis);
    startSentinel = script(REDIS_FILES.startSentinel);
    for (let i = 0; i < 3; i++) redisPorts.push(await freePort());
    for (let i = 0; i < 3; i++) sentinelPorts.push(await freePort());
    // Three Redis pods at once (podManagementPolicy Parallel), no Sentinel yet: first start.
    for (let i = 0; i < 3; i++) {
      templates.push(cluster.file(`redis-${i}.conf`, redisConfFor('sessions', redisPorts[i], cluster.folder(`redis-${i}-data`))));
      servers.push(cluster.run(`redis-${i}`, startRedis, redisEnv(i, templates[i])));
    }
    await until('the master to have two online replicas', 15000, async () => {
      const r = await info(redisPorts[0], cluster.password, 'replication');
      return r.role === 'master' && r.connected_slaves === '2' && [r.slave0, r.slave1].every((s) => s?.includes('state=online'));
    });
    // Then the Sentinels, as a new pod would: rendered file, monitor line rewritten for loopback.
    let sentinelConf = filesOf('sessions')[REDIS_FILES.sentinelConf];
    sentinelConf = rewrite(sentinelConf, 'bind', '127.0.0.1');
    sentinelConf = rewrite(sentinelConf, `sentinel monitor ${sessions.masterName}`, `127.0.0.1 ${redisPorts[0]} ${SENTINEL_QUORUM}`);
    for (let j = 0; j < 3; j++) {
      const template = cluster.file(`sentinel-${j}.conf`, rewrite(rewrite(sentinelConf, 'port', String(sentinelPorts[j])), 'dir', cluster.folder(`sentinel-${j}-run`)));
      cluster.run(`sentinel-${j}`, startSentinel, {
        [SENTINEL_START_ENV.template]: template,
        [SENTINEL_START_ENV.runtimeDir]: cluster.folder(`sentinel-${j}-run`),
        [SENTINEL_START_ENV.passwordFile]: cluster.passwordFile,
        [SENTINEL_START_ENV.port]: String(sentinelPorts[j]),
        [SENTINEL_START_ENV.announceHost]: '127.0.0.1',
        [SENTINEL_START_ENV.masterName]: sessions.masterName,
        [SENTINEL_START_ENV.peersService]: `127.0.0.1:${sentinelPorts[0]}`,
        [SENTINEL_START_ENV.redisPeers]: redisPorts.map((p) => `127.0.0.1:${p}`).join(' '),
        [SENTINEL_START_ENV.queryAttempts]: '1',
      });
    }
    await until('every Sentinel to know both replicas and both other Sentinels', 20000, async () => {
      for (const port of sentinelPorts) {
        const m = pairs(await once(port, cluster.password, 'SENTINEL', 'MASTER', sessions.masterName));
        if (m['num-slaves'] !== '2' || m['num-other-sentinels'] !== '2' || m.flags !== 'master') return false;
      }
      return true;
    });
    if (HAPROXY) await startProxyAndRemoteReplica();
  }), 45000);

  /**
   * The primary's sessions proxy (rendered haproxy.cfg: pod and Sentinel names rewritten to their
   * loopback ports; the Sentinel check then expects a pod's port, the only thing that tells
   * loopback pods apart) and a secondary region's sessions replica (its rendered redis.conf,
   * `replicaof` rewritten from the global host to the proxy's replica port).
   */
  async function startProxyAndRemoteReplica(): Promise<void> {
    proxyPorts.master = await freePort();
    proxyPorts.replica = await freePort();
    const proxy = sessionsProxyNames(plan, plan.region.name);
    const rendered = chart.toJson().find((o: Obj) => o.kind === 'ConfigMap' && o.metadata.name === proxy.configMap).data['haproxy.cfg'] as string;
    const cfg = await loopbackHaproxyCfg(rendered, plan, { redis: redisPorts, sentinels: sentinelPorts, master: proxyPorts.master, replica: proxyPorts.replica });
    cluster.exec('haproxy', HAPROXY!, ['-db', '-f', cluster.file('haproxy.cfg', cfg)], { [PROXY_PASSWORD_ENV]: cluster.password });

    const westChart = new RedisChart(newApp(), { plan: regionPlan('us-west-2'), primaryRegion: { name: plan.region.name, eastWestGateway: plan.region.eastWestGateway } });
    remoteReplicaPort = await freePort();
    let conf = westChart.tiers.sessions.files[REDIS_FILES.redisConf];
    conf = rewrite(conf, 'bind', '127.0.0.1');
    conf = rewrite(conf, 'port', String(remoteReplicaPort));
    conf = rewrite(conf, 'dir', cluster.folder('remote-replica-data'));
    conf = rewrite(conf, 'replicaof', `127.0.0.1 ${proxyPorts.replica}`);
    cluster.run('remote-replica', cluster.file('remote-start-redis.sh', westChart.tiers.sessions.files[REDIS_FILES.startRedis]), {
      [REDIS_START_ENV.template]: cluster.file('remote-replica.conf', conf),
      [REDIS_START_ENV.runtimeDir]: cluster.folder('remote-replica-run'),
      [REDIS_START_ENV.passwordFile]: cluster.passwordFile,
      [REDIS_START_ENV.port]: String(remoteReplicaPort),
      [REDIS_START_ENV.announceHost]: '127.0.0.1',
    });
  }

  /** The listening port of whatever Redis answers on `port` (through the proxy: the server behind it). */
  async function serverPort(port: number): Promise<number> {
    return Number((await info(port, cluster.password, 'server')).tcp_port);
  }

  afterAll(async () => {
    await cleanup();
  });

  const withLogs = (body: () => Promise<void>) => withLogsOf(cluster, body);

  it('runs every sessions server with the rendered settings (AOF everysec, noeviction, min-replicas)', () => withLogs(async () => {
    for (const port of redisPorts) await expectRunsWithRenderedConfig(port, cluster.password, 'sessions');
    const replication = await Promise.all(redisPorts.map((p) => info(p, cluster.password, 'replication')));
    expect(replication.map((r) => r.role)).toEqual(['master', 'slave', 'slave']);
    expect(replication.slice(1).map((r) => r.master_link_status)).toEqual(['up', 'up']);
  }));

  it('runs the Sentinels with the rendered quorum and timeouts', () => withLogs(async () => {
    const expected = Object.fromEntries(sentinelDirectives(plan, 'sessions').map((d) => [d.name, d.value]));
    expect(expected['sentinel monitor'].split(' ').at(-1)).toBe(String(SENTINEL_QUORUM));
    for (const port of sentinelPorts) {
      const m = pairs(await once(port, cluster.password, 'SENTINEL', 'MASTER', sessions.masterName));
      expect(m).toMatchObject({
        quorum: String(SENTINEL_QUORUM),
        'down-after-milliseconds': String(SENTINEL_TIMING.downAfterMilliseconds),
        'failover-timeout': String(SENTINEL_TIMING.failoverTimeoutMilliseconds),
        'parallel-syncs': String(SENTINEL_TIMING.parallelSyncs),
      });
      const hostnames = pairs(await once(port, cluster.password, 'SENTINEL', 'CONFIG', 'GET', '*-hostnames'));
      expect(hostnames).toEqual({ 'resolve-hostnames': 'yes', 'announce-hostnames': 'yes' });
    }
  }));

  it('refuses clients without the password', async () => {
    const outcome = await Resp.connect(redisPorts[1], 'wrong-password').then((c) => { c.close(); return 'connected'; }, (e: Error) => e.message);
    expect(outcome).toMatch(/^WRONGPASS/);
  });

  it.skipIf(!HAPROXY)('the sessions proxy reaches the master on its master port and a replica on its replica port; a secondary region replicates through it', () => withLogs(async () => {
    await until('the proxy to route to the master', 10000, async () => (await serverPort(proxyPorts.master)) === redisPorts[0]);
    expect((await info(proxyPorts.master, cluster.password, 'replication')).role).toBe('master');
    // Until its first health checks complete HAProxy may still send a connection anywhere: wait
    // for the checks to settle on a replica, then make sure it stays there.
    // (HAProxy 2.x starts servers as up and needs `fall` failed checks to take the master out).
    const onlyReplicas = async () => {
      for (let i = 0; i < 6; i++) if (!redisPorts.slice(1).includes(await serverPort(proxyPorts.replica))) return false;
      return true;
    };
    await until('the proxy to route to replicas only', 15000, onlyReplicas);
    await once(proxyPorts.master, cluster.password, 'SET', 'session:cross-region', 'from-us-east-1');
    const remote = await until('the secondary-region replica to sync through the proxy', 15000, async () => {
      const r = await info(remoteReplicaPort, cluster.password, 'replication');
      return r.master_link_status === 'up' && (await once(remoteReplicaPort, cluster.password, 'GET', 'session:cross-region')) === 'from-us-east-1' ? r : undefined;
    });
    expect(remote.role).toBe('slave');
    // It replicates a replica, never the master: its link must not count towards the master's WAIT.
    expect(Number(remote.master_port)).toBe(proxyPorts.replica);
    const master = await info(redisPorts[0], cluster.password, 'replication');
    expect(master.connected_slaves).toBe('2');
    // Read-only, never promoted, invisible to the Sentinels.
    await expect(once(remoteReplicaPort, cluster.password, 'SET', 'x', 'y')).rejects.toThrow(/READONLY/);
    const m = pairs(await once(sentinelPorts[0], cluster.password, 'SENTINEL', 'MASTER', sessions.masterName));
    expect(m['num-slaves']).toBe('2');
  }));

  it('promotes a replica when the master is killed; a Sentinel client keeps writing; no WAIT-acknowledged write is lost; the old master rejoins as a replica', () => withLogs(async () => {
    /** Asks the Sentinels (any that answers) where the master is. */
    const masterPort = async (): Promise<number> => {
      for (const port of sentinelPorts) {
        try {
          const [host, p] = (await once(port, cluster.password, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', sessions.masterName)) as string[];
          if (host === '127.0.0.1') return Number(p);
        } catch {
          // try the next Sentinel
        }
      }
      throw new Error('no Sentinel answered');
    };
    /** A client as the API runs it: master from Sentinel, SET + WAIT 1, reconnect on any error. */
    const acked = new Map<string, string>();
    let conn: Resp | undefined;
    let writes = 0;
    const write = async (key: string, value: string): Promise<boolean> => {
      writes++;
      try {
        conn ??= await Resp.connect(await masterPort(), cluster.password, 500);
        await conn.command('SET', key, value);
        const replicas = await conn.command('WAIT', 1, 1000);
        if (typeof replicas === 'number' && replicas >= 1) {
          acked.set(key, value);
          return true;
        }
        return false;
      } catch {
        conn?.close();
        conn = undefined;
        await new Promise((r) => setTimeout(r, 50));
        return false;
      }
    };

    for (let i = 0; i < 200; i++) expect(await write(`session:before:${i}`, `v${i}`)).toBe(true);

    // Keep writing while the master dies, as live traffic would.
    let stop = false;
    let during = 0;
    const writer = (async () => {
      while (!stop) await write(`session:during:${during}`, `v${during++}`);
    })();

    const oldPort = redisPorts[0];
    expect(await masterPort()).toBe(oldPort);
    const killedAt = Date.now();
    await cluster.kill(servers[0]);

    const newPort = await until('a Sentinel to promote a replica', SENTINEL_TIMING.downAfterMilliseconds + SENTINEL_TIMING.failoverTimeoutMilliseconds, async () => {
      const port = await masterPort();
      return port !== oldPort && (await info(port, cluster.password, 'replication')).role === 'master' ? port : undefined;
    });
    const failoverMs = Date.now() - killedAt;
    expect(failoverMs).toBeGreaterThanOrEqual(SENTINEL_TIMING.downAfterMilliseconds);
    expect(failoverMs).toBeLessThan(SENTINEL_TIMING.downAfterMilliseconds + SENTINEL_TIMING.failoverTimeoutMilliseconds);

    // The client found the new master by itself and keeps getting acknowledged writes.
    const ackedAtPromotion = acked.size;
    await until('20 acknowledged writes on the new master', 15000, async () => acked.size >= ackedAtPromotion + 20);
    stop = true;
    await writer;
    conn?.close();

    const master = await Resp.connect(newPort, cluster.password);
    try {
      const keys = [...acked.keys()];
      const values = (await master.command('MGET', ...keys)) as Array<string | null>;
      const lost = keys.filter((k, i) => values[i] !== acked.get(k));
      expect({ acknowledged: keys.length, lost }).toEqual({ acknowledged: keys.length, lost: [] });
    } finally {
      master.close();
    }
    console.info(`redis failover: promoted 127.0.0.1:${newPort} ${failoverMs} ms after SIGKILL; ${acked.size} of ${writes} writes acknowledged (WAIT 1), none lost`);

    if (HAPROXY) {
      // Other regions follow too: the proxy's master port now reaches the promoted pod, and the
      // secondary-region replica receives what is written after the failover.
      await until('the proxy to route to the promoted master', 10000, async () => (await serverPort(proxyPorts.master)) === newPort);
      await once(proxyPorts.master, cluster.password, 'SET', 'session:after-failover', 'replicated');
      await until('the secondary-region replica to receive a write made after the failover', 20000, async () =>
        (await once(remoteReplicaPort, cluster.password, 'GET', 'session:after-failover')) === 'replicated');
    }

    // The old master comes back through start-redis.sh: it asks the Sentinels and follows.
    servers[0] = cluster.run('redis-0-restarted', startRedis, redisEnv(0, templates[0]));
    const rejoined = await until('the old master to replicate the new one', 15000, async () => {
      const r = await info(oldPort, cluster.password, 'replication');
      return r.role === 'slave' && r.master_port === String(newPort) && r.master_link_status === 'up' ? r : undefined;
    });
    expect(rejoined.role).toBe('slave');
    const sample = [...acked.keys()].slice(-5);
    expect(await once(oldPort, cluster.password, 'MGET', ...sample)).toEqual(sample.map((k) => acked.get(k)));
  }), 60000);

  it('a master restarted before the Sentinels noticed waits for the promotion and follows, instead of serving its older copy', () => withLogs(async () => {
    const masterNow = async () => {
      const [, p] = (await once(sentinelPorts[1], cluster.password, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', sessions.masterName)) as string[];
      return Number(p);
    };
    const port = await masterNow();
    const index = redisPorts.indexOf(port);
    await once(port, cluster.password, 'SET', 'session:last', 'kept');
    expect(await once(port, cluster.password, 'WAIT', 1, 1000)).toBeGreaterThanOrEqual(1);
    await cluster.kill(servers[index]);
    // Back at once, like a container restart: the Sentinels still name it the master.
    servers[index] = cluster.run(`redis-${index}-fast-restart`, startRedis, {
      ...redisEnv(index, templates[index]),
      [REDIS_START_ENV.staleMasterWaitSeconds]: String(Math.ceil((SENTINEL_TIMING.downAfterMilliseconds + SENTINEL_TIMING.failoverTimeoutMilliseconds) / 1000)),
    });
    const promoted = await until('another pod to be promoted', SENTINEL_TIMING.downAfterMilliseconds + 15000, async () => {
      const p = await masterNow();
      return p !== port ? p : undefined;
    });
    await until('the restarted pod to replicate the promoted one', 15000, async () => {
      const r = await info(port, cluster.password, 'replication');
      return r.role === 'slave' && r.master_port === String(promoted) && r.master_link_status === 'up';
    });
    expect(await once(promoted, cluster.password, 'GET', 'session:last')).toBe('kept');
    expect(servers[index].output()).toMatch(/still name this pod the master/);
  }), 40000);

  it.each(REDIS_TIERS.filter((t) => t !== 'sessions'))('runs the %s tier with its rendered settings (no persistence, its eviction policy, maxmemory from config)', (tier) => withLogs(async () => {
    const port = await freePort();
    const template = cluster.file(`${tier}.conf`, redisConfFor(tier, port, cluster.folder(`${tier}-data`)));
    // Without Sentinel settings the start script only adds the password and announce name.
    cluster.run(tier, cluster.file(`${tier}-${REDIS_FILES.startRedis}`, filesOf(tier)[REDIS_FILES.startRedis]), {
      [REDIS_START_ENV.template]: template,
      [REDIS_START_ENV.runtimeDir]: cluster.folder(`${tier}-run`),
      [REDIS_START_ENV.passwordFile]: cluster.passwordFile,
      [REDIS_START_ENV.port]: String(port),
      [REDIS_START_ENV.announceHost]: '127.0.0.1',
    });
    await until(`${tier} to answer`, 10000, async () => (await once(port, cluster.password, 'PING')) === 'PONG');
    await expectRunsWithRenderedConfig(port, cluster.password, tier);
    const config = pairs(await once(port, cluster.password, 'CONFIG', 'GET', 'max*'));
    expect(config.maxmemory).toBe(String(maxmemoryBytes(plan.global.redis.tiers[tier].maxmemory)));
    expect({ save: config.save ?? pairs(await once(port, cluster.password, 'CONFIG', 'GET', 'save')).save }).toEqual({ save: '' });
    expect(pairs(await once(port, cluster.password, 'CONFIG', 'GET', 'appendonly')).appendonly).toBe('no');
  }));
});
