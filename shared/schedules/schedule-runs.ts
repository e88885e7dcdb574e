import { randomBytes } from 'node:crypto';
import type { Settings } from '../config';
import { buildBulkJob } from '../bulk/bulk-submit';
import { bulkRequestSchema, type ParsedBulk } from '../bulk/bulk-request';
import type { BulkStore } from '../bulk/bulk-store';
import type { StoredJob } from '../bulk/bulk-rows';
import type { BeatKicker } from '../beats/beat-message';
import type { GraphTransport } from '../graph/http';
import type { Logger } from '../log';
import type { IntakeIndex } from '../requests/intake-index';
import type { RequestIntegrity } from '../requests/request-integrity';
import { approvalProblem } from './schedule-approval';
import type { TicketLookup } from './schedule-ticket-check';
import { groupMembers, removeFromGroup, riskyUsers, type FoundUser } from './graph-sources';
import { tellTicket, type NoticeDependencies } from './schedule-notice';
import { runIdFor, scheduleMacText, type ScheduleRun, type ScheduleTarget, type StoredSchedule } from './schedule-rows';
import { ScheduleConflictError, type ScheduleStore } from './schedule-store';

export interface ScheduleDependencies {
  settings: Settings;
  schedules: ScheduleStore;
  bulk: BulkStore;
  integrity: RequestIntegrity;
  /** Single-use records of signed calls (shared/intake/signed-once.ts). */
  index: IntakeIndex;
  /** Looks a schedule's Jira issue or ServiceNow record up before notes may go there. */
  tickets?: TicketLookup;
  graph: GraphTransport;
  log: Logger;
  /** Tells the schedule's ticket that a run reset nobody, through the ticket outbox (schedule-notice.ts). */
  notice?: NoticeDependencies;
  /** Wakes the bulk dispatcher for a run's job, and the releaser for a changed schedule (shared/beats). */
  beats?: BeatKicker;
  now?: () => Date;
}

export const scheduleIsAuthentic = (schedule: StoredSchedule, integrity: RequestIntegrity) => integrity.verifyMac('schedule', scheduleMacText(schedule), schedule.mac);

/** The bulk job id of a run: an HMAC of schedule and run, so nobody can guess it or make it collide. */
export const bulkJobIdFor = (scheduleId: string, runId: string, integrity: RequestIntegrity) => integrity.requestId(`schedule|${scheduleId}|run|${runId}`);

export type RunOutcome = { started: true; run: ScheduleRun } | { started: false; run?: ScheduleRun; code: 'run_in_progress' | 'conflict' | 'unauthenticated_row'; message: string };

/**
 * Starts one run of a schedule: never while another run of it is still going (a timer slot due then
 * is recorded as skipped), resolves its users at run time, refuses a run of more than maxUsersPerRun
 * users (resetting nobody), and hands the rest to an ordinary bulk job built exactly as
 * `POST /api/bulk` builds one, so the dispatcher paces, guards and audits it like any other.
 */
