/**
 * The API chart: canary release with Istio traffic routing and Prometheus analysis,
 * autoscaling, runtime config and OpenTelemetry identity. Guards issue #3 items 1, 3 and 6.
 */
import { serving } from '../../regions/plan';
import {
  ATTR_DEPLOYMENT_ENVIRONMENT_NAME, ATTR_K8S_CLUSTER_NAME, ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION,
} from '@opentelemetry/semantic-conventions';
import { balanced, promqlErrors } from '../support/promql';
import { describe, expect, it } from 'vitest';
import { API_CONFIG_KEYS, ApiChart, canarySteps } from '../../charts/api/chart';
import { ATTR_CLOUD_PROVIDER, ATTR_CLOUD_REGION } from '../../charts/lib/otel';
import { REVISION_LABEL } from '../../charts/lib/http-service';
import { NamespacesChart } from '../../charts/namespaces/chart';
import { StorageChart } from '../../charts/storage/chart';
import { RedisChart } from '../../charts/redis/chart';
import { ShardMapChart } from '../../charts/shard-map/chart';
import { PgbouncerChart } from '../../charts/pgbouncer/chart';
import { PostgresChart } from '../../charts/postgres/chart';
import { MeshChart } from '../../charts/mesh/chart';
import { WebChart } from '../../charts/web/chart';
import { MonitoringChart } from '../../charts/monitoring/chart';
import { TracingChart } from '../../charts/tracing/chart';
import type { RegionPlan } from '../../regions/plan';
import { validateObjects } from '../../tools/validate';
import { find, newApp, objectsOf, regionPlan, shippedPlan, type Obj } from '../support/charts';
import { configError, regionsWith, type RegionFiles } from '../support/regions';
import { loadPlan } from '../../regions/load';
import { formatPath } from '../../regions/config-error';

const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-1'];

function render(plan: RegionPlan): Obj[] {
  return objectsOf(new ApiChart(newApp(), { plan }));
}

/** The shipped us-east-1 plan with a changed global config. */
function withGlobal(change: (g: RegionPlan['global']) => RegionPlan['global']): RegionPlan {
  const base = regionPlan('us-east-1');
  return { ...base, global: change(base.global) };
}

function withApiDelivery(delivery: Partial<RegionPlan['global']['delivery']['api']>, analysis: Partial<RegionPlan['global']['delivery']['api']['analysis']> = {}): RegionPlan {
  return withGlobal((g) => ({
    ...g,
    delivery: { ...g.delivery, api: { ...g.delivery.api, ...delivery, analysis: { ...g.delivery.api.analysis, ...analysis } } },
  }));
}


const plan = regionPlan('us-east-1');
const names = plan.names.api;
const ns = plan.namespaces.app;
const objects = render(plan);
const rollout = find(objects, 'Rollout', names.rollout, ns);
const canary = rollout.spec.strategy.canary;
const template = find(objects, 'AnalysisTemplate', names.analysisTemplate, ns);
const metric = (name: string) => template.spec.metrics.find((m: any) => m.name === name);
const container = rollout.spec.template.spec.containers[0];
const env = (name: string) => container.env.find((e: any) => e.name === name);

