/**
 * PromQL building blocks for rules, analyses and dashboards: label matchers with correct
 * quoting, durations, and numbers printed the way a reader expects (0.00144, not
 * 0.0014399999999998415). Strings in, strings out; the parser check lives in the tests
 * (@prometheus-io/lezer-promql), which is a development dependency.
 */

/** A PromQL string literal: label values come from config, so quotes and backslashes are escaped. */
export function promString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

export type MatchOp = '=' | '!=' | '=~' | '!~';

/** One label matcher: `[label, op, value]`. */
export type Matcher = readonly [label: string, op: MatchOp, value: string];

/** `name="value"` matchers for every entry of a plain label map. */
export function eq(labels: Readonly<Record<string, string>>): Matcher[] {
  return Object.entries(labels).map(([k, v]) => [k, '=', v] as const);
}

/** `metric{a="b",c=~"d"}`, or just `metric` without matchers. Matchers keep their order. */
export function selector(metric: string, matchers: readonly Matcher[] = []): string {
  for (const [label] of matchers) {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(label)) throw new Error(`"${label}" is not a valid Prometheus label name`);
  }
  if (matchers.length === 0) return metric;
  const inner = matchers.map(([label, op, value]) => `${label}${op}${promString(value)}`).join(',');
  return `${metric}{${inner}}`;
}

const UNITS: ReadonlyArray<readonly [string, number]> = [
  ['w', 604800],
  ['d', 86400],
  ['h', 3600],
  ['m', 60],
  ['s', 1],
];

/**
 * How often Prometheus scrapes every target (the Prometheus default and every PodMonitor and
 * ServiceMonitor we render).
 */
export const SCRAPE_INTERVAL_SECONDS = 30;
export const SCRAPE_INTERVAL = `${SCRAPE_INTERVAL_SECONDS}s`;

/**
 * Shortest range of rate(), irate(), increase() and *_over_time(): four scrape intervals, so a
 * window always holds at least three samples even when a scrape is late or missed (with two
 * intervals, one missed scrape leaves one sample and rate() returns nothing). Grafana's
 * $__rate_interval uses the same rule. test/tree/rate-windows.test.ts checks every rendered
 * expression against it.
 */
export const MIN_RATE_WINDOW_SECONDS = 4 * SCRAPE_INTERVAL_SECONDS;

/** Seconds → the largest whole PromQL unit: 3600 → `1h`, 90 → `90s`, 259200 → `3d`. */
export function promDuration(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds <= 0) throw new Error(`duration ${seconds}s must be a positive whole number of seconds`);
  for (const [unit, size] of UNITS) if (seconds % size === 0) return `${seconds / size}${unit}`;
  return `${seconds}s`;
}

/** `5m`, `1h`, `3d`, `1w` → seconds. */
export function durationToSeconds(duration: string): number {
  const m = /^([1-9][0-9]*)(s|m|h|d|w)$/.exec(duration);
  if (!m) throw new Error(`"${duration}" is not a PromQL duration such as 30s, 5m, 1h, 3d`);
  return Number(m[1]) * UNITS.find(([u]) => u === m[2])![1];
}

/**
 * A number for an expression: at most 12 significant digits, so arithmetic noise from the
 * config (14.4 × (1 − 0.9999)) never reaches the YAML, and never in exponent notation
 * (PromQL reads `1e-4`, but a reviewer compares it with the config more easily as 0.0001).
 */
export function promNumber(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`${value} is not a finite number`);
  const text = String(Number(value.toPrecision(12)));
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!m) return text;
  // JavaScript switches to exponent notation below 1e-6 and from 1e21: spell it out.
  const [, sign, int, frac = '', exp] = m;
  const digits = int + frac;
  const point = int.length + Number(exp);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`.replace(/\.?0+$/, '');
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** `sum(rate(<selector>[<window>]))`: the per-second rate of a counter, over all its series. */
export function sumRate(series: string, window: string, by: readonly string[] = []): string {
  const grouping = by.length > 0 ? ` by (${by.join(', ')})` : '';
  return `sum${grouping}(rate(${series}[${window}]))`;
}
