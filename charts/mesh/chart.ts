/**
 * The Istio mesh of a region (dist/<region>/mesh.yaml):
 * - mTLS STRICT mesh-wide and in every namespace we own (PeerAuthentication);
 * - deny by default (an empty AuthorizationPolicy per namespace) plus the policies generated
 *   from the region's declared connections (charts/wiring/): ALLOW AuthorizationPolicies and
 *   their NetworkPolicy twins, egress to outside hosts and their ServiceEntries;
 * - a Sidecar per namespace limiting egress to what its connections reach (REGISTRY_ONLY);
 * - the public Gateway, the web and API VirtualServices and their DestinationRules (the API's
 *   stable/canary subsets are the ones Argo Rollouts shifts weight between);
 * - mesh-wide Telemetry: trace sampling from config, access logs for failures only.
 */
import { ATTR_DEPLOYMENT_ENVIRONMENT_NAME } from '@opentelemetry/semantic-conventions';
import { ATTR_CLOUD_REGION } from '../lib/otel';
import { regionNamespaces, serving } from '../../regions/plan';
import { isServingRegion } from '../../regions/model';
import { postgresGlobalHost } from '../postgres/names';
import type { Construct } from 'constructs';
import { k8s } from 'cdk8s-plus-28';
import {
  Gateway, GatewaySpecServersTlsMode, ServiceEntry, ServiceEntrySpecLocation, ServiceEntrySpecResolution, Sidecar, SidecarSpecOutboundTrafficPolicyMode,
} from '../../imports/istio-networking.istio.io';
import { VirtualService } from '../../imports/istio-networking.istio.io';
import { AuthorizationPolicy, PeerAuthentication, PeerAuthenticationSpecMtlsMode } from '../../imports/istio-security.istio.io';
import { Telemetry } from '../../imports/istio-telemetry.istio.io';
import { FLOW_ANNOTATION, FlowPolicies, networkPorts } from './flow-policies';
import { type RegionPolicies, regionPolicies } from '../wiring/policies';
import { OTEL_TRACING_PROVIDER } from '../lib/otel';
import { CredentialsFromStore } from '../lib/external-secret';
import { EAST_WEST_GATEWAY } from '../lib/mesh-network';
import { sessionsProxyNames } from '../redis/topology';
import { appLabels, SYNC_WAVE, syncWave } from '../lib/metadata';
import { serviceHost } from '../../regions/wiring';
import { idempotentMethodsMatch, MESH_GATEWAY, PublicGateway, routeResilience, ServiceDestinationRule } from './routing';
import { connectionPoolSizing } from './sizing';
import { API_RETRY_ATTEMPTS, publicRouteBudgets, WEB_RETRY_ATTEMPTS } from '../../regions/route-budget';
import { RegionChart, type RegionChartProps } from '../lib/region-chart';

export interface MeshChartProps extends RegionChartProps {
  /**
   * Tracing provider the sidecars report spans to. It must be defined in the Istio add-on's
   * `meshConfig.extensionProviders` (an `opentelemetry` provider pointing at the collector).
   * @default 'otel-tracing'
   */
  readonly tracingProvider?: string;
  /**
   * Retries per API request after the first try (VirtualService `retries.attempts`).
   * @default 2
   */
  readonly apiRetryAttempts?: number;
  /**
   * Retries per web request after the first try.
   * @default 1
   */
  readonly webRetryAttempts?: number;
}

/** Name Istio gives the mesh-wide and namespace-wide PeerAuthentication (and Sidecar). */
const DEFAULT_NAME = 'default';

/**
 * Access logs for failures only: at tens of thousands of requests per second a full log costs
 * more than the sidecars, and metrics and traces already cover the successful requests. 5xx
 * covers upstream errors, timeouts and breaker overflows; 403 is how a flow missing from the
 * connection missing from the declaration shows up (an AuthorizationPolicy denial), which is what one looks for first.
 */
export const ACCESS_LOG_FILTER = 'response.code >= 500 || response.code == 403';

