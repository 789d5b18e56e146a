/**
 * Layer 4 references a running cluster relies on and no schema states (tools/validate/
 * istio-routes.ts, pod-template-refs.ts): each hand edit below applies cleanly and then breaks at
 * run time (a 503, a 404, a pod never created or never ready). One committed region folder, one
 * edit at a time; each must give exactly its finding.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { LoadedObject } from '../../tools/validate';
import { distLoadedObjects } from '../support/dist';
import { pick } from './fixtures/valid';
import { check } from './helpers';
import { cronProblem } from '../../tools/validate/policy/cron';

const folder = () => distLoadedObjects(['eu-west-1']);
const get = (objects: LoadedObject[], kind: string, name: string): any => pick(objects, kind, name);
const RULES = [
  'ref-istio-destination', 'ref-istio-subset', 'ref-istio-gateway-host', 'ref-volume-mount', 'ref-probe-port', 'ref-config-key', 'ref-workload-selector',
  'ref-monitor-target', 'ref-alertmanager-receiver', 'ref-rollout', 'cron-schedule', 'promql-syntax', 'ref-argocd-path',
  'ref-rbac', 'mesh-mtls-strict', 'disruption-allowed', 'ref-scheduling', 'argocd-destination',
  'storage-encrypted', 'sync-wave-order', 'mesh-port-protocol', 'ref-redis-master',
  'resources', 'rollout-spec', 'env-unique', 'ref-scale-target', 'ref-prometheus-selects', 'ref-config-endpoint', 'otlp-protocol', 'ref-alertmanager-endpoint', 'ref-alertmanager-config', 'ref-recorded-series', 'ref-mesh-provider', 'otel-pipeline', 'otel-lb-headless', 'ref-config-file', 'sidecar-quit-port', 'ref-hpa-metric', 'ref-script-env', 'pod-dns-name', 'prometheus-discovery-rbac',
  'dns-region', 'patroni-namespace', 'drain-grace', 'alert-severity', 'prometheus-retention',
  'ref-alertmanager-secret', 'ref-dashboard-label', 'ref-analysis-args', 'ref-affinity-selector', 'ref-patroni-labels', 'pgbouncer-server-budget', 'listen-port', 'argocd-directory-glob', 'argocd-source-repo',
];
const found = (objects: LoadedObject[]) => check(objects).filter((f) => RULES.includes(f.rule)).map((f) => `${f.rule} ${f.file} ${f.path}`);
const API_HOST = 'bookedbarber-api.bookedbarber-app.svc.cluster.local';

describe('runtime references of the rendered objects', () => {
  it('the committed folders have none of these findings', () => {
    for (const region of ['us-east-1', 'eu-west-1', 'ap-southeast-2']) expect(found(distLoadedObjects([region, 'argocd'])), region).toEqual([]);
  });

  describe('Istio routes', () => {
    it('a route to a subset no DestinationRule defines (503 once Argo Rollouts shifts weight to it)', () => {
      const objects = folder();
      const vs = get(objects, 'VirtualService', 'bookedbarber-api');
      const route = vs.spec.http.findIndex((r: any) => r.route.some((d: any) => d.destination.subset === 'canary'));
      const dest = vs.spec.http[route].route.findIndex((d: any) => d.destination.subset === 'canary');
      vs.spec.http[route].route[dest].destination.subset = 'canry';
      expect(found(objects)).toEqual([`ref-istio-subset eu-west-1/mesh.yaml spec.http[${route}].route[${dest}].destination.subset`]);
      expect(check(objects).find((f) => f.rule === 'ref-istio-subset')!.hint).toBe('did you mean canary?');
    });

    it('a DestinationRule whose host is mistyped: the routes\' subsets are defined for no host', () => {
      const objects = folder();
      get(objects, 'DestinationRule', 'bookedbarber-api').spec.host = API_HOST.replace('api', 'apl');
      const subsets = found(objects);
      expect(subsets.length).toBeGreaterThanOrEqual(2);
      expect(new Set(subsets.map((f) => f.split(' ')[0]))).toEqual(new Set(['ref-istio-subset']));
    });

    it('a destination port the Service does not have, and a host that is no Service', () => {
      const objects = folder();
      const web = get(objects, 'VirtualService', 'bookedbarber-web');
      web.spec.http[0].route[0].destination.port.number = 8081;
      const api = get(objects, 'VirtualService', 'bookedbarber-api');
      api.spec.http[0].route[0].destination.host = 'bookedbarber-apii.bookedbarber-app.svc.cluster.local';
      expect(found(objects)).toEqual(expect.arrayContaining([
        'ref-istio-destination eu-west-1/mesh.yaml spec.http[0].route[0].destination.port.number',
        'ref-istio-destination eu-west-1/mesh.yaml spec.http[0].route[0].destination.host',
      ]));
    });

    it('a public host the Gateway does not serve: the route is never reached, and the Gateway\'s host has no route (404)', () => {
      const objects = folder();
      const api = get(objects, 'VirtualService', 'bookedbarber-api');
      const i = api.spec.hosts.indexOf('api.bookedbarber.com');
      api.spec.hosts[i] = 'api.bookedbarber.co';
      const issues = found(objects);
      expect(issues).toContain(`ref-istio-gateway-host eu-west-1/mesh.yaml spec.hosts[${i}]`);
      expect(issues.filter((f) => f.startsWith('ref-istio-gateway-host') && f.includes('spec.servers'))).not.toEqual([]);
    });
  });

  describe('pod templates', () => {
    it('a mount whose volume was removed (the API server refuses the pod)', () => {
      const objects = folder();
      const pod = get(objects, 'Deployment', 'bookedbarber-pgbouncer-shard-3').spec.template.spec;
      pod.volumes = pod.volumes.filter((v: any) => v.name !== 'ca');
      const mount = pod.containers[0].volumeMounts.findIndex((m: any) => m.name === 'ca');
      expect(found(objects)).toEqual([`ref-volume-mount eu-west-1/pgbouncer.yaml spec.template.spec.containers[0].volumeMounts[${mount}].name`]);
    });

    it('a probe on a port name the container does not have (a number is not judged: it needs no declaration)', () => {
      const objects = folder();
      const c = get(objects, 'Rollout', 'bookedbarber-api').spec.template.spec.containers[0];
      c.livenessProbe.httpGet.port = 'htpp';
      // The OpenTelemetry operator probes its health port 13133 undeclared beside declared ones: a number is legal anywhere.
      c.readinessProbe.httpGet.port = 8081;
      expect(found(objects)).toEqual(['ref-probe-port eu-west-1/api.yaml spec.template.spec.containers[0].livenessProbe.httpGet.port']);
      expect(check(objects).find((f) => f.rule === 'ref-probe-port')!.hint).toBe('did you mean http?');
    });

    it('a key the ConfigMap does not hold, and one the ExternalSecret does not write (CreateContainerConfigError)', () => {
      const objects = folder();
      const api = get(objects, 'Rollout', 'bookedbarber-api').spec.template.spec.containers[0];
      const cm = api.env.findIndex((e: any) => e.valueFrom?.configMapKeyRef);
      api.env[cm].valueFrom.configMapKeyRef.key += 'X';
      const exporter = get(objects, 'Deployment', 'bookedbarber-pgbouncer-shard-3').spec.template.spec.containers[1];
      exporter.env[0].valueFrom.secretKeyRef.key = 'exporter_connection';
      expect(found(objects).sort()).toEqual([
        `ref-config-key eu-west-1/api.yaml spec.template.spec.containers[0].env[${cm}].valueFrom.configMapKeyRef.key`,
        'ref-config-key eu-west-1/pgbouncer.yaml spec.template.spec.containers[1].env[0].valueFrom.secretKeyRef.key',
      ]);
      // Optional references may name keys that are not there.
      exporter.env[0].valueFrom.secretKeyRef.optional = true;
      api.env[cm].valueFrom.configMapKeyRef.optional = true;
      expect(found(objects)).toEqual([]);
    });

    it('a selector that does not select the workload\'s own pods (a Rollout goes InvalidSpec)', () => {
      const objects = folder();
      const rollout = get(objects, 'Rollout', 'bookedbarber-api');
      const key = Object.keys(rollout.spec.selector.matchLabels)[0]!;
      rollout.spec.selector.matchLabels[key] = 'other';
      expect(found(objects)).toEqual(['ref-workload-selector eu-west-1/api.yaml spec.selector']);
    });
  });

  describe('monitoring and releases', () => {
    it('a PodMonitor that selects no rendered pod, or names a port they do not have (Prometheus scrapes nothing)', () => {
      const objects = folder();
      get(objects, 'PodMonitor', 'bookedbarber-api').spec.selector.matchLabels['app.kubernetes.io/name'] = 'apl';
      get(objects, 'PodMonitor', 'bookedbarber-pgbouncer').spec.podMetricsEndpoints[0].port = 'http-envoy-promm';
      expect(found(objects).sort()).toEqual([
        'ref-monitor-target eu-west-1/service-monitors.yaml spec.podMetricsEndpoints[0].port',
        'ref-monitor-target eu-west-1/service-monitors.yaml spec.selector',
      ]);
    });

    it('an Alertmanager route to a receiver the config does not define, also nested (the operator refuses the config)', () => {
      const objects = folder();
      const config = objects.find((o: any) => o.object.kind === 'AlertmanagerConfig')!.object as any;
      config.spec.route.routes[0].receiver = 'pagerdutty';
      expect(found(objects)).toEqual(['ref-alertmanager-receiver eu-west-1/monitoring.yaml spec.route.routes[0].receiver']);
      expect(check(objects).find((f) => f.rule === 'ref-alertmanager-receiver')!.hint).toBe('did you mean pagerduty?');
    });

    it('a Rollout setting weights on a route the VirtualService does not name, or labelling a subset it lacks', () => {
      const objects = folder();
      const istio = get(objects, 'Rollout', 'bookedbarber-api').spec.strategy.canary.trafficRouting.istio;
      istio.virtualService.routes[1] = 'main';
      istio.destinationRule.canarySubsetName = 'next';
      expect(found(objects).sort()).toEqual([
        'ref-rollout eu-west-1/api.yaml spec.strategy.canary.trafficRouting.istio.destinationRule.canarySubsetName',
        'ref-rollout eu-west-1/api.yaml spec.strategy.canary.trafficRouting.istio.virtualService.routes[1]',
      ]);
    });

    it('an alert expression that does not parse as PromQL (the rule is refused and never evaluates)', () => {
      const objects = folder();
      const entry = objects.find((o: any) => o.object.kind === 'PrometheusRule' && o.object.spec.groups.some((g: any) => g.rules.some((r: any) => r.alert)))!;
      const rules = (entry.object as any).spec.groups;
      const g = rules.findIndex((x: any) => x.rules.some((r: any) => r.alert));
      const r = rules[g].rules.findIndex((x: any) => x.alert);
      rules[g].rules[r].expr = `${rules[g].rules[r].expr})`;
      expect(found(objects)).toEqual([`promql-syntax ${entry.file} spec.groups[${g}].rules[${r}].expr`]);
    });

    it('a CronJob schedule the API server refuses', () => {
      const objects = folder();
      const cron = objects.find((o: any) => o.object.kind === 'CronJob')!;
      (cron.object as any).spec.schedule = '15 0 * *';
      expect(found(objects)).toEqual([`cron-schedule ${cron.file} spec.schedule`]);
      const bad = ['60 * * * *', '0 24 * * *', '0 0 0 * *', '0 0 * 13 *', '0 0 * * 7', '*/0 * * * *', '5-1 * * * *', '@often', '0 0 L * *', 'CRON_TZ=UTC 0 3 * * *', '@every 1 hour'];
      for (const b of bad) expect(cronProblem(b), b).toBeDefined();
      expect(cronProblem('0 0 L * *')).toBe('day of month: "L" is not a number');
      expect(cronProblem('TZ=Europe/Paris 0 3 * * *')).toContain('spec.timeZone');
      for (const good of ['15 0 * * *', '*/5 1-5,7 1,15 jan-mar MON-FRI', '0 0 ? * 0', '@daily', '@every 1h30m']) expect(cronProblem(good), good).toBeUndefined();
    });
  });

  // A path that names no folder is a ComparisonError: the Application silently stops syncing.
  describe('Argo CD sources', () => {
    it('a folder that is not rendered, a prefix the other sources do not use, and another region\'s folder', () => {
      const objects = distLoadedObjects(['argocd']);
      expect(found(objects)).toEqual([]);
      get(objects, 'Application', 'bookedbarber-root').spec.source.path = 'dist/argo';
      get(objects, 'ApplicationSet', 'bookedbarber-regions').spec.template.spec.source.path = 'dists/{{.region}}';
      const istiod = get(objects, 'Application', 'bookedbarber-us-east-1-istiod');
      const i = istiod.spec.sources.findIndex((src: any) => src.path);
      istiod.spec.sources[i].path = 'dist/us-west-2';
      const issues = check(objects).filter((f) => f.rule === 'ref-argocd-path');
      expect(issues.map((f) => `${f.file} ${f.object} ${f.path}`).sort()).toEqual([
        'argocd/argocd.yaml ApplicationSet argocd/bookedbarber-regions spec.template.spec.source.path',
        'argocd/bootstrap.yaml Application argocd/bookedbarber-root spec.source.path',
        `argocd/platform-addons.yaml Application argocd/bookedbarber-us-east-1-istiod spec.sources[${i}].path`,
      ]);
      expect(issues.map((f) => f.hint).sort()).toEqual(['did you mean dist/argocd?', 'did you mean dist/{{.region}}?', 'use dist/us-east-1']);
    });
  });

  // A second round of hand edits (validator mutation review): grants to nothing, mTLS weakened,
  // budgets that block every drain, a rolling update that stops every pod.
  describe('access, mTLS and disruption', () => {
    it('a RoleBinding to a Role that is not rendered, or for a ServiceAccount that is not (Patroni loses its lock)', () => {
      const objects = folder();
      const binding = get(objects, 'RoleBinding', 'bookedbarber-postgres-shard-3-patroni');
      binding.roleRef.name += '-x';
      binding.subjects[0].name = 'bookedbarber-postgres-shard3';
      expect(found(objects).sort()).toEqual(['ref-rbac eu-west-1/postgres.yaml roleRef.name', 'ref-rbac eu-west-1/postgres.yaml subjects[0].name']);
    });

    it('a PeerAuthentication that accepts plaintext, or a mesh root that leaves the mode unset (PERMISSIVE)', () => {
      const objects = folder();
      const pas = objects.filter((o: any) => o.object.kind === 'PeerAuthentication').map((o: any) => o.object);
      const data = pas.find((p: any) => p.metadata.namespace === 'bookedbarber-data');
      const root = pas.find((p: any) => p.metadata.namespace === 'istio-system');
      data.spec.mtls.mode = 'PERMISSIVE';
      delete root.spec.mtls;
      expect(found(objects)).toEqual(['mesh-mtls-strict eu-west-1/mesh.yaml spec.mtls.mode', 'mesh-mtls-strict eu-west-1/mesh.yaml spec.mtls.mode']);
    });

    it('a budget that allows no eviction, and a rolling update that may stop every pod', () => {
      const objects = folder();
      get(objects, 'PodDisruptionBudget', 'bookedbarber-redis-cache').spec.maxUnavailable = 0;
      const pooler = get(objects, 'Deployment', 'bookedbarber-pgbouncer-shard-3');
      pooler.spec.strategy.rollingUpdate.maxUnavailable = '100%';
      expect(found(objects).sort()).toEqual([
        'disruption-allowed eu-west-1/pgbouncer.yaml spec.strategy.rollingUpdate.maxUnavailable',
        'disruption-allowed eu-west-1/redis.yaml spec.maxUnavailable',
      ]);
    });
  });

  describe('where pods may run', () => {
    it('a required NodePool that is not rendered, or one whose taints the pods do not tolerate (Pending forever)', () => {
      const objects = folder();
      const pod = get(objects, 'Deployment', 'bookedbarber-pgbouncer-shard-3').spec.template.spec;
      pod.affinity = { ...(pod.affinity ?? {}), nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'karpenter.sh/nodepool', operator: 'In', values: ['bookedbarber-platfrom'] }] }] } } };
      expect(found(objects)).toEqual(['ref-scheduling eu-west-1/pgbouncer.yaml spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values']);
      expect(check(objects).find((f) => f.rule === 'ref-scheduling')!.hint).toBe('did you mean bookedbarber-platform?');
      // The app pools are tainted: a pod required there must tolerate it.
      pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values = ['bookedbarber-app-base'];
      expect(found(objects)).toEqual(['ref-scheduling eu-west-1/pgbouncer.yaml spec.template.spec.tolerations']);
      pod.tolerations = [{ key: 'bookedbarber.com/app', operator: 'Equal', value: 'true', effect: 'NoSchedule' }];
      expect(found(objects)).toEqual([]);
    });

    it('a NodePool naming an EC2NodeClass that is not rendered, and a PriorityClass that does not exist', () => {
      const objects = folder();
      const pool = objects.find((o: any) => o.object.kind === 'NodePool')!;
      (pool.object as any).spec.template.spec.nodeClassRef.name = 'bookedbarber-x';
      get(objects, 'Rollout', 'bookedbarber-api').spec.template.spec.priorityClassName = 'bookedbarber-critical';
      expect(found(objects).sort()).toEqual([
        'ref-scheduling eu-west-1/api.yaml spec.template.spec.priorityClassName',
        `ref-scheduling ${pool.file} spec.template.spec.nodeClassRef.name`,
      ]);
    });
  });

  describe('volumes, first sync and protocols', () => {
    it('a StorageClass that creates unencrypted volumes (no parameter, "false", or a value older drivers do not read as true)', () => {
      for (const value of [undefined, 'false', 'True']) {
        const objects = folder();
        const params = get(objects, 'StorageClass', 'bookedbarber-gp3-retain').parameters;
        if (value === undefined) delete params.encrypted;
        else params.encrypted = value;
        expect(found(objects), String(value)).toEqual(['storage-encrypted eu-west-1/storage.yaml parameters.encrypted']);
      }
    });

    it('an object in an earlier sync wave than its Namespace (refused on a first sync: namespace not found)', () => {
      const objects = folder();
      const quota = objects.find((o: any) => o.object.kind === 'ResourceQuota' && o.object.metadata.namespace === 'bookedbarber-data')!;
      (quota.object as any).metadata.annotations['argocd.argoproj.io/sync-wave'] = '-30';
      expect(found(objects)).toEqual([`sync-wave-order ${quota.file} metadata.annotations["argocd.argoproj.io/sync-wave"]`]);
      // The same wave is fine: Argo CD applies Namespaces first within a wave.
      (quota.object as any).metadata.annotations['argocd.argoproj.io/sync-wave'] = '-20';
      expect(found(objects)).toEqual([]);
    });

    it('hooks by their phase: a PostSync hook in an early wave is fine, a PreSync hook in a namespace the folder creates is not', () => {
      const objects = distLoadedObjects(['us-east-1']);
      const job = objects.find((o: any) => o.object.kind === 'Job' && o.object.metadata.name === 'bookedbarber-postgres-shard-1-topology')!;
      const annotations = (job.object as any).metadata.annotations;
      annotations['argocd.argoproj.io/sync-wave'] = '-30';
      expect(found(objects)).toEqual([]);
      annotations['argocd.argoproj.io/hook'] = 'PreSync';
      expect(found(objects)).toEqual([`sync-wave-order ${job.file} metadata.annotations["argocd.argoproj.io/hook"]`]);
    });

    it('a protocol Istio does not read: an unknown appProtocol (read instead of the name); Kubernetes\' own and well-known ports pass', () => {
      const objects = folder();
      const port = get(objects, 'Service', 'bookedbarber-pgbouncer-shard-3').spec.ports[0];
      port.appProtocol = 'postgresql';
      expect(found(objects)).toEqual(['mesh-port-protocol eu-west-1/pgbouncer.yaml spec.ports[0]']);
      port.appProtocol = 'kubernetes.io/h2c';
      expect(found(objects)).toEqual([]);
      delete port.appProtocol;
      port.name = 'db';
      port.port = 3306;
      expect(found(objects).filter((f) => f.startsWith('mesh-port-protocol'))).toEqual([]);
    });

    it('a meshed Service port that does not say its protocol (name prefix or appProtocol)', () => {
      const objects = folder();
      const service = get(objects, 'Service', 'bookedbarber-pgbouncer-shard-3');
      service.spec.ports[0].name = 'pgbouncer';
      delete service.spec.ports[0].appProtocol;
      expect(found(objects)).toEqual(['mesh-port-protocol eu-west-1/pgbouncer.yaml spec.ports[0]']);
      service.spec.ports[0].appProtocol = 'tcp';
      expect(found(objects)).toEqual([]);
    });
  });

  describe('Redis master names', () => {
    it('the API asks its Sentinels for a master they do not monitor (the lookup answers nil: no sessions)', () => {
      const objects = distLoadedObjects(['us-east-1']);
      expect(found(objects)).toEqual([]);
      get(objects, 'ConfigMap', 'bookedbarber-api-config').data.REDIS_SESSIONS_MASTER_NAME = 'session';
      expect(found(objects)).toEqual(['ref-redis-master us-east-1/api.yaml data.REDIS_SESSIONS_MASTER_NAME']);
      expect(check(objects).find((f) => f.rule === 'ref-redis-master')!.hint).toBe('use sessions');
    });

    it('as Redis reads them: a directive in capitals, and a client naming its Sentinels by an absolute name (trailing dot)', () => {
      const objects = distLoadedObjects(['us-east-1']);
      const config = get(objects, 'ConfigMap', 'bookedbarber-api-config').data;
      config.REDIS_SESSIONS_SENTINELS = config.REDIS_SESSIONS_SENTINELS.replace(':26379', '.:26379');
      config.REDIS_SESSIONS_MASTER_NAME = 'session';
      expect(found(objects)).toEqual(['ref-redis-master us-east-1/api.yaml data.REDIS_SESSIONS_MASTER_NAME']);
      config.REDIS_SESSIONS_MASTER_NAME = 'sessions';
      const conf = objects.find((o: any) => o.object.kind === 'ConfigMap' && /sentinel monitor cache /.test((o.object as any).data?.['sentinel.conf'] ?? ''))!;
      (conf.object as any).data['sentinel.conf'] = (conf.object as any).data['sentinel.conf'].replace('sentinel failover-timeout cache', 'SENTINEL FAILOVER-TIMEOUT cahce');
      expect(found(objects)).toEqual([`ref-redis-master ${conf.file} data["sentinel.conf"]`]);
    });

    it('a Sentinel directive, or a pod\'s REDIS_MASTER_NAME, naming a master the configuration does not monitor', () => {
      const objects = distLoadedObjects(['us-east-1']);
      const conf = objects.find((o: any) => o.object.kind === 'ConfigMap' && Object.values(o.object.data ?? {}).some((v: any) => /sentinel monitor cache /.test(v)))!;
      const [key, text] = Object.entries((conf.object as any).data).find(([, v]: any) => /sentinel monitor cache /.test(v))! as [string, string];
      (conf.object as any).data[key] = text.replace('sentinel failover-timeout cache', 'sentinel failover-timeout cahce');
      const sentinel = get(objects, 'StatefulSet', 'bookedbarber-redis-cache-sentinel');
      const env = sentinel.spec.template.spec.containers.flatMap((c: any) => c.env ?? []).find((v: any) => v.name === 'REDIS_MASTER_NAME');
      env.value = 'caches';
      const issues = found(objects).sort();
      expect(issues).toContain(`ref-redis-master ${conf.file} data["${key}"]`);
      expect(issues.filter((i) => i.startsWith('ref-redis-master us-east-1/redis.yaml spec.template.spec.containers')).length).toBe(1);
      expect(issues).toHaveLength(2);
    });
  });

  describe('third mutation round', () => {
    const api = (objects: LoadedObject[]) => get(objects, 'Rollout', 'bookedbarber-api');
    const apiContainer = (objects: LoadedObject[]) => api(objects).spec.template.spec.containers.find((c: any) => c.name === 'api');

    it('a memory limit below its request (the API server refuses the pods), and memory in milli-units', () => {
      const objects = distLoadedObjects(['us-east-1']);
      const c = apiContainer(objects);
      c.resources.limits.memory = '256Mi';
      const at = `spec.template.spec.containers[${api(objects).spec.template.spec.containers.indexOf(c)}].resources`;
      expect(found(objects)).toEqual([`resources us-east-1/api.yaml ${at}.requests.memory`]);
      c.resources.limits.memory = c.resources.requests.memory;
      c.resources.requests.memory = '512m';
      expect(found(objects)).toEqual([`resources us-east-1/api.yaml ${at}.requests.memory`]);
      expect(check(objects).find((f) => f.rule === 'resources')!.hint).toBe('memory is in bytes: write Mi or Gi (512Mi), not m (milli)');
    });

    it('what Argo Rollouts refuses (InvalidSpec): a weight above 100, two actions in one step, one Service as active and preview', () => {
      const objects = distLoadedObjects(['us-east-1']);
      const steps = api(objects).spec.strategy.canary.steps;
      const i = steps.findIndex((st: any) => st.setWeight !== undefined);
      steps[i].setWeight = 150;
      const j = steps.findIndex((st: any) => st.analysis !== undefined);
      steps[j].setWeight = 10;
      const web = get(objects, 'Rollout', 'bookedbarber-web');
      web.spec.strategy.blueGreen.previewService = web.spec.strategy.blueGreen.activeService;
      expect(found(objects).sort()).toEqual([
        `rollout-spec us-east-1/api.yaml spec.strategy.canary.steps[${i}].setWeight`,
        `rollout-spec us-east-1/api.yaml spec.strategy.canary.steps[${j}]`,
        'rollout-spec us-east-1/web.yaml spec.strategy.blueGreen.previewService',
      ].sort());
    });

    it('a variable set twice in one container (the kubelet keeps the last)', () => {
      const objects = distLoadedObjects(['us-east-1']);
      const env = apiContainer(objects).env;
      env[1].name = env[0].name;
      expect(found(objects)).toEqual([expect.stringMatching(/^env-unique us-east-1\/api\.yaml spec\.template\.spec\.containers\[\d+\]\.env\[1\]\.name$/)]);
    });

    it('an HPA container metric for a container its target does not have (the HPA never scales down)', () => {
      const objects = distLoadedObjects(['us-east-1']);
      get(objects, 'HorizontalPodAutoscaler', 'bookedbarber-api').spec.metrics[0].containerResource.container = 'app';
      expect(found(objects)).toEqual(['ref-scale-target us-east-1/api.yaml spec.metrics[0].containerResource.container']);
    });

    it('an address in a ConfigMap whose Service, port or mesh name does not exist (the shard map, the Sentinels)', () => {
      const objects = distLoadedObjects(['us-east-1']);
      const map = get(objects, 'ConfigMap', 'bookedbarber-shard-map').data;
      const json = JSON.parse(map['shard-map.json']);
      json.shards[0].readWrite.port = 5432;
      map['shard-map.json'] = JSON.stringify(json);
      expect(found(objects)).toEqual(['ref-config-endpoint us-east-1/shard-map.yaml data["shard-map.json"]']);
      expect(check(objects).find((f) => f.rule === 'ref-config-endpoint')!.message).toMatch(/^bookedbarber-pgbouncer-shard-1\.bookedbarber-data\.svc\.cluster\.local:5432: Service bookedbarber-data\/bookedbarber-pgbouncer-shard-1 has no port 5432/);
      json.shards[0].readWrite.port = 6432;
      json.shards[0].readWrite.host = json.shards[0].readWrite.host.replace('shard-1', 'shard1');
      json.shards[1].readOnly.host = json.shards[1].readOnly.host.replace('shard-2', 'shard2');
      map['shard-map.json'] = JSON.stringify(json);
      const messages = check(objects).filter((f) => f.rule === 'ref-config-endpoint').map((f) => f.message);
      expect(messages).toHaveLength(2);
      expect(messages[0]).toContain('no Service bookedbarber-data/bookedbarber-pgbouncer-shard1 is rendered');
      expect(messages[1]).toContain('no ServiceEntry declares bookedbarber-pgbouncer-shard2.us-west-2.bookedbarber.global');
      const fresh = distLoadedObjects(['us-east-1']);
      const config = get(fresh, 'ConfigMap', 'bookedbarber-api-config').data;
      config.REDIS_CACHE_SENTINELS = config.REDIS_CACHE_SENTINELS.replace(':26379', ':6379');
      expect(found(fresh)).toEqual(['ref-config-endpoint us-east-1/api.yaml data.REDIS_CACHE_SENTINELS']);
    });

    it('traces exported over HTTP to the collector\'s gRPC port, or to a port its Service does not have', () => {
      const objects = folder();
      const env = (o: LoadedObject[], kind: string, name: string) => {
        const container = get(o, kind, name).spec.template.spec.containers[0];
        const i = container.env.findIndex((v: any) => v.name === 'OTEL_EXPORTER_OTLP_ENDPOINT');
        return { vars: container.env, i, path: `spec.template.spec.containers[0].env[${i}].value` };
      };
      const web = env(objects, 'Rollout', 'bookedbarber-web');
      expect(web.vars.find((v: any) => v.name === 'OTEL_EXPORTER_OTLP_PROTOCOL').value).toBe('http/protobuf');
      web.vars[web.i].value = web.vars[web.i].value.replace(':4318', ':4317');
      expect(found(objects)).toEqual([`otlp-protocol eu-west-1/web.yaml ${web.path}`]);
      const finding = check(objects).find((f) => f.rule === 'otlp-protocol')!;
      expect(finding.message).toMatch(/^OTEL_EXPORTER_OTLP_PROTOCOL is http\/protobuf \(HTTP\/1\.1\), but OTEL_EXPORTER_OTLP_ENDPOINT names port 4317 \(otlp-grpc, appProtocol grpc\) of bookedbarber-monitoring\/otel-collector/);
      expect(finding.hint).toBe('send http/protobuf to port 4318 (otlp-http, appProtocol http), or set OTEL_EXPORTER_OTLP_PROTOCOL to what port 4317 speaks');
      // The protocol switched to gRPC as well: the pair agrees again.
      web.vars.find((v: any) => v.name === 'OTEL_EXPORTER_OTLP_PROTOCOL').value = 'grpc';
      expect(found(objects)).toEqual([]);
      // A signal's own variable wins over the general one.
      web.vars.push({ name: 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', value: 'http/json' }, { name: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', value: web.vars[web.i].value + '/v1/traces' });
      expect(found(objects)).toEqual([`otlp-protocol eu-west-1/web.yaml spec.template.spec.containers[0].env[${web.vars.length - 1}].value`]);
      // A signal's protocol applies to the general endpoint when the signal has none of its own.
      const other = folder();
      const api = env(other, 'Rollout', 'bookedbarber-api');
      api.vars.push({ name: 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', value: 'grpc' });
      expect(found(other)).toEqual([`otlp-protocol eu-west-1/api.yaml ${api.path}`]);
      expect(check(other).find((f) => f.rule === 'otlp-protocol')!.message).toMatch(/^OTEL_EXPORTER_OTLP_TRACES_PROTOCOL is grpc \(gRPC \(HTTP\/2\)\), but OTEL_EXPORTER_OTLP_ENDPOINT names port 4318 \(otlp-http, appProtocol http\)/);
      // A port the operator's Service does not have: nothing listens there.
      const fresh = folder();
      const unported = env(fresh, 'Rollout', 'bookedbarber-api');
      unported.vars[unported.i].value = unported.vars[unported.i].value.replace(':4318', ':4319');
      expect(found(fresh)).toEqual([`ref-config-endpoint eu-west-1/api.yaml ${unported.path}`]);
      expect(check(fresh).find((f) => f.rule === 'ref-config-endpoint')!.message).toContain("otel-collector (opentelemetry-operator's Service in bookedbarber-monitoring, from the collector's receivers) has no port 4319 (its ports: 4317, 4318)");
    });

    it('a DNS record of another region (its set identifier, its load balancer)', () => {
      const objects = distLoadedObjects(['us-east-1']);
      const ep = get(objects, 'DNSEndpoint', 'bookedbarber-dns-api').spec.endpoints[0];
      ep.setIdentifier = 'us-west-2';
      ep.targets[0] = ep.targets[0].replace('.elb.us-east-1.', '.elb.us-west-2.');
      expect(found(objects).sort()).toEqual(['dns-region us-east-1/dns.yaml spec.endpoints[0].setIdentifier', 'dns-region us-east-1/dns.yaml spec.endpoints[0].targets[0]']);
    });

    it('Patroni told to keep its lock in another namespace, and a grace period shorter than the sidecar\'s drain', () => {
      const objects = distLoadedObjects(['us-east-1']);
      const postgres = get(objects, 'StatefulSet', 'bookedbarber-postgres-shard-1').spec.template.spec;
      const c = postgres.containers.findIndex((x: any) => (x.env ?? []).some((v: any) => v.name === 'PATRONI_KUBERNETES_NAMESPACE'));
      const i = postgres.containers[c].env.findIndex((v: any) => v.name === 'PATRONI_KUBERNETES_NAMESPACE');
      postgres.containers[c].env[i] = { name: 'PATRONI_KUBERNETES_NAMESPACE', value: 'bookedbarber-app' };
      api(objects).spec.template.spec.terminationGracePeriodSeconds = 10;
      expect(found(objects).sort()).toEqual([
        'drain-grace us-east-1/api.yaml spec.template.spec.terminationGracePeriodSeconds',
        `patroni-namespace us-east-1/postgres.yaml spec.template.spec.containers[${c}].env[${i}].value`,
      ]);
    });

    it('a Sentinel quorum above the Sentinels that could vote (no failover ever)', () => {
      const objects = distLoadedObjects(['us-east-1']);
      const conf = objects.find((o: any) => o.object.kind === 'ConfigMap' && /sentinel monitor cache /.test((o.object as any).data?.['sentinel.conf'] ?? ''))!;
      (conf.object as any).data['sentinel.conf'] = (conf.object as any).data['sentinel.conf'].replace(/(sentinel monitor cache \S+ 6379) 2/, '$1 4');
      expect(found(objects)).toEqual(['ref-redis-master us-east-1/redis.yaml spec.replicas']);
    });

    it('two regions of an ApplicationSet on one cluster', () => {
      const objects = distLoadedObjects(['us-east-1', 'argocd']);
      const set = get(objects, 'ApplicationSet', 'bookedbarber-capacity');
      const [first, second] = set.spec.generators[0].list.elements;
      second.server = first.server;
      expect(found(objects).filter((f) => f.includes('spec.generators'))).toEqual(['argocd-destination argocd/argocd.yaml spec.generators']);
    });

    it('an alert severity no route matches (case matters: no page), and a retention the volume cannot hold', () => {
      const objects = distLoadedObjects(['us-east-1']);
      const rules = objects.find((o: any) => o.object.kind === 'PrometheusRule' && o.object.metadata.name === 'bookedbarber-business')!;
      const first = (rules.object as any).spec.groups[0].rules.find((r: any) => r.labels?.severity === 'critical');
      const [g, r] = [0, (rules.object as any).spec.groups[0].rules.indexOf(first)];
      first.labels.severity = 'Critical';
      get(objects, 'Prometheus', 'bookedbarber').spec.retentionSize = '600GB';
      expect(found(objects).sort()).toEqual([
        `alert-severity ${rules.file} spec.groups[${g}].rules[${r}].labels.severity`,
        'prometheus-retention us-east-1/monitoring.yaml spec.retentionSize',
      ]);
      expect(check(objects).find((f) => f.rule === 'alert-severity')!.hint).toBe('did you mean critical?');
      // An abbreviation of one routed value is a slip too.
      first.labels.severity = 'crit';
      expect(check(objects).filter((f) => f.rule === 'alert-severity').map((f) => f.hint)).toEqual(['did you mean critical?']);
    });

    it('a receiver key its Secret does not hold (prometheus-operator refuses the whole config), and a dashboard the sidecar never loads', () => {
      const objects = distLoadedObjects(['us-east-1', 'argocd']);
      const receivers = get(objects, 'AlertmanagerConfig', 'bookedbarber-alerting').spec.receivers;
      const pagerduty = receivers.findIndex((r: any) => r.pagerdutyConfigs);
      receivers[pagerduty].pagerdutyConfigs[0].routingKey.key = 'pagerduty-key';
      delete get(objects, 'ConfigMap', 'bookedbarber-dashboard-business-metrics').metadata.labels.grafana_dashboard;
      expect(found(objects).sort()).toEqual([
        `ref-alertmanager-secret us-east-1/monitoring.yaml spec.receivers[${pagerduty}].pagerdutyConfigs[0].routingKey.key`,
        'ref-dashboard-label us-east-1/dashboards.yaml metadata.labels',
      ]);
      expect(check(objects).find((f) => f.rule === 'ref-alertmanager-secret')!.hint).toBe('read one of pagerduty-routing-key, slack-business-webhook-url, slack-webhook-url, smtp-password');
    });

    it('what works on a cluster passes these rules (review of the third round)', () => {
      const objects = distLoadedObjects(['us-east-1']);
      // An operator's Service (prometheus-operated) named in a ConfigMap.
      get(objects, 'ConfigMap', 'bookedbarber-api-config').data.EXTRA_URL = 'http://prometheus-operated.bookedbarber-monitoring.svc.cluster.local:9090';
      // The injected sidecar as an HPA container metric.
      get(objects, 'HorizontalPodAutoscaler', 'bookedbarber-api').spec.metrics[0].containerResource.container = 'istio-proxy';
      // A severity meant for the default receiver.
      const rules = objects.find((o: any) => o.object.kind === 'PrometheusRule' && o.object.metadata.name === 'bookedbarber-business')!;
      (rules.object as any).spec.groups[0].rules.find((r: any) => r.alert).labels.severity = 'info';
      // Two records of one region, told apart by identifier.
      get(objects, 'DNSEndpoint', 'bookedbarber-dns-api').spec.endpoints[0].setIdentifier = 'us-east-1-blue';
      // A namespace the kubelet expands, a variable extended from its earlier value, a zero request.
      const postgres = get(objects, 'StatefulSet', 'bookedbarber-postgres-shard-1').spec.template.spec;
      const pc = postgres.containers.find((x: any) => (x.env ?? []).some((v: any) => v.name === 'PATRONI_KUBERNETES_NAMESPACE'));
      pc.env.push({ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } });
      pc.env = pc.env.map((v: any) => (v.name === 'PATRONI_KUBERNETES_NAMESPACE' ? { name: v.name, value: '$(POD_NAMESPACE)' } : v));
      const c = apiContainer(objects);
      c.env.push({ name: 'NODE_OPTIONS', value: '--max-old-space-size=384' }, { name: 'NODE_OPTIONS', value: '$(NODE_OPTIONS) --enable-source-maps' });
      c.resources.requests.memory = '0';
      // A canary step that scales the canary while it sets the weight.
      api(objects).spec.strategy.canary.steps[0].setCanaryScale = { weight: 10 };
      expect(found(objects)).toEqual([]);
    });

    it('rules and monitors no Prometheus selects (never loaded, never scraped)', () => {
      const objects = distLoadedObjects(['us-east-1']);
      delete get(objects, 'PodMonitor', 'bookedbarber-api').metadata.labels['bookedbarber.com/prometheus'];
      expect(found(objects)).toEqual(['ref-prometheus-selects us-east-1/service-monitors.yaml metadata.labels']);
      const rules = objects.filter((o: any) => o.object.kind === 'PrometheusRule').length;
      get(objects, 'Prometheus', 'bookedbarber').spec.ruleSelector.matchLabels['bookedbarber.com/prometheus'] = 'bookedbarber-main';
      expect(found(objects).filter((f) => f.includes('alerts.yaml') || f.includes('monitoring.yaml')).length).toBe(rules);
    });
  });

  // Argo CD refuses a sync its AppProject does not permit: the region or add-on stops syncing.
  describe('analysis arguments between a Rollout and its templates', () => {
    const apiSteps = (objects: LoadedObject[]) => get(objects, 'Rollout', 'bookedbarber-api').spec.strategy.canary.steps as any[];
    const healthSteps = (objects: LoadedObject[]) => apiSteps(objects).map((s, i) => (s.analysis?.args ? i : -1)).filter((i) => i >= 0);

    it('an argument the Rollout misspells: dropped by Argo Rollouts, and the template\'s own is left without a value', () => {
      const objects = folder();
      const [first] = healthSteps(objects);
      apiSteps(objects)[first!].analysis.args[0].name = 'canary_revision';
      const at = `spec.strategy.canary.steps[${first}].analysis`;
      expect(found(objects).sort()).toEqual([`ref-analysis-args eu-west-1/api.yaml ${at}`, `ref-analysis-args eu-west-1/api.yaml ${at}.args[0].name`]);
      const messages = check(objects).filter((f) => f.rule === 'ref-analysis-args').map((f) => `${f.message} | ${f.hint}`);
      expect(messages.join('\n')).toContain('Argo Rollouts refuses the Rollout (InvalidSpec: args.canary-revision was not resolved)');
      expect(messages.join('\n')).toContain('name one of the declared arguments (canary-revision)');
    });

    it('a template argument renamed: its metrics name one it no longer declares, and no step passes the new one', () => {
      const objects = folder();
      get(objects, 'AnalysisTemplate', 'bookedbarber-web-release-health').spec.args[0].name = 'rev';
      const issues = found(objects);
      expect(issues).toEqual(expect.arrayContaining([
        'ref-analysis-args eu-west-1/web.yaml spec.metrics[0].provider.prometheus.query',
        'ref-analysis-args eu-west-1/web.yaml spec.strategy.blueGreen.postPromotionAnalysis',
        'ref-analysis-args eu-west-1/web.yaml spec.strategy.blueGreen.postPromotionAnalysis.args[0].name',
      ]));
      expect(check(objects).find((f) => f.path === 'spec.metrics[0].provider.prometheus.query')!.message).toContain('failed to resolve {{args.revision}}');
    });

    it('two templates of one analysis with one argument at two values (Argo Rollouts refuses the AnalysisRun)', () => {
      const objects = folder();
      const template = get(objects, 'AnalysisTemplate', 'bookedbarber-api-canary-health');
      template.spec.args[0].value = 'stable';
      const entry = objects.find((o) => o.object === template)!;
      const copy = structuredClone(template);
      copy.metadata.name = 'bookedbarber-api-canary-health-copy';
      copy.spec.args[0].value = 'canary';
      objects.push({ ...entry, index: entry.index + 1000, object: copy });
      const [first] = healthSteps(objects);
      apiSteps(objects)[first!].analysis.templates.push({ templateName: 'bookedbarber-api-canary-health-copy' });
      expect(found(objects)).toEqual([`ref-analysis-args eu-west-1/api.yaml spec.strategy.canary.steps[${first}].analysis.templates`]);
    });

    it('a canary revision the new pods do not carry: the gate measures none of their requests', () => {
      const objects = folder();
      const [first] = healthSteps(objects);
      apiSteps(objects)[first!].analysis.args[0].value = '2.14.2-0000000000';
      expect(found(objects)).toEqual([`ref-analysis-args eu-west-1/api.yaml spec.strategy.canary.steps[${first}].analysis.args[0].value`]);
      const issue = check(objects).find((f) => f.rule === 'ref-analysis-args')!;
      expect(issue.message).toContain('bookedbarber-api-canary-health selects requests by (destination_canonical_revision)');
      expect(issue.message).toContain('the gate measures none of the new pods\' requests');
      const label = get(objects, 'Rollout', 'bookedbarber-api').spec.template.metadata.labels['service.istio.io/canonical-revision'];
      expect(issue.hint).toBe(`pass ${JSON.stringify(label)}, the pod template's service.istio.io/canonical-revision label (derive both from one value)`);
    });

    it('the pods\' revision label edited by hand: each step passing the old one; both edited alike, or no label (Istio falls back), nothing', () => {
      const objects = folder();
      const labels = get(objects, 'Rollout', 'bookedbarber-api').spec.template.metadata.labels;
      labels['service.istio.io/canonical-revision'] = 'hand-edited';
      const steps = healthSteps(objects);
      expect(steps.length).toBeGreaterThanOrEqual(2);
      expect(found(objects).sort()).toEqual(steps.map((i) => `ref-analysis-args eu-west-1/api.yaml spec.strategy.canary.steps[${i}].analysis.args[0].value`).sort());
      for (const i of steps) apiSteps(objects)[i].analysis.args[0].value = 'hand-edited';
      expect(found(objects)).toEqual([]);
      delete labels['service.istio.io/canonical-revision'];
      apiSteps(objects)[steps[0]!].analysis.args[0].value = 'anything';
      expect(found(objects)).toEqual([]);
    });
  });

  describe('pod affinity selectors', () => {
    const shard = (objects: LoadedObject[]) => objects.map((o) => o.object as any).find((o) => o.kind === 'StatefulSet' && o.spec.template.spec.affinity?.podAntiAffinity)!;
    const anti = (sts: any) => sts.spec.template.spec.affinity.podAntiAffinity;

    it('a Postgres shard\'s anti-affinity with a misspelt cluster-name: nothing keeps its members apart', () => {
      const objects = folder();
      const sts = shard(objects);
      const term = anti(sts).requiredDuringSchedulingIgnoredDuringExecution[0];
      term.labelSelector.matchLabels['cluster-name'] += 'x';
      const base = 'spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]';
      expect(found(objects)).toEqual([`ref-affinity-selector eu-west-1/postgres.yaml ${base}.labelSelector`]);
      expect(check(objects).find((f) => f.rule === 'ref-affinity-selector')!.message).toContain('replicas may share a node');
    });

    it('a term without a labelSelector, and a required podAffinity to pods that do not exist', () => {
      const objects = folder();
      const sts = shard(objects);
      delete anti(sts).preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.labelSelector;
      sts.spec.template.spec.affinity.podAffinity = { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'pgbouncr' } } }] };
      expect(found(objects).sort()).toEqual([
        'ref-affinity-selector eu-west-1/postgres.yaml spec.template.spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector',
        'ref-affinity-selector eu-west-1/postgres.yaml spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm',
      ]);
    });
  });

  describe('Patroni labels', () => {
    const files = (objects: LoadedObject[]) => objects.map((o) => o.object as any).find((o) => o.kind === 'ConfigMap' && o.data?.['patroni.yml'])!;
    const config = (cm: any) => parse(cm.data['patroni.yml']);
    const members = (objects: LoadedObject[], cm: any) => objects.map((o) => o.object as any)
      .find((o) => o.kind === 'StatefulSet' && o.spec.template.spec.volumes?.some((v: any) => v.configMap?.name === cm.metadata.name || v.projected?.sources?.some((s: any) => s.configMap?.name === cm.metadata.name)))!;

    it('the primary Service selecting primary where this Patroni writes master: no endpoints, every write fails', () => {
      const objects = folder();
      const cm = files(objects);
      const sts = members(objects, cm);
      const scope = config(cm).scope;
      const rw = objects.map((o) => o.object as any).find((o) => o.kind === 'Service' && o.spec.selector?.['spilo-role'] === 'master' && o.spec.selector['cluster-name'] === scope)!;
      rw.spec.selector['spilo-role'] = 'primary';
      expect(found(objects)).toEqual([`ref-patroni-labels eu-west-1/postgres.yaml spec.selector.spilo-role`]);
      expect(check(objects).find((f) => f.rule === 'ref-patroni-labels')!.message).toBe(`spilo-role: primary is a value Patroni never writes (ConfigMap ${cm.metadata.name} labels its members master or replica): the Service has no endpoints`);
      expect(sts.spec.template.metadata.labels['cluster-name']).toBe(scope);
    });

    it('the scope edited in patroni.yml, and the pods\' cluster-name edited: members Patroni never sees', () => {
      const objects = folder();
      const cm = files(objects);
      const text: string = cm.data['patroni.yml'];
      const scope = config(cm).scope;
      cm.data['patroni.yml'] = text.replace(`"scope": "${scope}"`, `"scope": "${scope}-x"`);
      expect(found(objects)).toEqual(['ref-patroni-labels eu-west-1/postgres.yaml spec.template.metadata.labels']);
      const again = folder();
      members(again, files(again)).spec.template.metadata.labels['application'] = 'spillo';
      // The StatefulSet's own selector and anti-affinity break too (their rules say so); Patroni's view is this rule's.
      expect(found(again)).toContain('ref-patroni-labels eu-west-1/postgres.yaml spec.template.metadata.labels');
      expect(check(again).find((f) => f.rule === 'ref-patroni-labels')!.hint).toBe('label the pods application: spilo, or set scope and kubernetes.labels in ' + files(again).metadata.name + ' to what the pods carry');
    });
  });

  describe('PgBouncer against what Postgres admits', () => {
    const pgbouncer = (objects: LoadedObject[]) => get(objects, 'Deployment', 'bookedbarber-pgbouncer-shard-3');
    const ini = (objects: LoadedObject[]) => objects.map((o) => o.object as any).find((o) => o.kind === 'ConfigMap' && o.data?.['pgbouncer.ini']?.includes('shard 3'))!;

    it('more PgBouncer replicas than the server budget was divided by: "too many clients" at the busiest hour', () => {
      const objects = folder();
      pgbouncer(objects).spec.replicas = 6;
      // Its two databases point at the rw and the ro Service.
      expect(found(objects)).toEqual(['pgbouncer-server-budget eu-west-1/pgbouncer.yaml spec.replicas', 'pgbouncer-server-budget eu-west-1/pgbouncer.yaml spec.replicas']);
      expect(check(objects).find((f) => f.rule === 'pgbouncer-server-budget')!.message).toMatch(/^the PgBouncer pods in front of Service bookedbarber-data\/bookedbarber-postgres-shard-3\S* can open 616 server connections \(8 pods \(6 replicas \+ maxSurge 1 \+ 1 stopping\) × 77 per pod\), and Postgres admits 397 \(max_connections 400 \(Patroni\) - 3 reserved\)/);
    });

    it('a larger max_db_connections in pgbouncer.ini, or a lower max_connections in Patroni\'s cluster-wide parameters', () => {
      const objects = folder();
      const cm = ini(objects);
      cm.data['pgbouncer.ini'] = cm.data['pgbouncer.ini'].replace(/^max_db_connections = \d+$/m, 'max_db_connections = 120').replace(/^default_pool_size = \d+$/m, 'default_pool_size = 120');
      expect(found(objects)).toEqual(['pgbouncer-server-budget eu-west-1/pgbouncer.yaml spec.replicas', 'pgbouncer-server-budget eu-west-1/pgbouncer.yaml spec.replicas']);
      // Patroni passes bootstrap.dcs' max_connections on the command line: the same edit in postgresql.conf changes nothing.
      const files = (objects: LoadedObject[]) => objects.map((x) => x.object as any).find((o) => o.kind === 'ConfigMap' && o.data?.['postgresql.conf']?.includes('shard 3'))!;
      const confOnly = folder();
      files(confOnly).data['postgresql.conf'] = files(confOnly).data['postgresql.conf'].replace(/^max_connections = \d+$/m, 'max_connections = 300');
      expect(found(confOnly)).toEqual([]);
      const again = folder();
      files(again).data['patroni.yml'] = files(again).data['patroni.yml'].replace('"max_connections": 400', '"max_connections": 300');
      expect(found(again)).toContain('pgbouncer-server-budget eu-west-1/pgbouncer.yaml spec.replicas');
    });
  });

  describe('fourth mutation round: ports', () => {
    it('PgBouncer\'s listen_port and Patroni\'s REST API moved off the ports their pods declare', () => {
      const objects = folder();
      const ini = objects.map((o) => o.object as any).find((o) => o.kind === 'ConfigMap' && o.data?.['pgbouncer.ini']?.includes('shard 3'))!;
      ini.data['pgbouncer.ini'] = ini.data['pgbouncer.ini'].replace(/^listen_port = 6432$/m, 'listen_port = 6433');
      const files = objects.map((o) => o.object as any).find((o) => o.kind === 'ConfigMap' && o.data?.['patroni.yml'])!;
      files.data['patroni.yml'] = files.data['patroni.yml'].replace('"listen": "0.0.0.0:8008"', '"listen": "0.0.0.0:8009"');
      const issues = found(objects);
      expect(issues).toContain('listen-port eu-west-1/pgbouncer.yaml spec.template.spec.containers');
      expect(issues).toContain('listen-port eu-west-1/postgres.yaml spec.template.spec.containers');
      expect(check(objects).filter((f) => f.rule === 'listen-port').map((f) => f.message)).toContain(
        `PgBouncer (listen_port) listens on 6433 (ConfigMap ${ini.metadata.name} pgbouncer.ini), and the containers that mount it declare 6432: Services, probes and policies reach it on those, and nothing answers`);
    });
  });

  describe('fifth mutation round: an exporter told to listen elsewhere', () => {
    it('a --web.listen-address off the declared port (its probes fail: the pod, PgBouncer too, leaves its Services); a second address on it is fine', () => {
      const objects = folder();
      const sts = get(objects, 'Deployment', 'bookedbarber-pgbouncer-shard-3').spec.template.spec;
      const c = sts.containers.findIndex((x: any) => x.name === 'exporter');
      expect(sts.containers[c].args).toEqual(['--web.listen-address=:9127']);
      sts.containers[c].args = ['--web.listen-address=:9187'];
      expect(found(objects)).toEqual([`listen-port eu-west-1/pgbouncer.yaml spec.template.spec.containers[${c}].args[0]`]);
      expect(check(objects).find((f) => f.rule === 'listen-port')!.message).toBe(
        'container "exporter" listens on 9187 (web.listen-address :9187), and declares 9127: its probes, Service and scrapes go there, and nothing answers (a failing probe takes the whole pod out of its Services)');
      // Two arguments, and Go's single dash: the same flag.
      sts.containers[c].args = ['-web.listen-address', '0.0.0.0:9188'];
      expect(found(objects)).toEqual([`listen-port eu-west-1/pgbouncer.yaml spec.template.spec.containers[${c}].args[0]`]);
      // The toolkit listens on every address given: one of them declared is enough.
      sts.containers[c].args = ['--web.listen-address=:9187', '--web.listen-address=:9127'];
      expect(found(objects)).toEqual([]);
      // The env form, without the flag.
      sts.containers[c].args = [];
      sts.containers[c].env.push({ name: 'PGBOUNCER_EXPORTER_WEB_LISTEN_ADDRESS', value: ':9100' });
      expect(found(objects)).toEqual([`listen-port eu-west-1/pgbouncer.yaml spec.template.spec.containers[${c}].env[${sts.containers[c].env.length - 1}].value`]);
    });

    it('the API\'s OpenTelemetry Prometheus exporter moved off its declared metrics port (the business metrics are never scraped)', () => {
      const objects = folder();
      const container = get(objects, 'Rollout', 'bookedbarber-api').spec.template.spec.containers[0];
      const i = container.env.findIndex((v: any) => v.name === 'OTEL_EXPORTER_PROMETHEUS_PORT');
      container.env[i].value = '9465';
      expect(found(objects)).toEqual([`listen-port eu-west-1/api.yaml spec.template.spec.containers[0].env[${i}].value`]);
      expect(check(objects).find((f) => f.rule === 'listen-port')!.message).toContain('the scrapes go to the declared port and find nothing there');
    });
  });

  describe('fifth mutation round: where alerts go', () => {
    it('Prometheus sending alerts to a port name or a Service the Alertmanager does not have (every alert fires to no one)', () => {
      const objects = folder();
      const am = get(objects, 'Prometheus', 'bookedbarber').spec.alerting.alertmanagers[0];
      expect(am).toMatchObject({ name: 'alertmanager-operated', port: 'web' });
      am.port = 'http-web';
      expect(found(objects)).toEqual(['ref-alertmanager-endpoint eu-west-1/monitoring.yaml spec.alerting.alertmanagers[0].port']);
      const byPort = check(objects).find((f) => f.rule === 'ref-alertmanager-endpoint')!;
      expect(byPort.message).toBe('Service bookedbarber-monitoring/alertmanager-operated has no port "http-web" (its ports: web 9093, tcp-mesh 9094, udp-mesh 9094): Prometheus keeps only the endpoints of that port, finds no Alertmanager, and every alert fires to no one');
      expect(byPort.hint).toBe('name one of its ports (web, tcp-mesh, udp-mesh)');
      am.port = 9093;
      expect(found(objects)).toEqual([]);
      am.name = 'bookedbarber-alertmanager';
      expect(found(objects)).toEqual(['ref-alertmanager-endpoint eu-west-1/monitoring.yaml spec.alerting.alertmanagers[0].name']);
    });

    it('an Alertmanager whose configuration names an AlertmanagerConfig that is not rendered (no routes, no receivers)', () => {
      const objects = folder();
      const spec = get(objects, 'Alertmanager', 'bookedbarber').spec;
      spec.alertmanagerConfiguration.name = 'bookedbarber-alerts';
      expect(found(objects)).toEqual(['ref-alertmanager-config eu-west-1/monitoring.yaml spec.alertmanagerConfiguration.name']);
      expect(check(objects).find((f) => f.rule === 'ref-alertmanager-config')!.hint).toBe('did you mean bookedbarber-alerting?');
    });
  });

  describe('fifth mutation round: recorded series', () => {
    /** The PrometheusRule (and its path) whose rule matches. */
    const ruleWhere = (objects: LoadedObject[], match: (rule: any) => boolean) => {
      for (const o of objects) {
        const obj = o.object as any;
        if (obj.kind !== 'PrometheusRule') continue;
        for (const [g, group] of obj.spec.groups.entries()) {
          for (const [r, rule] of group.rules.entries()) if (match(rule)) return { obj, rule, file: o.file, path: `spec.groups[${g}].rules[${r}]` };
        }
      }
      throw new Error('no such rule');
    };

    it('an alert reading a recorded series no rule records (it never fires), and a recording rule renamed under the alerts reading it', () => {
      const objects = folder();
      const alert = ruleWhere(objects, (r) => r.alert === 'ApiErrorBudgetBurn' && r.expr.includes('service:istio_request_success:ratio_rate1h'));
      alert.rule.expr = alert.rule.expr.replace('service:istio_request_success:ratio_rate1h', 'service:istio_request_success:ratio_rate_1h');
      expect(found(objects)).toEqual([`ref-recorded-series ${alert.file} ${alert.path}.expr`]);
      const f = check(objects).find((x) => x.rule === 'ref-recorded-series')!;
      expect(f.message).toBe('alert ApiErrorBudgetBurn reads service:istio_request_success:ratio_rate_1h, which no recording rule of the region records (a colon marks a recorded series): it never exists, so the alert never fires');
      expect(f.hint).toBe('did you mean service:istio_request_success:ratio_rate1h?');
      const fresh = folder();
      for (const o of fresh) {
        const obj = o.object as any;
        if (obj.kind !== 'PrometheusRule') continue;
        for (const g of obj.spec.groups) for (const r of g.rules) if (r.record === 'service:istio_request_success:ratio_rate1h') r.record = 'service:istio_request_success:ratio_rate_1h';
      }
      expect(found(fresh).length).toBeGreaterThanOrEqual(2);
      expect(new Set(found(fresh).map((x) => x.split(' ')[0]))).toEqual(new Set(['ref-recorded-series']));
    });

    it('the API\'s rule of a recorded series renamed while the web\'s keeps the name (the API\'s alerts read a series nobody records)', () => {
      const objects = folder();
      const record = ruleWhere(objects, (r) => r.record === 'service:istio_request_success:ratio_rate1h' && r.labels?.service === 'api');
      record.rule.record = 'service:istio_request_success:ratio_rate_1h';
      const alert = ruleWhere(objects, (r) => r.alert === 'ApiErrorBudgetBurn' && r.expr.includes('service:istio_request_success:ratio_rate1h{service="api"}'));
      expect(found(objects)).toContain(`ref-recorded-series ${alert.file} ${alert.path}.expr`);
      const f = check(objects).find((x) => x.rule === 'ref-recorded-series' && x.path === `${alert.path}.expr`)!;
      expect(f.message).toMatch(/^alert ApiErrorBudgetBurn reads service:istio_request_success:ratio_rate1h\{service="api"\}, and the region's recording rules of service:istio_request_success:ratio_rate1h set service to [^:]*web[^:]*: no such series is recorded, so the alert never fires$/);
    });

    it('a canary analysis querying a recorded series that does not exist (no data: every release aborted)', () => {
      const objects = folder();
      const template = objects.find((o) => (o.object as any).kind === 'AnalysisTemplate' && (o.object as any).spec.metrics.some((m: any) => m.provider?.prometheus))!;
      const metrics = (template.object as any).spec.metrics;
      const m = metrics.findIndex((x: any) => x.provider?.prometheus);
      metrics[m].provider.prometheus.query = 'sum(service:istio_requests:rate2m{service="api"})';
      expect(found(objects)).toEqual([`ref-recorded-series ${template.file} spec.metrics[${m}].provider.prometheus.query`]);
      expect(check(objects).find((x) => x.rule === 'ref-recorded-series')!.message).toMatch(/^analysis metric \S+ reads service:istio_requests:rate2m, which no recording rule of the region records .*: it never exists, so the analysis finds no data and the release is aborted$/);
    });
  });

  describe('fifth mutation round: the mesh\'s tracing provider', () => {
    const withGlobal = () => distLoadedObjects(['us-east-1', 'argocd']);
    const istiod = (objects: LoadedObject[]) => {
      const o = objects.find((x) => (x.object as any).kind === 'Application' && (x.object as any).metadata.name === 'bookedbarber-us-east-1-istiod')!;
      const sources = (o.object as any).spec.sources;
      const s = sources.findIndex((x: any) => x.chart === 'istiod');
      return { file: o.file, provider: sources[s].helm.valuesObject.meshConfig.extensionProviders[0], path: `spec.sources[${s}].helm.valuesObject.meshConfig.extensionProviders[0]` };
    };

    it('a Telemetry naming a tracing provider istiod does not have (no sidecar sends a span)', () => {
      const objects = withGlobal();
      const telemetry = get(objects, 'Telemetry', 'mesh-default');
      expect(telemetry.spec.tracing[0].providers[0].name).toBe(istiod(objects).provider.name);
      telemetry.spec.tracing[0].providers[0].name = 'otel';
      expect(found(objects)).toEqual(['ref-mesh-provider us-east-1/mesh.yaml spec.tracing[0].providers[0].name']);
      expect(check(objects).find((f) => f.rule === 'ref-mesh-provider')!.hint).toBe('name one of istiod\'s meshConfig.extensionProviders (otel-tracing), or add it to the istiod Application\'s values');
      // Without the global folder (npm run validate dist/us-east-1) istiod's providers are not in view.
      const alone = distLoadedObjects(['us-east-1']);
      get(alone, 'Telemetry', 'mesh-default').spec.tracing[0].providers[0].name = 'otel';
      expect(found(alone)).toEqual([]);
    });

    it('istiod\'s OpenTelemetry provider sending gRPC to the collector\'s HTTP receiver, or HTTP to its gRPC one', () => {
      const objects = withGlobal();
      const { file, provider, path } = istiod(objects);
      expect(provider.opentelemetry).toEqual({ port: 4317, service: 'otel-collector.bookedbarber-monitoring.svc.cluster.local' });
      provider.opentelemetry.port = 4318;
      expect(found(objects)).toEqual([`otlp-protocol ${file} ${path}.opentelemetry.port`]);
      const f = check(objects).find((x) => x.rule === 'otlp-protocol')!;
      expect(f.message).toBe('extension provider otel-tracing (us-east-1) sends OTLP over gRPC (it has no http section) to port 4318 (otlp-http) of bookedbarber-monitoring/otel-collector (opentelemetry-operator\'s Service for the collector\'s receivers), which speaks http: every sidecar\'s export is refused, and no span reaches the collector');
      expect(f.hint).toBe('use port 4317 (otlp-grpc), or add an http section to export over HTTP');
      provider.opentelemetry.http = { path: '/v1/traces', timeout: '5s' };
      expect(found(objects)).toEqual([]);
      provider.opentelemetry.port = 4317;
      expect(found(objects)).toEqual([`otlp-protocol ${file} ${path}.opentelemetry.port`]);
    });
  });

  describe('fifth mutation round: addresses in a collector\'s configuration', () => {
    it('the sampler exporting to a Jaeger port that does not exist, and the load-balancing resolver to a port the samplers do not listen on', () => {
      const objects = folder();
      const sampler = get(objects, 'OpenTelemetryCollector', 'otel-sampler').spec.config.exporters;
      const name = Object.keys(sampler).find((k) => /jaeger/.test(k))!;
      sampler[name].endpoint = sampler[name].endpoint.replace(':4317', ':4319');
      expect(found(objects)).toEqual([`ref-config-endpoint eu-west-1/tracing.yaml spec.config.exporters["${name}"].endpoint`]);
      const fresh = folder();
      const resolver = get(fresh, 'OpenTelemetryCollector', 'otel').spec.config.exporters.loadbalancing.resolver.dns;
      resolver.port = '4320';
      expect(found(fresh)).toEqual(['ref-config-endpoint eu-west-1/tracing.yaml spec.config.exporters.loadbalancing.resolver.dns.port']);
      expect(check(fresh).find((f) => f.rule === 'ref-config-endpoint')!.message).toContain('has no port 4320 (its ports: 4317, 8888)');
    });
  });

  describe('fifth mutation round: a collector\'s own configuration', () => {
    it('a pipeline listing a processor, and the service an extension, that are not defined (the collector does not start); a pipeline without a receiver', () => {
      const objects = folder();
      const config = get(objects, 'OpenTelemetryCollector', 'otel').spec.config;
      const p = config.service.pipelines.traces.processors.indexOf('resource/region');
      config.service.pipelines.traces.processors[p] = 'resource';
      config.service.extensions = ['health_check', 'pprof'];
      expect(found(objects).sort()).toEqual([
        'otel-pipeline eu-west-1/tracing.yaml spec.config.service.extensions[1]',
        `otel-pipeline eu-west-1/tracing.yaml spec.config.service.pipelines.traces.processors[${p}]`,
      ]);
      expect(check(objects).find((f) => f.path.endsWith(`processors[${p}]`))!.hint).toBe('did you mean resource/region?');
      const fresh = folder();
      get(fresh, 'OpenTelemetryCollector', 'otel-sampler').spec.config.service.pipelines.traces.receivers = [];
      expect(found(fresh)).toEqual(['otel-pipeline eu-west-1/tracing.yaml spec.config.service.pipelines.traces.receivers']);
    });

    it('the load-balancing exporter resolving the samplers\' ClusterIP Service instead of the headless one (traces split across samplers)', () => {
      const objects = folder();
      const dns = get(objects, 'OpenTelemetryCollector', 'otel').spec.config.exporters.loadbalancing.resolver.dns;
      dns.hostname = dns.hostname.replace('-collector-headless.', '-collector.');
      expect(found(objects)).toEqual(['otel-lb-headless eu-west-1/tracing.yaml spec.config.exporters.loadbalancing.resolver.dns.hostname']);
      expect(check(objects).find((f) => f.rule === 'otel-lb-headless')!.hint).toBe('resolve the headless otel-sampler-collector-headless instead');
    });
  });

  describe('fifth mutation round: a file a command names', () => {
    /** The canary load test's k6 container (a Job run by an AnalysisTemplate) and where it is. */
    const k6 = (objects: LoadedObject[]) => {
      const o = objects.find((x) => (x.object as any).kind === 'AnalysisTemplate' && JSON.stringify(x.object).includes('k6 run'))!;
      const metrics = (o.object as any).spec.metrics;
      const m = metrics.findIndex((x: any) => x.provider?.job);
      const spec = metrics[m].provider.job.spec.template.spec;
      const c = spec.containers.findIndex((x: any) => x.name === 'k6');
      const textAt = spec.containers[c].command ? 'command' : 'args';
      const t = spec.containers[c][textAt].findIndex((x: string) => x.includes('k6 run'));
      return { file: o.file, container: spec.containers[c], path: `spec.metrics[${m}].provider.job.spec.template.spec.containers[${c}].${textAt}[${t}]` };
    };

    it('the load test script\'s volume mounted elsewhere, and a script name the volume does not hold (every canary aborts)', () => {
      const objects = folder();
      const { file, container, path } = k6(objects);
      container.volumeMounts.find((v: any) => v.mountPath === '/scripts').mountPath = '/scripts/k6';
      expect(found(objects)).toEqual([`ref-config-file ${file} ${path}`]);
      expect(check(objects).find((f) => f.rule === 'ref-config-file')!.hint).toBe('name /scripts/k6/load-test.js, or mount volume script at /scripts');
      const fresh = folder();
      const again = k6(fresh);
      const at = again.path.match(/\[(\d+)\]$/)![1]!;
      const list = again.container[again.path.includes('.command[') ? 'command' : 'args'];
      list[Number(at)] = list[Number(at)].replace('/scripts/load-test.js', '/scripts/loadtest.js');
      expect(found(fresh)).toEqual([`ref-config-file ${again.file} ${again.path}`]);
      expect(check(fresh).find((f) => f.rule === 'ref-config-file')!.message).toContain('container "k6" names /scripts/loadtest.js, and volume script mounted at /scripts holds load-test.js, not loadtest.js');
    });

    it('the shard map naming a password file the API\'s secret volume does not hold (the API has no password for that shard)', () => {
      const objects = folder();
      const map = get(objects, 'ConfigMap', 'bookedbarber-shard-map').data;
      const json = JSON.parse(map['shard-map.json']);
      const file = json.shards[0].readWrite.passwordFile as string;
      expect(file).toMatch(/\/shard-\d+$/);
      json.shards[0].readWrite.passwordFile = file.replace(/shard-(\d+)$/, 'shard$1');
      map['shard-map.json'] = JSON.stringify(json);
      expect(found(objects)).toContain('ref-config-file eu-west-1/shard-map.yaml data["shard-map.json"]');
      expect(check(objects).find((f) => f.rule === 'ref-config-file')!.message).toMatch(/^shard-map\.json of ConfigMap bookedbarber-shard-map, read by container "api" of Rollout bookedbarber-app\/bookedbarber-api: names \S+\/shard\d+, and volume \S+ mounted at \S+ holds .*shard-\d+.*, not shard\d+: the program finds no such file$/);
    });

    it('the load test ending its sidecar on the health-check port (the Job never completes, the analysis times out)', () => {
      const objects = folder();
      const { file, container, path } = k6(objects);
      const list = container[path.includes('.command[') ? 'command' : 'args'];
      const i = Number(path.match(/\[(\d+)\]$/)![1]);
      list[i] = list[i].replace('127.0.0.1:15020/quitquitquit', '127.0.0.1:15021/quitquitquit');
      expect(found(objects)).toEqual([`sidecar-quit-port ${file} ${path}`]);
    });
  });

  describe('fifth mutation round: the HPA\'s custom metric', () => {
    it('a metric name the region\'s prometheus-adapter does not serve (the API scales on CPU alone)', () => {
      const objects = distLoadedObjects(['us-east-1', 'argocd']);
      const metrics = get(objects, 'HorizontalPodAutoscaler', 'bookedbarber-api').spec.metrics;
      const i = metrics.findIndex((m: any) => m.type === 'Pods');
      metrics[i].pods.metric.name = 'istio_requests_per_sec';
      expect(found(objects)).toEqual([`ref-hpa-metric us-east-1/api.yaml spec.metrics[${i}].pods.metric.name`]);
      expect(check(objects).find((f) => f.rule === 'ref-hpa-metric')!.hint).toBe('did you mean istio_requests_per_second?');
      // Without the global folder the adapter's rules are not in view.
      const alone = distLoadedObjects(['us-east-1']);
      get(alone, 'HorizontalPodAutoscaler', 'bookedbarber-api').spec.metrics[i].pods.metric.name = 'istio_requests_per_sec';
      expect(found(alone)).toEqual([]);
    });
  });

  describe('fifth mutation round: a script\'s environment', () => {
    it('bootstrap.sql reading a password variable the Spilo container no longer sets (a new shard is never initialised)', () => {
      const objects = folder();
      const spec = get(objects, 'StatefulSet', 'bookedbarber-postgres-shard-3').spec.template.spec;
      const c = spec.containers.findIndex((x: any) => (x.env ?? []).some((v: any) => v.name === 'PGBOUNCER_AUTH_PASSWORD'));
      spec.containers[c].env.find((v: any) => v.name === 'PGBOUNCER_AUTH_PASSWORD').name = 'PGBOUNCER_PASSWORD';
      expect(found(objects)).toEqual([`ref-script-env eu-west-1/postgres.yaml spec.template.spec.containers[${c}].env`]);
      expect(check(objects).find((f) => f.rule === 'ref-script-env')!.message).toMatch(/^bootstrap\.sql \(ConfigMap bookedbarber-postgres-shard-3-files\) reads PGBOUNCER_AUTH_PASSWORD from the environment/);
    });
  });

  describe('fifth mutation round: a pod\'s own DNS name', () => {
    it('Redis announcing itself through the ClusterIP Service instead of its StatefulSet\'s headless one (Sentinel hands out a name that never resolves)', () => {
      const objects = folder();
      const spec = get(objects, 'StatefulSet', 'bookedbarber-redis-cache').spec.template.spec;
      const c = spec.containers.findIndex((x: any) => (x.env ?? []).some((v: any) => v.name === 'REDIS_ANNOUNCE_HOST'));
      const i = spec.containers[c].env.findIndex((v: any) => v.name === 'REDIS_ANNOUNCE_HOST');
      spec.containers[c].env[i].value = spec.containers[c].env[i].value.replace('bookedbarber-redis-cache-headless.', 'bookedbarber-redis-cache.');
      expect(found(objects)).toEqual([`pod-dns-name eu-west-1/redis.yaml spec.template.spec.containers[${c}].env[${i}].value`]);
      const f = check(objects).find((x) => x.rule === 'pod-dns-name')!;
      expect(f.message).toContain('its pods are named through bookedbarber-redis-cache-headless (the StatefulSet\'s serviceName), not bookedbarber-redis-cache');
      expect(f.hint).toBe('use $(POD_NAME).bookedbarber-redis-cache-headless.bookedbarber-data.svc.cluster.local');
    });
  });

  describe('fifth mutation round: what Prometheus may discover', () => {
    it('the discovery Role of a scraped namespace granting endpoints instead of EndpointSlices (its targets are never scraped)', () => {
      const objects = folder();
      const role = objects.map((o) => o.object as any).find((o) => o.kind === 'Role' && o.metadata.namespace === 'argo-rollouts' && o.metadata.name === 'bookedbarber-prometheus-discovery')!;
      const rule = role.rules.find((r: any) => r.resources.includes('endpointslices'));
      rule.apiGroups = [''];
      rule.resources = ['endpoints'];
      expect(found(objects)).toEqual(['prometheus-discovery-rbac eu-west-1/monitoring.yaml spec.serviceAccountName']);
      expect(check(objects).find((f) => f.rule === 'prometheus-discovery-rbac')!.message).toMatch(/^ServiceAccount bookedbarber-monitoring\/prometheus may not list and watch discovery\.k8s\.io endpointslices in argo-rollouts, where ServiceMonitor \S+'s targets are \(serviceDiscoveryRole EndpointSlice\)/);
      // Without the RoleBinding nothing is granted there.
      const fresh = folder();
      const i = fresh.findIndex((o) => (o.object as any).kind === 'RoleBinding' && (o.object as any).metadata.namespace === 'argo-rollouts' && (o.object as any).metadata.name === 'bookedbarber-prometheus-discovery');
      fresh.splice(i, 1);
      expect(found(fresh)).toEqual(['prometheus-discovery-rbac eu-west-1/monitoring.yaml spec.serviceAccountName']);
    });
  });

  describe('fifth mutation round: a scrape moved to another port', () => {
    it('a PodMonitor rewriting the address to the sidecar\'s health port, or to a port nothing listens on (the SLIs go missing)', () => {
      const objects = folder();
      const o = objects.find((x) => (x.object as any).kind === 'PodMonitor' && JSON.stringify(x.object).includes('$1:15020'))!;
      const endpoints = (o.object as any).spec.podMetricsEndpoints;
      const i = endpoints.findIndex((ep: any) => (ep.relabelings ?? []).some((r: any) => r.replacement === '$1:15020'));
      const j = endpoints[i].relabelings.findIndex((r: any) => r.replacement === '$1:15020');
      endpoints[i].relabelings[j].replacement = '$1:15021';
      const at = `ref-monitor-target ${o.file} spec.podMetricsEndpoints[${i}].relabelings[${j}].replacement`;
      expect(found(objects)).toEqual([at]);
      const f = check(objects).find((x) => x.rule === 'ref-monitor-target')!;
      expect(f.message).toContain("the Istio sidecar's port 15021 serves /healthz/ready, not /stats/prometheus");
      expect(f.hint).toBe('move it to $1:15020 or $1:15090');
      endpoints[i].relabelings[j].replacement = '$1:9999';
      expect(found(objects)).toEqual([at]);
      expect(check(objects).find((x) => x.rule === 'ref-monitor-target')!.message).toContain('nor their sidecar, listens on 9999');
    });
  });

  describe('fourth mutation round: Redis and Sentinel ports (m20)', () => {
    const tier = (objects: LoadedObject[]) => objects.map((o) => o.object as any).find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'bookedbarber-redis-cache')!;
    const listenFindings = (objects: LoadedObject[]) => check(objects).filter((f) => f.rule === 'listen-port').map((f) => `${f.object}: ${f.message.split(' (ConfigMap')[0]}`);

    it('redis.conf and sentinel.conf moved off the declared ports: each judged in the pods that start from it, though both pods mount both files', () => {
      const objects = folder();
      const cm = tier(objects);
      cm.data['redis.conf'] = cm.data['redis.conf'].replace(/^port 6379$/m, 'port 6380');
      cm.data['sentinel.conf'] = cm.data['sentinel.conf'].replace(/^port 26379$/m, 'port 26380');
      expect(listenFindings(objects).sort()).toEqual([
        'StatefulSet bookedbarber-data/bookedbarber-redis-cache-sentinel: Sentinel (sentinel.conf port) listens on 26380',
        'StatefulSet bookedbarber-data/bookedbarber-redis-cache: Redis (redis.conf port) listens on 6380',
      ]);
    });

    it('working variants: the shipped files (each pod declares its own file\'s port, not the other\'s), port 0 (no TCP), a container that names neither file', () => {
      expect(listenFindings(folder())).toEqual([]);
      const off = folder();
      tier(off).data['redis.conf'] = tier(off).data['redis.conf'].replace(/^port 6379$/m, 'port 0');
      expect(listenFindings(off)).toEqual([]);
      const unnamed = folder();
      tier(unnamed).data['redis.conf'] = tier(unnamed).data['redis.conf'].replace(/^port 6379$/m, 'port 6380');
      const redis = unnamed.map((o) => o.object as any).find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'bookedbarber-redis-cache')!;
      for (const c of redis.spec.template.spec.containers) c.env = (c.env ?? []).filter((e: any) => !String(e.value ?? '').endsWith('/redis.conf'));
      expect(listenFindings(unnamed)).toEqual([]);
    });
  });

  describe('fourth mutation round: Argo CD directory globs', () => {
    const setWith = (objects: LoadedObject[], key: 'include' | 'exclude') => objects.map((o) => o.object as any)
      .find((o) => o.kind === 'ApplicationSet' && o.spec.template.spec.source?.directory?.[key]?.startsWith('{'))!;

    it('an include naming storage.yml (Argo CD syncs no StorageClass; the PVCs stay Pending), and an exclude naming a file that is not there', () => {
      const objects = distLoadedObjects(['us-east-1', 'eu-west-1', 'argocd']);
      const nodes = setWith(objects, 'include');
      nodes.spec.template.spec.source.directory.include = nodes.spec.template.spec.source.directory.include.replace('storage.yaml', 'storage.yml');
      const apps = setWith(objects, 'exclude');
      apps.spec.template.spec.source.directory.exclude = apps.spec.template.spec.source.directory.exclude.replace('mesh-ca.yaml', 'meshca.yaml');
      expect(found(objects)).toEqual([
        'argocd-directory-glob argocd/argocd.yaml spec.template.spec.source.directory.include',
        'argocd-directory-glob argocd/argocd.yaml spec.template.spec.source.directory.exclude',
      ]);
      expect(check(objects).filter((f) => f.rule === 'argocd-directory-glob').map((f) => f.hint)).toEqual(['did you mean storage.yaml?', 'did you mean mesh-ca.yaml?']);
      // The argocd folder alone: no region folder in view, nothing to judge.
      const alone = distLoadedObjects(['argocd']);
      setWith(alone, 'include').spec.template.spec.source.directory.include = '{nodes.yaml,storage.yml}';
      expect(found(alone)).toEqual([]);
    });
  });

  describe('fourth mutation round: the sessions proxy', () => {
    it('its health check asking the Sentinels for a master they do not monitor (no server ever up)', () => {
      const objects = distLoadedObjects(['us-east-1']);
      const cm = objects.map((o) => o.object as any).find((o) => o.kind === 'ConfigMap' && o.data?.['haproxy.cfg'])!;
      cm.data['haproxy.cfg'] = cm.data['haproxy.cfg'].replace('get-master-addr-by-name sessions', 'get-master-addr-by-name session');
      expect(found(objects)).toEqual(['ref-redis-master us-east-1/redis.yaml data["haproxy.cfg"]']);
      expect(check(objects).find((f) => f.rule === 'ref-redis-master')!.hint).toBe('use sessions');
      // haproxy's escaped spaces are the same command.
      cm.data['haproxy.cfg'] = cm.data['haproxy.cfg'].replaceAll('SENTINEL get-master-addr-by-name session', 'SENTINEL\\ get-master-addr-by-name\\ session');
      expect(cm.data['haproxy.cfg']).toContain('SENTINEL\\ get-master-addr-by-name\\ session\\r');
      expect(found(objects)).toEqual(['ref-redis-master us-east-1/redis.yaml data["haproxy.cfg"]']);
    });
  });

  describe('fourth mutation round: addresses in libpq keyword form', () => {
    it('a PgBouncer database on a port its Postgres Service does not serve (every server connection refused)', () => {
      const objects = folder();
      const ini = objects.map((o) => o.object as any).find((o) => o.kind === 'ConfigMap' && o.data?.['pgbouncer.ini']?.includes('shard 3'))!;
      ini.data['pgbouncer.ini'] = ini.data['pgbouncer.ini'].replace(/^(bookings = host=\S+) port=5432/m, '$1 port=5433');
      expect(found(objects)).toEqual([`ref-config-endpoint eu-west-1/pgbouncer.yaml data["pgbouncer.ini"]`]);
      expect(check(objects).find((f) => f.rule === 'ref-config-endpoint')!.message).toMatch(/:5433: Service bookedbarber-data\/\S+ has no port 5433 \(its ports: 5432, 8008\): connection refused$/);
    });
  });

  describe('fourth mutation round: addresses outside ConfigMaps', () => {
    it('an analysis querying Prometheus on a port its pods do not serve, and the load test aimed at a port the canary Service lacks (each aborts every release)', () => {
      const objects = folder();
      const health = get(objects, 'AnalysisTemplate', 'bookedbarber-api-canary-health');
      health.spec.metrics[0].provider.prometheus.address = health.spec.metrics[0].provider.prometheus.address.replace(':9090', ':9091');
      const load = get(objects, 'AnalysisTemplate', 'bookedbarber-api-load-test');
      const text = JSON.stringify(load.spec);
      const target = /http:\/\/[a-z0-9-]+\.bookedbarber-app\.svc\.cluster\.local:8080/.exec(text)![0];
      Object.assign(load.spec, JSON.parse(text.split(target).join(target.replace(':8080', ':80'))));
      const issues = check(objects).filter((f) => f.rule === 'ref-config-endpoint');
      expect(issues.map((f) => f.path)).toEqual([
        'spec.metrics[0].provider.prometheus.address',
        expect.stringMatching(/^spec\.metrics\[\d+\]\.provider\.job\.spec\.template\.spec\.containers\[\d+\]\.(env\[\d+\]\.value|args\[\d+\]|command\[\d+\])$/),
      ]);
      expect(issues[0]!.message).toBe('prometheus-operated.bookedbarber-monitoring.svc.cluster.local:9091: prometheus-operated (prometheus-operator\'s Service in bookedbarber-monitoring) reaches pods that listen on 8080, 9090, not 9091: connection refused');
    });
  });

  describe('fourth mutation round: ServiceMonitors', () => {
    it('Alertmanager\'s ServiceMonitor on a port name its operator-made Service does not have, and one selecting no Service (where no other operator makes Services)', () => {
      const objects = folder();
      const monitor = get(objects, 'ServiceMonitor', 'bookedbarber-alertmanager');
      monitor.spec.endpoints[0].port = 'http-web';
      expect(found(objects)).toEqual(['ref-monitor-target eu-west-1/service-monitors.yaml spec.endpoints[0].port']);
      expect(check(objects).find((f) => f.rule === 'ref-monitor-target')!.message).toBe('port http-web is no port of the Services it selects (alertmanager-operated: tcp-mesh, udp-mesh, web): Prometheus finds no target');
      monitor.spec.endpoints[0].port = 'web';
      monitor.spec.selector.matchLabels = { 'operated-alertmanagr': 'true' };
      // The namespace holds OpenTelemetry collectors, whose operator makes Services with labels of its own: not judged.
      expect(found(objects)).toEqual([]);
      const withoutCollectors = objects.filter((o) => (o.object as any).kind !== 'OpenTelemetryCollector');
      expect(found(withoutCollectors)).toContain('ref-monitor-target eu-west-1/service-monitors.yaml spec.selector');
    });
  });

  describe('fourth mutation round: Argo CD source repositories', () => {
    it('a region set\'s repoURL with a typo (its AppProject refuses it: no region syncs); the same URL without .git, in capitals, passes', () => {
      const objects = distLoadedObjects(['argocd']);
      const set = get(objects, 'ApplicationSet', 'bookedbarber-regions');
      const url: string = set.spec.template.spec.source.repoURL;
      set.spec.template.spec.source.repoURL = url.replace('bookedbarber-gitops', 'bookedbarber-gitop');
      expect(found(objects)).toEqual(['argocd-source-repo argocd/argocd.yaml spec.template.spec.source.repoURL']);
      expect(check(objects).find((f) => f.rule === 'argocd-source-repo')!.hint).toBe(`did you mean ${url}?`);
      set.spec.template.spec.source.repoURL = url.replace(/\.git$/, '').toUpperCase().replace('HTTPS', 'https');
      expect(found(objects)).toEqual([]);
    });
  });

  describe('fourth mutation round: DestinationRule subsets', () => {
    it('a subset pinned by hand to a version no pod carries: no endpoints, 503 for every request routed to it', () => {
      const objects = folder();
      const pod = get(objects, 'Rollout', 'bookedbarber-api').spec.template.metadata.labels;
      const dr = get(objects, 'DestinationRule', 'bookedbarber-api');
      const i = dr.spec.subsets.findIndex((x: any) => x.name === 'stable');
      dr.spec.subsets[i].labels['app.kubernetes.io/version'] = '0.0.1';
      expect(pod['app.kubernetes.io/version']).not.toBe('0.0.1');
      expect(found(objects)).toEqual([`ref-istio-subset eu-west-1/mesh.yaml spec.subsets[${i}].labels`]);
      expect(check(objects).find((f) => f.rule === 'ref-istio-subset')!.message).toContain('no pod of Service bookedbarber-app/bookedbarber-api carries');
    });
  });

  describe('Argo CD destinations', () => {
    it('a destination the project does not list, a mistyped server, and a namespace of the region the project does not permit', () => {
      const objects = distLoadedObjects(['us-east-1', 'argocd']);
      expect(found(objects)).toEqual([]);
      get(objects, 'ApplicationSet', 'bookedbarber-regions').spec.template.spec.destination.namespace = 'bookedbarber-ap';
      const rollouts = get(objects, 'Application', 'bookedbarber-us-east-1-argo-rollouts');
      rollouts.spec.destination.server = rollouts.spec.destination.server.replace('us-east-1', 'us-east-2');
      const project = get(objects, 'AppProject', 'bookedbarber');
      project.spec.destinations = project.spec.destinations.filter((d: any) => !(d.name === 'bookedbarber-us-east-1' && d.namespace === 'bookedbarber-data'));
      const issues = check(objects).filter((f) => f.rule === 'argocd-destination');
      // The template's namespace fails for every region; the add-on's server; us-east-1's data namespace (capacity and regions sets).
      expect(issues.filter((f) => f.object === 'ApplicationSet argocd/bookedbarber-regions' && f.message.startsWith('destination ')).length).toBe(6);
      expect(issues.filter((f) => f.object === 'Application argocd/bookedbarber-us-east-1-argo-rollouts').map((f) => f.path)).toEqual(['spec.destination']);
      expect(issues.some((f) => f.message.startsWith('objects of us-east-1 live in namespace bookedbarber-data'))).toBe(true);
    });
  });

  // The validator blocks synth: configurations that work on a cluster must pass (review of these rules).
  describe('what works on a cluster passes', () => {
    it('Istio: a VirtualService host *, a Rollout naming its VirtualService as name.namespace', () => {
      const objects = folder();
      get(objects, 'VirtualService', 'bookedbarber-web').spec.hosts = ['*'];
      get(objects, 'Rollout', 'bookedbarber-api').spec.strategy.canary.trafficRouting.istio.virtualService.name = 'bookedbarber-api.bookedbarber-app';
      expect(found(objects)).toEqual([]);
    });

    it('Istio: but a dotted short name is taken as written (no cluster), and a Gateway host of another namespace binds nothing', () => {
      const objects = folder();
      const web = get(objects, 'VirtualService', 'bookedbarber-web');
      web.spec.http[0].route[0].destination.host = 'bookedbarber-web.bookedbarber-app';
      expect(found(objects)).toEqual(['ref-istio-destination eu-west-1/mesh.yaml spec.http[0].route[0].destination.host']);
      const again = folder();
      const gw = get(again, 'Gateway', 'bookedbarber-public');
      gw.spec.servers = gw.spec.servers.map((srv: any) => ({ ...srv, hosts: srv.hosts.map((h: string) => h.replace(/^\.\//, 'istio-system/')) }));
      expect(found(again).filter((f) => f.startsWith('ref-istio-gateway-host')).length).toBeGreaterThan(0);
      const rollout = get(again, 'Rollout', 'bookedbarber-api').spec.strategy.canary.trafficRouting.istio;
      rollout.virtualService.name = 'bookedbarber-app/bookedbarber-api';
      expect(found(again)).toContain('ref-rollout eu-west-1/api.yaml spec.strategy.canary.trafficRouting.istio.virtualService.name');
    });

    it('monitoring: a PodMonitor over any namespace; secrets: keys a template from elsewhere writes', () => {
      const objects = folder();
      const monitor = get(objects, 'PodMonitor', 'bookedbarber-api');
      monitor.spec.namespaceSelector = { any: true };
      const exporter = get(objects, 'Deployment', 'bookedbarber-pgbouncer-shard-3').spec.template.spec.containers[1];
      exporter.env[0].valueFrom.secretKeyRef.key = 'dsn';
      const es = objects.find((o: any) => o.object.kind === 'ExternalSecret' && o.object.spec.target?.name === exporter.env[0].valueFrom.secretKeyRef.name)!.object as any;
      es.spec.target.template.templateFrom = [{ literal: 'dsn: {{ .x }}' }];
      expect(found(objects)).toEqual([]);
    });

    it('analysis arguments: passed by valueFrom, a template default not passed, a tag with spaces, a step without arguments', () => {
      const objects = folder();
      const steps = get(objects, 'Rollout', 'bookedbarber-api').spec.strategy.canary.steps as any[];
      const withArgs = steps.filter((s) => s.analysis?.args);
      withArgs[0].analysis.args[0] = { name: 'canary-revision', valueFrom: { podTemplateHashValue: 'Latest' } };
      const template = get(objects, 'AnalysisTemplate', 'bookedbarber-api-canary-health');
      template.spec.args.push({ name: 'window', value: '2m' });
      template.spec.metrics[0].provider.prometheus.query = template.spec.metrics[0].provider.prometheus.query.replace('{{args.canary-revision}}', '{{ args.canary-revision }}').replace('[2m]', '[{{args.window}}]');
      expect(found(objects)).toEqual([]);
      // An argument declared only by a template the named one nests (spec.templates), and one passed without a value (it resolves to "").
      const again = folder();
      const health = get(again, 'AnalysisTemplate', 'bookedbarber-api-canary-health');
      const entry = again.find((o) => o.object === health)!;
      const nested = { apiVersion: 'argoproj.io/v1alpha1', kind: 'AnalysisTemplate', metadata: { ...health.metadata, name: 'bookedbarber-api-extra' }, spec: { args: [{ name: 'service' }], metrics: [] } };
      again.push({ ...entry, index: entry.index + 1000, object: nested });
      health.spec.templates = [{ templateName: 'bookedbarber-api-extra' }];
      const healthSteps = (get(again, 'Rollout', 'bookedbarber-api').spec.strategy.canary.steps as any[]).filter((x) => x.analysis?.args);
      for (const step of healthSteps) step.analysis.args.push({ name: 'service', value: 'api' });
      healthSteps[0].analysis.args[0] = { name: 'canary-revision' };
      expect(found(again)).toEqual([]);
    });

    it('affinity: a term selecting another workload\'s pods, with matchExpressions, or pods of another namespace', () => {
      const objects = folder();
      const sts = objects.map((o) => o.object as any).find((o) => o.kind === 'StatefulSet' && o.spec.template.spec.affinity?.podAntiAffinity)!;
      const term = sts.spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0];
      term.labelSelector = { matchExpressions: [{ key: 'application', operator: 'In', values: ['spilo'] }] };
      const pgbouncer = get(objects, 'Deployment', 'bookedbarber-pgbouncer-shard-3').spec.template;
      sts.spec.template.spec.affinity.podAffinity = { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: { topologyKey: 'topology.kubernetes.io/zone', labelSelector: { matchLabels: pgbouncer.metadata.labels } } }] };
      sts.spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution.push({ weight: 1, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', namespaces: ['istio-system'], labelSelector: { matchLabels: { app: 'istio-ingressgateway' } } } });
      // A Job's pods (no long-running workload) and a label only the controller sets.
      const job = objects.map((o) => o.object as any).find((o) => o.kind === 'Job' && o.metadata.namespace === sts.metadata.namespace)!;
      sts.spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution.push(
        { weight: 1, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: job.spec.template.metadata.labels } } },
        { weight: 1, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchExpressions: [{ key: 'controller-revision-hash', operator: 'Exists' }] } } },
      );
      expect(found(objects)).toEqual([]);
    });

    it('Patroni: label values as the file sets them (primary), and a file without all three values is not judged', () => {
      const objects = folder();
      for (const o of objects.map((x) => x.object as any)) {
        if (o.kind === 'ConfigMap' && o.data?.['patroni.yml']) o.data['patroni.yml'] = o.data['patroni.yml'].replace(/"leader_label_value": "master"/, '"leader_label_value": "primary"').replace(/"standby_leader_label_value": "master"/, '"standby_leader_label_value": "primary"');
        if (o.kind === 'Service' && o.spec.selector?.['spilo-role'] === 'master') o.spec.selector['spilo-role'] = 'primary';
      }
      expect(found(objects)).toEqual([]);
      const again = folder();
      for (const o of again.map((x) => x.object as any)) {
        if (o.kind === 'ConfigMap' && o.data?.['patroni.yml']) o.data['patroni.yml'] = o.data['patroni.yml'].replace(/\s*"follower_label_value": "replica",?/, '');
        if (o.kind === 'Service' && o.spec.selector?.['spilo-role'] === 'replica') o.spec.selector['spilo-role'] = 'follower';
      }
      expect(found(again)).toEqual([]);
    });

    it('PgBouncer: pools within the budget however they are written (no cap but a pool size, per-database pool_size)', () => {
      const objects = folder();
      const cm = objects.map((o) => o.object as any).find((o) => o.kind === 'ConfigMap' && o.data?.['pgbouncer.ini']?.includes('shard 3'))!;
      cm.data['pgbouncer.ini'] = cm.data['pgbouncer.ini'].replace(/^max_db_connections = \d+$/m, 'max_db_connections = 0').replace(/^(bookings = .*)$/m, '$1 pool_size=50');
      expect(found(objects)).toEqual([]);
      // Five pods replaced only after the old ones are gone (Recreate: no surge, none stopping beside them); a database's own cap 0 is the global one.
      const again = folder();
      const deployment = get(again, 'Deployment', 'bookedbarber-pgbouncer-shard-3');
      deployment.spec.replicas = 5;
      deployment.spec.strategy = { type: 'Recreate' };
      const ini = again.map((o) => o.object as any).find((o) => o.kind === 'ConfigMap' && o.data?.['pgbouncer.ini']?.includes('shard 3'))!;
      ini.data['pgbouncer.ini'] = ini.data['pgbouncer.ini'].replace(/^(bookings = .*)$/m, '$1 max_db_connections=0');
      expect(found(again)).toEqual([]);
      deployment.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };
      expect(found(again)).toContain('pgbouncer-server-budget eu-west-1/pgbouncer.yaml spec.replicas');
    });

    it('Patroni: a workload mounting only another key of the files ConfigMap, and pods whose env overrides the scope', () => {
      const objects = folder();
      const files = objects.map((o) => o.object as any).find((o) => o.kind === 'ConfigMap' && o.data?.['patroni.yml'])!;
      const other = get(objects, 'Deployment', 'bookedbarber-pgbouncer-shard-3').spec.template.spec;
      other.volumes.push({ name: 'conf', configMap: { name: files.metadata.name, items: [{ key: 'postgresql.conf', path: 'postgresql.conf' }] } });
      expect(found(objects)).toEqual([]);
      const again = folder();
      const cm = again.map((o) => o.object as any).find((o) => o.kind === 'ConfigMap' && o.data?.['patroni.yml'])!;
      const scope = parse(cm.data['patroni.yml']).scope;
      cm.data['patroni.yml'] = cm.data['patroni.yml'].replace(`"scope": "${scope}"`, '"scope": "from-the-env"');
      const member = again.map((o) => o.object as any).find((o) => o.kind === 'StatefulSet' && o.spec.template.spec.volumes?.some((v: any) => v.configMap?.name === cm.metadata.name))!;
      member.spec.template.spec.containers[0].env.push({ name: 'PATRONI_SCOPE', value: scope });
      expect(found(again)).toEqual([]);
    });

    it('a subset selecting the label Argo Rollouts adds to the pods it makes (rollouts-pod-template-hash)', () => {
      const objects = folder();
      const dr = get(objects, 'DestinationRule', 'bookedbarber-api');
      for (const subset of dr.spec.subsets) subset.labels['rollouts-pod-template-hash'] = '5f7d9c8b6';
      expect(found(objects)).toEqual([]);
    });

    it('review cases: a subset by zone (Istio labels endpoints with it), Patroni told its REST API port by env, an include with a character class', () => {
      const objects = distLoadedObjects(['eu-west-1', 'argocd']);
      const dr = get(objects, 'DestinationRule', 'bookedbarber-api');
      dr.spec.subsets.push({ name: 'zone-a', labels: { 'app.kubernetes.io/name': 'api', 'topology.kubernetes.io/zone': 'eu-west-1a' } });
      const files = objects.map((o) => o.object as any).find((o) => o.kind === 'ConfigMap' && o.data?.['patroni.yml'])!;
      files.data['patroni.yml'] = files.data['patroni.yml'].replace('"listen": "0.0.0.0:8008"', '"listen": "0.0.0.0:8009"');
      const member = objects.map((o) => o.object as any).find((o) => o.kind === 'StatefulSet' && o.spec.template.spec.volumes?.some((v: any) => v.configMap?.name === files.metadata.name))!;
      for (const c of member.spec.template.spec.containers) if (c.volumeMounts?.some((m: any) => member.spec.template.spec.volumes.find((v: any) => v.name === m.name)?.configMap?.name === files.metadata.name)) (c.env ??= []).push({ name: 'PATRONI_RESTAPI_LISTEN', value: '0.0.0.0:8008' });
      const set = objects.map((o) => o.object as any).find((o) => o.kind === 'ApplicationSet' && o.spec.template.spec.source?.directory?.include === '*.yaml')!;
      set.spec.template.spec.source.directory.include = '[a-z]*.yaml';
      expect(found(objects)).toEqual([]);
    });

    it('Argo CD globs as Argo CD reads them: an alternative inside a partial brace list is judged, `*` in sourceRepos stops at a slash', () => {
      const objects = distLoadedObjects(['us-east-1', 'argocd']);
      const set = objects.map((o) => o.object as any).find((o) => o.kind === 'ApplicationSet' && o.spec.template.spec.source?.directory?.include?.startsWith('{'))!;
      set.spec.template.spec.source.directory.include = '{nodes,storag}.yaml';
      expect(found(objects)).toEqual(['argocd-directory-glob argocd/argocd.yaml spec.template.spec.source.directory.include']);
      expect(check(objects).find((f) => f.rule === 'argocd-directory-glob')!.message).toContain('include "storag.yaml" matches no file');
      set.spec.template.spec.source.directory.include = '{nodes.yaml,storage.yaml}';
      const project = objects.map((o) => o.object as any).find((o) => o.kind === 'AppProject' && o.spec.sourceRepos?.some((r: string) => r.includes('bookedbarber-gitops')))!;
      project.spec.sourceRepos = ['https://github.com/*'];
      expect(found(objects).filter((f) => f.startsWith('argocd-source-repo')).length).toBeGreaterThan(0);
      project.spec.sourceRepos = ['https://github.com/**'];
      expect(found(objects)).toEqual([]);
    });

    it('Argo CD: a path written ./dist/argocd/, and a template parameter with spaces', () => {
      const objects = distLoadedObjects(['argocd']);
      get(objects, 'Application', 'bookedbarber-root').spec.source.path = './dist/argocd/';
      get(objects, 'ApplicationSet', 'bookedbarber-regions').spec.template.spec.source.path = 'dist/{{ .region }}';
      expect(found(objects)).toEqual([]);
    });
  });
});
