/**
 * The cross-region path of the sessions tier, in Istio objects.
 *
 * Host: `<platform>-redis-sessions-proxy.<primary region>.<platform>.global` (the scheme of the
 * remote Postgres shards). Both sides name it:
 * - the primary region exports it: a ServiceEntry resolving the host to its local proxy
 *   Service, visible to the east-west gateway, which (AUTO_PASSTHROUGH on 15443) routes the
 *   incoming mTLS connection by its SNI `outbound_.<port>_._.<host>` without terminating it;
 * - every secondary region imports it: a ServiceEntry whose endpoint is the primary region's
 *   east-west gateway, and a DestinationRule that makes the sidecar originate Istio mTLS
 *   (ISTIO_MUTUAL), so the connection is authenticated end to end, sidecar to sidecar, with the
 *   caller's own SPIFFE identity (what the primary's AuthorizationPolicies check).
 */
import type { ApiObjectMetadata } from 'cdk8s';
import { Construct } from 'constructs';
import {
  DestinationRule,
  DestinationRuleSpecTrafficPolicyTlsMode,
  ServiceEntry,
  ServiceEntrySpecLocation,
  ServiceEntrySpecResolution,
} from '../../imports/istio-networking.istio.io';
import { EAST_WEST_GATEWAY_PORT, type PrimaryRegionRef, type SessionsProxyNames } from './topology';

const PORTS = (names: SessionsProxyNames) => [
  { name: 'tcp-redis', number: names.masterPort, protocol: 'TCP' },
  { name: 'tcp-replica', number: names.replicaPort, protocol: 'TCP' },
];

export interface SessionsExportProps {
  /** Metadata of the ServiceEntry. */
  readonly metadata: ApiObjectMetadata;
  /** Global and local hosts and ports of the sessions proxy. */
  readonly names: SessionsProxyNames;
  /**
   * Namespaces that must see the host: our own (data) and the east-west gateway's.
   * @default ['.', 'istio-system']
   */
  readonly exportTo?: readonly string[];
}

/** Primary region: the global host resolves to the local proxy Service. */
export class SessionsExport extends Construct {
  constructor(scope: Construct, id: string, props: SessionsExportProps) {
    super(scope, id);
    new ServiceEntry(this, 'Resource', {
      metadata: props.metadata,
      spec: {
        hosts: [props.names.globalHost],
        location: ServiceEntrySpecLocation.MESH_UNDERSCORE_INTERNAL,
        resolution: ServiceEntrySpecResolution.DNS,
        ports: PORTS(props.names),
        endpoints: [{ address: props.names.localHost }],
        exportTo: [...(props.exportTo ?? ['.', 'istio-system'])],
      },
    });
  }
}

export interface SessionsImportProps {
  /** Metadata of both objects (same name, same namespace). */
  readonly metadata: ApiObjectMetadata;
  /** Global and local hosts and ports of the sessions proxy. */
  readonly names: SessionsProxyNames;
  /** The primary region, whose sessions tier this region replicates and writes to. */
  readonly primary: PrimaryRegionRef;
  /** Namespaces whose sidecars may reach the host: data (replicas) and app (API writes). */
  readonly exportTo: readonly string[];
}

/** Secondary region: the global host is the primary region's east-west gateway, over Istio mTLS. */
export class SessionsImport extends Construct {
  constructor(scope: Construct, id: string, props: SessionsImportProps) {
    super(scope, id);
    const { names } = props;
    new ServiceEntry(this, 'ServiceEntry', {
      metadata: props.metadata,
      spec: {
        hosts: [names.globalHost],
        // MESH_INTERNAL: the far end is a sidecar of our mesh (mTLS with workload identities).
        location: ServiceEntrySpecLocation.MESH_UNDERSCORE_INTERNAL,
        resolution: ServiceEntrySpecResolution.DNS,
        ports: PORTS(names),
        endpoints: [
          {
            address: props.primary.eastWestGateway,
            // Both ports go to the gateway's passthrough port; the SNI says which is meant.
            ports: { 'tcp-redis': EAST_WEST_GATEWAY_PORT, 'tcp-replica': EAST_WEST_GATEWAY_PORT },
          },
        ],
        exportTo: [...props.exportTo],
      },
    });
    new DestinationRule(this, 'DestinationRule', {
      metadata: props.metadata,
      spec: {
        host: names.globalHost,
        exportTo: [...props.exportTo],
        trafficPolicy: {
          tls: { mode: DestinationRuleSpecTrafficPolicyTlsMode.ISTIO_UNDERSCORE_MUTUAL },
          connectionPool: {
            tcp: {
              // A far region: allow for a slow handshake, but fail fast enough to retry.
              connectTimeout: '5s',
              // Long-lived replication and client connections cross load balancers that drop
              // idle flows: keepalives hold them open and detect a dead path in ~90 s.
              tcpKeepalive: { time: '60s', interval: '10s', probes: 3 },
            },
          },
        },
      },
    });
  }
}
