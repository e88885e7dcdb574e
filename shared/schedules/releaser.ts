import { nextRunTime, nextRunTimes } from './cron';
import type { StoredSchedule } from './schedule-rows';
import { ScheduleConflictError } from './schedule-store';
import { settleActiveRun, startRun, type ScheduleDependencies } from './schedule-runs';

export interface ReleaseReport {
  schedules: number;
  started: string[];
  skipped: string[];
  settled: number;
  /** When the releaser is next needed (nextReleaseAt); undefined: no schedule, nothing to do until one is made. */
  nextDueAt?: string;
}

/**
 * While a run is going, how often the releaser looks whether its bulk job has ended (nothing tells it
 * otherwise), and how soon a slot that could not be started is tried again: 30 seconds, as before.
 */
export const SETTLE_SECONDS = 30;

/**
 * One beat of the schedule releaser (shared/beats wakes it at the next slot, and every SETTLE_SECONDS
 * while a run is going; the safety net every 5 minutes otherwise). Ends runs whose bulk job ended,
 * then starts each enabled schedule whose next slot is due. The next slot is computed from now, so slots missed while the app was down
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
  const next = nextReleaseAt(await deps.schedules.list(), now);
  if (next) report.nextDueAt = next.toISOString();
  return report;
}

/**
 * When the releaser is next needed, read from the schedules as they are now: the earliest next slot
 * of an enabled schedule, and SETTLE_SECONDS from now while a run is going or a slot is overdue (it
 * could not be started: tried again then). Undefined when there is nothing to wait for.
 */
export function nextReleaseAt(schedules: readonly StoredSchedule[], now: Date): Date | undefined {
  const soon = now.getTime() + SETTLE_SECONDS * 1000;
  const times: number[] = [];
  for (const schedule of schedules) {
    if (schedule.activeRunId) times.push(soon);
    if (schedule.enabled && schedule.nextRunAt) {
      const slot = Date.parse(schedule.nextRunAt);
      if (Number.isFinite(slot)) times.push(slot > now.getTime() ? slot : soon);
    }
  }
  return times.length > 0 ? new Date(Math.min(...times)) : undefined;
}
