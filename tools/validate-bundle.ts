/**
 * The entry of `npm run validate`'s bundle (tools/validate/launch.cjs): the validator's command
 * line with the connection declaration `npm run validate` passes (`--wiring
 * charts/wiring/connections.ts`) built in, because plain node cannot require TypeScript. The
 * declaration is handed to the validator as `--wiring` would hand it; tools/validate itself still
 * imports no chart. Another `--wiring` module runs the sources through tsx (the launcher).
 */
import * as path from 'node:path';
import { declaredConnections } from '../charts/wiring/connections';
import { REPO_ROOT } from './repo-root';
import { bundledDeclarations } from './validate/declarations';

/** The module `npm run validate` names (the launcher compares `--wiring` with the same path). */
const BUNDLED_WIRING = path.join(REPO_ROOT, 'charts', 'wiring', 'connections.ts');

bundledDeclarations.set(BUNDLED_WIRING, declaredConnections);
// Required, not imported: the command line runs as it loads, after the declaration is in.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const cli = require('./validate/cli') as { codeCacheWorthy: () => boolean };
/** Whether V8's code cache is worth writing at exit (tools/bundle.cjs). */
export const codeCacheWorthy = cli.codeCacheWorthy;
