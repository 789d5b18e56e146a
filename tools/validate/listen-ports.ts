/**
 * Rule `listen-port`: the port a program's own configuration file makes it listen on is a port
 * its pod declares. Services, probes and the NetworkPolicies and AuthorizationPolicies of the
 * wiring check all go by the declared containerPort; a file that moved the program elsewhere
 * applies cleanly, and then nothing answers: probes fail, clients are refused.
 * Judged where the program is certain from the file a pod mounts (ConfigMap `items` honoured):
 *  - `pgbouncer.ini`: `listen_port` of `[pgbouncer]` (default 6432);
 *  - `patroni.yml`: the port of `postgresql.listen` (Postgres) and of `restapi.listen` (Patroni's
 *    REST API, which its probes and peers call);
 *  - `redis.conf` and `sentinel.conf`: the last `port` directive (defaults 6379 and 26379; `port 0`,
 *    no TCP at all, is not judged). One ConfigMap often holds both and is mounted by the Redis and
 *    the Sentinel containers alike: each file's port is judged against every port those declare.
 * Judged in the containers that mount the file, when they declare ports (containerPort is
 * informational otherwise); Patroni's PATRONI_POSTGRESQL_LISTEN / PATRONI_RESTAPI_LISTEN env wins
 * over the file, as Patroni reads it; a listen address without a port is Postgres' 5432.
 *
 * And a container's own command line: `--web.listen-address` (Prometheus' exporter toolkit, which
 * postgres_exporter, pgbouncer_exporter, redis_exporter and the other exporters share, as
 * `--web.listen-address=:9127` or two arguments), or its `*_WEB_LISTEN_ADDRESS` env form, names a
 * port the container declares, when it declares any: the exporter's probes, its Service and the
 * scrapes go to the declared one, and a failing probe takes the whole pod (the server beside it
 * too) out of its Services. Likewise the OpenTelemetry SDK's Prometheus exporter
 * (`OTEL_EXPORTER_PROMETHEUS_PORT`): scraped on the declared port, its metrics (the business
 * counters the alerts read) are otherwise never collected.
 */
import type { Context } from './context';
import { mountedFiles, parsedYaml } from './mounted-files';
import { parseIni, PGBOUNCER_INI } from './pgbouncer-budget';
import { item } from './paths';
import { at, containerLabel, containersOf, podTemplates, textsOfContainer } from './pod-templates';
import { asArray, Entry, finding, isRecord, namespaceOf, RawFinding } from './types';

const RULE = 'listen-port';

/** The port of a Patroni listen address (`*:5432`, `0.0.0.0:8008`, `host1,host2:5432`; none: `fallback`). */
function portOf(listen: unknown, fallback?: number): number | undefined {
  if (typeof listen !== 'string') return undefined;
  const m = /:(\d+)\s*$/.exec(listen);
  return m ? Number(m[1]) : fallback;
}

/** The port a redis.conf or sentinel.conf makes the server listen on: its last `port` directive (Redis keeps the last), or `fallback`. */
function redisPort(text: string, fallback: number): number {
  let port = fallback;
  for (const line of text.split('\n')) {
    const m = /^\s*port\s+(\d+)\s*$/i.exec(line);
    if (m) port = Number(m[1]);
  }
  return port;
}

/** Whether a container's env values, args or command name the path it mounts `key` of `volume` at. */
function namesFile(container: Record<string, any>, volume: string, key: string): boolean {
  const paths = asArray(container.volumeMounts).filter(isRecord).filter((m) => m.name === volume && typeof m.mountPath === 'string')
    .map((m) => (typeof m.subPath === 'string' && m.subPath !== '' ? (m.subPath === key ? String(m.mountPath) : undefined) : `${String(m.mountPath).replace(/\/+$/, '')}/${key}`))
    .filter((p): p is string => p !== undefined);
  const texts = textsOfContainer(container, '').map((t) => t.text);
  return paths.some((p) => texts.some((t) => t.includes(p)));
}

/** The last literal value of env `name` among containers (Patroni reads its environment over the file). */
function envOf(containers: Array<Record<string, any>>, name: string): string | undefined {
  let value: string | undefined;
  for (const c of containers) for (const env of asArray(c.env)) if (isRecord(env) && env.name === name && typeof env.value === 'string') value = env.value;
  return value;
}

