/**
 * `npm run validate` over a hand-edited tree: edits the upstream schemas accept (they type each
 * field alone) but the API server or Argo CD refuses. One committed region folder, one edit at a time.
 */
import { describe, expect, it } from 'vitest';
import type { LoadedObject } from '../../tools/validate';
import { distLoadedObjects } from '../support/dist';
import { pick } from './fixtures/valid';
import { check } from './helpers';

const folder = () => distLoadedObjects(['eu-west-1']);
const get = (objects: LoadedObject[], kind: string, name: string): any => pick(objects, kind, name);
const found = (objects: LoadedObject[]) => check(objects).map((f) => `${f.rule} ${f.file} ${f.path}`);

describe('hand edits the API server or Argo CD would refuse', () => {
  it('the committed folder has none of these findings', () => {
    expect(found(folder())).toEqual([]);
  });

  it('an autoscaler whose minimum is above its maximum, or whose maximum is 0', () => {
    const objects = folder();
    get(objects, 'HorizontalPodAutoscaler', 'bookedbarber-api').spec.maxReplicas = 0;
    const web = get(objects, 'HorizontalPodAutoscaler', 'bookedbarber-web');
    web.spec.maxReplicas = web.spec.minReplicas - 1;
    expect(found(objects)).toEqual(expect.arrayContaining([
      'hpa-bounds eu-west-1/api.yaml spec.maxReplicas',
      'hpa-bounds eu-west-1/web.yaml spec.minReplicas',
    ]));
  });

  it('a resource value that is not a Kubernetes quantity', () => {
    for (const value of ['512 Mi', '1.5.0Mi', '2 cores']) {
      const objects = folder();
      const sts = get(objects, 'StatefulSet', 'bookedbarber-postgres-shard-3');
      sts.spec.template.spec.containers[0].resources.limits.memory = value;
      expect(found(objects).filter((f) => f.startsWith('resources ')), value).toEqual([
        'resources eu-west-1/postgres.yaml spec.template.spec.containers[0].resources.limits.memory',
      ]);
    }
  });

  it('an Application that would sync the live copy of a list it ignores in a CRD (RespectIgnoreDifferences)', () => {
    // argo-cd controller/sync.go normalizeTargetResources: for a kind outside client-go's scheme
    // the live values come in by JSON merge patch, which replaces a list whole.
    const objects = distLoadedObjects(['argocd']);
    expect(found(objects)).toEqual([]);
    const regions = get(objects, 'ApplicationSet', 'bookedbarber-regions');
    regions.spec.template.spec.syncPolicy.syncOptions.push('RespectIgnoreDifferences=true');
    const rules = regions.spec.template.spec.ignoreDifferences;
    const at = (kind: string) => rules.findIndex((r: any) => r.kind === kind);
    // A list inside a built-in kind merges item by item (strategic merge): not this problem.
    rules.push({ group: 'apps', kind: 'Deployment', name: 'x', jsonPointers: ['/spec/template/spec/containers/0/image'] });
    rules.push({ group: 'argoproj.io', kind: 'Rollout', name: 'y', jsonPointers: ['/spec/replicas', '/spec/template/spec/containers/0/image'] });
    expect(found(objects).filter((f) => f.startsWith('argocd-ignored-list-kept '))).toEqual([
      `argocd-ignored-list-kept argocd/argocd.yaml spec.template.spec.ignoreDifferences[${at('VirtualService')}].jqPathExpressions[0]`,
      `argocd-ignored-list-kept argocd/argocd.yaml spec.template.spec.ignoreDifferences[${at('VirtualService')}].jqPathExpressions[1]`,
      `argocd-ignored-list-kept argocd/argocd.yaml spec.template.spec.ignoreDifferences[${at('DestinationRule')}].jqPathExpressions[0]`,
      `argocd-ignored-list-kept argocd/argocd.yaml spec.template.spec.ignoreDifferences[${rules.length - 1}].jsonPointers[1]`,
    ]);
  });

  it('one object in two files', () => {
    const objects = folder();
    const copy = objects.find((o) => o.file === 'eu-west-1/web.yaml')!;
    objects.push({ file: 'eu-west-1/api.yaml', index: 999, object: structuredClone(copy.object), region: 'eu-west-1' });
    expect(found(objects).filter((f) => f.startsWith('duplicate-object '))).toEqual(['duplicate-object eu-west-1/api.yaml metadata.name']);
  });
});
