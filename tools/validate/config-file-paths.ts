/**
 * Rule `ref-config-file`: the files pgbouncer.ini names (auth_file, auth_hba_file and the TLS key,
 * certificate and CA files) must be where the PgBouncer container mounts them. The ini, the
 * Secret and the volume are written in different places of a chart; a folder renamed in one of
 * them applies cleanly, and PgBouncer then cannot open the file: without its auth_file it has no
 * users to check logins against, without a TLS file it cannot set up TLS.
 *
 * Judged over the containers that mount the ini (mounted-files.ts), a finding when none of them
 * can open the file (a sidecar mounting the ini alone need not mount what it names):
 * - a path under one of its mounts must be a file that volume holds: an `items` path of a
 *   ConfigMap or Secret volume (or projected source), a key of a rendered ConfigMap mounted
 *   whole, or a key the rendered ExternalSecret producing a Secret mounted whole writes (a Secret
 *   whose keys this tree does not show is not judged);
 * - a path under none of its mounts is judged only when it lies beside them (under the folder
 *   holding a mount, e.g. /etc/pgbouncer/): elsewhere it may be a file of the image itself
 *   (/etc/ssl/certs/...).
 */
import * as path from 'node:path';
import type { Context } from './context';
import { producedSecretName, writtenKeys } from './external-secrets';
import { mountedFiles, volumeSources } from './mounted-files';
import { parseIni, PGBOUNCER_INI } from './pgbouncer-budget';
import { at, containerLabel, containersOf, podTemplates, textsOfContainer, type PodTemplate } from './pod-templates';
import { child } from './paths';
import { asArray, Entry, finding, isRecord, namespaceOf, RawFinding } from './types';

const RULE = 'ref-config-file';
/** pgbouncer.ini's settings that name a file PgBouncer reads (not logfile/pidfile, which it writes). */
const FILE_SETTINGS = [
  'auth_file', 'auth_hba_file',
  'client_tls_key_file', 'client_tls_cert_file', 'client_tls_ca_file',
  'server_tls_key_file', 'server_tls_cert_file', 'server_tls_ca_file',
];

interface Mount {
  readonly mountPath: string;
  readonly subPath?: string;
  readonly volume: string;
}

/** The files a volume of the template holds, or undefined when this tree cannot tell (a Secret mounted whole, a claim). */
function volumeFiles(tpl: PodTemplate, name: string, ns: string, ctx: Context, e: Entry): Set<string> | undefined {
  const volume = asArray(tpl.spec.volumes).filter(isRecord).find((v) => v.name === name);
  if (!volume) return undefined;
  const sources = volumeSources(volume);
  // A claim, an emptyDir, a downward API or token source: files of their own.
  if (sources.some((s) => s.kind === 'other')) return undefined;
  const files = new Set<string>();
  for (const { kind, source } of sources) {
    const items = asArray(source.items).filter(isRecord);
    if (items.length > 0) {
      for (const i of items) if (typeof i.path === 'string') files.add(i.path);
      continue;
    }
    if (kind === 'secret') {
      // A Secret mounted whole holds the keys the ExternalSecret producing it writes, when that is rendered and its keys can be known.
      const name = String(source.secretName ?? source.name);
      const producer = ctx.scope(e).find(ns, 'external-secrets.io', 'ExternalSecret').find((es) => producedSecretName(es) === name);
      const keys = producer ? writtenKeys(producer) : undefined;
      if (!keys) return undefined;
      for (const key of keys) files.add(key);
      continue;
    }
    const cm = ctx.scope(e).named(ns, '', 'ConfigMap', String(source.name));
    if (!cm) return undefined; // made elsewhere: not ours to judge
    for (const key of Object.keys(isRecord(cm.obj.data) ? cm.obj.data : {})) files.add(key);
    for (const key of Object.keys(isRecord(cm.obj.binaryData) ? cm.obj.binaryData : {})) files.add(key);
  }
  return files;
}

/** What PgBouncer cannot do without the file. */
const consequence = (setting: string) => (setting.startsWith('auth') ? 'it has no users (or no HBA rules) to check logins against, and logins fail' : 'it cannot set up TLS with it');

const under = (file: string, dir: string) => file.startsWith(`${dir.replace(/\/+$/, '')}/`);