describe('ApiChart: canary steps', () => {
  it('are exactly setWeight 10, analysis, setWeight 50, analysis, load test for the shipped config (100 % is the promotion)', () => {
    const revision = rollout.spec.template.metadata.labels[REVISION_LABEL];
    const analysis = { analysis: { templates: [{ templateName: names.analysisTemplate }], args: [{ name: 'canary-revision', value: revision }] } };
    const loadTest = { analysis: { templates: [{ templateName: `${names.rollout}-load-test` }] } };
    expect(canary.steps).toEqual([{ setWeight: 10 }, analysis, { setWeight: 50 }, analysis, loadTest]);
  });

  it('follow the weights in config, with the load test right before the first weight above 50 %', () => {
    const label = (s: any) => (s.setWeight !== undefined ? s.setWeight : s.analysis.templates[0].templateName.endsWith('-load-test') ? 'load-test' : 'analysis');
    const steps = find(render(withApiDelivery({ canarySteps: [5, 25, 75] })), 'Rollout', names.rollout).spec.strategy.canary.steps;
    expect(steps.map(label)).toEqual([5, 'analysis', 25, 'analysis', 'load-test', 75, 'analysis']);
    const atFifty = find(render(withApiDelivery({ canarySteps: [10, 50, 80, 90] })), 'Rollout', names.rollout).spec.strategy.canary.steps;
    expect(atFifty.map(label)).toEqual([10, 'analysis', 50, 'analysis', 'load-test', 80, 'analysis', 90, 'analysis']);
  });

  it('refuse a load test when the first weight is already above 50 %', () => {
    expect(() => canarySteps([60], 't', 'r', { templateName: 'lt', beforeWeightAbove: 50 })).toThrow(/first canary weight \(60\) must be at most 50/);
  });

  it('never pause: nothing waits for a human between weights, or in front of a rollback', () => {
    expect(canary.steps.filter((s: any) => s.pause !== undefined)).toEqual([]);
    expect(template.spec.metrics.every((m: any) => m.failureCondition === undefined && m.inconclusiveLimit === undefined)).toBe(true);
  });

  it('refuse weights that do not increase or reach 100', () => {
    expect(() => canarySteps([50, 10], 't', 'r')).toThrow(/canary weight 10 must be greater than the weight before it \(50\)/);
    expect(() => canarySteps([10, 100], 't', 'r')).toThrow(/canary weight 100 must be an integer between 1 and 99/);
    expect(() => canarySteps([], 't', 'r')).toThrow(/must not be empty/);
  });
});

