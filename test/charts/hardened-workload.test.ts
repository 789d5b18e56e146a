/**
 * The shared hardened workload construct: Pod Security "restricted", resources, probes, pinned
 * images, writable emptyDirs, labels, zone spread and PDBs. Guards issue #2 item 7.
 */
import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { describe, expect, it } from 'vitest';
import { HardenedWorkload, type HardenedWorkloadProps } from '../../charts/lib/hardened-workload';
import { newApp, objectsOf, type Obj } from '../support/charts';
import { workloadProps } from '../support/workloads';

function render(props: HardenedWorkloadProps): Obj[] {
  const chart = new Chart(newApp(), 'test', { disableResourceNameHashes: true });
  new HardenedWorkload(chart, 'workload', props);
  return objectsOf(chart);
}

const deployment = (objects: Obj[]) => objects.find((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')!;

describe('HardenedWorkload', () => {
  const objects = render(workloadProps());
  const pod = deployment(objects).spec.template;
  const container = pod.spec.containers[0];

  it('meets Pod Security "restricted" at pod and container level', () => {
    expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.spec.automountServiceAccountToken).toBe(false);
  });

  it('mounts an emptyDir at every writable path, since the root filesystem is read-only', () => {
    expect(container.volumeMounts).toEqual([{ name: 'demo-tmp', mountPath: '/tmp' }]);
    expect(pod.spec.volumes).toEqual([{ name: 'demo-tmp', emptyDir: {} }]);
  });

  it('renders requests, the memory limit and both probes', () => {
    expect(container.resources).toEqual({ requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } });
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.readinessProbe.httpGet.path).toBe('/ready');
  });

  it('pins the image by version tag, and by digest too when the config has one', () => {
    expect(container.image).toBe('ghcr.io/bookedbarber/demo:1.2.3');
    const digest = `sha256:${'a'.repeat(64)}`;
    const withDigest = render(workloadProps({ containers: [{ ...workloadProps().containers[0], image: { repository: 'ghcr.io/bookedbarber/demo', version: '1.2.3', digest } }] }));
    expect(deployment(withDigest).spec.template.spec.containers[0].image).toBe(`ghcr.io/bookedbarber/demo:1.2.3@${digest}`);
  });

  it('labels pods with the recommended labels, the version and the region; selects on stable labels only', () => {
    expect(pod.metadata.labels).toEqual({
      'app.kubernetes.io/name': 'demo',
      'app.kubernetes.io/instance': 'demo-us-east-1',
      'app.kubernetes.io/component': 'backend',
      'app.kubernetes.io/part-of': 'bookedbarber',
      'app.kubernetes.io/managed-by': 'cdk8s',
      'app.kubernetes.io/version': '1.2.3',
      'bookedbarber.com/region': 'us-east-1',
    });
    expect(Object.keys(deployment(objects).spec.selector.matchLabels)).not.toContain('app.kubernetes.io/version');
  });

  it('spreads pods across zones (preferred: hard only where volumes pin pods to a zone; every revision counted, as Karpenter counts them) and hosts (per revision)', () => {
    const [zone, host] = pod.spec.topologySpreadConstraints;
    expect(zone).toMatchObject({ topologyKey: 'topology.kubernetes.io/zone', maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway' });
    // Karpenter ignores matchLabelKeys: it would disagree with the scheduler.
    expect(zone.matchLabelKeys).toBeUndefined();
    expect(zone.labelSelector.matchLabels).toEqual(deployment(objects).spec.selector.matchLabels);
    expect(host).toMatchObject({ topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', matchLabelKeys: ['pod-template-hash'] });
  });

  it('adds a PodDisruptionBudget over the same pods when more than one replica can run', () => {
    const pdb = objects.find((o) => o.kind === 'PodDisruptionBudget')!;
    expect(pdb.spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: deployment(objects).spec.selector.matchLabels },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    });
    expect(render(workloadProps({ replicas: 1 })).some((o) => o.kind === 'PodDisruptionBudget')).toBe(false);
    const autoscaled = render(workloadProps({ replicas: undefined, maxReplicas: 10 }));
    expect(autoscaled.some((o) => o.kind === 'PodDisruptionBudget')).toBe(true);
    expect(deployment(autoscaled).spec.replicas).toBeUndefined();
  });

  it('renders a StatefulSet bound to its headless Service, keeping volumes when scaled down or deleted', () => {
    const sts = deployment(
      render(
        workloadProps({
          kind: 'StatefulSet',
          statefulSet: {
            serviceName: 'demo-headless',
            volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: k8s.Quantity.fromString('10Gi') } } } }],
          },
        }),
      ),
    );
    expect(sts.kind).toBe('StatefulSet');
    expect(sts.spec.serviceName).toBe('demo-headless');
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('10Gi');
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
    // Its volumes pin each pod to a zone: the first placement must spread, so the zone spread is hard.
    expect(sts.spec.template.spec.topologySpreadConstraints[0]).toMatchObject({ topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule' });
  });

  describe('refuses unsafe props, naming the values', () => {
    const base = workloadProps().containers[0];
    const cases: Array<[string, Partial<HardenedWorkloadProps>, RegExp]> = [
      ['no memory limit', { containers: [{ ...base, resources: { requests: { cpu: '1', memory: '1Gi' }, limits: {} as any } }] }, /resources\.limits\.memory/],
      ['no cpu request', { containers: [{ ...base, resources: { requests: { memory: '1Gi' } as any, limits: { memory: '1Gi' } } }] }, /requests\.cpu/],
      ['request above limit', { containers: [{ ...base, resources: { requests: { cpu: '1', memory: '2Gi' }, limits: { memory: '1Gi' } } }] }, /memory request \(2Gi\) must be <= memory limit \(1Gi\)/],
      ['no readiness probe', { containers: [{ ...base, readinessProbe: undefined }] }, /livenessProbe and readinessProbe/],
      ['latest tag', { containers: [{ ...base, image: { repository: 'ghcr.io/x/y', version: 'latest' } }] }, /pinned by a version tag/],
      ['root user', { runAsUser: 0 }, /runAsUser must not be 0/],
      ['replicas above max', { replicas: 5, maxReplicas: 3 }, /replicas \(5\) must be <= maxReplicas \(3\)/],
      ['StatefulSet without service', { kind: 'StatefulSet' }, /headless Service/],
      ['duplicate containers', { containers: [base, base] }, /used twice/],
    ];
    for (const [what, overrides, message] of cases) {
      it(what, () => expect(() => render(workloadProps(overrides))).toThrow(message));
    }
  });
});

