/**
 * The plan: the checked model plus everything derived from it, computed once in plain
 * functions so tests can call them without synthesising and charts never recompute (or
 * disagree about) a name.
 */
import type { LoadedModel } from './invariants';
import type { GlobalConfig, NamespaceRole, RegionConfig } from './model';

export interface RegionPlan {
  readonly global: GlobalConfig;
  readonly region: RegionConfig;
  /** Region file the plan came from, for generated-file headers and messages. */
  readonly sourceFile: string;
  /** Namespace names by role: `<platform>-app`, `<platform>-data`, `<platform>-monitoring`. */
  readonly namespaces: Readonly<Record<NamespaceRole, string>>;
}

export interface PlatformPlan {
  readonly global: GlobalConfig;
  /** Regions in rollout-wave order (wave 1 first). */
  readonly regions: readonly RegionPlan[];
}

export const NAMESPACE_ROLES: readonly NamespaceRole[] = ['app', 'data', 'monitoring'];

export function namespaceNames(global: GlobalConfig): Record<NamespaceRole, string> {
  const prefix = global.platform.name;
  return { app: `${prefix}-app`, data: `${prefix}-data`, monitoring: `${prefix}-monitoring` };
}

export function buildPlan(model: LoadedModel): PlatformPlan {
  const global = model.global.config;
  const regions = model.regions
    .map((loaded) => ({
      global,
      region: loaded.config,
      sourceFile: loaded.source.file,
      namespaces: namespaceNames(global),
    }))
    .sort((a, b) => a.region.rolloutWave - b.region.rolloutWave);
  return { global, regions };
}
