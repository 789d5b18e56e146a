/**
 * The CPU each NodePool may hold (its `limits.cpu`), from what the pods placed there request.
 * Karpenter counts a NodePool's limits in node capacity, pods request less than a node has
 * (kubelet and system reserve, DaemonSets, packing waste): requests / nodes.packingEfficiency.
 */
import { serving, type RegionPlan } from '../../regions/plan';
import { isServingRegion } from '../../regions/model';
import { parseQuantity } from '../../regions/quantity';

export interface NodePoolCpuLimits {
  /** Data and monitoring quotas plus the add-ons. */
  readonly platform: number;
  /** The API and web at their HPA minimum, sidecars included (0 in a standby region). */
  readonly appBase: number;
  /** Everything the app namespace's quota admits (0 in a standby region). */
  readonly appBurst: number;
}

const nodeCpu = (requests: number, packing: number) => Math.ceil(requests / packing);

/** CPU one API or web pod requests: its container and its istio-proxy sidecar. */
function podCpu(plan: RegionPlan, workload: 'api' | 'web'): number {
  return parseQuantity(plan.global.workloads[workload].resources.requests.cpu) + parseQuantity(plan.global.mesh.sidecar.requests.cpu);
}

export function nodePoolCpuLimits(plan: RegionPlan): NodePoolCpuLimits {
  const { global, region } = plan;
  const packing = global.nodes.packingEfficiency;
  const quotaCpu = (role: 'app' | 'data' | 'monitoring') => {
    const sizing = region.namespaces[role];
    return sizing ? parseQuantity(sizing.quota.requestsCpu) : 0;
  };
  const platform = nodeCpu(quotaCpu('data') + quotaCpu('monitoring') + global.nodes.addonsCpu, packing);
  if (!isServingRegion(region)) return { platform, appBase: 0, appBurst: 0 };
  const { autoscaling } = serving(plan);
  const minimum = autoscaling.api.minReplicas * podCpu(plan, 'api') + autoscaling.web.minReplicas * podCpu(plan, 'web');
  return { platform, appBase: nodeCpu(minimum, packing), appBurst: nodeCpu(quotaCpu('app'), packing) };
}
