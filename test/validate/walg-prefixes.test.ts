/**
 * Rule `walg-prefix` (tools/validate/policy/walg-prefixes.ts), over several region folders at
 * once: us-east-1 runs shard-1 and the DR site of us-west-2's shard-2, which restores from the
 * home's archive. Each hand edit below applies cleanly and breaks backups or the DR site.
 */
import { describe, expect, it } from 'vitest';
import type { LoadedObject } from '../../tools/validate';
import { distLoadedObjects } from '../support/dist';
import { check } from './helpers';

const found = (objects: LoadedObject[]) => check(objects).filter((f) => f.rule === 'walg-prefix');
const short = (objects: LoadedObject[]) => found(objects).map((f) => `${f.file} ${f.object} ${f.path}`).sort();

/** The StatefulSet of a Postgres cluster (by its Patroni scope) in a region folder. */
function shard(objects: LoadedObject[], region: string, cluster: string): any {
  return objects.find((o) => o.region === region && (o.object as any).kind === 'StatefulSet' && (o.object as any).metadata.name === cluster)!.object;
}

/** Its containers' WALG_S3_PREFIX env entries. */
function prefixes(sts: any): any[] {
  return sts.spec.template.spec.containers.flatMap((c: any) => (c.env ?? []).filter((e: any) => e.name === 'WALG_S3_PREFIX'));
}

/** Where the DR site's Patroni standby_cluster is written: its files ConfigMap and its topology Job's DESIRED_CONFIG. */
function standbyConfigs(objects: LoadedObject[], region: string, cluster: string): { files: any; job: any } {
  const of = (kind: string, name: string) => objects.find((o) => o.region === region && (o.object as any).kind === kind && (o.object as any).metadata.name === name)!.object as any;
  const files = of('ConfigMap', `${cluster}-files`);
  const job = of('Job', `${cluster}-topology`).spec.template.spec.containers.flatMap((c: any) => c.env ?? []).find((e: any) => e.name === 'DESIRED_CONFIG');
  return { files, job };
}

/** The files ConfigMap's key holding the restore command. */
const restoreKey = (files: any) => Object.keys(files.data).find((k) => files.data[k].includes('WALG_S3_PREFIX='))!;

const SHARD_1 = 'bookedbarber-postgres-shard-1';
const DR = 'bookedbarber-postgres-shard-2-dr';

