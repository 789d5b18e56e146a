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
import { main, mainInParallel, serveSynthShare } from './run';

const ROOT = REPO_ROOT;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const definition = () => (require('../../main') as { definition: SynthDefinition }).definition;
/** Set by tools/synth/launch.cjs: it can start a worker thread running this same bundle. */
const launcher = process.env.BOOKEDBARBER_LAUNCHER;
const request = shareRequest();

if (request) {
  serveSynthShare(request, definition);
} else if (launcher) {
  void mainInParallel(definition, process.argv.slice(2), ROOT, launcher).then((code) => {
    process.exitCode = code;
  });
} else {
  process.exitCode = main(definition, process.argv.slice(2), ROOT);
}
