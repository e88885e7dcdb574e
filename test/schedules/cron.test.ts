import { describe, expect, it } from 'vitest';
import { checkSchedule, nextRunTimes } from '../../shared/schedules/cron';

const iso = (dates: Date[]) => dates.map((date) => date.toISOString());

describe('NCRONTAB next-run times in a time zone', () => {
  it('02:00 every night in Europe/Amsterdam stays 02:00 local across both daylight-saving changes', () => {
    // 30 March 2025: clocks go from 02:00 to 03:00 (CET to CEST); 26 October: back from 03:00 to 02:00.
    expect(iso(nextRunTimes('0 0 2 * * *', 'Europe/Amsterdam', new Date('2025-03-28T12:00:00Z'), 4))).toEqual([
      '2025-03-29T01:00:00.000Z', // CET, UTC+1
      '2025-03-30T01:00:00.000Z', // 02:00 does not exist that night: run at 03:00 CEST, once
      '2025-03-31T00:00:00.000Z', // CEST, UTC+2
      '2025-04-01T00:00:00.000Z',
    ]);
    expect(iso(nextRunTimes('0 30 2 * * *', 'Europe/Amsterdam', new Date('2025-10-24T12:00:00Z'), 4))).toEqual([
      '2025-10-25T00:30:00.000Z', // CEST
      '2025-10-26T01:30:00.000Z', // 02:30 happens twice that night: run once (the second, CET)
      '2025-10-27T01:30:00.000Z',
      '2025-10-28T01:30:00.000Z',
    ]);
  });

  it('weekdays at 09:00 in New York move by an hour in UTC when the US changes clocks', () => {
    expect(iso(nextRunTimes('0 0 9 * * 1-5', 'America/New_York', new Date('2025-03-07T12:00:00Z'), 3))).toEqual([
      '2025-03-07T14:00:00.000Z',
      '2025-03-10T13:00:00.000Z',
      '2025-03-11T13:00:00.000Z',
    ]);
  });

  it('refuses five-field cron, unknown time zones and schedules more often than once a minute', () => {
    expect(() => checkSchedule('0 2 * * *', 'UTC')).toThrow(/six fields/);
    expect(() => checkSchedule('0 0 2 * * *', 'Mars/Olympus')).toThrow(/IANA time zone/);
    expect(() => checkSchedule('*/10 * * * * *', 'UTC')).toThrow(/more often than once a minute/);
    expect(() => checkSchedule('0 0 2 * * *', 'Europe/Amsterdam')).not.toThrow();
  });
});
