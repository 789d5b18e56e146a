/**
 * Every field of the region model has a domain bound, not only a type (issue 15 item 2): a
 * value out of bounds is refused with file:line:col, the field path, what was found, what is
 * expected (with where the bound comes from) and the fix. The last tests walk the JSON Schemas
 * so that a new field cannot come in unbounded.
 */
import { describe, expect, it } from 'vitest';
import type { TSchema } from '@sinclair/typebox';
import { formatIssue, formatPath, type ConfigIssue } from '../../regions/config-error';
import { FORMATS } from '../../regions/formats';
import { SCHEMA_FILES } from '../../regions/model';
import { VERSIONS_SCHEMA_FILES } from '../../regions/versions-model';
import { configError, regionsWith, regionsWithText, type RegionFiles } from '../support/regions';

/** The one issue about `field` when the files are changed by `mutate`. */
function issueAt(field: string, mutate: (files: RegionFiles) => void): ConfigIssue {
  const issues = configError(regionsWith(mutate)).issues;
  const issue = issues.find((i) => formatPath(i.path) === field);
  if (!issue) throw new Error(`no issue at ${field}; got:\n${issues.map(formatIssue).join('\n')}`);
  return issue;
}

/** The message names the field (with its line) and says what to do. */
function expectLocatedWithFix(issue: ConfigIssue, field: string): void {
  expect(formatIssue(issue)).toMatch(new RegExp(`^\\S+\\.yaml:\\d+:\\d+  ${field.replace(/[.[\]]/g, '\\$&')}\\n    found: `));
  expect(issue.line).toBeGreaterThanOrEqual(1);
  expect(issue.fix).toBeTruthy();
}

