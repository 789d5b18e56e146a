/**
 * The franchise router: franchise ID → shard, and the routing map each region mounts.
 * Guards issue #4 item 4.
 */
import { describe, expect, it } from 'vitest';
import { shardFor, shardTable } from '../../regions/router';
import { regionPlan, shippedPlan } from '../support/charts';

describe('shardFor', () => {
  const plan = shippedPlan();
  it.each([
    [1, 1, 'us-east-1'],
    [25_000, 1, 'us-east-1'],
    [25_001, 2, 'us-west-2'],
    [60_000, 3, 'eu-west-1'],
    [100_000, 4, 'ap-southeast-1'],
  ])('franchise %i lives on shard %i in %s', (id, shard, region) => {
    expect(shardFor(plan, id)).toMatchObject({ shard, homeRegion: region });
  });

  it.each([[0], [100_001], [-5]])('rejects %s (outside 1..100000)', (id) => {
    expect(() => shardFor(plan, id)).toThrow(RangeError);
  });

  it.each([[1.5], ['42'], [Number.NaN], [null], [undefined]])('rejects %s (not an integer)', (id) => {
    expect(() => shardFor(plan, id)).toThrow(TypeError);
  });

  it('agrees with a linear scan of the table for every franchise ID', () => {
    const table = shardTable(plan);
    for (let id = 1; id <= 100_000; id += 997) {
      expect(shardFor(plan, id).shard).toBe(table.find((t) => id >= t.first && id <= t.last)!.shard);
    }
  });
});

describe('shard routes as a region sees them', () => {
  it('reaches its own shard by cluster DNS and the others through the mesh', () => {
    const routes = regionPlan('eu-west-1').shardRoutes;
    expect(routes.map((r) => [r.shard, r.local])).toEqual([
      [1, false],
      [2, false],
      [3, true],
      [4, false],
    ]);
    expect(routes[2].readWrite).toEqual({ host: 'bookedbarber-pgbouncer-shard-3.bookedbarber-data.svc.cluster.local', port: 6432, database: 'bookings' });
    expect(routes[2].readOnly.database).toBe('bookings_ro');
    expect(routes[0].readWrite.host).toBe('bookedbarber-pgbouncer-shard-1.us-east-1.bookedbarber.global');
  });
});
