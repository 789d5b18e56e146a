/**
 * Platform add-ons (dist/argocd/platform-addons.yaml): per region cluster, one Argo CD Application
 * per pinned upstream Helm chart, values inline, in sync waves before the region ApplicationSet.
 * Guards issue #3 item 5 (Istio with CNI for Pod Security "restricted", Argo Rollouts, monitoring
 * with Grafana, VPA, External Secrets, OpenTelemetry operator).
 */
import { describe, expect, it } from 'vitest';
import { addonProjectName } from '../../charts/argocd/chart';
import { ADDON_NAMESPACES, type HelmChartKey, platformAddons, REQUESTS_PER_SECOND_METRIC, ROOT_SYNC_WAVE, STANDBY_REGION_ADDONS } from '../../charts/argocd/addon-catalog';
import { ADDON_LABEL, PlatformAddonsChart } from '../../charts/argocd/addons-chart';
import { isServingRegion } from '../../regions/model';
import { GRAFANA } from '../../charts/lib/monitoring-targets';
import { newApp, objectsOf, regionPlan, shippedPlan } from '../support/charts';

const plan = shippedPlan();
const servingRegions = plan.regions.filter((r) => isServingRegion(r.region));
const standbyRegions = plan.regions.filter((r) => !isServingRegion(r.region));
const objects = objectsOf(new PlatformAddonsChart(newApp(), { plan }));
const apps = objects.filter((o) => o.kind === 'Application');
const inRegion = (region: string) => apps.filter((a) => a.metadata.labels['bookedbarber.com/region'] === region);
const app = (region: string, addon: string) => {
  const found = apps.find((a) => a.metadata.name === `bookedbarber-${region}-${addon}`);
  if (!found) throw new Error(`no add-on ${addon} in ${region}`);
  return found;
};
/** The Helm chart source of an add-on Application: its only source, or the first of two (istiod). */
const chartSource = (a: any) => a.spec.source ?? a.spec.sources[0];
const values = (region: string, addon: string) => chartSource(app(region, addon)).helm.valuesObject;

/** Each add-on and its chart's entry in regions/versions.yaml `helmCharts` (what it is pinned to, and why). */
const PINNED: Record<string, HelmChartKey> = {
  'istio-base': 'istioBase',
  'istio-cni': 'istioCni',
  istiod: 'istiod',
  'istio-ingressgateway': 'istioGateway',
  // Istio multi-network: the same gateway chart again, as the east-west gateway (issue #11).
  'istio-eastwestgateway': 'istioGateway',
  'argo-rollouts': 'argoRollouts',
  'kube-prometheus-stack': 'kubePrometheusStack',
  'prometheus-adapter': 'prometheusAdapter',
  vpa: 'vpa',
  'external-secrets': 'externalSecrets',
  'opentelemetry-operator': 'opentelemetryOperator',
  // The Route 53 records of the public host names (issue #11 item 4).
  'external-dns': 'externalDns',
};

/**
 * What a standby-only region (DR sites of shards homed elsewhere, no users) installs: the mesh that
 * joins it to the other regions (CNI, istiod, the east-west gateway), secrets and monitoring.
 * Nothing that serves users, releases them or publishes them in DNS.
 */
const STANDBY = ['istio-base', 'istio-cni', 'istiod', 'istio-eastwestgateway', 'external-secrets', 'kube-prometheus-stack'];

