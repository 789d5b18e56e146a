/**
 * The wiring check (tools/validate/wiring/): every declared connection walked hop by hop over the
 * rendered YAML. The shipped tree passes in every region; then, per hop, a copy of us-east-1 with
 * exactly that hop broken is caught, on the connection that uses it, with a message naming the
 * object at fault. Guards issue #10.
 */
import { describe, expect, it } from 'vitest';
import { declaredConnections } from '../../charts/wiring/connections';
import type { Connection } from '../../regions/wiring';
import { checkWiring } from '../../tools/validate/wiring';
import { describeObject, type Entry } from '../../tools/validate/types';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { definition } from '../../main';
import { synth } from '../../tools/synth/run';
import { loadPlan } from '../../regions/load';
import { regionPlan, regionsWithPrimary, shippedPlan, type Obj } from '../support/charts';
import { distObjects } from '../support/dist';

const REGION = 'us-east-1';
const shipped = distObjects();
const plans = new Map(shippedPlan().regions.map((p) => [p.region.name, p]));
const declared = (region: string) => (plans.has(region) ? declaredConnections(plans.get(region)!) : undefined);

function entries(objects = shipped.map((d) => d.object), files = shipped): Entry[] {
  return objects.map((obj, i) => ({
    file: `dist/${files[i].folder}/${files[i].file}`, index: i, obj, region: files[i].folder === 'argocd' ? null : files[i].folder, id: describeObject(obj),
  }));
}

/** us-east-1 (and the global folder) with one change applied to a deep copy. */
function broken(mutate: (objects: Obj[]) => void, connections: (region: string) => readonly Connection[] | undefined = declared) {
  const files = shipped.filter((d) => d.folder === REGION || d.folder === 'argocd');
  const objects = files.map((d) => structuredClone(d.object));
  mutate(objects);
  // Objects a test appends land in a file of the region folder.
  const kept = objects.map((o, i) => [o, files[i] ?? { folder: REGION, file: 'added.yaml', object: o }] as const).filter(([o]) => o !== null);
  return checkWiring(entries(kept.map(([o]) => o), kept.map(([, f]) => f)), connections);
}

const one = (objects: Obj[], kind: string, name: string, namespace?: string): Obj => {
  const found = objects.find((o) => o && o.kind === kind && o.metadata.name === name && (!namespace || o.metadata.namespace === namespace));
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
};
const remove = (objects: Obj[], kind: string, name: string, namespace?: string) => {
  objects[objects.indexOf(one(objects, kind, name, namespace))] = null as unknown as Obj;
};
const container = (o: Obj, name: string) => o.spec.template.spec.containers.find((c: any) => c.name === name);
const summary = (r: ReturnType<typeof checkWiring>) => r.findings.map((f) => `${f.rule} ${f.message.split(' (')[0]}`);

