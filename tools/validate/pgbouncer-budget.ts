/**
 * Rule `pgbouncer-server-budget`: the PgBouncer pods in front of a Postgres server can never open
 * more server connections than that server admits. Under load each PgBouncer pod fills its pool up
 * to `max_db_connections` for each database; Postgres admits `max_connections` minus
 * `superuser_reserved_connections` (and `reserved_connections`) to ordinary roles and refuses the
 * rest ("FATAL: sorry, too many clients already"): a booking fails at the busiest hour, every hour
 * that is busy enough.
 *
 * Counted, per pod and database: at least one user's pool (`pool_size` or `default_pool_size`, +
 * `reserve_pool_size`), capped by `max_db_connections` (a database's own 0 means the global one;
 * the global 0, no cap); every PgBouncer workload of the namespace (a pod template mounting a
 * `pgbouncer.ini`) whose `[databases]` name the Service; its pods as a rolling update can run them:
 * the HPA's maxReplicas (else spec.replicas), plus maxSurge and one still stopping for a
 * Deployment's RollingUpdate (the controller does not count terminating pods, which hold their
 * connections until they close); a StatefulSet or a Recreate Deployment replaces a pod after the
 * old one is gone. An ini with `%include` is not judged (the included file is not in view).
 * Admitted: where the server's pods mount a patroni.yml, the max_connections of its
 * bootstrap.dcs parameters (Patroni passes the cluster-wide value on the command line; default
 * 100), else its postgresql.conf's (last occurrence, default 100); reserved slots likewise.
 * Other clients of the server (Patroni, exporters, backups) and the minutes after a failover (the
 * promoted replica keeps its read-only pools a while) come on top: this is the bound PgBouncer
 * alone must keep. The config's own check (regions/invariants.ts) keeps
 * postgres.reservedConnections of headroom for those; a hand edit of dist/ is judged here.
 */
import { type Context, specOf } from './context';
import { mountedFiles, parsedYaml } from './mounted-files';
import { templateSelector } from './references';
import { mapSelectorMatches } from './selectors';
import { Entry, finding, isKind, isRecord, nameOf, namespaceOf, RawFinding } from './types';
import { parseServiceHost } from './wiring/walk';

const RULE = 'pgbouncer-server-budget';
/** A ConfigMap key holding PgBouncer's configuration (the rules reading pgbouncer.ini share it). */
export const PGBOUNCER_INI = /(^|\/)pgbouncer\.ini$/;

export interface Ini {
  readonly settings: Map<string, string>;
  readonly databases: Array<{ readonly name: string; readonly params: Map<string, string> }>;
}

