import { createHash } from 'node:crypto';
import { z } from 'zod';
import { standardWebhookHeaders } from '../intake/standard-webhooks';
import type { RequestRow } from '../requests/request-row';
import { callbackUrlProblem } from './callback-url';
import { scrub, type Note } from './note-format';
import { storedResult } from './note-text';
import { callTicketSystem, type CallOutcome, type FetchLike } from './ticket-http';

/**
 * The outcome posted to a generic caller's `callbackUrl`, signed as Standard Webhooks
 * (standardwebhooks.com) with CALLBACK_SIGNING_SECRET: `webhook-id` is the same on every retry of one
 * event, so the receiver drops repeats by it (a callback cannot be looked up afterwards the way a note
 * on a ticket can); `webhook-timestamp` and the signature are made per try. The body holds what the
 * note says (masked details) and never a pass, a secret or a full phone number.
 */

export const CALLBACK_EVENT_TYPE = 'mfa_reset.outcome';

export interface CallbackPayload {
  type: typeof CALLBACK_EVENT_TYPE;
  timestamp: string;
  data: {
    requestId: string;
    status: string;
    ticket: { system: string; id: string };
    target: string | undefined;
    methodsRemoved: { kind: string; detail: string }[];
    sessionsRevoked: boolean | undefined;
    temporaryAccessPass: 'issued' | 'not-issued' | undefined;
    reasonCode: string | undefined;
    note: { title: string; lines: string[] };
    statusPath: string;
  };
}

export function callbackPayload(row: RequestRow, note: Note): CallbackPayload {
  const result = storedResult(row);
  const removed = (result?.methods ?? []).filter((method) => method.outcome === 'deleted' || method.outcome === 'already-gone' || method.outcome === 'deactivated');
  const final = row.status !== 'rejected' && row.status !== 'planned';
  return {
    type: CALLBACK_EVENT_TYPE,
    timestamp: row.completedAt ?? row.updatedAt,
    data: {
      requestId: row.id,
      status: row.status,
      ticket: { system: row.ticketSystem, id: row.ticketId },
      target: result?.target?.userPrincipalName ?? row.targetUpn ?? row.targetObjectId,
      methodsRemoved: removed.map((method) => ({ kind: method.kind, detail: scrub(method.detail) })),
      sessionsRevoked: final && row.revokeSessions ? result?.revoke?.outcome === 'done' : undefined,
      temporaryAccessPass: row.temporaryAccessPass ? (result?.temporaryAccessPass?.outcome === 'created' ? 'issued' : 'not-issued') : undefined,
      reasonCode: result?.code,
      note: { title: note.title, lines: note.lines },
      statusPath: `/api/resets/${row.id}`,
    },
  };
}

/** The webhook-id of one outbox event: stable across tries, opaque. */
export function callbackWebhookId(marker: string): string {
  return `msg_${createHash('sha256').update(marker).digest('base64url').slice(0, 27)}`;
}

export interface CallbackTarget {
  allowedHosts: readonly string[];
  signingSecret: string | undefined;
  timeoutMs?: number;
  fetch?: FetchLike;
}

export async function postCallback(url: string, payload: CallbackPayload, marker: string, target: CallbackTarget): Promise<CallOutcome<undefined>> {
  // Checked again at send time: the allow-list may have changed since the request was accepted.
  const problem = callbackUrlProblem(url, target.allowedHosts);
  if (problem) return { kind: 'refused', status: 0, message: `callbackUrl ${problem}; not posted` };
  if (!target.signingSecret) return { kind: 'refused', status: 0, message: 'CALLBACK_SIGNING_SECRET is no longer set; not posted' };
  const body = JSON.stringify(payload);
  const headers = standardWebhookHeaders(target.signingSecret, body, { id: callbackWebhookId(marker) });
  return callTicketSystem({
    system: 'callback',
    url,
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json', 'user-agent': 'entra-mfa-reset' },
    body,
    schema: z.undefined(),
    anyBody: true,
    timeoutMs: target.timeoutMs ?? 15_000,
    fetch: target.fetch,
  });
}