export function checkListenPorts(e: Entry, ctx: Context): RawFinding[] {
  const out: RawFinding[] = [];
  const ns = namespaceOf(e.obj) ?? '';
  for (const tpl of podTemplates(e.obj)) {
    for (const file of mountedFiles(tpl, ns, ctx, e)) {
      const isIni = PGBOUNCER_INI.test(file.key);
      const redis = /(^|\/)redis\.conf$/.test(file.key) ? 'redis' : /(^|\/)sentinel\.conf$/.test(file.key) ? 'sentinel' : undefined;
      if (!isIni && !redis && !/(^|\/)patroni\.ya?ml$/.test(file.key)) continue;
      // The program runs in a container mounting the file: judged when those declare their ports.
      // redis.conf and sentinel.conf often share a ConfigMap that the Redis and the Sentinel pods
      // both mount: there, only the containers naming the file's path (in env, args or command:
      // the file they start from) run that program.
      const containers = containersOf(tpl, ['containers', 'initContainers']).map((c) => c.container)
        .filter((c) => asArray(c.volumeMounts).some((m) => isRecord(m) && m.name === file.volume))
        .filter((c) => !redis || namesFile(c, file.volume, file.key));
      const declared = containers.flatMap((c) => asArray(c.ports).filter(isRecord).map((p) => p.containerPort)).filter((n): n is number => typeof n === 'number');
      if (declared.length === 0) continue;
      const where = `${String(file.configMap.obj.metadata?.name)} ${file.key}`;
      const listens: Array<{ port: number; what: string }> = [];
      if (redis) {
        const port = redisPort(file.text, redis === 'redis' ? 6379 : 26379);
        if (port !== 0) listens.push({ port, what: redis === 'redis' ? 'Redis (redis.conf port)' : 'Sentinel (sentinel.conf port)' });
      } else if (isIni) {
        const ini = parseIni(file.text);
        const raw = ini?.settings.get('listen_port');
        if (ini) listens.push({ port: raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : 6432, what: 'PgBouncer (listen_port)' });
      } else {
        const config = parsedYaml(file.text);
        if (!isRecord(config)) continue;
        const pg = portOf(envOf(containers, 'PATRONI_POSTGRESQL_LISTEN') ?? (isRecord(config.postgresql) ? config.postgresql.listen : undefined), 5432);
        const api = portOf(envOf(containers, 'PATRONI_RESTAPI_LISTEN') ?? (isRecord(config.restapi) ? config.restapi.listen : undefined));
        if (pg !== undefined) listens.push({ port: pg, what: 'Postgres (postgresql.listen)' });
        if (api !== undefined) listens.push({ port: api, what: 'Patroni\'s REST API (restapi.listen)' });
      }
      for (const l of listens) {
        if (declared.includes(l.port)) continue;
        out.push(finding(e, at(tpl, 'spec.containers'), RULE,
          `${l.what} listens on ${l.port} (ConfigMap ${where}), and the containers that mount it declare ${[...new Set(declared)].sort((a, b) => a - b).join(', ')}: Services, probes and policies reach it on those, and nothing answers`,
          `make the file listen on the declared port, or declare ${l.port} (and move the Service, probes and policies with it)`));
      }
    }
    for (const ref of containersOf(tpl, ['containers', 'initContainers'])) {
      const declared = asArray(ref.container.ports).filter(isRecord).map((p) => p.containerPort).filter((n): n is number => typeof n === 'number');
      if (declared.length === 0) continue;
      for (const flag of listenFlags(ref.container, ref.path)) {
        if (flag.ports.some((p) => declared.includes(p))) continue;
        const ports = [...new Set(flag.ports)].join(', ');
        out.push(finding(e, flag.path, RULE,
          `${containerLabel(ref)} listens on ${ports} (${flag.what}), and declares ${[...new Set(declared)].sort((a, b) => a - b).join(', ')}: ${flag.metricsOnly ? 'the scrapes go to the declared port and find nothing there, so its metrics are never collected' : 'its probes, Service and scrapes go there, and nothing answers (a failing probe takes the whole pod out of its Services)'}`,
          `listen on the declared port (${declared[0]}), or declare ${ports} and move the probes, Service and scrape with it`));
      }
    }
  }
  return out;
}

/** The port of a `host:port` listen address (`:9127`, `0.0.0.0:9127`, `[::]:9127`). */
const addressPort = (address: string) => {
  const m = /:(\d+)$/.exec(address.trim());
  return m ? Number(m[1]) : undefined;
};

/**
 * The ports a container's command line or env make an exporter listen on: `--web.listen-address`
 * (or `-web.listen-address`, as Go's flag package also reads it; with `=` or as two arguments), and
 * env `<PREFIX>_WEB_LISTEN_ADDRESS` when no flag is given. The exporter toolkit takes the flag more than once and listens
 * on every address given, so the command line is one finding at most: when none of its ports is
 * declared (reported at the last).
 */
function listenFlags(container: Record<string, any>, path: string): Array<{ ports: number[]; path: string; what: string; metricsOnly?: boolean }> {
  const out: Array<{ ports: number[]; path: string; what: string; metricsOnly?: boolean }> = [];
  const argv = [...asArray(container.command).map((v, i) => ({ v, path: item(`${path}.command`, i) })), ...asArray(container.args).map((v, i) => ({ v, path: item(`${path}.args`, i) }))];
  const given: Array<{ port: number; path: string; what: string }> = [];
  argv.forEach(({ v, path: at }, i) => {
    if (typeof v !== 'string') return;
    const m = /^--?web\.listen-address(?:=(.*))?$/.exec(v);
    if (!m) return;
    const value = m[1] ?? (typeof argv[i + 1]?.v === 'string' ? String(argv[i + 1]!.v) : undefined);
    const port = value === undefined ? undefined : addressPort(value);
    if (port !== undefined) given.push({ port, path: at, what: `web.listen-address ${value}` });
  });
  const last = given[given.length - 1];
  if (last) return [{ ports: given.map((g) => g.port), path: last.path, what: given.map((g) => g.what).join(', ') }];
  // The env form only counts without the flag (a flag given wins over its variable); and the
  // OpenTelemetry SDK's Prometheus exporter port (OTEL_EXPORTER_PROMETHEUS_PORT, a bare number).
  asArray(container.env).forEach((v, i) => {
    if (!isRecord(v) || typeof v.name !== 'string' || typeof v.value !== 'string') return;
    const port = v.name.endsWith('_WEB_LISTEN_ADDRESS') ? addressPort(v.value) : v.name === 'OTEL_EXPORTER_PROMETHEUS_PORT' && /^\d+$/.test(v.value) ? Number(v.value) : undefined;
    if (port !== undefined) out.push({ ports: [port], path: `${item(`${path}.env`, i)}.value`, what: `${v.name} ${v.value}`, metricsOnly: v.name === 'OTEL_EXPORTER_PROMETHEUS_PORT' });
  });
  return out;
}
