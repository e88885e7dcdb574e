import type { AuditEntry } from '../audit/audit-entry';
import { errorAnswer, jsonAnswer, type HttpAnswer } from '../http/answer';
import { isRequestId, type StoredRequest } from '../requests/request-row';
import { RequestConflictError } from '../requests/request-store';
import type { RequestStores } from '../request-stores';
import { supersededAnswer, supersededDetail } from '../passes/superseded';
import { actorOf, auditHeadOf, targetOf } from '../worker/request-view';
import type { SignedInPerson } from './person-gate';
import type { Settings } from '../config';
import { passGoesToVerifiedPerson } from '../verification/pass-routing';

/** Audit actions that record a pass leaving the service (the machine route's and the console's). */
export const PASS_HANDOVER_ACTIONS = ['pass-collect', 'pass-reveal'] as const;

export interface PassHandoverRecord {
  at: string;
  /** The audit row's own words: who took it, and through which route. */
  detail: string;
  by?: { userPrincipalName: string; objectId: string };
}

/**
 * `POST /api/console/requests/{id}/pass`: shows the sealed pass once to a signed-in member of the
 * collector group. The pass is taken from the handover table first (a delete with its ETag, so two
 * people racing cannot both get it), then the audit names the person (UPN and object id, and whether
 * they are the ticket's assignee where the ticket names one) before anything is shown. If the audit
 * cannot be written the pass is not shown: it is gone, and a new request issues a new one.
 */
export async function revealPass(
  id: string,
  person: SignedInPerson,
  deps: Pick<RequestStores, 'store' | 'audit' | 'passes'> & { settings: Pick<Settings, 'VERIFICATION_REQUIRED'> },
): Promise<HttpAnswer> {
  const noStore = { 'cache-control': 'no-store' };
  const row = isRequestId(id) ? await deps.store.get(id) : undefined;
  if (!row) return errorAnswer(404, 'not_found', 'no reset request has this id', undefined, noStore);
  const refusal = passGoesToVerifiedPerson(row, deps.settings);
  if (refusal) return errorAnswer(403, 'pass_goes_to_verified_person', refusal, undefined, noStore);
  if (!deps.passes) return errorAnswer(404, 'no_pass', 'this service has no TAP_SEALING_KEY, so it never keeps a pass to hand over', undefined, noStore);

  const collected = await deps.passes.collect(row.id);
  if (collected.outcome === 'none') {
    const previous = lastHandover(await deps.audit.list(row.id));
    if (previous) {
      return errorAnswer(410, 'pass_collected', `the pass was collected already, at ${previous.at}: ${previous.detail}`, { collected: previous }, noStore);
    }
    return errorAnswer(404, 'no_pass', 'no pass is waiting for this request: none was asked for or issued', undefined, noStore);
  }
  const who = `${person.userPrincipalName} (object id ${person.objectId})`;
  if (collected.outcome === 'superseded') {
    await appendAndRecord(row, deps, { action: 'pass-reveal', outcome: 'superseded', detail: supersededDetail(`${who} in the console`, collected) });
    return supersededAnswer(collected, noStore);
  }
  if (collected.outcome === 'expired') {
    await appendAndRecord(row, deps, { action: 'pass-reveal', outcome: 'expired', detail: `asked for in the console by ${who}; the pass expired at ${collected.expiresAt} and was discarded` });
    return errorAnswer(410, 'pass_expired', `the pass expired at ${collected.expiresAt}; send a new request for a new one`, undefined, noStore);
  }
  const assignee = assigneeNote(row, person);
  await appendAndRecord(row, deps, {
    action: 'pass-reveal',
    outcome: 'handed-over',
    detail: `revealed in the console to ${who}; ${assignee.note}`,
  });
  return jsonAnswer(
    200,
    {
      id: row.id,
      temporaryAccessPass: collected.temporaryAccessPass,
      expiresAt: collected.expiresAt,
      collectedBy: { userPrincipalName: person.userPrincipalName, objectId: person.objectId },
      ticketAssignee: assignee.view,
    },
    { ...noStore, pragma: 'no-cache' },
  );
}

/** The newest handover in a request's audit, with the person named when the console recorded it. */
export function lastHandover(entries: readonly AuditEntry[]): PassHandoverRecord | undefined {
  const entry = [...entries].reverse().find((e) => (PASS_HANDOVER_ACTIONS as readonly string[]).includes(e.action) && e.outcome === 'handed-over');
  if (!entry) return undefined;
  const named = /to (\S+) \(object id ([0-9a-f-]{36})\)/.exec(entry.detail ?? '');
  return {
    at: entry.at,
    detail: entry.detail ?? entry.action,
    ...(named ? { by: { userPrincipalName: named[1]!, objectId: named[2]! } } : {}),
  };
}

/** Whether the collector is the ticket's assignee, where the stored request names one. */
export function assigneeNote(row: StoredRequest, person: Pick<SignedInPerson, 'userPrincipalName' | 'objectId'>) {
  const assignee = (row as StoredRequest & { ticketAssignee?: string }).ticketAssignee;
  if (!assignee) return { note: 'the ticket names no assignee', view: { named: false as const } };
  const same = [person.userPrincipalName.toLowerCase(), person.objectId].includes(assignee.toLowerCase());
  return {
    note: `${same ? 'the collector is' : 'the collector is NOT'} the ticket's assignee ${assignee}`,
    view: { named: true as const, assignee, collectorIsAssignee: same },
  };
}

/**
 * Appends the audit row, then records the new chain head on the request row so that removing the row
 * shows. The row may be changed by someone else meanwhile (a ticket update): read it again and retry.
 */
async function appendAndRecord(row: StoredRequest, deps: Pick<RequestStores, 'store' | 'audit'>, entry: { action: string; outcome: string; detail: string }): Promise<void> {
  const written = await deps.audit.append(row.id, actorOf(row), targetOf(row), entry, auditHeadOf(row));
  let current: StoredRequest | undefined = row;
  for (let attempt = 0; attempt < 5 && current; attempt += 1) {
    if ((current.auditSeq ?? 0) >= written.seq) return;
    const { etag, ...fields } = current;
    try {
      await deps.store.update({ ...fields, auditSeq: written.seq, auditHash: written.hash }, etag);
      return;
    } catch (error) {
      if (!(error instanceof RequestConflictError)) throw error;
      current = await deps.store.get(row.id);
    }
  }
}