describe('the shipped tree', () => {
  it('has no broken link and no allow rule that serves nothing, in any region', () => {
    const result = checkWiring(entries(), declared);
    expect(result.findings).toEqual([]);
  });

  it('walks every connection the issue lists, in every region', () => {
    // Serving regions run the app tier; standby regions only the DR sites and their monitoring.
    const appTier = [
      'ingress-gateway-to-web', 'ingress-gateway-to-api', 'web-to-api',
      'api-to-redis-cache-sentinel', 'api-to-redis-cache-master', 'api-to-redis-rate-limit-sentinel', 'api-to-redis-rate-limit-master',
      'api-to-otel-collector-otlp-http', 'web-to-otel-collector-otlp-http',
      'prometheus-to-api', 'prometheus-to-web', 'argo-rollouts-to-prometheus',
    ];
    const everywhere = ['alertmanager-to-slack', 'alertmanager-to-pagerduty', 'alertmanager-to-smtp', 'alertmanager-cluster-tcp', 'alertmanager-cluster-udp', 'prometheus-to-prometheus', 'grafana-to-prometheus'];
    for (const plan of plans.values()) {
      const names = declaredConnections(plan).map((c) => c.name);
      const region = plan.region.name;
      for (const expected of everywhere) expect(names, `${region}: ${expected}`).toContain(expected);
      if (plan.region.role === 'standby') {
        for (const absent of appTier) expect(names, `${region} (standby) must not declare ${absent}`).not.toContain(absent);
        expect(names.filter((n) => n.startsWith('api-to-') || n.startsWith('remote-api-'))).toEqual([]);
      } else {
        for (const expected of appTier) expect(names, `${region}: ${expected}`).toContain(expected);
        // Every shard of the map, homed here or elsewhere, read-write and read-only.
        expect(plan.shardRoutes.map((r) => r.shard)).toEqual([1, 2, 3, 4]);
        for (const route of plan.shardRoutes) for (const pool of ['rw', 'ro']) expect(names).toContain(`api-to-pgbouncer-shard-${route.shard}-${pool}`);
      }
      // Every site this region runs: its members (WAL archiving and the base-backup sidecar reach
      // object storage from the member pods) and topology Job; the active site is reached by the
      // other regions' APIs and the standby, the standby streams from it.
      for (const hosted of plan.hostedShards) {
        const id = hosted.config.id;
        // The remote-mode backup Job is gone (it failed with the pinned WAL-G on Postgres 15/16).
        for (const gone of [`postgres-shard-${id}-backup-to-postgres`, `postgres-shard-${id}-backup-to-object-storage`]) expect(names).not.toContain(gone);
        for (const expected of [
          `pgbouncer-shard-${id}-to-postgres-rw`, `postgres-shard-${id}-to-kubernetes-api`, `postgres-shard-${id}-to-object-storage`,
          `postgres-shard-${id}-topology-to-patroni`, `prometheus-to-postgres-shard-${id}`,
          ...(hosted.active
            ? [`remote-api-to-pgbouncer-shard-${id}`, `remote-standby-to-postgres-shard-${id}`]
            : [`postgres-shard-${id}-stream-from-active-site`, `postgres-shard-${id}-to-active-site-archive`]),
        ]) expect(names, `${region}: ${expected}`).toContain(expected);
      }
    }
  });

  it('runs each shard\'s home site (active) and DR site (standby) where the region files say', () => {
    const sites = Object.fromEntries([...plans].map(([name, plan]) => [name, plan.hostedShards.map((h) => `${h.config.id} ${h.site} ${h.active ? 'active' : 'standby'}`)]));
    expect(sites).toEqual({
      'us-east-1': ['1 home active', '2 dr standby'],
      'us-west-2': ['1 dr standby', '2 home active'],
      'eu-west-1': ['3 home active'],
      'ap-southeast-1': ['4 home active'],
      'eu-central-1': ['3 dr standby'],
      'ap-southeast-2': ['4 dr standby'],
    });
  });

  it('walks every cross-region path on both sides: the caller\'s region to the active region\'s east-west gateway, and the gateway to the server (issue #11)', () => {
    for (const plan of plans.values()) {
      const connections = declaredConnections(plan);
      expect(connections.filter((c) => c.knownBroken)).toEqual([]);
      for (const route of plan.region.role === 'standby' ? [] : plan.shardRoutes.filter((r) => !r.local)) {
        // Nothing is promoted in the shipped files: writes go to the home region.
        expect(route.activeRegion).toBe(route.homeRegion);
        const c = connections.find((x) => x.name === `api-to-pgbouncer-shard-${route.shard}-rw`)!;
        // The active region's own east-west gateway (its region file), never another region's.
        expect(c.to).toEqual({ kind: 'external', host: `bookedbarber-pgbouncer-shard-${route.shard}.${route.homeRegion}.bookedbarber.global`, port: 6432,
          through: { host: `eastwest.${route.homeRegion}.bookedbarber.internal`, port: 15443 },
          identity: `spiffe://cluster.local/ns/bookedbarber-data/sa/bookedbarber-pgbouncer-shard-${route.shard}` });
      }
      for (const hosted of plan.hostedShards) {
        const id = hosted.config.id;
        if (hosted.active) {
          const inbound = connections.find((x) => x.name === `remote-api-to-pgbouncer-shard-${id}`)!;
          expect(inbound.arrivesThrough?.globalHost).toBe(`bookedbarber-pgbouncer-shard-${id}.${plan.region.name}.bookedbarber.global`);
          const standby = connections.find((x) => x.name === `remote-standby-to-postgres-shard-${id}`)!;
          expect(standby.arrivesThrough?.globalHost).toBe(`bookedbarber-postgres-shard-${id}.${plan.region.name}.bookedbarber.global`);
        } else {
          // The standby leader streams from the home site's global name through the home region's gateway.
          const stream = connections.find((x) => x.name === `postgres-shard-${id}-stream-from-active-site`)!;
          expect(stream.to).toEqual({ kind: 'external', host: `bookedbarber-postgres-shard-${id}.${hosted.homeRegion}.bookedbarber.global`, port: 5432,
            through: { host: `eastwest.${hosted.homeRegion}.bookedbarber.internal`, port: 15443 },
            // The active site's members: the home site's ServiceAccount is the shard's name.
            identity: `spiffe://cluster.local/ns/bookedbarber-data/sa/bookedbarber-postgres-shard-${id}${hosted.peer.site === 'dr' ? '-dr' : ''}` });
          const archive = connections.find((x) => x.name === `postgres-shard-${id}-to-active-site-archive`)!;
          expect(archive.to).toEqual({ kind: 'external', host: `bookedbarber-pitr-${hosted.homeRegion}.s3.${hosted.homeRegion}.amazonaws.com`, port: 443 });
        }
      }
    }
    expect(checkWiring(entries(), declared).notes.filter((n) => n.includes('known broken'))).toEqual([]);
  });

  it('has unique connection names in every region', () => {
    for (const plan of plans.values()) {
      const names = declaredConnections(plan).map((c) => c.name);
      expect(new Set(names).size).toBe(names.length);
    }
  });
});

