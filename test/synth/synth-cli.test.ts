/**
 * `npm run synth` end to end: complete and deterministic output, one progress line per region,
 * failures that leave the output untouched, and --region. Guards issue #2 item 4. Whole runs and
 * usage errors go through the launcher in child processes, as a user types them; the --region
 * cases run the same command line (`main`) in this process, since what they judge is decided
 * there and a child run renders the whole tree again at ~1.3 s of CPU each.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { definition } from '../../main';
import { synth } from '../../tools/synth/run';
import { regionsWith, REGIONS_DIR, REPO_ROOT, tempDir } from '../support/regions';
import { runSynth } from '../support/run';
import { synthInProcess } from '../support/synth-in-process';
import { readTree, writeTree } from '../support/tree';

const committed = readTree(path.join(REPO_ROOT, 'dist'));

function copyOfDist(): string {
  const out = path.join(tempDir('bb-dist-'), 'dist');
  writeTree(out, committed);
  return out;
}

describe('npm run synth', () => {
  const first = path.join(tempDir('bb-out-'), 'dist');
  const run = runSynth(['--out', first]);

  it('renders every region and the Argo CD files, with one progress line per region', () => {
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const tree = readTree(first);
    for (const region of ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-1']) {
      expect(Object.keys(tree)).toContain(`${region}/namespaces.yaml`);
      expect(run.stdout).toMatch(new RegExp(`^synth: ${region} +\\d+ objects in \\d+ files +\\d+ ms$`, 'm'));
    }
    expect(Object.keys(tree)).toContain('argocd/argocd.yaml');
  });

  it('gives byte-identical trees on repeated runs, whatever the time zone and locale', () => {
    const second = path.join(tempDir('bb-out-'), 'dist');
    const rerun = runSynth(['--out', second], { TZ: 'Asia/Tokyo', LANG: 'tr_TR.UTF-8', LC_ALL: 'tr_TR.UTF-8', CDK8S_DISABLE_SORT: '1' });
    expect(rerun.status).toBe(0);
    expect(readTree(second)).toEqual(readTree(first));
  });

  it('on an invalid config exits 1, names file, line and field, and leaves the output untouched', () => {
    const out = copyOfDist();
    fs.writeFileSync(path.join(out, 'us-east-1', 'namespaces.yaml'), 'hand edit\n');
    const before = readTree(out);
    const regions = regionsWith((f) => (f['us-east-1.yaml'].shards[0].franchises.last = 30_000));
    const result = runSynth(['--out', out, '--regions', regions]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/us-west-2\.yaml:\d+:\d+ {2}shards\[0\]\.franchises\.first/);
    expect(result.stderr).toContain('found:    25001');
    expect(result.stderr).toContain('is unchanged');
    expect(readTree(out)).toEqual(before);
  });

  it('when a chart throws, reports the region and leaves the output untouched', () => {
    const out = copyOfDist();
    const before = readTree(out);
    const failing = {
      ...definition,
      buildRegion: (app: Parameters<typeof definition.buildRegion>[0], plan: Parameters<typeof definition.buildRegion>[1]) => {
        definition.buildRegion(app, plan);
        if (plan.region.name === 'eu-west-1') throw new Error('boom');
      },
    };
    expect(() => synth(failing, { regionsDir: REGIONS_DIR, distDir: out })).toThrow('internal error in chart dns (region eu-west-1): boom');
    expect(readTree(out)).toEqual(before);
    expect(fs.readdirSync(path.dirname(out))).toEqual(['dist']);
  });

  it('--region writes just that region\'s folder (stale files in it removed) when the rest of dist is what a full synth writes', () => {
    const out = copyOfDist();
    fs.writeFileSync(path.join(out, 'eu-west-1', 'removed-component.yaml'), 'stale\n');
    fs.writeFileSync(path.join(out, 'eu-west-1', 'namespaces.yaml'), 'hand edit\n');
    const result = synthInProcess(definition, ['--out', out, '--region', 'eu-west-1']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^synth: eu-west-1 /m);
    expect(result.stdout).not.toMatch(/^synth: us-east-1 /m);
    expect(readTree(out)).toEqual(committed);
  });

  it('--region refuses a change that also changes another region or dist/argocd, naming those files, and writes nothing', () => {
    // A shard's PgBouncer lives at its home and at its DR site: eu-west-1's shard 3 has its DR
    // site in eu-central-1, so writing eu-west-1 alone would leave that folder stale.
    const regions = regionsWith((f) => (f['eu-west-1.yaml'].shards[0].pgbouncer.replicas += 1));
    const out = copyOfDist();
    const result = synthInProcess(definition, ['--out', out, '--regions', regions, '--region', 'eu-west-1']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('--region eu-west-1: this change also changes files outside that folder, which --region would leave stale:');
    expect(result.stderr).toMatch(/^ {2}dist\/eu-central-1\/pgbouncer\.yaml$/m);
    expect(result.stderr).toContain('fix: run npm run synth without --region, or add --region eu-central-1, then review the whole diff');
    expect(readTree(out)).toEqual(committed);
    // Naming every folder the change touches writes exactly what a full synth writes.
    const both = synthInProcess(definition, ['--out', out, '--regions', regions, '--region', 'eu-west-1', '--region', 'eu-central-1']);
    expect(both.status, both.stderr).toBe(0);
    const full = path.join(tempDir('bb-full-'), 'dist');
    expect(synthInProcess(definition, ['--out', full, '--regions', regions]).status).toBe(0);
    expect(readTree(out)).toEqual(readTree(full));
  });

  it('--region names dist/argocd as a reason to run a full synth (it has no --region of its own)', () => {
    // A new rollout wave moves the region's Applications in dist/argocd.
    const regions = regionsWith((f) => (f['eu-west-1.yaml'].rolloutWave = 9));
    const result = synthInProcess(definition, ['--out', copyOfDist(), '--regions', regions, '--region', 'eu-west-1']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^ {2}dist\/argocd\/argocd\.yaml$/m);
    expect(result.stderr).toContain('fix: run npm run synth without --region (dist/argocd changes too), then review the whole diff');
  });

  it('renders a region named twice once', () => {
    const out = copyOfDist();
    const result = synthInProcess(definition, ['--out', out, '--region', 'eu-west-1', '--region', 'eu-west-1']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.match(/^synth: eu-west-1 /gm)).toHaveLength(1);
    expect(readTree(out)['eu-west-1/namespaces.yaml']).toBe(committed['eu-west-1/namespaces.yaml']);
  });

  it('rejects an unknown region (listing the known ones) and an unknown flag as usage errors (exit 2)', () => {
    const unknown = runSynth(['--out', copyOfDist(), '--region', 'mars-north-1']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown region mars-north-1: regions are us-east-1, us-west-2, eu-west-1, ap-southeast-1');
    const usage = runSynth(['--regoin', 'eu-west-1']);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('usage: npm run synth');
    const folder = runSynth(['--out', copyOfDist(), '--regions', '/nonexistent/regions']);
    expect(folder.status).toBe(2);
    expect(folder.stderr).toContain('--regions /nonexistent/regions: no such folder');
  });
});