export class MeshChart extends RegionChart {
  /** The policies this chart rendered, from the region's declared connections. */
  readonly policies: RegionPolicies;
  private readonly meshLabels: Record<string, string>;

  constructor(scope: Construct, props: MeshChartProps) {
    super(scope, 'mesh', props);
    this.meshLabels = appLabels(this.plan, 'mesh', 'service-mesh');
    this.policies = regionPolicies(this.plan);
    const owned = regionNamespaces(this.plan);

    this.mutualTls(owned);
    this.authorization(owned);
    this.sidecars(owned);
    // A standby region serves no users: no public Gateway, routes or tracing pipeline.
    const servingRegion = isServingRegion(this.plan.region);
    if (servingRegion) this.routing(props.apiRetryAttempts ?? API_RETRY_ATTEMPTS, props.webRetryAttempts ?? WEB_RETRY_ATTEMPTS);
    this.crossNetwork();
    this.telemetry(servingRegion ? (props.tracingProvider ?? OTEL_TRACING_PROVIDER) : undefined);
    this.externalEgress();
  }

  /**
   * Egress beyond the pod network, from the connection declaration: per caller one NetworkPolicy
   * opening only the ports it needs (the model does not know the API server's or the providers'
   * addresses), and, for meshed callers (REGISTRY_ONLY Sidecars), a ServiceEntry per namespace
   * and port naming exactly the hosts they call.
   */
  private externalEgress(): void {
    const wave = SYNC_WAVE.guardrails;
    const entries = new Map<string, { namespace: string; port: number; hosts: Set<string> }>();
    for (const flow of this.policies.externalFlows) {
      const reasons = flow.connections.map((c) => `${c.name}: ${c.why}`).join('\n');
      new k8s.KubeNetworkPolicy(this, `external-egress-${flow.name}`, {
        metadata: { ...this.meta(`allow-${flow.name}-external-egress`, flow.from.namespace, wave), annotations: { ...syncWave(wave), [FLOW_ANNOTATION]: reasons } },
        spec: {
          podSelector: { matchLabels: { ...flow.from.podLabels } },
          policyTypes: ['Egress'],
          egress: [{ ports: networkPorts(flow.ports) }],
        },
      });
      if (!flow.from.meshed) continue;
      for (const { host, port } of flow.hosts) {
        const key = `${flow.from.namespace}/${port}`;
        const entry = entries.get(key) ?? { namespace: flow.from.namespace, port, hosts: new Set<string>() };
        entry.hosts.add(host);
        entries.set(key, entry);
      }
    }
    for (const { namespace, port, hosts } of entries.values()) {
      // TLS on 443 is routed by SNI, so the listed hosts are all a meshed caller can reach there.
      const tls = port === 443;
      new ServiceEntry(this, `external-${namespace}-${port}`, {
        metadata: this.meta(`external-hosts-${port}`, namespace, wave),
        spec: {
          hosts: [...hosts].sort(),
          location: ServiceEntrySpecLocation.MESH_UNDERSCORE_EXTERNAL,
          resolution: ServiceEntrySpecResolution.NONE,
          ports: [{ number: port, name: tls ? 'tls' : `tcp-${port}`, protocol: tls ? 'TLS' : 'TCP' }],
          exportTo: ['.'],
        },
      });
    }
  }

  /**
   * Istio multi-network: the other regions reach the hosts this region exports through its
   * east-west gateway (15443, AUTO_PASSTHROUGH: routed by the SNI of the caller's own mTLS, never
   * terminated), and every region's workload certificates chain to one shared root, so a
   * sidecar in one region trusts a sidecar in another. The intermediate CA of this region comes
   * from the store (istiod reads `cacerts` at start: charts/mesh-ca); the private keys never reach git.
   */
  private crossNetwork(): void {
    const { plan } = this;
    const p = plan.global.platform.name;
    const active = plan.hostedShards.filter((h) => h.active);
    const exported = [
      ...active.map((h) => plan.names.data.remoteShardHost(h.config.id, plan.region.name)),
      ...active.map((h) => postgresGlobalHost(p, h.config.id, h.site, plan.region.name)),
      ...(plan.region.role === 'primary' ? [sessionsProxyNames(plan, plan.region.name).globalHost] : []),
    ];
    // Istio refuses a Gateway server without hosts: a region exporting nothing (a standby
    // region before any promotion) renders none; its east-west gateway only sends.
    if (exported.length > 0) this.crossNetworkGateway(exported);
    // The shared root CA (`cacerts`) is charts/mesh-ca: istiod must find it at its first start.
  }

