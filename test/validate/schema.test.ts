import { describe, expect, it } from 'vitest';
import { checkInRepo as check, breakOneInRepo as breakOne, expectOnly } from './helpers';
import { NS, pick, validObjects } from './fixtures/valid';

const API = 'bookedbarber-api';
const C0 = 'spec.template.spec.containers[0]';

describe('layer 1: schema (in-repo)', () => {
  it('the valid fixture set has no findings', () => {
    expect(check(validObjects())).toEqual([]);
  });

  it('schema-unknown-field: `replica: 3` in a Deployment spec, with a hint naming `replicas`', () => {
    const findings = breakOne((o) => {
      const spec = pick(o, 'Deployment', API).spec;
      delete spec.replicas;
      spec.replica = 3;
    });
    expectOnly(findings, 'schema-unknown-field', ['spec.replica']);
    expect(findings[0].hint).toContain('replicas');
    expect(findings[0].object).toBe(`Deployment ${NS}/${API}`);
  });

  it('schema-unknown-field: a typo inside a CRD (Rollout spec.strategy.canry)', () => {
    const findings = breakOne((o) => {
      const strategy = pick(o, 'Rollout', 'bookedbarber-web').spec.strategy;
      strategy.canry = strategy.canary;
      delete strategy.canary;
    });
    expectOnly(findings, 'schema-unknown-field', ['spec.strategy.canry']);
    expect(findings[0].hint).toContain('canary');
  });

  it('schema-unknown-field: deep in a pod template, in metadata, and a renamed field (hostPID) stays known', () => {
    const findings = breakOne((o) => {
      const d = pick(o, 'Deployment', API);
      d.spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem = true;
      d.spec.template.spec.hostPID = false;
      d.metadata.label = { a: 'b' };
    });
    expectOnly(findings, 'schema-unknown-field', [`${C0}.securityContext.readOnlyRootFileSystem`, 'metadata.label']);
  });

  it('schema-unknown-field: free-form fields (ConfigMap data, labels) are never flagged', () => {
    const findings = breakOne((o) => {
      pick(o, 'ConfigMap', 'bookedbarber-api-config').data['any.key-at_all'] = 'x';
    });
    expect(findings).toEqual([]);
  });

  it('schema-unknown-kind: an apiVersion/kind with no schema', () => {
    const findings = breakOne((o) => {
      pick(o, 'PodDisruptionBudget', API).apiVersion = 'policy/v1beta2';
    });
    expect(findings.map((f) => f.rule)).toContain('schema-unknown-kind');
    expect(findings.find((f) => f.rule === 'schema-unknown-kind')!.hint).toContain('policy/v1 PodDisruptionBudget');
  });

  it('schema-enum: imagePullPolicy Sometimes', () => {
    const findings = breakOne((o) => {
      pick(o, 'Deployment', API).spec.template.spec.containers[0].imagePullPolicy = 'Sometimes';
    });
    expectOnly(findings, 'schema-enum', [`${C0}.imagePullPolicy`]);
    expect(findings[0].message).toContain('Always, IfNotPresent, Never');
  });

  it('schema-enum: restartPolicy of a Deployment template must be Always; Service type; NetworkPolicy policyTypes', () => {
    const findings = breakOne((o) => {
      pick(o, 'Deployment', API).spec.template.spec.restartPolicy = 'OnFailure';
      pick(o, 'Service', API).spec.type = 'Internal';
      pick(o, 'Service', API).spec.ports[0].protocol = 'tcp';
    });
    expectOnly(findings, 'schema-enum', ['spec.template.spec.restartPolicy', 'spec.type', 'spec.ports[0].protocol']);
    expect(findings.find((f) => f.path === 'spec.ports[0].protocol')!.hint).toContain('TCP');
  });

  it('schema-enum: the Rollout pod template and HPA fields are covered', () => {
    const findings = breakOne((o) => {
      pick(o, 'Rollout', 'bookedbarber-web').spec.template.spec.securityContext.seccompProfile.type = 'Default';
      pick(o, 'HorizontalPodAutoscaler', API).spec.metrics[0].resource.target.type = 'Percent';
    });
    const rules = findings.map((f) => `${f.rule} ${f.path}`);
    expect(rules).toContain('schema-enum spec.template.spec.securityContext.seccompProfile.type');
    expect(rules).toContain('schema-enum spec.metrics[0].resource.target.type');
  });

  it('schema-required: a Job pod template without restartPolicy (the default, Always, is rejected)', () => {
    const job = () => {
      const objects = validObjects();
      const tpl = JSON.parse(JSON.stringify(pick(objects, 'Deployment', API).spec.template));
      delete tpl.spec.containers[0].livenessProbe;
      delete tpl.spec.containers[0].readinessProbe;
      objects.push({
        file: 'dist/us-east-1/api.yaml', index: 40,
        object: { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'bookedbarber-migrate', namespace: NS, labels: pick(objects, 'Deployment', API).metadata.labels }, spec: { backoffLimit: 2, template: tpl } },
      });
      return { objects, tpl };
    };
    const broken = job();
    expectOnly(check(broken.objects), 'schema-required', ['spec.template.spec.restartPolicy']);
    const wrong = job();
    wrong.tpl.spec.restartPolicy = 'Always';
    expectOnly(check(wrong.objects), 'schema-enum', ['spec.template.spec.restartPolicy']);
    const fixed = job();
    fixed.tpl.spec.restartPolicy = 'Never';
    expect(check(fixed.objects)).toEqual([]);
  });

  it('schema-type: a string where Kubernetes wants an integer', () => {
    const findings = breakOne((o) => {
      pick(o, 'Deployment', API).spec.template.spec.containers[0].ports[0].containerPort = '8080';
    });
    expectOnly(findings, 'schema-type', [`${C0}.ports[0].containerPort`]);
  });

  it('schema-type: a map where a list is expected is reported (built-in and CRD), and other fields are still checked', () => {
    const findings = breakOne((o) => {
      const d = pick(o, 'Deployment', API);
      d.spec.template.spec.containers = { api: {} };
      d.spec.replica = 3;
      const r = pick(o, 'Rollout', 'bookedbarber-web');
      r.spec.template.spec.volumes = { tmp: { emptyDir: {} } };
      r.spec.paused2 = true;
    });
    const got = findings.filter((f) => f.rule.startsWith('schema-')).map((f) => `${f.rule} ${f.object.split(' ')[0]} ${f.path}`).sort();
    expect(got).toEqual([
      'schema-type Deployment spec.template.spec.containers',
      'schema-type Rollout spec.template.spec.volumes',
      'schema-unknown-field Deployment spec.replica',
      'schema-unknown-field Rollout spec.paused2',
    ]);
    expect(findings.find((f) => f.object.startsWith('Deployment') && f.rule === 'schema-type')!.hint).toContain('YAML list');
  });

  it('schema-required: a container without a name', () => {
    const findings = breakOne((o) => {
      delete pick(o, 'Deployment', API).spec.template.spec.containers[0].name;
    });
    expectOnly(findings, 'schema-required', [`${C0}.name`]);
  });

  it('schema-metadata: invalid names, label values and unquoted numbers', () => {
    const findings = breakOne((o) => {
      pick(o, 'ConfigMap', 'bookedbarber-api-config').metadata.name = 'BookedBarber_Config';
      pick(o, 'ServiceAccount', API).metadata.labels['app.kubernetes.io/component'] = 'x'.repeat(64);
      pick(o, 'Deployment', API).spec.template.metadata.labels.build = 42;
    });
    // Renaming the ConfigMap also breaks the reference to it (a separate rule, on purpose).
    const meta = findings.filter((f) => f.rule === 'schema-metadata').map((f) => f.path).sort();
    expect(meta).toEqual(['metadata.labels["app.kubernetes.io/component"]', 'metadata.name', 'spec.template.metadata.labels.build']);
  });
});
