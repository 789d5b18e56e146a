/**
 * Rule `argocd-destination`: Argo CD syncs only what the Application's AppProject permits. An
 * Application names a rendered AppProject (or `default`), its destination is one of the project's
 * destinations, and, for the region Applications (an ApplicationSet's template, one per list
 * element), every namespace the region folder's objects live in is a permitted destination on
 * that region's cluster. Otherwise Argo CD refuses the sync ("is not permitted in project"): the
 * region stops syncing. Patterns in the project (`*`, globs) match as Argo CD's glob does.
 */
import type { Context } from '../context';
import { specOf } from '../context';
import { asArray, Entry, finding, isKind, isRecord, namespaceOf, RawFinding } from '../types';
import { argoGlob } from './argocd-glob';
import { applicationSpecOf, sourcesOf } from './argocd-spec';

interface Destination { readonly server?: string; readonly name?: string; readonly namespace?: string }

/** Argo CD's glob (`*` any run of characters, `?` one), anchored. */
function glob(pattern: string | undefined, value: string | undefined): boolean {
  if (pattern === undefined || value === undefined) return false;
  let re = globs.get(pattern);
  if (!re) globs.set(pattern, (re = new RegExp(`^${pattern.split('*').map((p) => p.split('?').map((q) => q.replace(/[.+^${}()|[\]\\/]/g, '\\$&')).join('.')).join('.*')}$`)));
  return re.test(value);
}

/** Compiled globs by pattern: a project's few patterns are matched against every namespace of every region. */
const globs = new Map<string, RegExp>();

function permitted(project: Entry, dest: Destination): boolean {
  return asArray(specOf(project.obj).destinations).some((d) => {
    if (!isRecord(d)) return false;
    const cluster = (dest.server !== undefined && glob(d.server as string | undefined, dest.server)) || (dest.name !== undefined && glob(d.name as string | undefined, dest.name));
    return cluster && glob((d.namespace as string | undefined) ?? '*', dest.namespace ?? '');
  });
}

/** The template with one list element's values filled in (`{{.key}}`, goTemplate). */
function fill(text: unknown, element: Record<string, unknown>): string | undefined {
  if (typeof text !== 'string') return undefined;
  return text.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (_, k: string) => String(element[k] ?? ''));
}

/** The AppProjects by name and each region folder's namespaces, found once per run (every Application asks). */
interface Index {
  readonly projects: ReadonlyMap<string, Entry>;
  readonly namespacesOf: ReadonlyMap<string, ReadonlySet<string>>;
}
const indexes = new WeakMap<Context, Index>();
function indexOf(ctx: Context): Index {
  let known = indexes.get(ctx);
  if (known) return known;
  const projects = new Map<string, Entry>();
  const namespacesOf = new Map<string, Set<string>>();
  for (const x of ctx.entries) {
    if (x.region === null) {
      if (isKind(x.obj, 'argoproj.io', 'AppProject') && isRecord(x.obj.metadata) && typeof x.obj.metadata.name === 'string' && !projects.has(x.obj.metadata.name)) projects.set(x.obj.metadata.name, x);
      continue;
    }
    const ns = namespaceOf(x.obj);
    if (!ns) continue;
    let set = namespacesOf.get(x.region);
    if (!set) namespacesOf.set(x.region, (set = new Set()));
    set.add(ns);
  }
  known = { projects, namespacesOf };
  indexes.set(ctx, known);
  return known;
}

