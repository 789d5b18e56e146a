/**
 * The mesh's shared root CA reaches istiod before istiod first starts. istiod reads `cacerts` once,
 * at start, and without it signs with a root of its own that it keeps (Istio's
 * pilot/pkg/bootstrap/istio_ca.go): every cross-region mTLS handshake would then fail. So the
 * `cacerts` ExternalSecret is a file of its own (dist/<region>/mesh-ca.yaml), synced by the
 * istiod Application as a second source one wave before its Helm chart, and left out of the
 * region Application (one owner per object: both sync with FailOnSharedResource).
 */
import { Chart } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { addonRegionFiles, platformAddons } from '../../charts/argocd/addon-catalog';
import { PlatformAddonsChart } from '../../charts/argocd/addons-chart';
import { ArgoCdChart, BootstrapChart, globOf } from '../../charts/argocd/chart';
import { MeshCaChart } from '../../charts/mesh-ca/chart';
import { definition } from '../../main';
import { newApp, objectsOf, shippedPlan } from '../support/charts';

const plan = shippedPlan();
const addonApps = objectsOf(new PlatformAddonsChart(newApp(), { plan })).filter((o) => o.kind === 'Application');
const argocd = objectsOf(new ArgoCdChart(newApp(), { plan }));
const appSet = argocd.find((o) => o.kind === 'ApplicationSet' && o.metadata.name === `${plan.global.platform.name}-regions`)!;
const elements = appSet.spec.generators[0].list.elements as Array<Record<string, string>>;
const regionDirectory = appSet.spec.template.spec.source.directory;
/** The revision the root Application (bootstrap.yaml) syncs dist/argocd, and so every add-on Application, from. */
const rootRevision = objectsOf(new BootstrapChart(newApp(), { plan })).find((o) => o.kind === 'Application')!.spec.source.targetRevision;

/** The files of dist/<region> a region renders: one per chart. */
function regionFiles(region: string): string[] {
  const app = newApp();
  definition.buildRegion(app, plan.regions.find((r) => r.region.name === region)!);
  return (app.charts as Chart[]).map((c) => `${c.node.id}.yaml`).sort();
}

describe('the mesh CA (dist/<region>/mesh-ca.yaml)', () => {
  it('is the cacerts ExternalSecret in istio-system, from the region\'s remote key, one wave before the objects of its Application', () => {
    for (const region of plan.regions) {
      const objects = objectsOf(new MeshCaChart(newApp(), { plan: region }));
      expect(objects.map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`)).toEqual(['ExternalSecret istio-system/cacerts']);
      const [ca] = objects;
      expect(ca!.spec.target.name).toBe('cacerts');
      expect(ca!.spec.data.map((d: any) => `${d.secretKey} <- ${d.remoteRef.key}#${d.remoteRef.property}`)).toEqual(
        ['ca-cert.pem', 'ca-key.pem', 'root-cert.pem', 'cert-chain.pem'].map((k) => `${k} <- bookedbarber/istio/${region.region.name}/cacerts#${k}`),
      );
      // Helm-rendered objects carry no wave (0): Argo CD applies them once this one is Healthy.
      expect(Number(ca!.metadata.annotations['argocd.argoproj.io/sync-wave'])).toBeLessThan(0);
      // Neither a sync nor deleting the Application removes it (and the Secret it owns).
      expect(ca!.metadata.annotations['argocd.argoproj.io/sync-options']).toBe('Prune=false,Delete=false');
    }
  });

  it('is synced by the istiod Application of its region, beside the chart, at the root Application\'s revision', () => {
    for (const region of plan.regions) {
      const name = region.region.name;
      const istiod = addonApps.find((a) => a.metadata.name === `bookedbarber-${name}-istiod`)!;
      expect(istiod.spec.source).toBeUndefined();
      expect(istiod.spec.sources).toHaveLength(2);
      expect(istiod.spec.sources[0].chart).toBe('istiod');
      expect(istiod.spec.sources[1]).toEqual({
        repoURL: plan.global.git.repoURL,
        // Where the add-on Applications come from (main), not the region's wave branch: istiod
        // never waits for a branch that does not exist yet, and the promotion gate, which checks
        // region Applications, has nothing of istiod's to hold back.
        targetRevision: rootRevision,
        path: `dist/${name}`,
        directory: { include: 'mesh-ca.yaml', recurse: false },
      });
    }
    // Later waves track branches of their own, which the istiod source does not follow.
    expect(elements.filter((e) => e.targetRevision !== rootRevision).length).toBeGreaterThan(0);
  });

  it('is left out of the region Application, and every file left out is synced by one add-on of each region that renders it (or by the capacity Application: nodes, storage)', () => {
    const taken = addonRegionFiles(plan);
    expect(taken).toEqual(['mesh-ca.yaml', 'secret-store.yaml']);
    expect(regionDirectory).toEqual({ include: '*.yaml', exclude: '{mesh-ca.yaml,nodes.yaml,secret-store.yaml,storage.yaml}', recurse: false });
    for (const region of plan.regions) {
      const name = region.region.name;
      const files = regionFiles(name);
      for (const file of taken) {
        expect(files, name).toContain(file);
        const owners = platformAddons(region).filter((a) => a.regionFiles?.includes(file));
        expect(owners.map((a) => a.id), `${name} ${file}`).toEqual([file === 'mesh-ca.yaml' ? 'istiod' : 'external-secrets']);
      }
    }
    expect(globOf(['a.yaml', 'b.yaml'])).toBe('{a.yaml,b.yaml}');
  });

  it('can be synced: istiod comes after the operator that owns ExternalSecret, and the platform project allows this repository', () => {
    for (const region of plan.regions) {
      const addons = platformAddons(region);
      const wave = (id: string) => addons.find((a) => a.id === id)!.wave;
      expect(wave('external-secrets')).toBeLessThan(wave('istiod'));
    }
    const project = argocd.find((o) => o.kind === 'AppProject' && o.metadata.name === 'bookedbarber-platform')!;
    expect(project.spec.sourceRepos).toContain(plan.global.git.repoURL);
    expect(project.spec.namespaceResourceWhitelist).toContainEqual({ group: 'external-secrets.io', kind: 'ExternalSecret' });
    expect(project.spec.destinations.filter((d: any) => d.namespace === 'istio-system')).toHaveLength(plan.regions.length);
  });
});
