/**
 * `npm run synth` (and `cdk8s synth`): the same command line as `tsx main.ts`, but it reads and
 * checks regions/ before it loads the charts (main.ts imports every chart: most of the start-up),
 * so a broken config is reported in about a second. main.ts stays the table of contents.
 */
import type { SynthDefinition } from './run';
import { REPO_ROOT } from '../repo-root';
import { main } from './run';

const ROOT = REPO_ROOT;
// eslint-disable-next-line @typescript-eslint/no-require-imports
process.exitCode = main(() => (require('../../main') as { definition: SynthDefinition }).definition, process.argv.slice(2), ROOT);
