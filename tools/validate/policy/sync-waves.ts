/**
 * Rule `sync-wave-order`: a region folder's Namespace is applied no later than the objects in it.
 * Argo CD applies a wave only after the wave before it is healthy and, within one wave, Namespaces
 * before other kinds (gitops-engine's kind order); an object in an earlier wave than its Namespace
 * is applied first and refused ("namespaces ... not found"), and the sync stops there, on every
 * first install of a region.
 */
import type { Context } from '../context';
import { isClusterScoped } from '../references';
import { Entry, finding, isRecord, namespaceOf, RawFinding } from '../types';

const WAVE = 'argocd.argoproj.io/sync-wave';

/** The object's sync wave (Argo CD: the annotation as an integer, 0 without it). */
export function syncWave(obj: Record<string, unknown>): number {
  const annotations = isRecord(obj.metadata) && isRecord(obj.metadata.annotations) ? obj.metadata.annotations : {};
  const value = annotations[WAVE];
  const wave = typeof value === 'string' && /^-?[0-9]+$/.test(value.trim()) ? Number(value.trim()) : 0;
  return wave;
}

/**
 * The sync phase of an object: Argo CD's hook annotation, else the Helm hook it maps to
 * (pre-install/pre-upgrade: PreSync, post-install/post-upgrade: PostSync), else Sync.
 */
function phaseOf(obj: Record<string, unknown>): string {
  const annotations = isRecord(obj.metadata) && isRecord(obj.metadata.annotations) ? obj.metadata.annotations : {};
  const hook = annotations['argocd.argoproj.io/hook'];
  if (typeof hook === 'string' && hook.trim() !== '') return hook.split(',')[0]!.trim();
  const helm = annotations['helm.sh/hook'];
  if (typeof helm === 'string') {
    if (/pre-(install|upgrade)/.test(helm)) return 'PreSync';
    if (/post-(install|upgrade)/.test(helm)) return 'PostSync';
  }
  return 'Sync';
}

export function checkSyncWaveOrder(e: Entry, ctx: Context): RawFinding[] {
  if (e.region === null || isClusterScoped(e.obj)) return [];
  const ns = namespaceOf(e.obj);
  if (!ns) return [];
  const namespace = ctx.scope(e).named('', '', 'Namespace', ns);
  if (!namespace || namespace.region !== e.region) return [];
  // Argo CD orders by phase before wave: PostSync (and SyncFail) hooks run once the Sync phase,
  // the Namespace included, is done; a PreSync hook runs before any Sync-phase object exists.
  const phase = phaseOf(e.obj);
  if (phase === 'PreSync' && phaseOf(namespace.obj) !== 'PreSync') {
    return [finding(e, 'metadata.annotations["argocd.argoproj.io/hook"]', 'sync-wave-order', `a PreSync hook in namespace ${ns}, which this folder creates in the Sync phase: on a first sync the hook runs before the Namespace exists and is refused (namespace not found)`,
      'make it a Sync-phase object in a wave after the Namespace, or a PostSync hook')];
  }
  if (phase !== 'Sync') return [];
  const own = syncWave(e.obj);
  const before = syncWave(namespace.obj);
  if (own >= before) return [];
  return [
    finding(e, `metadata.annotations["${WAVE}"]`, 'sync-wave-order', `sync wave ${own}, before its Namespace ${ns} (wave ${before}): Argo CD applies it first and the API server refuses it (namespace not found), so a first sync of the region stops here`,
      `use wave ${before} or later, or move the Namespace to an earlier wave`),
  ];
}
