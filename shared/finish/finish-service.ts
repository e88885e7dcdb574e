import { errorAnswer, jsonAnswer, type HttpAnswer } from '../http/answer';
import { ticketLineage } from '../intake/request-id';
import type { Logger } from '../log';
import type { RequestStores } from '../request-stores';
import { isRequestId, type RequestRow, type StoredRequest } from '../requests/request-row';
import type { TicketHook } from '../tickets/open-outbox';
import { LeaseLostError, RequestProgress } from '../worker/request-progress';
import type { Person } from '../console/token-validation';
import { displayName } from '../approvals/identity';
import { finishOffer, labels } from './finish-offer';
import { parseFinish, type FinishPerson, type FinishState } from './finish-state';

const NO_STORE = { 'cache-control': 'no-store' };

export interface FinishDependencies extends Pick<RequestStores, 'store' | 'audit' | 'queue' | 'index' | 'integrity'> {
  settings: { REQUEST_MAX_AGE_HOURS: number };
  /** The ticket outbox: a note when a finish is asked and when it is approved. */
  tickets?: TicketHook;
  log: Logger;
  now?: () => Date;
}

/** Someone else asked or approved between this call's read and its write: read again and decide again. */
class FinishRaced extends Error {}

/** The request's row, read now, if it exists and passes its MACs; otherwise the answer to give. */
async function trustedRow(id: string, deps: FinishDependencies): Promise<StoredRequest | { answer: HttpAnswer }> {
  const row = await deps.store.get(id);
  if (!row) return { answer: notFound() };
  if (!row.trusted) return { answer: errorAnswer(409, 'unverified_row', 'this request row fails its MAC check, so nothing is done for it', undefined, NO_STORE) };
  return row;
}

/**
 * Finishing a partial reset from the console, in two steps by two people. An operator
 * (CONSOLE_OPERATOR_GROUP_ID) asks: the request's row records what a linked request would also remove,
 * and the ticket is told; nothing runs. An approver (CONSOLE_APPROVER_GROUP_ID) who is not that operator,
 * not the user and not the original requester approves: only then is the linked request created, on the
 * same ticket, for the same user, with the wider method list, its own idempotency key and the intake's
 * MAC, requested by the operator and approved by the approver. It is queued like any request, so the
 * worker's guards, approval rule, cooldown and verification of the person all apply to it again.
 */
export async function askFinish(id: string, person: Person, deps: FinishDependencies): Promise<HttpAnswer> {
  if (!isRequestId(id)) return notFound();
  const now = (deps.now ?? (() => new Date()))();
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const row = await trustedRow(id, deps);
    if ('answer' in row) return row.answer;
    const asked = parseFinish(row.finish);
    if (asked) {
      if (samePerson(person, asked.askedBy) && !asked.requestId) return jsonAnswer(200, { finish: asked, repeat: true }, NO_STORE);
      return errorAnswer(409, 'finish_already_asked', `${asked.askedBy.userPrincipalName} already asked to finish this reset at ${asked.askedAt}${asked.requestId ? `, and ${asked.approvedBy?.userPrincipalName ?? 'an approver'} approved it (request ${asked.requestId})` : '; it waits for a second person to approve it'}`, undefined, NO_STORE);
    }
    const offer = finishOffer(row);
    if (!offer.offered) return errorAnswer(409, 'not_finishable', `this request cannot be finished from the console: ${offer.why}`, undefined, NO_STORE);
    if (isTarget(person, row)) return errorAnswer(403, 'finish_by_target', 'you are the user this request resets: someone else must ask to finish it', undefined, NO_STORE);

    const state: FinishState = {
      version: 1,
      methods: offer.methods,
      adds: offer.adds,
      staying: offer.staying,
      kept: offer.kept,
      askedBy: who(person),
      askedAt: now.toISOString(),
    };
    const json = JSON.stringify(state);
    const progress = new RequestProgress(row, deps);
    try {
      await progress.save((current) => {
        if (current.finish !== row.finish) throw new FinishRaced();
        const facts = { operator: person.userPrincipalName, adds: offer.addsLabel, kept: offer.kept };
        return { finish: json, ...deps.tickets?.fieldsOnFinishNote({ ...current, finish: json }, 'finish-asked', facts) };
      });
      await progress.audit({
        action: 'finish asked',
        outcome: 'waiting',
        detail: `${person.userPrincipalName} (object id ${person.objectId.toLowerCase()}) asked in the console to finish this reset with a linked request on the same ticket, methods ${JSON.stringify(offer.methods)}, which also removes ${offer.addsLabel} (they kept ${offer.kept} registered); nothing runs until a member of the approver group other than them, the user and the requester approves`,
      });
      const saved = await progress.save({});
      if (saved.ticketDueAt) await deps.tickets?.notify(saved);
      deps.log.info('finish asked', { requestId: row.id, operator: person.userPrincipalName });
      return jsonAnswer(202, { finish: state }, NO_STORE);
    } catch (error) {
      if (error instanceof FinishRaced || error instanceof LeaseLostError) continue;
      throw error;
    }
  }
  return busy();
}

