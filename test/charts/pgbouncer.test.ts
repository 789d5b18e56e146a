/**
 * The PgBouncer chart: per shard a pooler Deployment (>= 2 replicas, zone spread, PDB),
 * transaction pooling sized from capacity.ts, read-write and read-only databases, SCRAM with
 * credentials by reference, server TLS, exporter, Service. Guards issue #4 item 3.
 */
import { describe, expect, it } from 'vitest';
import { PgbouncerChart, pgbouncerPools, renderPgbouncerIni } from '../../charts/pgbouncer/chart';
import { PGBOUNCER_AUTH_QUERY } from '../../charts/pgbouncer/config';
import { renderPgbouncerRunScript } from '../../charts/pgbouncer/run-script';
import { PostgresChart } from '../../charts/postgres/chart';
import { regionPeers } from '../../charts/wiring/peers';
import { pgbouncerNames, PGBOUNCER_AUTH_KEYS } from '../../charts/pgbouncer/shard';
import { postgresNames } from '../../charts/postgres/names';
import { PGBOUNCER_ROLLOUT, shardClientCapacity, shardClientDemand, shardPools } from '../../regions/capacity';
import { isServingRegion } from '../../regions/model';
import { find, newApp, objectsOf, regionPlan, shippedPlan } from '../support/charts';

const plan = regionPlan('us-east-1');
const shard = plan.region.shards[0];
const names = pgbouncerNames(plan, shard.id);
const pg = postgresNames(plan, shard.id);
const objects = objectsOf(new PgbouncerChart(newApp(), { plan }));
const deployment = find(objects, 'Deployment', plan.names.data.pgbouncer(shard.id), plan.namespaces.data);
const pod = deployment.spec.template.spec;
const ini = (p = plan, s = shard, options = {}) =>
  Object.fromEntries(renderPgbouncerIni(p, s, options).split('\n').filter((l) => / = /.test(l) && !l.startsWith(';')).map((l) => {
    const [k, ...v] = l.split(' = ');
    return [k, v.join(' = ')];
  }));