describe('numeric bounds', () => {
  it('a replica count of 1,000,000,000 is refused, with the bound and its source', () => {
    const issue = issueAt('autoscaling.api.maxReplicas', (f) => (f['eu-west-1.yaml'].autoscaling.api.maxReplicas = 1_000_000_000));
    expectLocatedWithFix(issue, 'autoscaling.api.maxReplicas');
    expect(issue.found).toBe('1000000000');
    expect(issue.expected).toMatch(/^at most 2000 \(HPA maximum pods .*1,000 API pods a region/);
    expect(issue.fix).toBe('lower autoscaling.api.maxReplicas to 2000 or less');
  });

  it('a count below its minimum says how far to raise it', () => {
    const issue = issueAt('shards[0].pgbouncer.replicas', (f) => (f['us-east-1.yaml'].shards[0].pgbouncer.replicas = 1));
    expectLocatedWithFix(issue, 'shards[0].pgbouncer.replicas');
    expect(issue.fix).toBe('raise shards[0].pgbouncer.replicas to 2 or more');
  });

  it('a port outside 1024..65535', () => {
    const issue = issueAt('workloads.api.port', (f) => (f['global.yaml'].workloads.api.port = 70000));
    expectLocatedWithFix(issue, 'workloads.api.port');
    expect(issue.fix).toBe('lower workloads.api.port to 65535 or less');
  });

  it('a percentage above 100', () => {
    const issue = issueAt('tracing.baselineSamplingPercent', (f) => (f['global.yaml'].tracing.baselineSamplingPercent = 150));
    expectLocatedWithFix(issue, 'tracing.baselineSamplingPercent');
    expect(issue.expected).toMatch(/^at most 100/);
  });

  it('a TTL of years', () => {
    const issue = issueAt('redis.ttlSeconds.sessions', (f) => (f['global.yaml'].redis.ttlSeconds.sessions = 999_999_999));
    expectLocatedWithFix(issue, 'redis.ttlSeconds.sessions');
    expect(issue.expected).toContain('30 days');
    expect(issue.fix).toBe('lower redis.ttlSeconds.sessions to 2592000 or less');
  });

  it('a backup retention count', () => {
    const issue = issueAt('postgres.retainFullBackups', (f) => (f['global.yaml'].postgres.retainFullBackups = 5000));
    expectLocatedWithFix(issue, 'postgres.retainFullBackups');
    expect(issue.fix).toBe('lower postgres.retainFullBackups to 90 or less');
  });

  it('a list longer than its bound', () => {
    const issue = issueAt('zones', (f) => (f['us-east-1.yaml'].zones = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((z) => `us-east-1${z}`)));
    expectLocatedWithFix(issue, 'zones');
    expect(issue.found).toBe('7 entries');
    expect(issue.fix).toBe('remove 1 of the entries of zones');
  });

  it('a number typed with a no-break space names the character and gives the plain number', () => {
    const issue = configError(regionsWithText('global.yaml', 'rpoSeconds: 30', 'rpoSeconds: "3\u00a00"')).issues[0];
    expectLocatedWithFix(issue, 'postgres.rpoSeconds');
    expect(issue.found).toContain('U+00A0 NO-BREAK SPACE at position 2');
    expect(issue.fix).toBe('write 30: a plain number, no spaces or quotes');
  });
});

describe('quantities', () => {
  it('16Ei of memory is refused, saying how much that is and the largest node', () => {
    const issue = issueAt('postgres.resources.limits.memory', (f) => (f['global.yaml'].postgres.resources.limits.memory = '16Ei'));
    expectLocatedWithFix(issue, 'postgres.resources.limits.memory');
    expect(issue.found).toBe('"16Ei" (16 EiB): above the maximum 1536Gi');
    expect(issue.expected).toContain('r7i.48xlarge');
    expect(issue.fix).toBe('lower postgres.resources.limits.memory to 1536Gi or less');
  });

  it('memory in millis (512m = 0.512 bytes) is refused with the suffix meant', () => {
    const issue = issueAt('workloads.web.resources.requests.memory', (f) => (f['global.yaml'].workloads.web.resources.requests.memory = '512m'));
    expectLocatedWithFix(issue, 'workloads.web.resources.requests.memory');
    expect(issue.fix).toBe('write 512Mi (mebibytes) or 512M (megabytes)');
  });

  it('a volume above the EBS maximum', () => {
    const issue = issueAt('shards[0].storage.size', (f) => (f['us-east-1.yaml'].shards[0].storage.size = '20Ti'));
    expectLocatedWithFix(issue, 'shards[0].storage.size');
    expect(issue.expected).toContain('EBS gp3 volume is 1 GiB to 16 TiB');
    expect(issue.fix).toBe('lower shards[0].storage.size to 16Ti or less');
  });

  it('a namespace quota far beyond any cluster', () => {
    const issue = issueAt('namespaces.data.quota.requestsCpu', (f) => (f['us-east-1.yaml'].namespaces.data.quota.requestsCpu = '1000000'));
    expectLocatedWithFix(issue, 'namespaces.data.quota.requestsCpu');
    expect(issue.fix).toBe('lower namespaces.data.quota.requestsCpu to 10000 or less');
  });
});

describe('durations', () => {
  it('999999h for an analysis interval is refused', () => {
    const issue = issueAt('delivery.api.analysis.interval', (f) => (f['global.yaml'].delivery.api.analysis.interval = '999999h'));
    expectLocatedWithFix(issue, 'delivery.api.analysis.interval');
    expect(issue.found).toBe('"999999h": above the maximum 20m');
    expect(issue.fix).toBe('lower delivery.api.analysis.interval to 20m or less');
  });

  it('a unit the field does not take is refused with the same time in one it does', () => {
    const issue = issueAt('nodes.consolidateAfter', (f) => (f['global.yaml'].nodes.consolidateAfter = '1d'));
    expectLocatedWithFix(issue, 'nodes.consolidateAfter');
    expect(issue.found).toBe('"1d": unit "d" (days) is not accepted here (s, m, h)');
    expect(issue.fix).toBe('write 24h');
  });

  it('a retention below what Prometheus keeps', () => {
    const issue = issueAt('monitoring.prometheus.retention', (f) => (f['global.yaml'].monitoring.prometheus.retention = '1h'));
    expectLocatedWithFix(issue, 'monitoring.prometheus.retention');
    expect(issue.fix).toBe('raise monitoring.prometheus.retention to 2h or more');
  });
});

describe('structured strings', () => {
  it('a cron with hour 25 is refused', () => {
    const issue = issueAt('postgres.baseBackupSchedule', (f) => (f['global.yaml'].postgres.baseBackupSchedule = '15 25 * * *'));
    expectLocatedWithFix(issue, 'postgres.baseBackupSchedule');
    expect(issue.found).toBe('"15 25 * * *": hour 25 is outside 0-23');
    expect(issue.expected).toMatch(/^a cron schedule of 5 fields/);
    expect(issue.fix).toBe('use an hour from 0 to 23');
  });

  it('an http URL', () => {
    const issue = issueAt('cluster.server', (f) => (f['us-west-2.yaml'].cluster.server = 'http://api.us-west-2.k8s.bookedbarber.internal'));
    expectLocatedWithFix(issue, 'cluster.server');
    expect(issue.fix).toBe('write "https://api.us-west-2.k8s.bookedbarber.internal"');
  });

  it('a host name with upper case or a scheme (RFC 1123)', () => {
    const issue = issueAt('ingress.apiHost', (f) => (f['global.yaml'].ingress.apiHost = 'https://API.bookedbarber.com/'));
    expectLocatedWithFix(issue, 'ingress.apiHost');
    expect(issue.fix).toBe('write the host name only: "api.bookedbarber.com"');
  });

  it('an e-mail address with a display name', () => {
    const issue = issueAt('monitoring.alertmanager.emailFrom', (f) => (f['global.yaml'].monitoring.alertmanager.emailFrom = 'Alerts <alertmanager@bookedbarber.com>'));
    expectLocatedWithFix(issue, 'monitoring.alertmanager.emailFrom');
    expect(issue.fix).toBe('write the address only: "alertmanager@bookedbarber.com"');
  });

  it('a version that is not a label value', () => {
    const issue = issueAt('releases.api.version', (f) => (f['global.yaml'].releases.api.version = '2.14.3-'));
    expectLocatedWithFix(issue, 'releases.api.version');
    expect(issue.fix).toBe('start and end it with a letter or digit');
  });

  it('a DNS label with an underscore', () => {
    const issue = issueAt('secretStore.name', (f) => (f['global.yaml'].secretStore.name = 'bookedbarber_vault'));
    expectLocatedWithFix(issue, 'secretStore.name');
    expect(issue.fix).toBe('write "bookedbarber-vault"');
  });

  it('a string longer than its bound', () => {
    const issue = issueAt('pricing.sources[0]', (f) => (f['global.yaml'].pricing.sources[0] = `https://aws.amazon.com/${'a'.repeat(2100)}`));
    expectLocatedWithFix(issue, 'pricing.sources[0]');
    expect(issue.fix).toBe('shorten pricing.sources[0] to 2048 characters or fewer');
  });

  it('a value its pattern refuses gets the near miss it probably meant', () => {
    const issue = issueAt('name', (f) => (f['us-west-2.yaml'].name = 'US-West-2'));
    expectLocatedWithFix(issue, 'name');
    expect(issue.fix).toBe('write "us-west-2"');
    const other = issueAt('monitoring.alertmanager.slackChannel', (f) => (f['global.yaml'].monitoring.alertmanager.slackChannel = 'bookedbarber-alerts'));
    expect(other.fix).toBe('change monitoring.alertmanager.slackChannel so that it matches ^#[a-z0-9_-]+$');
  });

  it('a date that is not in the calendar', () => {
    const issue = issueAt('pricing.date', (f) => (f['global.yaml'].pricing.date = '2026-02-30'));
    expectLocatedWithFix(issue, 'pricing.date');
    expect(issue.found).toBe('"2026-02-30": no such day in the calendar');
  });
});

describe('look-alike characters are named in the message', () => {
  it('a region name typed with U+2011 NON-BREAKING HYPHEN', () => {
    const issue = configError(regionsWithText('us-west-2.yaml', 'name: us-west-2', 'name: us\u2011west\u20112')).issues.find((i) => formatPath(i.path) === 'name')!;
    expectLocatedWithFix(issue, 'name');
    expect(issue.found).toBe('"us‑west‑2": the character U+2011 NON-BREAKING HYPHEN at position 3 looks like \'-\' (and 1 more such character at position 8)');
    expect(issue.fix).toBe('type a plain hyphen-minus: "us-west-2"');
  });

  it('a Cyrillic letter in an enumerated value', () => {
    const issue = issueAt('role', (f) => (f['us-west-2.yaml'].role = 'sec\u043endary'));
    expect(issue.found).toContain('U+043E CYRILLIC SMALL LETTER O at position 4');
    expect(issue.fix).toBe('type the plain letter \'o\': "secondary"');
  });

  it('an en dash in a cron schedule', () => {
    const issue = issueAt('postgres.baseBackupSchedule', (f) => (f['global.yaml'].postgres.baseBackupSchedule = '15 1\u20133 * * *'));
    expect(issue.found).toContain('U+2013 EN DASH at position 5 looks like \'-\'');
    expect(issue.fix).toBe('type a plain hyphen-minus: "15 1-3 * * *"');
  });

  it('a zero-width space in a request path', () => {
    const issue = issueAt('workloads.api.livenessPath', (f) => (f['global.yaml'].workloads.api.livenessPath = '/healthz\u200b'));
    expect(issue.found).toContain('U+200B ZERO WIDTH SPACE at position 9 is invisible');
    expect(issue.fix).toBe('delete the invisible character: "/healthz"');
  });

  it('curly quotes in a text the smoke test looks for', () => {
    const issue = issueAt('delivery.web.smokeTest.homeMarker', (f) => (f['global.yaml'].delivery.web.smokeTest.homeMarker = '<title>Booked\u200dBarber'));
    expect(issue.found).toContain('U+200D ZERO WIDTH JOINER');
  });

  it('a Cyrillic letter in a field name', () => {
    const issue = configError(regionsWithText('us-east-1.yaml', '    readReplicas: 3', '    r\u0435adReplicas: 3')).issues[0];
    expect(issue.found).toContain('U+0435 CYRILLIC SMALL LETTER IE at position 2');
    expect(issue.fix).toBe('type the plain letter \'e\': "readReplicas"');
  });
});

// ---------------------------------------------------------------------------------------------
// Every field bounded: walks the JSON Schemas the loader checks.

/**
 * Justified exceptions: JSON path in the schema → why that field needs no bound. Each entry
 * must still exist (checked below), so the list cannot rot. Empty today: every field is
 * bounded. Add an entry only with a reason a reviewer can check.
 */
const UNBOUNDED_ALLOWED: ReadonlyMap<string, string> = new Map<string, string>([
  // ['global.schema.json#/properties/example', 'why no maximum can exist'],
]);

interface Leaf {
  readonly where: string;
  readonly schema: Record<string, any>;
}

function leaves(schema: Record<string, any>, where: string, out: Leaf[] = []): Leaf[] {
  if (schema.anyOf) {
    if (schema.anyOf.every((s: Record<string, unknown>) => s.const !== undefined)) return out; // an enumeration: bounded
    schema.anyOf.forEach((s: Record<string, any>, i: number) => leaves(s, `${where}/anyOf/${i}`, out));
    return out;
  }
  out.push({ where, schema });
  if (schema.type === 'object') {
    for (const [key, value] of Object.entries(schema.properties ?? {})) leaves(value as Record<string, any>, `${where}/properties/${key}`, out);
    for (const [key, value] of Object.entries(schema.patternProperties ?? {})) leaves(value as Record<string, any>, `${where}/patternProperties/${key}`, out);
  }
  if (schema.type === 'array') leaves(schema.items, `${where}/items`, out);
  return out;
}

/** A pattern that fixes the length by itself (no +, *, or open {n,}): sha256:[a-f0-9]{64}. */
function boundedPattern(pattern: string | undefined): boolean {
  return pattern !== undefined && !/[+*]|\{\d+,\}/.test(pattern.replace(/\\./g, ''));
}

function unbounded(leaf: Leaf): string | undefined {
  const s = leaf.schema;
  if (s.const !== undefined) return undefined;
  switch (s.type) {
    case 'integer':
    case 'number':
      if (s.maximum === undefined && s.exclusiveMaximum === undefined) return 'a number without a maximum';
      if (s.minimum === undefined && s.exclusiveMinimum === undefined) return 'a number without a minimum';
      return undefined;
    case 'string':
      if (s.maxLength === undefined && !boundedPattern(s.pattern)) return 'a string without maxLength (or a fixed-length pattern)';
      if (s.pattern === undefined && s.format === undefined) return 'a string without a pattern or format (its structure is unchecked)';
      if (s.format !== undefined && FORMATS[s.format]?.measure && (s.formatMinimum === undefined || s.formatMaximum === undefined)) {
        return `a ${s.format} without formatMinimum and formatMaximum`;
      }
      return undefined;
    case 'array':
      return s.maxItems === undefined ? 'a list without maxItems' : undefined;
    case 'object':
      return s.patternProperties && s.maxProperties === undefined ? 'a map without maxProperties' : undefined;
    case 'boolean':
      return undefined;
    default:
      return `a field of type ${JSON.stringify(s.type)} the walk does not know`;
  }
}

const SCHEMAS: Array<[string, TSchema]> = [...Object.entries(SCHEMA_FILES), ...Object.entries(VERSIONS_SCHEMA_FILES)];

describe('no field is unbounded', () => {
  it('every number has a minimum and a maximum, every string a length bound and a structure, every list and map a size bound', () => {
    const found: string[] = [];
    for (const [file, schema] of SCHEMAS) {
      for (const leaf of leaves(JSON.parse(JSON.stringify(schema)), `${file}#`)) {
        const problem = unbounded(leaf);
        if (problem && !UNBOUNDED_ALLOWED.has(leaf.where)) found.push(`${leaf.where}: ${problem}`);
      }
    }
    expect(found).toEqual([]);
  });

  it('the walk sees every kind of field (so a schema change cannot make it vacuous)', () => {
    const all = SCHEMAS.flatMap(([file, schema]) => leaves(JSON.parse(JSON.stringify(schema)), `${file}#`));
    const types = new Set(all.map((l) => l.schema.type));
    expect([...types].sort()).toEqual(['array', 'integer', 'number', 'object', 'string']);
    expect(all.length).toBeGreaterThan(300);
    // A field with no maximum is caught:
    expect(unbounded({ where: 'x', schema: { type: 'integer', minimum: 1 } })).toBe('a number without a maximum');
    expect(unbounded({ where: 'x', schema: { type: 'string', minLength: 1 } })).toMatch(/without maxLength/);
    expect(unbounded({ where: 'x', schema: { type: 'string', maxLength: 9, format: 'duration' } })).toMatch(/without formatMinimum/);
  });

  it('every allow-listed exception still exists and says why', () => {
    const paths = new Set(SCHEMAS.flatMap(([file, schema]) => leaves(JSON.parse(JSON.stringify(schema)), `${file}#`).map((l) => l.where)));
    for (const [where, why] of UNBOUNDED_ALLOWED) {
      expect(paths.has(where), where).toBe(true);
      expect(why.length, where).toBeGreaterThan(20);
    }
  });

  it('every bound of a duration or quantity parses in its own format', () => {
    for (const [file, schema] of SCHEMAS) {
      for (const leaf of leaves(JSON.parse(JSON.stringify(schema)), `${file}#`)) {
        const { format, formatMinimum, formatMaximum } = leaf.schema;
        for (const bound of [formatMinimum, formatMaximum].filter((b) => b !== undefined)) {
          expect(FORMATS[format]?.measure?.(bound), `${leaf.where}: ${bound}`).toBeTypeOf('number');
        }
      }
    }
  });
});