describe('WAL-G prefixes across the tree', () => {
  it('the committed folders, all in view together, have none', () => {
    const objects = distLoadedObjects(['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-1', 'ap-southeast-2', 'argocd']);
    expect(found(objects)).toEqual([]);
    // The edits below rely on what is rendered: a DR site reading its home's archive.
    const { files, job } = standbyConfigs(objects, 'us-east-1', DR);
    expect(job.value).toContain('WALG_S3_PREFIX=s3://bookedbarber-pitr-us-west-2/shard-2 ');
    expect(files.data[restoreKey(files)]).toContain('WALG_S3_PREFIX=s3://bookedbarber-pitr-us-west-2/shard-2 ');
    expect(prefixes(shard(objects, 'us-west-2', 'bookedbarber-postgres-shard-2')).map((e) => e.value)).toEqual(['s3://bookedbarber-pitr-us-west-2/shard-2', 's3://bookedbarber-pitr-us-west-2/shard-2']);
  });

  it('a shard archiving to the prefix of another cluster (here the DR site beside it)', () => {
    const objects = distLoadedObjects(['us-east-1']);
    const taken = prefixes(shard(objects, 'us-east-1', DR))[0].value;
    for (const env of prefixes(shard(objects, 'us-east-1', SHARD_1))) env.value = taken;
    const issues = short(objects);
    expect(issues).toHaveLength(4);
    expect(new Set(issues.map((i) => i.split(' ').slice(0, 3).join(' ')))).toEqual(new Set([
      `us-east-1/postgres.yaml StatefulSet bookedbarber-data/${SHARD_1}`, `us-east-1/postgres.yaml StatefulSet bookedbarber-data/${DR}`,
    ]));
    expect(found(objects)[0]!.message).toContain('a point-in-time restore replays the wrong one');
  });

  it('the same prefix in two regions\' folders', () => {
    const objects = distLoadedObjects(['us-east-1', 'eu-west-1']);
    const euShard = objects.find((o) => o.region === 'eu-west-1' && (o.object as any).kind === 'StatefulSet' && prefixes(o.object).length > 0)!.object;
    for (const env of prefixes(euShard)) env.value = 's3://bookedbarber-pitr-us-east-1/shard-1';
    expect(found(objects).map((f) => f.file).sort()).toEqual(['eu-west-1/postgres.yaml', 'eu-west-1/postgres.yaml', 'us-east-1/postgres.yaml', 'us-east-1/postgres.yaml']);
  });

  it('on Google Cloud Storage too (WALG_GS_PREFIX, gs://), and a restore command quoting its prefix', () => {
    const objects = distLoadedObjects(['us-east-1', 'us-west-2']);
    for (const cluster of [SHARD_1, DR]) {
      for (const env of prefixes(shard(objects, 'us-east-1', cluster))) Object.assign(env, { name: 'WALG_GS_PREFIX', value: 'gs://bookedbarber-pitr/shard-1' });
    }
    expect(found(objects).map((f) => f.object)).toEqual([...Array(2).fill(`StatefulSet bookedbarber-data/${SHARD_1}`), ...Array(2).fill(`StatefulSet bookedbarber-data/${DR}`)]);
    const again = distLoadedObjects(['us-east-1', 'us-west-2']);
    const { job } = standbyConfigs(again, 'us-east-1', DR);
    job.value = job.value.replace('WALG_S3_PREFIX=s3://bookedbarber-pitr-us-west-2/shard-2 ', "WALG_S3_PREFIX='s3://bookedbarber-pitr-us-west-2/shard-9' ");
    expect(found(again).map((f) => f.message)).toEqual([expect.stringContaining('reads s3://bookedbarber-pitr-us-west-2/shard-9, which no cluster writes')]);
  });

  it('the base-backup sidecar writing elsewhere than Spilo archives WAL', () => {
    const objects = distLoadedObjects(['us-east-1']);
    const [, sidecar] = prefixes(shard(objects, 'us-east-1', SHARD_1));
    sidecar.value += '-backups';
    const issues = found(objects);
    expect(issues.map((f) => f.path)).toEqual([expect.stringMatching(/^spec\.template\.spec\.containers\[\d+\]\.env\[\d+\]\.value$/)]);
    expect(issues[0]!.message).toContain('the base backups and the WAL they need end up apart');
  });

  it('a DR site restoring from a prefix its home does not write, judged when the home is in view', () => {
    const objects = distLoadedObjects(['us-east-1', 'us-west-2']);
    const { files, job } = standbyConfigs(objects, 'us-east-1', DR);
    job.value = job.value.replace('pitr-us-west-2/shard-2', 'pitr-us-west-2/shard-3');
    const key = restoreKey(files);
    files.data[key] = files.data[key].replace('pitr-us-west-2/shard-2', 'pitr-us-west-2/shard2');
    expect(found(objects).map((f) => `${f.file} ${f.object}`).sort()).toEqual([
      `us-east-1/postgres.yaml ConfigMap bookedbarber-data/${DR}-files`,
      `us-east-1/postgres.yaml Job bookedbarber-data/${DR}-topology`,
    ]);
    expect(found(objects).map((f) => f.path).sort()).toEqual([
      expect.stringMatching(/^data(\.|\[")/),
      expect.stringMatching(/^spec\.template\.spec\.containers\[\d+\]\.env\[\d+\]\.value$/),
    ]);
    expect(found(objects).map((f) => f.message)).toContain('the restore command reads s3://bookedbarber-pitr-us-west-2/shard-3, which no cluster writes (in that bucket: '
      + 's3://bookedbarber-pitr-us-west-2/shard-1, s3://bookedbarber-pitr-us-west-2/shard-2): once streaming from the home falls behind, the standby finds no WAL to catch up with');
    // `npm run validate dist/us-east-1` sees us-east-1 alone: the home's bucket is not in view, nothing to judge.
    const alone = distLoadedObjects(['us-east-1']);
    const same = standbyConfigs(alone, 'us-east-1', DR).job;
    same.value = same.value.replace('pitr-us-west-2/shard-2', 'pitr-us-west-2/shard-3');
    expect(found(alone)).toEqual([]);
  });

  it('a DR site restoring from a cluster of its own region (its own archive)', () => {
    const objects = distLoadedObjects(['us-east-1', 'us-west-2']);
    const { job } = standbyConfigs(objects, 'us-east-1', DR);
    job.value = job.value.replace('s3://bookedbarber-pitr-us-west-2/shard-2', prefixes(shard(objects, 'us-east-1', DR))[0].value);
    expect(found(objects).map((f) => f.message)).toEqual([expect.stringContaining(`the archive of us-east-1: StatefulSet bookedbarber-data/${DR} in this same region`)]);
  });

  it('s3-region: AWS_REGION edited away from the endpoint\'s region, in Spilo\'s env and in a restore command', () => {
    const objects = distLoadedObjects(['us-east-1']);
    const env = shard(objects, 'us-east-1', SHARD_1).spec.template.spec.containers[0].env;
    const region = env.find((e: any) => e.name === 'AWS_REGION');
    expect(env.find((e: any) => e.name === 'AWS_ENDPOINT').value).toBe('https://s3.us-east-1.amazonaws.com');
    region.value = 'us-west-2';
    const { files } = standbyConfigs(objects, 'us-east-1', DR);
    const key = restoreKey(files);
    files.data[key] = files.data[key].replace('AWS_REGION=us-west-2', 'AWS_REGION=us-east-1');
    const issues = check(objects).filter((f) => f.rule === 's3-region');
    expect(issues.map((f) => `${f.object} ${f.path.startsWith('data') ? 'data' : f.path}`)).toEqual([
      `ConfigMap bookedbarber-data/${DR}-files data`,
      `StatefulSet bookedbarber-data/${SHARD_1} spec.template.spec.containers[0].env[${env.indexOf(region)}].value`,
    ]);
    expect(issues[1]!.message).toBe('AWS_REGION us-west-2 and AWS_ENDPOINT https://s3.us-east-1.amazonaws.com (region us-east-1) disagree: S3 refuses requests signed for another region, and every WAL upload or fetch fails');
  });
});
