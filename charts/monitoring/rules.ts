/**
 * Rules as plain data: what every alert must carry (severity, team, summary, description,
 * runbook_url), built in one function so no alert can be rendered without them. The alerts
 * chart turns these groups into PrometheusRule objects; tests feed the very same groups to
 * promtool.
 */
import type { RegionPlan } from '../../regions/plan';
import { runbookUrl } from './names';

/** critical pages (PagerDuty + Slack); warning goes to Slack (see monitoring-routing.ts). */
export type Severity = 'critical' | 'warning';
/** Who acts: platform (on-call engineers) or business (franchise operations). */
export type Team = 'platform' | 'business';

export const SEVERITIES: readonly Severity[] = ['critical', 'warning'];
export const TEAMS: readonly Team[] = ['platform', 'business'];

export interface AlertDefinition {
  readonly alert: string;
  readonly expr: string;
  /** How long the condition must hold before the alert fires. */
  readonly for: string;
  readonly severity: Severity;
  readonly team: Team;
  /** Labels besides severity and team (e.g. `service`). @default none */
  readonly labels?: Readonly<Record<string, string>>;
  /** One line, shown as the notification title. */
  readonly summary: string;
  /** What is happening and what it means for franchises; may use {{ $value }} and {{ $labels.x }}. */
  readonly description: string;
  /** File name under docs/runbooks/ without .md. */
  readonly runbook: string;
}

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  /** @default none */
  readonly labels?: Readonly<Record<string, string>>;
}

/** A rule as Prometheus reads it (the shape of a PrometheusRule's spec.groups[].rules[]). */
export interface PromRule {
  readonly record?: string;
  readonly alert?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface PromRuleGroup {
  readonly name: string;
  /** Evaluation interval. @default the Prometheus evaluationInterval */
  readonly interval?: string;
  readonly rules: readonly PromRule[];
}

export function recordingRule(def: RecordingRule): PromRule {
  return { record: def.record, expr: def.expr, ...(def.labels ? { labels: { ...def.labels } } : {}) };
}

export function alertRule(plan: RegionPlan, def: AlertDefinition): PromRule {
  if (!/^[A-Z][A-Za-z0-9]*$/.test(def.alert)) throw new Error(`alert name "${def.alert}" must be UpperCamelCase`);
  for (const reserved of ['severity', 'team']) {
    if (def.labels && reserved in def.labels) throw new Error(`alert ${def.alert}: set ${reserved} through its own field, not labels`);
  }
  return {
    alert: def.alert,
    expr: def.expr,
    for: def.for,
    labels: { severity: def.severity, team: def.team, ...(def.labels ?? {}) },
    annotations: {
      summary: def.summary,
      description: def.description,
      runbook_url: runbookUrl(plan, def.runbook),
    },
  };
}

/** Runbooks the groups link to (file names under docs/runbooks/, without .md). */
export function runbooksOf(groups: readonly PromRuleGroup[]): string[] {
  const out = new Set<string>();
  for (const g of groups) {
    for (const r of g.rules) {
      const url = r.annotations?.runbook_url;
      if (url) out.add(url.replace(/^.*\//, '').replace(/\.md$/, ''));
    }
  }
  return [...out].sort();
}