describe('PlatformAddonsChart', () => {
  it('installs the same add-ons into every serving region cluster, the standby set into every standby one, one Application each', () => {
    expect(servingRegions).toHaveLength(4);
    expect(standbyRegions.map((r) => r.region.name).sort()).toEqual(['ap-southeast-2', 'eu-central-1']);
    expect([...STANDBY_REGION_ADDONS].sort()).toEqual([...STANDBY].sort());
    for (const r of plan.regions) {
      const installed = inRegion(r.region.name);
      const expected = isServingRegion(r.region) ? Object.keys(PINNED) : STANDBY;
      expect(installed.map((a) => a.metadata.labels[ADDON_LABEL]).sort(), r.region.name).toEqual([...expected].sort());
      if (!isServingRegion(r.region)) {
        // No public ingress, no DNS records, no releases, no HPA metrics, no tracing pipeline.
        for (const serving of ['istio-ingressgateway', 'external-dns', 'argo-rollouts', 'prometheus-adapter', 'vpa', 'opentelemetry-operator']) {
          expect(installed.map((a) => a.metadata.labels[ADDON_LABEL]), `${r.region.name} ${serving}`).not.toContain(serving);
        }
      }
      for (const a of installed) {
        expect(a.spec.destination.server).toBe(r.region.cluster.server);
        expect(a.spec.project).toBe(addonProjectName(plan.global));
      }
    }
  });

  it('pins every add-on to the exact chart version of regions/versions.yaml (no range, no latest), and every pinned chart is used', () => {
    for (const a of apps) {
      const { repoURL, chart, version } = plan.versions.helmCharts[PINNED[a.metadata.labels[ADDON_LABEL]]!];
      expect(chartSource(a)).toMatchObject({ repoURL, chart, targetRevision: version });
      expect(chartSource(a).targetRevision).toMatch(/^\d+\.\d+\.\d+$/);
      expect(a.metadata.labels['app.kubernetes.io/version']).toBe(version);
    }
    expect(Object.fromEntries(platformAddons(regionPlan()).map((a) => [a.id, a.pin]))).toEqual(PINNED);
    expect([...new Set(Object.values(PINNED))].sort()).toEqual(Object.keys(plan.versions.helmCharts).sort());
  });

  it('orders add-ons by dependency, all before the region ApplicationSet', () => {
    const wave = (addon: string) => Number(app('us-east-1', addon).metadata.annotations['argocd.argoproj.io/sync-wave']);
    for (const a of apps) expect(Number(a.metadata.annotations['argocd.argoproj.io/sync-wave'])).toBeLessThan(ROOT_SYNC_WAVE.regions);
    expect(wave('istio-base')).toBeLessThan(wave('istiod'));
    expect(wave('istio-cni')).toBeLessThan(wave('istiod'));
    expect(wave('istiod')).toBeLessThan(wave('istio-ingressgateway'));
    // Charts that own CRDs come first; Grafana's admin Secret is an ExternalSecret.
    for (const crds of ['istio-base', 'external-secrets', 'argo-rollouts', 'vpa', 'opentelemetry-operator', 'external-dns']) {
      expect(wave(crds), crds).toBe(Math.min(...apps.map((a) => Number(a.metadata.annotations['argocd.argoproj.io/sync-wave']))));
    }
    expect(wave('external-secrets')).toBeLessThan(wave('kube-prometheus-stack'));
    expect(wave('istio-ingressgateway')).toBeLessThan(wave('prometheus-adapter'));
  });

  it('syncs automatically and self-heals; charts that own CRDs never prune on their own', () => {
    for (const a of apps) {
      const addon = a.metadata.labels[ADDON_LABEL];
      expect(a.spec.syncPolicy.automated.selfHeal).toBe(true);
      expect(a.spec.syncPolicy.automated.allowEmpty).toBe(false);
      const ownsCrds = ['istio-base', 'external-secrets', 'kube-prometheus-stack', 'argo-rollouts', 'vpa', 'opentelemetry-operator', 'external-dns'].includes(addon);
      expect(a.spec.syncPolicy.automated.prune, addon).toBe(!ownsCrds);
      expect(a.spec.syncPolicy.syncOptions).toContain('ServerSideApply=true');
      expect(a.spec.syncPolicy.retry.limit).toBeGreaterThanOrEqual(5);
      // Deleting an Application never uninstalls an add-on from a live cluster.
      expect(a.metadata.finalizers).toBeUndefined();
      if (a.spec.ignoreDifferences) expect(a.spec.syncPolicy.syncOptions).toContain('RespectIgnoreDifferences=true');
    }
  });

  it('creates each add-on namespace once per cluster with its Pod Security labels; only istio-cni is privileged', () => {
    for (const r of plan.regions) {
      const creators = inRegion(r.region.name).filter((a) => a.spec.syncPolicy.syncOptions.includes('CreateNamespace=true'));
      // A standby region has only the namespaces of its add-ons (no ingress gateway, rollouts, ...).
      const expected = isServingRegion(r.region)
        ? ADDON_NAMESPACES.map((n) => n.name)
        : ['external-secrets', 'istio-cni', 'istio-system', 'monitoring-system'];
      expect(creators.map((a) => a.spec.destination.namespace).sort(), r.region.name).toEqual([...expected].sort());
      expect(new Set(inRegion(r.region.name).map((a) => a.spec.destination.namespace)), r.region.name).toEqual(new Set(expected));
      for (const a of creators) {
        const labels = a.spec.syncPolicy.managedNamespaceMetadata.labels;
        const expected = a.spec.destination.namespace === 'istio-cni' ? 'privileged' : 'restricted';
        expect(labels['pod-security.kubernetes.io/enforce'], a.spec.destination.namespace).toBe(expected);
        // Every exception to "restricted" says why, on the namespace itself.
        const why = a.spec.syncPolicy.managedNamespaceMetadata.annotations?.['bookedbarber.com/pod-security-exception'];
        expect(Boolean(why), a.spec.destination.namespace).toBe(expected === 'privileged');
        expect(labels['pod-security.kubernetes.io/warn']).toBe('restricted');
        expect(labels['pod-security.kubernetes.io/audit']).toBe('restricted');
      }
      const others = inRegion(r.region.name).filter((a) => !a.spec.syncPolicy.syncOptions.includes('CreateNamespace=true'));
      for (const a of others) expect(a.spec.syncPolicy.managedNamespaceMetadata).toBeUndefined();
    }
  });

  it('installs Istio with the CNI node agent (Pod Security "restricted" forbids istio-init) and OpenTelemetry tracing', () => {
    const istiod = values('us-east-1', 'istiod');
    expect(istiod.pilot.cni.enabled).toBe(true);
    expect(app('us-east-1', 'istio-cni').spec.destination.namespace).toBe('istio-cni');
    expect(istiod.meshConfig.enablePrometheusMerge).toBe(true);
    expect(istiod.meshConfig.extensionProviders).toEqual([
      { name: 'otel-tracing', opentelemetry: { service: 'otel-collector.bookedbarber-monitoring.svc.cluster.local', port: 4317 } },
    ]);
    const sidecar = plan.global.mesh.sidecar;
    expect(istiod.global.proxy.resources).toEqual({ requests: sidecar.requests, limits: sidecar.limits });
    expect(istiod.global.multiCluster.clusterName).toBe(regionPlan('us-east-1').region.cluster.name);
  });

  it('runs the ingress gateway with the labels, namespace and service account the mesh chart refers to', () => {
    const names = regionPlan('eu-west-1').names.mesh;
    const gateway = app('eu-west-1', 'istio-ingressgateway');
    expect(gateway.spec.destination.namespace).toBe(names.ingressNamespace);
    expect(gateway.spec.source.helm.releaseName).toBe(names.ingressServiceAccount);
    const v = gateway.spec.source.helm.valuesObject;
    expect(v.labels).toEqual(names.ingressSelector);
    expect(v.serviceAccount).toEqual({ create: true, name: names.ingressServiceAccount });
    expect(v.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    expect(v.autoscaling.minReplicas).toBeGreaterThanOrEqual(regionPlan('eu-west-1').region.zones.length);
  });

  it('stops both gateways behind their load balancers without dropping connections: Envoy accepts and drains through the deregistration and its delay, the grace outlasts the drain; Ready only once registered', () => {
    let checked = 0;
    for (const r of plan.regions) {
      for (const id of ['istio-ingressgateway', 'istio-eastwestgateway']) {
        const a = inRegion(r.region.name).find((x) => x.metadata.labels['bookedbarber.com/addon'] === id);
        if (!a) continue; // a standby region has no ingress gateway (counted below)
        checked++;
        const v = a.spec.source.helm.valuesObject;
        const config = JSON.parse(v.podAnnotations['proxy.istio.io/config']);
        const secondsOf = (d: string) => Number(/^(\d+)s$/.exec(d)![1]);
        const drain = secondsOf(config.terminationDrainDuration);
        // Envoy stops accepting when its own drain time (drainDuration) ends.
        expect(secondsOf(config.drainDuration), `${r.region.name} ${id}`).toBeGreaterThanOrEqual(drain);
        const attributes = Object.fromEntries(String(v.service.annotations['service.beta.kubernetes.io/aws-load-balancer-target-group-attributes']).split(',').map((kv) => kv.split('=')));
        const deregistration = Number(attributes['deregistration_delay.timeout_seconds']);
        // 15 s for the controller to deregister the target after the endpoint goes (new
        // connections until then), then the delay for the open ones.
        expect(drain, `${r.region.name} ${id}`).toBeGreaterThanOrEqual(15 + deregistration);
        expect(v.terminationGracePeriodSeconds, `${r.region.name} ${id}`).toBeGreaterThan(drain);
        expect(attributes['deregistration_delay.connection_termination.enabled']).toBe('true');
        const ns = inRegion(r.region.name).find((x) => x.spec.destination.namespace === a.spec.destination.namespace && x.spec.syncPolicy.syncOptions.includes('CreateNamespace=true'))!;
        expect(ns.spec.syncPolicy.managedNamespaceMetadata.labels['elbv2.k8s.aws/pod-readiness-gate-inject'], `${r.region.name} ${id}`).toBe('enabled');
      }
    }
    // An east-west gateway in every region, an ingress gateway in every serving one.
    expect(checked).toBe(plan.regions.length + plan.regions.filter((r) => r.region.role !== 'standby').length);
  });

  it('joins the regions as one multi-network mesh: a network per region, DNS proxying for the *.global names, an east-west gateway (issue #11)', () => {
    for (const r of plan.regions) {
      const network = `bookedbarber-${r.region.name}`;
      const istiod = values(r.region.name, 'istiod');
      expect(istiod.global).toMatchObject({ meshID: 'bookedbarber', network, multiCluster: { clusterName: r.region.cluster.name } });
      expect(istiod.meshConfig.defaultConfig.proxyMetadata).toEqual({ ISTIO_META_DNS_CAPTURE: 'true', ISTIO_META_DNS_AUTO_ALLOCATE: 'true' });
      const eastWest = app(r.region.name, 'istio-eastwestgateway');
      expect(eastWest.spec.destination.namespace).toBe('istio-system');
      const v = eastWest.spec.source.helm.valuesObject;
      expect(v.labels).toEqual({ istio: 'eastwestgateway', app: 'istio-eastwestgateway', 'topology.istio.io/network': network });
      expect(v.env).toEqual({ ISTIO_META_REQUESTED_NETWORK_VIEW: network });
      // networkGateway would make the 1.24 chart write that env a second time (server-side apply
      // rejects the duplicate) and replace the ports with istiod's 15012/15017.
      expect(v.networkGateway).toBeUndefined();
      expect(v.service.ports.map((p: any) => p.port)).toEqual([15021, 15443]);
      const creator = inRegion(r.region.name).find((a) => a.spec.destination.namespace === 'istio-system' && a.spec.syncPolicy.syncOptions.includes('CreateNamespace=true'))!;
      expect(creator.spec.syncPolicy.managedNamespaceMetadata.labels['topology.istio.io/network']).toBe(network);
    }
  });

  it('admits the other regions\' VPCs, and only those, at each east-west load balancer (without source ranges the controller admits any routable address, or only the own VPC, by version)', () => {
    // The shipped blocks (regions/*.yaml vpcCidrs), written out: us-east-1 10.10, us-west-2 10.20,
    // eu-west-1 10.30, eu-central-1 10.40, ap-southeast-1 10.50, ap-southeast-2 10.60.
    expect(values('us-east-1', 'istio-eastwestgateway').service.loadBalancerSourceRanges).toEqual(['10.20.0.0/16', '10.30.0.0/16', '10.40.0.0/16', '10.50.0.0/16', '10.60.0.0/16']);
    expect(values('eu-central-1', 'istio-eastwestgateway').service.loadBalancerSourceRanges).toEqual(['10.10.0.0/16', '10.20.0.0/16', '10.30.0.0/16', '10.50.0.0/16', '10.60.0.0/16']);
    // The internet-facing ingress gateway is not restricted.
    expect(values('us-east-1', 'istio-ingressgateway').service.loadBalancerSourceRanges).toBeUndefined();
  });

  it('health-checks both gateways at Istio\'s readiness endpoint, not by a TCP connect to the traffic port', () => {
    for (const r of plan.regions) {
      for (const id of ['istio-ingressgateway', 'istio-eastwestgateway']) {
        if (id === 'istio-ingressgateway' && r.region.role === 'standby') continue;
        expect(values(r.region.name, id).service.annotations, `${r.region.name} ${id}`).toMatchObject({
          'service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol': 'http',
          'service.beta.kubernetes.io/aws-load-balancer-healthcheck-port': '15021',
          'service.beta.kubernetes.io/aws-load-balancer-healthcheck-path': '/healthz/ready',
        });
      }
    }
  });

  it('serves the requests-per-second Pods metric the API HPA scales on from Istio request metrics', () => {
    const adapter = values('us-west-2', 'prometheus-adapter');
    expect(adapter.rules.default).toBe(false);
    expect(adapter.rules.custom).toHaveLength(1);
    const [rule] = adapter.rules.custom;
    expect(rule.name.as).toBe(REQUESTS_PER_SECOND_METRIC);
    expect(rule.seriesQuery).toContain('istio_requests_total');
    expect(rule.resources.overrides).toEqual({ namespace: { resource: 'namespace' }, pod: { resource: 'pod' } });
    expect(rule.metricsQuery).toContain('rate(<<.Series>>{<<.LabelMatchers>>');
    expect(`${adapter.prometheus.url}:${adapter.prometheus.port}`).toBe(regionPlan('us-west-2').names.monitoring.prometheusUrl);
    // A Pods metric query names every selected pod (pod=~"a|b|..."): ~2,000 API pods at a release
    // peak is ~70 KB, past the URL limits of proxies (Envoy 60 KiB). POST carries it in the body.
    expect(adapter.extraArguments).toEqual(['--prometheus-verb=POST']);
  });

  it('brings Grafana with the dashboard sidecar, its admin credentials from External Secrets, and the CRDs', () => {
    const stack = values('us-east-1', 'kube-prometheus-stack');
    expect(stack.crds.enabled).toBe(true);
    expect(stack.grafana.enabled).toBe(true);
    // Namespaced RBAC: the grafana chart's ClusterRole would read every ConfigMap and Secret of the
    // cluster (templates/clusterrole.yaml, whenever a sidecar is on); the sidecar reads only our
    // dashboards' ConfigMaps, through the monitoring chart's Role.
    expect(stack.grafana.rbac).toEqual({ namespaced: true });
    // The identity the monitoring chart's Role binds is this release's Grafana: the subchart's
    // fullname <release>-grafana (no override), in the add-on's namespace.
    const spec = platformAddons(regionPlan('us-east-1')).find((a) => a.id === 'kube-prometheus-stack')!;
    expect(GRAFANA).toEqual({ namespace: spec.namespace, serviceAccount: `${spec.releaseName}-grafana` });
    expect(stack.grafana.fullnameOverride ?? stack.grafana.nameOverride ?? stack.grafana.serviceAccount).toBeUndefined();
    expect(stack.grafana.sidecar.dashboards).toMatchObject({ enabled: true, label: 'grafana_dashboard', searchNamespace: regionPlan('us-east-1').namespaces.monitoring, resource: 'configmap' });
    expect(stack.grafana.sidecar.datasources.url).toBe(regionPlan('us-east-1').names.monitoring.prometheusUrl);
    // No data source at the chart's own Alertmanager address (off here; ours admits Prometheus only).
    expect(stack.alertmanager.enabled).toBe(false);
    expect(stack.grafana.sidecar.datasources.alertmanager).toEqual({ enabled: false });
    expect(stack.grafana.admin.existingSecret).toBe('grafana-admin');
    const [externalSecret] = stack.extraManifests;
    expect(externalSecret).toMatchObject({
      kind: 'ExternalSecret',
      spec: { refreshInterval: '1h', secretStoreRef: { kind: plan.global.secretStore.kind, name: plan.global.secretStore.name }, target: { name: 'grafana-admin' } },
    });
    expect(JSON.stringify(stack)).not.toMatch(/adminPassword/);
    // The operator and kube-state-metrics (scraped by the monitoring chart); nothing needing host access.
    expect([stack.prometheusOperator.admissionWebhooks.enabled, stack.kubeStateMetrics.enabled, stack.nodeExporter.enabled]).toEqual([false, true, false]);
    expect(stack.grafana.containerSecurityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } });
  });

  it('makes the OpenTelemetry webhook certificate a plain object, not a Helm hook Argo CD would re-create on every sync', () => {
    const otel = app('us-east-1', 'opentelemetry-operator');
    expect(otel.spec.source.helm.valuesObject.admissionWebhooks.secretAnnotations).toEqual({ 'helm.sh/hook': null, 'helm.sh/hook-delete-policy': null });
    expect(otel.spec.source.helm.valuesObject.admissionWebhooks.certManager.enabled).toBe(false);
    expect(otel.spec.ignoreDifferences).toContainEqual({ group: '', kind: 'Secret', namespace: 'opentelemetry-operator-system', jsonPointers: ['/data'] });
  });

  it('runs VPA as a recommender only, and Argo Rollouts with RBAC for the Istio traffic router only', () => {
    const vpa = values('us-east-1', 'vpa');
    expect([vpa.recommender.enabled, vpa.updater.enabled, vpa.admissionController.enabled]).toEqual([true, false, false]);
    const rollouts = values('us-east-1', 'argo-rollouts');
    const providers = Object.entries(rollouts.providerRBAC.providers).filter(([, on]) => on).map(([p]) => p);
    expect(providers).toEqual(['istio']);
    expect(rollouts.installCRDs).toBe(true);
  });

  it('ignores only the fields the add-ons\' own controllers rewrite (webhook CA bundles, istiod\'s failurePolicy)', () => {
    expect(app('us-east-1', 'istio-base').spec.ignoreDifferences).toEqual([
      {
        group: 'admissionregistration.k8s.io',
        kind: 'ValidatingWebhookConfiguration',
        jqPathExpressions: ['.webhooks[]?.clientConfig.caBundle', '.webhooks[]?.failurePolicy'],
      },
    ]);
    expect(app('us-east-1', 'argo-rollouts').spec.ignoreDifferences).toBeUndefined();
    for (const addon of platformAddons(regionPlan('us-east-1'))) {
      for (const rule of addon.ignoreDifferences) expect(JSON.stringify(rule), addon.id).not.toMatch(/"\/spec"|"\.spec"|"\/data\/|\/spec\/template/);
    }
  });
});
