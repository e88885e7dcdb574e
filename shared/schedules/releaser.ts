import { nextRunTime, nextRunTimes } from './cron';
import { ScheduleConflictError } from './schedule-store';
import { settleActiveRun, startRun, type ScheduleDependencies } from './schedule-runs';

export interface ReleaseReport {
  schedules: number;
  started: string[];
  skipped: string[];
  settled: number;
}

/** How often the releaser runs (functions/schedule-timer.ts): every 30 seconds. */
export const RELEASER_SCHEDULE = '15,45 * * * * *';

/**
 * One tick of the schedule timer. Ends runs whose bulk job ended, then starts each enabled schedule
 * whose next slot is due. The next slot is computed from now, so slots missed while the app was down
 * become one run (`catch-up`), not one per missed slot; a slot due while the previous run is still
 * going is recorded as skipped. Each schedule is claimed with its row's ETag, so two instances
 * never both start it.
 */
export async function releaseDueRuns(deps: ScheduleDependencies): Promise<ReleaseReport> {
  const now = (deps.now ?? (() => new Date()))();
  const schedules = await deps.schedules.list();
  const report: ReleaseReport = { schedules: schedules.length, started: [], skipped: [], settled: 0 };
  for (const listed of schedules) {
    try {
      let schedule = listed;
      if (schedule.activeRunId) {
        schedule = await settleActiveRun(schedule, deps);
        if (!schedule.activeRunId) report.settled += 1;
      }
      if (!schedule.enabled || !schedule.nextRunAt || Date.parse(schedule.nextRunAt) > now.getTime()) continue;
      const slot = new Date(schedule.nextRunAt);
      const following = nextRunTimes(schedule.schedule, schedule.timeZone, slot, 1)[0];
      const trigger = following && following.getTime() <= now.getTime() ? 'catch-up' : 'timer';
      const advanceTo = nextRunTime(schedule.schedule, schedule.timeZone, now);
      const outcome = await startRun(schedule, trigger, slot, deps, advanceTo);
      if (outcome.started) report.started.push(outcome.run.id);
      else if (outcome.run?.status === 'skipped') report.skipped.push(outcome.run.id);
    } catch (error) {
      if (error instanceof ScheduleConflictError) continue; // another instance has it
      deps.log.warn('schedule release failed; the next tick tries again', { scheduleId: listed.id, cause: error instanceof Error ? error.message : String(error) });
    }
  }
  return report;
}