export function checkConfigFilePaths(e: Entry, ctx: Context): RawFinding[] {
  const out: RawFinding[] = [];
  const ns = namespaceOf(e.obj) ?? '';
  for (const tpl of podTemplates(e.obj)) {
    for (const file of mountedFiles(tpl, ns, ctx, e)) {
      if (!PGBOUNCER_INI.test(file.key)) continue;
      const ini = parseIni(file.text);
      if (!ini) continue;
      const named = FILE_SETTINGS.map((setting) => ({ setting, value: ini.settings.get(setting) }))
        .filter((s): s is { setting: string; value: string } => typeof s.value === 'string' && s.value.startsWith('/'));
      if (named.length === 0) continue;
      const where = `ConfigMap ${String(file.configMap.obj.metadata?.name)} ${file.key}`;
      // Every container mounting the ini, with its mounts: PgBouncer is one of them, and a sidecar
      // mounting the ini alone (a config reloader) need not mount the files it names.
      const readers = containersOf(tpl, ['containers', 'initContainers']).map(({ container, path: containerPath }) => ({
        name: String(container.name),
        containerPath,
        mounts: asArray(container.volumeMounts).filter(isRecord)
          .map((m): Mount => ({ mountPath: String(m.mountPath), subPath: typeof m.subPath === 'string' && m.subPath !== '' ? m.subPath : undefined, volume: String(m.name) })),
      })).filter((r) => r.mounts.some((m) => m.volume === file.volume));
      for (const { setting, value } of named) {
        const target = path.posix.normalize(value);
        const problems: RawFinding[] = [];
        let found = false;
        for (const { name, containerPath, mounts } of readers) {
          // The deepest mount holding the path decides (a mount inside another hides that part of it).
          const holding = mounts.filter((m) => (m.subPath ? target === m.mountPath : under(target, m.mountPath)))
            .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
          if (!holding) {
            const beside = mounts.filter((m) => path.posix.dirname(m.mountPath) !== '/' && under(target, path.posix.dirname(m.mountPath)));
            if (beside.length === 0) {
              found = true; // maybe the image's own file
              continue;
            }
            problems.push(finding(e, `${containerPath}.volumeMounts`, RULE,
              `${setting} = ${value} (${where}) is in none of the folders container ${name} mounts (${beside.map((m) => m.mountPath).join(', ')}): PgBouncer cannot open it, ${consequence(setting)}`,
              `point ${setting} at a file of one of those mounts, or mount the file at ${path.posix.dirname(value)}`));
            continue;
          }
          const files = volumeFiles(tpl, holding.volume, ns, ctx, e);
          const wanted = holding.subPath ?? target.slice(holding.mountPath.replace(/\/+$/, '').length + 1);
          if (!files || files.has(wanted)) {
            found = true;
            continue;
          }
          problems.push(finding(e, at(tpl, 'spec.volumes'), RULE,
            `${setting} = ${value} (${where}): volume ${holding.volume}, mounted at ${holding.mountPath} in container ${name}, holds ${[...files].sort().join(', ') || 'no file'}, not ${wanted}: PgBouncer cannot open it, ${consequence(setting)}`,
            `add ${wanted} to the volume's items (or the key to its ConfigMap/Secret), or point ${setting} at ${[...files].sort().map((f) => `${holding.mountPath.replace(/\/+$/, '')}/${f}`).join(' or ')}`));
        }
        // A finding only when no container mounting the ini can open the file.
        if (!found) out.push(...problems);
      }
    }
  }
  return out;
}

