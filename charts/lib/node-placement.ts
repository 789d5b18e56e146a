/**
 * Which nodes a pod may run on (issue 14, "nodes by risk"). Every region has three Karpenter
 * NodePools (charts/nodes):
 * - `<platform>-platform`: on-demand, untainted. The data tier, Sentinels, monitoring, tracing,
 *   the release-gate Jobs and the add-ons (ingress gateway included) run here.
 * - `<platform>-app-base`: on-demand, tainted for the API and web, its CPU limited to what their
 *   HPA minimum needs, and the higher weight, so Karpenter fills it first.
 * - `<platform>-app-burst`: spot, same taint, lower weight: the API and web beyond their minimum.
 *
 * Platform pods *require* on-demand capacity (node affinity on Karpenter's well-known
 * `karpenter.sh/capacity-type` label), so a spot pool added later could never take a database;
 * they do not tolerate the app taint, so they never fill the API's base pool either. App pods
 * tolerate the taint, require one of the two app pools and prefer the base pool. The add-ons
 * (Helm charts) carry no affinity: the taint keeps them off the app pools, so among Karpenter's
 * nodes only the platform pool (on-demand) can run them.
 */
import type { k8s } from 'cdk8s-plus-28';

/** Karpenter's well-known node labels (set on every node it launches). */
export const KARPENTER_LABELS = {
  capacityType: 'karpenter.sh/capacity-type',
  nodePool: 'karpenter.sh/nodepool',
} as const;

/** Keeps every pod but the API's and web's off the app pools. */
export const APP_TAINT = { key: 'bookedbarber.com/app', value: 'true', effect: 'NoSchedule' } as const;

export type Placement = 'platform' | 'app';

export function nodePoolNames(platform: string) {
  return {
    platform: `${platform}-platform`,
    appBase: `${platform}-app-base`,
    appBurst: `${platform}-app-burst`,
    /** The EC2NodeClass every pool launches from. */
    nodeClass: platform,
  } as const;
}

const required = (key: string, values: readonly string[]): k8s.Affinity => ({
  nodeAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchExpressions: [{ key, operator: 'In', values: [...values] }] }],
    },
  },
});

/** The affinity and tolerations of a pod placed on `placement` nodes. */
export function nodePlacement(placement: Placement, platform: string): { affinity: k8s.Affinity; tolerations?: k8s.Toleration[] } {
  if (placement === 'platform') return { affinity: required(KARPENTER_LABELS.capacityType, ['on-demand']) };
  const pools = nodePoolNames(platform);
  const affinity = required(KARPENTER_LABELS.nodePool, [pools.appBase, pools.appBurst]);
  return {
    affinity: {
      nodeAffinity: {
        ...affinity.nodeAffinity,
        // NodePool weights only order the nodes Karpenter launches; kube-scheduler places a pod
        // on any node that fits. Preferring the base pool makes it fill room on the base nodes
        // first (after a release, a scale-up or a reclaimed spot node). The preference names the
        // pool, not on-demand capacity: Karpenter treats a preference as required until it cannot
        // place the pod (scheduling/preferences.go Relax), and the burst pool may launch
        // on-demand when spot runs out, so "prefer on-demand" would make every burst node
        // on-demand while spot is plentiful.
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 100, preference: { matchExpressions: [{ key: KARPENTER_LABELS.nodePool, operator: 'In', values: [pools.appBase] }] } },
        ],
      },
    },
    tolerations: [{ key: APP_TAINT.key, operator: 'Equal', value: APP_TAINT.value, effect: APP_TAINT.effect }],
  };
}
