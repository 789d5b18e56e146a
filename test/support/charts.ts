/**
 * Test helpers for charts: the shipped plan, and a chart's objects as plain JSON.
 */
import { App, type Chart } from 'cdk8s';
import { loadPlan } from '../../regions/load';
import type { PlatformPlan, RegionPlan } from '../../regions/plan';
import { REGIONS_DIR, regionsWith } from './regions';

let cached: PlatformPlan | undefined;

export function shippedPlan(): PlatformPlan {
  cached ??= loadPlan(REGIONS_DIR);
  return cached;
}

export function regionPlan(name = 'us-east-1'): RegionPlan {
  const plan = shippedPlan().regions.find((r) => r.region.name === name);
  if (!plan) throw new Error(`no region ${name}`);
  return plan;
}

/**
 * A copy of the shipped regions/ with `role: primary` moved to `region` (every other serving
 * region secondary; standby-only regions stay standby, they serve nobody): the one-line promotion
 * of the session store (docs/redis-sessions.md). Returns the folder, for `loadPlan` or
 * `synth --regions`.
 */
export function regionsWithPrimary(region: string): string {
  return regionsWith((files) => {
    if (!files[`${region}.yaml`]) throw new Error(`no region file ${region}.yaml`);
    if (files[`${region}.yaml`].role === 'standby') throw new Error(`${region} is a standby region: it cannot hold the session store`);
    for (const [file, data] of Object.entries(files)) {
      if (data && typeof data === 'object' && 'role' in data && data.role !== 'standby') data.role = file === `${region}.yaml` ? 'primary' : 'secondary';
    }
  });
}

/** The platform plan after that promotion. */
export function planWithPrimary(region: string): PlatformPlan {
  return loadPlan(regionsWithPrimary(region));
}

export function newApp(): App {
  return new App({ outdir: '/nonexistent/cdk8s-unused' });
}

export type Obj = { apiVersion: string; kind: string; metadata: any; spec?: any; [key: string]: any };

export function objectsOf(chart: Chart): Obj[] {
  return chart.toJson() as Obj[];
}

export function find(objects: Obj[], kind: string, name: string, namespace?: string): Obj {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name && (namespace === undefined || o.metadata.namespace === namespace));
  if (!found) throw new Error(`no ${kind} ${namespace ?? ''}/${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
}
