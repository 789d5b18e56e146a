/**
 * Synthetic region folders for the benchmark: N regions made from the shipped region files, each
 * with its own name, zones, rollout wave, cluster, east-west gateway, backup bucket, KMS key and
 * health check, exactly one primary, and one shard per serving region whose franchise ranges tile
 * the global franchise ID space.
 *
 * Disaster recovery is kept as shipped, pair by pair. Every shipped shard names its DR site
 * (`shards[].disasterRecovery.region`): us-east-1 and us-west-2 host each other's, eu-west-1's is
 * the standby-only eu-central-1, ap-southeast-1's the standby-only ap-southeast-2. The generator
 * makes "units" from those: a serving region with its standby DR site (2 regions), or a serving
 * region whose DR site is a serving region pointing back (the us pair, 2 regions). Units are
 * taken round robin, so N synthetic regions have the shipped mix of serving and standby regions,
 * every shard's DR site is a synthetic region of its residency, and every standby region hosts
 * exactly one DR site. N must be even (units are pairs).
 *
 * One thing scales with N: every serving region's API reaches every shard, so each shard's
 * PgBouncer must accept the clients of all N serving regions (regions/capacity.ts). The generator
 * raises `shards[].pgbouncer.maxClientConnectionsPerReplica` to what the invariant asks (never
 * lowers it), within the model's bound; every invariant still holds.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument, type Document } from 'yaml';
import { PGBOUNCER_ADMIN_CLIENTS_PER_POD, shardClientCapacity, shardClientDemand } from '../../regions/capacity';
import { GLOBAL_FILE, regionFiles, VERSIONS_FILE } from '../../regions/load';
import { RegionConfig, type GlobalConfig, type ServingRegionConfig, type ShardConfig } from '../../regions/model';

/**
 * The most regions one valid file set can hold: rolloutWave is unique per region and bounded by
 * the region model (1 to 50 today), so a larger synthetic set cannot pass synth.
 */
export function maxRegionsPerSet(): number {
  return (RegionConfig as unknown as { properties: { rolloutWave: { maximum: number } } }).properties.rolloutWave.maximum;
}

