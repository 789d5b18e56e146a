/**
 * The mesh across regions (Istio multi-network): each region's cluster is its own network, and
 * traffic between regions enters through the other region's east-west gateway on 15443
 * (AUTO_PASSTHROUGH: routed by SNI, mTLS end to end). Shared by the mesh chart (Gateway,
 * ServiceEntries, policies), the Argo CD add-ons (the gateway itself, istiod's network) and the
 * connection declaration.
 */
import type { RegionPlan } from '../../regions/plan';

/** The east-west gateway as the Istio `gateway` Helm chart installs it (platform add-on). */
export const EAST_WEST_GATEWAY = {
  /** Release name = Deployment = ServiceAccount. */
  name: 'istio-eastwestgateway',
  namespace: 'istio-system',
  labels: { istio: 'eastwestgateway', app: 'istio-eastwestgateway' },
  /** Passthrough port for cross-network mTLS (Istio's convention). */
  port: 15443,
} as const;

/** The region's Istio network: `topology.istio.io/network` on istio-system and the gateway. */
export function meshNetwork(plan: RegionPlan): string {
  return `${plan.global.platform.name}-${plan.region.name}`;
}

export const NETWORK_LABEL = 'topology.istio.io/network';

/**
 * The mesh's trust domain. Istio's default; the Istio add-on must not change
 * `meshConfig.trustDomain`, or every principal and subjectAltName stops matching.
 */
export const TRUST_DOMAIN = 'cluster.local';

/**
 * The file of dist/<region> holding the region's mesh CA (charts/mesh-ca, without .yaml): the
 * istiod add-on syncs it before its chart, and the region Application leaves it out.
 */
export const MESH_CA_COMPONENT = 'mesh-ca';
export const MESH_CA_FILE = `${MESH_CA_COMPONENT}.yaml`;

/** Remote key of the region's Istio intermediate CA (issued by the platform's shared root). */
export function meshCaRemoteKey(plan: RegionPlan): string {
  return `${plan.global.platform.name}/istio/${plan.region.name}/cacerts`;
}
