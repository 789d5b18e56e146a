/**
 * The Redis chart (issue #4, item 5): three tiers with Sentinel failover, each with the
 * eviction and persistence policy its data needs, the password only by reference, and the
 * cross-region session path. The rendered files are also run on the real servers in
 * test/real-servers/redis.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { NamespacesChart } from '../../charts/namespaces/chart';
import { StorageChart } from '../../charts/storage/chart';
import { EVICTION_POLICY, maxmemoryBytes, parseConf, REDIS_FILES, renderRedisConf, renderSentinelConf } from '../../charts/redis/config';
import { renderHaproxyConf } from '../../charts/redis/proxy';
import {
  type PrimaryRegionRef, REDIS_TIERS, type RedisTierKey, redisClientEndpoints, redisTopology, SENTINEL_QUORUM, SENTINEL_TIMING, sessionsProxyNames,
} from '../../charts/redis/topology';
import { RedisChart } from '../../charts/redis/chart';
import { definition } from '../../main';
import { isServingRegion } from '../../regions/model';
import type { RegionPlan } from '../../regions/plan';
import { validateObjects } from '../../tools/validate';
import { MeshChart } from '../../charts/mesh/chart';
import { find, newApp, objectsOf, planWithPrimary, regionPlan, shippedPlan, type Obj } from '../support/charts';

/** The serving regions: a standby region (DR sites only, role: standby) runs no Redis. */
const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-1'];
const primaryConfig = shippedPlan().regions.find((r) => r.region.role === 'primary')!.region;
const PRIMARY: PrimaryRegionRef = { name: primaryConfig.name, eastWestGateway: primaryConfig.eastWestGateway };

function render(plan: RegionPlan): Obj[] {
  return objectsOf(new RedisChart(newApp(), { plan, primaryRegion: PRIMARY }));
}

const east = regionPlan('us-east-1');
const eastObjects = render(east);
const west = regionPlan('us-west-2');
const westObjects = render(west);

function conf(objects: Obj[], plan: RegionPlan, tier: RedisTierKey, file: string): Map<string, string> {
  const cm = find(objects, 'ConfigMap', redisTopology(plan, tier).configMap, plan.namespaces.data);
  return new Map(parseConf(cm.data[file]));
}

function withRedis(change: (r: RegionPlan['global']['redis']) => RegionPlan['global']['redis']): RegionPlan {
  return { ...east, global: { ...east.global, redis: change(east.global.redis) } };
}

function containers(o: Obj): any[] {
  return [...(o.spec.template.spec.initContainers ?? []), ...o.spec.template.spec.containers];
}