  /** The east-west gateway's AUTO_PASSTHROUGH server for the hosts other regions need. */
  private crossNetworkGateway(exported: readonly string[]): void {
    const root = this.plan.names.mesh.rootNamespace;
    new Gateway(this, 'cross-network-gateway', {
      metadata: this.meta('cross-network-gateway', root, SYNC_WAVE.config),
      spec: {
        selector: { ...EAST_WEST_GATEWAY.labels },
        servers: [
          {
            port: { number: EAST_WEST_GATEWAY.port, name: 'tls', protocol: 'TLS' },
            // Only what other regions need: the PgBouncer of the shards active here (other regions'
            // APIs), their primaries (the other site's standby leader) and (primary) the sessions proxy.
            hosts: [...exported],
            tls: { mode: GatewaySpecServersTlsMode.AUTO_UNDERSCORE_PASSTHROUGH },
          },
        ],
      },
    });
  }

  private meta(name: string, namespace: string, wave: number) {
    return { name, namespace, labels: { ...this.meshLabels }, annotations: syncWave(wave) };
  }

  /** STRICT mesh-wide, and again per namespace so a namespace never depends on the root's. */
  private mutualTls(owned: readonly string[]): void {
    const root = this.plan.names.mesh.rootNamespace;
    for (const namespace of [root, ...owned]) {
      new PeerAuthentication(this, `peer-authentication-${namespace}`, {
        metadata: this.meta(DEFAULT_NAME, namespace, SYNC_WAVE.guardrails),
        spec: { mtls: { mode: PeerAuthenticationSpecMtlsMode.STRICT } },
      });
    }
  }

  /**
   * Istio's allow-nothing policy (empty spec: selects every workload, matches no request) in
   * every namespace we own, then one ALLOW policy and its NetworkPolicy twins per flow. Same
   * wave, so the allows land with the deny and a live region never sees a gap.
   * Kubelet health probes need no allow: Istio rewrites them to the sidecar agent (15020),
   * which the sidecar does not intercept, so no AuthorizationPolicy ever sees them.
   */
  private authorization(owned: readonly string[]): void {
    for (const namespace of owned) {
      new AuthorizationPolicy(this, `deny-all-${namespace}`, {
        metadata: this.meta('deny-all', namespace, SYNC_WAVE.guardrails),
        spec: {},
      });
    }
    for (const flow of this.policies.peerFlows) {
      new FlowPolicies(this, `flow-${flow.name}`, {
        flow,
        labels: this.meshLabels,
        annotations: syncWave(SYNC_WAVE.guardrails),
      });
    }
  }

  /**
   * One namespace-wide Sidecar per namespace: the sidecars only learn (and can only reach) their
   * own namespace, istio-system, the namespaces their declared connections go to and the
   * Kubernetes API where a connection needs it; anything else, inside or outside the cluster, is
   * refused (REGISTRY_ONLY) instead of passed through. It also keeps each sidecar's
   * configuration small when the API runs 1000 pods.
   */
  private sidecars(owned: readonly string[]): void {
    const root = this.plan.names.mesh.rootNamespace;
    for (const namespace of owned) {
      const hosts = ['./*', `${root}/*`, ...this.policies.sidecarHosts(namespace).filter((h) => h !== `${root}/*`)];
      new Sidecar(this, `sidecar-${namespace}`, {
        metadata: this.meta(DEFAULT_NAME, namespace, SYNC_WAVE.guardrails),
        spec: {
          egress: [{ hosts }],
          outboundTrafficPolicy: { mode: SidecarSpecOutboundTrafficPolicyMode.REGISTRY_UNDERSCORE_ONLY },
        },
      });
    }
  }