export async function startRun(
  schedule: StoredSchedule,
  trigger: ScheduleRun['trigger'],
  slot: Date,
  deps: ScheduleDependencies,
  advanceTo?: Date,
): Promise<RunOutcome> {
  const now = (deps.now ?? (() => new Date()))();
  const runId = runIdFor(slot, trigger, trigger === 'manual' ? randomBytes(4).toString('hex') : '');
  const base: ScheduleRun = { scheduleId: schedule.id, id: runId, slot: slot.toISOString(), trigger, status: 'running', found: 0, planned: 0, alreadyReset: 0, dryRun: schedule.dryRun, startedAt: now.toISOString() };
  const advanced = advanceTo ? { nextRunAt: advanceTo.toISOString() } : {};

  if (!scheduleIsAuthentic(schedule, deps.integrity)) {
    deps.log.warn('schedule refused: its MAC does not verify', { scheduleId: schedule.id });
    const run: ScheduleRun = { ...base, status: 'failed', reason: 'unauthenticated_row: this schedule was not written by the service (its MAC does not verify); nobody was reset', finishedAt: now.toISOString() };
    await deps.schedules.update({ ...schedule, ...advanced }, now).catch(() => undefined);
    await deps.schedules.putRun(run);
    return { started: false, run, code: 'unauthenticated_row', message: run.reason! };
  }

  let current = schedule;
  if (current.activeRunId) current = await settleActiveRun(current, deps);
  if (current.activeRunId) {
    const message = `run ${current.activeRunId} is still going; runs of a schedule never overlap`;
    if (trigger === 'manual') return { started: false, code: 'run_in_progress', message };
    const run: ScheduleRun = { ...base, status: 'skipped', reason: `${message}, so the run due at ${slot.toISOString()} was skipped`, finishedAt: now.toISOString() };
    await deps.schedules.update({ ...current, ...advanced }, now); // a conflict throws: the other instance decides
    await deps.schedules.putRun(run);
    deps.log.info('schedule run skipped: the previous run is still going', { scheduleId: schedule.id, activeRunId: current.activeRunId });
    return { started: false, run, code: 'run_in_progress', message };
  }

  // Claim the run on the schedule row (ETag): a second timer instance that read the same row loses.
  try {
    current = await deps.schedules.update({ ...current, ...advanced, activeRunId: runId, lastRunAt: now.toISOString() }, now);
  } catch (error) {
    if (error instanceof ScheduleConflictError) return { started: false, code: 'conflict', message: 'the schedule changed while the run was starting; try again' };
    throw error;
  }
  const bulkJobId = bulkJobIdFor(schedule.id, runId, deps.integrity);
  await deps.schedules.putRun({ ...base, bulkJobId });

  const end = async (run: ScheduleRun): Promise<RunOutcome> => {
    await deps.schedules.putRun(run);
    await clearActive(schedule.id, runId, deps, now);
    return { started: true, run };
  };

  // An approval that ran out (or none, where one is required) covers no run: nobody is reset, and the
  // ticket is asked for a renewal.
  const unapproved = approvalProblem(current, deps.settings, now);
  if (unapproved) {
    deps.log.warn('schedule run refused: its approval does not cover it', { scheduleId: schedule.id, runId, code: unapproved.code });
    const refusedRun: ScheduleRun = { ...base, status: 'refused', reason: unapproved.reason, finishedAt: now.toISOString() };
    return end({ ...refusedRun, ...(await noticeFields(current, refusedRun, unapproved.code, unapproved.reason, deps, now)) });
  }

  let found: FoundUser[];
  try {
    found = current.sourceKind === 'group' ? await groupMembers(deps.graph, current.groupId ?? '') : await riskyUsers(deps.graph, current.minimumRiskLevel ?? 'high');
  } catch (error) {
    const reason = `the users could not be listed, so nobody was reset: ${error instanceof Error ? error.message.slice(0, 300) : String(error)}`;
    deps.log.warn('schedule run failed: source unreadable', { scheduleId: schedule.id, runId, reason });
    return end({ ...base, status: 'failed', reason, finishedAt: now.toISOString() });
  }

  // Risky users: not again by this schedule unless their risk changed after it last reset them. A
  // failed read of the marks throws (the run does not go ahead) rather than reset everyone again.
  let targets = found;
  if (current.sourceKind === 'riskyUsers') {
    const marks = await deps.schedules.marks(schedule.id);
    targets = found.filter((user) => {
      const resetAt = marks.get(user.id);
      if (resetAt === undefined) return true;
      return user.riskLastUpdatedDateTime !== undefined && Date.parse(user.riskLastUpdatedDateTime) > Date.parse(resetAt);
    });
  }
  targets.sort((a, b) => (a.userPrincipalName ?? `~${a.id}`).toLowerCase().localeCompare((b.userPrincipalName ?? `~${b.id}`).toLowerCase()));
  const counted = { ...base, bulkJobId: undefined, found: found.length, planned: targets.length, alreadyReset: found.length - targets.length };

  if (targets.length > current.maxUsersPerRun) {
    const reason = `max_users_exceeded: this run found ${targets.length} users to reset, more than the schedule's maxUsersPerRun of ${current.maxUsersPerRun}, so it reset nobody. Check the ${current.sourceKind === 'group' ? `group ${current.groupId}` : 'risky users'} (edited by mistake?) or raise maxUsersPerRun.`;
    deps.log.warn('schedule run refused: more users than maxUsersPerRun', { scheduleId: schedule.id, runId, users: targets.length, max: current.maxUsersPerRun });
    const refusedRun: ScheduleRun = { ...counted, status: 'refused', reason, finishedAt: now.toISOString() };
    return end({ ...refusedRun, ...(await noticeFields(current, refusedRun, 'max_users_exceeded', reason, deps, now)) });
  }
  if (targets.length === 0) {
    return end({ ...counted, status: 'completed', reason: found.length === 0 ? 'nothing to do: the source lists no users' : 'nothing to do: every user found was reset by this schedule already', finishedAt: now.toISOString() });
  }

  const parsedRequest = bulkRequestSchema.safeParse({
    ticket: current.ticketId ? { system: current.ticketSystem ?? 'schedule', id: current.ticketId, ...(current.ticketUrl ? { url: current.ticketUrl } : {}) } : { system: 'schedule', id: `schedule-${schedule.id}` },
    requestedBy: current.requestedById ? { name: current.requestedBy, id: current.requestedById } : current.requestedBy,
    ...(current.approvedBy ? { approvedBy: current.approvedBy } : {}),
    reason: `schedule "${current.name}" (${schedule.id}) run ${runId}`,
    users: targets.map((user) => user.userPrincipalName ?? ''),
    profile: current.profile,
    ...(current.methods ? { methods: current.methods } : {}),
    revokeSessions: current.revokeSessions,
    dryRun: current.dryRun,
    ...(current.verification ? { verification: current.verification } : {}),
  });
  if (!parsedRequest.success) {
    const reason = `the run's bulk job could not be made: ${parsedRequest.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; ').slice(0, 300)}`;
    return end({ ...counted, status: 'failed', reason, finishedAt: now.toISOString() });
  }
  const parsed: ParsedBulk = { request: parsedRequest.data, kind: 'users', rows: targets.map((user, index) => ({ row: index + 1, value: user.userPrincipalName ?? '' })) };
  const { job, items } = buildBulkJob(bulkJobId, parsed, deps.settings, deps.integrity, now);
  const runTargets: ScheduleTarget[] = targets.map((user, index) => ({ runId, index, userId: user.id, userPrincipalName: user.userPrincipalName ?? '' }));
  await deps.schedules.putTargets(runTargets);
  await deps.bulk.putItems(items);
  await deps.bulk.createJob(job);
  await deps.beats?.kick('bulk');
  const run: ScheduleRun = { ...counted, bulkJobId };
  await deps.schedules.putRun(run);
  deps.log.info('schedule run started', { scheduleId: schedule.id, runId, bulkJobId, users: targets.length, dryRun: current.dryRun });
  return { started: true, run };
}

