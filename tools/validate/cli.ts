/**
 * `npm run validate [-- dir ...]` (default: dist). Prints the report; exit 1 when there is
 * any finding, 0 when clean, 2 on a usage error (e.g. a folder that does not exist).
 *   --no-upstream        skip the upstream schema layer (imports/upstream)
 *   --schema-dir <dir>   read upstream schemas from <dir> instead of the committed imports/upstream
 *                        (same format: what `npm run import` writes)
 *   --wiring <module>    run the wiring check with the connections that module's
 *                        `declaredConnections(plan)` declares for each region of --regions
 *                        (`npm run validate` passes charts/wiring/connections.ts: the validator
 *                        takes the declaration as input and imports no chart itself)
 *   --regions <dir>      region files the declaration is computed from (default: regions)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadPlan } from '../../regions/load';
import { bundledDeclarations, type Declaration } from './declarations';
import { formatReport, validateTree, ValidationReport } from './index';

const USAGE = 'usage: npm run validate -- [--no-upstream] [--schema-dir <dir>] [--wiring <module> [--regions <dir>]] [dir ...]   (default dir: dist)\n';

/** The connections of every region, from the declaration module and the region files. */
function connectionsFrom(modulePath: string, regionsDir: string): (region: string) => ReturnType<Declaration> | undefined {
  const declared = bundledDeclarations.get(path.resolve(modulePath))
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    ?? (require(path.resolve(modulePath)) as { declaredConnections?: Declaration }).declaredConnections;
  if (typeof declared !== 'function') throw new Error(`${modulePath} exports no declaredConnections(plan)`);
  const plans = new Map(loadPlan(regionsDir).regions.map((p) => [p.region.name, p]));
  return (region) => {
    const plan = plans.get(region);
    return plan ? declared(plan) : undefined;
  };
}

function usage(message: string): never {
  process.stderr.write(`validate: ${message}\n${USAGE}`);
  process.exit(2);
}

function main(argv: string[]): number {
  const dirs: string[] = [];
  let schemaDir: string | null | undefined;
  let wiring: string | undefined;
  let regionsDir = 'regions';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--no-upstream') schemaDir = null;
    else if (arg === '--wiring') wiring = argv[++i] ?? usage('--wiring needs a module');
    else if (arg === '--regions') regionsDir = argv[++i] ?? usage('--regions needs a folder');
    else if (arg === '--schema-dir') schemaDir = argv[++i] ?? usage('--schema-dir needs a folder');
    else if (arg === '-h' || arg === '--help') {
      process.stdout.write(USAGE);
      return 0;
    }
    else if (arg.startsWith('-')) usage(`unknown option ${arg}`);
    else dirs.push(arg);
  }
  if (dirs.length === 0) dirs.push('dist');
  for (const dir of dirs) {
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) usage(`${dir} is not a folder (render it first with \`npm run synth\`)`);
  }
  if (schemaDir && (!fs.existsSync(schemaDir) || !fs.statSync(schemaDir).isDirectory())) usage(`--schema-dir ${schemaDir} is not a folder`);
  if (wiring && !fs.existsSync(wiring)) usage(`--wiring ${wiring} does not exist`);
  const connections = wiring ? connectionsFrom(wiring, regionsDir) : undefined;
  const total: ValidationReport = { findings: [], files: 0, objects: 0, notes: [] };
  for (const dir of dirs) {
    const r = validateTree(dir, { schemaDir, connections });
    total.findings.push(...r.findings);
    total.files += r.files;
    total.objects += r.objects;
    for (const n of r.notes) if (!total.notes.includes(n)) total.notes.push(n);
  }
  process.stdout.write(`${formatReport(total)}\n`);
  validated = true;
  return total.findings.length > 0 ? 1 : 0;
}

let validated = false;
/**
 * Read by tools/bundle.cjs at exit (the bundle of tools/validate-bundle.ts): V8's code cache is
 * worth writing only after a run that validated a tree, not after `--help` or a usage error.
 */
export const codeCacheWorthy = (): boolean => validated;

// `npm run validate | head` closes the pipe early: that is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  // The validator could not run (e.g. imports/upstream missing): say why, no stack trace.
  process.stderr.write(`validate: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
}
