/**
 * The bench's synthetic regions (tools/bench/regions.ts) are a valid config: every invariant
 * holds, home/DR pairs are kept (standby regions host exactly one DR site), names are unique,
 * and two sets made with disjoint indices have disjoint names.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPlan } from '../../regions/load';
import { maxRegionsPerSet, writeSyntheticRegions } from '../../tools/bench/regions';
import { REPO_ROOT } from '../../tools/repo-root';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-regions-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const SHIPPED = path.join(REPO_ROOT, 'regions');

describe('writeSyntheticRegions', () => {
  it('writes 16 regions that pass every invariant, with the shipped mix of serving and standby regions', () => {
    const dir = path.join(tmp, 'r16');
    const names = writeSyntheticRegions(SHIPPED, dir, 16);
    expect(new Set(names).size).toBe(16);
    const plan = loadPlan(dir); // throws with every problem if an invariant fails
    expect(plan.regions.map((r) => r.region.name).sort()).toEqual([...names].sort());
    const configs = plan.regions.map((r) => r.region);
    expect(configs.filter((r) => r.role === 'primary')).toHaveLength(1);
    const standby = configs.filter((r) => r.role === 'standby').map((r) => r.name);
    expect(standby.length).toBeGreaterThan(0);
    const drSites = configs.flatMap((r) => r.shards.map((s) => s.disasterRecovery.region));
    for (const s of standby) expect(drSites.filter((d) => d === s)).toHaveLength(1);
  });

  it('makes sets with disjoint names from disjoint indices, and refuses what the model cannot hold', () => {
    const a = writeSyntheticRegions(SHIPPED, path.join(tmp, 'a'), 4);
    const b = writeSyntheticRegions(SHIPPED, path.join(tmp, 'b'), 4, { firstIndex: 4 });
    expect(a.filter((n) => b.includes(n))).toEqual([]);
    expect(() => writeSyntheticRegions(SHIPPED, path.join(tmp, 'odd'), 5)).toThrow(/even/);
    expect(() => writeSyntheticRegions(SHIPPED, path.join(tmp, 'big'), maxRegionsPerSet() + 2)).toThrow(/at most/);
  });
});
