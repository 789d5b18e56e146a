/**
 * Tracing (issue 5, item 5): OpenTelemetry collectors (operator resources) receiving OTLP from
 * the workloads and the mesh on Service `otel-collector`, tail sampling that keeps errors, slow
 * traces and a baseline from config, resource attributes named with
 * @opentelemetry/semantic-conventions, and Jaeger with its storage from config.
 */
import { ATTR_DEPLOYMENT_ENVIRONMENT_NAME, ATTR_K8S_CLUSTER_NAME } from '@opentelemetry/semantic-conventions';
import { describe, expect, it } from 'vitest';
import { otelEnvironment } from '../../charts/lib/otel';
import { decisionWaitSeconds, POLICY, resourceAttributes } from '../../charts/tracing/collector';
import { retentionDays } from '../../charts/tracing/jaeger';
import {
  ATTR_CLOUD_PROVIDER,
  ATTR_CLOUD_REGION,
  OTEL_COLLECTOR_CR,
  OTEL_COLLECTOR_SERVICE,
  OTEL_TRACING_PROVIDER,
  OTLP_GRPC_PORT,
  OTLP_HTTP_PORT,
  otelCollectorHost,
  otelCollectorHttpEndpoint,
} from '../../charts/lib/otel';
import { operatorSelectorLabels, operatorServiceName, tracingNames } from '../../charts/tracing/names';
import { otelCollectorEndpoint, TRACING_PROVIDER } from '../../charts/argocd/addon-catalog';
import { MeshChart } from '../../charts/mesh/chart';
import { NamespacesChart } from '../../charts/namespaces/chart';
import { StorageChart } from '../../charts/storage/chart';
import { TracingChart, type TracingChartProps } from '../../charts/tracing/chart';
import type { RegionPlan } from '../../regions/plan';
import { validateObjects } from '../../tools/validate';
import { find, newApp, objectsOf, regionPlan, shippedPlan, type Obj } from '../support/charts';

const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-1'];
const plan = regionPlan('us-east-1');
const ns = plan.namespaces.monitoring;
const ES = { url: 'https://traces.es.us-east-1.bookedbarber.internal:9200' };

function render(p: RegionPlan = plan, props: Partial<TracingChartProps> = {}): Obj[] {
  return objectsOf(new TracingChart(newApp(), { plan: p, ...props }));
}

function withTracing(change: Partial<RegionPlan['global']['tracing']>, p: RegionPlan = plan): RegionPlan {
  return { ...p, global: { ...p.global, tracing: { ...p.global.tracing, ...change } } };
}

function withStorage(type: 'badger' | 'elasticsearch', p: RegionPlan = plan): RegionPlan {
  const t = p.global.tracing;
  // Without the configured cluster, so the tests below pass it (ES) explicitly.
  return withTracing({ jaeger: { ...t.jaeger, storage: { type, size: t.jaeger.storage.size, className: t.jaeger.storage.className } } }, p);
}

const collector = (objects: Obj[], cr: string) => find(objects, 'OpenTelemetryCollector', cr, ns);

/**
 * What the OpenTelemetry operator renders for a deployment-mode collector, after its source
 * (internal/manifests/collector/{deployment,service,poddisruptionbudget,container}.go and
 * manifestutils/labels.go): pods labelled with the CR's labels overridden by the operator's
 * selector labels and the image tag as version, container `otc-container` with the CR's
 * security context, resources and env, probes on the health_check extension, Service and PDB
 * `<cr>-collector` over the selector labels. The config ConfigMap volume is left out.
 */
