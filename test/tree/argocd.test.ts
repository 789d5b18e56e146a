/**
 * What Argo CD reads: one Application per region pointing at a dist/ folder that exists, in wave
 * order, confined by an AppProject that allows exactly the kinds we render. Guards issue #2 items
 * 4 and 5 of the Argo CD contract (dist/argocd).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLUSTER_KINDS, NAMESPACED_KINDS } from '../../charts/argocd';
import { shippedPlan } from '../support/charts';
import { DIST, distObjects } from '../support/dist';

const objects = distObjects();
const appSet = objects.find((o) => o.object.kind === 'ApplicationSet')!.object;
const project = objects.find((o) => o.object.kind === 'AppProject')!.object;

describe('dist/argocd', () => {
  it('the ApplicationSet yields exactly one Application per region, each path an existing dist/ folder', () => {
    const elements = appSet.spec.generators[0].list.elements as Array<Record<string, string>>;
    const plan = shippedPlan();
    expect(elements.map((e) => e.region)).toEqual(plan.regions.map((r) => r.region.name));
    expect(appSet.spec.template.spec.source.path).toBe('dist/{{.region}}');
    for (const e of elements) {
      expect(fs.statSync(path.join(DIST, e.region)).isDirectory()).toBe(true);
      expect(e.server).toBe(plan.regions.find((r) => r.region.name === e.region)!.region.cluster.server);
    }
  });

  it('rolls regions out one wave after another, wave 1 first', () => {
    const steps = appSet.spec.strategy.rollingSync.steps.map((s: any) => s.matchExpressions[0].values);
    expect(appSet.spec.strategy.type).toBe('RollingSync');
    expect(steps).toEqual([['1'], ['2'], ['3'], ['4']]);
    expect(appSet.spec.template.metadata.labels['bookedbarber.com/rollout-wave']).toBe('{{.wave}}');
  });

  it('the AppProject trusts only our repository and the region clusters', () => {
    expect(project.spec.sourceRepos).toEqual([shippedPlan().global.git.repoURL]);
    const servers = new Set(project.spec.destinations.map((d: any) => d.server));
    expect([...servers]).toEqual(shippedPlan().regions.map((r) => r.region.cluster.server));
    expect(project.spec.destinations.every((d: any) => d.namespace !== '*')).toBe(true);
  });

  it('the AppProject allows every kind rendered under dist/<region>, and nothing more', () => {
    const group = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0] : '');
    const rendered = new Set(objects.filter((o) => o.folder !== 'argocd').map((o) => `${group(o.object.apiVersion)}/${o.object.kind}`));
    const allowed = new Set([...NAMESPACED_KINDS, ...CLUSTER_KINDS].map((k) => `${k.group}/${k.kind}`));
    expect([...rendered].sort()).toEqual([...allowed].sort());
    const clusterScoped = new Set(objects.filter((o) => o.folder !== 'argocd' && !o.object.metadata.namespace).map((o) => o.object.kind));
    expect([...clusterScoped]).toEqual(CLUSTER_KINDS.map((k) => k.kind));
  });
});
