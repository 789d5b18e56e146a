/**
 * renderApp takes every chart's objects with the App prepared once (tools/synth/render.ts
 * appObjects) instead of cdk8s resolving and validating the whole App on each Chart.toJson().
 * The objects and their order must be exactly Chart.toJson()'s, for every chart of every region
 * and of the global App.
 */
import { App, type Chart } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { definition } from '../../main';
import { loadPlan } from '../../regions/load';
import { appObjects } from '../../tools/synth/render';
import { REGIONS_DIR } from '../support/regions';

describe('appObjects', () => {
  const plan = loadPlan(REGIONS_DIR);
  const apps: [string, (app: App) => void][] = [
    ['global', (app) => definition.buildGlobal(app, plan)],
    ...plan.regions.map((r): [string, (app: App) => void] => [r.region.name, (app) => definition.buildRegion(app, r)]),
  ];

  it.each(apps)('gives every chart of %s exactly the objects Chart.toJson() gives, in its order', (_, build) => {
    const ours = new App({ outdir: '/nonexistent' });
    build(ours);
    const theirs = new App({ outdir: '/nonexistent' });
    build(theirs);
    const objects = appObjects(ours);
    expect([...objects.keys()].map((c) => c.node.id)).toEqual((theirs.charts as Chart[]).map((c) => c.node.id));
    for (const chart of theirs.charts as Chart[]) {
      const mine = [...objects].find(([c]) => c.node.id === chart.node.id)![1];
      expect(mine, chart.node.id).toEqual(chart.toJson());
    }
    expect([...objects.values()].flat().length).toBeGreaterThan(50);
  });
});
