/**
 * `npm run import`: regenerate what is generated from the pinned upstream files in cdk8s.yaml.
 *
 *  1. imports/upstream/<prefix>.yaml: one committed file per pin (`imports` and
 *     `validatorSchemas` in cdk8s.yaml), the upstream file trimmed to what `cdk8s import` and
 *     the validator read (see renderUpstreamFile). Its header names the source URL and the git
 *     blob sha of the upstream file. The upstream bytes come from the byte-identical local
 *     mirror (../shared/crds, or $CRD_MIRROR) when one is present, else from the URL.
 *  2. imports/*.ts: `cdk8s import` run over the committed imports/upstream files, so imports/
 *     can be regenerated from the repository alone (`npm run import -- --from-repo` skips 1).
 *
 * Generated files are never edited by hand: rerun this instead.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parse, parseAllDocuments, stringify } from 'yaml';

export interface CrdImport {
  /** Output prefix: `cdk8s import` writes imports/<prefix>-<group>.ts; also the upstream file name. */
  readonly prefix: string;
  /** Pinned upstream URL (raw file at a release commit). */
  readonly url: string;
}

export interface UpstreamPin extends CrdImport {
  /** `crds`: a file of CustomResourceDefinitions (cdk8s.yaml `imports`); `k8s-definitions`: Kubernetes OpenAPI v2 definitions. */
  readonly type: 'crds' | 'k8s-definitions';
}

const REPO_ROOT = path.resolve(__dirname, '..');
const CDK8S_YAML = path.join(REPO_ROOT, 'cdk8s.yaml');
export const IMPORTS_DIR = path.join(REPO_ROOT, 'imports');
/** Committed, trimmed copies of the pinned upstream files (what imports/*.ts and the validator read). */
export const UPSTREAM_DIR = path.join(IMPORTS_DIR, 'upstream');

function parsePins(cdk8sYaml: string, key: 'imports' | 'validatorSchemas'): CrdImport[] {
  const config = parse(fs.readFileSync(cdk8sYaml, 'utf8')) as Record<string, string[] | undefined>;
  return (config[key] ?? []).map((entry) => {
    const match = /^([a-z0-9][a-z0-9.-]*):=(https:\/\/\S+)$/.exec(entry);
    if (!match) throw new Error(`${cdk8sYaml}: ${key} entry "${entry}" must be "<prefix>:=<pinned https URL>"`);
    return { prefix: match[1], url: match[2] };
  });
}

/** The `prefix:=url` entries of cdk8s.yaml `imports` (what `cdk8s import` turns into imports/*.ts). */
export function readCrdImports(cdk8sYaml = CDK8S_YAML): CrdImport[] {
  return parsePins(cdk8sYaml, 'imports');
}

/** Every pinned upstream file: the CRD imports, then `validatorSchemas` (Kubernetes definitions). */
export function readUpstreamPins(cdk8sYaml = CDK8S_YAML): UpstreamPin[] {
  const pins: UpstreamPin[] = [
    ...readCrdImports(cdk8sYaml).map((p) => ({ ...p, type: 'crds' as const })),
    ...parsePins(cdk8sYaml, 'validatorSchemas').map((p) => ({ ...p, type: 'k8s-definitions' as const })),
  ];
  const seen = new Set<string>();
  for (const { prefix } of pins) {
    if (seen.has(prefix)) throw new Error(`${cdk8sYaml}: prefix "${prefix}" is used twice`);
    seen.add(prefix);
  }
  return pins;
}

/** The committed file generated from a pin. */
export function upstreamFile(pin: CrdImport, dir = UPSTREAM_DIR): string {
  return path.join(dir, `${pin.prefix}.yaml`);
}

// ------------------------------------------------------------------ upstream bytes

/** Default mirror: the pinned copies next to the repository (see ../shared/crds/README.md). */
export function defaultMirror(): string {
  return process.env.CRD_MIRROR ?? path.resolve(REPO_ROOT, '..', 'shared', 'crds');
}

function listFiles(dir: string, out: string[] = []): string[] {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) listFiles(p, out);
    else out.push(p);
  }
  return out;
}

/**
 * The mirrored copy of an upstream file, or undefined: the file with the URL's file name whose
 * folders match most of the URL's trailing folders (`kubernetes/v1.28.0/_definitions.json`
 * for `.../kubernetes-schemas/v1.28.0/_definitions.json`).
 */
