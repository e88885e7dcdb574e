import { jsonAnswer, type HttpAnswer } from '../http/answer';
import type { RequestIntegrity } from '../requests/request-integrity';
import { nextRunTimes } from '../schedules/cron';
import { scheduleIsAuthentic } from '../schedules/schedule-runs';
import type { ScheduleRun } from '../schedules/schedule-rows';
import type { ScheduleStore } from '../schedules/schedule-store';
import type { GroupNames } from './group-names';

/** Runs shown per schedule, newest first. */
const RUNS_SHOWN = 5;
const NEXT_SHOWN = 3;

/**
 * `GET /api/console/api/schedules`: every schedule with when it runs next (in its own time zone) and
 * its last runs, each with its bulk job, so a reader can follow a run to the requests it made. Read
 * only: schedules are changed through the signed /api/schedules routes, never from the console.
 */
export async function listSchedules(store: ScheduleStore, integrity: RequestIntegrity, groupNames?: Pick<GroupNames, 'name'>, now = new Date()): Promise<HttpAnswer> {
  const schedules = await store.list();
  const items = await Promise.all(
    schedules.map(async (schedule) => {
      const runs = await store.listRuns(schedule.id, RUNS_SHOWN);
      let next: string[] = [];
      try {
        next = schedule.enabled ? nextRunTimes(schedule.schedule, schedule.timeZone, now, NEXT_SHOWN).map((date) => date.toISOString()) : [];
      } catch {
        next = []; // an expression that no longer parses runs never; `authentic` and the runs say why
      }
      // The group by its name in the directory, so a reader sees what it is without looking up a GUID.
      const groupName = schedule.sourceKind === 'group' && schedule.groupId && groupNames ? await groupNames.name(schedule.groupId) : undefined;
      return {
        id: schedule.id,
        name: schedule.name,
        schedule: schedule.schedule,
        timeZone: schedule.timeZone,
        enabled: schedule.enabled,
        dryRun: schedule.dryRun,
        source: schedule.sourceKind === 'group' ? { groupId: schedule.groupId, ...(groupName ? { groupName } : {}) } : { riskyUsers: { minimumRiskLevel: schedule.minimumRiskLevel } },
        removeFromGroupAfterReset: schedule.removeFromGroupAfterReset,
        maxUsersPerRun: schedule.maxUsersPerRun,
        ...(schedule.methods ? { methods: schedule.methods } : {}),
        profile: schedule.profile,
        ticket: schedule.ticketId ? { system: schedule.ticketSystem ?? 'schedule', id: schedule.ticketId } : null,
        requestedBy: schedule.requestedBy,
        ...(schedule.approvedBy ? { approvedBy: schedule.approvedBy } : {}),
        /** A row whose MAC fails never runs (it was not written by the service). */
        authentic: scheduleIsAuthentic(schedule, integrity),
        nextRunTimes: next,
        ...(schedule.activeRunId ? { activeRunId: schedule.activeRunId } : {}),
        runs: runs.map(runView),
      };
    }),
  );
  return jsonAnswer(200, { items }, { 'cache-control': 'no-store' });
}

function runView(run: ScheduleRun) {
  return {
    id: run.id,
    trigger: run.trigger,
    slot: run.slot,
    status: run.status,
    ...(run.reason ? { reason: run.reason } : {}),
    bulkJobId: run.bulkJobId ?? null,
    found: run.found,
    planned: run.planned,
    alreadyReset: run.alreadyReset,
    ...(run.counts ? { counts: run.counts } : {}),
    ...(run.removedFromGroup !== undefined ? { removedFromGroup: run.removedFromGroup } : {}),
    ...(run.noticeRequestId ? { noticeRequestId: run.noticeRequestId } : {}),
    ...(run.ticketNotice ? { ticketNotice: run.ticketNotice } : {}),
    dryRun: run.dryRun,
    startedAt: run.startedAt,
    ...(run.finishedAt ? { finishedAt: run.finishedAt } : {}),
  };
}