/**
 * How long one releaser holds a run it is ending (removing users from the group, counting): others
 * that find the run then leave it to that one; one that died lets the next take over after this.
 */
export const SETTLE_CLAIM_MS = 5 * 60_000;

/**
 * Ends the schedule's active run once its bulk job has ended: counts, then (group source with
 * removeFromGroupAfterReset) each user whose reset ended `completed` leaves the group, and (risky
 * users) each is marked reset by this schedule. Returns the schedule, without activeRunId if ended.
 * Releasers can run side by side (two beats, a beat and a manual run): the one that claims the run's
 * row (ETag, SETTLE_CLAIM_MS) ends it, so users are removed and counted once.
 */
export async function settleActiveRun(schedule: StoredSchedule, deps: ScheduleDependencies): Promise<StoredSchedule> {
  const now = (deps.now ?? (() => new Date()))();
  const runId = schedule.activeRunId;
  if (!runId) return schedule;
  const read = await deps.schedules.getRunForUpdate(schedule.id, runId);
  const run = read?.run;
  if (!read || !run || run.status !== 'running') return clearActive(schedule.id, runId, deps, now);
  const job = run.bulkJobId ? await deps.bulk.getJob(run.bulkJobId) : undefined;
  if (!job) {
    // A run whose job never got written (the process stopped between claim and job): after a while, failed.
    if (now.getTime() - Date.parse(run.startedAt) < 10 * 60_000) return schedule;
    await deps.schedules.putRun({ ...run, status: 'failed', reason: 'interrupted before its bulk job was stored; nobody was reset by it', finishedAt: now.toISOString() });
    return clearActive(schedule.id, runId, deps, now);
  }
  if (job.status !== 'completed' && job.status !== 'failed') return schedule;
  const held = run.settlingUntil ? Date.parse(run.settlingUntil) : Number.NaN;
  if (held > now.getTime() && held <= now.getTime() + SETTLE_CLAIM_MS) return schedule; // another releaser is ending it
  const claimed = await deps.schedules.claimRun({ ...run, settlingUntil: new Date(now.getTime() + SETTLE_CLAIM_MS).toISOString() }, read.etag);
  if (!claimed) return schedule; // another releaser claimed it first
  const progress = { recording: false };
  try {
    await endClaimedRun(schedule, run, job, deps, now, progress);
  } catch (error) {
    // Failed before the outcome was being written: give the claim back, so that the next tick ends the
    // run rather than waiting out SETTLE_CLAIM_MS. Safe to write unconditionally, as no other releaser
    // writes this run while the claim holds. Once the outcome is being written it may have landed, and
    // writing the running run back could undo it: then the claim runs out instead.
    if (!progress.recording) await deps.schedules.putRun(run).catch(() => undefined);
    throw error;
  }
  return clearActive(schedule.id, runId, deps, now);
}