  private routing(apiRetries: number, webRetries: number): void {
    const { names, global } = this.plan;
    const ns = this.plan.namespaces.app;
    const wave = SYNC_WAVE.config;
    const gateway = `${ns}/${names.mesh.gateway}`;
    const apiPort = { number: global.workloads.api.port };
    const webPort = { number: global.workloads.web.port };

    // Istio reads a Gateway's credentialName from the namespace of the gateway workload, not
    // of the Gateway object (IST0161): the certificate goes where the ingress gateway runs.
    new CredentialsFromStore(this, 'gateway-tls', {
      plan: this.plan,
      name: global.ingress.tlsCredentialName,
      namespace: names.mesh.ingressNamespace,
      labels: this.meshLabels,
      keys: Object.fromEntries(['tls.crt', 'tls.key'].map((k) => [k, { key: `${global.platform.name}/ingress/tls`, property: k }])),
      secretType: 'kubernetes.io/tls',
    });
    new PublicGateway(this, 'gateway', {
      metadata: this.meta(names.mesh.gateway, ns, wave),
      selector: names.mesh.ingressSelector,
      hosts: [global.ingress.webHost, global.ingress.apiHost],
      credentialName: global.ingress.tlsCredentialName,
    });

    // ---- API: canary by subset. Argo Rollouts adds the stable and canary ReplicaSets'
    // rollouts-pod-template-hash to the subsets' labels and rewrites the route's weights.
    const apiPool = connectionPoolSizing({
      maxReplicas: serving(this.plan).autoscaling.api.maxReplicas,
      targetRequestsPerSecond: global.workloads.api.targetRequestsPerSecond,
      p95LatencyMs: global.delivery.api.analysis.maxLatencyP95Ms,
    });
    const apiSelector = { 'app.kubernetes.io/name': names.api.app };
    new ServiceDestinationRule(this, 'api-destination-rule', {
      metadata: this.meta(names.api.destinationRule, ns, wave),
      service: names.api.stableService,
      namespace: ns,
      pool: apiPool,
      subsets: [
        { name: names.api.stableSubset, labels: { ...apiSelector } },
        { name: names.api.canarySubset, labels: { ...apiSelector } },
      ],
    });
    const apiHost = serviceHost(names.api.stableService, ns);
    // 100/0 is the resting state; Argo Rollouts sets 90/10, 50/50 during a release and puts
    // 100/0 back on promotion or abort (Argo CD ignores these weights).
    const apiDestinations = () => [
      { destination: { host: apiHost, subset: names.api.stableSubset, port: apiPort }, weight: 100 },
      { destination: { host: apiHost, subset: names.api.canarySubset, port: apiPort }, weight: 0 },
    ];
    // Timeouts and tries from the latency objectives; regions/route-budget-invariants.ts checks them.
    const { api: apiBudget, web: webBudget } = publicRouteBudgets(global, apiRetries, webRetries);
    new VirtualService(this, 'api-virtual-service', {
      metadata: this.meta(names.api.virtualService, ns, wave),
      spec: {
        // The public name through the gateway, and the in-mesh name web calls: both get the
        // canary split, so a release is tested by every kind of caller.
        hosts: [global.ingress.apiHost, apiHost],
        gateways: [gateway, MESH_GATEWAY],
        // Two routes with the same canary split (Argo Rollouts sets weights on both, see the
        // Rollout's trafficRouting routes): safe methods first, retried on a 503 as well; every
        // other method after, retried only when the request never reached the app.
        http: [
          { name: names.api.idempotentRoute, match: idempotentMethodsMatch(), route: apiDestinations(), ...routeResilience(apiBudget, 'idempotent') },
          { name: names.api.route, route: apiDestinations(), ...routeResilience(apiBudget, 'writes') },
        ],
      },
    });

    // ---- Web: blue-green by Service. Argo Rollouts points the active and preview Services at
    // the right ReplicaSet; the VirtualService only ever routes to the active one.
    const webPool = connectionPoolSizing({
      maxReplicas: serving(this.plan).autoscaling.web.maxReplicas,
      targetRequestsPerSecond: global.workloads.web.targetRequestsPerSecond,
      p95LatencyMs: global.delivery.web.analysis.maxLatencyP95Ms,
    });
    for (const [id, name, service] of [
      ['web-destination-rule', names.web.destinationRule, names.web.activeService],
      ['web-preview-destination-rule', names.web.previewService, names.web.previewService],
    ] as const) {
      new ServiceDestinationRule(this, id, { metadata: this.meta(name, ns, wave), service, namespace: ns, pool: webPool });
    }
    // A page render may call the API, so each web try outlasts the API's whole budget
    // (publicRouteBudgets). Same split as the API: a form POST is never sent twice.
    const webDestination = () => [{ destination: { host: serviceHost(names.web.activeService, ns), port: webPort } }];
    new VirtualService(this, 'web-virtual-service', {
      metadata: this.meta(names.web.virtualService, ns, wave),
      spec: {
        hosts: [global.ingress.webHost],
        gateways: [gateway],
        http: [
          { name: 'idempotent', match: idempotentMethodsMatch(), route: webDestination(), ...routeResilience(webBudget, 'idempotent') },
          { name: 'primary', route: webDestination(), ...routeResilience(webBudget, 'writes') },
        ],
      },
    });
    // The smoke tests (charts/web/smoke-test.ts) reach the preview stack by its Service name, the
    // Host the mesh routes by; the app must see the public host the gateway would send (host-based
    // routing, canonical-host redirects, cookie domains). The tester's sidecar rewrites it.
    // Exported to this namespace only: the tester is the preview's one declared caller.
    const previewHost = serviceHost(names.web.previewService, ns);
    new VirtualService(this, 'web-preview-virtual-service', {
      metadata: this.meta(`${names.web.virtualService}-preview`, ns, wave),
      spec: {
        hosts: [previewHost],
        gateways: [MESH_GATEWAY],
        exportTo: ['.'],
        // The web's budget, retrying only requests that never reached the app (as every route).
        http: [{
          name: 'smoke-test',
          rewrite: { authority: global.ingress.webHost },
          route: [{ destination: { host: previewHost, port: webPort } }],
          ...routeResilience(webBudget, 'writes'),
        }],
      },
    });
  }

