import { describe, expect, it } from 'vitest';
import type { Timer } from '@azure/functions';
import { TimerScheduler } from '../../dev/local-host/timer-scheduler';
import { eventually } from '../support/eventually';
import { recordingLog } from '../support/quiet-log';

describe('timer triggers', () => {
  it('invokes the handler on schedule with a Timer object, and on startup when asked', async () => {
    const timers: Timer[] = [];
    const scheduler = new TimerScheduler(
      [{ name: 'everySecond', options: { schedule: '* * * * * *', runOnStartup: true, handler: async (timer) => void timers.push(timer) } }],
      recordingLog(),
    );
    scheduler.start();
    try {
      await eventually(() => (timers.length >= 2 ? true : undefined), 5000);
      expect(timers[0]!.isPastDue).toBe(false);
      expect(Date.parse(timers[1]!.scheduleStatus!.next)).toBeGreaterThan(Date.parse(timers[1]!.scheduleStatus!.last));
    } finally {
      await scheduler.stop();
    }
    const count = timers.length;
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(timers.length).toBe(count);
  });
});
