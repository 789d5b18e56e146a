/**
 * Rules `quota-holds-workloads` and `limit-range-max` on the rendered tree: a namespace's
 * ResourceQuota admits what its workloads ask for at their maxima, and no container asks for more
 * than its namespace's LimitRange allows one container. Both are what the API server would refuse
 * (pods or claims), with nothing else in the YAML saying so. Run on the committed eu-central-1
 * and eu-west-1 folders (a standby region and a serving one), changed one value at a time.
 */
import { describe, expect, it } from 'vitest';
import type { LoadedObject } from '../../tools/validate';
import { distLoadedObjects } from '../support/dist';
import { pick } from './fixtures/valid';
import { check } from './helpers';

const region = () => distLoadedObjects(['eu-central-1', 'eu-west-1']);
const find = (objects: LoadedObject[], folder: string, kind: string, name: string): any => pick(objects.filter((o) => o.region === folder), kind, name);
const findings = (objects: LoadedObject[]) => check(objects).filter((f) => f.rule === 'quota-holds-workloads' || f.rule === 'limit-range-max');

describe('quotas and LimitRanges hold the rendered workloads', () => {
  it('finds nothing in the shipped tree', () => {
    expect(findings(region())).toEqual([]);
  });

  it('finds a data quota too small for the Postgres DR site (the standby region, memory)', () => {
    const objects = region();
    // The DR site of shard 3 requests 2 x (16Gi Postgres + sidecars) in eu-central-1.
    find(objects, 'eu-central-1', 'ResourceQuota', 'bookedbarber-data-quota').spec.hard['requests.memory'] = '32Gi';
    const [f, ...rest] = findings(objects);
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ file: 'eu-central-1/namespaces.yaml', rule: 'quota-holds-workloads', path: 'spec.hard["requests.memory"]' });
    expect(f!.message).toContain('over the quota\'s 32Gi');
    expect(f!.message).toContain('StatefulSet bookedbarber-postgres-shard-3-dr');
    expect(f!.hint).toContain('regions/eu-central-1.yaml');
  });

  it('counts volume claims against requests.storage, and pods, CPU per quota', () => {
    const objects = region();
    const hard = find(objects, 'eu-west-1', 'ResourceQuota', 'bookedbarber-data-quota').spec.hard;
    hard['requests.storage'] = '1Ti';
    hard.pods = '5';
    hard['requests.cpu'] = '4';
    expect(findings(objects).map((f) => `${f.file} ${f.path}`).sort()).toEqual([
      'eu-west-1/namespaces.yaml spec.hard.pods',
      'eu-west-1/namespaces.yaml spec.hard["requests.cpu"]',
      'eu-west-1/namespaces.yaml spec.hard["requests.storage"]',
    ]);
    // The hint names the region file's own field, not a pattern to search for.
    const pods = findings(objects).find((f) => f.path === 'spec.hard.pods')!;
    expect(pods.message).toMatch(/^the workloads of namespace bookedbarber-data need \d+ pods at their maxima, over the quota's 5: the API server refuses what goes over \(largest: .*StatefulSet bookedbarber-postgres-shard-3 \(4 pods\)/);
    expect(pods.hint).toMatch(/^raise namespaces\.data\.quota\.pods in regions\/eu-west-1\.yaml to at least \d+, or lower what the workloads ask for$/);
    expect(findings(objects).find((f) => f.path === 'spec.hard["requests.storage"]')!.hint).toContain('namespaces.data.quota.requestsStorage in regions/eu-west-1.yaml');
  });

  // The API server refuses a pod whose memory limits go over limits.memory, like any other key:
  // an HPA scale-up under load would stop there.
  it('counts memory limits against limits.memory (the sidecar\'s limit from its annotation included)', () => {
    const objects = region();
    find(objects, 'eu-west-1', 'ResourceQuota', 'bookedbarber-app-quota').spec.hard['limits.memory'] = '100Gi';
    const issues = findings(objects);
    expect(issues.map((f) => `${f.file} ${f.path}`)).toEqual(['eu-west-1/namespaces.yaml spec.hard["limits.memory"]']);
    // API: 2 stacks x 1000 pods x (1Gi + the sidecar's 256Mi); web: 2 x 200 x (512Mi + 256Mi); the
    // release-gate Jobs are not counted here (the region invariants hold them).
    expect(issues[0]!.message).toMatch(/^the workloads of namespace bookedbarber-app need 2800(\.\d)?Gi of limits\.memory at their maxima/);
    expect(issues[0]!.hint).toContain('namespaces.app.quota.limitsMemory in regions/eu-west-1.yaml');
  });

  it('counts a Rollout\'s second stack at release in the app namespace', () => {
    const objects = region();
    const quota = find(objects, 'eu-west-1', 'ResourceQuota', 'bookedbarber-app-quota').spec.hard;
    const hpa = find(objects, 'eu-west-1', 'HorizontalPodAutoscaler', 'bookedbarber-api');
    const web = find(objects, 'eu-west-1', 'HorizontalPodAutoscaler', 'bookedbarber-web');
    // Room for each Rollout at its maximum once, not twice: a release would be refused.
    quota.pods = String(hpa.spec.maxReplicas + web.spec.maxReplicas + 10);
    expect(findings(objects).map((f) => `${f.rule} ${f.path}`)).toEqual(['quota-holds-workloads spec.hard.pods']);
  });

  it('counts a rolling update\'s surge at the autoscaler\'s maximum (a collector rolled at peak)', () => {
    const objects = region();
    const sampler = find(objects, 'eu-west-1', 'OpenTelemetryCollector', 'otel-sampler');
    const max = sampler.spec.autoscaler.maxReplicas;
    // A 25 % surge at the maximum: ceil(max / 4) more sampler pods, which the shipped quota cannot hold.
    sampler.spec.deploymentUpdateStrategy.rollingUpdate.maxSurge = '25%';
    const out = findings(objects);
    expect(out.map((f) => `${f.file} ${f.path}`)).toContain('eu-west-1/namespaces.yaml spec.hard["requests.cpu"]');
    // The value to type is rounded up to whole cores, so it holds the need.
    expect(out.find((f) => f.path === 'spec.hard["requests.cpu"]')!.hint).toMatch(/^raise namespaces\.monitoring\.quota\.requestsCpu in regions\/eu-west-1\.yaml to at least \d+, or lower/);
    expect(out.find((f) => f.path === 'spec.hard["requests.cpu"]')!.message).toContain(`OpenTelemetryCollector otel-sampler ${Math.round((max + Math.ceil(max / 4)) * 1.1 * 1000) / 1000} (${max + Math.ceil(max / 4)} pods)`);
  });

  it('finds a container over its namespace\'s LimitRange maximum', () => {
    const objects = region();
    const sts = find(objects, 'eu-west-1', 'StatefulSet', 'bookedbarber-postgres-shard-3');
    const postgres = sts.spec.template.spec.containers.find((c: any) => c.name === 'postgres');
    postgres.resources.limits.memory = '160Gi';
    const out = findings(objects);
    expect(out.filter((f) => f.rule === 'limit-range-max').map((f) => `${f.file} ${f.path}`)).toEqual([
      'eu-west-1/postgres.yaml spec.template.spec.containers[0].resources.limits.memory',
    ]);
    expect(out.find((f) => f.rule === 'limit-range-max')!.message).toContain('over the 64Gi LimitRange');
  });
});
