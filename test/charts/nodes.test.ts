/**
 * The region's Karpenter nodes (issue 14 item 2): one EC2NodeClass (pinned AMI, IMDSv2, root
 * volume encrypted with the region's KMS key) and NodePools by risk: platform on-demand,
 * app-base on-demand sized for the HPA minimum and preferred by weight, app-burst on spot.
 * Placement of the pods is checked over the whole render in test/tree/node-placement.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { NodesChart } from '../../charts/nodes/chart';
import { find, newApp, objectsOf, regionPlan } from '../support/charts';

const plan = regionPlan('us-east-1');
const objects = objectsOf(new NodesChart(newApp(), { plan }));
const nodeClass = find(objects, 'EC2NodeClass', 'bookedbarber');
const pool = (name: string) => find(objects, 'NodePool', name);
const requirement = (p: any, key: string) => p.spec.template.spec.requirements.find((r: any) => r.key === key);

describe('EC2NodeClass', () => {
  it('boots the pinned AMI, as the cluster node role, in the subnets and security groups tagged for the cluster', () => {
    expect(nodeClass.spec.amiSelectorTerms).toEqual([{ alias: 'al2023@v20241225' }]);
    expect(nodeClass.spec.role).toBe('KarpenterNodeRole-bookedbarber-us-east-1');
    expect(nodeClass.spec.subnetSelectorTerms).toEqual([{ tags: { 'karpenter.sh/discovery': 'bookedbarber-us-east-1' } }]);
    expect(nodeClass.spec.securityGroupSelectorTerms).toEqual([{ tags: { 'karpenter.sh/discovery': 'bookedbarber-us-east-1' } }]);
  });

  it("encrypts every node's root volume with the region's KMS key (kmsKeyID, the API's field name)", () => {
    const [root] = nodeClass.spec.blockDeviceMappings;
    expect(root.ebs).toMatchObject({ encrypted: true, volumeType: 'gp3', volumeSize: '100Gi', deleteOnTermination: true });
    expect(root.ebs.kmsKeyID).toBe(plan.region.storage.kmsKeyArn);
    expect(root.ebs.kmsKeyID).toMatch(/^arn:aws:kms:us-east-1:/);
  });

  it('keeps pods away from the node role: IMDSv2 only, one hop', () => {
    expect(nodeClass.spec.metadataOptions).toMatchObject({ httpTokens: 'required', httpPutResponseHopLimit: 1 });
  });
});

describe('NodePools by risk', () => {
  it('runs the platform on on-demand nodes, untainted, never expired, consolidated only when empty, one node at a time', () => {
    const p = pool('bookedbarber-platform');
    expect(requirement(p, 'karpenter.sh/capacity-type').values).toEqual(['on-demand']);
    expect(p.spec.template.spec.taints).toBeUndefined();
    expect(p.spec.template.spec.expireAfter).toBe('Never');
    expect(p.spec.disruption).toMatchObject({ consolidationPolicy: 'WhenEmpty', budgets: [{ nodes: '1' }] });
    // (data 64 + monitoring 96 + add-ons 48 CPU) / 0.8 packing = 260
    expect(p.spec.limits).toEqual({ cpu: '260' });
  });

  it('sizes the on-demand app base for the HPA minimum and prefers it by weight', () => {
    const base = pool('bookedbarber-app-base');
    expect(requirement(base, 'karpenter.sh/capacity-type').values).toEqual(['on-demand']);
    expect(base.spec.weight).toBe(100);
    // API 50 x (500m + 100m sidecar) + web 10 x (200m + 100m) = 33 CPU; / 0.8 = 41.25 -> 42
    expect(base.spec.limits).toEqual({ cpu: '42' });
    expect(base.spec.disruption.consolidationPolicy).toBe('WhenEmpty');
    // Never consolidated: an emptied base node must stay for the pods that return after a release.
    expect(base.spec.disruption.consolidateAfter).toBe('Never');
  });

  it('never expires a node (Karpenter v1 expiry is forceful): nodes renew by drift, within each budget', () => {
    for (const name of ['bookedbarber-platform', 'bookedbarber-app-base', 'bookedbarber-app-burst']) {
      expect(pool(name).spec.template.spec.expireAfter, name).toBe('Never');
    }
  });

  it('bursts onto spot beyond it (on-demand when no spot is available), as far as the app quota reaches', () => {
    const burst = pool('bookedbarber-app-burst');
    // Karpenter picks spot while any spot offering is available (karpenter-provider-aws getCapacityType).
    expect(requirement(burst, 'karpenter.sh/capacity-type').values).toEqual(['spot', 'on-demand']);
    expect(burst.spec.weight).toBe(10);
    // app quota 1324 CPU / 0.8 = 1655
    expect(burst.spec.limits).toEqual({ cpu: '1655' });
    expect(burst.spec.disruption.consolidationPolicy).toBe('WhenEmptyOrUnderutilized');
  });

  it('taints both app pools so that only the API and web land there, and keeps every pool in the region zones', () => {
    for (const name of ['bookedbarber-app-base', 'bookedbarber-app-burst']) {
      expect(pool(name).spec.template.spec.taints).toEqual([{ key: 'bookedbarber.com/app', value: 'true', effect: 'NoSchedule' }]);
    }
    for (const name of ['bookedbarber-platform', 'bookedbarber-app-base', 'bookedbarber-app-burst']) {
      expect(requirement(pool(name), 'topology.kubernetes.io/zone').values).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1c']);
      expect(pool(name).spec.template.spec.nodeClassRef).toEqual({ group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: 'bookedbarber' });
    }
  });

  it('a standby region (no API or web) has the platform pool only', () => {
    const standby = objectsOf(new NodesChart(newApp(), { plan: regionPlan('eu-central-1') }));
    expect(standby.filter((o) => o.kind === 'NodePool').map((o) => o.metadata.name)).toEqual(['bookedbarber-platform']);
  });
});
