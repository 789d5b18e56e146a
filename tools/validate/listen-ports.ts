/**
 * Rule `listen-port`: the port a program's own configuration file makes it listen on is a port
 * its pod declares. Services, probes and the NetworkPolicies and AuthorizationPolicies of the
 * wiring check all go by the declared containerPort; a file that moved the program elsewhere
 * applies cleanly, and then nothing answers: probes fail, clients are refused.
 * Judged where the program is certain from the file a pod mounts (ConfigMap `items` honoured):
 *  - `pgbouncer.ini`: `listen_port` of `[pgbouncer]` (default 6432);
 *  - `patroni.yml`: the port of `postgresql.listen` (Postgres) and of `restapi.listen` (Patroni's
 *    REST API, which its probes and peers call).
 * A pod that declares no ports at all is not judged (containerPort is informational there).
 */
import type { Context } from './context';
import { mountedFiles, parsedYaml } from './mounted-files';
import { parseIni } from './pgbouncer-budget';
import { at, containersOf, podTemplates } from './pod-templates';
import { asArray, Entry, finding, isRecord, namespaceOf, RawFinding } from './types';

const RULE = 'listen-port';

/** The port of a `host:port` listen address (`*:5432`, `0.0.0.0:8008`, `[::]:5432`). */
function portOf(listen: unknown): number | undefined {
  if (typeof listen !== 'string') return undefined;
  const m = /:(\d+)$/.exec(listen.split(',')[0]!.trim());
  return m ? Number(m[1]) : undefined;
}

export function checkListenPorts(e: Entry, ctx: Context): RawFinding[] {
  const out: RawFinding[] = [];
  const ns = namespaceOf(e.obj) ?? '';
  for (const tpl of podTemplates(e.obj)) {
    const declared = containersOf(tpl, ['containers', 'initContainers']).flatMap(({ container }) => asArray(container.ports).filter(isRecord).map((p) => p.containerPort)).filter((n): n is number => typeof n === 'number');
    if (declared.length === 0) continue;
    const listens: Array<{ port: number; what: string; where: string }> = [];
    for (const file of mountedFiles(tpl, ns, ctx, e)) {
      if (/(^|\/)pgbouncer\.ini$/.test(file.key)) {
        const ini = parseIni(file.text);
        const raw = ini?.settings.get('listen_port');
        if (ini) listens.push({ port: raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : 6432, what: 'PgBouncer (listen_port)', where: `${String(file.configMap.obj.metadata?.name)} ${file.key}` });
      } else if (/(^|\/)patroni\.ya?ml$/.test(file.key)) {
        const config = parsedYaml(file.text);
        if (!isRecord(config)) continue;
        const pg = isRecord(config.postgresql) ? portOf(config.postgresql.listen) : undefined;
        const api = isRecord(config.restapi) ? portOf(config.restapi.listen) : undefined;
        const where = `${String(file.configMap.obj.metadata?.name)} ${file.key}`;
        if (pg !== undefined) listens.push({ port: pg, what: 'Postgres (postgresql.listen)', where });
        if (api !== undefined) listens.push({ port: api, what: 'Patroni\'s REST API (restapi.listen)', where });
      }
    }
    for (const l of listens) {
      if (declared.includes(l.port)) continue;
      out.push(finding(e, at(tpl, 'spec.containers'), RULE,
        `${l.what} listens on ${l.port} (ConfigMap ${l.where}), and the pod declares ${[...new Set(declared)].sort((a, b) => a - b).join(', ')}: Services, probes and policies reach it on those, and nothing answers`,
        `make the file listen on the declared port, or declare ${l.port} (and move the Service, probes and policies with it)`));
    }
  }
  return out;
}
