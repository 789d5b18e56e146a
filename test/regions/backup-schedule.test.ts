/**
 * The longest gap between two base backups of a cron schedule (regions/backup-schedule.ts), which
 * the staleness alert's threshold must allow for. Expected values worked out by hand.
 */
import { describe, expect, it } from 'vitest';
import { longestScheduleGapSeconds } from '../../regions/backup-schedule';

const HOUR = 3600;
const DAY = 24 * HOUR;

describe('longestScheduleGapSeconds', () => {
  it('daily: a day; every six hours: six hours', () => {
    expect(longestScheduleGapSeconds('0 3 * * *')).toBe(DAY);
    expect(longestScheduleGapSeconds('0 */6 * * *')).toBe(6 * HOUR);
  });

  it('several hours and minutes a day: the night from the last run to the first', () => {
    // 01:00, 01:30, 13:00, 13:30: from 13:30 to 01:00 the next day.
    expect(longestScheduleGapSeconds('0,30 1,13 * * *')).toBe(11.5 * HOUR);
  });

  it('the 31st of each month: two months, where the 31st skips a 30-day month (Aug 31 to Oct 31)', () => {
    expect(longestScheduleGapSeconds('0 0 31 * *')).toBe(61 * DAY);
  });

  it('Feb 29 runs once in two years: Infinity; a schedule the format refuses: undefined', () => {
    expect(longestScheduleGapSeconds('0 0 29 2 *')).toBe(Infinity);
    expect(longestScheduleGapSeconds('not a schedule')).toBeUndefined();
  });
});
