/**
 * Rule `ref-redis-master`: a Redis client that finds its master through Sentinel asks for it by
 * name, and Sentinel knows only the names it monitors. Checked where the names are written:
 *  - a Sentinel configuration (a ConfigMap value with `sentinel monitor <name> ...` lines) names
 *    in every other `sentinel <directive> <name>` line a master it monitors: Sentinel refuses to
 *    start on any other ("No such master with specified name"), and the pod crash-loops;
 *  - a client's `<X>_MASTER_NAME` beside `<X>_SENTINELS` (host:port list) in a ConfigMap, and a
 *    pod's literal `REDIS_MASTER_NAME` env next to its own Sentinel configuration, name a master the
 *    Sentinels behind those hosts monitor: otherwise `SENTINEL get-master-addr-by-name` answers
 *    nil and the client never connects (the sessions tier is down for every API pod);
 *  - a proxy's health check asking the Sentinels for a master by name (haproxy's tcp-check) names
 *    one they monitor: otherwise no backend server is ever up.
 */
import type { Context, Scope } from './context';
import { specOf } from './context';
import { child, item } from './paths';
import { containersOf, podTemplates, PodTemplate } from './pod-templates';
import { podRefs } from './references';
import { mapSelectorMatches } from './selectors';
import { parseServiceHost } from './wiring/walk';
import { asArray, Entry, finding, isKind, isRecord, namespaceOf, RawFinding } from './types';

const MONITOR = /^\s*sentinel\s+monitor\s+(\S+)/gim;
/** Directives that name a master (sentinel.conf of Redis 7; Redis reads them case-insensitively, known-slave is known-replica's old name). */
const NAMED = /^\s*sentinel\s+(down-after-milliseconds|failover-timeout|parallel-syncs|auth-pass|auth-user|notification-script|client-reconfig-script|config-epoch|leader-epoch|known-replica|known-slave|known-sentinel|rename-command|master-reboot-down-after-period)\s+(\S+)/gim;

/** Master names a text monitors. */
function monitored(text: string): string[] {
  return [...text.matchAll(MONITOR)].map((m) => m[1]!);
}

/** `sentinel monitor` lines of a ConfigMap's values, read once per ConfigMap (every pod mounting it asks). */
const monitorsOf = new WeakMap<Entry, Array<{ name: string; quorum: number }>>();
function configMonitors(cm: Entry): Array<{ name: string; quorum: number }> {
  let known = monitorsOf.get(cm);
  if (!known) {
    known = [];
    for (const value of Object.values(isRecord(cm.obj.data) ? cm.obj.data : {})) {
      if (typeof value !== 'string' || !/sentinel/i.test(value)) continue;
      for (const m of value.matchAll(/^\s*sentinel\s+monitor\s+(\S+)(?:\s+\S+\s+\S+\s+([0-9]+))?/gim)) known.push({ name: m[1]!, quorum: m[2] === undefined ? Number.NaN : Number(m[2]) });
    }
    monitorsOf.set(cm, known);
  }
  return known;
}

/** The master names monitored by the Sentinel configurations the pods of `tpl` mount. */
function monitoredBy(scope: Scope, ns: string, tpl: PodTemplate): string[] {
  return mountedMonitors(scope, ns, tpl).map((m) => m.name);
}

/** The `sentinel monitor` lines of the ConfigMaps the pods of `tpl` mount. */
function mountedMonitors(scope: Scope, ns: string, tpl: PodTemplate): Array<{ name: string; quorum: number }> {
  const out: Array<{ name: string; quorum: number }> = [];
  for (const ref of podRefs(tpl)) {
    if (ref.kind !== 'ConfigMap' || typeof ref.name !== 'string') continue;
    const cm = scope.named(ns, '', 'ConfigMap', ref.name);
    if (cm) out.push(...configMonitors(cm));
  }
  return out;
}

