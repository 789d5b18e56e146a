/**
 * `npm run import`: regenerate imports/ with `cdk8s import` from the pinned CRD URLs listed in
 * cdk8s.yaml. When a local mirror of those files exists (../shared/crds, or $CRD_MIRROR) the
 * file with the same upstream path is used instead of the URL, so the import works offline and
 * yields the same code. Generated files are never edited by hand: rerun this instead.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';

export interface CrdImport {
  /** Output prefix: `cdk8s import` writes imports/<prefix>-<group>.ts. */
  readonly prefix: string;
  /** Pinned upstream URL (raw file at a release commit). */
  readonly url: string;
}

const REPO_ROOT = path.resolve(__dirname, '..');

/** The `prefix:=url` entries of cdk8s.yaml `imports`. */
export function readCrdImports(cdk8sYaml = path.join(REPO_ROOT, 'cdk8s.yaml')): CrdImport[] {
  const config = parse(fs.readFileSync(cdk8sYaml, 'utf8')) as { imports?: string[] };
  return (config.imports ?? []).map((entry) => {
    const match = /^([a-z0-9-]+):=(https:\/\/\S+)$/.exec(entry);
    if (!match) {
      throw new Error(`${cdk8sYaml}: import "${entry}" must be "<prefix>:=<pinned https URL>"`);
    }
    return { prefix: match[1], url: match[2] };
  });
}

/** Default mirror: the pinned copies next to the repository (see ../shared/crds/README.md). */
export function defaultMirror(): string {
  return process.env.CRD_MIRROR ?? path.resolve(REPO_ROOT, '..', 'shared', 'crds');
}

/** Finds the mirrored copy of an upstream file by its file name, or undefined. */
export function mirroredFile(url: string, mirror: string): string | undefined {
  if (!fs.existsSync(mirror)) return undefined;
  const base = path.posix.basename(new URL(url).pathname);
  for (const dir of fs.readdirSync(mirror, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    const candidate = path.join(mirror, dir.name, base);
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Runs `cdk8s import` for every pinned CRD into `outdir` (default imports/). */
export function importCrds(outdir = path.join(REPO_ROOT, 'imports'), mirror = defaultMirror()): void {
  const cli = path.join(REPO_ROOT, 'node_modules', '.bin', 'cdk8s');
  // `cdk8s import` appends what it imported to the cdk8s.yaml of its working directory, so
  // it runs in an empty folder: the committed cdk8s.yaml stays the single list of sources.
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-import-'));
  fs.mkdirSync(outdir, { recursive: true });
  try {
  for (const { prefix, url } of readCrdImports()) {
    const source = mirroredFile(url, mirror) ?? url;
    execFileSync(cli, ['import', `${prefix}:=${source}`, '--language', 'typescript', '--output', path.resolve(outdir), '--no-check-upgrade'], {
      cwd: workdir,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    process.stdout.write(`imported ${prefix} from ${path.relative(REPO_ROOT, source)}\n`);
  }
  } finally {
    fs.rmSync(workdir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  importCrds();
}
