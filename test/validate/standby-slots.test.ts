/**
 * Rule `standby-slot` (tools/validate/policy/standby-slots.ts), over two region folders at once:
 * eu-central-1 runs the DR site of eu-west-1's shard 3, a Patroni standby cluster streaming from
 * the home primary with a permanent slot the home keeps. Each hand edit below applies cleanly, and
 * the DR site then lags by whole WAL segments (the home refuses its stream).
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { LoadedObject } from '../../tools/validate';
import { distLoadedObjects } from '../support/dist';
import { check } from './helpers';

const HOME = 'bookedbarber-postgres-shard-3';
const DR = 'bookedbarber-postgres-shard-3-dr';
const HOST = 'bookedbarber-postgres-shard-3.eu-west-1.bookedbarber.global';

const found = (objects: LoadedObject[]) => check(objects).filter((f) => f.rule === 'standby-slot');
const short = (objects: LoadedObject[]) => found(objects).map((f) => `${f.file} ${f.object} ${f.path}`).sort();
const pair = () => distLoadedObjects(['eu-west-1', 'eu-central-1', 'argocd']);

function of(objects: LoadedObject[], region: string, kind: string, name: string): any {
  return objects.find((o) => o.region === region && (o.object as any).kind === kind && (o.object as any).metadata.name === name)!.object;
}

/** A site's topology Job's DESIRED_CONFIG env entry (the dynamic configuration it PATCHes), and its index. */
function desired(objects: LoadedObject[], region: string, cluster: string): { env: any; at: string } {
  const vars = of(objects, region, 'Job', `${cluster}-topology`).spec.template.spec.containers[0].env;
  const i = vars.findIndex((e: any) => e.name === 'DESIRED_CONFIG');
  return { env: vars[i], at: `spec.template.spec.containers[0].env[${i}].value` };
}

/** Rewrites a JSON env value (or patroni.yml, which is JSON) in place. */
function edit(holder: any, key: string, change: (config: any) => void): void {
  const config = parse(holder[key]);
  change(config);
  holder[key] = JSON.stringify(config);
}

describe('Patroni standby slots across the tree', () => {
  it('the committed folders, all in view together, have none', () => {
    expect(found(distLoadedObjects(['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-1', 'ap-southeast-2', 'argocd']))).toEqual([]);
  });

  it('the DR site streaming with a slot the home does not keep (its topology Job, then its bootstrap too)', () => {
    const objects = pair();
    const job = desired(objects, 'eu-central-1', DR);
    expect(JSON.parse(job.env.value).standby_cluster).toMatchObject({ host: HOST, primary_slot_name: 'standby_dr_site' });
    edit(job.env, 'value', (c) => (c.standby_cluster.primary_slot_name = 'standby_dr'));
    expect(short(objects)).toEqual([`eu-central-1/postgres.yaml Job bookedbarber-data/${DR}-topology ${job.at}`]);
    const [finding] = found(objects);
    expect(finding!.message).toBe(
      `primary_slot_name standby_dr: the home cluster behind ${HOST} (${HOME} in eu-west-1) keeps no such slot ` +
        `(patroni.yml of ConfigMap bookedbarber-data/${HOME}-files (bootstrap.dcs.slots): standby_dr_site; DESIRED_CONFIG of Job bookedbarber-data/${HOME}-topology (slots): standby_dr_site): ` +
        'its primary refuses the standby\'s stream, so the standby replays only archived WAL, whole segments behind',
    );
    expect(finding!.hint).toBe('name the slot the home cluster keeps (standby_dr_site), or add standby_dr to its slots');
    const files = of(objects, 'eu-central-1', 'ConfigMap', `${DR}-files`).data;
    edit(files, 'patroni.yml', (c) => (c.bootstrap.dcs.standby_cluster.primary_slot_name = 'standby_dr'));
    expect(short(objects)).toEqual([
      `eu-central-1/postgres.yaml ConfigMap bookedbarber-data/${DR}-files data["patroni.yml"]`,
      `eu-central-1/postgres.yaml Job bookedbarber-data/${DR}-topology ${job.at}`,
    ]);
  });

  it('the home dropping the slot from the configuration its topology Job sets on the running cluster', () => {
    const objects = pair();
    const home = desired(objects, 'eu-west-1', HOME);
    edit(home.env, 'value', (c) => (c.slots = null));
    const findings = found(objects);
    // Both of the DR site's configurations name the slot; one source of the home's lacks it.
    expect(findings.map((f) => f.path).sort()).toEqual(['data["patroni.yml"]', desired(objects, 'eu-central-1', DR).at]);
    expect(findings[0]!.message).toContain(`(DESIRED_CONFIG of Job bookedbarber-data/${HOME}-topology (slots): none)`);
    expect(findings[0]!.hint).toBe('add standby_dr_site (type: physical) to the home cluster\'s slots');
  });

  it('a logical slot of that name does not serve a physical standby', () => {
    const objects = pair();
    edit(desired(objects, 'eu-west-1', HOME).env, 'value', (c) => (c.slots.standby_dr_site = { type: 'logical', database: 'bookings', plugin: 'pgoutput' }));
    expect(found(objects)).toHaveLength(2);
  });

  it('is not judged without the home region in view (one folder validated alone)', () => {
    const objects = distLoadedObjects(['eu-central-1', 'argocd']);
    edit(desired(objects, 'eu-central-1', DR).env, 'value', (c) => (c.standby_cluster.primary_slot_name = 'standby_dr'));
    expect(found(objects)).toEqual([]);
  });
});