export function checkArgoDestinations(e: Entry, ctx: Context): RawFinding[] {
  if (e.region !== null) return [];
  const app = isKind(e.obj, 'argoproj.io', 'Application');
  const set = isKind(e.obj, 'argoproj.io', 'ApplicationSet');
  if (!app && !set) return [];
  const spec = app ? specOf(e.obj) : isRecord(specOf(e.obj).template) ? specOf(specOf(e.obj).template) : {};
  const base = app ? 'spec' : 'spec.template.spec';
  const { projects, namespacesOf } = indexOf(ctx);
  const projectName = typeof spec.project === 'string' ? spec.project : 'default';
  const project = projects.get(projectName);
  if (!project) {
    return projectName === 'default' ? [] : [finding(e, `${base}.project`, 'argocd-destination', `AppProject ${projectName} is not rendered: Argo CD refuses the Application`, 'name a rendered AppProject')];
  }
  const destination = isRecord(spec.destination) ? spec.destination : {};
  const elements: Array<Record<string, unknown>> = app
    ? [{}]
    : asArray(specOf(e.obj).generators).flatMap((g) => (isRecord(g) && isRecord(g.list) ? asArray(g.list.elements).filter(isRecord) : []));
  const out: RawFinding[] = [];
  // One cluster per region: two elements on one server (or cluster name) sync two regions' objects
  // into one cluster, where they fight, and leave the other region's cluster without them.
  for (const key of ['server', 'cluster'] as const) {
    const first = new Map<string, string>();
    for (const element of elements) {
      const value = element[key];
      if (typeof value !== 'string') continue;
      const other = first.get(value);
      if (other !== undefined) {
        out.push(finding(e, 'spec.generators', 'argocd-destination', `elements ${other} and ${String(element.region ?? JSON.stringify(element))} have the same ${key} ${value}: both regions sync into one cluster`, `give ${String(element.region ?? 'the element')} its own cluster (regions/<region>.yaml cluster.${key === 'server' ? 'server' : 'name'})`));
      } else first.set(value, String(element.region ?? JSON.stringify(element)));
    }
  }
  for (const element of elements) {
    const dest: Destination = { server: fill(destination.server, element), name: fill(destination.name, element), namespace: fill(destination.namespace, element) };
    const where = set ? ` (element ${String(element.region ?? JSON.stringify(element))})` : '';
    if (!permitted(project, dest)) {
      out.push(finding(e, `${base}.destination`, 'argocd-destination', `destination ${dest.server ?? dest.name} namespace ${dest.namespace ?? '(none)'}${where} is not a destination of AppProject ${projectName}: Argo CD refuses the sync`, `add it to the AppProject's destinations, or fix the destination`));
      continue;
    }
    // A region Application: every namespace its folder's objects live in must be permitted there.
    const region = typeof element.region === 'string' ? element.region : undefined;
    if (!region) continue;
    for (const ns of [...(namespacesOf.get(region) ?? [])].sort()) {
      if (permitted(project, { ...dest, namespace: ns })) continue;
      out.push(finding(e, `${base}.destination`, 'argocd-destination', `objects of ${region} live in namespace ${ns}, which AppProject ${projectName} does not permit on ${dest.server ?? dest.name}: Argo CD refuses the region's sync`, `add ${ns} on that cluster to the AppProject's destinations`));
    }
  }
  return out;
}

/**
 * A repository URL as Argo CD compares them (util/git NormalizeGitURL): lower case, an scp-like
 * `git@host:org/repo` as `git@host/org/repo`, without `ssh://` and without `.git`. A trailing
 * slash stays.
 */
function normalisedRepo(url: string): string {
  let repo = url.trim().toLowerCase();
  const ssh = repo.startsWith('ssh://') || /^[\w.-]+@[\w.-]+:/.test(repo);
  if (ssh && !repo.startsWith('ssh://')) repo = repo.replace(':', '/');
  repo = repo.replace(/^ssh:\/\//, '');
  return repo.endsWith('.git') ? repo.slice(0, -4) : repo;
}

/**
 * Rule `argocd-source-repo`: every source of an Application (or an ApplicationSet's template) is a
 * repository its AppProject permits (`sourceRepos`, globs as Argo CD matches them, `!` denying).
 * A repoURL it does not permit (a typo in the repository's name) is refused: "application repo ...
 * is not permitted in project", and the Application, for a region set every region's, stops
 * syncing. Not judged: the `default` project (not rendered here) and templated values.
 */
export function checkArgoSourceRepos(e: Entry, ctx: Context): RawFinding[] {
  const application = e.region === null ? applicationSpecOf(e) : undefined;
  if (!application) return [];
  const { spec } = application;
  const project = typeof spec.project === 'string' ? indexOf(ctx).projects.get(spec.project) : undefined;
  if (!project) return [];
  const patterns = asArray(specOf(project.obj).sourceRepos).filter((p): p is string => typeof p === 'string');
  // AppProject.IsSourcePermitted: patterns normalised like the URL, matched as globs with `/` as separator.
  const matches = (pattern: string, url: string) => pattern === '*' || argoGlob(normalisedRepo(pattern), '/').test(url);
  const allows = (repo: string) => {
    const url = normalisedRepo(repo);
    if (patterns.some((p) => p.startsWith('!') && matches(p.slice(1), url))) return false;
    return patterns.some((p) => !p.startsWith('!') && matches(p, url));
  };
  const out: RawFinding[] = [];
  for (const [source, path] of sourcesOf(application)) {
    if (!isRecord(source) || typeof source.repoURL !== 'string' || source.repoURL.includes('{{') || allows(source.repoURL)) continue;
    const allowed = patterns.filter((p) => !p.startsWith('!'));
    out.push(finding(e, `${path}.repoURL`, 'argocd-source-repo', `repository ${source.repoURL} is not one AppProject ${String(spec.project)} permits (sourceRepos: ${allowed.join(', ') || 'none'}): Argo CD refuses the Application, and it stops syncing`,
      allowed.length === 1 && !allowed[0]!.includes('*') ? `did you mean ${allowed[0]}?` : 'name a permitted repository, or add it to the project\'s sourceRepos'));
  }
  return out;
}