export function mirroredFile(url: string, mirror: string): string | undefined {
  if (!fs.existsSync(mirror)) return undefined;
  const urlParts = new URL(url).pathname.split('/').filter(Boolean).reverse();
  let best: { file: string; score: number } | undefined;
  let tie = false;
  for (const file of listFiles(mirror)) {
    const parts = path.relative(mirror, file).split(path.sep).reverse();
    if (parts[0] !== urlParts[0]) continue;
    let score = 1;
    while (score < parts.length && score < urlParts.length && parts[score] === urlParts[score]) score++;
    if (!best || score > best.score) {
      best = { file, score };
      tie = false;
    } else if (score === best.score) tie = true;
  }
  if (best && tie) throw new Error(`${url}: several files in ${mirror} match equally well; set CRD_MIRROR to an unambiguous mirror`);
  return best?.file;
}

/** `git hash-object`: sha1 of "blob <size>\0" + the bytes. */
export function gitBlobSha(bytes: Buffer): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

/** The upstream bytes of a pin: the mirror's copy when there is one, else downloaded. */
export async function upstreamBytes(pin: CrdImport, mirror = defaultMirror()): Promise<{ bytes: Buffer; from: string }> {
  const local = mirroredFile(pin.url, mirror);
  if (local) return { bytes: fs.readFileSync(local), from: local };
  const offline = `no copy in the mirror ${mirror} (set CRD_MIRROR), so it is downloaded`;
  const res = await fetch(pin.url).catch((err: Error & { cause?: { code?: string } }) => {
    throw new Error(`${pin.url}: ${offline}, and the download failed (${err.cause?.code ?? err.message})`);
  });
  if (!res.ok) throw new Error(`${pin.url}: ${offline}, and the download failed (${res.status} ${res.statusText})`);
  return { bytes: Buffer.from(await res.arrayBuffer()), from: pin.url };
}

// ------------------------------------------------------------------ trimming

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function pick(obj: unknown, keys: readonly string[]): Json {
  const out: Json = {};
  if (!isRecord(obj)) return out;
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}

/**
 * What `cdk8s import` reads (apiVersion, kind, spec.group, names.kind, versions[].name and
 * their openAPIV3Schema, descriptions included: imports/*.ts carry them as doc comments) and
 * what the validator reads (versions[].served/storage); the rest (annotations, labels, printer
 * columns, subresources, conversion) describes the controller, not the schema.
 */
const CRD_SPEC_KEYS = ['group', 'names', 'scope', 'versions', 'version', 'validation', 'preserveUnknownFields'] as const;
const CRD_VERSION_KEYS = ['name', 'served', 'storage', 'deprecated', 'schema'] as const;

export function trimCrd(doc: Json): Json {
  const spec = isRecord(doc.spec) ? doc.spec : {};
  const out: Json = { apiVersion: doc.apiVersion, kind: doc.kind, metadata: pick(doc.metadata, ['name']), spec: pick(spec, CRD_SPEC_KEYS) };
  if (Array.isArray(spec.versions)) (out.spec as Json).versions = spec.versions.map((v) => pick(v, CRD_VERSION_KEYS));
  return out;
}

const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'definitions']);

/** A JSON schema without its `description`s (a property named "description" stays). */
export function withoutDescriptions(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutDescriptions);
  if (!isRecord(schema)) return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'description') continue;
    out[k] = SCHEMA_MAPS.has(k) && isRecord(v)
      ? Object.fromEntries(Object.entries(v).map(([n, s]) => [n, withoutDescriptions(s)]))
      : withoutDescriptions(v);
  }
  return out;
}

const KEPT: Record<UpstreamPin['type'], string> = {
  crds: 'Kept: the CustomResourceDefinitions, each with apiVersion, kind, metadata.name and spec group, names,\n'
    + '# scope and versions (name, served, storage, deprecated, schema, descriptions included); dropped:\n'
    + '# annotations, labels, printer columns, subresources (what `cdk8s import` and the validator do not read).',
  'k8s-definitions': 'Kept: the Kubernetes OpenAPI v2 `definitions` (every schema, for the validator\'s upstream layer) without\n'
    + '# descriptions (nothing is imported from them: cdk8s-plus-28 ships the Kubernetes classes).',
};

const STRINGIFY = { aliasDuplicateObjects: false, lineWidth: 0, indentSeq: false } as const;