export async function approveFinish(id: string, person: Person, deps: FinishDependencies): Promise<HttpAnswer> {
  if (!isRequestId(id)) return notFound();
  const now = (deps.now ?? (() => new Date()))();
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const row = await trustedRow(id, deps);
    if ('answer' in row) return row.answer;
    const asked = parseFinish(row.finish);
    if (!asked) return errorAnswer(409, 'no_finish_asked', 'nobody has asked to finish this request; an operator asks first, on its page', undefined, NO_STORE);
    if (asked.requestId) return jsonAnswer(200, { finish: asked, requestId: asked.requestId, repeat: true }, NO_STORE);
    const refusal = approvalRefusal(person, row, asked);
    if (refusal) return errorAnswer(403, refusal.code, refusal.message, undefined, NO_STORE);
    const maxAgeMs = deps.settings.REQUEST_MAX_AGE_HOURS * 3_600_000;
    if (now.getTime() - Date.parse(asked.askedAt) > maxAgeMs) {
      return errorAnswer(409, 'finish_expired', `this finish was asked at ${asked.askedAt}, more than REQUEST_MAX_AGE_HOURS (${deps.settings.REQUEST_MAX_AGE_HOURS} h) ago; it is not approved that late: raise a new ticket for the user`, undefined, NO_STORE);
    }

    const linked = await createLinkedRequest(row, asked, person, now, deps);
    const approved: FinishState = { ...asked, approvedBy: linked.approvedBy, approvedAt: now.toISOString(), requestId: linked.row.id };
    const json = JSON.stringify(approved);
    const progress = new RequestProgress(row, deps);
    try {
      await progress.save((current) => {
        if (current.finish !== row.finish) throw new FinishRaced();
        const facts = { operator: asked.askedBy.userPrincipalName, approver: linked.approvedBy.userPrincipalName, adds: labels(asked.adds), requestId: linked.row.id };
        return { finish: json, nextRequestId: linked.row.id, ...deps.tickets?.fieldsOnFinishNote({ ...current, finish: json }, 'finish-approved', facts) };
      });
      await progress.audit({
        action: 'finish approved',
        outcome: 'approved',
        detail: `${linked.approvedBy.userPrincipalName} (object id ${linked.approvedBy.objectId}) approved the finish ${asked.askedBy.userPrincipalName} asked for; linked request ${linked.row.id} resets the user again with methods ${JSON.stringify(asked.methods)}`,
      });
      const saved = await progress.save({});
      if (saved.ticketDueAt) await deps.tickets?.notify(saved);
    } catch (error) {
      if (error instanceof FinishRaced || error instanceof LeaseLostError) continue;
      throw error;
    }
    await deps.queue.send(linked.row.id).catch((error: unknown) => {
      // The row is stored `accepted`: the sweeper re-drives it.
      deps.log.warn('finish approved, but the linked request was not queued; the sweeper will find it', { requestId: linked.row.id, cause: error instanceof Error ? error.message : String(error) });
    });
    await pointTicketAt(row, linked.row.id, deps, now);
    deps.log.info('finish approved', { requestId: row.id, linkedRequestId: linked.row.id, approver: person.userPrincipalName });
    return jsonAnswer(202, { finish: approved, requestId: linked.row.id }, NO_STORE);
  }
  return busy();
}

