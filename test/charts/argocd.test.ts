/**
 * The Argo CD chart (dist/argocd/argocd.yaml) and the bootstrap chart (dist/argocd/bootstrap.yaml):
 * one automatically synced Application per region, released wave after wave through the revision
 * each wave tracks, with controller-owned fields ignored; AppProjects that allow only what we
 * deploy; a root Application applying dist/argocd in sync-wave order. Guards issue #3 item 5.
 */
import { describe, expect, it } from 'vitest';
import {
  addonProjectName,
  ArgoCdChart,
  BootstrapChart,
  bootstrapProjectName,
  regionDestinationNamespaces,
  regionIgnoreDifferences,
  rolloutWaves,
  WAVE_LABEL,
} from '../../charts/argocd/chart';
import { ADDON_NAMESPACES, ROOT_SYNC_WAVE } from '../../charts/argocd/addon-catalog';
import type { PlatformPlan } from '../../regions/plan';
import { find, newApp, objectsOf, shippedPlan } from '../support/charts';

const plan = shippedPlan();
const objects = objectsOf(new ArgoCdChart(newApp(), { plan }));
const appSet = find(objects, 'ApplicationSet', 'bookedbarber-regions');
const template = appSet.spec.template;
const elements = appSet.spec.generators[0].list.elements as Array<Record<string, string>>;
const regionProject = find(objects, 'AppProject', plan.global.argocd.project);
const platformProject = find(objects, 'AppProject', addonProjectName(plan.global));

/** The Application the ApplicationSet generates for one element (Go template, missingkey=error). */
function generate(element: Record<string, string>): any {
  const text = JSON.stringify(template).replace(/\{\{\.(\w+)\}\}/g, (_, key: string) => {
    if (!(key in element)) throw new Error(`template reads .${key}, missing from ${JSON.stringify(element)}`);
    return element[key]!;
  });
  return JSON.parse(text);
}

/** The shipped plan with the waves reordered (region -> wave). */
function withWaves(waves: Record<string, number>): PlatformPlan {
  const regions = plan.regions
    .map((r) => ({ ...r, region: { ...r.region, rolloutWave: waves[r.region.name]! } }))
    .sort((a, b) => a.region.rolloutWave - b.region.rolloutWave);
  return { ...plan, regions };
}

