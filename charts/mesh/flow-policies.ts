/**
 * The policies of one peer flow (charts/wiring/policies.ts): an ALLOW AuthorizationPolicy on the
 * server pods naming the caller's mTLS identity (when one can ever match), a NetworkPolicy
 * admitting the caller on the server side and one letting it out on the client side (each only
 * where we render those pods). One generator for both layers keeps them twins: same pods, same
 * ports, same reason.
 */
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { AuthorizationPolicy, AuthorizationPolicySpecAction } from '../../imports/istio-security.istio.io';
import { principal, type Peer } from '../../regions/wiring';
import { type PeerFlow, type PolicyPort, SIDECAR_OWN_PORTS } from '../wiring/policies';
import { TRUST_DOMAIN } from '../lib/mesh-network';

/** Annotation on every generated policy: the connections it carries, for whoever reads the cluster. */
export const FLOW_ANNOTATION = 'bookedbarber.com/flow';

export interface FlowPoliciesProps {
  /** The client and server pods, their ports and the connections they carry. */
  readonly flow: PeerFlow;
  /** Labels of the generated objects (name/instance/component). */
  readonly labels: Readonly<Record<string, string>>;
  /**
   * Extra annotations of the generated objects.
   * @default {} — the mesh chart passes its sync wave
   */
  readonly annotations?: Readonly<Record<string, string>>;
}

/** Selects a peer's pods from any namespace (NetworkPolicy peer). */
export function networkPeer(peer: Peer): k8s.NetworkPolicyPeer {
  return {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': peer.namespace } },
    podSelector: { matchLabels: { ...peer.podLabels } },
  };
}

export function networkPorts(ports: readonly PolicyPort[]): k8s.NetworkPolicyPort[] {
  return ports.map((p) => ({ protocol: p.protocol, port: k8s.IntOrString.fromNumber(p.port) }));
}

/** Names of what one flow generates (tests and reviewers find them by these). */
export function flowPolicyNames(flow: Pick<PeerFlow, 'name'>): { authorization: string; ingress: string; egress: string } {
  return { authorization: `allow-${flow.name}`, ingress: `allow-${flow.name}-ingress`, egress: `allow-${flow.name}-egress` };
}

/** One line per connection the policy carries, e.g. `api-to-pgbouncer-shard-1-rw: Franchises …`. */
export function flowReasons(flow: PeerFlow): string {
  return flow.connections.map((c) => `${c.name}: ${c.why}`).join('\n');
}

export class FlowPolicies extends Construct {
  constructor(scope: Construct, id: string, props: FlowPoliciesProps) {
    super(scope, id);
    const { flow, labels } = props;
    const names = flowPolicyNames(flow);
    const meta = (name: string, namespace: string) => ({
      name,
      namespace,
      labels: { ...labels },
      annotations: { ...(props.annotations ?? {}), [FLOW_ANNOTATION]: flowReasons(flow) },
    });
    const podSelector = (peer: Peer) => ({ matchLabels: { ...peer.podLabels } });

    if (flow.authorizable) {
      new AuthorizationPolicy(this, 'authorization', {
        metadata: meta(names.authorization, flow.to.namespace),
        spec: {
          selector: { matchLabels: { ...flow.to.podLabels } },
          action: AuthorizationPolicySpecAction.ALLOW,
          rules: [
            {
              from: [{ source: { principals: [principal(TRUST_DOMAIN, flow.from.namespace, flow.from.serviceAccount)] } }],
              to: [{ operation: { ports: flow.ports.filter((p) => p.protocol === 'TCP' && !SIDECAR_OWN_PORTS.has(p.port)).map((p) => String(p.port)) } }],
            },
          ],
        },
      });
    }

    if (!flow.to.addon) {
      new k8s.KubeNetworkPolicy(this, 'ingress', {
        metadata: meta(names.ingress, flow.to.namespace),
        spec: {
          podSelector: podSelector(flow.to),
          policyTypes: ['Ingress'],
          ingress: [{ from: [networkPeer(flow.source)], ports: networkPorts(flow.ports) }],
        },
      });
    }

    if (!flow.from.addon) {
      new k8s.KubeNetworkPolicy(this, 'egress', {
        metadata: meta(names.egress, flow.from.namespace),
        spec: {
          podSelector: podSelector(flow.from),
          policyTypes: ['Egress'],
          egress: [{ to: [networkPeer(flow.to)], ports: networkPorts(flow.ports) }],
        },
      });
    }
  }
}
