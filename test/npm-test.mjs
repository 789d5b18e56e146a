#!/usr/bin/env node
/**
 * `npm test`: the typecheck (`tsc --noEmit`, as `npm run typecheck`) and every vitest file, run
 * at the same time: tsc computes while the real-server tests mostly wait. Exits non-zero when
 * either fails; tsc's findings are printed after vitest's report. Arguments go to vitest
 * (`npm test -- test/charts`).
 *
 * The typecheck is TypeScript 7 (native) and incremental: tsc keeps what it learned in
 * node_modules/.cache/tsc/ (never committed) and rechecks only what changed since. On the 2-core
 * machine: about 3.5 s wall (7 s of CPU) from a fresh clone, about 1 s (2 s of CPU) after.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

let typecheckOutput = '';
const typecheck = new Promise((resolve) => {
  const buildInfo = path.join(root, 'node_modules', '.cache', 'tsc', 'npm-test.tsbuildinfo');
  const child = spawn(bin('tsc'), ['--noEmit', '--incremental', '--tsBuildInfoFile', buildInfo], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => (typecheckOutput += d));
  child.stderr.on('data', (d) => (typecheckOutput += d));
  child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
});
const tests = new Promise((resolve) => {
  const child = spawn(bin('vitest'), ['run', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
  child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
});

const [typecheckCode, testsCode] = await Promise.all([typecheck, tests]);
if (typecheckCode !== 0) {
  process.stderr.write(`\nnpm test: the typecheck (tsc --noEmit) failed:\n${typecheckOutput}`);
} else {
  process.stdout.write('npm test: typecheck (tsc --noEmit) passed\n');
}
process.exit(typecheckCode !== 0 ? typecheckCode : testsCode);