/** Absolute paths in a command line or an env value (not the path part of a URL, not `//`). */
const PATH_IN_TEXT = /(?:^|[\s'"=:(,])(\/(?:[A-Za-z0-9._-]+\/)*[A-Za-z0-9._-]+)/g;

/**
 * And the files a container is told to read elsewhere: its own command, args and env values (a
 * script it runs: `k6 run /scripts/load-test.js`), and the files it mounts from ConfigMaps (a path
 * a config file names: the shard map's passwordFile).
 * - A path under one of the container's mounts is a file of that volume, when the tree shows the
 *   volume's files (as above).
 * - In its own texts only: a path under none of its mounts whose file name is a file one of its
 *   volumes holds, mounted elsewhere, is a mount or a path moved without the other
 *   (`/scripts/load-test.js` with the script volume at `/scripts/k6`). Other paths may be the
 *   image's own files, and are not judged.
 * The program then fails on the missing file: the Job's pod fails, the container crash-loops, the
 * client has no password.
 */
export function checkCommandFilePaths(e: Entry, ctx: Context): RawFinding[] {
  const out: RawFinding[] = [];
  const ns = namespaceOf(e.obj) ?? '';
  for (const tpl of podTemplates(e.obj)) {
    const mountedTexts = mountedFiles(tpl, ns, ctx, e);
    for (const ref of containersOf(tpl, ['containers', 'initContainers'])) {
      const mounts = asArray(ref.container.volumeMounts).filter(isRecord)
        .map((m): Mount => ({ mountPath: String(m.mountPath), subPath: typeof m.subPath === 'string' && m.subPath !== '' ? m.subPath : undefined, volume: String(m.name) }));
      if (mounts.length === 0) continue;
      const files = new Map<string, Set<string> | undefined>();
      const filesOf = (volume: string) => {
        if (!files.has(volume)) files.set(volume, volumeFiles(tpl, volume, ns, ctx, e));
        return files.get(volume);
      };
      const texts: Array<{ text: string; report: (message: string, hint: string) => RawFinding; own: boolean }> = [
        ...textsOfContainer(ref.container, ref.path).map((t) => ({ text: t.text, own: true, report: (message: string, hint: string) => finding(e, t.path, RULE, message, hint) })),
        // pgbouncer.ini's files are judged by setting above (a finding there, not twice).
        // Only a file naming one of the container's mount paths can name a file under them (the
        // dashboards are megabytes of JSON without one).
        ...mountedTexts.filter((f) => mounts.some((m) => m.volume === f.volume) && !PGBOUNCER_INI.test(f.key) && mounts.some((m) => f.text.includes(m.mountPath))).map((f) => ({
          text: f.text,
          own: false,
          report: (message: string, hint: string) => finding(f.configMap, child('data', f.key), RULE, `${f.key} of ConfigMap ${String(f.configMap.obj.metadata?.name)}, read by ${containerLabel(ref)} of ${String(e.obj.kind)} ${ns}/${String(e.obj.metadata?.name)}: ${message}`, hint),
        })),
      ];
      const seen = new Set<string>();
      for (const t of texts) {
        if (!t.text.includes('/')) continue;
        for (const m of t.text.matchAll(PATH_IN_TEXT)) {
          const target = path.posix.normalize(m[1]!);
          const key = `${t.own} ${t.text.length} ${target}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const holding = mounts.filter((x) => (x.subPath ? target === x.mountPath : under(target, x.mountPath)))
            .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
          if (holding) {
            const held = filesOf(holding.volume);
            const wanted = holding.subPath ?? target.slice(holding.mountPath.replace(/\/+$/, '').length + 1);
            if (!held || held.has(wanted) || [...held].some((f) => f.startsWith(`${wanted}/`))) continue;
            out.push(t.report(
              `${t.own ? `${containerLabel(ref)} names` : 'names'} ${target}, and volume ${holding.volume} mounted at ${holding.mountPath} holds ${[...held].sort().join(', ') || 'no file'}, not ${wanted}: the program finds no such file`,
              `name one of ${[...held].sort().map((f) => `${holding.mountPath.replace(/\/+$/, '')}/${f}`).join(', ')}, or add ${wanted} to the volume`));
            continue;
          }
          if (!t.own) continue;
          const base = path.posix.basename(target);
          const elsewhere = mounts.find((x) => !x.subPath && filesOf(x.volume)?.has(base));
          if (!elsewhere) continue;
          const actual = `${elsewhere.mountPath.replace(/\/+$/, '')}/${base}`;
          out.push(t.report(
            `${containerLabel(ref)} names ${target}, which none of its mounts holds; its volume ${elsewhere.volume} holds ${base}, mounted at ${actual}: the program finds no such file`,
            `name ${actual}, or mount volume ${elsewhere.volume} at ${path.posix.dirname(target)}`));
        }
      }
    }
  }
  return out;
}
