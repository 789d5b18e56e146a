/**
 * Loading regions/: schema errors and YAML errors point at the file and line, the field path,
 * what was found and what is expected. Guards issue #2 item 3.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatIssue, formatPath } from '../../regions/config-error';
import { loadPlan } from '../../regions/load';
import { regionNamespaces } from '../../regions/plan';
import { renderRegionSchemas, SCHEMA_DIR } from '../../tools/write-region-schema';
import { configError, regionsWith, regionsWithText, REGIONS_DIR, tempDir } from '../support/regions';


describe('loading the region model', () => {
  it('an unknown field is rejected with its line and the field it was probably meant to be', () => {
    const error = configError(regionsWithText('us-east-1.yaml', '    readReplicas: 3', '    readReplica: 3'));
    expect(error.issues).toHaveLength(1);
    const [issue] = error.issues;
    const lines = fs.readFileSync(path.join(REGIONS_DIR, 'us-east-1.yaml'), 'utf8').split('\n');
    expect(issue.line).toBe(lines.findIndex((l) => l === '    readReplicas: 3') + 1);
    expect(formatPath(issue.path)).toBe('shards[0].readReplica');
    expect(issue.fix).toBe('rename "readReplica" to "readReplicas"');
    expect(formatIssue(issue)).toMatch(/^.*us-east-1\.yaml:\d+:5 {2}shards\[0\]\.readReplica\n {4}found: {4}unknown field "readReplica"/);
  });

  it('a wrong type names the path, the value found and the type expected', () => {
    const error = configError(regionsWithText('eu-west-1.yaml', /maxReplicas: 1000/, 'maxReplicas: lots'));
    const [issue] = error.issues;
    expect(formatPath(issue.path)).toBe('autoscaling.api.maxReplicas');
    expect(issue.found).toBe('"lots"');
    expect(issue.expected).toContain('must be integer');
  });

  it('a value outside an enumeration lists the allowed values', () => {
    const error = configError(regionsWith((f) => (f['us-west-2.yaml'].residency = 'mars')));
    const issue = error.issues.find((i) => formatPath(i.path) === 'residency');
    expect(issue?.expected).toContain('one of "us", "eu", "apac"');
  });

  it('a missing required field is reported on its parent', () => {
    const error = configError(regionsWith((f) => delete f['us-west-2.yaml'].cluster.server));
    expect(error.issues.map((i) => [formatPath(i.path), i.found])).toEqual([['cluster', 'no field "server"']]);
  });

  it('broken YAML names the file and line', () => {
    const error = configError(regionsWithText('ap-southeast-1.yaml', 'rolloutWave: 4', 'rolloutWave: [4'));
    expect(error.issues[0].file).toMatch(/ap-southeast-1\.yaml$/);
    expect(error.issues[0].expected).toBe('valid YAML');
    expect(error.issues[0].line).toBeGreaterThan(1);
  });

  it('a duplicate key is an error, not a silent override', () => {
    const error = configError(regionsWithText('us-east-1.yaml', 'rolloutWave: 1', 'rolloutWave: 1\nrolloutWave: 2'));
    expect(error.issues[0].found).toMatch(/unique/i);
  });

  it('problems in several files are reported together', () => {
    const dir = regionsWith((f) => {
      f['us-east-1.yaml'].provider = 'oracle';
      f['global.yaml'].platform.extra = true;
    });
    const files = configError(dir).issues.map((i) => path.basename(i.file));
    expect(files).toEqual(['global.yaml', 'us-east-1.yaml']);
  });

  it('a folder without global.yaml says what is missing', () => {
    const dir = tempDir();
    expect(configError(dir).issues[0].expected).toContain('global.yaml');
  });

  it('the plan orders regions by rollout wave and derives namespace names once', () => {
    const plan = loadPlan(REGIONS_DIR);
    // The standby-only regions (DR sites of the EU and APAC shards) roll out last.
    expect(plan.regions.map((r) => r.region.name)).toEqual(['us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-1', 'eu-central-1', 'ap-southeast-2']);
    expect(plan.regions.map((r) => r.region.role)).toEqual(['primary', 'secondary', 'secondary', 'secondary', 'standby', 'standby']);
    expect(plan.regions[0].namespaces).toEqual({ app: 'bookedbarber-app', data: 'bookedbarber-data', monitoring: 'bookedbarber-monitoring' });
    // A standby region owns no app namespace (it runs no API or web front end).
    expect(regionNamespaces(plan.regions[0])).toEqual(['bookedbarber-app', 'bookedbarber-data', 'bookedbarber-monitoring']);
    expect(regionNamespaces(plan.regions[4])).toEqual(['bookedbarber-data', 'bookedbarber-monitoring']);
  });
});

describe('region schema files for editors', () => {
  it('regions/schema/*.json are up to date with regions/model.ts (run `npm run schema`)', () => {
    for (const [file, text] of Object.entries(renderRegionSchemas())) {
      expect(fs.readFileSync(path.join(SCHEMA_DIR, file), 'utf8'), file).toBe(text);
    }
  });

  it('every region file carries the yaml-language-server modeline for its schema', () => {
    for (const name of fs.readdirSync(REGIONS_DIR).filter((n) => n.endsWith('.yaml'))) {
      const first = fs.readFileSync(path.join(REGIONS_DIR, name), 'utf8').split('\n')[0];
      const schema = { 'global.yaml': 'global.schema.json', 'versions.yaml': 'versions.schema.json' }[name] ?? 'region.schema.json';
      expect(first, name).toBe(`# yaml-language-server: $schema=./schema/${schema}`);
    }
  });

  it.each(['region.schema.json', 'versions.schema.json'])('%s rejects unknown fields at every level', (file) => {
    const schema = JSON.parse(renderRegionSchemas()[file]!);
    const objects: unknown[] = [];
    const walk = (node: any) => {
      if (node && typeof node === 'object') {
        if (node.type === 'object') objects.push(node);
        Object.values(node).forEach(walk);
      }
    };
    walk(schema);
    expect(objects.length).toBeGreaterThan(5);
    for (const o of objects) expect((o as { additionalProperties?: boolean }).additionalProperties).toBe(false);
  });
});