/** What the Sentinels behind `hosts` monitor; undefined when none of them is a rendered Service with pods. */
function monitoredBehind(scope: Scope, hosts: string[], clientNs: string): string[] | undefined {
  let found: string[] | undefined;
  for (const host of hosts) {
    const svc = parseServiceHost(host.replace(/:\d+$/, ''), clientNs);
    const service = svc && scope.named(svc.namespace, '', 'Service', svc.name);
    const selector = service ? specOf(service.obj).selector : undefined;
    if (!svc || !isRecord(selector) || Object.keys(selector).length === 0) continue;
    for (const w of scope.workloadsIn(svc.namespace)) {
      if (!mapSelectorMatches(selector, w.podLabels)) continue;
      found = [...(found ?? []), ...monitoredBy(scope, svc.namespace, w.tpl)];
    }
  }
  return found;
}

function checkSentinelConfig(e: Entry): RawFinding[] {
  if (!isKind(e.obj, '', 'ConfigMap') || !isRecord(e.obj.data)) return [];
  const out: RawFinding[] = [];
  for (const [key, value] of Object.entries(e.obj.data)) {
    if (typeof value !== 'string' || !/sentinel\s+monitor/i.test(value)) continue;
    const names = monitored(value);
    if (names.length === 0) continue;
    for (const m of value.matchAll(NAMED)) {
      if (names.includes(m[2]!)) continue;
      out.push(finding(e, child('data', key), 'ref-redis-master', `"sentinel ${m[1]} ${m[2]}" names a master this configuration does not monitor (it monitors ${names.join(', ')}): Sentinel refuses to start ("No such master with specified name")`,
        `use the monitored name${names.length > 1 ? ' it is about' : ` ${names[0]}`}`));
    }
  }
  return out;
}

function checkClientMasterNames(e: Entry, ctx: Context): RawFinding[] {
  if (!isKind(e.obj, '', 'ConfigMap') || !isRecord(e.obj.data)) return [];
  const data = e.obj.data;
  const ns = namespaceOf(e.obj) ?? '';
  const out: RawFinding[] = [];
  for (const [key, value] of Object.entries(data)) {
    const m = /^(.*)_MASTER_NAME$/.exec(key);
    const sentinels = m ? data[`${m[1]}_SENTINELS`] : undefined;
    if (!m || typeof value !== 'string' || typeof sentinels !== 'string') continue;
    const names = monitoredBehind(ctx.scope(e), sentinels.split(',').map((h) => h.trim()).filter(Boolean), ns);
    if (names === undefined || names.includes(value)) continue;
    out.push(finding(e, child('data', key), 'ref-redis-master', `master name "${value}" is not monitored by the Sentinels at ${m[1]}_SENTINELS (${sentinels}), which monitor ${names.length > 0 ? names.join(', ') : 'nothing'}: the client's lookup answers nil and it never connects`,
      names.length === 1 ? `use ${names[0]}` : 'use the name their "sentinel monitor" line gives'));
  }
  return out;
}

/** Whether the pods run Sentinel itself (a container port 26379 or named for it), not only read its configuration. */
function runsSentinel(tpl: PodTemplate): boolean {
  return containersOf(tpl, ['containers']).some((c) => asArray(c.container.ports).some((p) => isRecord(p) && (p.containerPort === 26379 || (typeof p.name === 'string' && p.name.includes('sentinel')))));
}