/** pgbouncer.ini: `[section]`, `key = value`, `;` or `#` comments; undefined with `%include`. */
export function parseIni(text: string): Ini | undefined {
  const settings = new Map<string, string>();
  const databases = new Map<string, Map<string, string>>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#')) continue;
    if (line.startsWith('%include')) return undefined;
    const header = /^\[([^\]]+)\]\s*([;#].*)?$/.exec(line);
    if (header) {
      section = header[1]!.trim().toLowerCase();
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (section === 'pgbouncer') settings.set(key.toLowerCase(), value);
    else if (section === 'databases') {
      const params = new Map<string, string>();
      for (const m of value.matchAll(/(\w+)\s*=\s*('(?:[^']|'')*'|\S+)/g)) params.set(m[1]!.toLowerCase(), m[2]!.replace(/^'|'$/g, ''));
      databases.set(key, params); // a name given twice: PgBouncer keeps the last
    }
  }
  return { settings, databases: [...databases].map(([name, params]) => ({ name, params })) };
}

const int = (v: string | undefined, fallback: number) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : fallback);

/**
 * Server connections one PgBouncer pod holds for a database at least, when busy: one user's pool
 * (pool_size or default_pool_size, + reserve), capped by max_db_connections (PgBouncer's defaults:
 * pool 20, reserve 0, no cap). More users only add pools, up to the cap: a lower bound.
 */
function perPod(ini: Ini, params: Map<string, string>): number {
  const own = int(params.get('max_db_connections'), 0);
  const cap = own > 0 ? own : int(ini.settings.get('max_db_connections'), 0);
  // reserve_pool_size per database since PgBouncer 1.24 (reserve_pool before, still read).
  const reserve = params.get('reserve_pool_size') ?? params.get('reserve_pool') ?? ini.settings.get('reserve_pool_size');
  const pool = int(params.get('pool_size') ?? ini.settings.get('default_pool_size'), 20) + int(reserve, 0);
  return cap > 0 ? Math.min(cap, pool) : pool;
}

/** Pods of a workload a rolling update can run at once (see the rule's comment). */
function podsAtOnce(e: Entry, ctx: Context): { pods: number; how: string } {
  const spec = specOf(e.obj);
  const ns = namespaceOf(e.obj) ?? '';
  const hpa = ctx.scope(e).find(ns, 'autoscaling', 'HorizontalPodAutoscaler').find((h) => {
    const ref = specOf(h.obj).scaleTargetRef;
    return isRecord(ref) && ref.kind === e.obj.kind && ref.name === nameOf(e.obj);
  });
  const replicas = hpa && typeof specOf(hpa.obj).maxReplicas === 'number' ? specOf(hpa.obj).maxReplicas as number : typeof spec.replicas === 'number' ? spec.replicas : 1;
  const counted = hpa ? `HPA maxReplicas ${replicas}` : `${replicas} replicas`;
  if (!isKind(e.obj, 'apps', 'Deployment') || (isRecord(spec.strategy) && spec.strategy.type === 'Recreate')) return { pods: replicas, how: counted };
  const rolling = isRecord(spec.strategy) && isRecord(spec.strategy.rollingUpdate) ? spec.strategy.rollingUpdate : {};
  const surgeRaw = rolling.maxSurge ?? '25%';
  const surge = typeof surgeRaw === 'number' ? surgeRaw : /^\d+%$/.test(String(surgeRaw)) ? Math.ceil((replicas * Number(String(surgeRaw).slice(0, -1))) / 100) : 0;
  return { pods: replicas + surge + 1, how: `${counted} + maxSurge ${surge} + 1 stopping` };
}

/** What a Postgres server admits to ordinary roles, from the files its pods mount (per Service entry). */
const admittedBy = new WeakMap<Entry, { admits: number; how: string } | null>();

function admitted(service: Entry, ctx: Context): { admits: number; how: string } | undefined {
  if (admittedBy.has(service)) return admittedBy.get(service) ?? undefined;
  const ns = namespaceOf(service.obj) ?? '';
  const selector = isRecord(specOf(service.obj).selector) ? specOf(service.obj).selector : undefined;
  const fixed = templateSelector(service);
  // Patroni's cluster-wide parameters (on the command line) win over its local ones and custom_conf.
  let fromPatroni: Record<string, unknown> | undefined;
  let fromConf: Record<string, number> | undefined;
  const servers = selector ? ctx.scope(service).workloadsIn(ns).filter((x) => mapSelectorMatches(fixed, x.podLabels)) : [];
  for (const w of servers) {
    for (const file of mountedFiles(w.tpl, ns, ctx, w.entry)) {
      if (/(^|\/)patroni\.ya?ml$/.test(file.key)) {
        const config = parsedYaml(file.text) as any;
        const dcs = config?.bootstrap?.dcs?.postgresql?.parameters;
        fromPatroni ??= { ...(isRecord(config?.postgresql?.parameters) ? config.postgresql.parameters : {}), ...(isRecord(dcs) ? dcs : {}) };
      } else if (/(^|\/)postgresql(\.base)?\.conf$/.test(file.key)) {
        fromConf ??= Object.fromEntries([...file.text.matchAll(/^\s*(\w+)\s*=\s*'?(\d+)'?/gm)].map((m) => [m[1]!, Number(m[2])]));
      }
    }
  }
  const value = (name: string, fallback: number) => {
    const p = fromPatroni?.[name];
    if (p !== undefined && Number.isInteger(Number(p))) return Number(p);
    return fromConf?.[name] ?? fallback; // the last line of a conf wins, as in Postgres
  };
  const result = !fromPatroni && !fromConf ? null : (() => {
    const max = fromPatroni ? (Number.isInteger(Number(fromPatroni.max_connections)) ? Number(fromPatroni.max_connections) : 100) : value('max_connections', 100);
    const reserved = value('superuser_reserved_connections', 3) + value('reserved_connections', 0);
    return { admits: max - reserved, how: `max_connections ${max}${fromPatroni ? ' (Patroni)' : ''} - ${reserved} reserved` };
  })();
  admittedBy.set(service, result);
  return result ?? undefined;
}

/** A PgBouncer workload: its server connections per pod for each Service its databases name. */
interface Pooler {
  readonly entry: Entry;
  readonly perService: Map<string, { service: Entry; perPod: number }>;
}

const inisByText = new Map<string, Ini | undefined>();
const poolersByScope = new WeakMap<object, Map<string, Pooler[]>>();

/** The PgBouncer workloads of a namespace (a pod template mounting a pgbouncer.ini), once per scope. */
function poolersIn(ns: string, ctx: Context, e: Entry): Pooler[] {
  const scope = ctx.scope(e);
  let byNs = poolersByScope.get(scope);
  if (!byNs) poolersByScope.set(scope, (byNs = new Map()));
  let list = byNs.get(ns);
  if (list) return list;
  list = [];
  for (const w of scope.workloadsIn(ns)) {
    if (!isKind(w.entry.obj, 'apps', 'Deployment') && !isKind(w.entry.obj, 'apps', 'StatefulSet')) continue;
    const perService = new Map<string, { service: Entry; perPod: number }>();
    for (const file of mountedFiles(w.tpl, ns, ctx, w.entry)) {
      if (!PGBOUNCER_INI.test(file.key)) continue;
      if (!inisByText.has(file.text)) inisByText.set(file.text, parseIni(file.text));
      const ini = inisByText.get(file.text);
      if (!ini) continue;
      for (const db of ini.databases) {
        if (db.params.get('host')?.includes(',')) continue; // several hosts: PgBouncer spreads over them
        const target = db.params.get('host') ? parseServiceHost(db.params.get('host')!, ns) : undefined;
        const service = target ? scope.named(target.namespace, '', 'Service', target.name) : undefined;
        if (!service) continue;
        const key = `${target!.namespace}/${target!.name}`;
        perService.set(key, { service, perPod: (perService.get(key)?.perPod ?? 0) + perPod(ini, db.params) });
      }
    }
    if (perService.size > 0) list.push({ entry: w.entry, perService });
  }
  byNs.set(ns, list);
  return list;
}

export function checkPgbouncerBudget(e: Entry, ctx: Context): RawFinding[] {
  if (!isKind(e.obj, 'apps', 'Deployment') && !isKind(e.obj, 'apps', 'StatefulSet')) return [];
  const ns = namespaceOf(e.obj) ?? '';
  const poolers = poolersIn(ns, ctx, e);
  const me = poolers.find((p) => p.entry === e);
  if (!me) return [];
  const out: RawFinding[] = [];
  const mePods = podsAtOnce(e, ctx);
  for (const [key, { service, perPod: own }] of me.perService) {
    const server = admitted(service, ctx);
    if (!server) continue;
    let total = mePods.pods * own;
    const others: string[] = [];
    for (const other of poolers) {
      const theirs = other.entry === e ? undefined : other.perService.get(key);
      if (!theirs) continue;
      const p = podsAtOnce(other.entry, ctx);
      total += p.pods * theirs.perPod;
      others.push(`${nameOf(other.entry.obj)} ${p.pods} × ${theirs.perPod}`);
    }
    if (total <= server.admits) continue;
    out.push(finding(e, 'spec.replicas', RULE,
      `the PgBouncer pods in front of Service ${key} can open ${total} server connections (${mePods.pods} pods (${mePods.how}) × ${own} per pod${others.length ? `, + ${others.join(', ')}` : ''}), and Postgres admits ${server.admits} (${server.how}): "sorry, too many clients already" at the busiest hour`,
      'lower max_db_connections (or the pool sizes) in pgbouncer.ini, run fewer PgBouncer pods, or give Postgres a higher max_connections'));
  }
  return out;
}