/** a, b, ..., z, aa, ab, ... */
function letters(index: number): string {
  let out = '';
  let n = index;
  do {
    out = String.fromCharCode(97 + (n % 26)) + out;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return out;
}

/** The model's upper bound of shards[].pgbouncer.maxClientConnectionsPerReplica (regions/model.ts). */
const MAX_CLIENT_CONNECTIONS_PER_REPLICA = 50000;

interface Template {
  readonly name: string;
  readonly text: string;
  readonly role: string;
  /** The DR site of the template's one shard (serving templates only). */
  readonly dr?: string;
}

/** Two templates rendered together: `home` homes a shard whose DR site is `site` (and, for a serving pair, back). */
interface Unit {
  readonly home: Template;
  readonly site: Template;
}

function readTemplates(sourceDir: string): Template[] {
  return regionFiles(sourceDir).map((file) => {
    const text = fs.readFileSync(file, 'utf8');
    const config = parseDocument(text).toJS() as { role: string; shards: { disasterRecovery?: { region: string } }[] };
    const name = path.basename(file, '.yaml');
    if (config.role !== 'standby' && config.shards.length !== 1) throw new Error(`template ${name} homes ${config.shards.length} shards; the bench expects 1 per serving region`);
    if (config.role === 'standby' && config.shards.length !== 0) throw new Error(`standby template ${name} homes shards`);
    return { name, text, role: config.role, dr: config.shards[0]?.disasterRecovery?.region };
  });
}

function zonesOf(t: Template): number {
  return (parseDocument(t.text).toJS() as { zones: string[] }).zones.length;
}

/**
 * The units of the shipped regions: each serving region with its DR site, a pair of serving
 * regions that host each other's DR site counted once. The unit holding the primary comes first,
 * so region 0 is the one primary.
 */
function units(templates: readonly Template[]): Unit[] {
  const byName = new Map(templates.map((t) => [t.name, t]));
  const out: Unit[] = [];
  const used = new Set<string>();
  for (const home of templates) {
    if (home.role === 'standby' || used.has(home.name)) continue;
    const site = byName.get(home.dr ?? '');
    if (!site) throw new Error(`template ${home.name}: DR site ${home.dr} has no region file`);
    if (site.role !== 'standby' && site.dr !== home.name) throw new Error(`template ${home.name}: DR site ${site.name} is a serving region whose own DR site is ${site.dr}, not ${home.name}`);
    if (used.has(site.name)) throw new Error(`template ${site.name} hosts more than one DR site`);
    used.add(home.name);
    used.add(site.name);
    out.push({ home, site });
  }
  const unused = templates.filter((t) => !used.has(t.name)).map((t) => t.name);
  if (unused.length > 0) throw new Error(`templates not in any home/DR pair: ${unused.join(', ')}`);
  const isPrimary = (u: Unit) => Number(u.home.role === 'primary' || u.site.role === 'primary');
  return out.sort((a, b) => isPrimary(b) - isPrimary(a));
}

/**
 * Writes `count` regions into `outDir` (plus copies of global.yaml and versions.yaml) and
 * returns their names. Region names keep the `xx-word-N` form of a cloud region id: the
 * template's word gets a letter suffix, from `firstIndex` on (default 0): two sets made with
 * disjoint indices have disjoint names, so their rendered region folders can be put side by side.
 */
export function writeSyntheticRegions(sourceDir: string, outDir: string, count: number, options: { firstIndex?: number } = {}): string[] {
  const offset = options.firstIndex ?? 0;
  if (count < 2 || count % 2 !== 0) throw new Error(`the bench makes regions in home/DR pairs: ${count} is not an even number >= 2`);
  if (count > maxRegionsPerSet()) throw new Error(`${count} regions: the region model allows at most ${maxRegionsPerSet()} (rolloutWave is unique per region, 1 to ${maxRegionsPerSet()})`);
  fs.mkdirSync(outDir, { recursive: true });
  const globalText = fs.readFileSync(path.join(sourceDir, GLOBAL_FILE), 'utf8');
  fs.writeFileSync(path.join(outDir, GLOBAL_FILE), globalText);
  fs.copyFileSync(path.join(sourceDir, VERSIONS_FILE), path.join(outDir, VERSIONS_FILE));
  const global = parseDocument(globalText).toJS() as GlobalConfig;
  const ids = global.franchiseIds;
  const shapes = units(readTemplates(sourceDir));

  // Regions in order: unit u of the round robin is regions 2u (home) and 2u + 1 (DR site).
  const planned = Array.from({ length: count }, (_, i) => {
    const unit = shapes[Math.floor(i / 2) % shapes.length];
    const template = i % 2 === 0 ? unit.home : unit.site;
    const [geo, word, digit] = template.name.split('-');
    return { template, name: `${geo}-${word}${letters(offset + i)}-${digit}` };
  });
  const serving = planned.filter((p) => p.template.role !== 'standby').length;
  const servingConfigs = planned
    .filter((p) => p.template.role !== 'standby')
    .map((p) => ({ ...(parseDocument(p.template.text).toJS() as Pick<ServingRegionConfig, 'autoscaling'>), name: p.name }));
  const demand = shardClientDemand(global, servingConfigs).required;
  const span = ids.last - ids.first + 1;
  let shard = 0;
  const names: string[] = [];
  planned.forEach(({ template, name }, i) => {
    // The template's own name appears in zones, cluster, gateway, bucket and KMS key: rename them all.
    const doc: Document = parseDocument(template.text.split(template.name).join(name));
    if (template.role !== 'standby') {
      doc.set('role', i === 0 ? 'primary' : 'secondary');
      const first = ids.first + Math.floor((span * shard) / serving);
      const last = ids.first + Math.floor((span * (shard + 1)) / serving) - 1;
      doc.setIn(['shards', 0, 'id'], shard + 1);
      doc.setIn(['shards', 0, 'franchises', 'first'], first);
      doc.setIn(['shards', 0, 'franchises', 'last'], last);
      // The partner of the pair: the DR site after a home region, the home region after a serving DR site.
      doc.setIn(['shards', 0, 'disasterRecovery', 'region'], planned[i % 2 === 0 ? i + 1 : i - 1].name);
      // One failure down, in the smaller zone count of the shard's two sites (as the invariant counts).
      const partner = planned[i % 2 === 0 ? i + 1 : i - 1].template;
      const zones = Math.min(zonesOf(template), zonesOf(partner));
      const shardJs = (doc.toJS() as { shards: ShardConfig[] }).shards[0];
      if (shardClientCapacity(shardJs, zones).clients < demand) {
        // Add PgBouncer pods until the pods left one failure down can hold every client within the
        // bound, beside each pod's exporter (one console connection, which max_client_conn counts).
        let replicas = shardJs.pgbouncer.replicas;
        const left = () => shardClientCapacity({ ...shardJs, pgbouncer: { ...shardJs.pgbouncer, replicas } }, zones).podsLeft;
        while (left() * (MAX_CLIENT_CONNECTIONS_PER_REPLICA - PGBOUNCER_ADMIN_CLIENTS_PER_POD) < demand) replicas++;
        doc.setIn(['shards', 0, 'pgbouncer', 'replicas'], replicas);
        doc.setIn(['shards', 0, 'pgbouncer', 'maxClientConnectionsPerReplica'], Math.ceil(demand / left()) + PGBOUNCER_ADMIN_CLIENTS_PER_POD);
      }
      shard++;
    }
    doc.set('rolloutWave', i + 1);
    // VPC blocks are disjoint across regions: one /16 each (10.<n>.0.0/16, up to 128 regions).
    doc.set('vpcCidrs', doc.createNode([`10.${offset + i + 1}.0.0/16`], { flow: true }));
    // Route 53 health checks are one per region: give each synthetic region its own ID.
    if (doc.hasIn(['dns', 'healthCheckId'])) doc.setIn(['dns', 'healthCheckId'], `00000000-0000-4000-8000-${String(offset + i + 1).padStart(12, '0')}`);
    fs.writeFileSync(path.join(outDir, `${name}.yaml`), doc.toString());
    names.push(name);
  });
  return names;
}