function operatorOutput(cr: Obj): Obj[] {
  const name = operatorServiceName(cr.metadata.name);
  const namespace = cr.metadata.namespace;
  const selector = operatorSelectorLabels(namespace, cr.metadata.name);
  const parts = String(cr.spec.image).split(':');
  const labels = { ...cr.metadata.labels, ...selector, 'app.kubernetes.io/version': parts.length === 2 ? parts[1] : 'latest' };
  const protocols = cr.spec.config.receivers.otlp.protocols as Record<string, { endpoint: string }>;
  const ports = Object.entries(protocols).map(([protocol, { endpoint }]) => ({
    name: `otlp-${protocol}`,
    port: Number(endpoint.split(':').pop()),
    appProtocol: protocol === 'grpc' ? 'grpc' : 'http',
  }));
  const health = { httpGet: { path: '/', port: Number(cr.spec.config.extensions.health_check.endpoint.split(':').pop()) } };
  const meta = { name, namespace, labels };
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta,
      spec: {
        replicas: cr.spec.replicas,
        selector: { matchLabels: selector },
        strategy: cr.spec.deploymentUpdateStrategy,
        template: {
          metadata: { labels, annotations: cr.spec.podAnnotations },
          spec: {
            serviceAccountName: cr.spec.serviceAccount,
            securityContext: cr.spec.podSecurityContext,
            topologySpreadConstraints: cr.spec.topologySpreadConstraints,
            containers: [
              {
                name: 'otc-container',
                image: cr.spec.image,
                imagePullPolicy: cr.spec.imagePullPolicy,
                args: ['--config=/conf/collector.yaml'],
                env: cr.spec.env,
                ports: ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: 'TCP' })),
                resources: cr.spec.resources,
                securityContext: cr.spec.securityContext,
                livenessProbe: { ...health, ...cr.spec.livenessProbe },
                readinessProbe: { ...health, ...cr.spec.readinessProbe },
              },
            ],
          },
        },
      },
    },
    { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: meta, spec: { selector: { matchLabels: selector }, ...cr.spec.podDisruptionBudget } },
    { apiVersion: 'v1', kind: 'Service', metadata: meta, spec: { selector, ports: ports.map((p) => ({ ...p, targetPort: p.port, protocol: 'TCP' })) } },
  ];
}

/**
 * Findings on the simulated operator objects that are by design: the operator owns them and
 * says so in app.kubernetes.io/managed-by (the labels rule expects our own objects' "cdk8s").
 */
function ownFindings(findings: ReturnType<typeof validateObjects>['findings']) {
  return findings.filter((f) => !(f.file.endsWith('/operator.yaml') && f.rule === 'labels' && f.message.startsWith('app.kubernetes.io/managed-by is "opentelemetry-operator"')));
}

function validate(region: string, storage: 'badger' | 'elasticsearch', extra: (objects: Obj[]) => Obj[] = () => []) {
  const p = withStorage(storage, shippedPlan().regions.find((r) => r.region.name === region)!);
  const app = newApp();
  // The storage chart too: the badger volume names one of the region's StorageClasses (ref-storage-class).
  const charts = [new NamespacesChart(app, { plan: p }), new StorageChart(app, { plan: p }), new TracingChart(app, { plan: p, elasticsearch: storage === 'elasticsearch' ? ES : undefined })];
  const objects = charts.flatMap((c) => objectsOf(c).map((object) => ({ chart: c.node.id, object })));
  const simulated = extra(objects.map((o) => o.object)).map((object) => ({ chart: 'operator', object }));
  const loaded = [...objects, ...simulated].map(({ chart, object }, index) => ({ file: `dist/${region}/${chart}.yaml`, index, object, region }));
  return { report: validateObjects(loaded, {}), loaded };
}

