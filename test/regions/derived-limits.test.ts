/**
 * Issue 15 item 1: limits of what the charts derive from the config (regions/derived-invariants.ts).
 * Each used to be a chart's raw `throw` after the config checks; now it is a located problem
 * naming the field that causes it, and the name limits are exact: platform.name at the longest
 * the invariant allows renders and validates, one character more is refused at platform.name.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { definition } from '../../main';
import { ConfigError, formatPath, type ConfigIssue } from '../../regions/config-error';
import { LONGEST_DASHBOARD_KEY, WORKLOAD_METRICS_PORT } from '../../regions/derived-invariants';
import { loadPlan } from '../../regions/load';
import { loadModel } from '../../regions/load';
import { synth } from '../../tools/synth/run';
import { issuesFor, REGIONS_DIR, REPO_ROOT, tempDir } from '../support/regions';

/** The single issue at `field` (other issues may exist; this one must be there, with a fix). */
function at(issues: ConfigIssue[], file: string, field: string): ConfigIssue {
  const found = issues.filter((i) => i.file.endsWith(`/${file}`) && formatPath(i.path) === field);
  expect(found, issues.map((i) => `${i.file.split('/').pop()} ${formatPath(i.path)}`).join('\n')).toHaveLength(1);
  expect(found[0]!.line).toBeGreaterThan(0);
  expect(found[0]!.fix).toBeTruthy();
  return found[0]!;
}