describe('PgBouncer Deployment per shard', () => {
  it('runs the configured replicas (at least 2) of every shard site the region hosts (home and DR)', () => {
    for (const region of shippedPlan().regions) {
      const deployments = objectsOf(new PgbouncerChart(newApp(), { plan: region })).filter((o) => o.kind === 'Deployment');
      // One per hosted site: a DR site's PgBouncer waits warm for a promotion.
      expect(region.hostedShards.length, region.region.name).toBeGreaterThan(0);
      expect(deployments.map((d) => d.metadata.name)).toEqual(region.hostedShards.map((h) => region.names.data.pgbouncer(h.config.id)));
      region.hostedShards.forEach((h, i) => {
        expect(deployments[i].spec.replicas).toBe(h.config.pgbouncer.replicas);
        expect(deployments[i].spec.replicas).toBeGreaterThanOrEqual(2);
      });
    }
    // us-east-1 runs shard 1 (home) and shard 2's DR site; a standby region only DR sites.
    const sites = (name: string) => shippedPlan().regions.find((r) => r.region.name === name)!.hostedShards.map((h) => `${h.config.id}/${h.site}`);
    expect(sites('us-east-1')).toEqual(['1/home', '2/dr']);
    expect(sites('eu-central-1')).toEqual(['3/dr']);
  });

  it('spreads the pods over zones and keeps a PDB', () => {
    const zone = pod.topologySpreadConstraints.find((c: any) => c.topologyKey === 'topology.kubernetes.io/zone');
    expect(zone).toMatchObject({ maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: names.selectorLabels } });
    expect(find(objects, 'PodDisruptionBudget', names.deployment).spec).toMatchObject({ maxUnavailable: 1, selector: { matchLabels: names.selectorLabels } });
  });

  // Issue 12 item 2: the server budget is split over every pod a rollout can run, so the
  // Deployment must roll exactly as regions/capacity.ts assumes.
  it('rolls with the maxSurge and maxUnavailable the connection budget counts, and a PDB that lets a drain take the pods it counts', () => {
    expect(deployment.spec.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: PGBOUNCER_ROLLOUT.maxSurge, maxUnavailable: PGBOUNCER_ROLLOUT.maxUnavailable },
    });
    expect(PGBOUNCER_ROLLOUT).toMatchObject({ maxSurge: 1, maxUnavailable: 0, disruptionBudgetMaxUnavailable: 1, drainingPods: 1 });
    expect(find(objects, 'PodDisruptionBudget', names.deployment).spec.maxUnavailable).toBe(PGBOUNCER_ROLLOUT.disruptionBudgetMaxUnavailable);
  });

  // PgBouncer >= 1.23 drains on SIGTERM ("super safe shutdown": it serves the clients it has, with
  // its server pool, until they leave), and the API's pooled connections stay until the grace
  // period ends. A new pod counts as available only after minReadySeconds; past the grace period,
  // the next old pod is told to go only once the previous one is gone: one draining pod at most.
  it('lets at most one replaced pod drain at a time (minReadySeconds past the grace period)', () => {
    expect(deployment.spec.minReadySeconds).toBeGreaterThan(pod.terminationGracePeriodSeconds);
    expect([deployment.spec.minReadySeconds, pod.terminationGracePeriodSeconds]).toEqual([50, 45]);
  });

  it('rolls the pods when pgbouncer.ini changes (PgBouncer reads it at start), and only then', () => {
    const hashOf = (maxClients: number, reserve = 0) => {
      const withMax = <T extends { config: typeof shard }>(h: T): T =>
        h.config.id === shard.id ? { ...h, config: { ...h.config, pgbouncer: { ...h.config.pgbouncer, maxClientConnectionsPerReplica: maxClients } } } : h;
      const p = { ...plan, hostedShards: plan.hostedShards.map(withMax) };
      const rendered = objectsOf(new PgbouncerChart(newApp(), { plan: p, pools: { reservePoolSize: reserve } }));
      return find(rendered, 'Deployment', names.deployment, plan.namespaces.data).spec.template.metadata.annotations['bookedbarber.com/config-sha256'];
    };
    const shipped = deployment.spec.template.metadata.annotations['bookedbarber.com/config-sha256'];
    expect(shipped).toMatch(/^[0-9a-f]{64}$/);
    expect(hashOf(shard.pgbouncer.maxClientConnectionsPerReplica)).toBe(shipped);
    expect(hashOf(shard.pgbouncer.maxClientConnectionsPerReplica + 1)).not.toBe(shipped);
    expect(hashOf(shard.pgbouncer.maxClientConnectionsPerReplica, 5)).not.toBe(shipped);
  });

  // PgBouncer >= 1.17 reads auth_file only at start and on a reload; the script sends SIGHUP when
  // the Secret volume changes (test/real-servers/pgbouncer.test.ts runs it).
  it('runs PgBouncer under the rendered run-pgbouncer.sh, which watches the folder auth_file is in', () => {
    const c = pod.containers.find((x: any) => x.name === 'pgbouncer');
    expect(c.command).toEqual(['sh', '/etc/pgbouncer/conf/run-pgbouncer.sh', '/usr/bin/pgbouncer', '/etc/pgbouncer/conf/pgbouncer.ini', '/etc/pgbouncer/auth']);
    expect(find(objects, 'ConfigMap', names.configMap).data['run-pgbouncer.sh']).toBe(renderPgbouncerRunScript());
    expect(ini().auth_file).toBe('/etc/pgbouncer/auth/userlist.txt');
    expect(c.volumeMounts).toContainEqual({ name: 'auth', mountPath: '/etc/pgbouncer/auth', readOnly: true });
    expect(pod.volumes.find((v: any) => v.name === 'auth').secret.secretName).toBe(names.authSecret);
  });

  it('exposes port 6432 as tcp-pgbouncer with appProtocol tcp (Istio proxies it as TCP)', () => {
    const svc = find(objects, 'Service', names.service);
    expect(svc.spec.selector).toEqual(names.selectorLabels);
    expect(svc.spec.ports[0]).toEqual({ name: 'tcp-pgbouncer', port: plan.names.data.pgbouncerPort, targetPort: 6432, protocol: 'TCP', appProtocol: 'tcp' });
    expect(pod.containers[0].ports).toEqual([{ name: 'tcp-pgbouncer', containerPort: 6432, protocol: 'TCP' }]);
  });

  it('runs under the ServiceAccount and labels the connection declaration authorises', () => {
    const peer = regionPeers(plan).pgbouncer(shard.id);
    expect(pod.serviceAccountName).toBe(peer.serviceAccount);
    expect(find(objects, 'ServiceAccount', peer.serviceAccount).automountServiceAccountToken).toBe(false);
    expect(deployment.spec.template.metadata.labels).toMatchObject(peer.podLabels);
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it('runs a pinned, hardened pgbouncer_exporter with its own probes, reading the admin console by reference', () => {
    const exporter = pod.containers.find((c: any) => c.name === 'exporter');
    expect(exporter.image).toMatch(/^quay\.io\/prometheuscommunity\/pgbouncer-exporter:v\d+\.\d+\.\d+$/);
    expect(exporter.livenessProbe.tcpSocket.port).toBe(9127);
    expect(exporter.readinessProbe.tcpSocket.port).toBe(9127);
    expect(exporter.env).toEqual([
      { name: 'PGBOUNCER_EXPORTER_CONNECTION_STRING', valueFrom: { secretKeyRef: { name: names.authSecret, key: PGBOUNCER_AUTH_KEYS.exporterConnection } } },
    ]);
  });
});