describe('collector names: what the mesh and the SDKs point at', () => {
  it('names the gateway CR so that the operator\'s Service is otel-collector (<name>-collector)', () => {
    expect(OTEL_COLLECTOR_CR).toBe('otel');
    expect(operatorServiceName(collector(render(), OTEL_COLLECTOR_CR).metadata.name)).toBe('otel-collector');
    expect(OTEL_COLLECTOR_SERVICE).toBe('otel-collector');
    expect(operatorServiceName(OTEL_COLLECTOR_CR)).toBe(OTEL_COLLECTOR_SERVICE);
    expect(otelCollectorHost(plan)).toBe('otel-collector.bookedbarber-monitoring.svc.cluster.local');
    expect(OTEL_TRACING_PROVIDER).toBe('otel-tracing');
    expect(() => operatorServiceName('x'.repeat(60))).toThrow(/truncate/);
  });

  it('receives OTLP gRPC on 4317 (Istio sidecars) and OTLP HTTP on 4318 (SDKs), on all interfaces', () => {
    const protocols = collector(render(), OTEL_COLLECTOR_CR).spec.config.receivers.otlp.protocols;
    expect(protocols).toEqual({ grpc: { endpoint: `0.0.0.0:${OTLP_GRPC_PORT}` }, http: { endpoint: `0.0.0.0:${OTLP_HTTP_PORT}` } });
    expect([OTLP_GRPC_PORT, OTLP_HTTP_PORT]).toEqual([4317, 4318]);
  });

  it('is the endpoint the API chart already exports spans to', () => {
    expect(otelEnvironment(plan, { serviceName: 'x', version: '1', namespace: 'n', metricsPort: 9464 }).find((e) => e.name === 'OTEL_EXPORTER_OTLP_ENDPOINT')?.value).toBe(otelCollectorHttpEndpoint(plan));
  });

  it('is the provider the mesh Telemetry reports to and the endpoint the Istio add-on defines for it', () => {
    const telemetry = objectsOf(new MeshChart(newApp(), { plan })).find((o) => o.kind === 'Telemetry')!;
    expect(telemetry.spec.tracing[0].providers).toEqual([{ name: OTEL_TRACING_PROVIDER }]);
    expect(TRACING_PROVIDER).toBe(OTEL_TRACING_PROVIDER);
    expect(otelCollectorEndpoint(plan)).toEqual({ service: otelCollectorHost(plan), port: OTLP_GRPC_PORT });
  });

  it('the operator-rendered Service otel-collector selects the collector pods (simulated operator output, validator)', () => {
    const { report, loaded } = validate('us-east-1', 'badger', (objects) => objects.filter((o) => o.kind === 'OpenTelemetryCollector').flatMap(operatorOutput));
    expect(loaded.filter((l) => l.object.kind === 'Service' && l.object.metadata.name === 'otel-collector')).toHaveLength(1);
    expect(ownFindings(report.findings)).toEqual([]);
  });
});