describe('ApiChart: traffic routing and rollback', () => {
  it('steers the VirtualService route and the DestinationRule subsets named in the plan', () => {
    expect(canary.trafficRouting).toEqual({
      istio: {
        virtualService: { name: names.virtualService, routes: [names.idempotentRoute, names.route] },
        destinationRule: { name: names.destinationRule, stableSubsetName: 'stable', canarySubsetName: 'canary' },
      },
    });
  });

  it('renders stable and canary Services that exist in the chart and select the API pods', () => {
    const podLabels = rollout.spec.template.metadata.labels;
    for (const service of [names.stableService, canary.canaryService]) {
      const svc = find(objects, 'Service', service, ns);
      expect(svc.spec.type).toBe('ClusterIP');
      for (const [k, v] of Object.entries(svc.spec.selector)) expect(podLabels[k]).toBe(v);
      expect(svc.spec.ports).toEqual([
        { name: 'http', port: plan.global.workloads.api.port, targetPort: 'http', protocol: 'TCP', appProtocol: 'http' },
        { name: 'http-metrics', port: names.metricsPort, targetPort: 'http-metrics', protocol: 'TCP', appProtocol: 'http' },
      ]);
    }
    expect(canary.canaryService).toBe(names.canaryService);
  });

  it('never names the DestinationRule host as stableService (issue #3: Argo Rollouts would pin it to stable pods and empty the canary subset)', () => {
    expect(canary.stableService).toBeUndefined();
  });

  it('aborts on its own: a stuck canary hits the progress deadline, an aborted one is scaled down (0 would keep it forever)', () => {
    expect(rollout.spec.progressDeadlineAbort).toBe(true);
    expect(rollout.spec.progressDeadlineSeconds).toBe(600);
    // delivery.api.abortScaling defaults to instant: stable keeps its full size through the canary,
    // so an abort sends all traffic back to pods already running.
    expect(plan.global.delivery.api.abortScaling).toBeUndefined();
    expect(canary.dynamicStableScale).toBe(false);
    // An aborted canary ReplicaSet is scaled down 30 s after the abort (traffic leaves it at once);
    // 0 would keep it running forever. The chart renders 30 unless told otherwise.
    expect(canary.abortScaleDownDelaySeconds).toBe(30);
    const kept = new ApiChart(newApp(), { plan, abortScaleDownDelaySeconds: 120 });
    expect(find(objectsOf(kept), 'Rollout', names.rollout, ns).spec.strategy.canary.abortScaleDownDelaySeconds).toBe(120);
    // Left to Argo Rollouts' default (30 s with traffic routing) for the old stable side after a promotion.
    expect(canary.scaleDownDelaySeconds).toBeUndefined();
  });

  it('with delivery.api.abortScaling: dynamic, the old smaller app quota and PgBouncer sizes pass and stable shrinks as the canary grows', () => {
    // The sizes shipped before instant abort became the default: API 1000 + 50 % step = 1500 pods
    // (+ 2 x 200 web) = 1900 pods; CPU 1500 x 0.6 + 400 x 0.3 = 1020; memory requests
    // 1500 x 640Mi + 400 x 384Mi = 1088Gi (rounded up), limits 1500 x 1280Mi + 400 x 768Mi = 2175Gi;
    // PgBouncer 4 x 1500 x 2 = 12,000 clients, + 5 % = 12,600 = (3 - 1) x (6301 - 1 for the exporter).
    const oldSizes = (files: RegionFiles) => {
      for (const name of REGIONS) {
        files[`${name}.yaml`].namespaces.app.quota = { ...files[`${name}.yaml`].namespaces.app.quota, requestsCpu: '1100', requestsMemory: '1150Gi', limitsMemory: '2300Gi', pods: 2000 };
        files[`${name}.yaml`].shards[0].pgbouncer.maxClientConnectionsPerReplica = 6301;
      }
    };
    const dynamic = (files: RegionFiles) => {
      files['global.yaml'].delivery.api.abortScaling = 'dynamic';
    };
    // The shipped sizes pass with dynamic too (they hold more than it needs) ...
    expect(() => loadPlan(regionsWith(dynamic))).not.toThrow();
    // ... the old ones only with dynamic: instant needs 2400 pods and 16,800 clients per shard.
    const instantError = configError(regionsWith(oldSizes));
    expect(instantError.issues.map((i) => formatPath(i.path))).toContain('namespaces.app.quota.pods');
    expect(instantError.issues.map((i) => formatPath(i.path))).toContain('shards[0].pgbouncer.maxClientConnectionsPerReplica');
    const platform = loadPlan(regionsWith((files) => { oldSizes(files); dynamic(files); }));
    const region = platform.regions.find((r) => r.region.name === 'us-east-1')!;
    expect(region.global.delivery.api.abortScaling).toBe('dynamic');
    const dynamicCanary = find(render(region), 'Rollout', names.rollout, ns).spec.strategy.canary;
    expect(dynamicCanary.dynamicStableScale).toBe(true);
    expect(dynamicCanary.abortScaleDownDelaySeconds).toBe(30);
    // scaleDownDelaySeconds is rejected by Argo Rollouts together with dynamicStableScale.
    expect(dynamicCanary.scaleDownDelaySeconds).toBeUndefined();
  });

  it('leaves replicas to the HPA', () => {
    expect(rollout.spec.replicas).toBeUndefined();
  });
});

