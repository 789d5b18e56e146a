/**
 * The repository root: the nearest folder above this module holding both package.json and
 * cdk8s.yaml. Modules that read files of the repository (the committed schemas, imports/, the
 * smoke-test suite) resolve them from here rather than from their own `__dirname`, so they work
 * the same from the sources (tsx) and from the prebuilt synth bundle (tools/synth/launch.cjs),
 * which lives elsewhere.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

function findRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'cdk8s.yaml'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no repository root (package.json and cdk8s.yaml) above ${start}`);
  }
}

export const REPO_ROOT = findRoot(__dirname);
