/**
 * Regional failover of a Postgres shard: `activeRegion: eu-central-1` on shard 3 (eu-west-1) is
 * the whole promotion (docs/disaster-recovery.md). The rendered tree must then route every
 * region's writes to the DR site, flip the two sites' Patroni roles, open the DR region's
 * east-west gateway to the shard, and still pass validation and the wiring check, which is what
 * `npm run synth` requires before it writes dist/.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declaredConnections } from '../../charts/wiring/connections';
import { definition } from '../../main';
import { loadPlan } from '../../regions/load';
import type { PlatformPlan } from '../../regions/plan';
import { synth } from '../../tools/synth/run';
import type { RenderedFile } from '../../tools/synth/render';
import { validateRendered } from '../../tools/validate';
import { shippedPlan, type Obj } from '../support/charts';
import type { DistObject } from '../support/dist';
import { regionsWith, tempDir } from '../support/regions';
import { renderedObjects } from '../support/rendered';

const SERVING = ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-1'];
const SHARD_3_AT_DR = 'bookedbarber-pgbouncer-shard-3.eu-central-1.bookedbarber.global';
const SHARD_3_AT_HOME = 'bookedbarber-pgbouncer-shard-3.eu-west-1.bookedbarber.global';
const HOME_POSTGRES = 'bookedbarber-postgres-shard-3.eu-west-1.bookedbarber.global';
const DR_POSTGRES = 'bookedbarber-postgres-shard-3-dr.eu-central-1.bookedbarber.global';
const LOCAL_PGBOUNCER_3 = 'bookedbarber-pgbouncer-shard-3.bookedbarber-data.svc.cluster.local';
const HOME_JOB = 'bookedbarber-postgres-shard-3-topology';
const DR_JOB = 'bookedbarber-postgres-shard-3-dr-topology';

/** The region files with shard 3's writes moved to its DR site. */
const promotedRegions = () => regionsWith((f) => (f['eu-west-1.yaml'].shards[0].activeRegion = 'eu-central-1'));

interface Rendered {
  readonly plan: PlatformPlan;
  /** The files synth wrote (under `out`), with the documents each was written from. */
  readonly out: string;
  readonly files: readonly RenderedFile[];
  readonly objects: DistObject[];
  /** The synth error, if it refused to write (it validates, wiring check included, first). */
  readonly error?: Error;
}

function render(regionsDir: string): Rendered {
  const out = path.join(tempDir('bb-promotion-'), 'dist');
  const plan = loadPlan(regionsDir);
  try {
    const { files } = synth(definition, { regionsDir, distDir: out });
    // The documents each file was written from: what its YAML parses back to
    // (test/synth/in-memory-validation.test.ts), without parsing 3 MB of it again.
    const objects = files.flatMap((f) => (f.documents ?? []).map((object) => ({ folder: f.path.split('/')[0]!, file: f.path.split('/')[1]!, object: object as Obj })));
    return { plan, out, files, objects };
  } catch (error) {
    return { plan, out, files: [], objects: [], error: error as Error };
  }
}

/** The validator over a rendered tree (from the documents synth wrote), with `plan`'s declared connections. */
function validateAgainst(tree: Rendered, plan: PlatformPlan) {
  const plans = new Map(plan.regions.map((p) => [p.region.name, p]));
  return validateRendered(tree.out, tree.files, { connections: (region) => (plans.has(region) ? declaredConnections(plans.get(region)!) : undefined) });
}

/** What the assertions read: a tree's objects. */
type Tree = { readonly objects: DistObject[] };

function one(tree: Tree, region: string, kind: string, name: string): Obj {
  const found = tree.objects.filter((d) => d.folder === region && d.object.kind === kind && d.object.metadata.name === name);
  if (found.length !== 1) throw new Error(`${found.length} ${kind} ${name} in ${region}`);
  return found[0].object;
}

const has = (tree: Tree, region: string, kind: string, name: string) =>
  tree.objects.some((d) => d.folder === region && d.object.kind === kind && d.object.metadata.name === name);

