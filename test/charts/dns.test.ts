/**
 * Global DNS failover (dist/<region>/dns.yaml and the external-dns add-on): every region answers
 * both public host names with a Route 53 latency record tied to its own health check, so a failed
 * region stops being answered. Guards issue #11 item 4.
 */
import { describe, expect, it } from 'vitest';
import { definition } from '../../main';
import { platformAddons } from '../../charts/argocd/addon-catalog';
import { DnsChart } from '../../charts/dns/chart';
import { NamespacesChart } from '../../charts/namespaces/chart';
import { publicDnsRecords } from '../../charts/lib/public-dns';
import { isServingRegion } from '../../regions/model';
import { serving, type RegionPlan } from '../../regions/plan';
import { validateObjects } from '../../tools/validate';
import { newApp, objectsOf, regionPlan, shippedPlan, type Obj } from '../support/charts';

const plan = shippedPlan();
// Only serving regions are in public DNS; a standby region (DR sites only) serves no users.
const servingRegions = plan.regions.filter((r) => isServingRegion(r.region));
const standbyRegions = plan.regions.filter((r) => !isServingRegion(r.region));
const endpointsOf = (p: RegionPlan): Obj[] => objectsOf(new DnsChart(newApp(), { plan: p })).filter((o) => o.kind === 'DNSEndpoint');
const externalDns = (p: RegionPlan) => platformAddons(p).find((a) => a.id === 'external-dns')!;

describe('DnsChart', () => {
  it('renders, in every serving region, one DNSEndpoint per public host pointing at that region\'s own ingress load balancer', () => {
    expect(servingRegions).toHaveLength(4);
    for (const r of servingRegions) {
      const endpoints = endpointsOf(r);
      expect(endpoints.map((e) => e.metadata.name).sort()).toEqual(['bookedbarber-dns-api', 'bookedbarber-dns-web']);
      const records = endpoints.flatMap((e) => e.spec.endpoints);
      expect(records.map((x: any) => x.dnsName).sort()).toEqual([plan.global.ingress.apiHost, plan.global.ingress.webHost].sort());
      for (const e of endpoints) {
        expect(e.apiVersion).toBe('externaldns.k8s.io/v1alpha1');
        // The namespace the region AppProject allows and external-dns watches, with the label it filters on.
        expect(e.metadata.namespace).toBe('bookedbarber-app');
        expect(e.metadata.labels['app.kubernetes.io/name']).toBe('public-dns');
        expect(e.metadata.labels['bookedbarber.com/region']).toBe(r.region.name);
      }
      for (const x of records) {
        expect(x.targets).toEqual([serving(r).dns.ingressLoadBalancer]);
        expect(x.targets[0]).toMatch(new RegExp(`\\.elb\\.${r.region.name}\\.amazonaws\\.com$`));
      }
    }
  });

  it('makes each record a Route 53 latency record of its region: set identifier and aws/region = the region', () => {
    const identifiers = new Set<string>();
    for (const r of servingRegions) {
      for (const x of endpointsOf(r).flatMap((e) => e.spec.endpoints)) {
        expect(x.setIdentifier).toBe(r.region.name);
        expect(x.providerSpecific).toContainEqual({ name: 'aws/region', value: r.region.name });
        identifiers.add(`${x.dnsName} ${x.setIdentifier}`);
      }
    }
    // Per host name, one record set per serving region: four answers Route 53 chooses among.
    expect(identifiers.size).toBe(servingRegions.length * 2);
  });

  it('ties every record to its region\'s Route 53 health check, a different one per region', () => {
    const byRegion = new Map<string, string>();
    for (const r of servingRegions) {
      for (const x of endpointsOf(r).flatMap((e) => e.spec.endpoints)) {
        const ids = x.providerSpecific.filter((p: any) => p.name === 'aws/health-check-id').map((p: any) => p.value);
        expect(ids).toEqual([serving(r).dns.healthCheckId]);
        byRegion.set(r.region.name, ids[0]);
      }
    }
    expect(new Set(byRegion.values()).size).toBe(servingRegions.length);
  });

  it('publishes a plain CNAME with the model\'s low TTL (60 s), never an ALIAS whose TTL would be AWS\' own', () => {
    expect(plan.global.dns.ttlSeconds).toBe(60);
    for (const r of servingRegions) {
      for (const x of endpointsOf(r).flatMap((e) => e.spec.endpoints)) {
        expect(x.recordType).toBe('CNAME');
        expect(x.recordTTL).toBe(60);
        expect(x.providerSpecific).toContainEqual({ name: 'alias', value: 'false' });
      }
    }
  });

  it('renders no record for a region whose load balancer is not known yet (not in public DNS)', () => {
    const base = regionPlan('eu-west-1');
    const { ingressLoadBalancer: _, ...dns } = serving(base).dns;
    const p: RegionPlan = { ...base, region: { ...base.region, dns } };
    expect(publicDnsRecords(p)).toEqual([]);
    expect(endpointsOf(p)).toEqual([]);
  });

  it('renders no DNS record and no dns chart for a standby region (it serves no users)', () => {
    expect(standbyRegions.map((r) => r.region.name).sort()).toEqual(['ap-southeast-2', 'eu-central-1']);
    for (const r of standbyRegions) {
      const app = newApp();
      definition.buildRegion(app, r);
      expect(app.charts.map((c) => c.node.id), r.region.name).not.toContain('dns');
      expect(app.charts.flatMap((c) => objectsOf(c)).filter((o) => o.kind === 'DNSEndpoint'), r.region.name).toEqual([]);
      expect(r.region.dns, r.region.name).toBeUndefined();
    }
  });

  it('passes every schema (the pinned DNSEndpoint CRD), policy and reference rule in every serving region (no findings)', () => {
    for (const r of servingRegions) {
      const app = newApp();
      const charts = [new NamespacesChart(app, { plan: r }), new DnsChart(app, { plan: r })];
      const loaded = charts.flatMap((c) => objectsOf(c).map((object, index) => ({ file: `dist/${r.region.name}/${c.node.id}.yaml`, index, object, region: r.region.name })));
      const report = validateObjects(loaded, {});
      expect(report.findings).toEqual([]);
    }
  });
});

