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
