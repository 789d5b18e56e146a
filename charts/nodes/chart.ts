/**
 * The region's nodes (dist/<region>/nodes.yaml): one Karpenter EC2NodeClass and three NodePools,
 * by risk (charts/lib/node-placement.ts says which pods go where).
 *
 * - `platform` (on-demand): the data tier, Sentinels, monitoring, tracing, the ingress gateway,
 *   the add-ons. Consolidated only when a node is empty and never expired: a node holding a
 *   Postgres or Redis member is replaced only when it drifts (a new AMI pin), one node at a time,
 *   through the PodDisruptionBudgets, so a data node never rolls on its own schedule.
 * - `app-base` (on-demand, weight 100, never consolidated): the API and web up to their HPA
 *   minimum. Its CPU limit is what those pods request at the minimum, divided by
 *   `nodes.packingEfficiency`; the pods prefer this pool, so Karpenter and the scheduler fill it first.
 *   When every spot node is reclaimed at once, what runs on it keeps running.
 * - `app-burst` (spot, on-demand when no spot is available; weight 10): the API and web beyond the
 *   minimum, spread over many instance types (Karpenter launches spot with the
 *   price-capacity-optimized strategy, and on-demand only when no spot offering is). A reclaimed node
 *   is drained within the two-minute notice (Karpenter's interruption queue, set up with the
 *   controller), well above the pods' 30 s termination grace.
 *
 * Karpenter prefers the NodePool with the higher weight while its limits allow, so the base fills
 * first. Karpenter itself, its interruption queue (SQS) and the node IAM role are created with
 * the cluster, outside this repository (docs/nodes.md).
 */
import { CAPACITY_COMPONENTS } from '../lib/cluster-capacity';
import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import { Ec2NodeClass } from '../../imports/ec2nodeclass-karpenter.k8s.aws';
import { NodePool } from '../../imports/nodepool-karpenter.sh';
import type { RegionPlan } from '../../regions/plan';
import { isServingRegion } from '../../regions/model';
import { APP_TAINT, KARPENTER_LABELS, nodePoolNames } from '../lib/node-placement';
import { appLabels, KEEP_ON_PRUNE } from '../lib/metadata';
import { RegionChart, type RegionChartProps } from '../lib/region-chart';
import { nodePoolCpuLimits } from './sizing';

/** The IAM role Karpenter's nodes run as: the name Karpenter's getting-started CloudFormation gives it. */
export function nodeRoleName(plan: RegionPlan): string {
  return `KarpenterNodeRole-${plan.region.cluster.name}`;
}

/** Subnets and security groups Karpenter may use carry this tag (value: the cluster name). */
export const DISCOVERY_TAG = 'karpenter.sh/discovery';

/** Instance families that fit these workloads (compute, general purpose, memory), Nitro generation 6 and newer. */
const INSTANCE_REQUIREMENTS = [
  { key: 'karpenter.k8s.aws/instance-category', operator: 'In', values: ['c', 'm', 'r'] },
  { key: 'karpenter.k8s.aws/instance-generation', operator: 'Gt', values: ['5'] },
  // Every image we pin is published for amd64 (Spilo, PgBouncer and the exporters among them).
  { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
  { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] },
] as const;

