import { createHash } from 'node:crypto';
import { errorAnswer, type HttpAnswer } from '../http/answer';
import type { IntakeIndex } from '../requests/intake-index';
import type { RequestIntegrity } from '../requests/request-integrity';
import type { Authentication } from './signature';
import { WEBHOOK_TOLERANCE_SECONDS } from './standard-webhooks';

/**
 * Each signed call acts once (DESIGN section 5: "a replay of signed bytes acts at most once"). A
 * Standard Webhooks signature covers the webhook-id, timestamp and body, not the method or the path, so
 * a captured call could otherwise be sent again within its 5 minutes, or sent to another route with
 * the same body (a `{}` run as a `{}` delete, a signed read as a run). Every signed call of the
 * schedule and bulk routes therefore records its webhook-id, before it acts, in the intake index's
 * single-use partition (the same record the pass collection uses), with what it was for and, once
 * known, its answer:
 *  - the same call again (a sender's retry, or a replay) gets that first answer (2xx as 200, with
 *    `x-idempotent-replay: true`) and changes nothing;
 *  - the same webhook-id for another call or other bytes: 422 `idempotency_conflict`, nothing changed;
 *  - while the first is still acting (or stopped before it answered): 409 `delivery_in_progress`;
 *  - a first answer of 5xx changed nothing by contract, so its record is dropped and the same delivery
 *    may be sent again.
 * Reads record their id too (so that a captured read cannot be spent on a change), and a repeated
 * read reads again.
 */
export interface OnceCall {
  /** What the call does, such as `PATCH /api/schedules/{id}`: the webhook-id is bound to it. */
  call: string;
  /** The bytes the signature covers. */
  signed: Uint8Array;
  /** A read: recorded, but a repeat of it is answered afresh. */
  readOnly?: boolean;
}

export interface OnceDependencies {
  index: IntakeIndex;
  integrity: RequestIntegrity;
}

/** How long a record is kept: a webhook-timestamp is accepted 5 minutes either way, plus a minute of slack. */
export const ONCE_RECORD_MS = (2 * WEBHOOK_TOLERANCE_SECONDS + 60) * 1000;
/** Table properties hold 64 KiB; an answer larger than this is replayed as its status and a note. */
const MAX_STORED_ANSWER_CHARS = 30_000;

type Record = { [name: string]: unknown; etag: string };

export async function actOnce(auth: Authentication, call: OnceCall, deps: OnceDependencies, now: Date, act: () => Promise<HttpAnswer>): Promise<HttpAnswer> {
  // Unsigned demo calls carry nothing to replay; only Standard Webhooks calls have a signed id.
  if (auth.mode !== 'standard-webhooks') return act();
  const key = deps.integrity.indexKey('signed-call', auth.webhookId);
  const digest = createHash('sha256').update(call.signed).digest('hex');
  const shownId = auth.webhookId.slice(0, 64);
  const fresh = { requestId: '', expiresAt: new Date(now.getTime() + ONCE_RECORD_MS).toISOString() };
  const first = { call: call.call, digest, state: call.readOnly ? 'read' : 'acting' };

  let mine: boolean;
  try {
    mine = await deps.index.useOnce(key, fresh, first);
    if (!mine) {
      const record = (await deps.index.readOnce(key)) as Record | undefined;
      // A record past its time belongs to a delivery whose signature can no longer be fresh: take it over.
      const stale = !record || Date.parse(String(record.expiresAt ?? '')) <= now.getTime();
      if (stale) {
        mine = await deps.index.settleOnce(key, { ...fresh, ...first }, record?.etag);
        if (!mine) return inProgress(shownId);
      } else {
        return await repeatOf(record, call, shownId, act);
      }
    }
  } catch {
    return errorAnswer(503, 'storage_unavailable', `whether webhook-id ${shownId} was used before cannot be checked right now; nothing was changed, send the call again later`, undefined, { 'retry-after': '10' });
  }

  const answer = await act();
  if (call.readOnly) return answer;
  try {
    if (answer.status >= 500) await deps.index.forgetOnce(key);
    else await deps.index.settleOnce(key, { ...fresh, ...first, state: 'done', status: String(answer.status), answer: storedAnswer(answer) });
  } catch {
    // The record stays "acting": a repeat is answered 409 and changes nothing, which is the safe side.
  }
  return answer;
}

async function repeatOf(record: Record, call: OnceCall, shownId: string, act: () => Promise<HttpAnswer>): Promise<HttpAnswer> {
  if (record.call !== call.call || record.digest !== createHash('sha256').update(call.signed).digest('hex')) {
    const other = record.call === call.call ? `${call.call} with other content` : String(record.call);
    return errorAnswer(422, 'idempotency_conflict', `webhook-id ${shownId} was used already, for ${other}; nothing was changed. Sign each call with a new webhook-id.`);
  }
  if (call.readOnly) return act();
  if (record.state !== 'done') return inProgress(shownId);
  const status = Number(record.status);
  let body: unknown;
  try {
    body = JSON.parse(String(record.answer ?? 'null'));
  } catch {
    body = null;
  }
  return {
    status: status >= 200 && status < 300 ? 200 : status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'x-idempotent-replay': 'true' },
    jsonBody: body,
  };
}

function inProgress(shownId: string): HttpAnswer {
  return errorAnswer(
    409,
    'delivery_in_progress',
    `the first call with webhook-id ${shownId} is still being handled (or stopped before it answered); this one changed nothing. Read the resource to see what happened; a new call needs a new webhook-id.`,
    undefined,
    { 'retry-after': '5' },
  );
}

function storedAnswer(answer: HttpAnswer): string {
  const text = JSON.stringify(answer.jsonBody ?? null);
  if (text.length <= MAX_STORED_ANSWER_CHARS) return text;
  return JSON.stringify({ replayed: true, note: 'the first answer was too large to keep; read the resource for its state' });
}