describe('pgbouncer.ini, rendered from the config', () => {
  const pools = shardPools(plan.global, shard);

  it('pools per transaction with the client and server limits from capacity.ts', () => {
    const c = ini();
    expect(c.pool_mode).toBe('transaction');
    expect(Number(c.max_client_conn)).toBe(shard.pgbouncer.maxClientConnectionsPerReplica);
    expect(Number(c.default_pool_size)).toBe(pools.poolSizePerReplica);
    expect(Number(c.max_db_connections)).toBe(pools.poolSizePerReplica);
    expect(Number(c.reserve_pool_size)).toBe(0);
    // Every pod a rollout can run (replicas + the rendered maxSurge + the one replaced pod still
    // draining) stays within what Postgres gives PgBouncer, on the primary (bookings) and on any
    // one replica (bookings_ro).
    const rolloutPods = deployment.spec.replicas + deployment.spec.strategy.rollingUpdate.maxSurge + 1;
    expect(rolloutPods * Number(c.max_db_connections)).toBeLessThanOrEqual(pools.serverBudget);
    // The shipped numbers: max_connections 400 - 13 reserved = 387 over 3 + 1 + 1 pods = 77 each.
    expect([pools.serverBudget, rolloutPods, Number(c.default_pool_size)]).toEqual([387, 5, 77]);
  });

  it('accepts every client of every serving region one zone outage or drain down, and at least 2,000 per shard', () => {
    const platform = shippedPlan();
    const serving = platform.regions.map((r) => r.region).filter(isServingRegion);
    const demand = shardClientDemand(platform.global, serving);
    // 4 serving regions x (1000 API pods + a 100 % canary beside the full stable side, instant
    // abort: delivery.api.abortScaling) x apiPoolPerPod 2.
    expect(demand.regions.map((r) => `${r.region} ${r.apiPods} ${r.clients}`)).toEqual([
      'us-east-1 2000 4000', 'us-west-2 2000 4000', 'eu-west-1 2000 4000', 'ap-southeast-1 2000 4000',
    ]);
    // + 5 % for uneven spread over the pods (each client's sidecar picks one on its own).
    expect([demand.clients, demand.required]).toEqual([16000, 16800]);
    // Every site's rendered PgBouncer (home and DR) holds them with one pod of three gone.
    for (const region of platform.regions) {
      const deployments = objectsOf(new PgbouncerChart(newApp(), { plan: region })).filter((o) => o.kind === 'Deployment');
      region.hostedShards.forEach((h, i) => {
        const rendered = Object.fromEntries(renderPgbouncerIni(region, h.config).split('\n').filter((l) => / = /.test(l) && !l.startsWith(';')).map((l) => l.split(' = ')));
        const podsLeft = deployments[i].spec.replicas - shardClientCapacity(h.config, region.region.zones.length).podsLost;
        // Each pod's exporter holds one console connection, which counts against max_client_conn.
        expect(podsLeft * (Number(rendered.max_client_conn) - 1), `${region.region.name} shard ${h.config.id} ${h.site}`).toBeGreaterThanOrEqual(demand.required);
        // Shipped: 3 pods in 3 zones, one lost, 2 x (8500 - 1) = 16,998 for 16,800.
        expect([podsLeft, rendered.max_client_conn], `${region.region.name} shard ${h.config.id} ${h.site}`).toEqual([2, '8500']);
      });
    }
  });

  it('keeps named prepared statements across transactions (max_prepared_statements, PgBouncer >= 1.21) and pins PgBouncer >= 1.24.1', () => {
    expect(ini().max_prepared_statements).toBe('200');
    const [major, minor, patch] = plan.versions.images.pgbouncer.version.split('.').map(Number);
    expect(major * 10000 + minor * 100 + patch).toBeGreaterThanOrEqual(12401);
  });

  it('takes a reserve pool out of the same per-pod budget, never on top of it', () => {
    const c = ini(plan, shard, { reservePoolSize: 5 });
    expect(Number(c.default_pool_size) + Number(c.reserve_pool_size)).toBe(pools.poolSizePerReplica);
    expect(Number(c.max_db_connections)).toBe(pools.poolSizePerReplica);
    expect(() => pgbouncerPools(plan, shard, { reservePoolSize: pools.poolSizePerReplica })).toThrow(/reservePoolSize \(77\) must be >= 0 and < the pool size per PgBouncer pod \(77\)/);
  });

  it('routes bookings to the read-write Service and bookings_ro to the read-only Service', () => {
    const c = ini();
    expect(c[plan.names.data.readWriteDatabase]).toBe(`host=${pg.readWriteHost} port=5432 dbname=bookings`);
    expect(c[plan.names.data.readOnlyDatabase]).toBe(`host=${pg.readOnlyHost} port=5432 dbname=bookings`);
    expect(pg.readWriteHost).toBe('bookedbarber-postgres-shard-1.bookedbarber-data.svc.cluster.local');
    expect(pg.readOnlyHost).toBe('bookedbarber-postgres-shard-1-ro.bookedbarber-data.svc.cluster.local');
  });

  it('authenticates with SCRAM via auth_query and verifies the server certificate', () => {
    expect(ini()).toMatchObject({
      auth_type: 'scram-sha-256',
      auth_user: 'pgbouncer',
      auth_query:
        'SELECT a.usename, a.passwd FROM pgbouncer.get_auth($1) a JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) a.usename' +
        ' WHERE r.rolvaliduntil IS NULL OR r.rolvaliduntil OPERATOR(pg_catalog.>) pg_catalog.now()',
      auth_file: '/etc/pgbouncer/auth/userlist.txt',
      server_tls_sslmode: 'verify-full',
      server_tls_ca_file: '/etc/pgbouncer/ca/ca.crt',
    });
    expect(ini().auth_query).toBe(PGBOUNCER_AUTH_QUERY);
    expect(find(objects, 'ConfigMap', names.configMap).data['pgbouncer.ini']).toBe(renderPgbouncerIni(plan, shard));
  });
});