describe('ApiChart: canary analysis', () => {
  it('takes its thresholds from config: success rate >= 0.999 and p95 < 100 ms', () => {
    expect(metric('success-rate').successCondition).toBe('(len(result) == 0 || isNaN(result[0])) ? false : result[0] >= 0.999');
    expect(metric('latency-p95').successCondition).toBe('(len(result) == 0 || isNaN(result[0])) ? false : result[0] < 100');
    const changed = find(render(withApiDelivery({}, { minSuccessRate: 0.995, maxLatencyP95Ms: 250 })), 'AnalysisTemplate', names.analysisTemplate);
    expect(changed.spec.metrics.map((m: any) => m.successCondition)).toEqual([
      '(len(result) == 0 || isNaN(result[0])) ? false : result[0] >= 0.995',
      '(len(result) == 0 || isNaN(result[0])) ? false : result[0] < 250',
    ]);
  });

  it('takes interval, count and failure limit from config, and waits one window before the first measurement', () => {
    const a = plan.global.delivery.api.analysis;
    for (const m of template.spec.metrics) {
      expect(m).toMatchObject({ interval: a.interval, count: a.count, failureLimit: a.failureLimit, initialDelay: '2m' });
    }
    const changed = find(render(withApiDelivery({}, { interval: '2m', count: 3, failureLimit: 0 })), 'AnalysisTemplate', names.analysisTemplate);
    expect(changed.spec.metrics[0]).toMatchObject({ interval: '2m', count: 3, failureLimit: 0, initialDelay: '2m' });
    expect(changed.spec.metrics[0].provider.prometheus.query).toContain('[2m]');
  });

  it("queries the region's Prometheus on Istio's standard request metrics", () => {
    for (const m of template.spec.metrics) expect(m.provider.prometheus.address).toBe(plan.names.monitoring.prometheusUrl);
    expect(metric('success-rate').provider.prometheus.query).toMatch(/^sum\(rate\(istio_requests_total\{.*response_code!~"0\|5\.\."\}\[2m\]\)\) \/ sum\(rate\(istio_requests_total\{.*\}\[2m\]\)\)$/);
    expect(metric('latency-p95').provider.prometheus.query).toMatch(/^histogram_quantile\(0\.95, sum by \(le\) \(rate\(istio_request_duration_milliseconds_bucket\{.*\}\[2m\]\)\)\)$/);
  });

  it("scopes every query to the canary's pods: server-side reports of the API in its namespace at the canary revision", () => {
    for (const m of template.spec.metrics) {
      const q: string = m.provider.prometheus.query;
      // Every series selector: metric{matchers}[window]; the matchers hold {{args.…}} placeholders.
      const selectors = [...q.matchAll(/istio_[a-z_]+\{(.*?)\}\[/g)].map((x) => x[1]);
      expect(selectors.length).toBe(m.name === 'success-rate' ? 2 : 1);
      for (const s of selectors) {
        expect(s).toContain('reporter="destination"');
        expect(s).toContain(`destination_workload_namespace="${ns}"`);
        expect(s).toContain('destination_canonical_service="api"');
        expect(s).toContain('destination_canonical_revision="{{args.canary-revision}}"');
      }
    }
    expect(template.spec.args).toEqual([{ name: 'canary-revision' }]);
  });

  it('passes the revision the canary pods carry (the label Istio reports as destination_canonical_revision)', () => {
    const revision = rollout.spec.template.metadata.labels[REVISION_LABEL];
    expect(revision).toMatch(new RegExp(`^${plan.global.releases.api.version.replace(/\./g, '\\.')}-[0-9a-f]{10}$`));
    for (const step of canary.steps.filter((s: any) => s.analysis && s.analysis.templates[0].templateName === names.analysisTemplate)) expect(step.analysis.args).toEqual([{ name: 'canary-revision', value: revision }]);
  });

  it('gives every pod template change a new revision, and the same template the same one', () => {
    const revisionOf = (p: RegionPlan) => find(render(p), 'Rollout', names.rollout).spec.template.metadata.labels[REVISION_LABEL];
    expect(revisionOf(plan)).toBe(rollout.spec.template.metadata.labels[REVISION_LABEL]);
    const ttl = withGlobal((g) => ({ ...g, redis: { ...g.redis, ttlSeconds: { ...g.redis.ttlSeconds, cache: 1800 } } }));
    expect(revisionOf(ttl)).not.toBe(revisionOf(plan));
  });

  it('writes PromQL with balanced brackets and quotes that parses with the Prometheus grammar', () => {
    for (const m of template.spec.metrics) {
      expect(balanced(m.provider.prometheus.query)).toBe(true);
      expect(promqlErrors(m.provider.prometheus.query)).toEqual([]);
    }
    expect(balanced('sum(rate(x{a="b"}[1m])')).toBe(false);
    expect(promqlErrors('sum(rate(x{a="b"}[1m])')).not.toEqual([]);
  });
});

describe('ApiChart: pods', () => {
  it('sizes the istio-proxy sidecar from config, so the quota invariant counts what runs', () => {
    const s = plan.global.mesh.sidecar;
    expect(rollout.spec.template.metadata.annotations).toMatchObject({
      'sidecar.istio.io/proxyCPU': s.requests.cpu,
      'sidecar.istio.io/proxyMemory': s.requests.memory,
      'sidecar.istio.io/proxyMemoryLimit': s.limits.memory,
    });
  });

  it('carries the hardened template unchanged through the Rollout (quantities and ports intact)', () => {
    expect(container.resources).toEqual({ requests: { cpu: '500m', memory: '512Mi' }, limits: { memory: '1Gi' } });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 8080 });
    expect(container.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    // The hard zone spread counts every revision (as Karpenter does); the soft host spread each one.
    const [zone, host] = rollout.spec.template.spec.topologySpreadConstraints;
    expect(zone).toMatchObject({ topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' });
    expect(zone.matchLabelKeys).toBeUndefined();
    expect(host).toMatchObject({ topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', matchLabelKeys: ['rollouts-pod-template-hash'] });
  });

  it('reads Redis TTLs (3600/86400/60), the Redis endpoints and the shard map location from its ConfigMap', () => {
    const cm = find(objects, 'ConfigMap', names.configMap, ns);
    const sentinels = (tier: string) => `bookedbarber-redis-${tier}-sentinel.bookedbarber-data.svc.cluster.local:26379`;
    expect(cm.data).toEqual({
      REDIS_CACHE_TTL_SECONDS: '3600',
      REDIS_SESSION_TTL_SECONDS: '86400',
      REDIS_RATE_LIMIT_TTL_SECONDS: '60',
      SHARD_MAP_FILE: '/etc/bookedbarber/shard-map/shard-map.json',
      REDIS_CACHE_SENTINELS: sentinels('cache'),
      REDIS_CACHE_MASTER_NAME: 'cache',
      REDIS_SESSIONS_SENTINELS: sentinels('sessions'),
      REDIS_SESSIONS_MASTER_NAME: 'sessions',
      REDIS_RATE_LIMIT_SENTINELS: sentinels('rate-limit'),
      REDIS_RATE_LIMIT_MASTER_NAME: 'rate-limit',
    });
    for (const key of [...Object.values(API_CONFIG_KEYS), 'REDIS_CACHE_SENTINELS']) expect(env(key).valueFrom.configMapKeyRef).toEqual({ name: names.configMap, key });
  });

  it('receives each Redis tier\'s password from the tier\'s client Secret (issue #10: the API could log in nowhere)', () => {
    for (const [envName, tier] of [['REDIS_CACHE_PASSWORD', 'cache'], ['REDIS_SESSIONS_PASSWORD', 'sessions'], ['REDIS_RATE_LIMIT_PASSWORD', 'rate-limit']]) {
      expect(env(envName).valueFrom.secretKeyRef).toEqual({ name: `bookedbarber-redis-${tier}-client-auth`, key: 'password' });
    }
  });

  it('mounts every shard\'s database password read-only, from an ExternalSecret in its own namespace (issue #10)', () => {
    const secret = find(objects, 'ExternalSecret', 'bookedbarber-api-database', ns);
    expect(secret.spec.data).toEqual([1, 2, 3, 4].map((id) => ({ secretKey: `shard-${id}`, remoteRef: { key: `bookedbarber/postgres/shard-${id}/credentials`, property: 'api-password' } })));
    const volume = rollout.spec.template.spec.volumes.find((v: any) => v.secret?.secretName === 'bookedbarber-api-database');
    expect(volume.secret.optional).toBe(false);
    expect(container.volumeMounts).toContainEqual({ name: volume.name, mountPath: '/etc/bookedbarber/secrets/database', readOnly: true });
  });

  it('mounts the shard map read-only where SHARD_MAP_FILE points, and refuses to start without it', () => {
    const data = plan.names.data;
    const volume = rollout.spec.template.spec.volumes.find((v: any) => v.configMap);
    expect(volume.configMap).toEqual({ name: data.shardMapConfigMap, optional: false });
    expect(container.volumeMounts).toContainEqual({ name: volume.name, mountPath: data.shardMapMountPath, readOnly: true });
    expect(find(objects, 'ConfigMap', names.configMap, ns).data.SHARD_MAP_FILE).toBe(`${data.shardMapMountPath}/${data.shardMapFile}`);
  });

  it('rolls out a config change like a release (config hash on the pod template)', () => {
    const hash = (p: RegionPlan) => find(render(p), 'Rollout', names.rollout).spec.template.metadata.annotations['bookedbarber.com/config-sha256'];
    const ttl = withGlobal((g) => ({ ...g, redis: { ...g.redis, ttlSeconds: { ...g.redis.ttlSeconds, rateLimit: 30 } } }));
    expect(hash(plan)).toMatch(/^[0-9a-f]{64}$/);
    expect(hash(ttl)).not.toBe(hash(plan));
  });

  it('runs as its own ServiceAccount, without an API token', () => {
    expect(rollout.spec.template.spec.serviceAccountName).toBe(names.serviceAccount);
    expect(find(objects, 'ServiceAccount', names.serviceAccount, ns).automountServiceAccountToken).toBe(false);
  });
});

describe('ApiChart: OpenTelemetry', () => {
  it('names the service and its resource with the semantic-conventions keys', () => {
    expect(env('OTEL_SERVICE_NAME').value).toBe(names.rollout);
    const attributes = Object.fromEntries(env('OTEL_RESOURCE_ATTRIBUTES').value.split(',').map((kv: string) => kv.split('=')));
    expect(attributes).toEqual({
      [ATTR_SERVICE_NAME]: names.rollout,
      [ATTR_SERVICE_VERSION]: plan.global.releases.api.version,
      [ATTR_DEPLOYMENT_ENVIRONMENT_NAME]: 'production',
      [ATTR_CLOUD_PROVIDER]: 'aws',
      [ATTR_CLOUD_REGION]: 'us-east-1',
      [ATTR_K8S_CLUSTER_NAME]: plan.region.cluster.name,
      'k8s.namespace.name': ns,
      'k8s.pod.name': '$(K8S_POD_NAME)',
    });
    // $(K8S_POD_NAME) expands only from a variable defined earlier in the list.
    const order = container.env.map((e: any) => e.name);
    expect(order.indexOf('K8S_POD_NAME')).toBeLessThan(order.indexOf('OTEL_RESOURCE_ATTRIBUTES'));
  });

  it('copies the incubating cloud.* keys exactly as the package defines them', async () => {
    const incubatingEntry = '@opentelemetry/semantic-conventions/incubating';
    const incubating = await import(incubatingEntry);
    expect(ATTR_CLOUD_PROVIDER).toBe(incubating.ATTR_CLOUD_PROVIDER);
    expect(ATTR_CLOUD_REGION).toBe(incubating.ATTR_CLOUD_REGION);
    expect(plan.region.provider).toBe(incubating.CLOUD_PROVIDER_VALUE_AWS);
  });

  it('exports to the collector in the monitoring namespace and head-samples everything (the tail sampler decides)', () => {
    expect(env('OTEL_EXPORTER_OTLP_ENDPOINT').value).toBe(`http://otel-collector.${plan.namespaces.monitoring}.svc.cluster.local:4318`);
    expect(env('OTEL_EXPORTER_OTLP_PROTOCOL').value).toBe('http/protobuf');
    expect(env('OTEL_TRACES_SAMPLER').value).toBe('parentbased_always_on');
    expect(env('OTEL_EXPORTER_PROMETHEUS_PORT').value).toBe(String(names.metricsPort));
  });
});

describe('ApiChart: autoscaling and availability', () => {
  it("bounds the HPA by each region's config and targets the Rollout", () => {
    for (const region of REGIONS) {
      const p = shippedPlan().regions.find((r) => r.region.name === region)!;
      const hpa = find(render(p), 'HorizontalPodAutoscaler', names.rollout, ns);
      expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([serving(p).autoscaling.api.minReplicas, serving(p).autoscaling.api.maxReplicas]);
      expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: names.rollout });
    }
  });

  it('recommends sizes only (VPA Off) within the configured bounds', () => {
    const vpa = find(objects, 'VerticalPodAutoscaler', names.rollout, ns);
    expect(vpa.spec.updatePolicy.updateMode).toBe('Off');
    expect(vpa.spec.targetRef).toEqual({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: names.rollout });
    expect(vpa.spec.resourcePolicy.containerPolicies[0]).toMatchObject({ containerName: 'api', ...plan.global.workloads.api.vpa });
  });

  it('budgets disruptions as a share of the fleet (10 %) over the Rollout pods', () => {
    const pdb = find(objects, 'PodDisruptionBudget', names.rollout, ns);
    expect(pdb.spec.maxUnavailable).toBe('10%');
    expect(pdb.spec.selector.matchLabels).toEqual(rollout.spec.selector.matchLabels);
  });

  it('orders the sync: config, then Services and the Rollout, then the autoscalers', () => {
    const wave = (kind: string, name: string) => find(objects, kind, name, ns).metadata.annotations['argocd.argoproj.io/sync-wave'];
    expect([wave('ServiceAccount', names.serviceAccount), wave('ConfigMap', names.configMap), wave('AnalysisTemplate', names.analysisTemplate)]).toEqual(['-5', '-5', '-5']);
    expect([wave('Service', names.stableService), wave('Service', names.canaryService), wave('Rollout', names.rollout)]).toEqual(['0', '0', '0']);
    expect([wave('HorizontalPodAutoscaler', names.rollout), wave('VerticalPodAutoscaler', names.rollout)]).toEqual(['5', '5']);
  });
});

describe('ApiChart output and the validator', () => {
  const validate = (region: string, withShardMap: boolean) => {
    const p = shippedPlan().regions.find((r) => r.region.name === region)!;
    const app = newApp();
    // The Redis chart renders the tiers' client Secrets the API reads.
    // The mesh chart renders the VirtualService and DestinationRule the Rollout's traffic routing
    // names (and, for the web front end's routes beside them, the web chart its Services).
    const charts = [
      new NamespacesChart(app, { plan: p }), new StorageChart(app, { plan: p }), new RedisChart(app, { plan: p }), ...(withShardMap ? [new ShardMapChart(app, { plan: p })] : []),
      new MeshChart(app, { plan: p }), new WebChart(app, { plan: p }), new ApiChart(app, { plan: p }),
      // The shard map's addresses are the PgBouncer Services (ref-config-endpoint), which pool Postgres.
      ...(withShardMap ? [new PgbouncerChart(app, { plan: p }), new PostgresChart(app, { plan: p })] : []),
      // The canary analysis queries Prometheus and the pods export traces to the collector
      // (ref-config-endpoint): the resources behind those operator-made Services.
      new MonitoringChart(app, { plan: p }), new TracingChart(app, { plan: p }),
    ];
    const loaded = charts.flatMap((c) => objectsOf(c).map((object, index) => ({ file: `dist/${region}/${c.node.id}.yaml`, index, object, region })));
    return { report: validateObjects(loaded, {}), loaded, plan: p };
  };

  it('passes every schema, policy and reference rule in every region next to the shard map it mounts and the routes the mesh renders for it (no findings)', () => {
    for (const region of REGIONS) {
      const { report, loaded } = validate(region, true);
      expect(report.findings).toEqual([]);
      expect(report.objects).toBe(loaded.length);
    }
  });

  it('depends on the shard-map chart: without it, exactly the shard map volume is flagged', () => {
    const { report, plan: p } = validate('eu-west-1', false);
    expect(report.findings.map((f) => `${f.rule} ${f.object} ${f.path}: ${f.message}`)).toEqual([
      `ref-config Rollout ${ns}/${names.rollout} spec.template.spec.volumes[1].configMap.name: ConfigMap ${p.names.data.shardMapConfigMap} is not rendered in namespace ${ns}`,
    ]);
  });
});