/** EXPECTED_ROLE and DESIRED_CONFIG (parsed) of a site's topology Job. */
function topology(tree: Tree, region: string, job: string): { role: string; config: any } {
  const container = one(tree, region, 'Job', job).spec.template.spec.containers.find((c: any) => c.name === 'topology');
  const env = (name: string) => container.env.find((e: any) => e.name === name)?.value;
  return { role: env('EXPECTED_ROLE'), config: JSON.parse(env('DESIRED_CONFIG')) };
}

/** bootstrap.dcs of the site's patroni.yml (what a site that starts from nothing runs). */
function bootstrapDcs(tree: Tree, region: string, scope: string): any {
  return parse(one(tree, region, 'ConfigMap', `${scope}-files`).data['patroni.yml']).bootstrap.dcs;
}

/** Shard 3's entry of a region's shard map. */
function shard3Route(tree: Tree, region: string): any {
  const map = JSON.parse(one(tree, region, 'ConfigMap', 'bookedbarber-shard-map').data['shard-map.json']);
  return map.shards.find((s: any) => s.shard === 3);
}

/** Hosts the region's east-west gateway passes through to it (empty when it has none). */
function exported(tree: Tree, region: string): string[] {
  return tree.objects
    .filter((d) => d.folder === region && d.object.kind === 'Gateway' && d.object.metadata.name === 'cross-network-gateway')
    .flatMap((d) => d.object.spec.servers.flatMap((s: any) => s.hosts));
}

const standbyOf = (host: string, slot: string, bucketRegion: string) => ({
  host,
  port: 5432,
  primary_slot_name: slot,
  create_replica_methods: ['basebackup'],
  restore_command: `WALG_S3_PREFIX=s3://bookedbarber-pitr-${bucketRegion}/shard-3 AWS_REGION=${bucketRegion} AWS_ENDPOINT=https://s3.${bucketRegion}.amazonaws.com wal-g wal-fetch "%f" "%p"`,
});

/** The shipped regions, rendered once per worker for every file that reads them (test/support/rendered.ts). */
let shipped: { plan: PlatformPlan; objects: DistObject[] };
let promoted: Rendered;

beforeAll(() => {
  shipped = { plan: shippedPlan(), objects: renderedObjects().map((o) => ({ folder: o.folder, file: path.basename(o.file), object: o.object })) };
  promoted = render(promotedRegions());
}, 120_000);

afterAll(() => {
  if (promoted) fs.rmSync(path.dirname(promoted.out), { recursive: true, force: true });
});

describe('shard 3 as shipped: the home site (eu-west-1) takes writes, the DR site (eu-central-1) follows', () => {
  it('the home site is primary and keeps a slot for the DR site\'s standby leader', () => {
    expect(topology(shipped, 'eu-west-1', HOME_JOB)).toEqual({ role: 'primary', config: { standby_cluster: null, slots: { standby_dr_site: { type: 'physical' } }, failsafe_mode: true } });
  });

  it('the DR site is a standby cluster streaming from the home primary, with the home archive as fallback', () => {
    expect(topology(shipped, 'eu-central-1', DR_JOB)).toEqual({
      role: 'standby_leader',
      config: { standby_cluster: standbyOf(HOME_POSTGRES, 'standby_dr_site', 'eu-west-1'), slots: null, failsafe_mode: true },
    });
    expect(bootstrapDcs(shipped, 'eu-central-1', 'bookedbarber-postgres-shard-3-dr').standby_cluster).toEqual(standbyOf(HOME_POSTGRES, 'standby_dr_site', 'eu-west-1'));
  });

  it('keeps each site\'s primary through a Kubernetes API outage: DCS failsafe mode at bootstrap, and on every sync for running clusters', () => {
    // Patroni reads bootstrap.dcs only when a cluster is created; the topology Job's PATCH carries it to running ones.
    expect(bootstrapDcs(shipped, 'eu-west-1', 'bookedbarber-postgres-shard-3').failsafe_mode).toBe(true);
    expect(bootstrapDcs(shipped, 'eu-central-1', 'bookedbarber-postgres-shard-3-dr').failsafe_mode).toBe(true);
    expect(topology(shipped, 'eu-west-1', HOME_JOB).config.failsafe_mode).toBe(true);
    expect(topology(shipped, 'eu-central-1', DR_JOB).config.failsafe_mode).toBe(true);
  });

  it('every serving region writes shard 3 at eu-west-1; only eu-west-1 exports it', () => {
    for (const region of ['us-east-1', 'us-west-2', 'ap-southeast-1']) {
      expect(shard3Route(shipped, region), region).toMatchObject({ homeRegion: 'eu-west-1', activeRegion: 'eu-west-1', local: false, readWrite: { host: SHARD_3_AT_HOME } });
    }
    expect(shard3Route(shipped, 'eu-west-1')).toMatchObject({ activeRegion: 'eu-west-1', local: true, readWrite: { host: LOCAL_PGBOUNCER_3 } });
    expect(exported(shipped, 'eu-west-1')).toEqual([SHARD_3_AT_HOME, HOME_POSTGRES]);
    expect(exported(shipped, 'eu-central-1')).not.toContain(SHARD_3_AT_DR);
  });
});

