import type { Settings } from '../config';
import { firstTime } from '../log';
import { bulkApproval } from '../intake/approval-gate';
import { VERIFICATION_POLICIES, type VerificationPolicy } from '../verification/policy';
import { schemaError } from '../intake/adapter';
import { errorAnswer, IntakeRefusal, jsonAnswer, refused, type HttpAnswer } from '../http/answer';
import { actOnce } from '../intake/signed-once';
import { authenticate, type Authentication, type HeaderLookup } from '../intake/signature';
import { parseSignedJson } from '../http/signed-json';
import { checkSignedTimestamp, FRESHNESS } from '../intake/timestamp';
import { checkSchedule, nextRunTime, nextRunTimes, ScheduleSyntaxError } from './cron';
import { actionSchema, createScheduleSchema, patchScheduleSchema, type CreateSchedule } from './schedule-request';
import { scheduleMacText, type Schedule, type ScheduleRun, type StoredSchedule } from './schedule-rows';
import { approvalExpiresAt } from './schedule-approval';
import { ScheduleConflictError } from './schedule-store';
import { checkScheduleTicket } from './schedule-ticket-check';
import { scheduleIsAuthentic, startRun, type ScheduleDependencies } from './schedule-runs';

/** A schedule body is small; larger is refused while streaming (functions/http-body.ts). */
export const MAX_SCHEDULE_BODY_BYTES = 16 * 1024;

export interface ScheduleCall {
  method: string;
  /** The schedule id from the route, if any; `action` is `run` for POST …/{id}/run. */
  id?: string;
  action?: string;
  /** The body exactly as received (empty for GET): what the Standard Webhooks signature covers. */
  body: Uint8Array;
  headers: HeaderLookup;
}

const ID = /^[A-Za-z0-9_-]{16,64}$/;

/**
 * Every `/api/schedules` route. Each is a generic signed route (Standard Webhooks, 5 minutes): a
 * listing names who may be reset and when, so it is not for anonymous callers either.
 */
export async function handleScheduleCall(call: ScheduleCall, deps: ScheduleDependencies): Promise<HttpAnswer> {
  const now = (deps.now ?? (() => new Date()))();
  try {
    const auth = authenticate('generic', call.body, call.headers, deps.settings, now);
    if (auth.mode === 'demo-unsigned' && firstTime(deps.settings, 'demo-unsigned schedules')) deps.log.warn('!!! LOCAL DEMO MODE: accepted an UNSIGNED schedule call because WEBHOOK_SECRET_GENERIC is not set !!!');
    const method = call.method.toUpperCase();
    const json = call.body.byteLength > 0 ? parseSignedJson(call.body) : undefined;
    if (json !== undefined) checkSignedTimestamp(json.timestamp, now, auth.mode === 'demo-unsigned' ? FRESHNESS.unsigned : FRESHNESS.generic);
    // A signature covers neither the method nor the path: the webhook-id is bound to this call and acts once.
    const path = ['/api/schedules', call.id, call.action].filter((part) => part !== undefined && part !== '').join('/');
    return await actOnce(auth, { call: `${method} ${path}`, signed: call.body, readOnly: method === 'GET' }, deps, now, () =>
      dispatch(call, method, json, auth, deps, now).catch((error: unknown) => failure(error, deps)),
    );
  } catch (error) {
    return failure(error, deps);
  }
}

