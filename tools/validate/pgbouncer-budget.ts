/**
 * Rule `pgbouncer-server-budget`: the PgBouncer pods in front of a Postgres server can never open
 * more server connections than that server admits. Under load each PgBouncer pod fills its pool up
 * to `max_db_connections` for each database (`pool_size`/`default_pool_size` plus
 * `reserve_pool_size` when that is 0); Postgres admits `max_connections` minus
 * `superuser_reserved_connections` (and `reserved_connections`) to ordinary roles and refuses the
 * rest ("FATAL: sorry, too many clients already"): a booking fails at the busiest hour, every hour
 * that is busy enough.
 *
 * Counted: at least one user's pool per database and pod, up to max_db_connections; every PgBouncer workload of the region (a pod template mounting a ConfigMap key
 * `pgbouncer.ini`) whose `[databases]` point at one Service, with its pods as a rolling update can
 * run them: the HPA's maxReplicas (else spec.replicas) plus maxSurge, plus one still stopping (the
 * Deployment controller does not count terminating pods, which hold their connections until they
 * close). Admitted: the smallest max_connections the server's files set (postgresql.conf,
 * Patroni's patroni.yml), minus the reserved slots. Other clients of the server (Patroni,
 * exporters, backups) come on top: this is the bound PgBouncer alone must keep.
 */
import { type Context, specOf } from './context';
import { mountedFiles, parsedYaml } from './mounted-files';
import { mapSelectorMatches } from './selectors';
import { Entry, finding, isKind, isRecord, nameOf, namespaceOf, RawFinding } from './types';
import { parseServiceHost } from './wiring/walk';

const RULE = 'pgbouncer-server-budget';
const INI_KEY = /(^|\/)pgbouncer\.ini$/;

interface Ini {
  readonly settings: Map<string, string>;
  readonly databases: Array<{ readonly name: string; readonly params: Map<string, string> }>;
}

/** pgbouncer.ini: `[section]`, `key = value`, `;` or `#` comments. */
function parseIni(text: string): Ini {
  const settings = new Map<string, string>();
  const databases: Ini['databases'] = [];
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#')) continue;
    const header = /^\[(.+)\]$/.exec(line);
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
      databases.push({ name: key, params });
    }
  }
  return { settings, databases };
}

const int = (v: string | undefined, fallback: number) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : fallback);

/**
 * Server connections one PgBouncer pod holds for a database at least, when busy: one user's pool
 * (pool_size or default_pool_size, + reserve), capped by max_db_connections (PgBouncer's defaults:
 * pool 20, reserve 0, no cap). More users only add pools, up to the cap: a lower bound.
 */
function perPod(ini: Ini, params: Map<string, string>): number {
  const cap = int(params.get('max_db_connections') ?? ini.settings.get('max_db_connections'), 0);
  const pool = int(params.get('pool_size') ?? ini.settings.get('default_pool_size'), 20) + int(params.get('reserve_pool') ?? ini.settings.get('reserve_pool_size'), 0);
  return cap > 0 ? Math.min(cap, pool) : pool;
}

/** Pods of a workload a rolling update can run at once (HPA maxReplicas or replicas, + maxSurge, + one stopping). */
function podsAtOnce(e: Entry, ctx: Context): { pods: number; how: string } {
  const spec = specOf(e.obj);
  const ns = namespaceOf(e.obj) ?? '';
  const hpa = ctx.scope(e).find(ns, 'autoscaling', 'HorizontalPodAutoscaler').find((h) => {
    const ref = specOf(h.obj).scaleTargetRef;
    return isRecord(ref) && ref.kind === e.obj.kind && ref.name === nameOf(e.obj);
  });
  const replicas = hpa && typeof specOf(hpa.obj).maxReplicas === 'number' ? specOf(hpa.obj).maxReplicas as number : typeof spec.replicas === 'number' ? spec.replicas : 1;
  const rolling = isRecord(spec.strategy) && isRecord(spec.strategy.rollingUpdate) ? spec.strategy.rollingUpdate : {};
  const surgeRaw = spec.strategy?.type === 'Recreate' ? 0 : rolling.maxSurge ?? '25%';
  const surge = typeof surgeRaw === 'number' ? surgeRaw : /^\d+%$/.test(String(surgeRaw)) ? Math.ceil((replicas * Number(String(surgeRaw).slice(0, -1))) / 100) : 0;
  return { pods: replicas + surge + 1, how: `${hpa ? `HPA maxReplicas ${replicas}` : `${replicas} replicas`} + maxSurge ${surge} + 1 stopping` };
}

/** What a Postgres server admits to ordinary roles, from the files its pods mount (per Service entry). */
const admittedBy = new WeakMap<Entry, { admits: number; how: string } | null>();

function admitted(service: Entry, ctx: Context): { admits: number; how: string } | undefined {
  if (admittedBy.has(service)) return admittedBy.get(service) ?? undefined;
  const ns = namespaceOf(service.obj) ?? '';
  const selector = isRecord(specOf(service.obj).selector) ? specOf(service.obj).selector as Record<string, unknown> : undefined;
  const annotations = isRecord(service.obj.metadata?.annotations) ? service.obj.metadata.annotations : {};
  const runtime = new Set(String(annotations['bookedbarber.com/runtime-selector-labels'] ?? '').split(',').map((k) => k.trim()));
  const fixed = Object.fromEntries(Object.entries(selector ?? {}).filter(([k]) => !runtime.has(k)));
  const maxima: number[] = [];
  let reserved = 3;
  let reservedPg16 = 0;
  const servers = selector ? ctx.scope(service).workloadsIn(ns).filter((x) => mapSelectorMatches(fixed, x.podLabels)) : [];
  for (const w of servers) {
    for (const file of mountedFiles(w.tpl, ns, ctx, w.entry)) {
      if (/(^|\/)postgresql(\.base)?\.conf$/.test(file.key)) {
        const setting = (name: string) => new RegExp(`^\\s*${name}\\s*=\\s*'?(\\d+)'?`, 'm').exec(file.text)?.[1];
        if (setting('max_connections')) maxima.push(Number(setting('max_connections')));
        if (setting('superuser_reserved_connections')) reserved = Number(setting('superuser_reserved_connections'));
        if (setting('reserved_connections')) reservedPg16 = Number(setting('reserved_connections'));
      } else if (/(^|\/)patroni\.ya?ml$/.test(file.key)) {
        const config = parsedYaml(file.text) as any;
        for (const params of [config?.bootstrap?.dcs?.postgresql?.parameters, config?.postgresql?.parameters]) {
          if (isRecord(params) && Number.isInteger(Number(params.max_connections))) maxima.push(Number(params.max_connections));
        }
      }
    }
  }
  const max = maxima.length ? Math.min(...maxima) : undefined;
  const result = max === undefined ? null : { admits: max - reserved - reservedPg16, how: `max_connections ${max} - ${reserved + reservedPg16} reserved` };
  admittedBy.set(service, result);
  return result ?? undefined;
}

/** A PgBouncer workload: its server connections per pod for each Service its databases name. */
interface Pooler {
  readonly entry: Entry;
  readonly perService: Map<string, { service: Entry; perPod: number }>;
}

const inisByText = new Map<string, Ini>();
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
      if (!INI_KEY.test(file.key)) continue;
      let ini = inisByText.get(file.text);
      if (!ini) inisByText.set(file.text, (ini = parseIni(file.text)));
      for (const db of ini.databases) {
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