/** The committed file for a pin, from the upstream bytes (pure: same bytes, same output). */
export function renderUpstreamFile(pin: UpstreamPin, bytes: Buffer): string {
  const text = bytes.toString('utf8');
  let docs: Json[];
  if (pin.type === 'k8s-definitions') {
    const parsed = JSON.parse(text) as Json;
    if (!isRecord(parsed.definitions)) throw new Error(`${pin.url}: no "definitions" object`);
    docs = [{ definitions: withoutDescriptions(parsed.definitions) }];
  } else {
    docs = [];
    for (const d of parseAllDocuments(text)) {
      if (d.errors.length > 0) throw new Error(`${pin.url}: ${d.errors[0].message}`);
      const obj = d.toJS() as unknown;
      if (isRecord(obj) && obj.kind === 'CustomResourceDefinition') docs.push(trimCrd(obj));
    }
    if (docs.length === 0) throw new Error(`${pin.url}: no CustomResourceDefinition in the file`);
  }
  const header = [
    `# Generated by \`npm run import\` (tools/import-crds.ts) from a pinned upstream file; do not edit.`,
    `# source: ${pin.url}`,
    `# blob: ${gitBlobSha(bytes)}  (git hash-object of the upstream file)`,
    `# ${KEPT[pin.type]}`,
  ].join('\n');
  const body = docs.map((d) => `---\n${stringify(d, STRINGIFY)}`).join('');
  const out = `${header}\n${body}`;
  // The YAML must read back as exactly the data it was written from.
  const back = parseAllDocuments(out).map((d) => d.toJS());
  if (!isDeepStrictEqual(back, docs)) throw new Error(`${pin.url}: the generated YAML does not read back as the same data`);
  return out;
}

/** The `# source:` and `# blob:` of a committed upstream file's header. */
export function readHeader(text: string): { source?: string; blob?: string } {
  return {
    source: /^# source: (\S+)$/m.exec(text)?.[1],
    blob: /^# blob: ([0-9a-f]{40})\b/m.exec(text)?.[1],
  };
}

/**
 * What is wrong with the committed upstream files against the pins (empty: up to date by URL):
 * a pin without its file, a file whose header names another URL, a file no pin generates.
 * (Whether the content matches the upstream bytes needs those bytes: see the mirror test.)
 */
export function staleUpstreamFiles(cdk8sYaml = CDK8S_YAML, dir = UPSTREAM_DIR): string[] {
  const problems: string[] = [];
  const show = (file: string) => path.relative(REPO_ROOT, file);
  const pins = readUpstreamPins(cdk8sYaml);
  for (const pin of pins) {
    const file = upstreamFile(pin, dir);
    if (!fs.existsSync(file)) {
      problems.push(`${show(file)} is missing: run \`npm run import\``);
      continue;
    }
    const { source, blob } = readHeader(fs.readFileSync(file, 'utf8'));
    if (source !== pin.url) problems.push(`${show(file)} was generated from ${source ?? 'an unknown source'}, not ${pin.url}: run \`npm run import\``);
    else if (!blob) problems.push(`${show(file)} has no "# blob:" header line: run \`npm run import\``);
  }
  const wanted = new Set(pins.map((p) => path.basename(upstreamFile(p, dir))));
  if (fs.existsSync(dir)) {
    for (const name of fs.readdirSync(dir).sort()) {
      if (!wanted.has(name)) problems.push(`${show(path.join(dir, name))} is not generated from any pin in cdk8s.yaml: run \`npm run import\` (it removes it)`);
    }
  }
  return problems;
}

/** Writes imports/upstream/ from the pins (mirror or download) and removes files of dropped pins. */
export async function writeUpstreamFiles(dir = UPSTREAM_DIR, mirror = defaultMirror(), log = (_: string) => {}): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const pins = readUpstreamPins();
  const wanted = new Set(pins.map((p) => path.basename(upstreamFile(p, dir))));
  for (const pin of pins) {
    const { bytes, from } = await upstreamBytes(pin, mirror);
    fs.writeFileSync(upstreamFile(pin, dir), renderUpstreamFile(pin, bytes));
    log(`wrote ${path.relative(REPO_ROOT, upstreamFile(pin, dir))} from ${from.startsWith('https:') ? from : path.relative(REPO_ROOT, from)}`);
  }
  for (const name of fs.readdirSync(dir)) {
    if (!wanted.has(name)) {
      fs.rmSync(path.join(dir, name));
      log(`removed ${path.relative(REPO_ROOT, path.join(dir, name))} (no longer pinned)`);
    }
  }
}