describe('one broken hop is caught on the connection that uses it', () => {
  const plan = regionPlan(REGION);
  const { data, app, monitoring } = plan.namespaces;

  it('client: the declared client has no rendered pods', () => {
    const r = broken((o) => remove(o, 'Rollout', 'bookedbarber-web'));
    expect(summary(r)).toContain('wiring-client us-east-1 web-to-api');
  });

  it('config: the client is never told the address (web without its OTLP endpoint)', () => {
    const r = broken((o) => {
      const web = container(one(o, 'Rollout', 'bookedbarber-web'), 'web');
      web.env = web.env.filter((e: any) => e.name !== 'OTEL_EXPORTER_OTLP_ENDPOINT');
    });
    expect(summary(r)).toEqual(['wiring-config us-east-1 web-to-otel-collector-otlp-http']);
    expect(r.findings[0].message).toContain('never names otel-collector.bookedbarber-monitoring.svc.cluster.local');
  });

  it('an ExternalSecret reading through a store the region does not render is a broken credentials hop (its Secret is never written)', () => {
    const r = broken((o) => { one(o, 'ExternalSecret', 'bookedbarber-api-database').spec.secretStoreRef.name = 'bookedbarber-vualt'; });
    expect(r.findings.length).toBeGreaterThan(0);
    expect(r.findings[0].message).toContain('reads through ClusterSecretStore bookedbarber-vualt, which is not rendered (the cluster\'s store: bookedbarber-vault)');
    expect(r.findings[0].hint).toBe('set secretStoreRef.name to bookedbarber-vault');
  });

  it('name resolution: a Service whose selector matches no pod has no endpoints', () => {
    const r = broken((o) => { one(o, 'Service', 'bookedbarber-pgbouncer-shard-1').spec.selector['app.kubernetes.io/name'] = 'pgbouncr'; });
    expect(summary(r)).toEqual(['wiring-resolve us-east-1 api-to-pgbouncer-shard-1-rw', 'wiring-resolve us-east-1 api-to-pgbouncer-shard-1-ro', 'wiring-resolve us-east-1 remote-api-to-pgbouncer-shard-1']);
    expect(r.findings[0].message).toContain('which no rendered pod carries: it has no endpoints');
    expect(r.findings[0].object).toBe(`Service ${data}/bookedbarber-pgbouncer-shard-1`);
  });

  it('name resolution: a Service without the port the client dials', () => {
    const r = broken((o) => { one(o, 'Service', 'bookedbarber-jaeger-collector').spec.ports = one(o, 'Service', 'bookedbarber-jaeger-collector').spec.ports.filter((p: any) => p.port !== 4317); });
    expect(summary(r)).toEqual(['wiring-resolve us-east-1 otel-sampler-to-jaeger']);
    expect(r.findings[0].message).toMatch(/has no TCP port 4317/);
  });

  it('client Sidecar: REGISTRY_ONLY without the Kubernetes API host leaves Patroni without a leader lock', () => {
    const r = broken((o) => {
      const sidecar = one(o, 'Sidecar', 'default', data);
      sidecar.spec.egress[0].hosts = sidecar.spec.egress[0].hosts.filter((h: string) => !h.startsWith('default/'));
    });
    // us-east-1 runs shard 1's home site and shard 2's DR site: both Patroni clusters lose their lock.
    expect(summary(r)).toEqual(['wiring-sidecar us-east-1 postgres-shard-1-to-kubernetes-api', 'wiring-sidecar us-east-1 postgres-shard-2-to-kubernetes-api']);
    expect(r.findings[0].message).toContain(`Sidecar ${data}/default is REGISTRY_ONLY and its egress hosts`);
    expect(r.findings[0].hint).toBe('add default/kubernetes.default.svc.cluster.local to its egress hosts');
  });

  it('client Sidecar: an outside host without a ServiceEntry (WAL-G to object storage)', () => {
    const r = broken((o) => remove(o, 'ServiceEntry', 'external-hosts-443', data));
    // Shard 2's DR site loses its own archive and the active site's (us-west-2) archive fallback too.
    expect(summary(r)).toEqual([
      'wiring-sidecar us-east-1 postgres-shard-1-to-object-storage',
      'wiring-sidecar us-east-1 postgres-shard-2-to-object-storage',
      'wiring-sidecar us-east-1 postgres-shard-2-to-active-site-archive',
    ]);
    expect(r.findings[0].message).toContain('no ServiceEntry visible from bookedbarber-data declares bookedbarber-pitr-us-east-1.s3.us-east-1.amazonaws.com:443');
  });

  it('client config: WAL-G without the regional endpoint (us-east-1 would use the global one)', () => {
    const r = broken((o) => {
      // Both WAL-G users of the pod (archive_command and the base-backup sidecar) share the setting.
      for (const name of ['postgres', 'base-backup']) {
        const c = container(one(o, 'StatefulSet', 'bookedbarber-postgres-shard-1'), name);
        c.env = c.env.filter((e: any) => e.name !== 'AWS_ENDPOINT');
      }
    });
    expect(summary(r)).toEqual(['wiring-config us-east-1 postgres-shard-1-to-object-storage']);
    expect(r.findings[0].message).toContain('never names https://s3.us-east-1.amazonaws.com');
  });

  it('credentials: the base-backup sidecar without the object-storage key WAL-G reads', () => {
    const r = broken((o) => {
      const sidecar = container(one(o, 'StatefulSet', 'bookedbarber-postgres-shard-1'), 'base-backup');
      sidecar.env = sidecar.env.filter((e: any) => e.name !== 'AWS_SECRET_ACCESS_KEY');
    });
    expect(summary(r)).toEqual(['wiring-credentials us-east-1 postgres-shard-1-to-object-storage']);
    expect(r.findings[0].message).toContain('container "base-backup" has no env AWS_SECRET_ACCESS_KEY');
  });

  it('client Sidecar: pod-IP traffic on an HTTP port of a headless Service (Patroni members, named http-patroni)', () => {
    const r = broken((o) => {
      const port = one(o, 'Service', 'bookedbarber-postgres-shard-1-members').spec.ports.find((p: any) => p.port === 8008);
      Object.assign(port, { name: 'http-patroni', appProtocol: 'http' });
    });
    expect(summary(r)).toEqual(['wiring-sidecar us-east-1 postgres-shard-1-patroni-api']);
    expect(r.findings[0].message).toContain('a pod IP matches no virtual host');
  });

  it('client Sidecar: gRPC to a headless Service without the Service name as :authority (collector → sampler)', () => {
    const r = broken((o) => { delete one(o, 'OpenTelemetryCollector', 'otel').spec.config.exporters.loadbalancing.protocol.otlp.authority; });
    expect(summary(r)).toEqual(['wiring-sidecar us-east-1 otel-collector-to-otel-sampler']);
    expect(r.findings[0].hint).toContain('send authority otel-sampler-collector-headless.bookedbarber-monitoring.svc.cluster.local');
  });

  it('client NetworkPolicy: egress not admitted', () => {
    const r = broken((o) => remove(o, 'NetworkPolicy', 'allow-api-to-pgbouncer-shard-1-egress', app));
    expect(summary(r)).toEqual(['wiring-egress us-east-1 api-to-pgbouncer-shard-1-rw', 'wiring-egress us-east-1 api-to-pgbouncer-shard-1-ro']);
  });

  it('client NetworkPolicy: Alertmanager gossip over UDP needs its own port entry', () => {
    const r = broken((o) => {
      const np = one(o, 'NetworkPolicy', 'allow-alertmanager-to-alertmanager-egress', monitoring);
      np.spec.egress[0].ports = np.spec.egress[0].ports.filter((p: any) => p.protocol !== 'UDP');
    });
    expect(summary(r)).toEqual(['wiring-egress us-east-1 alertmanager-cluster-udp']);
  });

  it('server NetworkPolicy: ingress not admitted (and its twin egress rule then carries nothing it could complete)', () => {
    const r = broken((o) => remove(o, 'NetworkPolicy', 'allow-web-to-api-ingress', app));
    expect(summary(r)).toEqual(['wiring-ingress us-east-1 web-to-api']);
    expect(r.findings[0].object).toBe(`Rollout ${app}/bookedbarber-api`);
  });

  it('mTLS: a caller without a sidecar against STRICT', () => {
    const r = broken((o) => { one(o, 'Rollout', 'bookedbarber-web').spec.template.metadata.annotations['sidecar.istio.io/inject'] = 'false'; });
    expect(summary(r)).toContain('wiring-mtls us-east-1 web-to-api');
    expect(r.findings.find((f) => f.rule === 'wiring-mtls' && f.message.includes('web-to-api'))!.message).toContain('requires mTLS on port 8080');
    // The gateway's DestinationRule for web insists on Istio mTLS, which a pod without a sidecar cannot terminate.
    expect(summary(r)).toContain('wiring-mtls us-east-1 ingress-gateway-to-web');
  });

  it('mTLS: a DestinationRule that turns Istio\'s mTLS off towards a STRICT server', () => {
    const r = broken((o) => { one(o, 'DestinationRule', 'bookedbarber-api').spec.trafficPolicy.tls = { mode: 'DISABLE' }; });
    expect(summary(r)).toEqual(['wiring-mtls us-east-1 ingress-gateway-to-api', 'wiring-mtls us-east-1 web-to-api']);
  });

  it('AuthorizationPolicy: the ALLOW names another identity', () => {
    const r = broken((o) => { one(o, 'AuthorizationPolicy', 'allow-web-to-api', app).spec.rules[0].from[0].source.principals = [`cluster.local/ns/${app}/sa/someone-else`]; });
    expect(summary(r)).toEqual(['wiring-authz us-east-1 web-to-api', `wiring-unused-allow us-east-1: this ALLOW rule matches none of the declared connections`]);
    expect(r.findings[0].message).toContain(`for principal cluster.local/ns/${app}/sa/bookedbarber-web on port 8080`);
  });

  it('AuthorizationPolicy: DENY wins over ALLOW', () => {
    const r = broken((o) => {
      o.push({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'deny-web', namespace: app }, spec: { action: 'DENY', selector: { matchLabels: { 'app.kubernetes.io/name': 'api' } }, rules: [{ from: [{ source: { namespaces: [app] } }] }] } } as Obj);
    });
    // Every caller from the app namespace: the web front end and the canary's load test.
    expect(summary(r)).toEqual(['wiring-authz us-east-1 web-to-api', 'wiring-authz us-east-1 api-load-test-to-api-canary']);
    expect(r.findings[0].message).toContain(`AuthorizationPolicy ${app}/deny-web (DENY) matches`);
  });

  it('credentials: the client reads no password (env removed)', () => {
    const r = broken((o) => {
      const api = container(one(o, 'Rollout', 'bookedbarber-api'), 'api');
      api.env = api.env.filter((e: any) => e.name !== 'REDIS_CACHE_PASSWORD');
    });
    expect(summary(r)).toEqual(['wiring-credentials us-east-1 api-to-redis-cache-sentinel', 'wiring-credentials us-east-1 api-to-redis-cache-master']);
    expect(r.findings[0].message).toContain('has no env REDIS_CACHE_PASSWORD from secretKeyRef bookedbarber-redis-cache-client-auth/password');
  });

  it('credentials: the Secret the client mounts is produced by nothing in its namespace', () => {
    const r = broken((o) => remove(o, 'ExternalSecret', 'bookedbarber-api-database', app));
    expect(summary(r)).toEqual([1, 2, 3, 4].flatMap((id) => [`wiring-credentials us-east-1 api-to-pgbouncer-shard-${id}-rw`, `wiring-credentials us-east-1 api-to-pgbouncer-shard-${id}-ro`]));
    expect(r.findings[0].message).toContain(`nothing renders Secret ${app}/bookedbarber-api-database`);
  });

  it('credentials: the Kubernetes API refuses pods without a token (Patroni\'s is a projected token in its own container)', () => {
    const postgres = (o: any[]) => one(o, 'StatefulSet', 'bookedbarber-postgres-shard-1').spec.template.spec;
    // Not mounted where in-cluster clients read it ...
    const moved = broken((o) => {
      const mount = postgres(o).containers.find((c: any) => c.name === 'postgres').volumeMounts.find((m: any) => m.name === 'kube-api-access');
      mount.mountPath = '/var/run/secrets/token';
    });
    expect(summary(moved)).toEqual(['wiring-credentials us-east-1 postgres-shard-1-to-kubernetes-api']);
    expect(moved.findings[0].hint).toContain('mount a projected volume at /var/run/secrets/kubernetes.io/serviceaccount in container postgres, with a serviceAccountToken (path: token, no audience) and kube-root-ca.crt\'s ca.crt');
    // ... or a projected volume without a token, without the cluster CA, or for another audience.
    const volume = (o: any[]) => postgres(o).volumes.find((v: any) => v.name === 'kube-api-access');
    for (const [what, edit] of [
      ['no token', (o: any[]) => { volume(o).projected.sources = volume(o).projected.sources.filter((s: any) => !s.serviceAccountToken); }],
      ['no CA', (o: any[]) => { volume(o).projected.sources = volume(o).projected.sources.filter((s: any) => !s.configMap); }],
      ['another audience', (o: any[]) => { volume(o).projected.sources[0].serviceAccountToken.audience = 'vault'; }],
      // The token in the exporter (reached over the network) and not in Patroni's container.
      ['another container', (o: any[]) => {
        const [pg, exporter] = postgres(o).containers;
        exporter.volumeMounts = [...(exporter.volumeMounts ?? []), pg.volumeMounts.find((m: any) => m.name === 'kube-api-access')];
        pg.volumeMounts = pg.volumeMounts.filter((m: any) => m.name !== 'kube-api-access');
      }],
    ] as const) {
      expect(summary(broken(edit)), what).toEqual(['wiring-credentials us-east-1 postgres-shard-1-to-kubernetes-api']);
    }
    // A pod that leaves the field unset takes its ServiceAccount's, which mounts nothing here.
    const unset = broken((o) => {
      const spec = postgres(o);
      delete spec.automountServiceAccountToken;
      spec.containers[0].volumeMounts = spec.containers[0].volumeMounts.filter((m: any) => m.name !== 'kube-api-access');
    });
    expect(summary(unset)).toEqual(['wiring-credentials us-east-1 postgres-shard-1-to-kubernetes-api']);
    expect(unset.findings[0].message).toContain('ServiceAccount bookedbarber-postgres-shard-1 does not mount its token into pods');
  });

  it('Gateway TLS: the certificate must be where the gateway workload runs, not where the Gateway is', () => {
    const r = broken((o) => {
      const es = one(o, 'ExternalSecret', 'bookedbarber-public-tls', 'istio-ingress');
      es.metadata.namespace = app;
    });
    expect(summary(r)).toEqual(['wiring-gateway-tls us-east-1: the gateway workload runs in istio-ingress, and nothing renders its TLS Secret istio-ingress/bookedbarber-public-tls']);
    expect(r.findings[0].path).toBe('spec.servers[0].tls.credentialName');
  });

  it('reverse: an allow rule that serves no declared connection is an error (least privilege)', () => {
    const r = broken((o) => {
      o.push({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'allow-web-to-pgbouncer-ingress', namespace: data },
        spec: { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'pgbouncer' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': app } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'web' } } }], ports: [{ protocol: 'TCP', port: 6432 }] }] } } as Obj);
    });
    expect(r.findings.map((f) => `${f.rule} ${f.object} ${f.path}`)).toEqual([`wiring-unused-allow NetworkPolicy ${data}/allow-web-to-pgbouncer-ingress spec.ingress[0]`]);
  });

  it('reverse: an AuthorizationPolicy for a caller without a sidecar can never match', () => {
    const r = broken((o) => {
      o.push({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'allow-prometheus-to-api', namespace: app },
        spec: { action: 'ALLOW', selector: { matchLabels: { 'app.kubernetes.io/name': 'api' } }, rules: [{ from: [{ source: { principals: [`cluster.local/ns/${monitoring}/sa/prometheus`] } }], to: [{ operation: { ports: ['9464'] } }] }] } } as Obj);
    });
    expect(r.findings.map((f) => `${f.rule} ${f.object}`)).toEqual([`wiring-unused-allow AuthorizationPolicy ${app}/allow-prometheus-to-api`]);
  });

  it('cross-region, caller side: no ISTIO_MUTUAL for another region\'s host (the far gateway routes by the SNI of Istio mTLS)', () => {
    const r = broken((o) => remove(o, 'DestinationRule', 'bookedbarber-pgbouncer-shard-3-eu-west-1', app));
    expect(summary(r)).toEqual(['wiring-mtls us-east-1 api-to-pgbouncer-shard-3-rw', 'wiring-mtls us-east-1 api-to-pgbouncer-shard-3-ro']);
    expect(r.findings[0].message).toContain('no DestinationRule sets ISTIO_MUTUAL for bookedbarber-pgbouncer-shard-3.eu-west-1.bookedbarber.global');
  });

  it('cross-region, caller side: the client must name the one server identity it accepts (subjectAltNames), and the right one', () => {
    const entry = (o: Obj[]) => one(o, 'ServiceEntry', 'bookedbarber-pgbouncer-shard-3-eu-west-1', app);
    const none = broken((o) => { delete entry(o).spec.subjectAltNames; });
    expect(summary(none)).toEqual(['wiring-mtls us-east-1 api-to-pgbouncer-shard-3-rw', 'wiring-mtls us-east-1 api-to-pgbouncer-shard-3-ro']);
    expect(none.findings[0].message).toContain('names no subjectAltNames');
    expect(none.findings[0].hint).toBe('set subjectAltNames: [spiffe://cluster.local/ns/bookedbarber-data/sa/bookedbarber-pgbouncer-shard-3] on the ServiceEntry');
    // A declaration without the identity cannot be judged: that is a finding too.
    const undeclared = broken(() => {}, (region) => declared(region)?.map((c) => (c.to.kind === 'external' && c.to.identity ? { ...c, to: { ...c.to, identity: undefined } } : c)));
    expect(undeclared.findings.filter((f) => f.rule === 'wiring-mtls').length).toBeGreaterThan(0);
    expect(undeclared.findings.every((f) => f.rule === 'wiring-mtls' && f.message.includes('names no identity'))).toBe(true);
    const wrong = broken((o) => { entry(o).spec.subjectAltNames = ['spiffe://cluster.local/ns/bookedbarber-data/sa/bookedbarber-pgbouncer-shard-2']; });
    expect(summary(wrong)).toEqual(['wiring-mtls us-east-1 api-to-pgbouncer-shard-3-rw', 'wiring-mtls us-east-1 api-to-pgbouncer-shard-3-ro']);
    expect(wrong.findings[0].message).toContain('which the client does not accept');
  });

  it('cross-region, caller side: the NetworkPolicy must open the gateway\'s port 15443, not the service port', () => {
    const r = broken((o) => { one(o, 'NetworkPolicy', 'allow-api-external-egress', app).spec.egress[0].ports = [{ protocol: 'TCP', port: 6432 }]; });
    expect(summary(r)).toContain('wiring-egress us-east-1 api-to-pgbouncer-shard-2-rw');
    expect(r.findings.find((f) => f.rule === 'wiring-egress')!.hint).toContain('TCP 15443');
  });

  it('cross-region, home side: the east-west gateway must pass the host through', () => {
    const r = broken((o) => { one(o, 'Gateway', 'cross-network-gateway', 'istio-system').spec.servers[0].hosts = ['bookedbarber-redis-sessions-proxy.us-east-1.bookedbarber.global']; });
    // Both hosts of the active shard-1 site: the remote APIs' PgBouncer and the DR site's WAL stream.
    expect(summary(r)).toEqual(['wiring-gateway us-east-1 remote-api-to-pgbouncer-shard-1', 'wiring-gateway us-east-1 remote-standby-to-postgres-shard-1']);
    expect(r.findings[0].message).toContain('passes bookedbarber-pgbouncer-shard-1.us-east-1.bookedbarber.global through');
    expect(r.findings[1].message).toContain('passes bookedbarber-postgres-shard-1.us-east-1.bookedbarber.global through');
  });

  it('cross-region, home side: the global name must be exported to the gateway and lead to the Service', () => {
    const r = broken((o) => { one(o, 'ServiceEntry', 'bookedbarber-pgbouncer-shard-1-global', data).spec.exportTo = ['.']; });
    expect(summary(r)).toEqual(['wiring-gateway us-east-1 remote-api-to-pgbouncer-shard-1']);
    expect(r.findings[0].message).toContain('no ServiceEntry visible to the east-west gateway (istio-system)');
  });

  it('cross-region, home side: the exported endpoint must be marked as speaking Istio mTLS, or the gateway drops it', () => {
    const r = broken((o) => { delete one(o, 'ServiceEntry', 'bookedbarber-pgbouncer-shard-1-global', data).spec.endpoints[0].labels; });
    expect(summary(r)).toEqual(['wiring-gateway us-east-1 remote-api-to-pgbouncer-shard-1']);
    expect(r.findings[0].hint).toBe('label the endpoint security.istio.io/tlsMode: istio');
  });

  it('cross-region, home side: the server admits the east-west gateway\'s pods, not the remote caller\'s', () => {
    const r = broken((o) => remove(o, 'NetworkPolicy', 'allow-remote-api-to-pgbouncer-shard-1-ingress', data));
    expect(summary(r)).toEqual(['wiring-ingress us-east-1 remote-api-to-pgbouncer-shard-1']);
    expect(r.findings[0].message).toContain('none admits istio-system pods app=istio-eastwestgateway,istio=eastwestgateway on TCP 6432');
  });

  it('a connection marked known broken that works is an error: the mark must go', () => {
    const r = broken(() => undefined, (region) => declared(region)?.map((c) => (c.name === 'web-to-api' ? { ...c, knownBroken: 'test' } : c)));
    expect(summary(r)).toEqual(['wiring-known-broken us-east-1 web-to-api']);
  });
});

