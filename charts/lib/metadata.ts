/**
 * Labels and annotations shared by every chart, so the conventions of DESIGN.md (explicit
 * names, recommended labels, region on everything, sync waves) are applied in one place.
 */
import type { RegionPlan } from '../../regions/plan';
import { LABELS, MANAGED_BY } from './labels';

/** Labels every object of a region carries; charts apply them through `Chart.labels`. */
export function regionLabels(plan: RegionPlan): Record<string, string> {
  return {
    [LABELS.partOf]: plan.global.platform.name,
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.region]: plan.region.name,
  };
}

/**
 * Labels naming what an object belongs to. `app` is the application (api, pgbouncer,
 * namespaces); `component` its role in the architecture (backend, database, guardrails).
 * These are also the selector labels of workloads: they never change across releases.
 */
export function appLabels(plan: RegionPlan, app: string, component: string): Record<string, string> {
  return {
    [LABELS.name]: app,
    [LABELS.instance]: `${app}-${plan.region.name}`,
    [LABELS.component]: component,
  };
}

/**
 * Argo CD applies lower waves first and waits for them to be healthy: namespaces and their
 * guard rails, then configuration and identities, then workloads, then what targets workloads.
 */
export const SYNC_WAVE = {
  namespaces: -20,
  guardrails: -10,
  config: -5,
  workloads: 0,
  scaling: 5,
} as const;

export function syncWave(wave: number): Record<string, string> {
  return { 'argocd.argoproj.io/sync-wave': String(wave) };
}

/**
 * Istio: start the app container only once the sidecar is ready, for pods whose first act is a
 * network call that must not fail (Patroni's Kubernetes API call, PgBouncer's auth query, a
 * backup job's first upload).
 */
export const HOLD_UNTIL_PROXY_STARTS = { 'proxy.istio.io/config': '{ "holdApplicationUntilProxyStarts": true }' } as const;

/**
 * Istio proxy settings of a pod that must keep its network while it shuts down: the sidecar
 * holds the app until it is ready, and on SIGTERM keeps serving for `drainSeconds` instead of
 * Istio's default 5 s. Without it the sidecar exits long before the app: Patroni could not
 * release its leader lock (a write outage of a whole TTL on every leader restart), the last WAL
 * segments would wait for the next start to be archived, a Redis master could not hand over.
 * Keep it a few seconds below the pod's terminationGracePeriodSeconds.
 */
export function shutdownSafeProxy(drainSeconds: number): Record<string, string> {
  return { 'proxy.istio.io/config': JSON.stringify({ holdApplicationUntilProxyStarts: true, terminationDrainDuration: `${drainSeconds}s` }) };
}

/** The annotation Argo CD reads per-resource sync options from (comma-separated). */
export const ARGOCD_SYNC_OPTIONS = 'argocd.argoproj.io/sync-options';

/**
 * Stateful data is never deleted by Argo CD. On the object (Argo CD's sync-options docs, "No
 * Prune Resources" and "No Resource Deletion"; the constants `SyncOptionDisablePrune` and
 * `SyncOptionDisableDeletion` of gitops-engine, in Argo CD 2.14, the pinned `crds.argoCd`):
 * - `Prune=false`: a sync never prunes it, even with the region Application's `prune: true`,
 *   when it disappears from dist/ (a wrong path, a render that drops a file, a renamed region).
 *   The resource option overrides the Application's policy; Argo CD shows the app OutOfSync
 *   and the object stays until someone deletes it by hand.
 * - `Delete=false`: deleting the Application (cascade, the resources finalizer) skips it
 *   (ApplicationController.shouldBeDeleted).
 *
 * Where it goes: the data Namespace (deleting a Namespace deletes every PVC in it) and every
 * StatefulSet with volumeClaimTemplates (charts/lib/hardened-workload.ts adds it). Not on the
 * volumeClaimTemplates: the PVCs the StatefulSet controller creates are not in git and carry
 * no Argo CD tracking label, so Argo CD neither prunes nor deletes them; they outlive their
 * StatefulSet through `persistentVolumeClaimRetentionPolicy: Retain`. An annotation in the
 * template would also change `spec.volumeClaimTemplates`, which Kubernetes refuses to update on
 * an existing StatefulSet: every live shard's sync would fail. test/charts/stateful-keep.test.ts
 * checks all of this over every region; `npm run diff` flags its removal (`stateful-prune`).
 */
export const KEEP_ON_PRUNE = { [ARGOCD_SYNC_OPTIONS]: 'Prune=false,Delete=false' } as const;

/** Sync options that must be in an object's `argocd.argoproj.io/sync-options` to keep it. */
export const KEEP_ON_PRUNE_OPTIONS = ['Prune=false', 'Delete=false'] as const;

/** Whether an annotation map keeps its object through prune and app deletion. */
export function keepsOnPrune(annotations: Readonly<Record<string, string>> | undefined): boolean {
  const options = (annotations?.[ARGOCD_SYNC_OPTIONS] ?? '').split(',').map((o) => o.trim());
  return KEEP_ON_PRUNE_OPTIONS.every((o) => options.includes(o));
}