describe('shard 3 promoted: activeRegion: eu-central-1', () => {
  it('renders and passes validation, the wiring check included (synth refuses to write otherwise)', () => {
    expect(promoted.error?.message).toBeUndefined();
    const report = validateAgainst(promoted, promoted.plan);
    expect(report.findings).toEqual([]);
    expect(report.notes.filter((n) => n.includes('wiring check off'))).toEqual([]);
    expect(report.files).toBeGreaterThan(0);
  }, 60_000);

  it('the wiring check is not vacuous: the promoted tree fails against the unpromoted declarations', () => {
    const report = validateAgainst(promoted, shipped.plan);
    const wiring = report.findings.filter((f) => f.rule.startsWith('wiring-')).map((f) => f.message.split(' (')[0]);
    // e.g. the remote APIs still sent to eu-west-1's gateway, which no longer passes shard 3 through.
    expect(wiring).toContain('us-east-1 api-to-pgbouncer-shard-3-rw');
    expect(wiring).toContain('eu-west-1 remote-api-to-pgbouncer-shard-3');
  }, 60_000);

  it('every serving region\'s shard map sends shard 3 (read-write and read-only) to the DR site\'s PgBouncer; none treats it as local', () => {
    for (const region of SERVING) {
      const route = shard3Route(promoted, region);
      expect(route, region).toMatchObject({ shard: 3, first: 50001, last: 75000, homeRegion: 'eu-west-1', activeRegion: 'eu-central-1', local: false });
      expect(route.readWrite, region).toMatchObject({ host: SHARD_3_AT_DR, port: 6432, database: 'bookings' });
      expect(route.readOnly, region).toMatchObject({ host: SHARD_3_AT_DR, port: 6432, database: 'bookings_ro' });
    }
    // Standby regions serve no users: no shard map there.
    expect(has(promoted, 'eu-central-1', 'ConfigMap', 'bookedbarber-shard-map')).toBe(false);
    expect(has(promoted, 'ap-southeast-2', 'ConfigMap', 'bookedbarber-shard-map')).toBe(false);
  });

  it('the other shards keep their routes', () => {
    for (const region of SERVING) {
      const before = JSON.parse(one(shipped, region, 'ConfigMap', 'bookedbarber-shard-map').data['shard-map.json']).shards.filter((s: any) => s.shard !== 3);
      const after = JSON.parse(one(promoted, region, 'ConfigMap', 'bookedbarber-shard-map').data['shard-map.json']).shards.filter((s: any) => s.shard !== 3);
      expect(after, region).toEqual(before);
    }
  });

  it('the APIs reach the DR site through eu-central-1\'s east-west gateway', () => {
    for (const region of ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-1']) {
      const entry = one(promoted, region, 'ServiceEntry', 'bookedbarber-pgbouncer-shard-3-eu-central-1');
      expect(entry.spec.hosts, region).toEqual([SHARD_3_AT_DR]);
      expect(entry.spec.endpoints, region).toEqual([{ address: 'eastwest.eu-central-1.bookedbarber.internal', ports: { 'tcp-pgbouncer': 15443 } }]);
      expect(has(promoted, region, 'ServiceEntry', 'bookedbarber-pgbouncer-shard-3-eu-west-1'), region).toBe(false);
    }
    const eu = declaredConnections(promoted.plan.regions.find((p) => p.region.name === 'eu-west-1')!);
    expect(eu.find((c) => c.name === 'api-to-pgbouncer-shard-3-rw')!.to).toEqual({
      kind: 'external', host: SHARD_3_AT_DR, port: 6432, through: { host: 'eastwest.eu-central-1.bookedbarber.internal', port: 15443 },
      identity: 'spiffe://cluster.local/ns/bookedbarber-data/sa/bookedbarber-pgbouncer-shard-3',
    });
  });

  it('the DR site becomes primary and keeps a slot for the home site', () => {
    expect(topology(promoted, 'eu-central-1', DR_JOB)).toEqual({ role: 'primary', config: { standby_cluster: null, slots: { standby_home_site: { type: 'physical' } }, failsafe_mode: true } });
    expect(bootstrapDcs(promoted, 'eu-central-1', 'bookedbarber-postgres-shard-3-dr').standby_cluster).toBeUndefined();
  });

  it('the home site becomes a standby cluster following the DR site, with the DR archive as fallback', () => {
    const home = topology(promoted, 'eu-west-1', HOME_JOB);
    expect(home.role).toBe('standby_leader');
    expect(home.config.standby_cluster.host).toBe(DR_POSTGRES);
    expect(home.config).toEqual({ standby_cluster: standbyOf(DR_POSTGRES, 'standby_home_site', 'eu-central-1'), slots: null, failsafe_mode: true });
    expect(bootstrapDcs(promoted, 'eu-west-1', 'bookedbarber-postgres-shard-3').standby_cluster).toEqual(standbyOf(DR_POSTGRES, 'standby_home_site', 'eu-central-1'));
  });

  it('eu-central-1\'s east-west gateway exports the shard\'s PgBouncer and primary; eu-west-1\'s no longer does', () => {
    expect(exported(promoted, 'eu-central-1')).toEqual([SHARD_3_AT_DR, DR_POSTGRES]);
    expect(exported(promoted, 'eu-west-1')).not.toContain(SHARD_3_AT_HOME);
    expect(exported(promoted, 'eu-west-1')).not.toContain(HOME_POSTGRES);
    const global = one(promoted, 'eu-central-1', 'ServiceEntry', 'bookedbarber-pgbouncer-shard-3-global');
    expect(global.spec.hosts).toEqual([SHARD_3_AT_DR]);
    expect(global.spec.exportTo).toEqual(['.', 'istio-system']);
    expect(has(promoted, 'eu-west-1', 'ServiceEntry', 'bookedbarber-pgbouncer-shard-3-global')).toBe(false);
  });

  it('the other shards\' sites keep their roles', () => {
    for (const [region, job, role] of [
      ['us-east-1', 'bookedbarber-postgres-shard-1-topology', 'primary'],
      ['us-west-2', 'bookedbarber-postgres-shard-1-dr-topology', 'standby_leader'],
      ['us-west-2', 'bookedbarber-postgres-shard-2-topology', 'primary'],
      ['us-east-1', 'bookedbarber-postgres-shard-2-dr-topology', 'standby_leader'],
      ['ap-southeast-1', 'bookedbarber-postgres-shard-4-topology', 'primary'],
      ['ap-southeast-2', 'bookedbarber-postgres-shard-4-dr-topology', 'standby_leader'],
    ] as const) {
      expect(topology(promoted, region, job).role, `${region} ${job}`).toBe(role);
    }
  });
});