/** The approver is a second person: not the operator who asked, not the user, not whoever asked for the original reset. */
export function approvalRefusal(person: Person, row: RequestRow, asked: FinishState): { code: string; message: string } | undefined {
  if (samePerson(person, asked.askedBy)) return { code: 'self_approval', message: 'you asked to finish this reset; a second person in the approver group must approve it' };
  if (isTarget(person, row)) return { code: 'approval_by_target', message: 'you are the user this request resets; someone else must approve finishing it' };
  // A ticket system names its requester by its own ids (a Jira account id, a ServiceNow sys_id) and a
  // display name: the name counts too, so a namesake is refused rather than the requester let through.
  const requester = [row.requestedBy, row.requestedById, displayName(row.requestedBy)].filter((v): v is string => !!v).map((v) => v.trim().toLowerCase());
  const mine = [person.userPrincipalName, person.objectId, person.name].filter((v): v is string => !!v).map((v) => v.trim().toLowerCase());
  if (mine.some((id) => requester.includes(id))) {
    return { code: 'approval_by_requester', message: 'you asked for the original reset, so you cannot also approve finishing it; a second person must' };
  }
  return undefined;
}

/** The signed-in person is the user this request resets (as the ticket named them, or as the worker resolved them). */
export function isTarget(person: Person, row: RequestRow): boolean {
  const ids = [row.targetUpn, row.targetObjectId, resolvedTarget(row)?.objectId, resolvedTarget(row)?.userPrincipalName].filter((v): v is string => !!v).map((v) => v.toLowerCase());
  return ids.includes(person.userPrincipalName.toLowerCase()) || ids.includes(person.objectId.toLowerCase());
}

