/**
 * The Postgres chart: Patroni StatefulSet per shard, Services by role, RBAC, configuration
 * rendered from capacity.ts, WAL archiving and base backups, credentials by reference.
 * Guards issue #4 items 1 and 2. (The same files on a real server: test/real-servers.)
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Chart } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { PostgresChart, renderPgHba, renderPostgresqlConf } from '../../charts/postgres/chart';
import { CredentialsFromStore } from '../../charts/lib/external-secret';
import { regionLabels } from '../../charts/lib/metadata';
import { patroniManagedParameters, postgresParameters } from '../../charts/postgres/conf';
import { BASE_BACKUP_CONTAINER, checkBackupSchedule, renderBaseBackupScript } from '../../charts/postgres/backup';
import { renderArchiveWalScript } from '../../charts/postgres/archive';
import { PATRONI_LABELS, POSTGRES_PORTS, POSTGRES_USERS, postgresNames } from '../../charts/postgres/names';
import { checkPatroniTiming, DEFAULT_PATRONI_TIMING, failoverWorstCase, patroniConfig, switchoverWorstCase } from '../../charts/postgres/patroni';
import { postgresShutdownGraceSeconds, RUNTIME_SELECTOR_ANNOTATION } from '../../charts/postgres/shard';
import { postgresSettings } from '../../regions/capacity';
import type { RegionPlan } from '../../regions/plan';
import { find, newApp, objectsOf, regionPlan, shippedPlan } from '../support/charts';

const plan = regionPlan('us-east-1');
const shard = plan.region.shards[0];
const names = postgresNames(plan, shard.id);
const render = (p: RegionPlan = plan, props: Partial<ConstructorParameters<typeof PostgresChart>[1]> = {}) => objectsOf(new PostgresChart(newApp(), { plan: p, ...props }));
const objects = render();
const sts = find(objects, 'StatefulSet', names.statefulSet, plan.namespaces.data);
const podSpec = sts.spec.template.spec;
const container = (name: string) => podSpec.containers.find((c: any) => c.name === name);
const conf = (p = plan) => Object.fromEntries(
  renderPostgresqlConf(p, p.region.shards[0]).split('\n').filter((l) => /^\w+ = /.test(l)).map((l) => {
    const [k, ...v] = l.split(' = ');
    return [k, v.join(' = ').replace(/^'(.*)'$/, '$1')];
  }),
);
const withGlobal = (mutate: (g: any) => void): RegionPlan => {
  const global = structuredClone(plan.global) as any;
  mutate(global);
  return { ...plan, global };
};

describe('Postgres shard: one Patroni StatefulSet of 1 primary + readReplicas', () => {
  it('renders one StatefulSet per shard site hosted in the region: 1 + readReplicas members at home, disasterRecovery.members at a DR site', () => {
    for (const region of shippedPlan().regions) {
      const sets = render(region).filter((o) => o.kind === 'StatefulSet');
      expect(region.hostedShards.length, region.region.name).toBeGreaterThan(0);
      expect(sets.map((s) => s.metadata.name)).toEqual(region.hostedShards.map((h) => postgresNames(region, h.config.id).statefulSet));
      region.hostedShards.forEach((h, i) => {
        expect(sets[i].spec.replicas).toBe(h.site === 'home' ? 1 + h.config.readReplicas : h.config.disasterRecovery.members);
      });
    }
    expect(sts.spec.replicas).toBe(4);
    // us-east-1 runs shard 1 at home and shard 2's DR site (named -dr); a standby region DR sites only.
    expect(render().filter((o) => o.kind === 'StatefulSet').map((s) => `${s.metadata.name} ${s.spec.replicas}`)).toEqual([
      'bookedbarber-postgres-shard-1 4',
      'bookedbarber-postgres-shard-2-dr 2',
    ]);
    expect(render(regionPlan('eu-central-1')).filter((o) => o.kind === 'StatefulSet').map((s) => s.metadata.name)).toEqual(['bookedbarber-postgres-shard-3-dr']);
  });

  it('gives every member a volume of the configured class and size', () => {
    const [claim] = sts.spec.volumeClaimTemplates;
    expect(claim.spec).toMatchObject({ accessModes: ['ReadWriteOnce'], storageClassName: shard.storage.className, resources: { requests: { storage: shard.storage.size } } });
    expect(container('postgres').volumeMounts).toContainEqual({ name: claim.metadata.name, mountPath: '/home/postgres/pgdata' });
  });

  it('spreads members over zones and never puts two on one node', () => {
    const zone = podSpec.topologySpreadConstraints.find((c: any) => c.topologyKey === 'topology.kubernetes.io/zone');
    expect(zone).toMatchObject({ maxSkew: 1, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: names.selectorLabels } });
    const anti = podSpec.affinity.podAntiAffinity;
    expect(anti.requiredDuringSchedulingIgnoredDuringExecution).toEqual([{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: names.selectorLabels } }]);
    expect(anti.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey).toBe('topology.kubernetes.io/zone');
    const pdb = find(objects, 'PodDisruptionBudget', names.statefulSet);
    expect(pdb.spec).toMatchObject({ maxUnavailable: 1, selector: { matchLabels: names.selectorLabels } });
  });

  it('selects the primary for read-write, the replicas for read-only, every member for the headless Service', () => {
    const rw = find(objects, 'Service', names.readWriteService);
    const ro = find(objects, 'Service', names.readOnlyService);
    const headless = find(objects, 'Service', names.headlessService);
    expect(rw.spec.selector).toEqual({ ...names.selectorLabels, [PATRONI_LABELS.role]: PATRONI_LABELS.leader });
    expect(ro.spec.selector).toEqual({ ...names.selectorLabels, [PATRONI_LABELS.role]: PATRONI_LABELS.follower });
    expect(headless.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true, selector: names.selectorLabels });
    expect(sts.spec.serviceName).toBe(names.headlessService);
    // Patroni writes exactly these role values (its config says so).
    const k8sConfig = patroniConfig(plan, shard).kubernetes as Record<string, unknown>;
    expect(k8sConfig).toMatchObject({ role_label: PATRONI_LABELS.role, leader_label_value: 'master', follower_label_value: 'replica', use_endpoints: false });
    const postgresPort = { name: 'tcp-postgres', port: 5432, targetPort: 5432, protocol: 'TCP', appProtocol: 'tcp' };
    for (const svc of [rw, ro]) expect(svc.metadata.annotations).toMatchObject(RUNTIME_SELECTOR_ANNOTATION);
    // The leader's Service also serves Patroni's REST API: the topology Job sets the site's role
    // (active or standby) through it. The replicas' Service serves Postgres only.
    expect(rw.spec.ports).toEqual([postgresPort, { name: 'tcp-patroni', port: 8008, targetPort: 8008, protocol: 'TCP', appProtocol: 'tcp' }]);
    expect(ro.spec.ports).toEqual([postgresPort]);
    // Apart from the runtime role label, the selectors are the pods' labels.
    expect(sts.spec.template.metadata.labels).toMatchObject(names.selectorLabels);
  });

  it('runs a pinned, hardened postgres_exporter sidecar with its own probes and the exporter password by reference', () => {
    const exporter = container('exporter');
    expect(exporter.image).toMatch(/^quay\.io\/prometheuscommunity\/postgres-exporter:v\d+\.\d+\.\d+$/);
    expect(exporter.resources.limits.memory).toBeDefined();
    expect(exporter.livenessProbe.tcpSocket.port).toBe(9187);
    expect(exporter.readinessProbe.tcpSocket.port).toBe(9187);
    expect(exporter.securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
    expect(exporter.env.find((e: any) => e.name === 'DATA_SOURCE_PASS').valueFrom.secretKeyRef.name).toBe(names.credentialsSecret);
  });
});

describe('postgresql.conf / pg_hba.conf / patroni.yml, rendered from the config', () => {
  const settings = postgresSettings(plan.global);

  it('takes max_connections and memory from capacity.ts', () => {
    const c = conf();
    expect(Number(c.max_connections)).toBe(settings.maxConnections);
    expect(c.shared_buffers).toBe(`${settings.sharedBuffersMb}MB`);
    expect(c.effective_cache_size).toBe(`${settings.effectiveCacheSizeMb}MB`);
    expect(c.work_mem).toBe(`${settings.workMemMb}MB`);
    expect(c.maintenance_work_mem).toBe(`${settings.maintenanceWorkMemMb}MB`);
    // A bigger pod gets more connections, from the same function.
    const bigger = withGlobal((g) => (g.postgres.resources.limits.memory = '32Gi'));
    expect(Number(conf(bigger).max_connections)).toBe(postgresSettings(bigger.global).maxConnections);
    expect(Number(conf(bigger).max_connections)).toBeGreaterThan(settings.maxConnections);
  });

  it('archives WAL through WAL-G at least every archive_timeout, which is within the RPO', () => {
    const c = conf();
    expect(c).toMatchObject({ wal_level: 'replica', archive_mode: 'always', hot_standby: 'on', archive_command: '/etc/patroni/archive-wal.sh "%p"', restore_command: 'wal-g wal-fetch "%f" "%p"' });
    expect(Number(c.archive_timeout)).toBe(plan.global.postgres.archiveTimeoutSeconds);
    expect(Number(c.archive_timeout)).toBeLessThanOrEqual(plan.global.postgres.rpoSeconds);
  });

  it('ships archive.ts\'s script for Patroni\'s REST port to every member, with WAL-G refusing to overwrite other bytes (what the script does: test/real-servers/postgres-archive.test.ts)', () => {
    // One pod template for primary and replicas: the script ships with it, and WAL-G compares a
    // segment already archived instead of uploading it again (equal content succeeds).
    const env = Object.fromEntries(container('postgres').env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
    expect(env.WALG_PREVENT_WAL_OVERWRITE).toBe('true');
    const files = find(objects, 'ConfigMap', names.configMap, plan.namespaces.data);
    expect(files.data['archive-wal.sh']).toBe(renderArchiveWalScript(POSTGRES_PORTS.patroni.port));
  });

  it('gives a stopping member time for its shutdown checkpoint and the lock hand-over, growing with shared_buffers', () => {
    // 16Gi of memory: 4096MB of shared_buffers, written at gp3's 125 MB/s twice over, plus 15 s.
    expect(podSpec.terminationGracePeriodSeconds).toBe(81);
    // The sidecar outlives Patroni's last call to the API server.
    expect(JSON.parse(sts.spec.template.metadata.annotations['proxy.istio.io/config']).terminationDrainDuration).toBe('76s');
    const bigger = withGlobal((g) => {
      g.postgres.resources.requests.memory = '48Gi';
      g.postgres.resources.limits.memory = '48Gi';
    });
    const big = find(render(bigger), 'StatefulSet', names.statefulSet, plan.namespaces.data);
    // 48Gi: 12288MB of shared_buffers, 2 x 12288 / 125 = 196.6 -> 197 s, plus 15.
    expect(big.spec.template.spec.terminationGracePeriodSeconds).toBe(212);
    expect(postgresShutdownGraceSeconds(100)).toBe(60);
  });

  it('turns TLS and SCRAM on, with the certificate from the mounted Secret', () => {
    const c = conf();
    expect(c).toMatchObject({ ssl: 'on', password_encryption: 'scram-sha-256', ssl_cert_file: '/etc/postgresql/tls/tls.crt', ssl_key_file: '/etc/postgresql/tls/tls.key', ssl_ca_file: '/etc/postgresql/tls/ca.crt' });
    const tlsVolume = podSpec.volumes.find((v: any) => v.name === 'tls');
    expect(tlsVolume.secret).toMatchObject({ secretName: names.tlsSecret, defaultMode: 0o640 });
    expect(container('postgres').volumeMounts).toContainEqual({ name: 'tls', mountPath: '/etc/postgresql/tls', readOnly: true });
  });

  it('pg_hba.conf: TLS + SCRAM from the mesh only, for the users that need it, and rejects the rest', () => {
    const lines = renderPgHba(plan, shard).split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/\s+/));
    const network = lines.filter(([type]) => type.startsWith('host'));
    const allowed = network.filter((l) => l[l.length - 1] !== 'reject');
    expect(allowed.every(([type, , , addr, method]) => type === 'hostssl' && method === 'scram-sha-256' && ['127.0.0.6/32', '::6/128'].includes(addr))).toBe(true);
    const u = POSTGRES_USERS;
    expect(new Set(allowed.map(([, db, user]) => `${db}/${user}`))).toEqual(
      new Set(['replication/standby', 'postgres/rewind', 'bookings/pgbouncer', `bookings/${u.api}`]),
    );
    expect(lines.slice(-3)).toEqual([['local', 'all', 'all', 'reject'], ['host', 'all', 'all', '0.0.0.0/0', 'reject'], ['host', 'all', 'all', '::/0', 'reject']]);
    expect(renderPgHba(plan, shard)).not.toMatch(/\b(trust|md5|password|ident)\s*$/m);
  });

  it('patroni.yml agrees with postgresql.conf on every parameter Patroni manages', () => {
    const cfg = patroniConfig(plan, shard) as any;
    const rendered = postgresParameters(plan, shard);
    for (const [k, v] of Object.entries(cfg.bootstrap.dcs.postgresql.parameters)) expect([k, rendered[k]]).toEqual([k, v]);
    expect(Object.keys(cfg.bootstrap.dcs.postgresql.parameters).sort()).toEqual(Object.keys(patroniManagedParameters(plan, shard)).sort());
    expect(cfg.postgresql.parameters).toEqual({ unix_socket_directories: rendered.unix_socket_directories, hba_file: rendered.hba_file });
    expect(cfg.postgresql.recovery_conf.restore_command).toBe(rendered.restore_command);
    expect(cfg.postgresql.custom_conf).toBe('/etc/patroni/postgresql.conf');
    expect(cfg.postgresql.listen).toBe(`*:${rendered.port}`);
    const files = find(objects, 'ConfigMap', names.configMap).data;
    expect(JSON.parse(files['patroni.yml'].replace(/^#.*\n/, ''))).toEqual(cfg);
    // No secret in any of the files: passwords are PATRONI_* / bootstrap environment variables.
    expect(files['bootstrap.sql']).not.toMatch(/PASSWORD\s+'/i);
    expect(files['bootstrap.sql']).toMatch(/PASSWORD :'api_password'/);
    expect(files['patroni.yml']).not.toMatch(/"password"/i);
  });
});

describe('automatic failover within the RTO', () => {
  it('the worst case of the shipped Patroni timing stays within global.postgres.rtoSeconds', () => {
    const t = DEFAULT_PATRONI_TIMING;
    const worst = failoverWorstCase(t);
    // Lost primary: ttl + loop_wait + retry_timeout + promotion + endpoints = 30+10+10+30+15.
    expect(worst.primaryLost).toBe(95);
    // Crashed Postgres: loop + primary_start_timeout + loop + the same tail = 10+30+10+10+30+15.
    expect(worst.postgresCrashed).toBe(105);
    expect(worst.seconds).toBeLessThanOrEqual(plan.global.postgres.rtoSeconds);
    const dcs = (patroniConfig(plan, shard) as any).bootstrap.dcs;
    expect(dcs).toMatchObject({ ttl: t.ttl, loop_wait: t.loopWait, retry_timeout: t.retryTimeout, primary_start_timeout: t.primaryStartTimeout });
    expect(t.loopWait + 2 * t.retryTimeout).toBeLessThanOrEqual(t.ttl);
  });

  it('refuses a timing whose worst case exceeds the RTO, or that Patroni cannot keep', () => {
    expect(() => render(withGlobal((g) => (g.postgres.rtoSeconds = 60)))).toThrow(/worst-case failover \(105s\) must be <= global\.postgres\.rtoSeconds \(60s\)/);
    expect(() => checkPatroniTiming({ ...DEFAULT_PATRONI_TIMING, primaryStartTimeout: 300 }, 300)).toThrow(/worst-case failover \(375s\)/);
    expect(() => checkPatroniTiming({ ...DEFAULT_PATRONI_TIMING, retryTimeout: 15 }, 300)).toThrow(/loop_wait \(10\) \+ 2 x retry_timeout \(15\) must be <= ttl \(30\)/);
  });
});

describe('the Kubernetes API token', () => {
  it('is mounted into the postgres container (Patroni) only, where in-cluster clients read it: the exporter and backup sidecar get none', () => {
    const sts = find(objects, 'StatefulSet', names.statefulSet, plan.namespaces.data);
    const spec = sts.spec.template.spec;
    expect(spec.automountServiceAccountToken).toBe(false);
    const volume = spec.volumes.find((v: any) => v.name === 'kube-api-access');
    expect(volume.projected.sources).toEqual([
      { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ]);
    const mounting = spec.containers.filter((c: any) => (c.volumeMounts ?? []).some((m: any) => m.name === 'kube-api-access')).map((c: any) => c.name);
    expect(mounting).toEqual(['postgres']);
    const mount = spec.containers[0].volumeMounts.find((m: any) => m.name === 'kube-api-access');
    // patroni/dcs/kubernetes.py SERVICE_TOKEN_FILENAME and SERVICE_CERT_FILENAME live here.
    expect(mount).toEqual({ name: 'kube-api-access', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true });
  });
});

describe('RBAC: what Patroni needs and no more', () => {
  it('grants configmaps and pods verbs only, writes only to its own ConfigMaps and pods, bound to the Postgres ServiceAccount alone', () => {
    const role = find(objects, 'Role', names.role, plan.namespaces.data);
    // patroni/dcs/kubernetes.py: label-selected caches and creates name nothing; every get and
    // patch names Patroni's own <scope>-leader|config|failover|sync and touch_member its own pod.
    // The namespace also holds PgBouncer, Redis and other shards: nothing else is writable.
    const sts = find(objects, 'StatefulSet', names.statefulSet, plan.namespaces.data);
    const pods = Array.from({ length: sts.spec.replicas }, (_, i) => `${sts.metadata.name}-${i}`);
    expect(pods).toEqual(['bookedbarber-postgres-shard-1-0', 'bookedbarber-postgres-shard-1-1', 'bookedbarber-postgres-shard-1-2', 'bookedbarber-postgres-shard-1-3']);
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'watch', 'create'] },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'patch'], resourceNames: ['leader', 'config', 'failover', 'sync'].map((k) => `bookedbarber-postgres-shard-1-${k}`) },
      { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['patch'], resourceNames: pods },
    ]);
    const verbs = role.rules.flatMap((r: any) => r.verbs);
    for (const forbidden of ['delete', 'deletecollection', 'update', '*', 'escalate', 'bind']) expect(verbs).not.toContain(forbidden);
    expect(role.rules.flatMap((r: any) => r.resources)).not.toContain('secrets');
    const binding = find(objects, 'RoleBinding', names.role);
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: names.role });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: names.serviceAccount, namespace: plan.namespaces.data }]);
    expect(objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')).toEqual([]);
    // Only the Postgres pods mount a token; the account itself does not hand one out.
    expect(podSpec.serviceAccountName).toBe(names.serviceAccount);
    // (its token is a projected volume of the postgres container: 'the Kubernetes API token' above)
    expect(podSpec.volumes.map((v: any) => v.name)).toContain('kube-api-access');
    expect(find(objects, 'ServiceAccount', names.serviceAccount).automountServiceAccountToken).toBe(false);
  });
});

describe('backups and point-in-time recovery', () => {
  const sidecar = container(BASE_BACKUP_CONTAINER);
  const env = (c: any) => Object.fromEntries(c.env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));

  it('backs up from the leader\'s data directory with a sidecar in every member, never with a remote-mode Job', () => {
    // The remote-mode CronJob (BASE_BACKUP over the replication protocol) fails with the WAL-G of
    // the pinned Spilo image on Postgres 15/16; nothing of it may be left.
    expect(objects.filter((o) => ['CronJob', 'Job'].includes(o.kind) && /backup/.test(o.metadata.name))).toEqual([]);
    expect(objects.filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata.name).filter((n: string) => /backup/.test(n))).toEqual([]);
    expect(sidecar.image).toBe(container('postgres').image);
    expect(sidecar.command).toEqual(['/bin/sh', '/etc/patroni/base-backup.sh', 'run']);
    expect(env(sidecar)).toMatchObject({
      BASE_BACKUP_SCHEDULE: plan.global.postgres.baseBackupSchedule,
      RETAIN_FULL_BACKUPS: String(plan.global.postgres.retainFullBackups),
      PATRONI_URL: 'http://127.0.0.1:8008',
      PGDATA: (patroniConfig(plan, shard) as any).postgresql.data_dir,
      PGHOST: '/run/postgresql',
      PGUSER: 'postgres',
    });
    expect(sidecar.env.find((e: any) => e.name === 'PGPASSWORD').valueFrom.secretKeyRef).toEqual({ name: names.credentialsSecret, key: 'superuser-password' });
    // The member's own volume, read-only; the script from the Files ConfigMap, executable.
    expect(sidecar.volumeMounts).toContainEqual({ name: 'pgdata', mountPath: '/home/postgres/pgdata', readOnly: true });
    expect(sidecar.volumeMounts).toContainEqual({ name: 'socket', mountPath: '/run/postgresql', readOnly: true });
    const files = podSpec.volumes.find((v: any) => v.name === 'files');
    expect(files.configMap.items).toContainEqual({ key: 'base-backup.sh', path: 'base-backup.sh', mode: 0o555 });
    const script = find(objects, 'ConfigMap', names.configMap).data['base-backup.sh'];
    expect(script).toBe(renderBaseBackupScript());
    expect(script).toContain('curl -fsS -o /dev/null --max-time 10 "$PATRONI_URL/leader"');
    expect(script).toContain('wal-g backup-push "$PGDATA"');
    expect(script).toContain('wal-g delete retain FULL "$RETAIN_FULL_BACKUPS" --confirm');
  });

  it('meets Pod Security restricted, with requests, a memory limit and probes that never depend on a backup\'s outcome', () => {
    expect(sidecar.securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } });
    expect(sidecar.resources.requests).toMatchObject({ cpu: '100m', memory: '256Mi' });
    expect(sidecar.resources.limits).toEqual({ memory: '1Gi' });
    expect(sidecar.livenessProbe.exec.command.join(' ')).toContain('/tmp/base-backup/heartbeat');
    expect(sidecar.readinessProbe.exec.command).toEqual(['test', '-e', '/tmp/base-backup/heartbeat']);
    expect(sidecar.volumeMounts).toContainEqual({ name: 'base-backup-tmp', mountPath: '/tmp' });
  });

  it('refuses a schedule the sidecar would not evaluate like cron', () => {
    for (const ok of ['15 2 * * *', '*/30 * * * *', '0 1-5/2 1,15 * 0', '0 3 * * 7']) expect(() => checkBackupSchedule(ok)).not.toThrow();
    expect(() => checkBackupSchedule('15 2 * * MON')).toThrow(/day of week "MON" is not supported/);
    expect(() => checkBackupSchedule('@daily')).toThrow(/expected 5 cron fields/);
    expect(() => checkBackupSchedule('15 24 * * *')).toThrow(/hour "24" is outside 0-23/);
    expect(() => checkBackupSchedule('05 2 * * *')).toThrow(/write 5, not 05/);
    expect(() => render(withGlobal((g) => (g.postgres.baseBackupSchedule = '0 2 * * SUN')))).toThrow(/baseBackupSchedule/);
  });

  it('archives and backs up to the region bucket, under the shard prefix, with the same settings', () => {
    for (const c of [container('postgres'), sidecar]) {
      expect(env(c).WALG_S3_PREFIX).toBe(`${plan.region.backup.bucket}/shard-${shard.id}`);
      expect(env(c).AWS_REGION).toBe(plan.region.name);
    }
    const walg = (c: any) => c.env.filter((e: any) => /^(WALG_|AWS_)/.test(e.name));
    expect(walg(sidecar)).toEqual(walg(container('postgres')));
  });

  // The archive is a full copy of every shard's data; a bucket policy demanding aws:kms would
  // refuse unencrypted uploads (WAL-G v3.0.3: WALG_S3_SSE, WALG_S3_SSE_KMS_ID).
  it('encrypts every object WAL-G writes with backup.kmsKeyArn when set (SSE-KMS), else leaves it to the bucket\'s default', () => {
    // Opt-in: without the IAM grant on the key every upload would fail once a member restarts.
    for (const c of [container('postgres'), sidecar]) {
      expect([env(c).WALG_S3_SSE, env(c).WALG_S3_SSE_KMS_ID]).toEqual([undefined, undefined]);
    }
    const own = 'arn:aws:kms:us-east-1:123456789012:alias/bookedbarber-pitr';
    const withKey = { ...plan, region: { ...plan.region, backup: { ...plan.region.backup, kmsKeyArn: own } } };
    const pod = find(render(withKey), 'StatefulSet', names.statefulSet).spec.template.spec;
    for (const c of pod.containers.filter((x: any) => ['postgres', 'base-backup'].includes(x.name))) {
      expect([env(c).WALG_S3_SSE, env(c).WALG_S3_SSE_KMS_ID]).toEqual(['aws:kms', own]);
    }
  });

  it('uses workload identity instead of keys when given (IRSA role annotation, no key ExternalSecret)', () => {
    const irsa = { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/bookedbarber-pitr-us-east-1' };
    const withIdentity = render(plan, { backupIdentity: { serviceAccountAnnotations: irsa } });
    expect(find(withIdentity, 'ServiceAccount', names.serviceAccount).metadata.annotations).toMatchObject(irsa);
    expect(withIdentity.find((o) => o.kind === 'ExternalSecret' && o.metadata.name === names.backupStorageSecret)).toBeUndefined();
    expect(JSON.stringify(withIdentity)).not.toContain('AWS_SECRET_ACCESS_KEY');
    expect(JSON.stringify(objects)).toContain('AWS_SECRET_ACCESS_KEY');
  });
});

