/**
 * What Argo CD reads: one Application per region pointing at a dist/ folder that exists, released
 * wave after wave, confined by AppProjects that allow exactly what we deploy; platform add-ons in
 * sync waves before the regions; a root Application that applies all of dist/argocd. Guards
 * issue #2 items 4 and 5 and issue #3 items 5 and 6 (dist/argocd).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLUSTER_KINDS, NAMESPACED_KINDS, rolloutWaves } from '../../charts/argocd/chart';
import { addonRegionFiles, STANDBY_REGION_ADDONS } from '../../charts/argocd/addon-catalog';
import { keepsOnPrune } from '../../charts/lib/metadata';
import { isServingRegion } from '../../regions/model';
import { shippedPlan } from '../support/charts';
import { DIST, distObjects } from '../support/dist';

const objects = distObjects();
const global = objects.filter((o) => o.folder === 'argocd');
const regional = objects.filter((o) => o.folder !== 'argocd');
const appSetNamed = (name: string) => global.find((o) => o.object.kind === 'ApplicationSet' && o.object.metadata.name === name)!.object;
const appSet = appSetNamed('bookedbarber-regions');
const capacitySet = appSetNamed('bookedbarber-capacity');
const projects = global.filter((o) => o.object.kind === 'AppProject').map((o) => o.object);
const project = (name: string) => projects.find((p) => p.metadata.name === name)!;
const plan = shippedPlan();
const regionProject = project(plan.global.argocd.project);
const elements = appSet.spec.generators[0].list.elements as Array<Record<string, string>>;
const group = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0]! : '');
const wave = (o: { metadata: { annotations?: Record<string, string> } }) => Number(o.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0);

describe('dist/argocd: the regions', () => {
  it('the ApplicationSet yields exactly one Application per region, each path an existing dist/ folder', () => {
    expect(elements.map((e) => e.region)).toEqual(plan.regions.map((r) => r.region.name));
    expect(appSet.spec.template.spec.source.path).toBe('dist/{{.region}}');
    expect(appSet.spec.template.metadata.name).toBe('{{.app}}');
    expect(new Set(elements.map((e) => e.app)).size).toBe(elements.length);
    for (const e of elements) {
      expect(fs.statSync(path.join(DIST, e.region!)).isDirectory()).toBe(true);
      expect(e.server).toBe(plan.regions.find((r) => r.region.name === e.region)!.region.cluster.server);
    }
  });

  it('syncs every region automatically with prune and self-heal, applying only what is OutOfSync, never the live copy of an ignored list', () => {
    const spec = appSet.spec.template.spec;
    expect(spec.syncPolicy.automated).toMatchObject({ prune: true, selfHeal: true });
    expect(spec.syncPolicy.syncOptions).toEqual(expect.arrayContaining(['ApplyOutOfSyncOnly=true', 'ServerSideApply=true']));
    // The weights and subset hashes it ignores sit in lists of CRDs (rule argocd-ignored-list-kept).
    expect(spec.syncPolicy.syncOptions).not.toContain('RespectIgnoreDifferences=true');
    expect(appSet.spec.strategy?.type ?? 'AllAtOnce').toBe('AllAtOnce');
  });

  it('rolls regions out one wave after another, wave 1 first: wave 1 tracks main, later waves their promotion branch', () => {
    expect(appSet.spec.template.spec.source.targetRevision).toBe('{{.targetRevision}}');
    const byWave = [...elements].sort((a, b) => Number(a.wave) - Number(b.wave));
    expect(byWave.map((e) => e.wave)).toEqual(['1', '2', '3', '4', '5', '6']);
    // The standby-only regions (DR sites) are released last.
    expect(byWave.slice(4).map((e) => e.region)).toEqual(['eu-central-1', 'ap-southeast-2']);
    expect(byWave[0]).toMatchObject({ region: 'us-east-1', targetRevision: plan.global.git.targetRevision });
    for (const e of byWave.slice(1)) expect(e.targetRevision).toBe(`rollout/wave-${e.wave}`);
    expect(byWave.map((e) => e.targetRevision)).toEqual(rolloutWaves(plan).map((w) => w.targetRevision));
    expect(appSet.spec.template.metadata.labels['bookedbarber.com/rollout-wave']).toBe('{{.wave}}');
  });

  it('ignores the replicas of everything an HPA scales, and the VirtualService weights Argo Rollouts sets', () => {
    const ignored = appSet.spec.template.spec.ignoreDifferences as any[];
    const replicasIgnored = (kind: string, name: string, namespace: string) =>
      ignored.some((r) => r.kind === kind && r.name === name && r.namespace === namespace && r.jsonPointers?.includes('/spec/replicas'));
    for (const { object: hpa } of regional.filter((o) => o.object.kind === 'HorizontalPodAutoscaler')) {
      const target = hpa.spec.scaleTargetRef;
      expect(replicasIgnored(target.kind, target.name, hpa.metadata.namespace), `${target.kind} ${target.name}`).toBe(true);
    }
    const weights = ignored.find((r) => r.kind === 'VirtualService');
    expect(weights.jqPathExpressions[0]).toMatch(/\.spec\.http\[\] \| select\(\.name == "\w+"\) \| \.route\[\]\.weight/);
  });

  it('every ignored difference names an object rendered in each serving region (no stale or mistyped rule)', () => {
    const ignored = appSet.spec.template.spec.ignoreDifferences as any[];
    const hit = (region: string, rule: any) => regional.find(
      (o) => o.folder === region && o.object.kind === rule.kind && group(o.object.apiVersion) === rule.group && o.object.metadata.name === rule.name && o.object.metadata.namespace === rule.namespace,
    );
    const serving = plan.regions.filter((r) => isServingRegion(r.region)).map((r) => r.region.name);
    expect(serving).toHaveLength(4);
    for (const region of serving) {
      for (const rule of ignored) expect(hit(region, rule), `${region}: ${rule.kind} ${rule.namespace}/${rule.name}`).toBeDefined();
    }
    // The ApplicationSet template is shared, so a standby region's Application carries the same
    // rules: they may only name the releases of the app namespace, which a standby region does not
    // render at all (a rule for an object it does render must match it).
    const app = plan.regions[0]!.namespaces.app;
    for (const region of plan.regions.filter((r) => !isServingRegion(r.region)).map((r) => r.region.name)) {
      expect(regional.filter((o) => o.folder === region && o.object.metadata.namespace === app), region).toEqual([]);
      for (const rule of ignored) {
        expect(rule.namespace === app || hit(region, rule) !== undefined, `${region}: ${rule.kind} ${rule.namespace}/${rule.name}`).toBe(true);
      }
    }
  });
});

describe('dist/argocd: the AppProjects', () => {
  it('the region AppProject trusts only our repository and the region clusters', () => {
    expect(regionProject.spec.sourceRepos).toEqual([plan.global.git.repoURL]);
    const servers = new Set(regionProject.spec.destinations.map((d: any) => d.server));
    expect([...servers]).toEqual(plan.regions.map((r) => r.region.cluster.server));
    expect(regionProject.spec.destinations.every((d: any) => d.namespace !== '*')).toBe(true);
  });

  it('the region AppProject allows every namespace rendered under dist/<region>, and the Application destination', () => {
    const allowed = (server: string, namespace: string) => regionProject.spec.destinations.some((d: any) => d.server === server && d.namespace === namespace);
    for (const o of regional.filter((x) => x.object.metadata.namespace)) {
      const server = plan.regions.find((r) => r.region.name === o.folder)!.region.cluster.server;
      expect(allowed(server, o.object.metadata.namespace), `${o.folder}/${o.file}: ${o.object.kind} in ${o.object.metadata.namespace}`).toBe(true);
    }
    for (const e of elements) expect(allowed(e.server!, appSet.spec.template.spec.destination.namespace)).toBe(true);
  });

  it('the AppProject allows every kind rendered under dist/<region>, and nothing more; the platform project every kind of the files add-ons sync', () => {
    // Files an add-on Application syncs (the mesh CA with istiod, the store with External Secrets) belong to the platform project.
    const byAddons = new Set(addonRegionFiles(plan));
    const own = regional.filter((o) => !byAddons.has(o.file));
    const rendered = new Set(own.map((o) => `${group(o.object.apiVersion)}/${o.object.kind}`));
    const allowed = new Set([...NAMESPACED_KINDS, ...CLUSTER_KINDS].map((k) => `${k.group}/${k.kind}`));
    expect([...rendered].sort()).toEqual([...allowed].sort());
    const clusterScoped = new Set(own.filter((o) => !o.object.metadata.namespace).map((o) => o.object.kind));
    expect([...clusterScoped].sort()).toEqual(CLUSTER_KINDS.map((k) => k.kind).sort());
    const platform = project('bookedbarber-platform').spec;
    const synced = regional.filter((o) => byAddons.has(o.file));
    expect(new Set(synced.map((o) => o.file))).toEqual(byAddons);
    for (const o of synced) {
      const list = o.object.metadata.namespace ? platform.namespaceResourceWhitelist : platform.clusterResourceWhitelist;
      expect(list, `${o.file} ${o.object.kind}`).toContainEqual({ group: group(o.object.apiVersion), kind: o.object.kind });
    }
  });
});

describe('dist/argocd: platform add-ons and bootstrap', () => {
  const addons = global.filter((o) => o.file === 'platform-addons.yaml').map((o) => o.object);

  it('every add-on Application is pinned to an exact chart version and allowed by its AppProject', () => {
    // Twelve add-ons per serving region, the standby set per standby-only region.
    const expected = plan.regions.reduce((n, r) => n + (isServingRegion(r.region) ? 12 : STANDBY_REGION_ADDONS.size), 0);
    expect(STANDBY_REGION_ADDONS.size).toBe(6);
    expect(addons.length).toBe(expected);
    for (const r of plan.regions) {
      const inRegion = addons.filter((a) => a.metadata.labels['bookedbarber.com/region'] === r.region.name);
      expect(inRegion.length, r.region.name).toBe(isServingRegion(r.region) ? 12 : 6);
    }
    // The file loop below must have something to check: istiod syncs the mesh CA as a second source.
    expect(addons.some((a) => a.spec.sources)).toBe(true);
    for (const a of addons) {
      const p = project(a.spec.project);
      // One Helm chart, first; istiod also syncs a file of its region's folder (the mesh CA).
      const [chart, ...files] = a.spec.sources ?? [a.spec.source];
      expect(chart.targetRevision, a.metadata.name).toMatch(/^\d+\.\d+\.\d+$/);
      for (const source of [chart, ...files]) expect(p.spec.sourceRepos).toContain(source.repoURL);
      for (const source of files) {
        const region = a.metadata.labels['bookedbarber.com/region'];
        expect(source.path, a.metadata.name).toBe(`dist/${region}`);
        // Each file the add-on names (one, or `{a,b}`) is rendered in its region's folder.
        const names = /^\{(.*)\}$/.exec(source.directory.include)?.[1]!.split(',') ?? [source.directory.include];
        for (const file of names) expect(fs.existsSync(path.join(DIST, region, file)), `${a.metadata.name}: ${source.path}/${file}`).toBe(true);
      }
      expect(p.spec.destinations).toContainEqual(expect.objectContaining({ server: a.spec.destination.server, namespace: a.spec.destination.namespace }));
    }
  });

  it('add-ons are applied in waves that all precede the region ApplicationSet', () => {
    for (const a of addons) expect(wave(a), a.metadata.name).toBeLessThan(wave(appSet));
    for (const p of projects) for (const a of addons) expect(wave(p)).toBeLessThan(wave(a));
  });

  it('syncs each region\'s node pools and StorageClasses before any add-on, in an Application of their own, never in the region Application', () => {
    // Every add-on runs on nodes Karpenter launches from these pools; the region ApplicationSet
    // comes after the add-ons are Healthy, so on a new cluster they would wait for each other.
    for (const a of addons) expect(wave(capacitySet), a.metadata.name).toBeLessThan(wave(a));
    const capacityObjects = regional.filter((o) => ['NodePool', 'EC2NodeClass', 'StorageClass'].includes(o.object.kind));
    expect([...new Set(capacityObjects.map((o) => o.file))].sort()).toEqual(['nodes.yaml', 'storage.yaml']);
    // Never pruned or deleted, whichever Application tracks them: when they moved here from the
    // region Application, that one saw them as extraneous (prune: true) before this took them over.
    for (const { folder, object } of capacityObjects) expect(keepsOnPrune(object.metadata.annotations), `${folder} ${object.kind} ${object.metadata.name}`).toBe(true);
    const include = capacitySet.spec.template.spec.source.directory.include as string;
    const exclude = appSet.spec.template.spec.source.directory.exclude as string;
    const globFiles = (glob: string) => /^\{(.*)\}$/.exec(glob)?.[1]!.split(',') ?? [glob];
    expect(globFiles(include)).toEqual(['nodes.yaml', 'storage.yaml']);
    for (const file of globFiles(include)) expect(globFiles(exclude)).toContain(file);
    // The same regions at the same revision as their region Application: a new node image rolls
    // out wave by wave like everything else.
    const capacity = capacitySet.spec.generators[0].list.elements as Array<Record<string, string>>;
    expect(capacity.map(({ region, server, targetRevision, wave: w }) => ({ region, server, targetRevision, w })))
      .toEqual(elements.map(({ region, server, targetRevision, wave: w }) => ({ region, server, targetRevision, w })));
    expect(capacitySet.spec.template.spec.source).toMatchObject({ path: 'dist/{{.region}}', targetRevision: '{{.targetRevision}}' });
    expect(capacitySet.spec.template.spec.project).toBe(plan.global.argocd.project);
    // Never pruned automatically: a pool removed from git would drain every node it runs.
    expect(capacitySet.spec.template.spec.syncPolicy.automated).toEqual({ prune: false, selfHeal: true, allowEmpty: false });
    expect(new Set(capacity.map((e) => e.app)).size).toBe(capacity.length);
    for (const e of capacity) expect(elements.map((r) => r.app)).not.toContain(e.app);
  });

  it('the root Application applies every manifest of dist/argocd, itself included', () => {
    const found = global.find((o) => o.file === 'bootstrap.yaml' && o.object.kind === 'Application');
    expect(found, 'dist/argocd/bootstrap.yaml holds the root Application').toBeDefined();
    const root = found!.object;
    expect(root.spec.source).toMatchObject({ path: 'dist/argocd', directory: { include: '*.yaml', recurse: false } });
    expect(fs.readdirSync(path.join(DIST, 'argocd')).filter((f) => f.endsWith('.yaml')).sort()).toEqual(['argocd.yaml', 'bootstrap.yaml', 'platform-addons.yaml']);
    for (const { object } of global) expect(project(root.spec.project).spec.namespaceResourceWhitelist).toContainEqual({ group: 'argoproj.io', kind: object.kind });
  });
});
