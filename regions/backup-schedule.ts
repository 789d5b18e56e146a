/**
 * When the base backup runs (postgres.baseBackupSchedule, evaluated by the backup sidecar in
 * charts/postgres/backup.ts) and how old the newest backup may get: what the staleness alert's
 * threshold (postgres.baseBackupMaxAgeHours) must allow for.
 */
import { parseCron } from './formats';

/** Longest one `wal-g backup-push` may run before the sidecar stops it (its BACKUP_TIMEOUT_SECONDS). */
export const BASE_BACKUP_TIMEOUT_SECONDS = 6 * 3600;

/** Two years from a leap year's start: every month, weekday and Feb 29 the schedule can select. */
const WINDOW_START = Date.UTC(2024, 0, 1);
const WINDOW_DAYS = 366 + 365;

/**
 * The longest time between two runs of a valid schedule, in seconds, as the sidecar evaluates it
 * (cron: with both day fields restricted either may match, otherwise both must); Infinity when it
 * runs less than twice in two years. Undefined for a schedule the format check refuses.
 *
 * Day by day (month and both day fields are properties of the UTC day), then every selected hour
 * and minute of a selected day in order: every region's load runs this, and hour by hour it made
 * 17,544 Dates a call.
 */
export function longestScheduleGapSeconds(schedule: string): number | undefined {
  const sets = parseCron(schedule);
  if (!Array.isArray(sets)) return undefined;
  const [minutes, hours, days, months, weekdays] = sets.map((values) => new Set(values));
  const fields = schedule.trim().split(/\s+/);
  const bothDaysRestricted = fields[2] !== '*' && fields[4] !== '*';
  const hourList = [...hours!].sort((a, b) => a - b);
  const minuteList = [...minutes!].sort((a, b) => a - b);
  const runs: number[] = [];
  for (let d = 0; d < WINDOW_DAYS; d++) {
    const t = new Date(WINDOW_START + d * 86_400_000);
    if (!months!.has(t.getUTCMonth() + 1)) continue;
    const dom = days!.has(t.getUTCDate());
    const dow = weekdays!.has(t.getUTCDay());
    if (bothDaysRestricted ? !(dom || dow) : !(dom && dow)) continue;
    const day = t.getTime() / 1000;
    for (const h of hourList) for (const m of minuteList) runs.push(day + h * 3600 + m * 60);
  }
  if (runs.length < 2) return Infinity;
  let longest = 0;
  for (let i = 1; i < runs.length; i++) longest = Math.max(longest, runs[i]! - runs[i - 1]!);
  return longest;
}