export class NodesChart extends RegionChart {
  constructor(scope: Construct, props: RegionChartProps) {
    super(scope, CAPACITY_COMPONENTS.nodes, props);
    const { plan } = props;
    const { global, region } = plan;
    const pools = nodePoolNames(global.platform.name);
    const nodes = global.nodes;
    const limits = nodePoolCpuLimits(plan);

    new ApiObject(this, 'node-class', {
      ...Ec2NodeClass.GVK,
      metadata: { name: pools.nodeClass, labels: appLabels(plan, 'nodes', 'node-class'), annotations: { ...KEEP_ON_PRUNE } },
      spec: {
        role: nodeRoleName(plan),
        // A pinned AMI release (regions/versions.yaml): a new one rolls the nodes through drift.
        amiSelectorTerms: [{ alias: plan.versions.nodeImage.alias }],
        subnetSelectorTerms: [{ tags: { [DISCOVERY_TAG]: region.cluster.name } }],
        securityGroupSelectorTerms: [{ tags: { [DISCOVERY_TAG]: region.cluster.name } }],
        // IMDSv2 only, one hop: pods (one hop further) cannot read the node role's credentials;
        // they get their own through IRSA.
        metadataOptions: { httpEndpoint: 'enabled', httpProtocolIPv6: 'disabled', httpPutResponseHopLimit: 1, httpTokens: 'required' },
        blockDeviceMappings: [{
          deviceName: '/dev/xvda',
          ebs: {
            volumeSize: `${nodes.rootVolumeGiB}Gi`,
            volumeType: 'gp3',
            // The region's key, as every persistent volume (charts/storage).
            encrypted: true,
            // The JSON name is kmsKeyID (cdk8s's generated class calls it kmsKeyId).
            kmsKeyID: region.storage.kmsKeyArn,
            deleteOnTermination: true,
          },
        }],
        tags: { 'bookedbarber.com/region': region.name, 'app.kubernetes.io/part-of': global.platform.name },
      },
    });

    const zones = { key: 'topology.kubernetes.io/zone', operator: 'In', values: [...region.zones] };
    const capacity = (...types: Array<'on-demand' | 'spot'>) => ({ key: KARPENTER_LABELS.capacityType, operator: 'In', values: types });
    const nodeClassRef = { group: Ec2NodeClass.GVK.apiVersion.split('/')[0]!, kind: Ec2NodeClass.GVK.kind, name: pools.nodeClass };
    const pool = (id: string, name: string, spec: Record<string, unknown>) =>
      // Never pruned or deleted by Argo CD (KEEP_ON_PRUNE): a NodePool that goes drains every node
      // it runs, and these moved from the region Application to the capacity one.
      new ApiObject(this, id, { ...NodePool.GVK, metadata: { name, labels: appLabels(plan, 'nodes', 'node-pool'), annotations: { ...KEEP_ON_PRUNE } }, spec });

    pool('platform', pools.platform, {
      template: {
        metadata: { labels: { 'bookedbarber.com/node-pool': 'platform' } },
        spec: {
          nodeClassRef,
          requirements: [capacity('on-demand'), zones, ...INSTANCE_REQUIREMENTS],
          // Never expires: a data node moves only on drift, within the budget below.
          expireAfter: 'Never',
        },
      },
      disruption: {
        consolidationPolicy: 'WhenEmpty',
        consolidateAfter: nodes.consolidateAfter,
        // One node at a time: each move of a Postgres member is a switchover.
        budgets: [{ nodes: '1' }],
      },
      limits: { cpu: String(limits.platform) },
    });

    // Serving regions run the API and web; a standby region has no app pools.
    if (!isServingRegion(region)) return;
    // The burst pool allows on-demand too: Karpenter launches spot while any spot offering is
    // available and on-demand only when none is (karpenter-provider-aws getCapacityType), so a spot
    // shortage in a zone during a spike slows nothing; the pool's CPU limit still bounds the cost.
    const appTemplate = (pool: 'base' | 'burst') => ({
      metadata: { labels: { 'bookedbarber.com/node-pool': pool === 'burst' ? 'app-burst' : 'app-base' } },
      spec: {
        nodeClassRef,
        requirements: [pool === 'burst' ? capacity('spot', 'on-demand') : capacity('on-demand'), zones, ...INSTANCE_REQUIREMENTS],
        taints: [{ ...APP_TAINT }],
        // Expiry is forceful in Karpenter v1 (no disruption budget, PDBs only up to the grace
        // period): nodes are renewed by drift instead, when the AMI pin changes, within budgets.
        expireAfter: 'Never',
      },
    });
    // At most a tenth of the app nodes replaced at once (the PDBs still hold per workload).
    const budgets = [{ nodes: '10%' }];
    pool('app-base', pools.appBase, {
      weight: 100,
      template: appTemplate('base'),
      // Never consolidated: replacing an underutilized base node could move the minimum fleet to
      // cheaper spot, and deleting an empty one (after a release moved pods to spot) would leave
      // no on-demand room for the pods that return. The pool is small (limits.cpu) by design.
      disruption: { consolidationPolicy: 'WhenEmpty', consolidateAfter: 'Never', budgets },
      limits: { cpu: String(limits.appBase) },
    });
    pool('app-burst', pools.appBurst, {
      weight: 10,
      template: appTemplate('burst'),
      disruption: { consolidationPolicy: 'WhenEmptyOrUnderutilized', consolidateAfter: nodes.consolidateAfter, budgets },
      limits: { cpu: String(limits.appBurst) },
    });
  }
}
