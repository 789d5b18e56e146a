/**
 * `npm run synth` (and `cdk8s synth`): the same command line as `tsx main.ts`, but it reads and
 * checks regions/ before it loads the charts (main.ts imports every chart: most of the start-up),
 * so a broken config is reported in about a second. main.ts stays the table of contents.
 * Run from the bundle (tools/synth/launch.cjs), it shares the regions with a worker thread
 * running this same file (tools/synth/parallel.ts).
 */
import type { SynthDefinition } from './run';
import { REPO_ROOT } from '../repo-root';
import { shareRequest } from './parallel';
import { main, mainInParallel, serveSynthShare, synthWritten } from './run';

const ROOT = REPO_ROOT;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const definition = () => (require('../../main') as { definition: SynthDefinition }).definition;
/** Set by tools/synth/launch.cjs: it can start a worker thread running this same bundle. */
const launcher = process.env.BOOKEDBARBER_LAUNCHER;
const request = shareRequest();

/**
 * Read by tools/bundle.cjs at exit: V8's code cache of this bundle is worth writing only after a
 * run that rendered, validated and wrote a synth. A cache written after `--help`, a usage error or
 * a broken region file would hold little more than the module bodies, and every later run would
 * compile the charts, renderer and validator again until the bundle changes.
 */
export const codeCacheWorthy = synthWritten;

if (request) {
  serveSynthShare(request, definition);
} else if (launcher) {
  void mainInParallel(definition, process.argv.slice(2), ROOT, launcher).then((code) => {
    process.exitCode = code;
  });
} else {
  process.exitCode = main(definition, process.argv.slice(2), ROOT);
}
