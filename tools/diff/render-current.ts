/**
 * The new side of `npm run diff` without `--to`: the current source rendered in memory. A module
 * of its own so that the diff of two folders never loads the charts and cdk8s (and the diff
 * bundle, tools/diff/launch.cjs, leaves them out).
 */
import * as path from 'node:path';
import { definition } from '../../main';
import { loadPlan } from '../../regions/load';
import { renderAll } from '../synth/run';
import type { TreeFile } from './tree';

/** Renders the current source of the repository at `root` in memory. */
export function renderCurrent(root: string): TreeFile[] {
  // Only the YAML: the renderer may also write other files (e.g. region README pages).
  return renderAll(definition, loadPlan(path.join(root, 'regions')), {})
    .filter((f) => /\.ya?ml$/.test(f.path))
    .map((f) => ({ path: f.path, content: f.content }));
}
