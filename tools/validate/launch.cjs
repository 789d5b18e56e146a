#!/usr/bin/env node
/**
 * `npm run validate`: runs the validator's command line (tools/validate/cli.ts) from a prebuilt
 * bundle (tools/bundle.cjs: rebuilt when any source changed, run by plain `node` with V8's code
 * cache) instead of through tsx, which spent over a second transpiling before any check. The
 * bundle has the connection declaration `npm run validate` passes built in
 * (tools/validate-bundle.ts); a `--wiring` naming another module, and BOOKEDBARBER_NO_BUNDLE=1,
 * run the sources through tsx. Output and exit codes are the same either way
 * (test/validate/launch.test.ts).
 */
'use strict';
const path = require('node:path');
const { orSources, prepareBundle, runBundle, runSources } = require('../bundle.cjs');

const SOURCES = 'tools/validate/cli.ts';
const ENTRY = 'tools/validate-bundle.ts';
const ROOT = path.resolve(__dirname, '..', '..');
const BUNDLED_WIRING = path.join(ROOT, 'charts', 'wiring', 'connections.ts');

const argv = process.argv.slice(2);
const wiring = argv.indexOf('--wiring');
const otherWiring = wiring !== -1 && argv[wiring + 1] !== undefined && path.resolve(argv[wiring + 1]) !== BUNDLED_WIRING;
if (process.env.BOOKEDBARBER_NO_BUNDLE === '1' || otherWiring) {
  runSources(SOURCES);
} else {
  const bundle = orSources('validate', () => prepareBundle({ name: 'validate', entry: ENTRY, launcher: __filename, external: ['esbuild'] }));
  if (bundle) runBundle(bundle);
  else runSources(SOURCES);
}