describe('HardenedWorkload output and the validator', () => {
  it('passes every schema, policy and reference rule of the validator (no findings)', async () => {
    const { NamespacesChart } = await import('../../charts/namespaces/chart');
    const { validateObjects } = await import('../../tools/validate');
    const { regionPlan } = await import('../support/charts');
    const { regionLabels } = await import('../../charts/lib/metadata');
    const app = newApp();
    const plan = regionPlan('us-east-1');
    const namespaces = new NamespacesChart(app, { plan });
    const chart = new Chart(app, 'workload', { labels: regionLabels(plan), disableResourceNameHashes: true });
    const props = workloadProps();
    new HardenedWorkload(chart, 'workload', props);
    new k8s.KubeServiceAccount(chart, 'sa', {
      metadata: { name: props.serviceAccountName, namespace: props.namespace, labels: { ...props.selectorLabels } },
      automountServiceAccountToken: false,
    });
    const objects = [...objectsOf(namespaces), ...objectsOf(chart)].map((object, index) => ({
      file: 'dist/us-east-1/test.yaml',
      index,
      object,
      region: 'us-east-1',
    }));
    const report = validateObjects(objects, { schemaDir: undefined });
    expect(report.findings).toEqual([]);
    expect(report.objects).toBe(objects.length);
  });
});
