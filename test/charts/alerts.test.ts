/**
 * The alerts chart (PrometheusRules). Guards issue #5 item 2: every alert carries severity,
 * team, summary, description and a runbook_url that exists in docs/runbooks; thresholds come
 * from the region model; the burn-rate pairs are the SRE workbook's; every expression parses
 * (@prometheus-io/lezer-promql) and reads only recorded series that a rule records. When the
 * rules fire is proven on promtool in test/real-servers/promtool.test.ts.
 */
import { isServingRegion } from '../../regions/model';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import { AlertsChart, ruleFiles } from '../../charts/monitoring/alerts-chart';
import { RUNBOOK_DIR } from '../../charts/monitoring/names';
import { runbooksOf, SEVERITIES, TEAMS, type PromRule } from '../../charts/monitoring/rules';
import { BURN_RATE_WINDOWS, errorBudget, SLI, SUCCESS_WINDOWS } from '../../charts/monitoring/slo';
import type { RegionPlan } from '../../regions/plan';
import { newApp, objectsOf, regionPlan, shippedPlan } from '../support/charts';
import { REPO_ROOT } from '../support/regions';
import { postgresNames } from '../../charts/postgres/names';
import { REDIS_TIERS, redisTopology, TIER_SLUG } from '../../charts/redis/topology';

const plan = regionPlan('us-east-1');
const rulesOf = (p: RegionPlan): PromRule[] => Object.values(ruleFiles(p)).flat().flatMap((g) => [...g.rules]);
const rules = rulesOf(plan);
const alerts = rules.filter((r) => r.alert);

/** Parse errors (offsets) and the metric names an expression selects. */
function parse(expr: string): { errors: number[]; metrics: string[] } {
  const errors: number[] = [];
  const metrics: string[] = [];
  parser.parse(expr).iterate({
    enter: (n) => {
      if (n.type.isError) errors.push(n.from);
      if (n.name === 'Identifier' && n.node.parent?.name === 'VectorSelector') metrics.push(expr.slice(n.from, n.to));
    },
  });
  return { errors, metrics };
}

/** The shipped plan with a changed global.monitoring.slo / postgres. */
function withConfig(slo: Partial<RegionPlan['global']['monitoring']['slo']>, rpoSeconds?: number): RegionPlan {
  const g = plan.global;
  return {
    ...plan,
    global: {
      ...g,
      monitoring: { ...g.monitoring, slo: { ...g.monitoring.slo, ...slo } },
      postgres: { ...g.postgres, rpoSeconds: rpoSeconds ?? g.postgres.rpoSeconds },
    },
  };
}
const exprOf = (p: RegionPlan, alert: string, severity = 'critical') => rulesOf(p).find((r) => r.alert === alert && r.labels?.severity === severity)?.expr ?? '';

