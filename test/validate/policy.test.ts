import { describe, expect, it } from 'vitest';
import { breakOne, expectOnly } from './helpers';
import { drop, labels, NS, pick } from './fixtures/valid';

const API = 'bookedbarber-api';
const C0 = 'spec.template.spec.containers[0]';
const container = (o: Parameters<typeof pick>[0]) => pick(o, 'Deployment', API).spec.template.spec.containers[0];

describe('layer 3: policy', () => {
  describe('labels', () => {
    it('fires when an object is in the wrong region folder', () => {
      const findings = breakOne((o) => {
        pick(o, 'ConfigMap', 'bookedbarber-api-config').metadata.labels['bookedbarber.com/region'] = 'us-west-2';
      });
      expectOnly(findings, 'labels', ['metadata.labels["bookedbarber.com/region"]']);
      expect(findings[0].message).toContain('us-east-1');
    });

    it('fires for a missing recommended label, and for a workload pod template without the version', () => {
      const findings = breakOne((o) => {
        delete pick(o, 'Service', API).metadata.labels['app.kubernetes.io/part-of'];
        delete pick(o, 'Deployment', API).spec.template.metadata.labels['app.kubernetes.io/version'];
      });
      expectOnly(findings, 'labels', ['metadata.labels["app.kubernetes.io/part-of"]', 'spec.template.metadata.labels["app.kubernetes.io/version"]']);
    });

    it('global objects (argocd folder) need no region label', () => {
      const findings = breakOne((o) => {
        const { 'bookedbarber.com/region': _region, ...globalLabels } = labels('bookedbarber-platform', 'argocd');
        o.push({
          file: 'dist/argocd/project.yaml', index: 0,
          object: {
            apiVersion: 'argoproj.io/v1alpha1', kind: 'AppProject',
            metadata: { name: 'bookedbarber', namespace: 'argocd', labels: globalLabels },
            spec: { sourceRepos: ['https://github.com/bookedbarber/gitops'], destinations: [{ server: 'https://kubernetes.default.svc', namespace: '*' }] },
          },
        });
      });
      expect(findings).toEqual([]);
    });
  });

  describe('pod-security', () => {
    it('fires for a privileged container and an added capability', () => {
      const findings = breakOne((o) => {
        container(o).securityContext.privileged = true;
        container(o).securityContext.capabilities.add = ['NET_BIND_SERVICE', 'SYS_ADMIN'];
      });
      expectOnly(findings, 'pod-security', [`${C0}.securityContext.privileged`, `${C0}.securityContext.capabilities.add[1]`]);
    });

    it('fires when capabilities are not dropped and privilege escalation is allowed', () => {
      const findings = breakOne((o) => {
        container(o).securityContext = { readOnlyRootFilesystem: true };
      });
      expectOnly(findings, 'pod-security', [`${C0}.securityContext.allowPrivilegeEscalation`, `${C0}.securityContext.capabilities.drop`]);
    });

    it('fires for runAsNonRoot/seccomp missing on the pod and containers, hostNetwork, hostPath and hostPort', () => {
      const findings = breakOne((o) => {
        const spec = pick(o, 'Deployment', API).spec.template.spec;
        spec.securityContext = { runAsUser: 0 };
        spec.hostNetwork = true;
        spec.volumes.push({ name: 'host', hostPath: { path: '/var/run' } });
        spec.containers[0].ports[0].hostPort = 8080;
      });
      expectOnly(findings, 'pod-security', [
        'spec.template.spec.securityContext.runAsNonRoot', 'spec.template.spec.securityContext.seccompProfile',
        'spec.template.spec.securityContext.runAsUser', 'spec.template.spec.hostNetwork',
        'spec.template.spec.volumes[1].hostPath', `${C0}.ports[0].hostPort`,
      ]);
    });

    it('applies to Jobs too (CronJob jobTemplate)', () => {
      const findings = breakOne((o) => {
        const tpl = JSON.parse(JSON.stringify(pick(o, 'Deployment', API).spec.template));
        delete tpl.spec.containers[0].livenessProbe; // probes are not required of Jobs
        delete tpl.spec.containers[0].readinessProbe;
        delete tpl.spec.topologySpreadConstraints;
        tpl.spec.restartPolicy = 'Never';
        tpl.spec.containers[0].securityContext.allowPrivilegeEscalation = true;
        o.push({
          file: 'dist/us-east-1/postgres.yaml', index: 9,
          object: {
            apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'bookedbarber-basebackup', namespace: NS, labels: labels('bookedbarber-basebackup', 'postgres', '15.8') },
            spec: { schedule: '0 3 * * *', concurrencyPolicy: 'Forbid', jobTemplate: { spec: { template: tpl } } },
          },
        });
      });
      expectOnly(findings, 'pod-security', ['spec.jobTemplate.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation']);
    });
  });

  it('read-only-root-fs fires for a writable root filesystem', () => {
    const findings = breakOne((o) => {
      container(o).securityContext.readOnlyRootFilesystem = false;
    });
    expectOnly(findings, 'read-only-root-fs', [`${C0}.securityContext.readOnlyRootFilesystem`]);
  });

  it('resources fires for a missing memory limit', () => {
    const findings = breakOne((o) => {
      delete container(o).resources.limits.memory;
    });
    expectOnly(findings, 'resources', [`${C0}.resources.limits.memory`]);
  });

  it('probes fires for a long-running container without liveness and readiness probes', () => {
    const findings = breakOne((o) => {
      delete container(o).livenessProbe;
      delete pick(o, 'Rollout', 'bookedbarber-web').spec.template.spec.containers[0].readinessProbe;
    });
    expectOnly(findings, 'probes', [`${C0}.livenessProbe`, `${C0}.readinessProbe`]);
    expect(findings.map((f) => f.object).sort()).toEqual([`Deployment ${NS}/${API}`, `Rollout ${NS}/bookedbarber-web`]);
  });

  describe('image-pinned', () => {
    it('fires for :latest, with a hint to pin a version tag', () => {
      const findings = breakOne((o) => {
        container(o).image = 'ghcr.io/bookedbarber/api:latest';
      });
      expectOnly(findings, 'image-pinned', [`${C0}.image`]);
      expect(findings[0].hint).toContain('pin a version tag');
    });

    it('fires for no tag and for a digest without a tag; accepts registry ports and tag+digest', () => {
      for (const image of ['ghcr.io/bookedbarber/api', `ghcr.io/bookedbarber/api@sha256:${'0'.repeat(64)}`, 'localhost:5000/api']) {
        const findings = breakOne((o) => {
          container(o).image = image;
        });
        expectOnly(findings, 'image-pinned', [`${C0}.image`]);
      }
      expect(breakOne((o) => {
        container(o).image = `registry.local:5000/team/api:1.4.2@sha256:${'f'.repeat(64)}`;
      })).toEqual([]);
    });
  });

  it('topology-spread fires when a 3-replica Deployment has no zone spread', () => {
    const findings = breakOne((o) => {
      delete pick(o, 'Deployment', API).spec.template.spec.topologySpreadConstraints;
    });
    expectOnly(findings, 'topology-spread', ['spec.template.spec.topologySpreadConstraints']);
  });

  it('topology-spread fires when the spread selector does not match the pods, and counts HPA maxReplicas', () => {
    const findings = breakOne((o) => {
      const d = pick(o, 'Deployment', API);
      d.spec.replicas = 1; // the HPA (maxReplicas 10) still makes it multi-replica
      d.spec.template.spec.topologySpreadConstraints[0].labelSelector.matchLabels['app.kubernetes.io/name'] = 'other';
    });
    expectOnly(findings, 'topology-spread', ['spec.template.spec.topologySpreadConstraints']);
  });

  it('pdb fires when a multi-replica workload has no PodDisruptionBudget', () => {
    const findings = breakOne((o) => drop(o, 'PodDisruptionBudget', API));
    expectOnly(findings, 'pdb', ['']);
    expect(findings[0].object).toBe(`Deployment ${NS}/${API}`);
  });

  it('no-secret-data fires for a Secret with data or stringData', () => {
    const findings = breakOne((o) => {
      o.push({
        file: 'dist/us-east-1/api.yaml', index: 20,
        object: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bookedbarber-leak', namespace: NS, labels: labels('bookedbarber-leak', 'api') }, data: { password: 'aHVudGVyMg==' }, stringData: { token: 'x' } },
      });
    });
    expectOnly(findings, 'no-secret-data', ['data', 'stringData']);
  });

  it('istio-gateway-hosts fires for a Gateway server without hosts (Istio\'s webhook refuses it), not for one with hosts', () => {
    const gateway = (name: string, hosts: string[]) => ({
      file: 'dist/us-east-1/mesh.yaml', index: 30,
      object: {
        apiVersion: 'networking.istio.io/v1beta1', kind: 'Gateway',
        metadata: { name, namespace: NS, labels: labels(name, 'mesh') },
        spec: { selector: { istio: 'eastwestgateway' }, servers: [{ port: { number: 15443, name: 'tls', protocol: 'TLS' }, hosts, tls: { mode: 'AUTO_PASSTHROUGH' } }] },
      },
    });
    const findings = breakOne((o) => {
      o.push(gateway('empty', []), gateway('exporting', ['bookedbarber-pgbouncer-shard-1.us-east-1.bookedbarber.global']));
    });
    expectOnly(findings, 'istio-gateway-hosts', ['spec.servers[0].hosts']);
    expect(findings[0].object).toBe(`Gateway ${NS}/empty`);
  });

  it('secret-env-literal fires for DB_PASSWORD with a literal value', () => {
    const findings = breakOne((o) => {
      container(o).env[0] = { name: 'DB_PASSWORD', value: 'hunter2' };
      container(o).env.push({ name: 'stripe_api_key', value: 'sk_live' }, { name: 'DB_PASSWORD_FILE', value: '/run/secrets/db' }, { name: 'TOKENIZER_MODE', value: 'fast' });
    });
    expectOnly(findings, 'secret-env-literal', [`${C0}.env[0].value`, `${C0}.env[2].value`]);
  });

  it('namespace-pod-security fires for a Namespace that does not enforce restricted', () => {
    const findings = breakOne((o) => {
      const ns = pick(o, 'Namespace', NS);
      ns.metadata.labels['pod-security.kubernetes.io/enforce'] = 'baseline';
      delete ns.metadata.labels['pod-security.kubernetes.io/warn'];
    });
    expectOnly(findings, 'namespace-pod-security', ['metadata.labels["pod-security.kubernetes.io/enforce"]', 'metadata.labels["pod-security.kubernetes.io/warn"]']);
  });
});