async function dispatch(call: ScheduleCall, method: string, json: Record<string, unknown> | undefined, auth: Authentication, deps: ScheduleDependencies, now: Date): Promise<HttpAnswer> {
  if (!call.id) {
    if (method === 'POST') return create(json, auth.mode === 'standard-webhooks' || auth.mode === 'demo-unsigned' ? auth.webhookId : undefined, deps, now);
    if (method === 'GET') return jsonAnswer(200, { value: (await deps.schedules.list()).map((schedule) => view(schedule, now, 1, deps.settings)) }, { 'cache-control': 'no-store' });
    return errorAnswer(405, 'method_not_allowed', `${method} is not supported on /api/schedules`);
  }
  if (!ID.test(call.id)) return errorAnswer(404, 'not_found', 'no schedule has that id');
  const schedule = await deps.schedules.get(call.id);
  if (!schedule) return errorAnswer(404, 'not_found', `no schedule has the id ${call.id}`);

  if (call.action === 'run' && method === 'POST') {
    const parsed = actionSchema.safeParse(json ?? {});
    if (!parsed.success) throw schemaError(parsed.error.issues);
    const outcome = await startRun(schedule, 'manual', now, deps);
    if (!outcome.started) {
      return errorAnswer(outcome.code === 'unauthenticated_row' ? 422 : 409, outcome.code, outcome.message);
    }
    // The releaser ends the run once its bulk job has ended.
    await deps.beats?.kick('schedules');
    return jsonAnswer(202, { runId: outcome.run.id, bulkJobId: outcome.run.bulkJobId ?? null, status: outcome.run.status, ...(outcome.run.reason ? { reason: outcome.run.reason } : {}) });
  }
  if (call.action !== undefined) return errorAnswer(404, 'not_found', `no route /api/schedules/{id}/${call.action.slice(0, 32)}`);
  if (method === 'GET') {
    const runs = await deps.schedules.listRuns(schedule.id);
    return jsonAnswer(200, { ...view(schedule, now, 5, deps.settings), runs: runs.map(runView) }, { 'cache-control': 'no-store' });
  }
  if (method === 'PATCH') return patch(schedule, json, deps, now);
  if (method === 'DELETE') {
    await deps.schedules.delete(schedule);
    deps.log.info('schedule deleted', { scheduleId: schedule.id });
    return jsonAnswer(200, { id: schedule.id, deleted: true });
  }
  return errorAnswer(405, 'method_not_allowed', `${method} is not supported on /api/schedules/{id}`);
}