  /** Mesh-wide (root namespace) tracing and access logging. */
  private telemetry(provider: string | undefined): void {
    const { names, global, region } = this.plan;
    const accessLogging = [{ providers: [{ name: 'envoy' }], filter: { expression: ACCESS_LOG_FILTER } }];
    if (provider === undefined) {
      new Telemetry(this, 'telemetry', { metadata: this.meta('mesh-default', names.mesh.rootNamespace, SYNC_WAVE.config), spec: { accessLogging } });
      return;
    }
    new Telemetry(this, 'telemetry', {
      metadata: this.meta('mesh-default', names.mesh.rootNamespace, SYNC_WAVE.config),
      spec: {
        tracing: [
          {
            providers: [{ name: provider }],
            randomSamplingPercentage: global.mesh.traceSamplingPercent,
            // Spans from four regions meet in one trace store: tag where they come from, with the
            // keys the SDKs and the gateway's resource processor use (semantic conventions), so
            // one query finds both the app's and Envoy's spans.
            customTags: {
              [ATTR_CLOUD_REGION]: { literal: { value: region.name } },
              [ATTR_DEPLOYMENT_ENVIRONMENT_NAME]: { literal: { value: global.platform.environment } },
            },
          },
        ],
        accessLogging,
      },
    });
    // The tracing pipeline does not trace itself: spans about exporting spans would loop back
    // into it, and no declared connection lets the collectors' own sidecars report.
    new Telemetry(this, 'telemetry-monitoring', {
      metadata: this.meta('no-span-reporting', this.plan.namespaces.monitoring, SYNC_WAVE.config),
      spec: { tracing: [{ disableSpanReporting: true }] },
    });
  }
}
