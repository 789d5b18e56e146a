/**
 * Namespaces and their guard rails: the app, data and monitoring namespaces of a region, each
 * with Pod Security "restricted" enforced, Istio sidecar injection, a ResourceQuota and a
 * LimitRange sized from the region file, and a default-deny NetworkPolicy with the two
 * egress flows every meshed pod needs (cluster DNS, istiod). Later charts add the allows for
 * their own traffic.
 */
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { QUOTA_HARD_KEYS, type NamespaceSizing } from '../../regions/model';
import { NAMESPACE_ROLES } from '../../regions/plan';
import { appLabels, KEEP_ON_PRUNE, SYNC_WAVE, syncWave } from '../lib/metadata';
import { RegionChart, type RegionChartProps } from '../lib/region-chart';

/** Pod Security Standards level and the version of its rules we pin to (the cluster's). */
const POD_SECURITY = { level: 'restricted', version: 'v1.28' } as const;

const POD_SECURITY_LABELS: Readonly<Record<string, string>> = {
  'pod-security.kubernetes.io/enforce': POD_SECURITY.level,
  'pod-security.kubernetes.io/enforce-version': POD_SECURITY.version,
  'pod-security.kubernetes.io/audit': POD_SECURITY.level,
  'pod-security.kubernetes.io/audit-version': POD_SECURITY.version,
  'pod-security.kubernetes.io/warn': POD_SECURITY.level,
  'pod-security.kubernetes.io/warn-version': POD_SECURITY.version,
};

/**
 * Sidecar injection. "restricted" forbids the NET_ADMIN init container Istio normally injects,
 * so the Istio add-on must run with the istio-cni node agent (see charts for platform add-ons).
 */
const ISTIO_INJECTION_LABELS: Readonly<Record<string, string>> = { 'istio-injection': 'enabled' };

const KUBE_DNS = {
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
  podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
};

/** istiod: sidecars fetch config (xDS) and workload certificates on 15012. */
const ISTIOD = {
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'istio-system' } },
  podSelector: { matchLabels: { app: 'istiod' } },
};

const q = (value: string) => k8s.Quantity.fromString(value);
const tcp = (port: number) => ({ protocol: 'TCP', port: k8s.IntOrString.fromNumber(port) });
const udp = (port: number) => ({ protocol: 'UDP', port: k8s.IntOrString.fromNumber(port) });

export class NamespacesChart extends RegionChart {
  constructor(scope: Construct, props: RegionChartProps) {
    super(scope, 'namespaces', props);
    // A standby region runs no app tier, so it has no app namespace.
    for (const role of NAMESPACE_ROLES) {
      const sizing = props.plan.region.namespaces[role];
      if (sizing) this.guardedNamespace(props.plan.namespaces[role], role, sizing);
    }
  }

  private guardedNamespace(namespace: string, role: string, sizing: NamespaceSizing): void {
    const labels = appLabels(this.plan, 'namespaces', 'guardrails');
    const meta = (name: string, wave: number) => ({ name, namespace, labels, annotations: syncWave(wave) });

    new k8s.KubeNamespace(this, `${role}-namespace`, {
      metadata: {
        name: namespace,
        labels: { ...labels, ...POD_SECURITY_LABELS, ...ISTIO_INJECTION_LABELS },
        // Deleting the data Namespace would delete every volume in it: Argo CD never prunes or
        // deletes it (KEEP_ON_PRUNE in charts/lib/metadata.ts).
        annotations: { ...syncWave(SYNC_WAVE.namespaces), ...(role === 'data' ? KEEP_ON_PRUNE : {}) },
      },
    });

    const { quota, containerDefaults: d } = sizing;
    new k8s.KubeResourceQuota(this, `${role}-quota`, {
      metadata: meta(`${namespace}-quota`, SYNC_WAVE.guardrails),
      spec: {
        hard: {
          ...Object.fromEntries(Object.entries(QUOTA_HARD_KEYS).map(([field, key]) => [key, q(String(quota[field as keyof typeof QUOTA_HARD_KEYS]))])),
          // Traffic enters through the Istio ingress gateway only: no per-namespace cloud
          // load balancers or node ports that would bypass the mesh and its policies.
          'services.loadbalancers': q('0'),
          'services.nodeports': q('0'),
        },
      },
    });

    new k8s.KubeLimitRange(this, `${role}-limits`, {
      metadata: meta(`${namespace}-limits`, SYNC_WAVE.guardrails),
      spec: {
        limits: [
          {
            type: 'Container',
            defaultRequest: { cpu: q(d.requestCpu), memory: q(d.requestMemory) },
            // No default CPU limit of our own: Kubernetes then gives a container without one a CPU
            // limit equal to max.cpu, a burst ceiling far above the requests, not a throttle.
            default: { memory: q(d.limitMemory) },
            max: { cpu: q(d.maxCpu), memory: q(d.maxMemory) },
          },
        ],
      },
    });

    new k8s.KubeNetworkPolicy(this, `${role}-default-deny`, {
      metadata: meta('default-deny-all', SYNC_WAVE.guardrails),
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    });

    new k8s.KubeNetworkPolicy(this, `${role}-allow-dns`, {
      metadata: meta('allow-dns-egress', SYNC_WAVE.guardrails),
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [{ to: [KUBE_DNS], ports: [udp(53), tcp(53)] }],
      },
    });

    new k8s.KubeNetworkPolicy(this, `${role}-allow-istiod`, {
      metadata: meta('allow-istiod-egress', SYNC_WAVE.guardrails),
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [{ to: [ISTIOD], ports: [tcp(15012)] }],
      },
    });
  }
}