function failure(error: unknown, deps: ScheduleDependencies): HttpAnswer {
  if (error instanceof IntakeRefusal) return error.toAnswer();
  if (error instanceof ScheduleConflictError) return errorAnswer(409, 'conflict', 'the schedule was changed at the same time; read it again and retry');
  if (error instanceof Error && error.name === 'StorageUnavailableError') {
    deps.log.warn(`schedules: ${error.message}`);
    return errorAnswer(503, 'storage_unavailable', 'schedules cannot be read or written right now; try again later', undefined, { 'retry-after': '30' });
  }
  deps.log.warn(`schedules: unexpected ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  return errorAnswer(500, 'internal_error', 'the schedule call could not be processed');
}

async function create(json: Record<string, unknown> | undefined, webhookId: string | undefined, deps: ScheduleDependencies, now: Date): Promise<HttpAnswer> {
  const parsed = createScheduleSchema.safeParse(json ?? {});
  if (!parsed.success) throw schemaError(parsed.error.issues);
  const body = parsed.data;
  checkCron(body.schedule, body.timeZone);
  checkApproval(body.requestedBy, body.approvedBy, deps.settings);
  // The signed webhook-id makes a repeat of the same delivery answer the same schedule.
  const id = deps.integrity.requestId(webhookId ? `schedule|delivery|${webhookId}` : `schedule|demo|${now.getTime()}|${Math.random()}`);
  const definition = definitionOf(id, body, now);
  checkRemoval(definition, deps.settings);
  const ticketCheckedAt = await checkScheduleTicket(definition, deps.settings, deps.tickets ?? {}, now);
  const schedule = sign({ ...definition, ...(ticketCheckedAt ? { ticketCheckedAt } : {}) }, deps);
  const { created, schedule: stored } = await deps.schedules.create(schedule);
  if (!created) return jsonAnswer(200, { id: stored.id }, { 'x-idempotent-replay': 'true' });
  deps.log.info('schedule created', { scheduleId: id, source: schedule.sourceKind, enabled: schedule.enabled, dryRun: schedule.dryRun });
  // The releaser's next beat is this schedule's first slot if nothing else is due sooner.
  await deps.beats?.kick('schedules');
  return jsonAnswer(201, { id, nextRunAt: schedule.nextRunAt ?? null, approvalExpiresAt: approvalExpiresAt(schedule, deps.settings) ?? null, ticketNotes: ticketNotesOf(schedule) });
}

/** Fields whose change alters whom a schedule resets, or how: each needs a fresh approval in the same PATCH. */
const NEEDS_APPROVAL = ['source', 'profile', 'methods', 'removeFromGroupAfterReset', 'dryRun', 'verification'] as const;

async function patch(schedule: StoredSchedule, json: Record<string, unknown> | undefined, deps: ScheduleDependencies, now: Date): Promise<HttpAnswer> {
  if (!scheduleIsAuthentic(schedule, deps.integrity)) throw refused('unauthenticated_row', 'this schedule was not written by the service (its MAC does not verify); delete it and create it again');
  const parsed = patchScheduleSchema.safeParse(json ?? {});
  if (!parsed.success) throw schemaError(parsed.error.issues);
  const { timestamp: _t, ticket, requestedBy, methods, source, ...change } = parsed.data;
  const next: StoredSchedule = { ...schedule };
  for (const [name, value] of Object.entries(change)) if (value !== undefined) (next as unknown as Record<string, unknown>)[name] = value;
  if (methods === null) delete next.methods;
  else if (methods !== undefined) next.methods = methods;
  if (source !== undefined) Object.assign(next, sourceFields(source));
  if (requestedBy !== undefined) Object.assign(next, requesterFields(requestedBy));
  if (ticket !== undefined) Object.assign(next, ticketFields(ticket), { ticketCheckedAt: undefined });
  if (next.removeFromGroupAfterReset && next.sourceKind !== 'group') throw refused('invalid_request', 'only a group source can remove users from its group');
  checkCron(next.schedule, next.timeZone);

  // Whom and how it resets changed: the approval it had was not for this.
  const same = (name: 'profile' | 'methods' | 'removeFromGroupAfterReset') => JSON.stringify(schedule[name] ?? null) === JSON.stringify(next[name] ?? null);
  const changed = NEEDS_APPROVAL.filter((name) =>
    name === 'source'
      ? sourceChanged(schedule, next)
      : name === 'dryRun'
        ? schedule.dryRun && !next.dryRun
        : name === 'verification'
          ? looser(next.verification, schedule.verification)
          : !same(name),
  );
  if (change.approvedBy !== undefined) next.approvedAt = now.toISOString();
  else if (changed.length > 0 && (deps.settings.REQUIRE_APPROVAL || schedule.approvedBy !== undefined)) {
    throw refused('approval_required', `changing ${changed.join(', ')} changes whom or how this schedule resets, so it needs a fresh approval: send approvedBy (a second person) in the same PATCH. Nothing was changed.`, { fields: changed });
  }
  checkApproval(next.requestedById ? { name: next.requestedBy, id: next.requestedById } : next.requestedBy, next.approvedBy, deps.settings);
  if (next.removeFromGroupAfterReset && (!schedule.removeFromGroupAfterReset || next.groupId !== schedule.groupId)) checkRemoval(next, deps.settings);
  if (ticket !== undefined) {
    const checkedAt = await checkScheduleTicket(next, deps.settings, deps.tickets ?? {}, now);
    if (checkedAt) next.ticketCheckedAt = checkedAt;
  }
  // A change of when, or a resume, counts from now: a paused schedule does not catch up its pause.
  if (change.schedule !== undefined || change.timeZone !== undefined || (change.enabled === true && !schedule.enabled)) {
    next.nextRunAt = nextRunTime(next.schedule, next.timeZone, now)?.toISOString();
  }
  const stored = await deps.schedules.update(sign(next, deps), now);
  await deps.beats?.kick('schedules');
  deps.log.info('schedule changed', { scheduleId: schedule.id, fields: Object.keys(parsed.data).filter((name) => name !== 'timestamp').join(',') });
  return jsonAnswer(200, view(stored, now, 1, deps.settings));
}

/** A verification made looser than it was (verifying fewer people, or by a weaker method). */
function looser(after: VerificationPolicy | undefined, before: VerificationPolicy | undefined): boolean {
  return VERIFICATION_POLICIES.indexOf(after ?? 'none') < VERIFICATION_POLICIES.indexOf(before ?? 'none');
}

function sourceChanged(before: Schedule, after: Schedule): boolean {
  return before.sourceKind !== after.sourceKind || before.groupId !== after.groupId || before.minimumRiskLevel !== after.minimumRiskLevel;
}

function sourceFields(source: CreateSchedule['source']): Pick<Schedule, 'sourceKind' | 'groupId' | 'minimumRiskLevel'> {
  return 'groupId' in source
    ? { sourceKind: 'group', groupId: source.groupId, minimumRiskLevel: undefined }
    : { sourceKind: 'riskyUsers', groupId: undefined, minimumRiskLevel: source.riskyUsers.minimumRiskLevel };
}

/**
 * Taking users out of a group needs GroupMember.ReadWrite.All, which can take anyone out of any
 * ordinary group (a Conditional Access "require MFA" group, say): only groups listed for it may be named.
 */
function checkRemoval(schedule: Schedule, settings: Settings): void {
  if (!schedule.removeFromGroupAfterReset) return;
  if (schedule.groupId && settings.REMEDIATION_GROUP_IDS.includes(schedule.groupId.toLowerCase())) return;
  throw refused(
    'group_not_for_removal',
    `removeFromGroupAfterReset takes users out of group ${schedule.groupId ?? ''}, which is not in REMEDIATION_GROUP_IDS; only remediation groups listed there may be emptied by a schedule. Nothing was changed.`,
    { fields: ['removeFromGroupAfterReset'] },
  );
}

function ticketNotesOf(schedule: Schedule): string {
  if (schedule.ticketCheckedAt) return `on: a refused run writes a note to ${schedule.ticketSystem} ${schedule.ticketId}`;
  if (!schedule.ticketId) return 'off: the schedule names no ticket';
  return `off: ${schedule.ticketSystem ?? ''} ${schedule.ticketId} is a label only (no write-back for that system is configured, or a ServiceNow ticket without sysId and table)`;
}

function definitionOf(id: string, body: CreateSchedule, now: Date): Schedule {
  const time = now.toISOString();
  return {
    id,
    name: body.name,
    schedule: body.schedule.trim().split(/\s+/).join(' '),
    timeZone: body.timeZone,
    ...sourceFields(body.source),
    profile: body.profile,
    ...(body.methods ? { methods: body.methods } : {}),
    revokeSessions: body.revokeSessions,
    removeFromGroupAfterReset: body.removeFromGroupAfterReset,
    ...requesterFields(body.requestedBy),
    approvedBy: body.approvedBy,
    ...(body.approvedBy !== undefined ? { approvedAt: time } : {}),
    ...(body.ticket !== undefined ? ticketFields(body.ticket) : {}),
    enabled: body.enabled,
    dryRun: body.dryRun,
    ...(body.verification ? { verification: body.verification } : {}),
    maxUsersPerRun: body.maxUsersPerRun,
    nextRunAt: nextRunTime(body.schedule, body.timeZone, now)?.toISOString(),
    createdAt: time,
    updatedAt: time,
  };
}

function requesterFields(requestedBy: CreateSchedule['requestedBy']): Pick<Schedule, 'requestedBy' | 'requestedById'> {
  return typeof requestedBy === 'string' ? { requestedBy, requestedById: undefined } : { requestedBy: requestedBy.name, requestedById: requestedBy.id };
}

function ticketFields(ticket: NonNullable<CreateSchedule['ticket']>): Pick<Schedule, 'ticketSystem' | 'ticketId' | 'ticketUrl' | 'ticketSysId' | 'ticketTable'> {
  if (typeof ticket === 'string') return { ticketSystem: 'schedule', ticketId: ticket, ticketUrl: undefined, ticketSysId: undefined, ticketTable: undefined };
  return { ticketSystem: ticket.system, ticketId: ticket.id, ticketUrl: ticket.url, ticketSysId: ticket.sysId, ticketTable: ticket.table };
}

const sign = <T extends Schedule>(schedule: T, deps: ScheduleDependencies): T => ({ ...schedule, mac: deps.integrity.mac('schedule', scheduleMacText(schedule)) });

function checkCron(expression: string, timeZone: string): void {
  try {
    checkSchedule(expression, timeZone);
  } catch (error) {
    if (error instanceof ScheduleSyntaxError) throw refused('invalid_schedule', error.message);
    throw error;
  }
}

/**
 * The approval a schedule records on every request it makes: the bulk jobs' rules (required with
 * REQUIRE_APPROVAL, never from the requester); the worker refuses an approver who is the user being reset.
 */
function checkApproval(requestedBy: CreateSchedule['requestedBy'], approvedBy: string | undefined, settings: Settings): void {
  bulkApproval(approvedBy, requestedBy, 'the schedule', settings.REQUIRE_APPROVAL);
}

function view(schedule: StoredSchedule, now: Date, upcoming: number, settings: Settings) {
  const { etag: _etag, mac: _mac, ...rest } = schedule;
  const next = schedule.enabled ? nextRunTimes(schedule.schedule, schedule.timeZone, now, upcoming).map((date) => date.toISOString()) : [];
  return {
    ...rest,
    approvalExpiresAt: approvalExpiresAt(schedule, settings) ?? null,
    ticketNotes: ticketNotesOf(schedule),
    source: schedule.sourceKind === 'group' ? { groupId: schedule.groupId } : { riskyUsers: { minimumRiskLevel: schedule.minimumRiskLevel } },
    nextRunTimes: next,
  };
}

const runView = (run: ScheduleRun) => run;