describe('Redis tiers in the primary region', () => {
  describe.each(REDIS_TIERS)('tier %s', (tier) => {
    const t = redisTopology(east, tier);
    const redis = find(eastObjects, 'StatefulSet', t.statefulSet, east.namespaces.data);
    const sentinel = find(eastObjects, 'StatefulSet', t.sentinelStatefulSet, east.namespaces.data);
    const redisConf = conf(eastObjects, east, tier, REDIS_FILES.redisConf);
    const sentinelConf = conf(eastObjects, east, tier, REDIS_FILES.sentinelConf);

    it('runs 3 Redis pods (1 master + 2 replicas) and 3 Sentinels with quorum 2', () => {
      expect(redis.spec.replicas).toBe(3);
      expect(sentinel.spec.replicas).toBe(3);
      expect(sentinelConf.get('sentinel monitor')).toBe(`${t.masterName} ${t.bootstrapMasterHost} 6379 2`);
      expect(SENTINEL_QUORUM).toBe(2);
      expect(sentinelConf.get('sentinel down-after-milliseconds')).toBe(`${t.masterName} ${SENTINEL_TIMING.downAfterMilliseconds}`);
      expect(sentinelConf.get('sentinel failover-timeout')).toBe(`${t.masterName} ${SENTINEL_TIMING.failoverTimeoutMilliseconds}`);
      expect(sentinelConf.get('sentinel parallel-syncs')).toBe(`${t.masterName} 1`);
    });

    it('names every instance by its stable per-pod DNS name (resolve before monitor, announce hostnames)', () => {
      const keys = [...sentinelConf.keys()];
      expect(keys.indexOf('sentinel resolve-hostnames')).toBeLessThan(keys.indexOf('sentinel monitor'));
      expect(sentinelConf.get('sentinel announce-hostnames')).toBe('yes');
      const env = (o: Obj, name: string) => containers(o).flatMap((c) => c.env ?? []).find((e: any) => e.name === name)?.value;
      expect(env(redis, 'REDIS_ANNOUNCE_HOST')).toBe(`$(POD_NAME).${t.headlessService}.${east.namespaces.data}.svc.cluster.local`);
      expect(env(sentinel, 'SENTINEL_ANNOUNCE_HOST')).toBe(`$(POD_NAME).${t.sentinelHeadlessService}.${east.namespaces.data}.svc.cluster.local`);
      for (const name of [t.headlessService, t.sentinelHeadlessService]) {
        const svc = find(eastObjects, 'Service', name, east.namespaces.data);
        expect(svc.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
      }
      expect(redis.spec.serviceName).toBe(t.headlessService);
      expect(sentinel.spec.serviceName).toBe(t.sentinelHeadlessService);
    });

    it('offers clients the Sentinel Service on 26379', () => {
      const svc = find(eastObjects, 'Service', t.sentinelService, east.namespaces.data);
      expect(svc.spec.ports).toEqual([{ name: 'tcp-sentinel', port: 26379, targetPort: 26379, protocol: 'TCP', appProtocol: 'tcp' }]);
      expect(svc.spec.selector).toEqual(sentinel.spec.selector.matchLabels);
    });

    it('sets maxmemory from config and the eviction policy the data needs', () => {
      expect(redisConf.get('maxmemory')).toBe(String(maxmemoryBytes(east.global.redis.tiers[tier].maxmemory)));
      expect(redisConf.get('maxmemory-policy')).toBe({ cache: 'allkeys-lru', sessions: 'noeviction', rateLimit: 'volatile-ttl' }[tier]);
      expect(EVICTION_POLICY[tier]).toBe(redisConf.get('maxmemory-policy'));
    });

    it('runs each tier as its own identity (the sessions proxy as the sessions tier), none with an API token', () => {
      // One identity per tier: the mesh's AuthorizationPolicies of one tier then admit no pod of
      // another. The sessions tier keeps the shared name it had: it crosses regions.
      const accounts = eastObjects.filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata.name).sort();
      expect(accounts).toEqual(['bookedbarber-redis', 'bookedbarber-redis-cache', 'bookedbarber-redis-rate-limit']);
      for (const o of eastObjects.filter((x) => x.kind === 'ServiceAccount')) expect(o.automountServiceAccountToken).toBe(false);
      const workloads = eastObjects.filter((o) => o.kind === 'StatefulSet' || o.kind === 'Deployment');
      const runsAs = Object.fromEntries(workloads.map((w) => [w.metadata.name, w.spec.template.spec.serviceAccountName]));
      expect(runsAs).toMatchObject({
        'bookedbarber-redis-cache': 'bookedbarber-redis-cache',
        'bookedbarber-redis-cache-sentinel': 'bookedbarber-redis-cache',
        'bookedbarber-redis-sessions': 'bookedbarber-redis',
        'bookedbarber-redis-sessions-sentinel': 'bookedbarber-redis',
        'bookedbarber-redis-rate-limit': 'bookedbarber-redis-rate-limit',
        'bookedbarber-redis-sessions-proxy': 'bookedbarber-redis',
      });
    });

    it('has PodDisruptionBudgets and zone spread for both StatefulSets', () => {
      for (const sts of [redis, sentinel]) {
        const pdb = find(eastObjects, 'PodDisruptionBudget', sts.metadata.name, east.namespaces.data);
        expect(pdb.spec).toMatchObject({ maxUnavailable: 1, selector: sts.spec.selector });
        // Hard only where volumes pin the pods to a zone (a persisted tier); a preference otherwise.
        const pinned = (sts.spec.volumeClaimTemplates ?? []).length > 0;
        expect(sts.spec.template.spec.topologySpreadConstraints[0]).toMatchObject({ topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: pinned ? 'DoNotSchedule' : 'ScheduleAnyway' });
      }
    });

    it('runs redis_exporter, pinned, next to Redis and to each Sentinel', () => {
      for (const sts of [redis, sentinel]) {
        const exporter = containers(sts).find((c) => c.name === 'exporter');
        expect(exporter.image).toMatch(/^docker\.io\/oliver006\/redis_exporter:v\d+\.\d+\.\d+$/);
        expect(exporter.ports).toEqual([{ name: 'http-metrics', containerPort: 9121, protocol: 'TCP' }]);
      }
    });

    it('does not duplicate the key TTLs (they live in the API config): other TTLs, same files', () => {
      const ttls = withRedis((r) => ({ ...r, ttlSeconds: { cache: 1234, sessions: 5678, rateLimit: 91 } }));
      expect(renderRedisConf(ttls, tier)).toBe(renderRedisConf(east, tier));
      expect(renderSentinelConf(ttls, tier)).toBe(renderSentinelConf(east, tier));
    });
  });

  it('persists nothing in cache and rate-limit', () => {
    for (const tier of ['cache', 'rateLimit'] as const) {
      const c = conf(eastObjects, east, tier, REDIS_FILES.redisConf);
      expect({ save: c.get('save'), appendonly: c.get('appendonly') }).toEqual({ save: '""', appendonly: 'no' });
      const sts = find(eastObjects, 'StatefulSet', redisTopology(east, tier).statefulSet);
      expect(sts.spec.volumeClaimTemplates).toBeUndefined();
    }
  });

  it('persists sessions: AOF everysec, noeviction, a volume per pod, acknowledged writes reach a replica', () => {
    const c = conf(eastObjects, east, 'sessions', REDIS_FILES.redisConf);
    expect(c.get('appendonly')).toBe('yes');
    expect(c.get('appendfsync')).toBe('everysec');
    expect(c.get('maxmemory-policy')).toBe('noeviction');
    expect(c.get('min-replicas-to-write')).toBe('1');
    expect(Number(c.get('min-replicas-max-lag'))).toBe(SENTINEL_TIMING.downAfterMilliseconds / 1000);
    const sts = find(eastObjects, 'StatefulSet', redisTopology(east, 'sessions').statefulSet);
    expect(sts.spec.volumeClaimTemplates).toEqual([
      { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'bookedbarber-gp3-retain', resources: { requests: { storage: east.global.redis.tiers.sessions.storage } } } },
    ]);
    expect(sts.spec.template.spec.containers[0].volumeMounts).toContainEqual({ name: 'data', mountPath: '/data' });
  });

  it('follows the config: a changed maxmemory is what Redis is told', () => {
    const plan = withRedis((r) => ({ ...r, tiers: { ...r.tiers, cache: { ...r.tiers.cache, maxmemory: '2Gi' } } }));
    expect(parseConf(renderRedisConf(plan, 'cache'))).toContainEqual(['maxmemory', String(2 * 1024 ** 3)]);
  });

  it('rolls the Redis pods, not the Sentinels, when only redis.conf changes (a Sentinel restarted with its master loses a failover vote)', () => {
    const t = redisTopology(east, 'cache');
    const changed = render(withRedis((r) => ({ ...r, tiers: { ...r.tiers, cache: { ...r.tiers.cache, maxmemory: '2Gi' } } })));
    const template = (objects: Obj[], name: string) => find(objects, 'StatefulSet', name, east.namespaces.data).spec.template;
    const hash = (objects: Obj[], name: string) => template(objects, name).metadata.annotations['bookedbarber.com/config-sha256'];
    expect(hash(changed, t.statefulSet)).not.toBe(hash(eastObjects, t.statefulSet));
    expect(template(changed, t.sentinelStatefulSet)).toEqual(template(eastObjects, t.sentinelStatefulSet));
  });

  it('never renders a password: config, scripts and env only reference the Secret from the ExternalSecret', () => {
    const text = JSON.stringify(eastObjects);
    expect(text).not.toMatch(/requirepass\s+[^$\s"]/);
    for (const cm of eastObjects.filter((o) => o.kind === 'ConfigMap')) {
      for (const [file, body] of Object.entries<string>(cm.data)) {
        if (file.endsWith('.conf')) expect(body).not.toMatch(/^(requirepass|masterauth|sentinel auth-pass|sentinel sentinel-pass)\b/m);
      }
    }
    expect(eastObjects.filter((o) => o.kind === 'Secret')).toEqual([]);
    for (const o of eastObjects.filter((x) => x.spec?.template)) {
      for (const c of containers(o)) {
        for (const e of c.env ?? []) {
          if (/PASSWORD|AUTH/.test(e.name) && !e.name.endsWith('_FILE')) expect(e.valueFrom?.secretKeyRef).toBeDefined();
        }
      }
    }
    for (const tier of REDIS_TIERS) {
      const t = redisTopology(east, tier);
      for (const [name, ns] of [[t.authSecret, east.namespaces.data], [t.clientSecret, east.namespaces.app]]) {
        const es = find(eastObjects, 'ExternalSecret', name, ns);
        expect(es.spec).toMatchObject({
          secretStoreRef: { kind: east.global.secretStore.kind, name: east.global.secretStore.name },
          target: { name },
          data: [{ secretKey: 'password', remoteRef: { key: t.passwordRemoteKey } }],
        });
      }
    }
  });

  it('runs a Sentinel-aware proxy for the other regions: master port and replica port', () => {
    const proxy = sessionsProxyNames(east, east.region.name);
    const deployment = find(eastObjects, 'Deployment', proxy.deployment, east.namespaces.data);
    expect(deployment.spec.replicas).toBe(2);
    find(eastObjects, 'PodDisruptionBudget', proxy.deployment, east.namespaces.data);
    const cfg = renderHaproxyConf(east);
    expect(cfg).toMatch(/frontend redis_master\n {2}bind :6379/);
    expect(cfg).toMatch(/frontend redis_replica\n {2}bind :6380/);
    expect(cfg).toContain('tcp-check expect string role:master');
    expect(cfg).toContain('tcp-check expect rstring role:slave[[:print:][:space:]]*master_link_status:up');
    // A server marked down loses its sessions: no client on a demoted master, no remote replica
    // on a promoted or unlinked one (test/real-servers/redis.test.ts shows the second).
    expect(cfg).toMatch(/default-server .* on-marked-down shutdown-sessions/);
    expect(cfg).toContain('AUTH ${REDIS_PASSWORD}');
    expect(cfg).toMatch(/use-server redis0 if \{ srv_is_up\(redis0\) \} \{ nbsrv\(sentinels_name_0_master\) ge 2 \}/);
    const exported = find(eastObjects, 'ServiceEntry', `${proxy.service}-global`, east.namespaces.data);
    expect(exported.spec).toMatchObject({ hosts: [proxy.globalHost], location: 'MESH_INTERNAL', resolution: 'DNS', endpoints: [{ address: proxy.localHost }] });
  });
});

describe('sessions in a secondary region', () => {
  const t = redisTopology(west, 'sessions');
  const proxy = sessionsProxyNames(west, PRIMARY.name);

  it('runs 3 read replicas of the primary region\'s sessions, through the proxy\'s replica port, never promoted', () => {
    const sts = find(westObjects, 'StatefulSet', t.statefulSet, west.namespaces.data);
    expect(sts.spec.replicas).toBe(3);
    expect(westObjects.some((o) => o.kind === 'StatefulSet' && o.metadata.name === t.sentinelStatefulSet)).toBe(false);
    const c = conf(westObjects, west, 'sessions', REDIS_FILES.redisConf);
    expect(c.get('replicaof')).toBe(`${proxy.globalHost} 6380`);
    expect(c.get('replica-priority')).toBe('0');
    expect(c.get('replica-announced')).toBe('no');
    expect(c.get('appendonly')).toBe('yes');
    expect(proxy.globalHost).toBe('bookedbarber-redis-sessions-proxy.us-east-1.bookedbarber.global');
    find(westObjects, 'Service', t.readService, west.namespaces.data);
  });

  it('reaches the primary through its east-west gateway with Istio mTLS', () => {
    const name = `${proxy.service}-${PRIMARY.name}`;
    const se = find(westObjects, 'ServiceEntry', name, west.namespaces.data);
    expect(se.spec).toMatchObject({
      hosts: [proxy.globalHost],
      location: 'MESH_INTERNAL',
      resolution: 'DNS',
      endpoints: [{ address: PRIMARY.eastWestGateway, ports: { 'tcp-redis': 15443, 'tcp-replica': 15443 } }],
      exportTo: ['.', west.namespaces.app],
    });
    const dr = find(westObjects, 'DestinationRule', name, west.namespaces.data);
    expect(dr.spec.host).toBe(proxy.globalHost);
    expect(dr.spec.trafficPolicy.tls).toEqual({ mode: 'ISTIO_MUTUAL' });
  });

  it('keeps cache and rate-limit region-local with their own Sentinels', () => {
    for (const tier of ['cache', 'rateLimit'] as const) {
      expect(find(westObjects, 'StatefulSet', redisTopology(west, tier).sentinelStatefulSet).spec.replicas).toBe(3);
    }
  });

  it('tells the API where to write and read sessions', () => {
    const endpoints = redisClientEndpoints(west, PRIMARY);
    expect(endpoints.sessions).toEqual({
      write: `redis://${proxy.globalHost}:6379`,
      read: `redis://${t.readService}.${west.namespaces.data}.svc.cluster.local:6379`,
      passwordSecret: t.clientSecret,
    });
    expect(redisClientEndpoints(east).cache.sentinels).toBe(`${redisTopology(east, 'cache').sentinelServiceHost}:26379`);
  });

  it('takes the primary region from the plan, and runs no Sentinels for the remote sessions replicas', () => {
    expect(west.primaryRegion).toEqual(PRIMARY);
    expect(() => new RedisChart(newApp(), { plan: west })).not.toThrow();
    expect(() => renderSentinelConf(west, 'sessions')).toThrow(/runs no Sentinels in region us-west-2/);
  });
});

describe('Redis chart output and the validator', () => {
  it.each(REGIONS)('%s: passes every schema, policy and reference rule (no findings)', (name) => {
    const app = newApp();
    const plan = regionPlan(name);
    const objects = [...objectsOf(new NamespacesChart(app, { plan })), ...objectsOf(new StorageChart(app, { plan })), ...objectsOf(new RedisChart(app, { plan, primaryRegion: PRIMARY }))];
    const report = validateObjects(
      objects.map((object, index) => ({ file: `dist/${name}/redis.yaml`, index, object, region: name })),
      { schemaDir: undefined },
    );
    expect(report.findings).toEqual([]);
  });

  it('renders the same objects twice (deterministic)', () => {
    expect(render(east)).toEqual(eastObjects);
  });
});

/**
 * Losing the primary region (issue 11, item 5): the session store moves by one line of config,
 * `role: primary` in another region's file. Every region renders the promoted topology from the
 * model; nothing is edited by hand. docs/redis-sessions.md has the runbook.
 */
describe('sessions promoted to another region by config (role: primary moves to us-west-2)', () => {
  const NEW_PRIMARY = 'us-west-2';
  const promoted = planWithPrimary(NEW_PRIMARY);
  const plans = new Map(promoted.regions.map((p) => [p.region.name, p]));
  // Redis runs in the serving regions only (main.ts builds no Redis chart in a standby region).
  const servingRegions = promoted.regions.filter((p) => isServingRegion(p.region));
  const rendered = new Map(servingRegions.map((p) => [p.region.name, objectsOf(new RedisChart(newApp(), { plan: p }))]));
  const newPrimary = plans.get(NEW_PRIMARY)!;
  const proxy = sessionsProxyNames(newPrimary, NEW_PRIMARY);
  const has = (objects: Obj[], kind: string, name: string) => objects.some((o) => o.kind === kind && o.metadata.name === name);

  it('makes exactly that region the primary in every region\'s plan', () => {
    expect(promoted.regions.filter((p) => p.region.role === 'primary').map((p) => p.region.name)).toEqual([NEW_PRIMARY]);
    for (const p of promoted.regions) expect(p.primaryRegion).toEqual({ name: NEW_PRIMARY, eastWestGateway: newPrimary.region.eastWestGateway });
    expect(proxy.globalHost).toBe('bookedbarber-redis-sessions-proxy.us-west-2.bookedbarber.global');
    // The serving regions are the ones checked below; the standby-only regions stay standby.
    expect(servingRegions.map((p) => p.region.name).sort()).toEqual([...REGIONS].sort());
    expect(promoted.regions.filter((p) => !isServingRegion(p.region)).map((p) => `${p.region.name} ${p.region.role}`).sort())
      .toEqual(['ap-southeast-2 standby', 'eu-central-1 standby']);
  });

  it('a standby region renders no Redis, before or after the promotion', () => {
    for (const p of [...shippedPlan().regions, ...promoted.regions].filter((r) => !isServingRegion(r.region))) {
      const app = newApp();
      definition.buildRegion(app, p);
      expect(app.charts.map((c) => c.node.id), p.region.name).not.toContain('redis');
      const objects = app.charts.flatMap((c) => objectsOf(c));
      expect(objects.filter((o) => o.metadata.labels?.['app.kubernetes.io/name'] === 'redis').map((o) => `${o.kind}/${o.metadata.name}`), p.region.name).toEqual([]);
    }
  });

  it('the new primary: Sentinel-managed sessions (3 + 3 Sentinels, min-replicas-to-write), its own proxy, exported', () => {
    const objects = rendered.get(NEW_PRIMARY)!;
    const t = redisTopology(newPrimary, 'sessions');
    expect(t.mode).toBe('sentinel');
    expect(find(objects, 'StatefulSet', t.statefulSet, t.namespace).spec.replicas).toBe(3);
    expect(find(objects, 'StatefulSet', t.sentinelStatefulSet, t.namespace).spec.replicas).toBe(3);
    const c = conf(objects, newPrimary, 'sessions', REDIS_FILES.redisConf);
    expect(c.has('replicaof')).toBe(false);
    expect(c.get('replica-priority')).toBe('100');
    expect(c.get('min-replicas-to-write')).toBe('1');
    expect(conf(objects, newPrimary, 'sessions', REDIS_FILES.sentinelConf).get('sentinel monitor')).toBe(`sessions ${t.bootstrapMasterHost} 6379 2`);
    expect(find(objects, 'Deployment', proxy.deployment, t.namespace).spec.replicas).toBe(2);
    expect(find(objects, 'ConfigMap', proxy.configMap, t.namespace).data['haproxy.cfg']).toBe(renderHaproxyConf(newPrimary));
    const exported = find(objects, 'ServiceEntry', `${proxy.service}-global`, t.namespace);
    expect(exported.spec).toMatchObject({ hosts: [proxy.globalHost], endpoints: [{ address: proxy.localHost }] });
    // It imports nobody's sessions any more.
    expect(objects.filter((o) => o.kind === 'DestinationRule').map((o) => o.metadata.name)).toEqual([]);
    expect(redisClientEndpoints(newPrimary).sessions).toEqual({
      masterName: 'sessions', sentinels: `${t.sentinelServiceHost}:26379`, write: `sentinel://${t.sentinelServiceHost}:26379/sessions`,
      read: `sentinel://${t.sentinelServiceHost}:26379/sessions`, passwordSecret: t.clientSecret,
    });
  });

  it.each(['us-east-1', 'eu-west-1', 'ap-southeast-1'])('%s (the old primary included): read replicas of the new primary through its proxy, no Sentinels, no proxy', (name) => {
    const plan = plans.get(name)!;
    const objects = rendered.get(name)!;
    const t = redisTopology(plan, 'sessions');
    expect(t.mode).toBe('remote-replica');
    expect(has(objects, 'StatefulSet', t.sentinelStatefulSet)).toBe(false);
    expect(has(objects, 'Deployment', proxy.deployment)).toBe(false);
    expect(has(objects, 'ServiceEntry', `${proxy.service}-global`)).toBe(false);
    const c = conf(objects, plan, 'sessions', REDIS_FILES.redisConf);
    expect(c.get('replicaof')).toBe(`${proxy.globalHost} 6380`);
    expect(c.get('replica-priority')).toBe('0');
    expect(c.get('replica-announced')).toBe('no');
    const imported = find(objects, 'ServiceEntry', `${proxy.service}-${NEW_PRIMARY}`, t.namespace);
    expect(imported.spec).toMatchObject({ hosts: [proxy.globalHost], endpoints: [{ address: newPrimary.region.eastWestGateway, ports: { 'tcp-redis': 15443, 'tcp-replica': 15443 } }] });
    expect(find(objects, 'DestinationRule', `${proxy.service}-${NEW_PRIMARY}`, t.namespace).spec.host).toBe(proxy.globalHost);
    expect(JSON.stringify(objects)).not.toContain('bookedbarber-redis-sessions-proxy.us-east-1.bookedbarber.global');
    expect(redisClientEndpoints(plan).sessions).toEqual({
      write: `redis://${proxy.globalHost}:6379`, read: `redis://${t.readService}.${t.namespace}.svc.cluster.local:6379`, passwordSecret: t.clientSecret,
    });
    // cache and rate limits stay region-local, Sentinel-managed, whatever the role.
    for (const tier of ['cache', 'rateLimit'] as const) expect(has(objects, 'StatefulSet', redisTopology(plan, tier).sentinelStatefulSet)).toBe(true);
  });

  it('exactly one region runs and exports a sessions proxy, and only its east-west gateway exposes it', () => {
    const exporting = [...rendered].filter(([, objects]) => has(objects, 'Deployment', proxy.deployment)).map(([name]) => name);
    expect(exporting).toEqual([NEW_PRIMARY]);
    for (const plan of promoted.regions) {
      // A standby region exports nothing before a shard promotion, so it renders no east-west Gateway.
      const gateways = objectsOf(new MeshChart(newApp(), { plan })).filter((o) => o.kind === 'Gateway' && o.metadata.name === 'cross-network-gateway');
      const hosts: string[] = gateways.flatMap((g) => g.spec.servers.flatMap((s: any) => s.hosts));
      expect({ region: plan.region.name, exposesSessions: hosts.some((h) => h.endsWith(proxy.globalHost)) })
        .toEqual({ region: plan.region.name, exposesSessions: plan.region.name === NEW_PRIMARY });
    }
  });

  it('keeps the sessions StatefulSet and its volumes in both roles: the pods restart on their own AOF, nothing is re-created', () => {
    for (const name of [NEW_PRIMARY, 'us-east-1']) {
      const t = redisTopology(plans.get(name)!, 'sessions');
      const before = find(render(regionPlan(name)), 'StatefulSet', t.statefulSet, t.namespace);
      const after = find(rendered.get(name)!, 'StatefulSet', t.statefulSet, t.namespace);
      expect(after.spec.volumeClaimTemplates).toEqual(before.spec.volumeClaimTemplates);
      expect(after.spec.serviceName).toBe(before.spec.serviceName);
      expect(after.spec.selector).toEqual(before.spec.selector);
    }
  });

  it.each(REGIONS)('%s: the promoted objects pass every schema, policy and reference rule', (name) => {
    const app = newApp();
    const plan = plans.get(name)!;
    const objects = [...objectsOf(new NamespacesChart(app, { plan })), ...objectsOf(new StorageChart(app, { plan })), ...objectsOf(new RedisChart(app, { plan }))];
    const report = validateObjects(objects.map((object, index) => ({ file: `dist/${name}/redis.yaml`, index, object, region: name })), { schemaDir: undefined });
    expect(report.findings).toEqual([]);
  });
});