describe('collector tiers', () => {
  const objects = render();
  const names = tracingNames(plan);

  for (const tier of [names.collector, names.sampler]) {
    describe(tier.cr, () => {
      const cr = collector(objects, tier.cr);

      it('runs as an operator Deployment of at least 2 pods, spread over zones, with a PDB', () => {
        expect(cr.apiVersion).toBe('opentelemetry.io/v1beta1');
        expect(cr.spec.mode).toBe('deployment');
        expect(cr.spec.replicas).toBeGreaterThanOrEqual(2);
        expect(cr.spec.podDisruptionBudget).toEqual({ maxUnavailable: 1 });
        const zone = cr.spec.topologySpreadConstraints.find((c: any) => c.topologyKey === 'topology.kubernetes.io/zone');
        expect(zone).toMatchObject({ maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: operatorSelectorLabels(ns, tier.cr) } });
      });

      it('sets Pod Security "restricted" contexts, resources and a Go memory limit below the container limit', () => {
        expect(cr.spec.securityContext).toEqual({
          allowPrivilegeEscalation: false,
          privileged: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect(cr.spec.podSecurityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
        expect(cr.spec.podSecurityContext.runAsUser).toBeGreaterThan(0);
        expect(cr.spec.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
        expect(cr.spec.resources.limits.memory).toEqual(expect.any(String));
        // GOMAXPROCS at the requested cores (one here; no CPU limit: Go would take the node's).
        expect(cr.spec.resources.requests.cpu).toBe('1');
        expect(cr.spec.env).toEqual([{ name: 'GOMEMLIMIT', value: expect.stringMatching(/^[0-9]+MiB$/) }, { name: 'GOMAXPROCS', value: '1' }]);
        expect(cr.spec.config.processors.batch).toMatchObject({ send_batch_size: 1024, send_batch_max_size: 2048 });
      });

      it('uses its own token-less ServiceAccount, keeps app.kubernetes.io/name for the traffic policies, and stays owned by git', () => {
        expect(find(objects, 'ServiceAccount', tier.serviceAccount, ns).automountServiceAccountToken).toBe(false);
        expect(cr.spec.serviceAccount).toBe(tier.serviceAccount);
        expect(cr.metadata.labels['app.kubernetes.io/name']).toBe(tier.app);
        expect(cr.spec.upgradeStrategy).toBe('none');
        expect(cr.spec.networkPolicy).toEqual({ enabled: false });
        expect(cr.spec.image).toBe(`${plan.versions.images.otelCollector.repository}:${plan.versions.images.otelCollector.version}`);
      });

      it('wires every pipeline component to a definition and defines none it does not use', () => {
        const config = cr.spec.config;
        const pipelines = Object.values(config.service.pipelines) as Array<Record<string, string[]>>;
        for (const kind of ['receivers', 'processors', 'exporters'] as const) {
          const used = new Set(pipelines.flatMap((p) => p[kind] ?? []));
          expect([...used].sort(), kind).toEqual(Object.keys(config[kind] ?? {}).sort());
        }
        expect(config.service.extensions).toEqual(Object.keys(config.extensions));
        expect(pipelines.every((p) => p.processors[0] === 'memory_limiter')).toBe(true);
      });
    });
  }

  it('gateway: stamps the region, then routes every span of a trace to one sampler pod (trace-ID load balancing over its headless Service)', () => {
    const config = collector(objects, names.collector.cr).spec.config;
    expect(config.service.pipelines.traces.processors).toEqual(['memory_limiter', 'resource/region', 'batch']);
    expect(config.exporters.loadbalancing).toMatchObject({
      routing_key: 'traceID',
      protocol: { otlp: { tls: { insecure: true } } },
      resolver: { dns: { hostname: `otel-sampler-collector-headless.${ns}.svc.cluster.local`, port: '4317' } },
    });
  });

  it('sampler: tail sampling, then exports to Jaeger\'s OTLP Service in plaintext (the sidecars add mTLS)', () => {
    const config = collector(objects, names.sampler.cr).spec.config;
    expect(config.receivers.otlp.protocols).toEqual({ grpc: { endpoint: '0.0.0.0:4317' } });
    expect(config.service.pipelines.traces.processors).toEqual(['memory_limiter', 'tail_sampling', 'batch']);
    expect(config.exporters['otlp/jaeger']).toMatchObject({ endpoint: `bookedbarber-jaeger-collector.${ns}.svc.cluster.local:4317`, tls: { insecure: true } });
    find(objects, 'Service', names.jaeger.collectorService, ns);
  });

  it('refuses a single-replica tier, naming the value', () => {
    const sizing = { minReplicas: 1, maxReplicas: 4, resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { memory: '1Gi' } } };
    expect(() => render(plan, { sampler: sizing })).toThrow(/otel-sampler: minReplicas \(1\) must be >= 2/);
  });
});

describe('tail sampling from config', () => {
  const policies = (p: RegionPlan) => collector(render(p), 'otel-sampler').spec.config.processors.tail_sampling;

  it('keeps every error trace, every trace slower than slowTraceMs and baselineSamplingPercent % of the rest', () => {
    const tail = policies(plan);
    expect(tail.policies).toEqual([
      { name: POLICY.errors, type: 'status_code', status_code: { status_codes: ['ERROR'] } },
      { name: POLICY.slow, type: 'latency', latency: { threshold_ms: plan.global.tracing.slowTraceMs } },
      { name: POLICY.baseline, type: 'probabilistic', probabilistic: { sampling_percentage: plan.global.tracing.baselineSamplingPercent } },
    ]);
    expect([plan.global.tracing.slowTraceMs, plan.global.tracing.baselineSamplingPercent]).toEqual([500, 5]);
    expect(tail.decision_wait).toBe('10s');
  });

  it('follows the config when it changes', () => {
    const tail = policies(withTracing({ slowTraceMs: 8000, baselineSamplingPercent: 0.5 }));
    expect(tail.policies[1].latency.threshold_ms).toBe(8000);
    expect(tail.policies[2].probabilistic.sampling_percentage).toBe(0.5);
    // A trace must have ended to be measured against the threshold: wait twice as long.
    expect(tail.decision_wait).toBe('16s');
    expect(decisionWaitSeconds(1)).toBe(10);
  });
});

describe('resource attributes', () => {
  it('names them with the @opentelemetry/semantic-conventions constants and sets them from the region', () => {
    expect(resourceAttributes(plan)).toEqual([
      { key: ATTR_CLOUD_PROVIDER, value: 'aws', action: 'upsert' },
      { key: ATTR_CLOUD_REGION, value: 'us-east-1', action: 'upsert' },
      { key: ATTR_K8S_CLUSTER_NAME, value: plan.region.cluster.name, action: 'upsert' },
      { key: ATTR_DEPLOYMENT_ENVIRONMENT_NAME, value: 'production', action: 'upsert' },
    ]);
    expect(collector(render(), 'otel').spec.config.processors['resource/region'].attributes).toEqual(resourceAttributes(plan));
    expect(resourceAttributes(regionPlan('eu-west-1')).find((a) => a.key === 'cloud.region')?.value).toBe('eu-west-1');
  });

  it('copies the incubating cloud.* keys exactly as the package defines them', async () => {
    const incubatingEntry = '@opentelemetry/semantic-conventions/incubating';
    const incubating = await import(incubatingEntry);
    expect(ATTR_CLOUD_REGION).toBe(incubating.ATTR_CLOUD_REGION);
    expect(ATTR_CLOUD_PROVIDER).toBe(incubating.ATTR_CLOUD_PROVIDER);
    expect(ATTR_K8S_CLUSTER_NAME).toBe(incubating.ATTR_K8S_CLUSTER_NAME);
    expect(ATTR_DEPLOYMENT_ENVIRONMENT_NAME).toBe(incubating.ATTR_DEPLOYMENT_ENVIRONMENT_NAME);
  });
});

describe('Jaeger storage from config', () => {
  const names = tracingNames(plan);

  describe('badger', () => {
    const objects = render(withStorage('badger'));
    const sts = find(objects, 'StatefulSet', names.jaeger.workload, ns);
    const container = sts.spec.template.spec.containers[0];
    const env = Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value]));

    it('runs one pod (badger has a single writer) on a volume of the configured class and size', () => {
      expect(sts.spec.replicas).toBe(1);
      expect(sts.spec.serviceName).toBe(names.jaeger.headlessService);
      expect(find(objects, 'Service', names.jaeger.headlessService, ns).spec.clusterIP).toBe('None');
      expect(sts.spec.volumeClaimTemplates).toEqual([
        expect.objectContaining({ spec: { accessModes: ['ReadWriteOnce'], storageClassName: plan.global.tracing.jaeger.storage.className, resources: { requests: { storage: '100Gi' } } } }),
      ]);
      expect(container.volumeMounts).toContainEqual({ name: 'data', mountPath: '/badger' });
      expect(objects.some((o) => o.kind === 'PodDisruptionBudget')).toBe(false);
    });

    it('keeps spans for the configured retention', () => {
      expect(env).toMatchObject({ SPAN_STORAGE_TYPE: 'badger', BADGER_EPHEMERAL: 'false', BADGER_SPAN_STORE_TTL: '72h' });
      const badger = withStorage('badger');
      const longer = find(render(withTracing({ jaeger: { ...badger.global.tracing.jaeger, retention: '168h' } }, badger)), 'StatefulSet', names.jaeger.workload, ns);
      expect(longer.spec.template.spec.containers[0].env).toContainEqual({ name: 'BADGER_SPAN_STORE_TTL', value: '168h' });
    });

    it('runs hardened: read-only root filesystem, writable volumes only, probes on the admin port', () => {
      expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
      expect(container.volumeMounts.map((m: { mountPath: string }) => m.mountPath).sort()).toEqual(['/badger', '/tmp']);
      for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) expect(container[probe].httpGet).toEqual({ path: '/', port: 14269 });
    });
  });

  it('exposes OTLP (4317, 4318) and the query UI (16686) as Services', () => {
    const objects = render();
    const ports = (name: string) => find(objects, 'Service', name, ns).spec.ports.map((p: { port: number }) => p.port);
    expect(ports(names.jaeger.collectorService)).toEqual([4317, 4318]);
    expect(ports(names.jaeger.queryService)).toEqual([16686, 16685, 14269]);
  });

  describe('elasticsearch', () => {
    it('needs the external cluster (from config or props), and says so', () => {
      expect(() => render(withStorage('elasticsearch'))).toThrow(/elasticsearch.*props\.elasticsearch\.url/);
    });

    const objects = render(withStorage('elasticsearch'), { elasticsearch: ES });
    const deployment = find(objects, 'Deployment', names.jaeger.workload, ns);

    it('runs stateless Jaeger pods against the external cluster, credentials from the secret store', () => {
      expect(objects.some((o) => o.kind === 'StatefulSet')).toBe(false);
      expect(deployment.spec.replicas).toBe(2);
      find(objects, 'PodDisruptionBudget', names.jaeger.workload, ns);
      const env = deployment.spec.template.spec.containers[0].env;
      expect(env).toContainEqual({ name: 'SPAN_STORAGE_TYPE', value: 'elasticsearch' });
      expect(env).toContainEqual({ name: 'ES_SERVER_URLS', value: ES.url });
      expect(env).toContainEqual({ name: 'ES_PASSWORD', valueFrom: { secretKeyRef: { name: names.jaeger.elasticsearchSecret, key: 'password' } } });
      const secret = find(objects, 'ExternalSecret', names.jaeger.elasticsearchSecret, ns);
      expect(secret.spec.secretStoreRef).toEqual({ kind: 'ClusterSecretStore', name: 'bookedbarber-vault' });
      // Every index gets a replica of each shard (Jaeger's --es.num-replicas, set at index creation).
      expect(env).toContainEqual({ name: 'ES_NUM_REPLICAS', value: '1' });
      // The cluster is registered with the mesh by the mesh chart, from the declared connection.
      expect(objects.some((o) => o.kind === 'ServiceEntry')).toBe(false);
    });

    it('enforces the retention with a daily index cleaner (whole days, rounded up)', () => {
      const cron = find(objects, 'CronJob', names.jaeger.indexCleaner, ns);
      const c = cron.spec.jobTemplate.spec.template.spec.containers[0];
      expect(c.image).toBe('docker.io/jaegertracing/jaeger-es-index-cleaner:1.64.0');
      expect(c.args).toEqual(['3', ES.url]);
      expect(cron.spec.jobTemplate.spec.template.metadata.labels['sidecar.istio.io/inject']).toBe('false');
      expect(retentionDays('72h')).toBe(3);
      expect(retentionDays('25h')).toBe(2);
    });
  });
});

