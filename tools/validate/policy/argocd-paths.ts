/**
 * Rule `ref-argocd-path`: the folders of this repository Argo CD syncs exist. A source `path`
 * naming no folder is a ComparisonError: the Application (a region, or an add-on's files) stops
 * syncing, with nothing pruned and nothing said outside Argo CD. Every source of this repository
 * (the repoURL the sources with a `path` share) must read `<prefix>/<folder>`, with the prefix the
 * others use (`dist`) and a folder that is a region of the ApplicationSets' list generators
 * (`{{.region}}` stands for each) or the global folder; an Application labelled with a region
 * syncs that region's folder, never another's.
 */
import * as posix from 'node:path/posix';
import type { Context } from '../context';
import { specOf } from '../context';
import { child, item } from '../paths';
import { closest } from '../suggest';
import { asArray, Entry, finding, isKind, isRecord, RawFinding } from '../types';
import { LABELS } from './label-rules';
import { argoGlob, braceAlternatives } from './argocd-glob';
import { applicationSpecOf, sourcesOf as applicationSources } from './argocd-spec';

interface PathSource {
  readonly entry: Entry;
  readonly path: string;
  readonly field: string;
  readonly repo: string;
}

/** The sources with a `path` of an Application or an ApplicationSet's template. */
function sourcesOf(e: Entry): PathSource[] {
  const app = isKind(e.obj, 'argoproj.io', 'Application');
  const set = isKind(e.obj, 'argoproj.io', 'ApplicationSet');
  if (!app && !set) return [];
  const spec = app ? specOf(e.obj) : isRecord(specOf(e.obj).template) ? specOf(specOf(e.obj).template) : {};
  const base = app ? 'spec' : 'spec.template.spec';
  const out: PathSource[] = [];
  const add = (s: unknown, field: string) => {
    if (isRecord(s) && typeof s.path === 'string' && typeof s.repoURL === 'string') {
      // Argo CD cleans the path (`./dist/x/` is `dist/x`) and compares repository URLs normalised.
      out.push({ entry: e, path: posix.normalize(s.path).replace(/^\.\//, '').replace(/\/+$/, ''), field: child(field, 'path'), repo: normaliseRepo(s.repoURL) });
    }
  };
  add(spec.source, `${base}.source`);
  asArray(spec.sources).forEach((s, i) => add(s, item(`${base}.sources`, i)));
  return out;
}

/** A repository URL as Argo CD compares them: lower case, without `.git` or a trailing slash. */
function normaliseRepo(url: string): string {
  return url.trim().toLowerCase().replace(/\/+$/, '').replace(/\.git$/, '');
}

interface Tree {
  readonly sources: readonly PathSource[];
  readonly repo?: string;
  readonly prefix?: string;
  readonly regions: ReadonlySet<string>;
  readonly globalFolder: string;
}
const treeOf = new WeakMap<Context, Tree>();

const split = (path: string): [string, string] => {
  const trimmed = path.replace(/\/+$/, '');
  const at = trimmed.lastIndexOf('/');
  return at === -1 ? ['', trimmed] : [trimmed.slice(0, at), trimmed.slice(at + 1)];
};

function mostCommon(values: readonly string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
}

function tree(ctx: Context): Tree {
  let known = treeOf.get(ctx);
  if (known) return known;
  const global = ctx.entries.filter((x) => x.region === null);
  const sources = global.flatMap(sourcesOf);
  const regions = new Set<string>();
  for (const e of global) {
    if (!isKind(e.obj, 'argoproj.io', 'ApplicationSet')) continue;
    for (const g of asArray(specOf(e.obj).generators)) {
      if (!isRecord(g) || !isRecord(g.list)) continue;
      for (const el of asArray(g.list.elements)) if (isRecord(el) && typeof el.region === 'string') regions.add(el.region);
    }
  }
  const globalFile = global[0]?.file ?? 'argocd/x.yaml';
  const globalFolder = split(split(globalFile)[0])[1] || 'argocd';
  // This repository: the one the root Application syncs the global folder from; else the most used.
  const root = sources.find((s) => split(s.path)[1] === globalFolder);
  const repo = root?.repo ?? mostCommon(sources.map((s) => s.repo));
  const prefix = mostCommon(sources.filter((s) => s.repo === repo).map((s) => split(s.path)[0]));
  known = { sources, repo, prefix, regions, globalFolder };
  treeOf.set(ctx, known);
  return known;
}

export function checkArgoSourcePaths(e: Entry, ctx: Context): RawFinding[] {
  const own = sourcesOf(e);
  if (own.length === 0 || e.region !== null) return [];
  const t = tree(ctx);
  if (t.regions.size === 0) return [];
  const folders = [...t.regions, t.globalFolder];
  const region = isRecord(e.obj.metadata) && isRecord(e.obj.metadata.labels) ? e.obj.metadata.labels[LABELS.region] : undefined;
  const out: RawFinding[] = [];
  for (const s of own) {
    if (s.repo !== t.repo) continue;
    const [prefix, folder] = split(s.path);
    const expected = `${t.prefix}/${folder}`;
    if (prefix !== t.prefix) {
      out.push(finding(e, s.field, 'ref-argocd-path', `path ${s.path} is outside ${t.prefix}/, where every other source of this repository reads: Argo CD finds no such folder and stops syncing (ComparisonError)`, `did you mean ${expected}?`));
      continue;
    }
    if (folder.includes('{{')) continue; // a generator parameter: the regions checked above
    if (!folders.includes(folder)) {
      const guess = closest(folder, folders);
      out.push(finding(e, s.field, 'ref-argocd-path', `path ${s.path} names no rendered folder (${t.prefix}/<region> for ${[...t.regions].join(', ')}, or ${t.prefix}/${t.globalFolder}): Argo CD stops syncing (ComparisonError)`,
        guess ? `did you mean ${t.prefix}/${guess}?` : 'name a rendered folder'));
    } else if (typeof region === 'string' && t.regions.has(region) && t.regions.has(folder) && folder !== region) {
      out.push(finding(e, s.field, 'ref-argocd-path', `the ${region} Application syncs ${s.path}: another region's objects into ${region}'s cluster`, `use ${t.prefix}/${region}`));
    }
  }
  return out;
}

// ---------------------------------------------------------------- argocd-directory-glob

/**
 * Rule `argocd-directory-glob`: each file a source's `directory.include` or `directory.exclude`
 * names matches a file of the folder it reads. Argo CD applies silently what a glob selects: an
 * include naming no file syncs nothing of it (the StorageClasses of `storage.yaml` never reach the
 * cluster, the PVCs stay Pending), an exclude naming no file excludes nothing (two Applications
 * then manage the same objects, each pruning or overwriting the other's). Each alternative of a
 * `{a,b}` list (expanded: `{a,b}.yaml`) is judged on its own, as Argo CD matches it (a gobwas
 * glob on the path relative to the folder: the file name, without recurse), against the files of
 * every folder in view that the path reads (a `{{.region}}` path: each region's).
 */
export function checkArgoDirectoryGlobs(e: Entry, ctx: Context): RawFinding[] {
  const application = e.region === null ? applicationSpecOf(e) : undefined;
  if (!application) return [];
  const sources = applicationSources(application);
  const t = tree(ctx);
  const out: RawFinding[] = [];
  for (const [source, field] of sources) {
    if (!isRecord(source) || typeof source.path !== 'string' || !isRecord(source.directory)) continue;
    if (normaliseRepo(String(source.repoURL ?? '')) !== t.repo) continue;
    const folder = split(posix.normalize(source.path).replace(/\/+$/, ''))[1];
    const folders = folder.includes('{{') ? [...t.regions] : [folder];
    for (const key of ['include', 'exclude'] as const) {
      const pattern = source.directory[key];
      if (typeof pattern !== 'string' || pattern === '') continue;
      // The files of every folder the source reads that is in view (a folder may lack a file others have).
      const files = [...new Set(folders.flatMap((f) => filesIn(ctx, f, t.globalFolder)))].sort();
      if (files.length === 0) continue;
      for (const alternative of braceAlternatives(pattern)) {
        const test = argoGlob(alternative);
        if (files.some((name) => test.test(name))) continue;
        out.push(finding(e, `${field}.directory.${key}`, 'argocd-directory-glob',
          `${key} ${JSON.stringify(alternative)} matches no file of ${source.path} (${files.join(', ')}): ${key === 'include' ? 'Argo CD syncs nothing of it, silently' : 'it excludes nothing, and another Application syncs the same objects'}`,
          closest(alternative, files) ? `did you mean ${closest(alternative, files)}?` : 'name a file of the folder'));
      }
    }
  }
  return out;
}

const filesOf = new WeakMap<Context, Map<string, string[]>>();

/** Names of the files of a rendered folder in view (a region, or the global one). */
function filesIn(ctx: Context, folder: string, globalFolder: string): string[] {
  let byFolder = filesOf.get(ctx);
  if (!byFolder) {
    byFolder = new Map();
    for (const x of ctx.entries) {
      const key = x.region ?? globalFolder;
      const name = x.file.slice(x.file.lastIndexOf('/') + 1);
      const list = byFolder.get(key) ?? [];
      if (!list.includes(name)) list.push(name);
      byFolder.set(key, list);
    }
    for (const list of byFolder.values()) list.sort();
    filesOf.set(ctx, byFolder);
  }
  return byFolder.get(folder) ?? [];
}