function resolvedTarget(row: RequestRow): { objectId?: string; userPrincipalName?: string } | undefined {
  try {
    const parsed = JSON.parse(row.result ?? '{}') as { target?: { objectId?: unknown; userPrincipalName?: unknown } };
    const target = parsed.target;
    if (!target) return undefined;
    return {
      ...(typeof target.objectId === 'string' ? { objectId: target.objectId } : {}),
      ...(typeof target.userPrincipalName === 'string' ? { userPrincipalName: target.userPrincipalName } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * The linked request, written as the intake writes a request: its own idempotency key (one finish per
 * partial request, so a second approval meets the first's row), the intake's MAC over its fields, a
 * conditional insert. Its first audit row says where it came from.
 */
async function createLinkedRequest(row: StoredRequest, asked: FinishState, person: Person, now: Date, deps: FinishDependencies): Promise<{ row: StoredRequest; approvedBy: FinishPerson }> {
  const idempotencyKey = `console|finish|${row.id}`;
  const id = deps.integrity.requestId(idempotencyKey);
  const time = now.toISOString();
  const candidate: RequestRow = {
    id,
    idempotencyKey,
    source: row.source,
    previousRequestId: row.id,
    status: 'accepted',
    ticketSystem: row.ticketSystem,
    ticketId: row.ticketId,
    ticketUrl: row.ticketUrl,
    ticketSysId: row.ticketSysId,
    ticketTable: row.ticketTable,
    ...(row.ticketAssignee !== undefined ? { ticketAssignee: row.ticketAssignee } : {}),
    targetUpn: row.targetUpn,
    targetObjectId: row.targetObjectId,
    requestedBy: asked.askedBy.userPrincipalName,
    requestedById: asked.askedBy.objectId,
    approvedBy: person.userPrincipalName,
    reason: `Finish of request ${row.id}, which ended partial: also remove ${labels(asked.adds)}, which kept ${asked.kept} registered. Asked in the operator console by ${asked.askedBy.userPrincipalName}, approved there by ${person.userPrincipalName}.`,
    profile: row.profile,
    methods: asked.methods,
    revokeSessions: row.revokeSessions,
    dryRun: false,
    ...(row.callbackUrl !== undefined ? { callbackUrl: row.callbackUrl } : {}),
    ...(row.verificationAsked !== undefined ? { verificationAsked: row.verificationAsked } : {}),
    attempts: 0,
    createdAt: time,
    updatedAt: time,
  };
  const result = await deps.store.create({ ...candidate, intakeMac: deps.integrity.rowMac(candidate) });
  if (result.request.previousRequestId !== row.id) throw new Error(`request ${id} exists but is not the finish of ${row.id}`);
  if (!result.created) {
    // Made by an approval whose link to this request was not saved (it died in between): its approver stands.
    const by = result.request.approvedBy ?? 'unknown';
    return { row: result.request, approvedBy: by.toLowerCase() === person.userPrincipalName.toLowerCase() ? who(person) : { userPrincipalName: by, objectId: 'unknown' } };
  }
  const progress = new RequestProgress(result.request, deps);
  await progress.audit({
    action: 'created',
    outcome: 'accepted',
    detail: `linked request finishing partial request ${row.id}: asked in the console by ${asked.askedBy.userPrincipalName} (object id ${asked.askedBy.objectId}) at ${asked.askedAt}, approved by ${person.userPrincipalName} (object id ${person.objectId.toLowerCase()}) at ${time}; methods ${JSON.stringify(asked.methods)}`,
  });
  const saved = await progress.save({});
  return { row: saved, approvedBy: who(person) };
}

/** A new delivery for the ticket now finds the linked request, the latest of its lineage. Best effort. */
async function pointTicketAt(row: RequestRow, nextId: string, deps: FinishDependencies, now: Date): Promise<void> {
  try {
    const key = deps.integrity.indexKey('ticket', ticketLineage(row.source, row.ticketSystem, row.ticketId));
    const latest = await deps.index.latestOfTicket(key);
    if (latest?.requestId === row.id) await deps.index.pointTicketAt(key, nextId, latest.etag, now);
  } catch (error) {
    deps.log.warn('the ticket lineage was not pointed at the linked request', { requestId: row.id, cause: error instanceof Error ? error.message : String(error) });
  }
}

function who(person: Person): FinishPerson {
  return { userPrincipalName: person.userPrincipalName, objectId: person.objectId.toLowerCase(), ...(person.name ? { name: person.name.slice(0, 256) } : {}) };
}

function samePerson(person: Person, other: FinishPerson): boolean {
  return person.objectId.toLowerCase() === other.objectId.toLowerCase() || person.userPrincipalName.toLowerCase() === other.userPrincipalName.toLowerCase();
}

function notFound(): HttpAnswer {
  return errorAnswer(404, 'not_found', 'no reset request has this id', undefined, NO_STORE);
}

function busy(): HttpAnswer {
  return errorAnswer(503, 'busy', 'the request kept changing; try again', undefined, { ...NO_STORE, 'retry-after': '2' });
}

/**
 * What the request page shows of finishing: the offer (or why there is none), what was asked and
 * approved, and what the signed-in person may do about it (with why not, so the page can say so).
 */
export function finishView(row: StoredRequest, person: Person & { roles: readonly string[] }) {
  const asked = row.trusted ? parseFinish(row.finish) : undefined;
  if (row.status !== 'partial' && !asked) return undefined;
  const offer = finishOffer(row);
  const target = isTarget(person, row);
  const approveRefusal = asked && !asked.requestId ? approvalRefusal(person, row, asked) : undefined;
  return {
    offer: offer.offered ? { offered: true, methods: offer.methods, adds: offer.adds, addsLabel: offer.addsLabel, staying: offer.staying, kept: offer.kept } : { offered: false, why: offer.why },
    ...(asked ? { asked: { ...asked, addsLabel: labels(asked.adds) } } : {}),
    canAsk: person.roles.includes('operator') && offer.offered && !asked && !target,
    canApprove: person.roles.includes('approver') && asked !== undefined && !asked.requestId && approveRefusal === undefined,
    ...(approveRefusal && person.roles.includes('approver') ? { approveRefusal: approveRefusal.message } : {}),
    ...(target && person.roles.includes('operator') && !asked ? { askRefusal: 'you are the user this request resets' } : {}),
  };
}
