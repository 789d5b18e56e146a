#!/usr/bin/env node
/**
 * `npm test`: the typecheck (`tsc --noEmit`, as `npm run typecheck`) and every vitest file, run
 * at the same time: tsc computes while the real-server tests mostly wait. Exits non-zero when
 * either fails; tsc's findings are printed after vitest's report. Arguments go to vitest
 * (`npm test -- test/charts`).
 *
 * The typecheck is incremental: tsc keeps what it learned in node_modules/.cache/tsc/ (never
 * committed; a fresh clone starts without it and takes as long as `npm run typecheck`), and
 * rechecks only what changed since (here about 13 s cold). Even with nothing changed, tsc parses
 * and binds all ~1,000 files again (4 s, 7 s of CPU that the tests want), so when every file it
 * reads is byte for byte what it last passed on (typecheckKey), it is not run at all;
 * `npm run typecheck` always runs it.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

const TSC_CACHE = path.join(root, 'node_modules', '.cache', 'tsc');
/** Where the key of the last passing typecheck is kept. */
const PASSED = path.join(TSC_CACHE, 'npm-test.passed');
/**
 * What tsconfig.json includes, read from its `include` (a file, or a glob under a folder: that folder,
 * with the JSON files beside the sources, which they may import: resolveJsonModule).
 */
const INCLUDED = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.json'), 'utf8')).include;
const SOURCE_ROOTS = INCLUDED.filter((p) => p.includes('*')).map((p) => p.split('/')[0]);
const SOURCE_FILES = INCLUDED.filter((p) => !p.includes('*'));
const SOURCE_FILE = /\.(ts|mts|cts|json)$/;

/** The files under `dir` tsc may read, sorted (no node_modules, no dist). */
function sourceFiles(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') out.push(...sourceFiles(file));
    } else if (SOURCE_FILE.test(entry.name)) out.push(file);
  }
  return out;
}

/**
 * A hash of everything the typecheck's result depends on: every file tsconfig.json includes (and
 * JSON beside them), tsconfig.json itself, the lockfile (the installed types and TypeScript) and
 * TypeScript's own version, by path and bytes.
 */
function typecheckKey() {
  const hash = createHash('sha256');
  const files = [
    'tsconfig.json', 'package-lock.json', ...SOURCE_FILES, path.join('node_modules', 'typescript', 'package.json'),
    ...SOURCE_ROOTS.flatMap((dir) => sourceFiles(path.join(root, dir)).map((file) => path.relative(root, file))),
  ];
  for (const file of files) {
    hash.update(`${file}\0`);
    hash.update(fs.existsSync(path.join(root, file)) ? fs.readFileSync(path.join(root, file)) : 'missing');
    hash.update('\0');
  }
  return hash.digest('hex');
}

let typecheckOutput = '';
let typecheckSkipped = false;
const typecheck = new Promise((resolve) => {
  // Computed before tsc starts: a file changed while it runs gives the next run another key.
  const key = typecheckKey();
  const passed = fs.existsSync(PASSED) ? fs.readFileSync(PASSED, 'utf8').trim() : '';
  if (key === passed) {
    typecheckSkipped = true;
    resolve(0);
    return;
  }
  const child = spawn(bin('tsc'), ['--noEmit', '--incremental', '--tsBuildInfoFile', path.join(TSC_CACHE, 'npm-test.tsbuildinfo')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => (typecheckOutput += d));
  child.stderr.on('data', (d) => (typecheckOutput += d));
  child.on('close', (code, signal) => {
    const status = code ?? (signal ? 1 : 0);
    if (status === 0) {
      fs.mkdirSync(TSC_CACHE, { recursive: true });
      fs.writeFileSync(PASSED, `${key}\n`);
    } else fs.rmSync(PASSED, { force: true });
    resolve(status);
  });
});
const tests = new Promise((resolve) => {
  const child = spawn(bin('vitest'), ['run', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
  child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
});

const [typecheckCode, testsCode] = await Promise.all([typecheck, tests]);
if (typecheckCode !== 0) {
  process.stderr.write(`\nnpm test: the typecheck (tsc --noEmit) failed:\n${typecheckOutput}`);
} else if (typecheckSkipped) {
  process.stdout.write('npm test: typecheck (tsc --noEmit) not run: every file it reads is as when it last passed\n');
} else {
  process.stdout.write('npm test: typecheck (tsc --noEmit) passed\n');
}
process.exit(typecheckCode !== 0 ? typecheckCode : testsCode);
