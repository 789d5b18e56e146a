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
 * Envoy retry conditions (x-envoy-retry-on, which Istio's `retries.retryOn` passes through)
 * under which the request never reached the app, so sending it again cannot do anything twice:
 * the connection could not be opened (`connect-failure`), the upstream refused the stream
 * before reading it (`refused-stream`, HTTP/2 REFUSED_STREAM), or the connection was reset
 * before a byte of the request went out (`reset-before-request`, Envoy 1.26+; Istio validates
 * it since 1.23, and the pinned 1.24 ships Envoy 1.32). Never `5xx`, `gateway-error` or
 * `reset`: they include upstream timeouts and resets after the request was sent, so a slow
 * booking POST would be booked twice.
 */
export const NEVER_REACHED_RETRY_ON = ['connect-failure', 'refused-stream', 'reset-before-request'] as const;

/**
 * Methods RFC 9110 defines as safe (no effect on the server) and that the API serves: only
 * these may be sent again after the app answered. PUT and DELETE are idempotent by the RFC
 * but not by our handlers' word, so they stay with the writes.
 */
export const IDEMPOTENT_METHODS = ['GET', 'HEAD', 'OPTIONS'] as const;

/**
 * The one response an idempotent request is retried on: 503, what a pod that is shutting down
 * or overloaded answers without doing the work. Istio turns a numeric entry of `retryOn` into
 * Envoy's `retriable-status-codes` with that code. Not `gateway-error` (502/503/504 and
 * per-try timeouts): a 504 or a timed-out try may still be running on the pod.
 */
export const IDEMPOTENT_RETRY_STATUS = 503;

/** Retry conditions of a route serving only IDEMPOTENT_METHODS. */
export const IDEMPOTENT_RETRY_ON = [...NEVER_REACHED_RETRY_ON, String(IDEMPOTENT_RETRY_STATUS)].join(',');

/** Retry conditions of a route serving any other method (POST, PUT, PATCH, DELETE, ...). */
export const WRITE_RETRY_ON = NEVER_REACHED_RETRY_ON.join(',');

/** Retry conditions Envoy applies to a response or to a timeout: never on a write route. */
export const AFTER_REACHED_RETRY_ON = ['5xx', 'gateway-error', 'reset', 'retriable-4xx', 'retriable-status-codes', 'retriable-headers'] as const;

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

/** Which requests a route takes, for its retry policy. */
export type RouteMethods = 'idempotent' | 'writes';

/**
 * Timeout and retries of an HTTP route. Both kinds get the same tries and timeouts from the
 * latency budget; they differ in what is retried. An idempotent route retries the never-reached
 * conditions and a 503; a write route only the never-reached conditions, so a POST whose try
 * timed out or failed after reaching the app is answered with that failure, never sent again.
 * Neither retries a per-try timeout (that needs `5xx` or `gateway-error`): a try that outlives
 * `perTryTimeout` ends the request with a 504.
 * @param methods 'idempotent' for a route matching only IDEMPOTENT_METHODS
 */
export function routeResilience(budget: RouteBudget, methods: RouteMethods = 'writes'): Pick<VirtualServiceSpecHttp, 'timeout' | 'retries'> {
  const retryOn = methods === 'idempotent' ? IDEMPOTENT_RETRY_ON : WRITE_RETRY_ON;
  // A write is never cut at the per-try timeout: a booking slower than one try's budget would
  // fail with 504 while the app may still commit it. It gets the whole route timeout in its one
  // try; its retries (conditions where the request never reached the app) fail fast anyway.
  const perTry = methods === 'idempotent' ? budget.perTryTimeoutMs : budget.timeoutMs;
  return {
    timeout: duration(budget.timeoutMs),
    retries: { attempts: budget.attempts, perTryTimeout: duration(perTry), retryOn },
  };
}

/** Match of the idempotent route: exactly IDEMPOTENT_METHODS. */
export function idempotentMethodsMatch(): NonNullable<VirtualServiceSpecHttp['match']> {
  return IDEMPOTENT_METHODS.map((m) => ({ method: { exact: m } }));
}
