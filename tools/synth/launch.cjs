#!/usr/bin/env node
/**
 * `npm run synth`: runs tools/synth/cli.ts from its prebuilt bundle (tools/bundle.cjs: rebuilt
 * when any source changed, run by plain `node` with V8's code cache). The bundle holds cdk8s,
 * cdk8s-plus-28 and constructs too. Output is the same as `tsx tools/synth/cli.ts`
 * (test/synth/parallel.test.ts); BOOKEDBARBER_NO_BUNDLE=1 runs the sources through tsx.
 *
 * `npm run synth` starts node with `--max-semi-space-size=64` (young generation up to 64 MB a
 * semi-space instead of 16): synth keeps every rendered object until it has validated them all,
 * so most of what it allocates survives, and with small semi-spaces V8 copied it in ~190
 * scavenges (~1 s at 64 regions) instead of ~70 (~0.65 s). 64 regions 7.25-7.35 s -> 6.97-7.03 s,
 * the shipped regions unchanged, peak memory +80 MB (alternating runs, 2026-12-07). V8 reads the
 * flag only at start-up (v8.setFlagsFromString here would come too late).
 *
 * This file is also what a synth worker thread runs (tools/synth/parallel.ts): the bundle reads
 * BOOKEDBARBER_LAUNCHER to know how to start one.
 */
'use strict';
const { isMainThread } = require('node:worker_threads');
const { bundlePath, orSources, prepareBundle, runBundle, runSources } = require('../bundle.cjs');

const ENTRY = 'tools/synth/cli.ts';
/** Loaded at run time from node_modules, not bundled: esbuild runs its own binary. */
const EXTERNAL = ['esbuild'];

if (!isMainThread) {
  // A synth worker thread: the main thread has just checked the bundle.
  runBundle(bundlePath('synth'), { writeCodeCache: false });
} else if (process.env.BOOKEDBARBER_NO_BUNDLE === '1') {
  runSources(ENTRY);
} else {
  const bundle = orSources('synth', () => prepareBundle({ name: 'synth', entry: ENTRY, launcher: __filename, external: EXTERNAL }));
  if (bundle) {
    process.env.BOOKEDBARBER_LAUNCHER = __filename;
    runBundle(bundle);
  } else runSources(ENTRY);
}
