/**
 * The namespaces chart: guard rails every later chart relies on. Guards issue #2 item 6.
 */
import { describe, expect, it } from 'vitest';
import { NamespacesChart } from '../../charts/namespaces/chart';
import { find, newApp, objectsOf, regionPlan } from '../support/charts';

const plan = regionPlan('eu-west-1');
const objects = objectsOf(new NamespacesChart(newApp(), { plan }));
const namespaces = ['bookedbarber-app', 'bookedbarber-data', 'bookedbarber-monitoring'];

describe('NamespacesChart', () => {
  it('renders the app, data and monitoring namespaces with Pod Security "restricted" enforced, audited and warned', () => {
    expect(objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name)).toEqual(namespaces);
    for (const name of namespaces) {
      const labels = find(objects, 'Namespace', name).metadata.labels;
      for (const mode of ['enforce', 'audit', 'warn']) {
        expect(labels[`pod-security.kubernetes.io/${mode}`]).toBe('restricted');
        expect(labels[`pod-security.kubernetes.io/${mode}-version`]).toBe('v1.28');
      }
      expect(labels['istio-injection']).toBe('enabled');
      expect(labels['bookedbarber.com/region']).toBe('eu-west-1');
    }
  });

  it('sizes each ResourceQuota from the region file and forbids LoadBalancer and NodePort services', () => {
    const quota = plan.region.namespaces.data.quota;
    const hard = find(objects, 'ResourceQuota', 'bookedbarber-data-quota', 'bookedbarber-data').spec.hard;
    expect(hard).toEqual({
      'requests.cpu': quota.requestsCpu,
      'requests.memory': quota.requestsMemory,
      'limits.memory': quota.limitsMemory,
      pods: String(quota.pods),
      persistentvolumeclaims: String(quota.persistentVolumeClaims),
      'requests.storage': quota.requestsStorage,
      'services.loadbalancers': '0',
      'services.nodeports': '0',
    });
  });

  it('sizes each LimitRange from the region file, with a default memory limit and no default CPU limit', () => {
    const d = plan.region.namespaces.app!.containerDefaults;
    const [limit] = find(objects, 'LimitRange', 'bookedbarber-app-limits', 'bookedbarber-app').spec.limits;
    expect(limit).toEqual({
      type: 'Container',
      defaultRequest: { cpu: d.requestCpu, memory: d.requestMemory },
      default: { memory: d.limitMemory },
      max: { cpu: d.maxCpu, memory: d.maxMemory },
    });
  });

  it('denies all ingress and egress by default in every namespace', () => {
    for (const ns of namespaces) {
      expect(find(objects, 'NetworkPolicy', 'default-deny-all', ns).spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    }
  });

  it('allows only DNS to kube-dns and xDS to istiod on egress', () => {
    for (const ns of namespaces) {
      const dns = find(objects, 'NetworkPolicy', 'allow-dns-egress', ns).spec;
      expect(dns.policyTypes).toEqual(['Egress']);
      expect(dns.egress).toHaveLength(1);
      expect(dns.egress[0].ports).toEqual([
        { protocol: 'UDP', port: 53 },
        { protocol: 'TCP', port: 53 },
      ]);
      expect(dns.egress[0].to[0].podSelector.matchLabels).toEqual({ 'k8s-app': 'kube-dns' });
      const istiod = find(objects, 'NetworkPolicy', 'allow-istiod-egress', ns).spec;
      expect(istiod.egress[0].ports).toEqual([{ protocol: 'TCP', port: 15012 }]);
      expect(istiod.ingress).toBeUndefined();
    }
  });

  it('lands namespaces before their guard rails (Argo CD sync waves)', () => {
    const wave = (o: { metadata: { annotations: Record<string, string> } }) => Number(o.metadata.annotations['argocd.argoproj.io/sync-wave']);
    const nsWave = Math.max(...objects.filter((o) => o.kind === 'Namespace').map(wave));
    const otherWave = Math.min(...objects.filter((o) => o.kind !== 'Namespace').map(wave));
    expect(nsWave).toBeLessThan(otherWave);
  });
});