describe('tracing output and the validator', () => {
  it('passes every schema, policy and reference rule next to the namespaces, in every region, for both storages (no findings)', () => {
    for (const region of REGIONS) {
      for (const storage of ['badger', 'elasticsearch'] as const) {
        const { report, loaded } = validate(region, storage);
        expect(report.findings, `${region} ${storage}`).toEqual([]);
        expect(report.objects).toBe(loaded.length);
      }
    }
  });

  it('what the operator renders from the collector resources is "restricted", spread, budgeted and selected (simulated, no findings)', () => {
    for (const region of REGIONS) {
      const { report, loaded } = validate(region, 'badger', (objects) => objects.filter((o) => o.kind === 'OpenTelemetryCollector').flatMap(operatorOutput));
      expect(loaded.filter((l) => l.object.kind === 'Deployment')).toHaveLength(2);
      expect(ownFindings(report.findings), region).toEqual([]);
      // Only the operator's managed-by label differs from our convention (3 objects per tier).
      expect(report.findings).toHaveLength(6);
    }
  });

  it('the simulation is a real check: a collector resource without a read-only root filesystem is flagged', () => {
    const { report } = validate('us-east-1', 'badger', (objects) =>
      objects
        .filter((o) => o.kind === 'OpenTelemetryCollector')
        .map((o) => ({ ...o, spec: { ...o.spec, securityContext: { ...o.spec.securityContext, readOnlyRootFilesystem: false } } }))
        .flatMap(operatorOutput),
    );
    expect(ownFindings(report.findings).map((f) => `${f.rule} ${f.object}`)).toEqual([
      'read-only-root-fs Deployment bookedbarber-monitoring/otel-collector',
      'read-only-root-fs Deployment bookedbarber-monitoring/otel-sampler-collector',
    ]);
  });
});