/** Ends a run this releaser holds the claim on: group removals or marks, then the run's outcome and counts. */
async function endClaimedRun(schedule: StoredSchedule, run: ScheduleRun, job: StoredJob, deps: ScheduleDependencies, now: Date, progress: { recording: boolean }): Promise<void> {
  const runId = run.id;
  const items = await deps.bulk.listItems(job.id);
  const targets = await deps.schedules.listTargets(runId);
  const idOf = new Map(targets.map((target) => [target.userPrincipalName.toLowerCase(), target.userId]));
  const completed = items.filter((item) => item.status === 'completed' && idOf.has(item.userPrincipalName.toLowerCase()));
  let removed = 0;
  let removalFailures = 0;
  // Checked again at the end: a group taken off REMEDIATION_GROUP_IDS meanwhile is left alone.
  const removable = schedule.groupId !== undefined && deps.settings.REMEDIATION_GROUP_IDS.includes(schedule.groupId.toLowerCase());
  const removalSkipped = !run.dryRun && schedule.removeFromGroupAfterReset && !removable && completed.length > 0;
  if (removalSkipped) deps.log.warn('schedule run: group removal skipped, the group is not in REMEDIATION_GROUP_IDS', { scheduleId: schedule.id, runId });
  if (!run.dryRun && schedule.sourceKind === 'group' && schedule.removeFromGroupAfterReset && schedule.groupId && removable) {
    for (const item of completed) {
      const outcome = await removeFromGroup(deps.graph, schedule.groupId, idOf.get(item.userPrincipalName.toLowerCase())!).catch(() => 'failed' as const);
      if (outcome === 'removed') removed += 1;
      else if (outcome === 'failed') removalFailures += 1;
    }
  }
  if (!run.dryRun && schedule.sourceKind === 'riskyUsers' && completed.length > 0) {
    await deps.schedules.putMarks(
      schedule.id,
      completed.map((item) => ({ userId: idOf.get(item.userPrincipalName.toLowerCase())!, resetAt: item.finishedAt ?? now.toISOString(), runId })),
    );
  }
  const { pending: _pending, ...counts } = job.counts;
  const { settlingUntil: _claim, ...ended } = run;
  progress.recording = true;
  await deps.schedules.putRun({
    ...ended,
    status: job.status === 'failed' ? 'failed' : 'completed',
    ...(job.status === 'failed' ? { reason: job.statusReason ?? 'the bulk job failed' } : removalSkipped ? { reason: `nobody was taken out of group ${schedule.groupId ?? ''}: it is not in REMEDIATION_GROUP_IDS` } : {}),
    counts,
    ...(schedule.removeFromGroupAfterReset ? { removedFromGroup: removed, removalFailures } : {}),
    finishedAt: now.toISOString(),
  });
  deps.log.info('schedule run ended', { scheduleId: schedule.id, runId, bulkJobId: job.id, completed: counts.completed, removed });
}

/** Clears activeRunId if it is still this run (re-read and retried on conflict). */
async function clearActive(scheduleId: string, runId: string, deps: ScheduleDependencies, now: Date): Promise<StoredSchedule> {
  for (let attempt = 0; ; attempt += 1) {
    const fresh = await deps.schedules.get(scheduleId);
    if (!fresh) throw new ScheduleConflictError(scheduleId);
    if (fresh.activeRunId !== runId) return fresh;
    try {
      return await deps.schedules.update({ ...fresh, activeRunId: undefined }, now);
    } catch (error) {
      if (!(error instanceof ScheduleConflictError) || attempt >= 4) throw error;
    }
  }
}

/** Tells the ticket; a failure to do so is logged and said on the run, never a reason to reset anyone. */
async function noticeFields(schedule: StoredSchedule, run: ScheduleRun, code: string, reason: string, deps: ScheduleDependencies, now: Date): Promise<Partial<ScheduleRun>> {
  if (!deps.notice) return { ticketNotice: 'not told: no ticket write-back is wired here' };
  try {
    const outcome = await tellTicket(schedule, run, code, reason, deps.notice, now);
    if (outcome.told) return { noticeRequestId: outcome.requestId, ticketNotice: `a note to ticket ${schedule.ticketId ?? ''} is on its way (request ${outcome.requestId})` };
    return { ticketNotice: `not told: ${outcome.why}` };
  } catch (error) {
    deps.log.warn('schedule: the ticket could not be told; the reason is on the run', { scheduleId: schedule.id, runId: run.id, cause: error instanceof Error ? error.message : String(error) });
    return { ticketNotice: 'not told: the notice could not be stored (see the log); the reason is on this run' };
  }
}
