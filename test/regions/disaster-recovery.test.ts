/**
 * The disaster-recovery rules of the region files (regions/disaster-recovery-invariants.ts),
 * through the real loader: each shipped config changed in one place must fail with a message
 * that names the file, the field path, what was found and the fix; and `npm run synth` on such
 * a config writes nothing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatIssue, formatPath, type ConfigIssue } from '../../regions/config-error';
import { loadModel } from '../../regions/load';
import { configError, regionsWith, REGIONS_DIR, REPO_ROOT, tempDir, type RegionFiles } from '../support/regions';
import { runSynth } from '../support/run';
import { readTree, writeTree } from '../support/tree';

const issuesFor = (mutate: (files: RegionFiles) => void): readonly ConfigIssue[] => configError(regionsWith(mutate)).issues;
const where = (issues: readonly ConfigIssue[]) => issues.map((i) => `${path.basename(i.file)} ${formatPath(i.path)}`);

/**
 * A copy of the shipped files, byte for byte but for one text replacement, in a folder named
 * `regions` (as in the repository), so file names and line numbers read as a user sees them.
 */
function regionsFolderWithText(file: string, from: string, to: string): string {
  const dir = path.join(tempDir('bb-dr-'), 'regions');
  fs.mkdirSync(dir);
  for (const name of fs.readdirSync(REGIONS_DIR).filter((n) => n.endsWith('.yaml'))) {
    let text = fs.readFileSync(path.join(REGIONS_DIR, name), 'utf8');
    if (name === file) {
      if (text.split(from).length !== 2) throw new Error(`test setup: ${from} is not in ${file} exactly once`);
      text = text.replace(from, to);
    }
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** 1-based line of `text` in a shipped region file (read here, not by the loader). */
function lineOf(file: string, text: string): number {
  const lines = fs.readFileSync(path.join(REGIONS_DIR, file), 'utf8').split('\n');
  const index = lines.indexOf(text);
  if (index < 0 || lines.indexOf(text, index + 1) >= 0) throw new Error(`test setup: "${text}" is not in ${file} exactly once`);
  return index + 1;
}

const EU_DR_LINE = '      region: eu-central-1';

describe('disaster recovery invariants', () => {
  it('the shipped regions give every shard a DR site in another region of its residency', () => {
    const model = loadModel(REGIONS_DIR);
    const sites = model.regions.flatMap((r) => r.config.shards.map((s) => `shard ${s.id}: ${r.config.name} -> ${s.disasterRecovery.region} (${s.residency})`));
    expect(sites.sort()).toEqual([
      'shard 1: us-east-1 -> us-west-2 (us)',
      'shard 2: us-west-2 -> us-east-1 (us)',
      'shard 3: eu-west-1 -> eu-central-1 (eu)',
      'shard 4: ap-southeast-1 -> ap-southeast-2 (apac)',
    ]);
    // Nothing is promoted in the shipped files.
    expect(model.regions.flatMap((r) => r.config.shards.map((s) => s.activeRegion))).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('an EU shard whose DR site is in the US fails, naming file, line, field, the residency and the EU region to use', () => {
    const dir = regionsFolderWithText('eu-west-1.yaml', EU_DR_LINE, '      region: us-east-1');
    const issues = configError(dir).issues;
    // eu-central-1 then hosts no DR site: a standby region that protects nothing is flagged too.
    expect(where(issues)).toEqual(['eu-west-1.yaml shards[0].disasterRecovery.region', 'eu-central-1.yaml role']);
    const [issue] = issues;
    expect(issue.file).toBe(path.join(dir, 'eu-west-1.yaml'));
    expect(issue.file.endsWith('/regions/eu-west-1.yaml')).toBe(true);
    expect(issue.line).toBe(lineOf('eu-west-1.yaml', EU_DR_LINE));
    expect(issue.found).toBe('"us-east-1" (residency "us")');
    expect(issue.expected).toBe('a region of the shard\'s residency "eu": the standby and its WAL archive and base backups hold the shard\'s data');
    expect(issue.fix).toBe('set it to one of eu-central-1');
    expect(formatIssue(issue)).toBe([
      `${dir}/eu-west-1.yaml:${lineOf('eu-west-1.yaml', EU_DR_LINE)}:7  shards[0].disasterRecovery.region`,
      '    found:    "us-east-1" (residency "us")',
      '    expected: a region of the shard\'s residency "eu": the standby and its WAL archive and base backups hold the shard\'s data',
      '    fix:      set it to one of eu-central-1',
    ].join('\n'));
    expect(issues[1].found).toBe('"standby" with no DR site hosted here');
    expect(issues[1].fix).toBe('point a shard of residency "eu" at eu-central-1, or delete this file');
  });

  it('when the DR region is the only one of the shard\'s residency and says another, its residency line is offered as the slip', () => {
    const dir = regionsFolderWithText('eu-central-1.yaml', 'residency: eu', 'residency: us');
    const issue = configError(dir).issues.find((i) => formatPath(i.path) === 'shards[0].disasterRecovery.region')!;
    expect(issue.file).toBe(path.join(dir, 'eu-west-1.yaml'));
    expect(issue.found).toBe('"eu-central-1" (residency "us")');
    expect(issue.fix).toBe(
      `set it to a new standby-only region file of residency "eu" (role: standby, see regions/eu-central-1.yaml); or, if eu-central-1 is in "eu", correct residency at ${dir}/eu-central-1.yaml:${lineOf('eu-central-1.yaml', 'residency: eu')}`,
    );
  });

  it('a shard without disasterRecovery fails the schema: the field is required', () => {
    const issues = issuesFor((f) => delete f['us-west-2.yaml'].shards[0].disasterRecovery);
    expect(where(issues)).toEqual(['us-west-2.yaml shards[0]']);
    expect(issues[0].found).toBe('no field "disasterRecovery"');
    expect(issues[0].expected).toContain('required field "disasterRecovery"');
    expect(issues[0].fix).toBe('add "disasterRecovery"');
  });

  it('a DR site in the home region fails: losing the region would lose both sites', () => {
    const issues = issuesFor((f) => (f['us-east-1.yaml'].shards[0].disasterRecovery.region = 'us-east-1'));
    expect(where(issues)).toEqual(['us-east-1.yaml shards[0].disasterRecovery.region']);
    expect(issues[0].found).toBe('"us-east-1"');
    expect(issues[0].expected).toBe('a region other than the home region: losing the region would lose both sites');
    expect(issues[0].fix).toBe('set it to one of us-west-2');
  });

  it('a DR site in a region without a file fails, listing the known regions', () => {
    const issues = issuesFor((f) => (f['us-east-1.yaml'].shards[0].disasterRecovery.region = 'us-east-2'));
    expect(where(issues)).toEqual(['us-east-1.yaml shards[0].disasterRecovery.region']);
    expect(issues[0].found).toBe('"us-east-2"');
    expect(issues[0].expected).toBe('a region with a file in regions/ (ap-southeast-1, ap-southeast-2, eu-central-1, eu-west-1, us-east-1, us-west-2)');
    expect(issues[0].fix).toBe('set it to one of us-west-2, or add regions/us-east-2.yaml');
  });

  it('a promoted DR site of one member fails at disasterRecovery.members; one of one member that is not promoted loads', () => {
    const issues = issuesFor((f) => {
      f['eu-west-1.yaml'].shards[0].disasterRecovery.members = 1;
      f['eu-west-1.yaml'].shards[0].activeRegion = 'eu-central-1';
    });
    expect(where(issues)).toEqual(['eu-west-1.yaml shards[0].disasterRecovery.members']);
    expect(issues[0]!.found).toBe('1');
    expect(issues[0]!.fix).toMatch(/^set disasterRecovery.members to 2 in the same change/);
    expect(() => loadModel(regionsWith((f) => (f['eu-west-1.yaml'].shards[0].disasterRecovery.members = 1)))).not.toThrow();
  });

  it('an activeRegion that is neither the home region nor the DR site fails; either of those two loads', () => {
    const issues = issuesFor((f) => (f['eu-west-1.yaml'].shards[0].activeRegion = 'us-east-1'));
    expect(where(issues)).toEqual(['eu-west-1.yaml shards[0].activeRegion']);
    expect(issues[0].found).toBe('"us-east-1"');
    expect(issues[0].expected).toBe('the home region (eu-west-1) or the DR site (eu-central-1): only those two hold the shard');
    expect(issues[0].fix).toBe('remove activeRegion to keep writes at home, or set it to eu-central-1 to promote the DR site');
    for (const active of ['eu-west-1', 'eu-central-1']) {
      expect(() => loadModel(regionsWith((f) => (f['eu-west-1.yaml'].shards[0].activeRegion = active)))).not.toThrow();
    }
  });

  it('an archive timeout that lets a DR site lag past the RPO fails: 30 s + 5 s upload + 5 s retrieve = 40 s > 30 s', () => {
    const issues = issuesFor((f) => (f['global.yaml'].postgres.archiveTimeoutSeconds = 30));
    // 30 s alone is within the RPO (the home site's own archive rule holds): only the DR rule fires.
    expect(where(issues)).toEqual(['global.yaml postgres.archiveTimeoutSeconds']);
    expect(issues[0].found).toBe('30 s + walUploadBudgetSeconds 5 s + walRetrieveRetryIntervalSeconds 5 s = 40 s that a DR site can lag behind when its stream is broken');
    expect(issues[0].expected).toBe('<= postgres.rpoSeconds (30): losing the home region must not lose more than the RPO');
    expect(issues[0].fix).toBe('set archiveTimeoutSeconds to 20 or less');
  });

  it('a slower WAL upload counts against the RPO too, and the fix makes room for it', () => {
    const issues = issuesFor((f) => (f['global.yaml'].postgres.walUploadBudgetSeconds = 15));
    expect(where(issues)).toEqual(['global.yaml postgres.archiveTimeoutSeconds']);
    expect(issues[0].found).toBe('20 s + walUploadBudgetSeconds 15 s + walRetrieveRetryIntervalSeconds 5 s = 40 s that a DR site can lag behind when its stream is broken');
    expect(issues[0].fix).toBe('set archiveTimeoutSeconds to 10 or less');
  });

  it('a standby region with autoscaling fails: it serves no users', () => {
    const issues = issuesFor((f) => (f['eu-central-1.yaml'].autoscaling = structuredClone(f['us-east-1.yaml'].autoscaling)));
    expect(where(issues)).toEqual(['eu-central-1.yaml autoscaling']);
    expect(issues[0].found).toBe('set');
    expect(issues[0].expected).toBe('absent: a standby region (role: standby) serves no users');
    expect(issues[0].fix).toBe('remove autoscaling, or make the region a secondary');
  });

  it('a standby region with an app namespace fails: it runs no API or web front end', () => {
    const app = issuesFor((f) => (f['ap-southeast-2.yaml'].namespaces.app = structuredClone(f['ap-southeast-1.yaml'].namespaces.app)));
    expect(where(app)).toEqual(['ap-southeast-2.yaml namespaces.app']);
    expect(app[0].fix).toBe('remove namespaces.app');
  });

  it('a secondary region without dns fails: it serves users', () => {
    const issues = issuesFor((f) => delete f['us-west-2.yaml'].dns);
    expect(where(issues)).toEqual(['us-west-2.yaml dns']);
    expect(issues[0].found).toBe('nothing (field missing)');
    expect(issues[0].expected).toBe('dns: a secondary region serves users');
    expect(issues[0].fix).toBe('add dns (see regions/us-east-1.yaml), or set role: standby');
  });

  it('a standby region that hosts no DR site fails', () => {
    const issues = issuesFor((f) => {
      // A new EU standby region no shard points at.
      const north = structuredClone(f['eu-central-1.yaml']);
      Object.assign(north, {
        name: 'eu-north-1',
        zones: ['eu-north-1a', 'eu-north-1b', 'eu-north-1c'],
        rolloutWave: 7,
        eastWestGateway: 'eastwest.eu-north-1.bookedbarber.internal',
        vpcCidrs: ['10.70.0.0/16'],
        cluster: { name: 'bookedbarber-eu-north-1', server: 'https://api.eu-north-1.k8s.bookedbarber.internal' },
        backup: { bucket: 's3://bookedbarber-pitr-eu-north-1' },
        storage: { kmsKeyArn: 'arn:aws:kms:eu-north-1:123456789012:alias/bookedbarber-ebs' },
      });
      f['eu-north-1.yaml'] = north;
    });
    expect(where(issues)).toEqual(['eu-north-1.yaml role']);
    expect(issues[0].found).toBe('"standby" with no DR site hosted here');
    expect(issues[0].expected).toBe('a region named by some shard\'s disasterRecovery.region');
    expect(issues[0].fix).toBe('point a shard of residency "eu" at eu-north-1, or delete this file');
  });

  it('two regions writing one backup bucket fail: the DR copy must survive the loss of the home bucket', () => {
    const issues = issuesFor((f) => (f['us-west-2.yaml'].backup.bucket = 's3://bookedbarber-pitr-us-east-1'));
    expect(where(issues)).toEqual(['us-west-2.yaml backup.bucket']);
    expect(issues[0].found).toBe('s3://bookedbarber-pitr-us-east-1');
    expect(issues[0].expected).toBe('a bucket of its own (us-east-1 writes to bookedbarber-pitr-us-east-1); a DR site\'s copy must survive the loss of the home region\'s bucket');
    expect(issues[0].fix).toBe('use a bucket in us-west-2, e.g. s3://bookedbarber-pitr-us-west-2');
  });
});

describe('npm run synth on a DR config that breaks residency', () => {
  it('exits 1, names regions/eu-west-1.yaml, its line and field, and leaves the output untouched', () => {
    const out = path.join(tempDir('bb-dist-'), 'dist');
    writeTree(out, readTree(path.join(REPO_ROOT, 'dist')));
    fs.writeFileSync(path.join(out, 'eu-west-1', 'namespaces.yaml'), 'hand edit\n');
    const before = readTree(out);
    const regions = regionsFolderWithText('eu-west-1.yaml', EU_DR_LINE, '      region: us-east-1');
    const result = runSynth(['--out', out, '--regions', regions]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`/regions/eu-west-1.yaml:${lineOf('eu-west-1.yaml', EU_DR_LINE)}:7  shards[0].disasterRecovery.region\n    found:    "us-east-1" (residency "us")`);
    expect(result.stderr).toContain('    fix:      set it to one of eu-central-1');
    expect(result.stderr).toContain('synth: nothing written;');
    expect(result.stderr).toContain('is unchanged.');
    expect(result.stdout).not.toMatch(/^synth: wrote/m);
    expect(readTree(out)).toEqual(before);
    expect(fs.readdirSync(path.dirname(out))).toEqual(['dist']);
  }, 120_000);
});
