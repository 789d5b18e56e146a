#!/usr/bin/env node
/**
 * `npm ci` / `npm install` run this (`prepare`): it warms what a fresh clone would otherwise build
 * on its first run, so the first `npm run synth` starts as fast as any later one (issue 16):
 *   - the synth, diff and validate bundles (tools/synth/launch.cjs, tools/diff/launch.cjs,
 *     tools/validate/launch.cjs) and V8's code cache for the synth and validate bundles;
 *   - the compiled validators of the region schemas and of every upstream schema synth uses
 *     (tools/validate/cache.ts).
 * It does so by running them once: a synth of regions/ into a temporary folder and a diff of that
 * folder with itself. Everything lands in node_modules/.cache/bookedbarber (never committed).
 * A failure here only costs speed on the first run, so it warns and never fails the install.
 */
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..');

function run(label, args) {
  const started = Date.now();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  if (r.status === 0) {
    process.stdout.write(`prepare: ${label} (${Date.now() - started} ms)\n`);
    return true;
  }
  const why = `${r.stderr || r.stdout || r.error || ''}`.trim().split('\n').slice(-3).join(' / ');
  process.stderr.write(`prepare: ${label} failed; the first run will build it instead (${why})\n`);
  return false;
}

/**
 * The node flags `npm run <name>` starts its launcher with (package.json: `node <flags> <file>`):
 * V8's code cache is kept per set of flags (tools/bundle.cjs), so warming it with other flags
 * would leave the first real run cold.
 */
function nodeFlags(name) {
  const script = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts[name] ?? '';
  const words = script.split(/\s+/).filter(Boolean);
  return words[0] === 'node' ? words.slice(1).filter((w) => w.startsWith('--')) : [];
}

if (!fs.existsSync(path.join(ROOT, 'node_modules', 'esbuild'))) {
  // `npm ci --omit=...` or an install still in progress: nothing to warm with.
  process.stdout.write('prepare: skipped (dependencies not installed)\n');
} else {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bookedbarber-prepare-'));
  try {
    const tree = path.join(out, 'dist');
    if (run('synth bundle, code cache and validators warmed', [...nodeFlags('synth'), path.join(ROOT, 'tools', 'synth', 'launch.cjs'), '--out', tree])) {
      run('diff bundle built', [path.join(ROOT, 'tools', 'diff', 'launch.cjs'), '--from', tree, '--to', tree]);
      run('validate bundle built', [path.join(ROOT, 'tools', 'validate', 'launch.cjs'), '--wiring', 'charts/wiring/connections.ts', tree]);
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}
