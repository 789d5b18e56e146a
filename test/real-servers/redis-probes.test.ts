/**
 * The Redis pods' probes and the sessions proxy's replica check on the real programs: the
 * rendered probe commands of the StatefulSets (probe.sh from the tier's ConfigMap, only the
 * script path, port, runtime folder and password file mapped to the test's), against servers
 * started by the rendered start-redis.sh; the rendered haproxy.cfg against real replicas.
 * - A password rotated in the store changes the mounted file under running pods: the probes
 *   must keep passing with the password the server started with (before, every Redis and
 *   Sentinel of every tier failed liveness within a minute and restarted at once).
 * - Readiness holds a replica back until its first sync is loaded (a resyncing replica answers
 *   PONG), then keeps it ready through a broken link (stale session reads); a restart waits again.
 * - The proxy's replica port skips a replica whose own link to the master is down.
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REDIS_FILES, REDIS_PATHS } from '../../charts/redis/config';
import { PROXY_PASSWORD_ENV } from '../../charts/redis/proxy';
import { REDIS_START_ENV } from '../../charts/redis/scripts';
import { redisTopology, SENTINEL_REPLICAS, sessionsProxyNames } from '../../charts/redis/topology';
import type { Obj } from '../support/charts';
import { cleanup, describeWithPrograms, freePort, runCommand, type Server } from '../support/real-servers';
import { chart, Cluster, filesOf, HAPROXY, info, loopbackHaproxyCfg, once, plan, PROGRAMS, redisConfFor, until, withLogsOf } from '../support/redis';

const cache = redisTopology(plan, 'cache');
const objects: Obj[] = chart.toJson();
const statefulSet = (name: string) => objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === name)!;
const container = (sts: Obj, name: string) => (sts.spec.template.spec.containers as Obj[]).find((c) => c.name === name)!;
const redisContainer = container(statefulSet(cache.statefulSet), 'redis');
const sentinelContainer = container(statefulSet(cache.sentinelStatefulSet), 'sentinel');
const PASSWORD_FILE = `${REDIS_PATHS.auth}/password`;

describeWithPrograms('Redis probes and the proxy replica check on the real servers', PROGRAMS, () => {
  let cluster: Cluster;
  let probeScript = '';
  let startRedis = '';
  /** Test-side stand-in for each pod's Secret volume (the file rotation rewrites). */
  const mounted = (name: string) => cluster.file(`${name}-password`, cluster.password);

  interface Pod { readonly name: string; readonly port: number; readonly run: string; readonly passwordFile: string; server?: Server }

  /** A Redis pod of the cache tier, through the rendered start script (static role: `replicaof` when given). */
  async function startPod(name: string, replicaOf?: number, reuse?: Pod): Promise<Pod> {
    const pod = reuse ?? { name, port: await freePort(), run: cluster.folder(`${name}-run`), passwordFile: mounted(name) };
    let conf = redisConfFor('cache', pod.port, cluster.folder(`${name}-data`));
    if (replicaOf !== undefined) conf += `\nreplicaof 127.0.0.1 ${replicaOf}\n`;
    pod.server = cluster.run(name, startRedis, {
      [REDIS_START_ENV.template]: cluster.file(`${name}.conf`, conf),
      [REDIS_START_ENV.runtimeDir]: pod.run,
      [REDIS_START_ENV.passwordFile]: pod.passwordFile,
      [REDIS_START_ENV.port]: String(pod.port),
      [REDIS_START_ENV.announceHost]: '127.0.0.1',
    });
    await until(`${name} to answer`, 10000, async () => (await info(pod.port, cluster.password, 'server')).tcp_port === String(pod.port));
    return pod;
  }

  /** Runs one of the rendered probe commands against `pod`, as the kubelet would in its container. */
  function probe(kind: 'livenessProbe' | 'readinessProbe' | 'startupProbe', pod: Pod, of: Obj = redisContainer, port = cache.redisPort, runtime: string = REDIS_PATHS.runtime) {
    const mapped: Record<string, string> = {
      [`${REDIS_PATHS.config}/${REDIS_FILES.probe}`]: probeScript,
      [String(port)]: String(pod.port),
      [runtime]: pod.run,
      [PASSWORD_FILE]: pod.passwordFile,
    };
    const [command, ...args] = (of[kind].exec.command as string[]).map((a) => mapped[a] ?? a);
    expect(args.filter((a) => a.startsWith('/etc/') || a.startsWith('/run/')), 'every path of the probe is mapped').toEqual([]);
    return runCommand(command, args, { user: cluster.user, timeoutMs: 10000 }).then((r) => ({ ok: r.code === 0, out: `${r.stdout}${r.stderr}`.trim() }));
  }

  beforeAll(() => {
    cluster = new Cluster();
    probeScript = cluster.file('probe.sh', filesOf('cache')[REDIS_FILES.probe]);
    startRedis = cluster.file('start-redis.sh', filesOf('cache')[REDIS_FILES.startRedis]);
  });

  afterAll(async () => {
    await cleanup();
  });

  const withLogs = (body: () => Promise<void>) => withLogsOf(cluster, body);

  it('keeps passing when the password is rotated in the Secret under a running server, and fails for a password it was never given', () => withLogs(async () => {
    const pod = await startPod('rotated');
    for (const kind of ['startupProbe', 'livenessProbe', 'readinessProbe'] as const) expect(await probe(kind, pod)).toMatchObject({ ok: true });
    // The store's new value reaches the mounted file; the server still runs with the old one.
    fs.writeFileSync(pod.passwordFile, 'N3wRotatedPassw0rd');
    for (const kind of ['livenessProbe', 'readinessProbe'] as const) expect(await probe(kind, pod)).toMatchObject({ ok: true });
    // The operator switches the running server to the new password (docs/secrets.md).
    await once(pod.port, cluster.password, 'ACL', 'SETUSER', 'default', 'resetpass', '>N3wRotatedPassw0rd');
    expect(await probe('livenessProbe', pod)).toMatchObject({ ok: true });
    // A password neither file holds: the probes are not vacuous.
    await once(pod.port, 'N3wRotatedPassw0rd', 'ACL', 'SETUSER', 'default', 'resetpass', '>S0meoneElses');
    expect(await probe('livenessProbe', pod)).toMatchObject({ ok: false });
    expect(await probe('readinessProbe', pod)).toMatchObject({ ok: false });
  }));

  it('probes a Sentinel container with the same script (PONG with either password)', () => withLogs(async () => {
    // A server answers PING as a Sentinel does; what is checked is the command and its arguments.
    const pod = await startPod('sentinel-like');
    const run = (kind: 'livenessProbe' | 'readinessProbe') => probe(kind, pod, sentinelContainer, cache.sentinelPort, REDIS_PATHS.sentinelRuntime);
    expect(await run('readinessProbe')).toMatchObject({ ok: true });
    fs.writeFileSync(pod.passwordFile, 'N3wRotatedPassw0rd');
    expect(await run('livenessProbe')).toMatchObject({ ok: true });
  }));

  it('holds a replica unready until its first sync is loaded, keeps it ready through a broken link, and waits again after a restart', () => withLogs(async () => {
    const master = await startPod('master');
    const nowhere = await freePort();
    const lost = await startPod('never-synced', nowhere);
    expect(await probe('livenessProbe', lost)).toMatchObject({ ok: true });
    expect(await probe('readinessProbe', lost)).toEqual({ ok: false, out: 'replica not synced with its master since it started' });

    expect(await probe('readinessProbe', master)).toMatchObject({ ok: true });
    const replica = await startPod('replica', master.port);
    await until('the replica to sync', 10000, async () => (await info(replica.port, cluster.password, 'replication')).master_link_status === 'up');
    expect(await probe('readinessProbe', replica)).toMatchObject({ ok: true });

    await cluster.kill(master.server!);
    await until('the replica to lose its link', 10000, async () => (await info(replica.port, cluster.password, 'replication')).master_link_status === 'down');
    expect(await probe('readinessProbe', replica)).toMatchObject({ ok: true });

    // Container restart: same runtime folder (emptyDir), master still gone.
    await cluster.kill(replica.server!);
    await startPod('replica', master.port, replica);
    expect(await probe('readinessProbe', replica)).toMatchObject({ ok: false });
  }));

  it.skipIf(!HAPROXY)("sends the proxy's replica port only to replicas whose own link to the master is up", () => withLogs(async () => {
    const proxy = sessionsProxyNames(plan, plan.region.name);
    const master = await startPod('proxy-master');
    const synced = await startPod('proxy-synced', master.port);
    const unlinked = await startPod('proxy-unlinked', await freePort());
    await until('the replica to sync', 10000, async () => (await info(synced.port, cluster.password, 'replication')).master_link_status === 'up');
    const pods = [master, synced, unlinked];
    const replicaPort = await freePort();
    const rendered = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === proxy.configMap)!.data['haproxy.cfg'] as string;
    // No Sentinels here (free ports nobody answers on): the master port is not under test.
    const sentinels = await Promise.all(Array.from({ length: SENTINEL_REPLICAS }, () => freePort()));
    const cfg = await loopbackHaproxyCfg(rendered, plan, { redis: pods.map((p) => p.port), sentinels, master: await freePort(), replica: replicaPort });
    cluster.exec('haproxy-replicas', HAPROXY!, ['-db', '-f', cluster.file('haproxy-replicas.cfg', cfg)], { [PROXY_PASSWORD_ENV]: cluster.password });

    const landsOn = async () => Number((await info(replicaPort, cluster.password, 'server')).tcp_port);
    // HAProxy starts servers as up; `fall 2` checks take the others out.
    await until('the replica port to settle on the synced replica', 15000, async () => {
      for (let i = 0; i < 6; i++) if ((await landsOn()) !== synced.port) return false;
      return true;
    });
    for (let i = 0; i < 10; i++) expect(await landsOn()).toBe(synced.port);
  }));
});
