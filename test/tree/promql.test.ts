/**
 * Every PromQL expression anywhere in dist/ parses with Prometheus' own grammar
 * (@prometheus-io/lezer-promql, the parser of the Prometheus UI): rule `expr`s of
 * PrometheusRules, Argo Rollouts analysis queries (`provider.prometheus.query`), and the
 * `targets[].expr` of Grafana dashboards provisioned as ConfigMaps. Guards issue #5 item 6:
 * a typo in a query must fail CI, not silently disable an alert, a release gate or a panel.
 *
 * Placeholders filled in at run time are replaced first: Grafana's interval macros
 * ($__rate_interval, $__interval, $__range) by durations and other dashboard variables outside
 * string literals by a number; Argo Rollouts' `{{args.x}}` only ever appears inside label
 * values, where any text is valid.
 */
import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import { distObjects } from '../support/dist';

interface Found {
  readonly where: string;
  readonly expr: string;
}

/** Grafana macros and variables → something Prometheus would receive in their place. */
function fillPlaceholders(expr: string): string {
  const macros = expr.replace(/\$__rate_interval\b|\$\{__rate_interval\}/g, '5m').replace(/\$__interval\b|\$\{__interval\}/g, '1m').replace(/\$__range\b|\$\{__range\}/g, '6h');
  let out = '';
  let quote: string | undefined;
  for (let i = 0; i < macros.length; i++) {
    const c = macros[i]!;
    if (quote) {
      out += c;
      if (c === '\\') out += macros[++i] ?? '';
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      quote = c;
      out += c;
      continue;
    }
    const variable = /^\$(\{[^}]+\}|\w+)/.exec(macros.slice(i));
    if (variable) {
      out += '1';
      i += variable[0].length - 1;
      continue;
    }
    out += c;
  }
  return out;
}

/** Offsets of lezer's error nodes; empty when the expression parses. */
function parseErrors(expr: string): number[] {
  const errors: number[] = [];
  parser.parse(expr).iterate({ enter: (n) => { if (n.type.isError) errors.push(n.from); } });
  return errors;
}

function dashboardTargets(dashboard: any, where: string, out: Found[]): void {
  for (const panel of (dashboard.panels ?? []) as any[]) {
    for (const t of (panel.targets ?? []) as any[]) {
      if (typeof t.expr === 'string') out.push({ where: `${where} panel "${panel.title}" ${t.refId ?? ''}`, expr: t.expr });
    }
    // Collapsed rows keep their panels inside the row.
    if (Array.isArray(panel.panels)) dashboardTargets({ panels: panel.panels }, where, out);
  }
}

/** Every PromQL expression of one rendered object. */
function expressions(object: any, where: string): Found[] {
  const out: Found[] = [];
  if (object.kind === 'PrometheusRule') {
    for (const g of object.spec?.groups ?? []) {
      for (const r of g.rules ?? []) out.push({ where: `${where} ${g.name}/${r.alert ?? r.record}`, expr: String(r.expr) });
    }
  }
  if (/AnalysisTemplate$/.test(object.kind)) {
    for (const m of object.spec?.metrics ?? []) {
      const query = m.provider?.prometheus?.query;
      if (typeof query === 'string') out.push({ where: `${where} metric ${m.name}`, expr: query });
    }
  }
  if (object.kind === 'ConfigMap') {
    for (const [key, value] of Object.entries((object.data ?? {}) as Record<string, string>)) {
      if (!key.endsWith('.json')) continue;
      let parsed: any;
      try {
        parsed = JSON.parse(value);
      } catch {
        continue;
      }
      if (parsed && Array.isArray(parsed.panels)) dashboardTargets(parsed, `${where} ${key}`, out);
    }
  }
  return out;
}

describe('PromQL in dist/', () => {
  const found = distObjects().flatMap(({ folder, file, object }) =>
    expressions(object, `dist/${folder}/${file} ${object.kind} ${object.metadata?.namespace ?? ''}/${object.metadata?.name}`));

  it('finds the expressions it is meant to check (the release gates at least)', () => {
    expect(found.some((f) => f.where.includes('AnalysisTemplate'))).toBe(true);
  });

  it('parses every rule, analysis and dashboard expression without an error node', () => {
    const broken = found
      .map((f) => ({ ...f, errors: parseErrors(fillPlaceholders(f.expr)) }))
      .filter((f) => f.errors.length > 0)
      .map((f) => `${f.where}: error at ${f.errors.join(', ')} in ${f.expr}`);
    expect(broken).toEqual([]);
  });

  it('fills dashboard placeholders but leaves label values alone', () => {
    expect(fillPlaceholders('sum(rate(x{region="$region"}[$__rate_interval])) > $threshold')).toBe('sum(rate(x{region="$region"}[5m])) > 1');
    expect(parseErrors('sum(rate(x[5m]')).not.toEqual([]);
  });
});
