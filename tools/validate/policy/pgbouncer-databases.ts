/**
 * Rule `ref-pgbouncer-database`, over the whole tree (a region's shard map names the PgBouncers of
 * other regions too): a client configuration's `{"host", "port", "database"}` (a JSON value of a
 * ConfigMap: the API's shard map) names a database the PgBouncer behind that host serves, a name
 * of its pgbouncer.ini `[databases]` (or any name, when it has the `*` fallback). PgBouncer
 * refuses a database it does not list ("no such database") at every connection: the API cannot
 * read or write that shard.
 *
 * The PgBouncer is found as a client would reach it: a cluster name (`name.ns.svc.cluster.local`)
 * is the Service of the client's region, a mesh name of another region (`*.global`) the local
 * Service that region's ServiceEntry for it leads to; then the pods that Service selects, and the
 * pgbouncer.ini they mount. A host that leads to no rendered PgBouncer is not judged.
 */
import { Context } from '../context';
import { specOf } from '../context';
import { child } from '../paths';
import { closest } from '../suggest';
import { mountedFiles } from '../mounted-files';
import { parseIni, PGBOUNCER_INI } from '../pgbouncer-budget';
import { labelSelectorMatches } from '../selectors';
import { exportedServices, serviceKey } from './mesh-exports';
import { Entry, isKind, isRecord, RawFinding } from '../types';

const RULE = 'ref-pgbouncer-database';

interface ClientTarget {
  readonly entry: Entry;
  readonly path: string;
  readonly host: string;
  readonly database: string;
}

/** `{host, database}` pairs anywhere in a JSON document (port beside them: a database address). */
function targets(node: unknown, entry: Entry, path: string, out: ClientTarget[]): void {
  if (Array.isArray(node)) node.forEach((n) => targets(n, entry, path, out));
  else if (isRecord(node)) {
    if (typeof node.host === 'string' && typeof node.database === 'string' && node.port !== undefined) out.push({ entry, path, host: node.host, database: node.database });
    for (const v of Object.values(node)) targets(v, entry, path, out);
  }
}

/** The databases the PgBouncer behind Service `name.ns` of `region` serves, or undefined when no rendered PgBouncer is behind it. */
function served(ctx: Context, region: string, key: string): { names: string[]; fallback: boolean; what: string } | undefined {
  const [name, ns] = [key.slice(0, key.indexOf('.')), key.slice(key.indexOf('.') + 1)];
  const scope = ctx.regionScope(region);
  const service = scope.named(ns, '', 'Service', name);
  const selector = service ? specOf(service.obj).selector : undefined;
  if (!service || !isRecord(selector) || Object.keys(selector).length === 0) return undefined;
  for (const w of scope.workloadsIn(ns)) {
    if (w.entry.region !== region || !labelSelectorMatches({ matchLabels: selector }, w.podLabels)) continue;
    for (const file of mountedFiles(w.tpl, ns, ctx, w.entry)) {
      if (!PGBOUNCER_INI.test(file.key)) continue;
      const ini = parseIni(file.text);
      if (!ini) continue;
      const names = ini.databases.map((d) => d.name);
      return { names: names.filter((n) => n !== '*'), fallback: names.includes('*'), what: `${file.key} of ConfigMap ${String(file.configMap.obj.metadata?.name)} (${region})` };
    }
  }
  return undefined;
}

/**
 * `judged`: the objects findings are reported on; `all`: every object in view (judged ones
 * included); `context`: a Context over `all` when the caller has one (its scopes are reused).
 */
export function checkPgbouncerDatabases(judged: readonly Entry[], all: readonly Entry[], context?: Context): RawFinding[] {
  const clients: ClientTarget[] = [];
  for (const e of judged) {
    if (e.region === null || !isKind(e.obj, '', 'ConfigMap') || !isRecord(e.obj.data)) continue;
    for (const [key, value] of Object.entries(e.obj.data)) {
      if (typeof value !== 'string' || !value.includes('"database"')) continue;
      const text = value.trim();
      if (!text.startsWith('{') && !text.startsWith('[')) continue;
      try {
        targets(JSON.parse(text), e, child('data', key), clients);
      } catch {
        // not JSON: nothing read here
      }
    }
  }
  if (clients.length === 0) return [];
  const ctx = context ?? new Context([...all]);
  const exported = exportedServices(all);
  // Each shard's PgBouncer is named by every serving region's map: looked up once.
  const servers = new Map<string, ReturnType<typeof served>>();
  const servedBy = (region: string, service: string) => {
    const key = `${region} ${service}`;
    if (!servers.has(key)) servers.set(key, served(ctx, region, service));
    return servers.get(key);
  };
  const out: RawFinding[] = [];
  const seen = new Set<string>();
  for (const c of clients) {
    const region = c.entry.region!;
    const local = serviceKey(c.host);
    const behind = local ? [{ region, service: local }] : (exported.get(c.host) ?? []).filter((h) => h.region !== region);
    for (const s of behind) {
      const known = servedBy(s.region, s.service);
      if (!known || known.fallback || known.names.includes(c.database)) continue;
      const id = `${c.entry.file} ${c.entry.index} ${c.path} ${c.host} ${c.database}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const guess = closest(c.database, known.names);
      out.push({ file: c.entry.file, index: c.entry.index, object: c.entry.id, path: c.path, rule: RULE,
        message: `database ${c.database} at ${c.host}: the PgBouncer there serves ${known.names.join(', ') || 'no database'} (${known.what}), and refuses any other name at every connection`,
        hint: guess ? `did you mean ${guess}?` : `name one of ${known.names.join(', ')}, or add ${c.database} to its [databases]` });
    }
  }
  return out;
}