describe('external-dns add-on', () => {
  it('is pinned, owns the DNSEndpoint CRD (never pruned automatically) and comes with the other CRD charts', () => {
    const addon = externalDns(regionPlan());
    expect(addon).toMatchObject({
      repoURL: 'https://kubernetes-sigs.github.io/external-dns',
      chart: 'external-dns',
      version: plan.versions.helmCharts.externalDns.version,
      namespace: 'external-dns',
      prune: false,
    });
    expect(addon.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('is installed in every serving region and in no standby region (no public records to write)', () => {
    for (const r of servingRegions) expect(externalDns(r), r.region.name).toBeDefined();
    expect(standbyRegions.length).toBeGreaterThan(0);
    for (const r of standbyRegions) expect(platformAddons(r).map((a) => a.id), r.region.name).not.toContain('external-dns');
  });

  it('writes Route 53 from our DNSEndpoints only: AWS provider, crd source, the zone, the app namespace and label', () => {
    for (const r of servingRegions) {
      const v = externalDns(r).values as any;
      expect(v.provider).toEqual({ name: 'aws' });
      expect(v.sources).toEqual(['crd']);
      expect(v.domainFilters).toEqual(['bookedbarber.com']);
      expect(v.labelFilter).toBe('app.kubernetes.io/name=public-dns');
      expect(v.extraArgs).toEqual({ namespace: 'bookedbarber-app', 'aws-zone-type': 'public' });
      for (const e of endpointsOf(r)) {
        expect(e.metadata.namespace).toBe(v.extraArgs.namespace);
        for (const x of e.spec.endpoints) expect(x.dnsName.endsWith(`.${v.domainFilters[0]}`)).toBe(true);
      }
    }
  });

  it('syncs (deletes what it created and git no longer has) under a TXT owner per region, so no region touches another\'s records', () => {
    const owners = servingRegions.map((r) => (externalDns(r).values as any).txtOwnerId);
    expect(owners).toEqual(servingRegions.map((r) => `bookedbarber-${r.region.name}`));
    for (const r of servingRegions) expect(externalDns(r).values).toMatchObject({ policy: 'sync', registry: 'txt' });
  });

  it('gets its region\'s IAM role through IRSA (no keys) and runs under Pod Security "restricted"', () => {
    for (const r of servingRegions) {
      const v = externalDns(r).values as any;
      expect(v.serviceAccount).toEqual({ create: true, name: 'external-dns', annotations: { 'eks.amazonaws.com/role-arn': serving(r).dns.externalDnsRoleArn } });
      expect(JSON.stringify(v)).not.toMatch(/AWS_ACCESS_KEY|AWS_SECRET/);
      expect(v.podSecurityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(v.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        privileged: false,
        capabilities: { drop: ['ALL'] },
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
    }
  });
});