describe('credentials by reference only', () => {
  it('builds userlist.txt and the exporter connection string in the ExternalSecret, from the shard credentials', () => {
    const es = find(objects, 'ExternalSecret', names.authSecret);
    expect(es.spec.secretStoreRef).toEqual({ kind: 'ClusterSecretStore', name: 'bookedbarber-vault' });
    expect(es.spec.target).toMatchObject({ name: names.authSecret, creationPolicy: 'Owner', template: { engineVersion: 'v2', mergePolicy: 'Merge' } });
    expect(es.spec.data.map((d: any) => d.remoteRef.key)).toEqual([pg.remoteKeys.credentials, pg.remoteKeys.credentials]);
    // A `"` in a password doubled inside the quoted auth_file field; a space percent-encoded in
    // the URL's user info (test/real-servers/pgbouncer.test.ts logs in with such a password).
    expect(es.spec.target.template.data['userlist.txt']).toBe('"pgbouncer" "{{ .pgbouncer_password | replace "\\"" "\\"\\"" }}"\n"pgbouncer_exporter" "{{ .stats_password | replace "\\"" "\\"\\"" }}"\n');
    expect(es.spec.target.template.data.exporter_connection_string).toBe('postgres://pgbouncer_exporter:{{ .stats_password | urlquery | replace "+" "%20" }}@127.0.0.1:6432/pgbouncer?sslmode=disable');
    const auth = pod.volumes.find((v: any) => v.name === 'auth');
    expect(auth.secret).toMatchObject({ secretName: names.authSecret, items: [{ key: 'userlist.txt', path: 'userlist.txt' }] });
    // The CA only, from the shard's certificate Secret: never the Postgres key.
    const ca = pod.volumes.find((v: any) => v.name === 'ca');
    expect(ca.secret).toMatchObject({ secretName: pg.tlsSecret, items: [{ key: 'ca.crt', path: 'ca.crt' }] });
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
  });
});

describe('PgBouncer objects and the validator', () => {
  it('produce no finding together with the Postgres chart they point at (except the runtime role selectors)', async () => {
    const { NamespacesChart } = await import('../../charts/namespaces/chart');
    const { validateObjects } = await import('../../tools/validate');
    const app = newApp();
    const { StorageChart } = await import('../../charts/storage/chart');
    const charts = [new NamespacesChart(app, { plan }), new StorageChart(app, { plan }), new PostgresChart(app, { plan }), new PgbouncerChart(app, { plan })];
    const all = charts.flatMap((c) => objectsOf(c)).map((object, index) => ({ file: 'dist/us-east-1/pgbouncer.yaml', index, object, region: 'us-east-1' }));
    const report = validateObjects(all, { schemaDir: undefined });
    const runtimeOnly = (f: { rule: string; object: string }) =>
      f.rule === 'ref-service-selector' && [pg.readWriteService, pg.readOnlyService].some((n) => f.object.endsWith(`/${n}`));
    expect(report.findings.filter((f) => !runtimeOnly(f))).toEqual([]);
  });
});