describe('the session store promoted to another region (issue 11, item 5)', () => {
  const regionsDir = regionsWithPrimary('us-west-2');
  const promoted = new Map(loadPlan(regionsDir).regions.map((p) => [p.region.name, p]));

  it('declares the sessions paths towards the new primary in every region', () => {
    const names = (region: string) => declaredConnections(promoted.get(region)!).map((c) => c.name);
    expect(names('us-west-2')).toEqual(expect.arrayContaining([
      'api-to-redis-sessions-sentinel', 'remote-api-to-redis-sessions-proxy', 'remote-redis-sessions-to-proxy', 'redis-sessions-proxy-to-servers',
    ]));
    for (const region of ['us-east-1', 'eu-west-1', 'ap-southeast-1']) {
      const connections = declaredConnections(promoted.get(region)!);
      const replicate = connections.find((c) => c.name === 'redis-sessions-replicate-primary')!;
      expect(replicate.to).toEqual({
        kind: 'external', host: 'bookedbarber-redis-sessions-proxy.us-west-2.bookedbarber.global', port: 6380,
        through: { host: promoted.get('us-west-2')!.region.eastWestGateway, port: 15443 },
        identity: 'spiffe://cluster.local/ns/bookedbarber-data/sa/bookedbarber-redis',
      });
      expect(connections.map((c) => c.name)).not.toContain('remote-api-to-redis-sessions-proxy');
    }
  });

  it('renders a tree that passes validation and the wiring check with no finding (synth throws on any)', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bb-promoted-dist-'));
    try {
      expect(() => synth(definition, { regionsDir, distDir: out })).not.toThrow();
      const west = fs.readFileSync(path.join(out, 'us-west-2', 'redis.yaml'), 'utf8');
      expect(west).toContain('name: bookedbarber-redis-sessions-sentinel');
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  }, 60000);
});
