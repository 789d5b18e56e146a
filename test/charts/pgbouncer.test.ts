/**
 * The PgBouncer chart: per shard a pooler Deployment (>= 2 replicas, zone spread, PDB),
 * transaction pooling sized from capacity.ts, read-write and read-only databases, SCRAM with
 * credentials by reference, server TLS, exporter, Service. Guards issue #4 item 3.
 */
import { describe, expect, it } from 'vitest';
import { PgbouncerChart, pgbouncerPools, renderPgbouncerIni } from '../../charts/pgbouncer/chart';
import { PostgresChart } from '../../charts/postgres/chart';
import { regionPeers } from '../../charts/wiring/peers';
import { pgbouncerNames, PGBOUNCER_AUTH_KEYS } from '../../charts/pgbouncer/shard';
import { postgresNames } from '../../charts/postgres/names';
import { shardPools } from '../../regions/capacity';
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
    expect(zone).toMatchObject({ maxSkew: 1, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: names.selectorLabels } });
    expect(find(objects, 'PodDisruptionBudget', names.deployment).spec).toMatchObject({ maxUnavailable: 1, selector: { matchLabels: names.selectorLabels } });
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
    // All pods together stay within what Postgres gives PgBouncer.
    expect(shard.pgbouncer.replicas * Number(c.max_db_connections)).toBeLessThanOrEqual(pools.serverBudget);
    // ... and take at least the 2,000 client connections a shard promises.
    expect(shard.pgbouncer.replicas * Number(c.max_client_conn)).toBeGreaterThanOrEqual(2000);
  });

  it('takes a reserve pool out of the same per-pod budget, never on top of it', () => {
    const c = ini(plan, shard, { reservePoolSize: 5 });
    expect(Number(c.default_pool_size) + Number(c.reserve_pool_size)).toBe(pools.poolSizePerReplica);
    expect(Number(c.max_db_connections)).toBe(pools.poolSizePerReplica);
    expect(() => pgbouncerPools(plan, shard, { reservePoolSize: pools.poolSizePerReplica })).toThrow(/reservePoolSize \(129\) must be >= 0 and < the pool size per PgBouncer pod \(129\)/);
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
      auth_query: 'SELECT usename, passwd FROM pgbouncer.get_auth($1)',
      auth_file: '/etc/pgbouncer/auth/userlist.txt',
      server_tls_sslmode: 'verify-full',
      server_tls_ca_file: '/etc/pgbouncer/ca/ca.crt',
    });
    expect(find(objects, 'ConfigMap', names.configMap).data['pgbouncer.ini']).toBe(renderPgbouncerIni(plan, shard));
  });
});

describe('credentials by reference only', () => {
  it('builds userlist.txt and the exporter connection string in the ExternalSecret, from the shard credentials', () => {
    const es = find(objects, 'ExternalSecret', names.authSecret);
    expect(es.spec.secretStoreRef).toEqual({ kind: 'ClusterSecretStore', name: 'bookedbarber-vault' });
    expect(es.spec.target).toMatchObject({ name: names.authSecret, creationPolicy: 'Owner', template: { engineVersion: 'v2', mergePolicy: 'Merge' } });
    expect(es.spec.data.map((d: any) => d.remoteRef.key)).toEqual([pg.remoteKeys.credentials, pg.remoteKeys.credentials]);
    expect(es.spec.target.template.data['userlist.txt']).toBe('"pgbouncer" "{{ .pgbouncer_password }}"\n"pgbouncer_exporter" "{{ .stats_password }}"\n');
    expect(es.spec.target.template.data.exporter_connection_string).toBe('postgres://pgbouncer_exporter:{{ .stats_password | urlquery }}@127.0.0.1:6432/pgbouncer?sslmode=disable');
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
    const charts = [new NamespacesChart(app, { plan }), new PostgresChart(app, { plan }), new PgbouncerChart(app, { plan })];
    const all = charts.flatMap((c) => objectsOf(c)).map((object, index) => ({ file: 'dist/us-east-1/pgbouncer.yaml', index, object, region: 'us-east-1' }));
    const report = validateObjects(all, { schemaDir: undefined });
    const runtimeOnly = (f: { rule: string; object: string }) =>
      f.rule === 'ref-service-selector' && [pg.readWriteService, pg.readOnlyService].some((n) => f.object.endsWith(`/${n}`));
    expect(report.findings.filter((f) => !runtimeOnly(f))).toEqual([]);
  });
});