describe('leader-aware maintenance', () => {
  it('a rollout costs one switchover: at most loop_wait + promotion + endpoints, well under a lost primary', () => {
    // 10 + 30 + 15: no lock has to expire (a RollingUpdate restart of the primary waited for ttl).
    expect(switchoverWorstCase()).toBe(55);
    expect(switchoverWorstCase()).toBeLessThan(failoverWorstCase().primaryLost);
    const doc = readFileSync(path.join(__dirname, '../../docs/postgres-maintenance.md'), 'utf8');
    expect(doc).toContain(`${switchoverWorstCase()} s`);
    expect(doc).toContain('patronictl -c /etc/patroni/patroni.yml switchover $SCOPE --leader $OLD_PRIMARY --candidate $CANDIDATE --force');
  });

  it('never lets the StatefulSet controller restart a member: updateStrategy OnDelete on every site', () => {
    for (const region of shippedPlan().regions) {
      for (const set of render(region).filter((o) => o.kind === 'StatefulSet')) expect(set.spec.updateStrategy, set.metadata.name).toEqual({ type: 'OnDelete' });
    }
  });
});

describe('credentials by reference only', () => {
  it('every Secret a pod names is produced by an ExternalSecret from the configured store, with that key', () => {
    const produced = new Map<string, Set<string>>();
    for (const es of objects.filter((o) => o.kind === 'ExternalSecret')) {
      expect(es.apiVersion).toBe('external-secrets.io/v1beta1');
      expect(es.spec.secretStoreRef).toEqual({ kind: plan.global.secretStore.kind, name: plan.global.secretStore.name });
      expect(es.spec.target).toMatchObject({ name: es.metadata.name, creationPolicy: 'Owner' });
      produced.set(es.spec.target.name, new Set([...es.spec.data.map((d: any) => d.secretKey), ...Object.keys(es.spec.target.template?.data ?? {})]));
    }
    const refs: Array<[string, string | undefined]> = [];
    for (const w of objects.filter((o) => ['StatefulSet', 'CronJob'].includes(o.kind))) {
      const spec = w.kind === 'CronJob' ? w.spec.jobTemplate.spec.template.spec : w.spec.template.spec;
      for (const c of spec.containers) for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef) refs.push([e.valueFrom.secretKeyRef.name, e.valueFrom.secretKeyRef.key]);
      for (const v of spec.volumes ?? []) if (v.secret) for (const item of v.secret.items ?? [{ key: undefined }]) refs.push([v.secret.secretName, item.key]);
    }
    expect(refs.length).toBeGreaterThan(10);
    for (const [secret, key] of refs) {
      expect(produced.has(secret), secret).toBe(true);
      if (key) expect(produced.get(secret)!.has(key), `${secret}/${key}`).toBe(true);
    }
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
  });

  it('CredentialsFromStore renders the documented shape (the helper other data charts share)', () => {
    const chart = new Chart(newApp(), 'es', { labels: regionLabels(plan) });
    new CredentialsFromStore(chart, 'redis', { plan, name: 'bookedbarber-redis-auth', namespace: 'bookedbarber-data', labels: { a: 'b' }, keys: { password: 'bookedbarber/redis/password' } });
    const [es] = objectsOf(chart);
    expect(es).toMatchObject({
      apiVersion: 'external-secrets.io/v1beta1',
      kind: 'ExternalSecret',
      metadata: { name: 'bookedbarber-redis-auth', namespace: 'bookedbarber-data', labels: { a: 'b' } },
      spec: {
        refreshInterval: '1h',
        secretStoreRef: { kind: 'ClusterSecretStore', name: 'bookedbarber-vault' },
        target: { name: 'bookedbarber-redis-auth', creationPolicy: 'Owner' },
        data: [{ secretKey: 'password', remoteRef: { key: 'bookedbarber/redis/password' } }],
      },
    });
    expect(() => new CredentialsFromStore(chart, 'empty', { plan, name: 'x', namespace: 'y', labels: {}, keys: {} })).toThrow(/keys must name at least one key/);
  });
});

describe('Postgres objects and the validator', () => {
  it('produce no finding except the two runtime role selectors (pending the validator change for Patroni roles)', async () => {
    const { NamespacesChart } = await import('../../charts/namespaces/chart');
    const { validateObjects } = await import('../../tools/validate');
    const app = newApp();
    const { StorageChart } = await import('../../charts/storage/chart');
    const charts = [new NamespacesChart(app, { plan }), new StorageChart(app, { plan }), new PostgresChart(app, { plan })];
    const all = charts.flatMap((c) => objectsOf(c)).map((object, index) => ({ file: 'dist/us-east-1/postgres.yaml', index, object, region: 'us-east-1' }));
    const report = validateObjects(all, { schemaDir: undefined });
    const runtimeOnly = (f: { rule: string; object: string }) =>
      f.rule === 'ref-service-selector' && [names.readWriteService, names.readOnlyService].some((n) => f.object.endsWith(`/${n}`));
    expect(report.findings.filter((f) => !runtimeOnly(f))).toEqual([]);
    expect(report.findings.filter(runtimeOnly).length).toBeLessThanOrEqual(2);
  });
});
