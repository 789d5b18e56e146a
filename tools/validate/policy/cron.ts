/**
 * Rule `cron-schedule`: a CronJob's schedule is one the API server accepts (five fields, each a
 * `*` or `?`, a number in range, a range, a list or a step, names for months and days of the week
 * (0-6), one of the @-macros or `@every <duration>`; pkg/apis/batch/validation
 * validateScheduleFormat parses it with robfig/cron's standard parser and refuses a TZ= or
 * CRON_TZ= prefix on new objects: the time zone goes in spec.timeZone). The schema types it as a
 * plain string; a bad one refuses the object and fails the whole sync.
 */
import { Entry, finding, isKind, isRecord, RawFinding } from '../types';

/** A Go duration (time.ParseDuration), what `@every` takes. */
const GO_DURATION = /^([0-9]+(\.[0-9]+)?(ns|us|\u00b5s|ms|s|m|h))+$/;
const MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const FIELDS: ReadonlyArray<{ name: string; min: number; max: number; names?: readonly string[]; nameBase?: number }> = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { name: 'day of week', min: 0, max: 6, names: DAYS, nameBase: 0 },
];

function value(text: string, f: (typeof FIELDS)[number]): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  const i = f.names?.indexOf(text.toLowerCase()) ?? -1;
  return i >= 0 ? i + (f.nameBase ?? 0) : undefined;
}

/** Why a schedule is refused, or undefined when it is fine. */
export function cronProblem(schedule: string): string | undefined {
  const text = schedule.trim();
  if (text.includes('TZ')) return 'a TZ= or CRON_TZ= prefix is refused for new CronJobs: set spec.timeZone instead';
  if (text.startsWith('@every ')) return GO_DURATION.test(text.slice(7).trim()) ? undefined : `${JSON.stringify(text.slice(7).trim())} is not a duration (e.g. 90m, 1h30m)`;
  if (text.startsWith('@')) return MACROS.has(text) ? undefined : `${text} is not a schedule macro (${[...MACROS].join(', ')}, @every <duration>)`;
  const parts = text.split(/\s+/);
  if (parts.length !== 5) return `${parts.length} fields, not 5 (minute hour day-of-month month day-of-week)`;
  for (const [i, part] of parts.entries()) {
    const f = FIELDS[i]!;
    for (const piece of part.split(',')) {
      const [range, step] = piece.split('/');
      if (step !== undefined && !/^[1-9]\d*$/.test(step)) return `${f.name}: step ${JSON.stringify(step)} is not a positive number`;
      if (range === '*' || range === '?') continue;
      const ends = range!.split('-');
      if (ends.length > 2) return `${f.name}: ${JSON.stringify(range)} is not a range`;
      const nums = ends.map((x) => value(x, f));
      if (nums.some((n) => n === undefined)) return `${f.name}: ${JSON.stringify(range)} is not a number${f.names ? ' or name' : ''}`;
      if (nums.some((n) => n! < f.min || n! > f.max)) return `${f.name}: ${JSON.stringify(range)} is outside ${f.min}-${f.max}`;
      if (nums.length === 2 && nums[0]! > nums[1]!) return `${f.name}: ${JSON.stringify(range)} runs backwards`;
    }
  }
  return undefined;
}

export function checkCronSchedule(e: Entry): RawFinding[] {
  if (!isKind(e.obj, 'batch', 'CronJob')) return [];
  const schedule = isRecord(e.obj.spec) ? e.obj.spec.schedule : undefined;
  if (typeof schedule !== 'string') return [];
  const problem = cronProblem(schedule);
  return problem ? [finding(e, 'spec.schedule', 'cron-schedule', `schedule ${JSON.stringify(schedule)} is refused by the API server: ${problem}`, 'write five fields, e.g. "15 0 * * *" (00:15 every day)')] : [];
}