describe('the region ApplicationSet', () => {
  it('generates exactly one Application per region of the model, named after it, syncing its dist/ folder to its cluster', () => {
    const apps = elements.map(generate);
    expect(apps.map((a) => a.metadata.name)).toEqual(plan.regions.map((r) => `bookedbarber-${r.region.name}`));
    for (const [i, r] of plan.regions.entries()) {
      expect(apps[i].spec.source.path).toBe(`dist/${r.region.name}`);
      expect(apps[i].spec.source.repoURL).toBe(plan.global.git.repoURL);
      expect(apps[i].spec.destination.server).toBe(r.region.cluster.server);
      expect(apps[i].spec.project).toBe(plan.global.argocd.project);
      expect(apps[i].metadata.labels[WAVE_LABEL]).toBe(String(r.region.rolloutWave));
    }
  });

  it('syncs automatically with prune and self-heal, never from an empty folder, server-side, with retries and backoff', () => {
    const policy = template.spec.syncPolicy;
    expect(policy.automated).toEqual({ prune: true, selfHeal: true, allowEmpty: false });
    expect(policy.syncOptions).toEqual(expect.arrayContaining(['ServerSideApply=true', 'ApplyOutOfSyncOnly=true', 'PruneLast=true']));
    expect(policy.syncOptions).not.toContain('RespectIgnoreDifferences=true');
    expect(policy.retry.limit).toBeGreaterThanOrEqual(5);
    expect(policy.retry.backoff).toEqual({ duration: '15s', factor: 2, maxDuration: '5m' });
    // A RollingSync would strip `automated` from every generated Application.
    expect(appSet.spec.strategy).toEqual({ type: 'AllAtOnce' });
    expect(appSet.spec.syncPolicy.preserveResourcesOnDeletion).toBe(true);
  });

  // A restore or a fence pauses one region with `argocd app set <app> --sync-policy none`, which
  // removes `automated`; without this rule the ApplicationSet controller puts it back on its next
  // reconcile. Only that field: syncOptions and retry keep following the template.
  it('lets one region be paused: every ApplicationSet leaves its Applications\' auto-sync as it finds it, and nothing else', () => {
    for (const set of objects.filter((o) => o.kind === 'ApplicationSet')) {
      expect(set.spec.ignoreApplicationDifferences, set.metadata.name).toEqual([{ jsonPointers: ['/spec/syncPolicy/automated'] }]);
      expect(set.spec.template.spec.syncPolicy.automated, set.metadata.name).toMatchObject({ selfHeal: true });
    }
    expect(objects.filter((o) => o.kind === 'ApplicationSet').map((o) => o.metadata.name).sort()).toEqual(['bookedbarber-capacity', 'bookedbarber-regions']);
  });

  it('releases wave 1 from main first, every later wave from its own branch that the promotion workflow moves', () => {
    const waves = rolloutWaves(plan);
    expect(waves.map((w) => [w.wave, w.targetRevision])).toEqual([
      [1, 'main'],
      [2, 'rollout/wave-2'],
      [3, 'rollout/wave-3'],
      [4, 'rollout/wave-4'],
      [5, 'rollout/wave-5'],
      [6, 'rollout/wave-6'],
    ]);
    expect(waves[0]!.regions).toEqual(['us-east-1']);
    // The standby-only regions (DR sites) come last, each in its own wave.
    expect(waves.slice(4).map((w) => w.regions)).toEqual([['eu-central-1'], ['ap-southeast-2']]);
    for (const e of elements) expect(e.targetRevision).toBe(waves.find((w) => w.regions.includes(e.region!))!.targetRevision);
  });

  it('follows the region model when waves change: the lowest wave tracks main, whatever region it is', () => {
    const changed = withWaves({
      'eu-west-1': 1, 'us-east-1': 3, 'us-west-2': 5, 'eu-central-1': 7, 'ap-southeast-1': 9, 'ap-southeast-2': 11,
    });
    const waves = rolloutWaves(changed);
    expect(waves.map((w) => `${w.regions.join()}@${w.targetRevision}`)).toEqual([
      'eu-west-1@main',
      'us-east-1@rollout/wave-3',
      'us-west-2@rollout/wave-5',
      'eu-central-1@rollout/wave-7',
      'ap-southeast-1@rollout/wave-9',
      'ap-southeast-2@rollout/wave-11',
    ]);
    const rendered = objectsOf(new ArgoCdChart(newApp(), { plan: changed }));
    const list = find(rendered, 'ApplicationSet', 'bookedbarber-regions').spec.generators[0].list.elements;
    expect(list.map((e: any) => [e.region, e.targetRevision])).toEqual(waves.map((w) => [w.regions[0], w.targetRevision]));
  });

  it('ignores the replicas the HPAs own and the weights, subset labels and selectors Argo Rollouts sets', () => {
    const ignored = template.spec.ignoreDifferences as any[];
    expect(ignored).toEqual(regionIgnoreDifferences(plan).map((r) => expect.objectContaining({ group: r.group, kind: r.kind, name: r.name })));
    const rule = (kind: string, name: string) => ignored.find((r) => r.kind === kind && r.name === name);
    expect(rule('Rollout', 'bookedbarber-api').jsonPointers).toEqual(['/spec/replicas']);
    expect(rule('Rollout', 'bookedbarber-web').jsonPointers).toEqual(['/spec/replicas']);
    expect(rule('VirtualService', 'bookedbarber-api').jqPathExpressions).toEqual(['.spec.http[] | select(.name == "primary") | .route[].weight', '.spec.http[] | select(.name == "idempotent") | .route[].weight']);
    expect(rule('DestinationRule', 'bookedbarber-api').jqPathExpressions).toEqual(['.spec.subsets[]?.labels["rollouts-pod-template-hash"]']);
    for (const service of ['bookedbarber-api', 'bookedbarber-api-canary', 'bookedbarber-web', 'bookedbarber-web-preview']) {
      expect(rule('Service', service), service).toMatchObject({ group: '', namespace: 'bookedbarber-app', jsonPointers: ['/spec/selector/rollouts-pod-template-hash'] });
    }
    // Scoped by name: a Rollout, Service or StatefulSet we add later is not ignored by accident.
    for (const r of ignored) expect(r.name, JSON.stringify(r)).toBeTruthy();
  });

  it('is applied by the root Application after every platform add-on', () => {
    expect(appSet.metadata.annotations['argocd.argoproj.io/sync-wave']).toBe(String(ROOT_SYNC_WAVE.regions));
    const addonWaves = Object.entries(ROOT_SYNC_WAVE).filter(([k]) => k !== 'regions').map(([, v]) => v);
    expect(Math.max(...addonWaves)).toBeLessThan(ROOT_SYNC_WAVE.regions);
  });
});

