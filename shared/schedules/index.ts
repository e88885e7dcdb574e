/** Recurring remediation: schedules whose runs become ordinary bulk jobs (docs/schedules.md). */
export { handleScheduleCall, MAX_SCHEDULE_BODY_BYTES, type ScheduleCall } from './schedule-api';
export { releaseDueRuns, SETTLE_SECONDS, nextReleaseAt, type ReleaseReport } from './releaser';
export { startRun, settleActiveRun, bulkJobIdFor, type ScheduleDependencies } from './schedule-runs';
export { scheduleServices, scheduleStore } from './schedule-services';
export { ScheduleStore } from './schedule-store';
export { nextRunTimes, nextRunTime, checkSchedule } from './cron';
