/**
 * Stateful data is never pruned or deleted by Argo CD (issue #13 item 4), over the tree every
 * region renders (in memory, not the committed dist/): the data Namespace and every StatefulSet
 * with volumes carry `argocd.argoproj.io/sync-options: Prune=false,Delete=false`, and the PVCs
 * those StatefulSets create stay out of Argo CD's reach (see KEEP_ON_PRUNE in
 * charts/lib/metadata.ts for why the volumeClaimTemplates carry no annotation).
 */
import { describe, expect, it } from 'vitest';
import { ARGOCD_SYNC_OPTIONS, KEEP_ON_PRUNE, keepsOnPrune } from '../../charts/lib/metadata';
import { LABELS } from '../../charts/lib/labels';
import { loadPlan } from '../../regions/load';
import { renderedObjects } from '../support/rendered';
import type { Obj } from '../support/charts';
import { REGIONS_DIR } from '../support/regions';

const plan = loadPlan(REGIONS_DIR);
const rendered = renderedObjects();
const where = (r: { file: string; object: Obj }) => `${r.file}: ${r.object.kind} ${r.object.metadata.namespace ?? ''}/${r.object.metadata.name}`;
const statefulSets = rendered.filter((r) => r.object.kind === 'StatefulSet');
const withVolumes = statefulSets.filter((r) => (r.object.spec.volumeClaimTemplates ?? []).length > 0);

describe('stateful data is kept through Argo CD prune and Application deletion', () => {
  it('spells the options as Argo CD parses them (comma-separated, no spaces)', () => {
    expect(KEEP_ON_PRUNE).toEqual({ 'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false' });
    expect(keepsOnPrune({ [ARGOCD_SYNC_OPTIONS]: 'Delete=false, Prune=false' })).toBe(true);
    expect(keepsOnPrune({ [ARGOCD_SYNC_OPTIONS]: 'Prune=false' })).toBe(false);
    expect(keepsOnPrune({ [ARGOCD_SYNC_OPTIONS]: 'Prune=confirm,Delete=false' })).toBe(false);
    expect(keepsOnPrune(undefined)).toBe(false);
  });

  it('the data Namespace of every region carries Prune=false,Delete=false (deleting it deletes every volume in it)', () => {
    for (const region of plan.regions) {
      const ns = rendered.filter((r) => r.folder === region.region.name && r.object.kind === 'Namespace' && r.object.metadata.name === region.namespaces.data);
      expect(ns, `${region.region.name}: data Namespace rendered once`).toHaveLength(1);
      expect(keepsOnPrune(ns[0].object.metadata.annotations), where(ns[0])).toBe(true);
      // Still applied first: the keep annotation joins the sync wave, it does not replace it.
      expect(ns[0].object.metadata.annotations['argocd.argoproj.io/sync-wave']).toBe('-20');
    }
  });

  it('every StatefulSet with volumes carries it, in every region', () => {
    expect(withVolumes.length).toBeGreaterThan(0);
    const missing = withVolumes.filter((r) => !keepsOnPrune(r.object.metadata.annotations)).map(where);
    expect(missing).toEqual([]);
  });

  it('covers every Postgres site (home and DR) and every Redis sessions tier, and nothing without data', () => {
    const kept = new Set(statefulSets.filter((r) => keepsOnPrune(r.object.metadata.annotations)).map((r) => `${r.folder}/${r.object.metadata.name}`));
    const postgres = statefulSets.filter((r) => r.object.metadata.labels?.[LABELS.name] === 'postgres');
    expect(postgres.some((r) => r.object.metadata.name.endsWith('-dr')), 'a DR site is rendered').toBe(true);
    expect(postgres.some((r) => !r.object.metadata.name.endsWith('-dr')), 'a home site is rendered').toBe(true);
    // One home site and one DR site per shard.
    expect(postgres).toHaveLength(2 * plan.regions.flatMap((r) => r.region.shards ?? []).length);
    for (const r of postgres) expect(kept.has(`${r.folder}/${r.object.metadata.name}`), where(r)).toBe(true);
    const sessions = statefulSets.filter((r) => /-redis-sessions$/.test(r.object.metadata.name));
    expect(sessions.length).toBeGreaterThan(0);
    for (const r of sessions) expect(kept.has(`${r.folder}/${r.object.metadata.name}`), where(r)).toBe(true);
    // Prune=false leaves an object removed from git OutOfSync until someone deletes it by hand:
    // only for what holds data, not for caches and Sentinels that are recreated in seconds.
    for (const r of statefulSets.filter((s) => (s.object.spec.volumeClaimTemplates ?? []).length === 0)) {
      expect(keepsOnPrune(r.object.metadata.annotations), where(r)).toBe(false);
    }
  });

  it('deleting or scaling down a StatefulSet never deletes its PVCs (retention policy Retain)', () => {
    for (const r of withVolumes) expect(r.object.spec.persistentVolumeClaimRetentionPolicy, where(r)).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
  });

  it('the PVCs the StatefulSet controller creates are not Argo CD resources: no volumeClaimTemplate carries a region Application\'s tracking label or a sync option', () => {
    // Argo CD 2.14 tracks by the `app.kubernetes.io/instance` label by default; a PVC inheriting
    // the Application's name there would become a resource Argo CD prunes (it is not in git).
    const applications = new Set(rendered.filter((r) => r.object.kind === 'Application').map((r) => r.object.metadata.name as string));
    expect(applications.size).toBeGreaterThan(0);
    for (const r of withVolumes) {
      for (const claim of r.object.spec.volumeClaimTemplates as Obj[]) {
        expect(applications.has(claim.metadata.labels?.[LABELS.instance]), `${where(r)} template ${claim.metadata.name}`).toBe(false);
        // An annotation there would change spec.volumeClaimTemplates, which Kubernetes refuses
        // to update on a live StatefulSet (KEEP_ON_PRUNE in charts/lib/metadata.ts).
        expect(claim.metadata.annotations?.[ARGOCD_SYNC_OPTIONS], `${where(r)} template ${claim.metadata.name}`).toBeUndefined();
      }
    }
  });

  it('any PersistentVolumeClaim rendered on its own (an Argo CD resource) carries it', () => {
    for (const r of rendered.filter((x) => x.object.kind === 'PersistentVolumeClaim')) expect(keepsOnPrune(r.object.metadata.annotations), where(r)).toBe(true);
  });
});
