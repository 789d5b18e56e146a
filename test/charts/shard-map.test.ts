/**
 * The routing map ConfigMap the API mounts. Guards issue #4 item 4.
 */
import { describe, expect, it } from 'vitest';
import { ShardMapChart } from '../../charts/shard-map/chart';
import { newApp, objectsOf, regionPlan } from '../support/charts';

describe('ShardMapChart', () => {
  it('renders the whole map into the app namespace as JSON, ranges in order', () => {
    const plan = regionPlan('ap-southeast-1');
    const cm = objectsOf(new ShardMapChart(newApp(), { plan })).find((o) => o.kind === 'ConfigMap')!;
    expect(cm.metadata).toMatchObject({ name: 'bookedbarber-shard-map', namespace: 'bookedbarber-app' });
    const map = JSON.parse(cm.data['shard-map.json']);
    expect(map.format).toBe(2);
    expect(map.region).toBe('ap-southeast-1');
    expect(map.shards.map((s: any) => [s.shard, s.first, s.last, s.homeRegion, s.local])).toEqual([
      [1, 1, 25_000, 'us-east-1', false],
      [2, 25_001, 50_000, 'us-west-2', false],
      [3, 50_001, 75_000, 'eu-west-1', false],
      [4, 75_001, 100_000, 'ap-southeast-1', true],
    ]);
  });

  it('tells the API how to log in to every shard: its database user and the mounted password file of that shard (issue #10)', () => {
    const cm = objectsOf(new ShardMapChart(newApp(), { plan: regionPlan('us-east-1') })).find((o) => o.kind === 'ConfigMap')!;
    const map = JSON.parse(cm.data['shard-map.json']);
    for (const s of map.shards) {
      for (const pool of [s.readWrite, s.readOnly]) {
        expect(pool).toMatchObject({ port: 6432, user: 'bookings_api', passwordFile: `/etc/bookedbarber/secrets/database/shard-${s.shard}`, sslmode: 'disable' });
      }
    }
    expect(map.shards[0].readWrite).toMatchObject({ host: 'bookedbarber-pgbouncer-shard-1.bookedbarber-data.svc.cluster.local', database: 'bookings' });
    expect(map.shards[0].readOnly.database).toBe('bookings_ro');
  });

  // The client budget of every shard's PgBouncer (regions/capacity.ts) counts each API pod's
  // postgres.apiPoolPerPod connections to the shard; both endpoints share one PgBouncer client limit.
  it('tells the API the size of each pool, which together are postgres.apiPoolPerPod per shard', () => {
    const poolsOf = (apiPoolPerPod: number) => {
      const shipped = regionPlan('us-east-1');
      const plan = { ...shipped, global: { ...shipped.global, postgres: { ...shipped.global.postgres, apiPoolPerPod } } };
      const map = JSON.parse(objectsOf(new ShardMapChart(newApp(), { plan })).find((o) => o.kind === 'ConfigMap')!.data['shard-map.json']);
      return [...new Set(map.shards.map((s: any) => `${s.readWrite.maxConnections}+${s.readOnly.maxConnections}`))];
    };
    expect(regionPlan('us-east-1').global.postgres.apiPoolPerPod).toBe(2);
    expect(poolsOf(2)).toEqual(['1+1']);
    expect(poolsOf(5)).toEqual(['3+2']);
    expect(poolsOf(10)).toEqual(['5+5']);
  });
});
