/**
 * Rule `walg-prefix`, over the whole tree (every region folder in view, not one at a time): where
 * each Postgres cluster's WAL archive and base backups live in object storage (WAL-G's
 * `WALG_S3_PREFIX`, or `WALG_GS_PREFIX` on Google Cloud Storage) and where a standby reads them
 * back.
 *  - Two StatefulSets writing one prefix (two shards, or a shard and its DR site in another region):
 *    their WAL segments and backups interleave under one name (WAL-G keys segments by timeline and
 *    number, and every cluster starts at timeline 1), so a point-in-time restore replays another
 *    cluster's history. The containers of one workload (Spilo and its base-backup sidecar) share
 *    their cluster's prefix, as they must: one of them elsewhere parts the backups from their WAL.
 *  - A standby's `restore_command` (`WALG_S3_PREFIX=... wal-g wal-fetch`, in Patroni's
 *    standby_cluster: the DR site's files and its topology Job) reads a prefix no cluster of
 *    another region writes: a typo, or a cluster of its own region (its home is elsewhere). Once
 *    streaming from the home falls behind, it finds no WAL to catch up with. A prefix no cluster
 *    writes is judged when a workload of another region writing to that bucket is in view
 *    (`npm run validate dist/<region>` sees one region only).
 * Writers are StatefulSets (Spilo): a Job or CronJob naming a prefix may only read it (a restore)
 * or back up the cluster it belongs to, and is not judged. Literal values only (not valueFrom).
 * In a parallel synth each thread sees part of the tree: the main thread runs this over both
 * shares afterwards (ValidateOptions.treeRules).
 */
import { child, item } from '../paths';
import { containersOf, containerTexts, podTemplates } from '../pod-templates';
import { asArray, Entry, isKind, isRecord, nameOf, namespaceOf, pushTo, RawFinding } from '../types';

const RULE = 'walg-prefix';
const VARIABLES = new Set(['WALG_S3_PREFIX', 'WALG_GS_PREFIX']);
/** `WALG_S3_PREFIX=<prefix>` (or GS) in a command line, quoted or not (JSON-escaped quotes end it too). */
const IN_COMMAND = /WALG_(?:S3|GS)_PREFIX=['"]?([^\s"'\\]+)/g;
const MENTION = /WALG_(?:S3|GS)_PREFIX/;

interface Use {
  readonly entry: Entry;
  readonly path: string;
  readonly prefix: string;
  /** The workload (region, kind, namespace, name) whose containers write it, or the object that names it. */
  readonly owner: string;
}

const ownerOf = (e: Entry) => `${e.region ?? ''} ${String(e.obj.kind)} ${namespaceOf(e.obj) ?? ''}/${nameOf(e.obj) ?? ''}`;
/** `s3://bucket` (or gs://) of a prefix. */
const bucketOf = (prefix: string) => prefix.replace(/^([a-z0-9]+:\/\/[^/]+).*$/, '$1');
/** `us-east-1: StatefulSet ns/name`, for messages. */
const where = (u: Use) => u.owner.replace(/^(\S*) /, (_, region: string) => (region ? `${region}: ` : ''));

/** Literal WALG_S3_PREFIX (or GS) values of a StatefulSet's containers: what it writes. */
function writers(e: Entry): Use[] {
  const out: Use[] = [];
  if (!isKind(e.obj, 'apps', 'StatefulSet')) return out;
  for (const tpl of podTemplates(e.obj)) {
    for (const { container, path } of containersOf(tpl, ['initContainers', 'containers'])) {
      asArray(container.env).forEach((env, i) => {
        if (isRecord(env) && VARIABLES.has(String(env.name)) && typeof env.value === 'string' && env.value !== '') {
          out.push({ entry: e, path: `${item(`${path}.env`, i)}.value`, prefix: env.value, owner: ownerOf(e) });
        }
      });
    }
  }
  return out;
}

/**
 * The texts of an object a command line can be in: a ConfigMap's values, and the command, args and
 * env values of a workload's containers (Patroni's restore_command, in a JSON configuration).
 */
function readersOf(e: Entry): Array<{ text: string; path: string }> {
  const out: Array<{ text: string; path: string }> = [];
  const add = (text: unknown, path: string) => {
    if (typeof text === 'string' && text.includes('=')) out.push({ text, path });
  };
  if (e.obj.kind === 'ConfigMap') {
    if (isRecord(e.obj.data)) for (const [k, v] of Object.entries(e.obj.data)) add(v, child('data', k));
    return out;
  }
  for (const t of containerTexts(e.obj)) add(t.text, t.path);
  return out;
}

/** Prefixes named in command lines (Patroni's restore_command). */
function readers(e: Entry): Use[] {
  return readersOf(e).filter((r) => MENTION.test(r.text))
    .flatMap((r) => [...r.text.matchAll(IN_COMMAND)].map((m) => ({ entry: e, path: r.path, prefix: m[1]!, owner: ownerOf(e) })));
}