/** The shipped regions/ with another platform name (and the StorageClass names derived from it). */
function withPlatform(name: string): string {
  const dir = tempDir('bb-platform-');
  for (const file of fs.readdirSync(REGIONS_DIR).filter((n) => n.endsWith('.yaml'))) {
    let text = fs.readFileSync(path.join(REGIONS_DIR, file), 'utf8').split('bookedbarber-gp3-').join(`${name}-gp3-`);
    if (file === 'global.yaml') text = text.replace(/^(platform:\n {2}name: )bookedbarber$/m, `$1${name}`);
    fs.writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

function platformIssues(name: string): ConfigIssue[] {
  try {
    loadModel(withPlatform(name));
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return [...error.issues];
    throw error;
  }
}

describe('derived limits', () => {
  it('a container request above its limit is refused at the request, for every resources block of global.yaml', () => {
    const postgres = at(issuesFor((f) => (f['global.yaml'].postgres.resources.requests.memory = '32Gi')), 'global.yaml', 'postgres.resources.requests.memory');
    expect(postgres.expected).toContain('postgres.resources.limits.memory (16Gi)');
    at(issuesFor((f) => (f['global.yaml'].redis.tiers.rateLimit.resources.limits.memory = '512Mi')), 'global.yaml', 'redis.tiers.rateLimit.resources.requests.memory');
    at(issuesFor((f) => (f['global.yaml'].mesh.sidecar.limits.memory = '64Mi')), 'global.yaml', 'mesh.sidecar.requests.memory');
  });

  it('a quantity beyond what Kubernetes can hold is refused where it is written', () => {
    // 99999999999Ti is about 1.1e24 bytes: past resource.Quantity's int64 of milli-units. (The
    // model's own bounds may refuse it first; either way it is located at the field, with a fix.)
    at(issuesFor((f) => (f['us-east-1.yaml'].namespaces.data.quota.requestsStorage = '99999999999Ti')), 'us-east-1.yaml', 'namespaces.data.quota.requestsStorage');
  });

  it('the base backup schedule must be cron the sidecar evaluates: hour 25, names and 4 fields are refused', () => {
    for (const schedule of ['15 25 * * *', '15 2 * * MON', '61 2 * * *', '15 02 * * *']) {
      const issue = at(issuesFor((f) => (f['global.yaml'].postgres.baseBackupSchedule = schedule)), 'global.yaml', 'postgres.baseBackupSchedule');
      expect(issue.found).toContain(schedule);
    }
  });

  it('settings a chart refuses are refused at their field first', () => {
    at(issuesFor((f) => (f['global.yaml'].mesh.traceSamplingPercent = 50)), 'global.yaml', 'mesh.traceSamplingPercent');
    at(issuesFor((f) => (f['global.yaml'].monitoring.prometheus.storage.size = '1Gi')), 'global.yaml', 'monitoring.prometheus.storage.size');
    at(issuesFor((f) => delete f['global.yaml'].tracing.jaeger.storage.elasticsearch), 'global.yaml', 'tracing.jaeger.storage');
    const web = at(issuesFor((f) => (f['global.yaml'].delivery.web.scaleDownDelaySeconds = 120)), 'global.yaml', 'delivery.web.scaleDownDelaySeconds');
    expect(web.expected).toContain('> 300');
    at(issuesFor((f) => (f['global.yaml'].pricing.regions['us-east-1'].referenceInstances[1].memoryGiB = 16)), 'global.yaml', 'pricing.regions.us-east-1.referenceInstances');
  });

  it('an RTO below the worst-case Patroni failover is refused at postgres.rtoSeconds, also when DNS failover fits', () => {
    const issue = at(
      issuesFor((f) => {
        f['global.yaml'].postgres.rtoSeconds = 60;
        f['global.yaml'].dns.ttlSeconds = 10;
        f['global.yaml'].dns.healthCheck.failureThreshold = 1;
      }),
      'global.yaml',
      'postgres.rtoSeconds',
    );
    expect(issue.fix).toMatch(/set postgres.rtoSeconds to \d+ or more/);
  });

  it('a workload port equal to its metrics port is refused at workloads.<w>.port', () => {
    expect(loadPlan(REGIONS_DIR).regions[0]!.names.api.metricsPort).toBe(WORKLOAD_METRICS_PORT);
    expect(loadPlan(REGIONS_DIR).regions[0]!.names.web.metricsPort).toBe(WORKLOAD_METRICS_PORT);
    at(issuesFor((f) => (f['global.yaml'].workloads.web.port = WORKLOAD_METRICS_PORT)), 'global.yaml', 'workloads.web.port');
  });

  it('a workload port the Istio sidecar holds is refused at workloads.<w>.port (its policies would silently drop the port)', () => {
    for (const port of [15090, 15021, 15006]) {
      const issue = at(issuesFor((f) => (f['global.yaml'].workloads.api.port = port)), 'global.yaml', 'workloads.api.port');
      expect(issue.found).toBe(String(port));
      expect(issue.fix).toBe('use another port, e.g. 8080');
    }
    at(issuesFor((f) => (f['global.yaml'].workloads.web.port = 15000)), 'global.yaml', 'workloads.web.port');
    expect(issuesFor((f) => (f['global.yaml'].workloads.api.port = 15100))).toEqual([]);
  });

  it('an analysis whose failureLimit reaches its count (it could never fail a release) is refused at failureLimit', () => {
    for (const w of ['api', 'web'] as const) {
      const issue = at(issuesFor((f) => (f['global.yaml'].delivery[w].analysis.failureLimit = f['global.yaml'].delivery[w].analysis.count)), 'global.yaml', `delivery.${w}.analysis.failureLimit`);
      expect(issue.found).toBe('5');
      expect(issue.expected).toContain('below count (5)');
      expect(issue.fix).toBe(`set delivery.${w}.analysis.failureLimit to 1 (at most 4), or raise count`);
    }
    expect(issuesFor((f) => (f['global.yaml'].delivery.api.analysis.failureLimit = 4))).toEqual([]);
  });

  it('a base backup age threshold the schedule cannot meet is refused: the longest gap plus the 6 h a backup may take', () => {
    // Daily at 02:15: 24 h + 6 h = 30 h, so 30 pages every day and 31 (shipped) does not.
    const daily = at(issuesFor((f) => (f['global.yaml'].postgres.baseBackupMaxAgeHours = 30)), 'global.yaml', 'postgres.baseBackupMaxAgeHours');
    expect(daily.expected).toContain('more than 30 h: the schedule "15 2 * * *" leaves up to 24 h between base backups');
    expect(daily.fix).toBe('set postgres.baseBackupMaxAgeHours to 31, or schedule backups more often');
    // Mondays and Thursdays: the longest gap is Thursday to Monday, 96 h; 102 h needed.
    const twice = issuesFor((f) => {
      f['global.yaml'].postgres.baseBackupSchedule = '0 3 * * 1,4';
      f['global.yaml'].postgres.baseBackupMaxAgeHours = 100;
    });
    expect(at(twice, 'global.yaml', 'postgres.baseBackupMaxAgeHours').fix).toBe('set postgres.baseBackupMaxAgeHours to 103, or schedule backups more often');
    expect(issuesFor((f) => {
      f['global.yaml'].postgres.baseBackupSchedule = '0 3 * * 1,4';
      f['global.yaml'].postgres.baseBackupMaxAgeHours = 103;
    })).toEqual([]);
    // Both day fields restricted: either matches (cron), so the 1st and every Sunday.
    const either = at(issuesFor((f) => {
      f['global.yaml'].postgres.baseBackupSchedule = '0 3 1 * 0';
      f['global.yaml'].postgres.baseBackupMaxAgeHours = 24;
    }), 'global.yaml', 'postgres.baseBackupMaxAgeHours');
    expect(either.expected).toMatch(/leaves up to 168 h between base backups/);
  });

  it('an API release gate looser than the latency SLO is refused at its maxLatencyP95Ms', () => {
    const issue = at(issuesFor((f) => (f['global.yaml'].monitoring.slo.latencyP95Ms = 50)), 'global.yaml', 'delivery.api.analysis.maxLatencyP95Ms');
    expect(issue.found).toBe('100');
    expect(issue.fix).toBe('set delivery.api.analysis.maxLatencyP95Ms to 50 (or loosen the SLO itself)');
    expect(issuesFor((f) => (f['global.yaml'].delivery.api.analysis.maxLatencyP95Ms = 80))).toEqual([]);
  });

  it('one host for the web and the API is refused at ingress.apiHost', () => {
    const issue = at(issuesFor((f) => (f['global.yaml'].ingress.apiHost = f['global.yaml'].ingress.webHost)), 'global.yaml', 'ingress.apiHost');
    expect(issue.found).toBe('book.bookedbarber.com');
    expect(issue.fix).toBe('use the API\'s own host, e.g. api.bookedbarber.com');
  });

  it('LONGEST_DASHBOARD_KEY is the longest key of the rendered dashboards', () => {
    const text = fs.readFileSync(path.join(REPO_ROOT, 'dist', 'us-east-1', 'dashboards.yaml'), 'utf8');
    const keys = [...new Set([...text.matchAll(/bookedbarber-([a-z0-9-]+)\.json/g)].map((m) => m[1]!))];
    expect(keys.length).toBeGreaterThan(0);
    expect(Math.max(...keys.map((k) => k.length))).toBe(LONGEST_DASHBOARD_KEY.length);
  });

  it('platform.name: the longest name the invariant allows renders and validates; one character more is refused at platform.name', () => {
    // The longest accepted name, found from the invariant itself.
    let longest = 1;
    for (let n = 63; n >= 1; n--) {
      if (platformIssues('p'.repeat(n)).length === 0) {
        longest = n;
        break;
      }
    }
    expect(longest).toBeGreaterThanOrEqual('bookedbarber'.length);
    const over = platformIssues('p'.repeat(longest + 1)).filter((i) => formatPath(i.path) === 'platform.name');
    expect(over.length).toBeGreaterThan(0);
    expect(over[0]!.fix).toContain(`${longest} characters or fewer`);
    expect(platformIssues('p'.repeat(longest))).toEqual([]);
    // Full synth, validation included (names <= 63, label values <= 63, Grafana uids <= 40).
    const out = path.join(tempDir('bb-platform-out-'), 'dist');
    expect(() => synth(definition, { regionsDir: withPlatform('p'.repeat(longest)), distDir: out })).not.toThrow();
    expect(fs.existsSync(path.join(out, 'us-east-1', 'dashboards.yaml'))).toBe(true);
  });
});