describe('PrometheusRules', () => {
  it('renders five PrometheusRules in the monitoring namespace, selected by the Prometheus label', () => {
    const objects = objectsOf(new AlertsChart(newApp(), { plan }));
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'PrometheusRule/bookedbarber-slo', 'PrometheusRule/bookedbarber-business', 'PrometheusRule/bookedbarber-data-tier', 'PrometheusRule/bookedbarber-delivery',
      'PrometheusRule/bookedbarber-platform',
    ]);
    for (const o of objects) {
      expect(o.metadata.namespace).toBe(plan.namespaces.monitoring);
      expect(o.metadata.labels['bookedbarber.com/prometheus']).toBe('bookedbarber');
    }
  });

  it('gives every alert severity, team, summary, description and a runbook_url', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(16);
    for (const a of alerts) {
      expect(SEVERITIES, a.alert).toContain(a.labels?.severity);
      expect(TEAMS, a.alert).toContain(a.labels?.team);
      expect(a.annotations?.summary, a.alert).toBeTruthy();
      expect(a.annotations?.description, a.alert).toBeTruthy();
      expect(a.annotations?.runbook_url, a.alert).toMatch(/^https:\/\/github\.com\/bookedbarber\/bookedbarber-gitops\/blob\/main\/docs\/runbooks\/[a-z0-9-]+\.md$/);
      expect(a.for, a.alert).toMatch(/^[0-9]+[smh]$/);
    }
  });

  it('links every alert to a runbook that covers it by name (EdgeErrorBudgetBurn to the edge page, not the API/web release one)', () => {
    for (const a of alerts) {
      const file = a.annotations!.runbook_url!.split('/').pop()!;
      const text = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'runbooks', file), 'utf8');
      expect(text.includes(a.alert!), `${a.alert} -> ${file}`).toBe(true);
    }
  });

  it('names in its summary and description only labels its result carries (an aggregation keeps only its by-labels)', () => {
    // Where every `or` branch is an outer `sum|max|min|avg by (...)`, the result has exactly those
    // labels plus the rule's own; a `{{ $labels.x }}` outside them renders empty.
    const problems: string[] = [];
    for (const a of alerts) {
      const branches = a.expr!.split(/\nor\n/);
      const kept = branches.map((b) => /^(?:sum|max|min|avg) by \(([^)]*)\)/.exec(b.trim())?.[1]);
      if (kept.some((k) => k === undefined)) continue;
      const carried = new Set([...kept.flatMap((k) => k!.split(',').map((l) => l.trim())), ...Object.keys(a.labels ?? {})]);
      const text = `${a.annotations?.summary ?? ''} ${a.annotations?.description ?? ''}`;
      for (const [, label] of text.matchAll(/\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)/g)) {
        if (!carried.has(label!)) problems.push(`${a.alert}: $labels.${label} (result keeps ${[...carried].join(', ')})`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('links runbooks that exist in this repository', () => {
    for (const runbook of runbooksOf(Object.values(ruleFiles(plan)).flat())) {
      const file = path.join(REPO_ROOT, RUNBOOK_DIR, `${runbook}.md`);
      expect(fs.existsSync(file), `${RUNBOOK_DIR}/${runbook}.md`).toBe(true);
      expect(fs.readFileSync(file, 'utf8')).toMatch(/^# /);
    }
  });

  it('has one alert per name and severity, and both severities only where a page and a ticket share a name (inhibition)', () => {
    const keys = alerts.map((a) => `${a.alert}/${a.labels!.severity}/${a.labels!.service ?? ''}`);
    expect(new Set(keys).size).toBe(keys.length);
    const paired = [...new Set(alerts.filter((a) => alerts.some((b) => b.alert === a.alert && b.labels!.severity !== a.labels!.severity)).map((a) => a.alert))].sort();
    expect(paired).toEqual(['ApiErrorBudgetBurn', 'ApiLatencyP95High', 'EdgeErrorBudgetBurn', 'MeshCertificateExpiring', 'WebErrorBudgetBurn', 'WebLatencyP95High']);
  });

  it('parses every expression with the PromQL grammar, and reads only recorded series some rule records', () => {
    const recorded = new Set(rules.filter((r) => r.record).map((r) => r.record!));
    for (const r of rules) {
      const { errors, metrics } = parse(r.expr);
      expect(errors, `${r.alert ?? r.record}: ${r.expr}`).toEqual([]);
      for (const m of metrics.filter((x) => x.includes(':'))) expect(recorded, `${r.alert ?? r.record} reads ${m}`).toContain(m);
    }
  });

  it('records the success-ratio SLI over every window an alert reads, per service', () => {
    const windows = new Set(BURN_RATE_WINDOWS.flatMap((w) => [w.long, w.short]));
    for (const w of windows) expect(SUCCESS_WINDOWS).toContain(w);
    for (const service of ['api', 'web']) {
      for (const w of SUCCESS_WINDOWS) {
        expect(rules.some((r) => r.record === SLI.success(w) && r.labels?.service === service), `${service} ${w}`).toBe(true);
      }
    }
  });
});

describe('thresholds come from the region model', () => {
  it('uses the SRE workbook burn-rate pairs on a 99.99 % budget (0.0001)', () => {
    expect(BURN_RATE_WINDOWS.map((w) => [w.severity, w.long, w.short, w.factor])).toEqual([
      ['critical', '1h', '5m', 14.4], ['critical', '6h', '30m', 6], ['warning', '1d', '2h', 3], ['warning', '3d', '6h', 1],
    ]);
    expect(errorBudget(0.9999)).toBe(0.0001);
    const page = exprOf(plan, 'ApiErrorBudgetBurn');
    expect(page).toContain('service:istio_request_success:ratio_rate1h{service="api"}) / 0.0001, 0.001) >= 14.4');
    expect(page).toContain('service:istio_request_success:ratio_rate30m{service="api"}) / 0.0001, 0.001) >= 6');
  });

  it('follows a changed availability objective, latency, payment minimum, booking ratio and RPO', () => {
    const changed = withConfig({ availability: 0.999, latencyP95Ms: 250, paymentSuccessMin: 0.95, bookingDropRatio: 0.3 }, 60);
    expect(exprOf(changed, 'ApiErrorBudgetBurn')).toContain(') / 0.001, 0.001) >= 14.4');
    expect(exprOf(changed, 'ApiLatencyP95High')).toContain('p95_rate5m{service="api"} > 250');
    expect(exprOf(changed, 'PaymentSuccessLow')).toMatch(/< 0\.95\n/);
    expect(exprOf(changed, 'BookingRateDrop', 'warning')).toContain('< 0.3 * sum(rate(bookedbarber_bookings_created_total[1h] offset 1w))');
    expect(exprOf(changed, 'PostgresReplicationLagHigh')).toMatch(/\) > 60$/);
    // The web front end keeps the ceiling its releases are gated on.
    expect(exprOf(changed, 'WebLatencyP95High')).toContain(`> ${plan.global.delivery.web.analysis.maxLatencyP95Ms}`);
  });

  it('renders the same rules in every serving region except for namespaces and what the region runs (they are global settings)', () => {
    // The leader and master alerts list the region's active shard sites and Sentinel tiers.
    const siteSpecific = new Set(['PostgresShardWithoutPrimary', 'RedisTierWithoutMaster', 'RedisSentinelQuorumLost']);
    const texts = shippedPlan().regions.filter((p) => isServingRegion(p.region)).map((p) => JSON.stringify(rulesOf(p).filter((r) => !siteSpecific.has(r.alert ?? ''))));
    expect(new Set(texts).size).toBe(1);
  });

  it('watches exactly the shard sites active in the region for a primary, and the tiers Sentinel manages there for a master and quorum', () => {
    for (const p of shippedPlan().regions) {
      const active = p.hostedShards.filter((h) => h.active).map((h) => postgresNames(p, h.config.id).scope);
      const noPrimary = exprOf(p, 'PostgresShardWithoutPrimary');
      const scopes = [...noPrimary.matchAll(/patroni_scope="([^"]+)"}/g)].map((m) => m[1]);
      expect([...new Set(scopes)].sort(), p.region.name).toEqual([...active].sort());
      const tiers = isServingRegion(p.region) ? REDIS_TIERS.filter((t) => redisTopology(p, t).mode === 'sentinel').map((t) => TIER_SLUG[t]) : [];
      for (const alert of ['RedisTierWithoutMaster', 'RedisSentinelQuorumLost']) {
        const found = [...exprOf(p, alert).matchAll(/tier="([^"]+)"/g)].map((m) => m[1]);
        expect([...new Set(found)].sort(), `${p.region.name} ${alert}`).toEqual([...tiers].sort());
      }
    }
  });

  it('loads only the data-tier and platform rules in a standby region (DR sites: lag, archiving, pools, targets; the mesh CA)', () => {
    for (const p of shippedPlan().regions.filter((r) => !isServingRegion(r.region))) {
      expect(Object.keys(ruleFiles(p))).toEqual(['data-tier', 'platform']);
      const alerts = ruleFiles(p)['data-tier']!.flatMap((g) => g.rules.map((r) => r.alert));
      expect(alerts).toContain('PostgresReplicationLagHigh');
      expect(alerts).toContain('PgBouncerPoolSaturated');
      expect(alerts).toContain('PostgresWalArchiveFailing');
      expect(alerts).toContain('DataTierTargetDown');
      // No Redis and no active site there: nothing that could only ever fire.
      expect(alerts).not.toContain('RedisTierWithoutMaster');
      expect(alerts).not.toContain('PostgresShardWithoutPrimary');
      expect(ruleFiles(p).platform!.flatMap((g) => g.rules.map((r) => r.alert))).toContain('MeshCertificateExpiring');
    }
  });

  it('pages on what breaks the SLO (critical → PagerDuty), and sends capacity and cluster warnings to Slack', () => {
    const sev = (name: string) => [...new Set(alerts.filter((a) => a.alert === name).map((a) => a.labels!.severity))].sort();
    for (const name of ['EdgeNoTraffic', 'IngressGatewayTargetDown', 'PostgresWalArchiveFailing', 'PostgresWalArchiveLagHigh', 'PostgresShardWithoutPrimary',
      'PostgresReplicationLagHigh', 'RedisTierWithoutMaster', 'RedisSentinelQuorumLost', 'DataTierTargetDown']) expect(sev(name), name).toEqual(['critical']);
    expect(sev('EdgeErrorBudgetBurn')).toEqual(['critical', 'warning']);
    expect(sev('MeshCertificateExpiring')).toEqual(['critical', 'warning']);
    for (const name of ['PgBouncerPoolSaturated', 'RedisMemoryPressure', 'ClusterMetricsTargetDown']) expect(sev(name), name).toEqual(['warning']);
    // The edge SLI is the gateway's client-side view: a total outage of the backends still counts.
    expect(rules.find((r) => r.record === SLI.requests && r.labels?.service === 'ingress-gateway')?.expr)
      .toBe('sum(rate(istio_requests_total{reporter="source",source_workload_namespace="istio-ingress"}[5m]))');
  });
});
