/**
 * Rule `ref-pgbouncer-database` (tools/validate/policy/pgbouncer-databases.ts): the API's shard map
 * names, per shard, the PgBouncer to connect to and the database to ask it for. us-east-1's map
 * reaches shard 1 through its own cluster's Service and shard 3 through eu-west-1's mesh name; a
 * database that PgBouncer does not list is refused at every connection.
 */
import { describe, expect, it } from 'vitest';
import type { LoadedObject } from '../../tools/validate';
import { distLoadedObjects } from '../support/dist';
import { check } from './helpers';

const found = (objects: LoadedObject[]) => check(objects).filter((f) => f.rule === 'ref-pgbouncer-database');

/** us-east-1's shard map, parsed, and a way to write it back. */
function shardMap(objects: LoadedObject[]) {
  const cm = objects.find((o) => o.region === 'us-east-1' && (o.object as any).kind === 'ConfigMap' && (o.object as any).metadata.name === 'bookedbarber-shard-map')!.object as any;
  const json = JSON.parse(cm.data['shard-map.json']);
  return { json, save: () => (cm.data['shard-map.json'] = JSON.stringify(json)) };
}
const shard = (json: any, id: number) => json.shards.find((s: any) => s.shard === id);

describe('shard map databases against the PgBouncers serving them', () => {
  it('the committed folders, all in view together, have none', () => {
    expect(found(distLoadedObjects(['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-1', 'ap-southeast-2', 'argocd']))).toEqual([]);
  });

  it('a database the local PgBouncer does not serve, and one the remote region\'s does not (reads of those shards refused)', () => {
    const objects = distLoadedObjects(['us-east-1', 'eu-west-1', 'argocd']);
    const map = shardMap(objects);
    expect(shard(map.json, 1)).toMatchObject({ local: true, readOnly: { database: 'bookings_ro' } });
    expect(shard(map.json, 3).readOnly.host).toBe('bookedbarber-pgbouncer-shard-3.eu-west-1.bookedbarber.global');
    shard(map.json, 1).readOnly.database = 'bookings-ro';
    shard(map.json, 3).readWrite.database = 'booking';
    map.save();
    const findings = found(objects);
    expect(findings.map((f) => `${f.file} ${f.path}`)).toEqual(['us-east-1/shard-map.yaml data["shard-map.json"]', 'us-east-1/shard-map.yaml data["shard-map.json"]']);
    const [remote, local] = [...findings].sort((a, b) => (a.message.includes('shard-3') ? -1 : 1) - (b.message.includes('shard-3') ? -1 : 1));
    expect(local!.message).toBe('database bookings-ro at bookedbarber-pgbouncer-shard-1.bookedbarber-data.svc.cluster.local: the PgBouncer there serves bookings, bookings_ro (pgbouncer.ini of ConfigMap bookedbarber-pgbouncer-shard-1-config (us-east-1)), and refuses any other name at every connection');
    expect(local!.hint).toBe('did you mean bookings_ro?');
    expect(remote!.message).toContain('database booking at bookedbarber-pgbouncer-shard-3.eu-west-1.bookedbarber.global: the PgBouncer there serves bookings, bookings_ro (pgbouncer.ini of ConfigMap bookedbarber-pgbouncer-shard-3-config (eu-west-1))');
  });

  it('is not judged where the PgBouncer\'s region is not in view, or where it has the * fallback database', () => {
    const alone = distLoadedObjects(['us-east-1', 'argocd']);
    const map = shardMap(alone);
    shard(map.json, 3).readWrite.database = 'booking';
    map.save();
    expect(found(alone)).toEqual([]);
    const fallback = distLoadedObjects(['us-east-1', 'argocd']);
    const local = shardMap(fallback);
    shard(local.json, 1).readOnly.database = 'anything';
    local.save();
    expect(found(fallback)).toHaveLength(1);
    const ini = fallback.find((o) => (o.object as any).kind === 'ConfigMap' && (o.object as any).metadata.name === 'bookedbarber-pgbouncer-shard-1-config')!.object as any;
    ini.data['pgbouncer.ini'] = ini.data['pgbouncer.ini'].replace('[databases]\n', '[databases]\n* = host=bookedbarber-postgres-shard-1.bookedbarber-data.svc.cluster.local port=5432\n');
    expect(found(fallback)).toEqual([]);
  });
});
