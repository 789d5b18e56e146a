/**
 * `npm run diff` on a regional failover: the shipped tree against the tree with shard 3 promoted
 * to its DR site (`activeRegion: eu-central-1`). The reviewer must see, before anything else,
 * that both sites' roles flip and that every region's writes for the shard move.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definition } from '../../main';
import { run } from '../../tools/diff/cli';
import { RISK_RULES } from '../../tools/diff/risks';
import { synth } from '../../tools/synth/run';
import { DIST } from '../support/dist';
import { regionsWith, tempDir } from '../support/regions';

const SHARD_3_AT_DR = 'bookedbarber-pgbouncer-shard-3.eu-central-1.bookedbarber.global';
const SHARD_3_AT_HOME = 'bookedbarber-pgbouncer-shard-3.eu-west-1.bookedbarber.global';
const LOCAL_PGBOUNCER_3 = 'bookedbarber-pgbouncer-shard-3.bookedbarber-data.svc.cluster.local';

const root = tempDir('bb-diff-promotion-');
/** The shipped regions' tree: the committed one (what synth renders from them, test/tree/in-sync.test.ts). */
const shippedOut = DIST;
const promotedOut = path.join(root, 'promoted');

async function diff(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

/** The promotion's risk lines, in the order the report lists them (region, then object). */
const PROMOTION_RISKS = [
  { region: 'ap-southeast-1', object: 'ConfigMap bookedbarber-app/bookedbarber-shard-map', detail: `shard 3 writes: ${SHARD_3_AT_HOME} → ${SHARD_3_AT_DR}` },
  { region: 'eu-central-1', object: 'Job bookedbarber-data/bookedbarber-postgres-shard-3-dr-topology', detail: 'site role standby_leader → primary: this site is promoted and takes writes' },
  { region: 'eu-west-1', object: 'ConfigMap bookedbarber-app/bookedbarber-shard-map', detail: `shard 3 writes: ${LOCAL_PGBOUNCER_3} → ${SHARD_3_AT_DR}` },
  { region: 'eu-west-1', object: 'Job bookedbarber-data/bookedbarber-postgres-shard-3-topology', detail: 'site role primary → standby_leader: this site is demoted to a standby cluster' },
  { region: 'us-east-1', object: 'ConfigMap bookedbarber-app/bookedbarber-shard-map', detail: `shard 3 writes: ${SHARD_3_AT_HOME} → ${SHARD_3_AT_DR}` },
  { region: 'us-west-2', object: 'ConfigMap bookedbarber-app/bookedbarber-shard-map', detail: `shard 3 writes: ${SHARD_3_AT_HOME} → ${SHARD_3_AT_DR}` },
];

beforeAll(() => {
  // Validation of both trees is covered elsewhere (test/charts/promotion.test.ts); here only the diff.
  synth(definition, { regionsDir: regionsWith((f) => (f['eu-west-1.yaml'].shards[0].activeRegion = 'eu-central-1')), distDir: promotedOut, validate: false });
}, 120_000);

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('npm run diff: shipped tree → shard 3 promoted to eu-central-1', () => {
  it('flags shard-topology for both topology Jobs and for every serving region\'s shard map', async () => {
    const result = await diff(['--from', shippedOut, '--to', promotedOut, '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const risks = JSON.parse(result.stdout).risks as Array<{ rule: string; region: string; object: string; detail: string }>;
    expect(risks.filter((r) => r.rule === 'shard-topology')).toEqual(PROMOTION_RISKS.map((r) => ({ rule: 'shard-topology', ...r })));
    // The failover is the first thing a reviewer reads.
    expect(risks[0].rule).toBe('shard-topology');
  });

  it('shows the promotion first in the Markdown report, under the rule\'s own heading', async () => {
    const result = await diff(['--from', shippedOut, '--to', promotedOut]);
    expect(result.code).toBe(0);
    const text = result.stdout;
    const heading = `**${RISK_RULES['shard-topology']}**`;
    expect(heading).toBe('**Postgres shard promoted or demoted, its writes routed to another region, or franchise IDs moved to another shard**');
    const risksAt = text.indexOf('## Risks');
    expect(risksAt).toBeGreaterThan(0);
    // The first rule heading under ## Risks is the shard-topology one, followed by its lines.
    expect(text.slice(risksAt).split('\n').find((l) => l.startsWith('**'))).toBe(heading);
    const block = text.slice(text.indexOf(heading)).split('\n\n').slice(0, 2).join('\n\n');
    expect(block).toBe([heading, '', ...PROMOTION_RISKS.map((r) => `- ${r.region}: ${r.object}: ${r.detail}`)].join('\n'));
  });

  it('flags the failback too (promoted → shipped), in the other direction', async () => {
    const result = await diff(['--from', promotedOut, '--to', shippedOut, '--json']);
    expect(result.code).toBe(0);
    const topology = (JSON.parse(result.stdout).risks as Array<{ rule: string; region: string; detail: string }>)
      .filter((r) => r.rule === 'shard-topology')
      .map((r) => `${r.region}: ${r.detail}`);
    expect(topology).toEqual([
      `ap-southeast-1: shard 3 writes: ${SHARD_3_AT_DR} → ${SHARD_3_AT_HOME}`,
      'eu-central-1: site role primary → standby_leader: this site is demoted to a standby cluster',
      `eu-west-1: shard 3 writes: ${SHARD_3_AT_DR} → ${LOCAL_PGBOUNCER_3}`,
      'eu-west-1: site role standby_leader → primary: this site is promoted and takes writes',
      `us-east-1: shard 3 writes: ${SHARD_3_AT_DR} → ${SHARD_3_AT_HOME}`,
      `us-west-2: shard 3 writes: ${SHARD_3_AT_DR} → ${SHARD_3_AT_HOME}`,
    ]);
  });

  it('raises no shard-topology flag when nothing moves', async () => {
    const result = await diff(['--from', shippedOut, '--to', shippedOut, '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).risks).toEqual([]);
  });
});
