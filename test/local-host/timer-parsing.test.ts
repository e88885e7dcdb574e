import { describe, expect, it } from 'vitest';
import { parseNcrontab } from '../../dev/local-host/timer-scheduler';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTimeSpanMs, readQueueSettings } from '../../shared/host-json';

describe('NCRONTAB schedules', () => {
  it('reads six fields with seconds first', () => {
    const every5Minutes = parseNcrontab('0 */5 * * * *');
    const next = every5Minutes.nextRun(new Date('2026-01-01T10:02:30Z'));
    expect(next?.toISOString()).toBe('2026-01-01T10:05:00.000Z');
  });

  it('fires on the given second', () => {
    const at30s = parseNcrontab('30 * * * * *');
    expect(at30s.nextRun(new Date('2026-01-01T10:00:00Z'))?.toISOString()).toBe('2026-01-01T10:00:30.000Z');
  });

  it('requires day-of-month and day-of-week both to match', () => {
    // 9:30 on the 13th of a month that is a Friday (NCRONTAB semantics, not classic cron's "either").
    const schedule = parseNcrontab('0 30 9 13 * Fri');
    expect(schedule.nextRun(new Date('2026-01-01T00:00:00Z'))?.toISOString()).toBe('2026-02-13T09:30:00.000Z');
  });

  it('refuses five-field cron with a message saying what is expected', () => {
    expect(() => parseNcrontab('*/5 * * * *')).toThrow(/six fields, seconds first/);
  });

  it('resolves %SETTING% schedules from the environment', () => {
    const schedule = parseNcrontab('%SWEEP_SCHEDULE%', { SWEEP_SCHEDULE: '0 0 * * * *' });
    expect(schedule.nextRun(new Date('2026-01-01T10:20:00Z'))?.toISOString()).toBe('2026-01-01T11:00:00.000Z');
    expect(() => parseNcrontab('%MISSING%', {})).toThrow(/MISSING/);
  });
});

describe('TimeSpan settings', () => {
  it('reads hh:mm:ss and d.hh:mm:ss', () => {
    expect(parseTimeSpanMs('00:00:30')).toBe(30_000);
    expect(parseTimeSpanMs('00:10:00')).toBe(600_000);
    expect(parseTimeSpanMs('1.00:00:00')).toBe(86_400_000);
    expect(parseTimeSpanMs('00:00:01.5')).toBe(1_500);
  });
});

describe('host.json queue settings', () => {
  it('polls an idle queue at most every 100 ms, so a new request is picked up within a tenth of a second', () => {
    // The end-to-end time of a reset is bounded by this pickup and Graph's round trips (docs/benchmarks.md).
    expect(readQueueSettings(join(__dirname, '..', '..', 'host.json')).maxPollingIntervalMs).toBe(100);
  });

  it("refuses a maxPollingInterval under the queue extension's 100 ms floor, naming the setting", () => {
    const dir = mkdtempSync(join(tmpdir(), 'host-json-'));
    const path = join(dir, 'host.json');
    writeFileSync(path, JSON.stringify({ version: '2.0', extensions: { queues: { maxPollingInterval: '00:00:00.050' } } }));
    expect(() => readQueueSettings(path)).toThrow(/maxPollingInterval must be at least 00:00:00\.100/);
  });
});
