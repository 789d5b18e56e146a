#!/usr/bin/env node
/**
 * `npm run diff`: runs tools/diff/cli.ts from its prebuilt bundle (tools/bundle.cjs: rebuilt
 * when any source changed, run by plain `node`). Its start-up and transpiling were most of a diff
 * over two folders.
 *
 * The bundle holds the diff of two rendered folders. Rendering the current source (no `--to`)
 * needs every chart and cdk8s: that case, and BOOKEDBARBER_NO_BUNDLE=1, run the sources through
 * tsx, as before. Output and exit codes are the same either way (test/diff/launch.test.ts).
 */
'use strict';
const { orSources, prepareBundle, runBundle, runSources } = require('../bundle.cjs');

const ENTRY = 'tools/diff/cli.ts';
/** Never in the bundle: cdk8s and the charts, reached only to render the current source. */
const EXTERNAL = ['cdk8s', 'cdk8s-plus-28', 'constructs', 'esbuild', './render-current'];

const argv = process.argv.slice(2);
const rendersSource = !argv.some((a) => a === '--to' || a.startsWith('--to=') || a === '--help' || a === '-h');
if (process.env.BOOKEDBARBER_NO_BUNDLE === '1' || rendersSource) {
  runSources(ENTRY);
} else {
  const diff = orSources('diff', () => runBundle(prepareBundle({ name: 'diff', entry: ENTRY, launcher: __filename, external: EXTERNAL }), { writeCodeCache: false }));
  if (diff) {
    diff.run(argv, { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) }).then((code) => {
      process.exitCode = code;
    });
  } else runSources(ENTRY);
}
