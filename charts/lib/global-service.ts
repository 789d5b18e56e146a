/**
 * A Service reachable from the other regions under a mesh-wide name
 * (`<service>.<home region>.<platform>.global`), in Istio objects. Both sides name it:
 * - the home region exports it: a ServiceEntry resolving the global name to the local Service,
 *   visible to the east-west gateway, which (AUTO_PASSTHROUGH on 15443) routes the incoming
 *   mTLS connection by its SNI `outbound_.<port>_._.<host>` without terminating it;
 * - every other region imports it: a ServiceEntry whose endpoint is the home region's east-west
 *   gateway, and a DestinationRule that makes the sidecar originate Istio mTLS (ISTIO_MUTUAL),
 *   so the connection is authenticated end to end, sidecar to sidecar, with the caller's own
 *   SPIFFE identity (what the home region's AuthorizationPolicies check). The shared root CA
 *   (cacerts, charts/mesh-ca) is what lets the two sidecars trust each other; the entry's
 *   subjectAltNames name the one server identity the client accepts (Istio verifies the
 *   server certificate against them: without, any workload of any region under the shared
 *   root would pass as the server, and receive the client's credentials).
 * No `addresses`: Istio's DNS proxy allocates each imported host a virtual IP
 * (ISTIO_META_DNS_AUTO_ALLOCATE, set for the whole mesh by the istiod add-on), so the host
 * resolves inside the pods and the sidecar gets a listener for that address only, not a
 * catch-all on the port.
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
import { spiffeId } from '../../regions/wiring';
import { EAST_WEST_GATEWAY, TRUST_DOMAIN } from './mesh-network';

/** The endpoint label by which Istio knows a workload speaks Istio mTLS. */
export const TLS_MODE_LABEL = 'security.istio.io/tlsMode';

export interface GlobalPort {
  /** Port name (its prefix tells Istio the protocol: `tcp-…`). */
  readonly name: string;
  readonly number: number;
}

/** Service ports of a global name (Istio reads the protocol from the name's prefix). */
const entryPorts = (ports: readonly GlobalPort[]) => ports.map((p) => ({ name: p.name, number: p.number, protocol: 'TCP' }));

export interface GlobalServiceExportProps {
  /** Metadata of the ServiceEntry. */
  readonly metadata: ApiObjectMetadata;
  /** `<service>.<home region>.<platform>.global`. */
  readonly globalHost: string;
  /** In-cluster host of the local Service the global name stands for. */
  readonly localHost: string;
  readonly ports: readonly GlobalPort[];
  /** Namespaces that must see the host: the Service's own and the east-west gateway's. */
  readonly exportTo: readonly string[];
}

/** Home region: the global host resolves to the local Service. */
export class GlobalServiceExport extends Construct {
  constructor(scope: Construct, id: string, props: GlobalServiceExportProps) {
    super(scope, id);
    new ServiceEntry(this, 'Resource', {
      metadata: props.metadata,
      spec: {
        hosts: [props.globalHost],
        location: ServiceEntrySpecLocation.MESH_UNDERSCORE_INTERNAL,
        resolution: ServiceEntrySpecResolution.DNS,
        ports: entryPorts(props.ports),
        // tlsMode istio: the endpoint is a sidecar that speaks Istio mTLS. The east-west gateway's
        // AUTO_PASSTHROUGH clusters (SNI-DNAT) keep only such endpoints; without the label the
        // gateway accepts the connection and resets it.
        endpoints: [{ address: props.localHost, labels: { [TLS_MODE_LABEL]: 'istio' } }],
        exportTo: [...props.exportTo],
      },
    });
  }
}

export interface GlobalServiceImportProps {
  /** Metadata of both objects (same name, same namespace). */
  readonly metadata: ApiObjectMetadata;
  readonly globalHost: string;
  readonly ports: readonly GlobalPort[];
  /** The home region's east-west gateway (its load balancer's DNS name). */
  readonly gatewayHost: string;
  /** Namespaces whose sidecars may reach the host. */
  readonly exportTo: readonly string[];
  /** Namespace and ServiceAccount of the server pods in the home region (their certificate's SPIFFE ID). */
  readonly server: { readonly namespace: string; readonly serviceAccount: string };
}

/** Another region: the global host is the home region's east-west gateway, over Istio mTLS. */
export class GlobalServiceImport extends Construct {
  constructor(scope: Construct, id: string, props: GlobalServiceImportProps) {
    super(scope, id);
    new ServiceEntry(this, 'ServiceEntry', {
      metadata: props.metadata,
      spec: {
        hosts: [props.globalHost],
        // MESH_INTERNAL: the far end is a sidecar of our mesh (mTLS with workload identities).
        location: ServiceEntrySpecLocation.MESH_UNDERSCORE_INTERNAL,
        resolution: ServiceEntrySpecResolution.DNS,
        ports: entryPorts(props.ports),
        // The server's identity: ISTIO_MUTUAL without DestinationRule SANs verifies these
        // (istio pilot/pkg/networking/core/cluster_tls.go buildUpstreamTLSSettings).
        subjectAltNames: [spiffeId(TRUST_DOMAIN, props.server.namespace, props.server.serviceAccount)],
        endpoints: [
          {
            address: props.gatewayHost,
            // Every port goes to the gateway's passthrough port; the SNI says which is meant.
            ports: Object.fromEntries(props.ports.map((p) => [p.name, EAST_WEST_GATEWAY.port])),
          },
        ],
        exportTo: [...props.exportTo],
      },
    });
    new DestinationRule(this, 'DestinationRule', {
      metadata: props.metadata,
      spec: {
        host: props.globalHost,
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