function checkPodMasterName(e: Entry, ctx: Context): RawFinding[] {
  const out: RawFinding[] = [];
  const replicas = isRecord(e.obj.spec) && typeof e.obj.spec.replicas === 'number' ? e.obj.spec.replicas : undefined;
  for (const tpl of podTemplates(e.obj)) {
    const names = monitoredBy(ctx.scope(e), namespaceOf(e.obj) ?? '', tpl);
    if (names.length === 0) continue;
    // The Sentinels that read this configuration are this workload's pods: fewer of them than the
    // quorum can never agree that the master is down, and no failover ever happens.
    const ns = namespaceOf(e.obj) ?? '';
    for (const { name, quorum } of mountedMonitors(ctx.scope(e), ns, tpl)) {
      if (replicas === undefined || !tpl.longRunning || !(quorum > replicas) || !runsSentinel(tpl)) continue;
      // Every Sentinel of the namespace monitoring this master votes (one StatefulSet per zone is three workloads).
      const sentinels = ctx.scope(e).workloadsIn(ns)
        .filter((w) => w.tpl.longRunning && runsSentinel(w.tpl) && mountedMonitors(ctx.scope(e), ns, w.tpl).some((m) => m.name === name))
        .reduce((n, w) => n + (isRecord(w.entry.obj.spec) && typeof w.entry.obj.spec.replicas === 'number' ? w.entry.obj.spec.replicas : 1), 0);
      if (quorum <= sentinels) continue;
      out.push(finding(e, 'spec.replicas', 'ref-redis-master', `${sentinels} Sentinel pod(s) in ${ns} monitor ${name} with a quorum of ${quorum} ("sentinel monitor ${name} ... ${quorum}"): the quorum is never reached, so ${name}'s master is never failed over`,
        `lower the quorum to a majority of ${sentinels} (${Math.floor(sentinels / 2) + 1}), or run ${quorum} or more Sentinels`));
    }
    for (const ref of containersOf(tpl)) {
      asArray(ref.container.env).forEach((env, i) => {
        if (!isRecord(env) || env.name !== 'REDIS_MASTER_NAME' || typeof env.value !== 'string' || names.includes(env.value)) return;
        out.push(finding(e, `${item(`${ref.path}.env`, i)}.value`, 'ref-redis-master', `REDIS_MASTER_NAME "${env.value}" is not the master its Sentinel configuration monitors (${names.join(', ')}): its scripts ask for and authenticate to a master that does not exist`,
          names.length === 1 ? `use ${names[0]}` : 'use the monitored name'));
      });
    }
  }
  return out;
}

export function checkRedisMasterNames(e: Entry, ctx: Context): RawFinding[] {
  return [...checkSentinelConfig(e), ...checkClientMasterNames(e, ctx), ...checkPodMasterName(e, ctx), ...checkHealthCheckMasterNames(e, ctx)];
}

/** `SENTINEL get-master-addr-by-name <name>` with a literal name (a shell `$3` is not judged). */
const LOOKUP = /SENTINEL\\?\s+get-master-addr-by-name\\?\s+([A-Za-z0-9_.-]+)/i;

/**
 * A proxy's health check that asks Sentinels for a master by name (haproxy's `tcp-check send
 * "SENTINEL get-master-addr-by-name <name>"`, its `server` lines in the same backend being the
 * Sentinel pods): a name they do not monitor answers nil, no server is ever up, and the proxy in
 * front of the tier (the sessions proxy) refuses every client.
 */
function checkHealthCheckMasterNames(e: Entry, ctx: Context): RawFinding[] {
  if (!isKind(e.obj, '', 'ConfigMap') || !isRecord(e.obj.data)) return [];
  const ns = namespaceOf(e.obj) ?? '';
  const out: RawFinding[] = [];
  for (const [key, value] of Object.entries(e.obj.data)) {
    if (typeof value !== 'string' || !/get-master-addr-by-name/i.test(value)) continue;
    // haproxy's sections: a backend's lines until the next section keyword.
    for (const block of value.split(/^\s*(?=(?:backend|listen|frontend|defaults|global|resolvers|peers|ring|userlist|program|cache|http-errors|mailers)\b)/m)) {
      const name = LOOKUP.exec(block)?.[1];
      if (!name) continue;
      // A pod of a headless Service (`pod.svc.ns.svc.cluster.local`) is reached through that Service's pods.
      const hosts = [...block.matchAll(/^\s*server\s+\S+\s+(\S+)/gm)].map((m) => m[1]!.replace(/:\d+$/, '').replace(/^[^.]+\.(?=[^.]+\.[^.]+\.svc\.cluster\.local$)/, ''));
      // Sentinels whose master is configured another way (env, not a mounted file) are not judged.
      const names = monitoredBehind(ctx.scope(e), hosts, ns);
      if (!names?.length || names.includes(name)) continue;
      out.push(finding(e, child('data', key), 'ref-redis-master', `the health check asks for master "${name}", which the Sentinels of its servers (${[...new Set(hosts)].join(', ')}) do not monitor (they monitor ${[...new Set(names)].join(', ') || 'nothing'}): no server is ever up, and the proxy refuses every client`,
        names.length > 0 ? `use ${[...new Set(names)][0]}` : 'use the name their "sentinel monitor" line gives'));
    }
  }
  return out;
}

