/**
 * The policies generated from one flow of the flow table (charts/lib/flows.ts):
 * - an ALLOW AuthorizationPolicy on the destination pods naming the caller's mTLS identity;
 * - a NetworkPolicy admitting the caller's pods on the destination side;
 * - a NetworkPolicy letting the caller's pods out on the source side, when we own the source
 *   namespace (the namespaces chart denies egress by default; the ingress gateway's namespace
 *   belongs to the Istio add-on, so only the ingress side is ours there).
 * One generator for both layers is what keeps them twins: same source, destination, ports.
 */
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { AuthorizationPolicy, AuthorizationPolicySpecAction } from '../../imports/istio-security.istio.io';
import { type Flow, type FlowPeer, principalOf } from '../lib/flows';

/** Annotation on every generated policy: the flow's reason, for whoever reads the cluster. */
const FLOW_ANNOTATION = 'bookedbarber.com/flow';

export interface FlowPoliciesProps {
  /** The flow (who → what, ports, why) these policies open. */
  readonly flow: Flow;
  /** Namespaces we render: the source side gets an egress policy only there. */
  readonly ownedNamespaces: readonly string[];
  /** Labels of the generated objects (name/instance/component). */
  readonly labels: Readonly<Record<string, string>>;
  /**
   * Extra annotations (sync wave).
   * @default {}
   */
  readonly annotations?: Readonly<Record<string, string>>;
}

/** Selects a peer's pods from another namespace (NetworkPolicy peer). */
function networkPeer(peer: FlowPeer): k8s.NetworkPolicyPeer {
  return {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': peer.namespace } },
    podSelector: { matchLabels: { ...peer.podLabels } },
  };
}

const tcpPorts = (flow: Flow): k8s.NetworkPolicyPort[] =>
  flow.ports.map((p) => ({ protocol: 'TCP', port: k8s.IntOrString.fromNumber(p.port) }));

/** Names of what one flow generates (tests and reviewers find them by these). */
function flowPolicyNames(flow: Flow): { authorization: string; ingress: string; egress: string } {
  return { authorization: `allow-${flow.name}`, ingress: `allow-${flow.name}-ingress`, egress: `allow-${flow.name}-egress` };
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
      annotations: { ...(props.annotations ?? {}), [FLOW_ANNOTATION]: flow.why },
    });

    new AuthorizationPolicy(this, 'authorization', {
      metadata: meta(names.authorization, flow.to.namespace),
      spec: {
        selector: { matchLabels: { ...flow.to.podLabels } },
        action: AuthorizationPolicySpecAction.ALLOW,
        rules: [
          {
            from: [{ source: { principals: [principalOf(flow.from)] } }],
            to: [{ operation: { ports: flow.ports.map((p) => String(p.port)) } }],
          },
        ],
      },
    });

    new k8s.KubeNetworkPolicy(this, 'ingress', {
      metadata: meta(names.ingress, flow.to.namespace),
      spec: {
        podSelector: { matchLabels: { ...flow.to.podLabels } },
        policyTypes: ['Ingress'],
        ingress: [{ from: [networkPeer(flow.from)], ports: tcpPorts(flow) }],
      },
    });

    if (props.ownedNamespaces.includes(flow.from.namespace)) {
      new k8s.KubeNetworkPolicy(this, 'egress', {
        metadata: meta(names.egress, flow.from.namespace),
        spec: {
          podSelector: { matchLabels: { ...flow.from.podLabels } },
          policyTypes: ['Egress'],
          egress: [{ to: [networkPeer(flow.to)], ports: tcpPorts(flow) }],
        },
      });
    }
  }
}