describe('the AppProjects', () => {
  it('confine region Applications to our repository, the region clusters and our namespaces plus the mesh root and the ingress gateway\'s (its TLS certificate)', () => {
    expect(regionProject.spec.sourceRepos).toEqual([plan.global.git.repoURL]);
    // argo-rollouts and monitoring-system: Prometheus' discovery Roles for the add-ons it scrapes.
    expect(regionDestinationNamespaces(plan)).toEqual(['bookedbarber-app', 'bookedbarber-data', 'bookedbarber-monitoring', 'istio-system', 'istio-ingress', 'argo-rollouts', 'monitoring-system']);
    const expected = plan.regions.flatMap((r) =>
      regionDestinationNamespaces(plan).map((namespace) => ({ name: r.region.cluster.name, server: r.region.cluster.server, namespace })),
    );
    expect(regionProject.spec.destinations).toEqual(expected);
    expect(regionProject.spec.clusterResourceWhitelist).toEqual([
      { group: '', kind: 'Namespace' }, { group: 'storage.k8s.io', kind: 'StorageClass' },
      { group: 'karpenter.sh', kind: 'NodePool' }, { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass' },
    ]);
    expect(JSON.stringify(regionProject.spec)).not.toContain('"*"');
  });

  it('warn about objects in those namespaces that git does not know, except the ones Kubernetes and Istio create everywhere', () => {
    expect(regionProject.spec.orphanedResources.warn).toBe(true);
    expect(regionProject.spec.orphanedResources.ignore).toEqual(
      expect.arrayContaining([
        { group: '', kind: 'ConfigMap', name: 'kube-root-ca.crt' },
        { group: '', kind: 'ConfigMap', name: 'istio-ca-root-cert' },
      ]),
    );
  });

  it('confine add-on Applications to the pinned Helm repositories, the region clusters and the add-on namespaces', () => {
    // And this repository: istiod syncs the region's mesh CA (dist/<region>/mesh-ca.yaml) before its chart.
    expect(platformProject.spec.sourceRepos).toEqual([
      'https://argoproj.github.io/argo-helm',
      'https://charts.external-secrets.io',
      'https://charts.fairwinds.com/stable',
      'https://istio-release.storage.googleapis.com/charts',
      'https://kubernetes-sigs.github.io/external-dns',
      'https://open-telemetry.github.io/opentelemetry-helm-charts',
      'https://prometheus-community.github.io/helm-charts',
      plan.global.git.repoURL,
    ]);
    const servers = [...new Set(platformProject.spec.destinations.map((d: any) => d.server))];
    expect(servers).toEqual(plan.regions.map((r) => r.region.cluster.server));
    // The add-on namespaces, plus kube-system for prometheus-adapter's auth-reader RoleBinding;
    // never our namespaces.
    const namespaces = [...new Set(platformProject.spec.destinations.map((d: any) => d.namespace))].sort();
    expect(namespaces).toEqual([...ADDON_NAMESPACES.map((n) => n.name), 'kube-system'].sort());
    expect(JSON.stringify(platformProject.spec)).not.toContain('"*"');
    expect(platformProject.spec.clusterResourceWhitelist.map((k: any) => k.kind).sort()).toEqual([
      'APIService',
      'ClusterRole',
      'ClusterRoleBinding',
      'ClusterSecretStore',
      'CustomResourceDefinition',
      'MutatingWebhookConfiguration',
      'Namespace',
      'ValidatingWebhookConfiguration',
    ]);
  });

  it('are applied before the Applications that name them', () => {
    for (const p of [regionProject, platformProject]) expect(p.metadata.annotations['argocd.argoproj.io/sync-wave']).toBe(String(ROOT_SYNC_WAVE.projects));
  });
});

describe('the bootstrap (dist/argocd/bootstrap.yaml)', () => {
  const boot = objectsOf(new BootstrapChart(newApp(), { plan }));
  const root = find(boot, 'Application', 'bookedbarber-root');
  const project = find(boot, 'AppProject', bootstrapProjectName(plan.global));

  it('has one root Application that syncs every *.yaml of dist/argocd from main, itself included', () => {
    expect(root.spec.source).toEqual({
      repoURL: plan.global.git.repoURL,
      targetRevision: plan.global.git.targetRevision,
      path: 'dist/argocd',
      directory: { recurse: false, include: '*.yaml' },
    });
    expect(root.spec.destination).toEqual({ server: 'https://kubernetes.default.svc', namespace: 'argocd' });
    expect(root.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true, allowEmpty: false });
    expect(root.spec.project).toBe(project.metadata.name);
  });

  it('confines the root Application to Argo CD objects in the Argo CD namespace of its own cluster', () => {
    expect(project.spec.sourceRepos).toEqual([plan.global.git.repoURL]);
    expect(project.spec.destinations).toEqual([{ name: 'in-cluster', server: 'https://kubernetes.default.svc', namespace: 'argocd' }]);
    expect(project.spec.clusterResourceWhitelist).toEqual([]);
    expect(project.spec.namespaceResourceWhitelist.map((k: any) => `${k.group}/${k.kind}`)).toEqual([
      'argoproj.io/AppProject',
      'argoproj.io/Application',
      'argoproj.io/ApplicationSet',
    ]);
  });
});