/**
 * Compares the committed imports/upstream files with the upstream bytes of every pin (mirror
 * or download): a file must record the blob sha of those bytes and equal what `npm run import`
 * makes of them. Needs the upstream files, so it is a command (`npm run import -- --verify`,
 * run by the GitHub workflow, which can download), not a test: the tests check everything
 * that the repository alone can prove.
 */
export async function verifyUpstreamFiles(cdk8sYaml = CDK8S_YAML, dir = UPSTREAM_DIR, mirror = defaultMirror()): Promise<string[]> {
  const problems = staleUpstreamFiles(cdk8sYaml, dir);
  for (const pin of readUpstreamPins(cdk8sYaml)) {
    const file = upstreamFile(pin, dir);
    if (!fs.existsSync(file)) continue;
    const { bytes, from } = await upstreamBytes(pin, mirror);
    const committed = fs.readFileSync(file, 'utf8');
    const { blob } = readHeader(committed);
    if (blob !== gitBlobSha(bytes)) problems.push(`${path.basename(file)} records blob ${blob}, but ${from} has blob ${gitBlobSha(bytes)}: the pin's file changed, or the copy is from another file; run \`npm run import\``);
    else if (committed !== renderUpstreamFile(pin, bytes)) problems.push(`${path.basename(file)} differs from what \`npm run import\` makes of ${from}: run it and commit the result`);
  }
  return problems;
}

// ------------------------------------------------------------------ cdk8s import

/**
 * Runs `cdk8s import` over the committed upstream files into `outdir` (default imports/): the
 * *.ts it writes replace the old ones, and *.ts no import produces any more are removed.
 *
 * It calls the CLI's own import code (`importDispatch`, what `cdk8s import <spec> --language
 * typescript --no-save` runs) in this process: 18 CLI processes cost ~20 s of CPU, mostly
 * start-up, against ~4 s here. The path is internal to the pinned cdk8s-cli (its package exports
 * none of it); test/imports.test.ts regenerates imports/ this way and compares it byte for byte,
 * so an upgrade that moves it fails loudly.
 */
export async function importCrds(outdir = IMPORTS_DIR, upstreamDir = UPSTREAM_DIR): Promise<string[]> {
  const cli = path.join(REPO_ROOT, 'node_modules', 'cdk8s-cli', 'lib');
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { importDispatch } = require(path.join(cli, 'import', 'dispatch.js')) as {
    importDispatch: (specs: unknown[], argv: object, options: { outdir: string; targetLanguage: string; save: boolean }) => Promise<void>;
  };
  const { parseImports } = require(path.join(cli, 'util.js')) as { parseImports: (spec: string) => unknown };
  /* eslint-enable @typescript-eslint/no-require-imports */
  const specs = readCrdImports().map((pin) => {
    const file = upstreamFile(pin, upstreamDir);
    if (!fs.existsSync(file)) throw new Error(`${file} is missing: run \`npm run import\` (with the mirror or network)`);
    return parseImports(`${pin.prefix}:=${file}`);
  });
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-import-'));
  const generated = path.join(workdir, 'out');
  // The importer narrates on the console ("Importing resources...", each group): not our output.
  const { log, error } = console;
  try {
    console.log = () => undefined;
    console.error = () => undefined;
    try {
      // `--no-save`: the committed cdk8s.yaml stays the list of sources.
      await importDispatch(specs, {}, { outdir: generated, targetLanguage: 'typescript', save: false });
    } finally {
      console.log = log;
      console.error = error;
    }
    const written = fs.readdirSync(generated).filter((n) => n.endsWith('.ts')).sort();
    fs.mkdirSync(outdir, { recursive: true });
    for (const name of fs.readdirSync(outdir)) {
      if (name.endsWith('.ts') && !written.includes(name)) fs.rmSync(path.join(outdir, name));
    }
    for (const name of written) fs.copyFileSync(path.join(generated, name), path.join(outdir, name));
    return written;
  } finally {
    // Also when the import fails: no temp folder left behind.
    fs.rmSync(workdir, { recursive: true, force: true });
  }
}

async function main(argv: string[]): Promise<void> {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  if (argv.includes('--verify')) {
    const problems = await verifyUpstreamFiles();
    if (problems.length > 0) throw new Error(`imports/upstream does not match the pinned upstream files:\n  ${problems.join('\n  ')}`);
    log(`imports/upstream matches all ${readUpstreamPins().length} pinned upstream files`);
    return;
  }
  if (!argv.includes('--from-repo')) await writeUpstreamFiles(UPSTREAM_DIR, defaultMirror(), log);
  for (const name of await importCrds()) log(`generated imports/${name}`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`import: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
