/**
 * How requests travel once admitted: the public Gateway, the VirtualServices of the web front
 * end and the API, and the DestinationRules (mTLS, connection pools, outlier detection) of
 * every host they route to.
 */
import type { ApiObjectMetadata } from 'cdk8s';
import type { Construct } from 'constructs';
import {
  DestinationRule,
  type DestinationRuleSpecSubsets,
  type DestinationRuleSpecTrafficPolicy,
  DestinationRuleSpecTrafficPolicyTlsMode,
  Gateway,
  GatewaySpecServersTlsMinProtocolVersion,
  GatewaySpecServersTlsMode,
  type VirtualServiceSpecHttp,
} from '../../imports/istio-networking.istio.io';
import { serviceHost } from '../../regions/wiring';
import { type ConnectionPoolSizing, duration, type RouteBudget } from './sizing';


/** The gateway name Istio reserves for "every sidecar in the mesh" in VirtualService gateways. */
export const MESH_GATEWAY = 'mesh';

/**
 * Retry conditions of every route. `reset` and `5xx` re-send a request the server may have
 * started processing, so the API's writes (bookings, payments) must be idempotent (an
 * idempotency key per request); `connect-failure` is always safe.
 */
const RETRY_ON = '5xx,reset,connect-failure';

// ------------------------------------------------------------------ DestinationRule

/** Outlier detection: evict a pod that keeps failing, never so many that the rest drown. */
const OUTLIER_DETECTION = {
  // Five 5xx in a row from one pod: one bad response is noise, five in a row is a sick pod.
  consecutive5XxErrors: 5,
  // Envoy sweeps every 10 s: fast enough to stop a sick pod eating traffic for long.
  interval: '10s',
  // First ejection 30 s, growing with each repeat: long enough for a restart or a probe to act.
  baseEjectionTime: '30s',
  // At most 30 % of pods ejected: about one zone of three, and below the ~35 % spare capacity
  // the HPA's 65-70 % CPU targets leave, so the remaining pods can take the load.
  maxEjectionPercent: 30,
} as const;

/**
 * Sidecar-to-sidecar mTLS, connection pools and outlier detection for one service.
 * @param pool sizes from connectionPoolSizing()
 */
function meshTrafficPolicy(pool: ConnectionPoolSizing): DestinationRuleSpecTrafficPolicy {
  return {
    // Istio's own certificates: the caller presents its SPIFFE identity, which the destination's
    // AuthorizationPolicies check. Explicit, so no other rule can downgrade the hop.
    tls: { mode: DestinationRuleSpecTrafficPolicyTlsMode.ISTIO_UNDERSCORE_MUTUAL },
    connectionPool: {
      tcp: {
        maxConnections: pool.maxConnections,
        // Pods are a hop away inside the region (cross-zone RTT ~1-2 ms); a connect slower than
        // 250 ms means the pod is gone, and retrying on another pod (connect-failure) beats the
        // kernel's 1 s SYN retransmit.
        connectTimeout: '250ms',
      },
      http: {
        http2MaxRequests: pool.maxInFlight,
        http1MaxPendingRequests: pool.maxPending,
        maxRetries: pool.maxRetries,
        // Envoy balances per request, so this is not about balance: it amortises the mTLS
        // handshake over 1000 requests (<0.1 % of requests pay it) while, at tens of requests
        // per second, no connection lives long enough to pin a pod that is being drained.
        maxRequestsPerConnection: 1000,
      },
    },
    outlierDetection: { ...OUTLIER_DETECTION },
  };
}

export interface ServiceDestinationRuleProps {
  /** Metadata of the DestinationRule (explicit name, labels). */
  readonly metadata: ApiObjectMetadata;
  /** Service the rule applies to (short name, in `namespace`). */
  readonly service: string;
  /** Namespace of `service`. */
  readonly namespace: string;
  /** Connection pool sizing derived from the service's capacity (sizing.ts). */
  readonly pool: ConnectionPoolSizing;
  /**
   * Subsets (Argo Rollouts canary: stable and canary).
   * @default none
   */
  readonly subsets?: DestinationRuleSpecSubsets[];
}

export class ServiceDestinationRule extends DestinationRule {
  constructor(scope: Construct, id: string, props: ServiceDestinationRuleProps) {
    super(scope, id, {
      metadata: props.metadata,
      spec: {
        host: serviceHost(props.service, props.namespace),
        trafficPolicy: meshTrafficPolicy(props.pool),
        ...(props.subsets ? { subsets: props.subsets } : {}),
      },
    });
  }
}

// ------------------------------------------------------------------ Gateway

export interface PublicGatewayProps {
  /** Metadata of the Gateway (explicit name, labels). */
  readonly metadata: ApiObjectMetadata;
  /** Labels of the ingress gateway pods (istio/gateway Helm chart). */
  readonly selector: Readonly<Record<string, string>>;
  /** Public host names served. */
  readonly hosts: readonly string[];
  /** Secret holding the certificate, in the ingress gateway's namespace (by reference only). */
  readonly credentialName: string;
}

/**
 * HTTPS on 443 (TLS 1.3 only, certificate by reference) and a plain-HTTP listener on 80 whose
 * only job is to redirect to HTTPS.
 */
export class PublicGateway extends Gateway {
  constructor(scope: Construct, id: string, props: PublicGatewayProps) {
    // `./host`: only VirtualServices in the Gateway's own namespace may bind these hosts, so no
    // other namespace can hijack the public names.
    const hosts = props.hosts.map((h) => `./${h}`);
    super(scope, id, {
      metadata: props.metadata,
      spec: {
        selector: { ...props.selector },
        servers: [
          {
            port: { number: 443, name: 'https', protocol: 'HTTPS' },
            hosts,
            tls: {
              mode: GatewaySpecServersTlsMode.SIMPLE,
              // The Secret lives next to the gateway pods (istio-ingress), produced by External
              // Secrets; it never appears in git.
              credentialName: props.credentialName,
              // Every client we serve (current browsers, our apps) speaks TLS 1.3; older
              // versions only add downgrade surface.
              minProtocolVersion: GatewaySpecServersTlsMinProtocolVersion.TLSV1_UNDERSCORE_3,
            },
          },
          {
            port: { number: 80, name: 'http', protocol: 'HTTP' },
            hosts,
            tls: { httpsRedirect: true },
          },
        ],
      },
    });
  }
}

// ------------------------------------------------------------------ VirtualService

/** Timeout and retries of an HTTP route. */
export function routeResilience(budget: RouteBudget): Pick<VirtualServiceSpecHttp, 'timeout' | 'retries'> {
  return {
    timeout: duration(budget.timeoutMs),
    retries: { attempts: budget.attempts, perTryTimeout: duration(budget.perTryTimeoutMs), retryOn: RETRY_ON },
  };
}