/** `judged`: the objects findings are reported on; `all`: every object in view (judged ones included). */
export function checkWalgPrefixes(judged: readonly Entry[], all: readonly Entry[]): RawFinding[] {
  // Workloads and ConfigMaps carry it; a ConfigMap only when a value names it (dashboards are megabytes).
  const inView = all.filter((e) => (e.obj.kind === 'ConfigMap'
    ? isRecord(e.obj.data) && Object.values(e.obj.data).some((v) => typeof v === 'string' && MENTION.test(v))
    : podTemplates(e.obj).length > 0));
  const written = inView.flatMap(writers);
  const isJudged = new Set(judged);
  const out: RawFinding[] = [];
  const report = (u: Use, message: string, hint: string) => {
    if (isJudged.has(u.entry)) out.push({ file: u.entry.file, index: u.entry.index, object: u.entry.id, path: u.path, rule: RULE, message, hint });
  };
  const byPrefix = new Map<string, Use[]>();
  const byBucket = new Map<string, Use[]>();
  const firstOf = new Map<string, Use>();
  for (const w of written) {
    pushTo(byPrefix, w.prefix, w);
    pushTo(byBucket, bucketOf(w.prefix), w);
    if (!firstOf.has(w.owner)) firstOf.set(w.owner, w);
  }
  for (const w of written) {
    const first = firstOf.get(w.owner)!;
    if (first.prefix !== w.prefix) {
      report(w, `${where(w)}: this container uses ${w.prefix} and ${first.path} uses ${first.prefix}: the base backups and the WAL they need end up apart, and no restore finds both`,
        `use one prefix in every container of the workload (${first.prefix})`);
      continue;
    }
    const others = [...new Set(byPrefix.get(w.prefix)!.filter((o) => o.owner !== w.owner).map(where))];
    if (others.length > 0) {
      report(w, `${where(w)} archives WAL and base backups to ${w.prefix}, which ${others.join(' and ')} also writes: two clusters' histories under one name, and a point-in-time restore replays the wrong one`,
        'give each Postgres cluster (each shard, and each DR site) a prefix of its own');
    }
  }
  for (const r of inView.flatMap(readers)) {
    const same = byPrefix.get(r.prefix) ?? [];
    // A standby's home is in another region (a DR site of the same data residency).
    if (same.some((w) => w.entry.region !== r.entry.region)) continue;
    const local = [...new Set(same.map(where))];
    const bucket = byBucket.get(bucketOf(r.prefix)) ?? [];
    if (local.length > 0) {
      report(r, `the restore command reads ${r.prefix}, the archive of ${local.join(' and ')} in this same region: a standby must read its home cluster's, in the home region`,
        'name the prefix the home cluster (in its region folder) writes');
    } else if (bucket.some((w) => w.entry.region !== r.entry.region)) {
      const near = [...new Set(bucket.map((w) => w.prefix))].sort();
      report(r, `the restore command reads ${r.prefix}, which no cluster writes (in that bucket: ${near.join(', ')}): once streaming from the home falls behind, the standby finds no WAL to catch up with`,
        'name the prefix the home cluster writes (its WALG_S3_PREFIX or WALG_GS_PREFIX)');
    }
  }
  return out;
}

/** The region of an AWS S3 endpoint (`https://s3.us-east-1.amazonaws.com`, `s3-us-east-1`, dualstack). */
function endpointRegion(endpoint: string): string | undefined {
  return /^(?:https?:\/\/)?s3[.-](?:dualstack\.)?([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com(?:\.cn)?\/?$/.exec(endpoint.trim())?.[1];
}

/**
 * Rule `s3-region`: where a container (or a command line) gives WAL-G both `AWS_REGION` and an
 * S3 `AWS_ENDPOINT`, they name one region. WAL-G signs each request for AWS_REGION; the regional
 * endpoint refuses a signature made for another region, so archiving (or the DR site's
 * wal-fetch) fails on every segment, and pg_wal fills up behind it.
 */
export function checkS3Region(e: Entry): RawFinding[] {
  const out: RawFinding[] = [];
  const judge = (region: string | undefined, endpoint: string | undefined, path: string) => {
    const expected = endpoint ? endpointRegion(endpoint) : undefined;
    if (region === undefined || expected === undefined || region === expected) return;
    out.push({ file: e.file, index: e.index, object: e.id, path, rule: 's3-region',
      message: `AWS_REGION ${region} and AWS_ENDPOINT ${endpoint} (region ${expected}) disagree: S3 refuses requests signed for another region, and every WAL upload or fetch fails`,
      hint: `set AWS_REGION to ${expected}, or point AWS_ENDPOINT at the bucket's region` });
  };
  for (const tpl of podTemplates(e.obj)) {
    for (const { container, path } of containersOf(tpl, ['initContainers', 'containers'])) {
      // The kubelet keeps the last of a repeated variable.
      const all = asArray(container.env).map((x) => (isRecord(x) ? x : {}));
      const last = (name: string) => {
        for (let i = all.length - 1; i >= 0; i--) if (all[i]!.name === name) return i;
        return -1;
      };
      const value = (i: number) => (i >= 0 && typeof all[i]!.value === 'string' ? all[i]!.value as string : undefined);
      const region = last('AWS_REGION');
      if (region >= 0) judge(value(region), value(last('AWS_ENDPOINT')), `${item(`${path}.env`, region)}.value`);
    }
  }
  // Command lines (a restore_command: `WALG_S3_PREFIX=... AWS_REGION=... AWS_ENDPOINT=... wal-g wal-fetch`).
  for (const r of readersOf(e)) {
    if (!r.text.includes('AWS_REGION=')) continue;
    for (const line of r.text.split('\n')) {
      if (!line.includes('AWS_REGION=')) continue;
      judge(/AWS_REGION=['"]?([a-z0-9-]+)/.exec(line)?.[1], /AWS_ENDPOINT=['"]?([^\s"'\\]+)/.exec(line)?.[1], r.path);
    }
  }
  return out;
}
