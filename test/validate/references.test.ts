import { describe, expect, it } from 'vitest';
import { EXTERNAL_NAMESPACES } from '../../tools/validate';
import { breakOne, expectOnly } from './helpers';
import { drop, labels, NS, pick } from './fixtures/valid';

const API = 'bookedbarber-api';
const C0 = 'spec.template.spec.containers[0]';

describe('layer 4: references', () => {
  it('ref-service-selector fires when a Service selects no pod template', () => {
    const findings = breakOne((o) => {
      pick(o, 'Service', API).spec.selector['app.kubernetes.io/name'] = 'bookedbarber-apii';
    });
    expectOnly(findings, 'ref-service-selector', ['spec.selector']);
  });

  it('ref-service-selector ignores only the selector keys a controller sets at run time (Patroni\'s role label)', () => {
    const annotate = (o: Parameters<Parameters<typeof breakOne>[0]>[0], keys: string) => {
      const svc = pick(o, 'Service', API);
      svc.spec.selector['spilo-role'] = 'master';
      svc.metadata.annotations = { ...(svc.metadata.annotations ?? {}), 'bookedbarber.com/runtime-selector-labels': keys };
      return svc;
    };
    expect(breakOne((o) => void annotate(o, 'spilo-role'))).toEqual([]);
    // Without the annotation the run-time key matches no pod template.
    expectOnly(breakOne((o) => void annotate(o, 'other-key')), 'ref-service-selector', ['spec.selector']);
    // Listing every key would tie the Service to nothing at all.
    const all = breakOne((o) => {
      const svc = annotate(o, '');
      svc.metadata.annotations['bookedbarber.com/runtime-selector-labels'] = Object.keys(svc.spec.selector).join(',');
    });
    expectOnly(all, 'ref-service-selector', ['spec.selector']);
  });

  it('ref-scale-target fires when the HPA target is not rendered', () => {
    const findings = breakOne((o) => {
      pick(o, 'HorizontalPodAutoscaler', API).spec.scaleTargetRef.name = 'bookedbarber-apy';
    });
    expectOnly(findings, 'ref-scale-target', ['spec.scaleTargetRef.name']);
  });

  it('ref-scale-target fires when the HPA names the right object with the wrong kind', () => {
    const findings = breakOne((o) => {
      pick(o, 'HorizontalPodAutoscaler', API).spec.scaleTargetRef = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: API };
    });
    expectOnly(findings, 'ref-scale-target', ['spec.scaleTargetRef.name']);
    expect(findings[0].hint).toContain('apps/v1 Deployment');
  });

  it('ref-scale-target fires for a VerticalPodAutoscaler whose targetRef is not rendered', () => {
    const vpa = (name: string) => ({
      file: 'dist/us-east-1/api.yaml', index: 30,
      object: {
        apiVersion: 'autoscaling.k8s.io/v1', kind: 'VerticalPodAutoscaler', metadata: { name: API, namespace: NS, labels: labels(API, 'api') },
        spec: { targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name }, updatePolicy: { updateMode: 'Off' } },
      },
    });
    expect(breakOne((o) => { o.push(vpa(API)); })).toEqual([]);
    expectOnly(breakOne((o) => { o.push(vpa('bookedbarber-ap')); }), 'ref-scale-target', ['spec.targetRef.name']);
  });

  it('ref-pdb-selector fires when a PDB selects no workload', () => {
    const findings = breakOne((o) => {
      pick(o, 'PodDisruptionBudget', 'bookedbarber-web').spec.selector.matchLabels['app.kubernetes.io/instance'] = 'nope';
    });
    // The Rollout then has no PDB either: both sides of the broken link are reported.
    expect(findings.map((f) => `${f.rule} ${f.object}`).sort()).toEqual([
      `pdb Rollout ${NS}/bookedbarber-web`, `ref-pdb-selector PodDisruptionBudget ${NS}/bookedbarber-web`,
    ]);
  });

  it('ref-config fires for a missing ConfigMap', () => {
    const findings = breakOne((o) => drop(o, 'ConfigMap', 'bookedbarber-api-config'));
    expectOnly(findings, 'ref-config', [`${C0}.envFrom[0].configMapRef.name`]);
  });

  it('ref-config accepts a Secret produced by an ExternalSecret, and fires without it', () => {
    expect(breakOne(() => undefined)).toEqual([]);
    const findings = breakOne((o) => drop(o, 'ExternalSecret', 'bookedbarber-api-db'));
    expectOnly(findings, 'ref-config', [`${C0}.env[0].valueFrom.secretKeyRef.name`]);
  });

  it('ref-config: an ExternalSecret target defaults to its own name; optional references are fine', () => {
    expect(breakOne((o) => {
      delete pick(o, 'ExternalSecret', 'bookedbarber-api-db').spec.target.name;
      pick(o, 'Deployment', API).spec.template.spec.volumes.push({ name: 'extra', configMap: { name: 'not-rendered', optional: true } });
    })).toEqual([]);
  });

  it('ref-config fires for a missing ServiceAccount and image pull secret', () => {
    const findings = breakOne((o) => {
      const spec = pick(o, 'Deployment', API).spec.template.spec;
      spec.imagePullSecrets = [{ name: 'ghcr-pull' }];
      return drop(o, 'ServiceAccount', API);
    });
    expectOnly(findings, 'ref-config', ['spec.template.spec.serviceAccountName', 'spec.template.spec.imagePullSecrets[0].name']);
  });

  it('ref-statefulset-service fires when serviceName is not headless', () => {
    const findings = breakOne((o) => {
      delete pick(o, 'Service', 'bookedbarber-postgres-1-headless').spec.clusterIP;
    });
    expectOnly(findings, 'ref-statefulset-service', ['spec.serviceName']);
  });

  it('ref-statefulset-service fires when serviceName names no Service', () => {
    const findings = breakOne((o) => {
      pick(o, 'StatefulSet', 'bookedbarber-postgres-1').spec.serviceName = 'bookedbarber-postgres-1';
    });
    expectOnly(findings, 'ref-statefulset-service', ['spec.serviceName']);
  });

  it('ref-namespace fires for a namespace not rendered in the region; platform namespaces are fine', () => {
    const findings = breakOne((o) => {
      pick(o, 'ConfigMap', 'bookedbarber-api-config').metadata.namespace = 'bookedbarber-ap';
      o.push({
        file: 'dist/us-east-1/mesh.yaml', index: 0,
        object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bookedbarber-mesh', namespace: 'istio-system', labels: labels('bookedbarber-mesh', 'mesh') }, data: {} },
      });
      o.push({
        file: 'dist/us-east-1/mesh.yaml', index: 1,
        object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bookedbarber-ext', namespace: EXTERNAL_NAMESPACES[0], labels: labels('bookedbarber-ext', 'mesh') }, data: {} },
      });
    });
    // Moving the ConfigMap also leaves the Deployment's envFrom dangling: reported by ref-config.
    expect(findings.map((f) => `${f.rule} ${f.path}`).sort()).toEqual(['ref-config spec.template.spec.containers[0].envFrom[0].configMapRef.name', 'ref-namespace metadata.namespace']);
    expect(findings.find((f) => f.rule === 'ref-namespace')!.hint).toContain(NS);
  });

  it('ref-namespace: a namespace in another region folder does not count', () => {
    const findings = breakOne((o) => {
      for (const x of o) if (x.file.endsWith('namespaces.yaml')) x.file = 'dist/us-west-2/namespaces.yaml';
      pick(o, 'Namespace', NS).metadata.labels['bookedbarber.com/region'] = 'us-west-2';
    });
    expect(new Set(findings.map((f) => f.rule))).toEqual(new Set(['ref-namespace']));
  });

  it('ref-rollout fires when a Rollout names a Service that is not rendered', () => {
    const findings = breakOne((o) => drop(o, 'Service', 'bookedbarber-web-canary'));
    expectOnly(findings, 'ref-rollout', ['spec.strategy.canary.canaryService']);
  });

  it('ref-storage-class fires when a volumeClaimTemplate names a class not rendered in the region, or none', () => {
    const sts = (o: Parameters<Parameters<typeof breakOne>[0]>[0]) => pick(o, 'StatefulSet', 'bookedbarber-postgres-1').spec.volumeClaimTemplates[0].spec;
    const misspelt = breakOne((o) => void (sts(o).storageClassName = 'bookedbarber-gp3-retian'));
    expectOnly(misspelt, 'ref-storage-class', ['spec.volumeClaimTemplates[0].spec.storageClassName']);
    expect(misspelt[0].hint).toBe('did you mean bookedbarber-gp3-retain?');
    // No class: the cluster default (EKS gp2, not our key); "" provisions nothing.
    expectOnly(breakOne((o) => void delete sts(o).storageClassName), 'ref-storage-class', ['spec.volumeClaimTemplates[0].spec.storageClassName']);
    expectOnly(breakOne((o) => void (sts(o).storageClassName = '')), 'ref-storage-class', ['spec.volumeClaimTemplates[0].spec.storageClassName']);
    // The class rendered only in another region's folder does not count: each region is its own cluster.
    const elsewhere = breakOne((o) => {
      const i = o.findIndex((x) => (x.object as any).kind === 'StorageClass');
      o[i] = { ...o[i], file: 'dist/eu-west-1/storage.yaml' };
    });
    expect(elsewhere.map((f) => f.rule)).toContain('ref-storage-class');
  });

  it('ref-storage-class checks PersistentVolumeClaims and prometheus-operator storage templates too', () => {
    const claim = (className?: string) => ({
      file: 'dist/us-east-1/postgres.yaml', index: 40,
      object: {
        apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'bookedbarber-scratch', namespace: NS, labels: labels('bookedbarber-scratch', 'database') },
        spec: { accessModes: ['ReadWriteOnce'], ...(className === undefined ? {} : { storageClassName: className }), resources: { requests: { storage: '1Gi' } } },
      },
    });
    expect(breakOne((o) => void o.push(claim('bookedbarber-gp3-retain')))).toEqual([]);
    expectOnly(breakOne((o) => void o.push(claim('gp3'))), 'ref-storage-class', ['spec.storageClassName']);
    expectOnly(breakOne((o) => void o.push(claim())), 'ref-storage-class', ['spec.storageClassName']);
  });
});
