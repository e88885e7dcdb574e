import { createHash } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log';
import type { GraphTransport } from '../graph/http';
import type { Logger } from '../log';
import type { RequestIntegrity } from '../requests/request-integrity';
import type { RequestStore } from '../requests/request-store';
import { resetMessageSchema } from '../worker/reset-message';
import { parseVerification } from '../verification/verification-state';
import { callbackPayload, callbackWebhookId, postCallback } from './callback-client';
import { watchStep } from './follow-up';
import type { JiraClient } from './jira-client';
import { attestationMail, mailFor, recipientOf, sendMail, type Recipient } from './mail';
import { noteAdf, noteText } from './note-format';
import { noteFor } from './note-text';
import type { TicketSettings } from './open-outbox';
import { OutboxRow } from './outbox-row';
import { OUTBOX_EVENTS, parseOutbox, type EventRecord, type OutboxEvent } from './outbox-state';
import type { ServiceNowClient } from './servicenow-client';
import type { CallOutcome, FetchLike } from './ticket-http';

export interface TicketDependencies {
  store: RequestStore;
  audit: AuditLog;
  integrity: RequestIntegrity;
  /** Queue ticket-updates (message = request id). */
  queue: { send(requestId: string, delaySeconds?: number): Promise<void> };
  /** The app's paced Graph client: follow-up reads and mail share the tenant's budget. */
  graph: GraphTransport;
  servicenow: ServiceNowClient | undefined;
  jira: JiraClient | undefined;
  settings: TicketSettings;
  log: Logger;
  /** Tests: how callbacks are sent (the default is the global fetch). */
  callbackFetch?: FetchLike;
  /** Tests: a shorter claim and fewer tries. */
  tuning?: { claimSeconds?: number; maxAttempts?: number; now?: () => Date };
}

export type TicketOutcome = 'malformed' | 'missing' | 'nothing-to-do' | 'not-authentic' | 'worked' | 'idle';

/** A claim on one event lasts this long: a worker that dies while posting leaves it to the next after that. */
const CLAIM_SECONDS = 60;
/** Tries per event; then it is failed and recorded, never retried forever. */
const MAX_ATTEMPTS = 10;

/**
 * Handles one message of queue ticket-updates: every event of the request's outbox that is due is
 * claimed (ETag), sent once and recorded; the follow-up watch takes its step; a message for the next
 * thing due is sent with its delay. A 429 or 5xx waits for Retry-After (or backs off), any other 4xx is
 * recorded in the audit and the status and not retried. A try whose outcome is unknown (no answer, a
 * claim that ran out) is looked up on the ticket before the note is sent again.
 */
export async function processTicketUpdate(message: unknown, deps: TicketDependencies): Promise<TicketOutcome> {
  const parsed = resetMessageSchema.safeParse(message);
  if (!parsed.success) {
    deps.log.error('ticket-updates message is not {requestId}; dropped');
    return 'malformed';
  }
  const row = await deps.store.get(parsed.data.requestId);
  if (!row) return 'missing';
  const state = parseOutbox(row.ticketUpdates);
  if (!state) return 'nothing-to-do';
  const now = deps.tuning?.now ?? (() => new Date());
  const outbox = new OutboxRow(row, state, deps);

  // Ticket fields and the outbox decide where a note goes and what it says: a row this service did not
  // write as it is now gets nothing posted, and nothing written back (that would make its values look authentic).
  if (!row.trusted) {
    deps.log.error('ticket outbox refused: the request row MAC does not verify (changed in storage); nothing is posted', { requestId: row.id });
    return 'not-authentic';
  }

  let worked = false;
  for (const event of OUTBOX_EVENTS) {
    const record = outbox.outbox.events[event];
    if (!record || !isDue(record, now())) continue;
    // Follow-up notes come after the outcome note, never before it.
    if ((event === 'follow-up' || event === 'follow-up-closed') && !isSettled(outbox.outbox.events.outcome)) continue;
    worked = (await runEvent(outbox, event, deps, now)) || worked;
  }
  const watch = outbox.outbox.watch;
  if (watch && !watch.ended && Date.parse(watch.nextAt) <= now().getTime()) {
    worked = (await watchStep(outbox, deps, now)) || worked;
    // The step may have opened a follow-up note: post it now rather than on the next message.
    for (const event of ['follow-up', 'follow-up-closed'] as const) {
      const record = outbox.outbox.events[event];
      if (record && isDue(record, now()) && isSettled(outbox.outbox.events.outcome)) await runEvent(outbox, event, deps, now);
    }
  }

  const due = outbox.current.ticketDueAt;
  if (worked && due) {
    await deps.queue.send(outbox.current.id, Math.max(1, Math.ceil((Date.parse(due) - now().getTime()) / 1000)));
  }
  return worked ? 'worked' : 'idle';
}

function isDue(record: EventRecord, now: Date): boolean {
  if (record.state === 'pending') return true;
  if (record.state === 'retrying' || record.state === 'posting') return !record.until || Date.parse(record.until) <= now.getTime();
  return false;
}

function isSettled(record: EventRecord | undefined): boolean {
  return !record || record.state === 'posted' || record.state === 'failed' || record.state === 'skipped';
}

type Sent = CallOutcome<{ remoteId?: string; textHash?: string; found?: boolean; skipped?: string }>;

/** Claims one event, sends it and records the answer. Returns whether this invocation held the event. */
async function runEvent(outbox: OutboxRow, event: OutboxEvent, deps: TicketDependencies, now: () => Date): Promise<boolean> {
  const claimMs = (deps.tuning?.claimSeconds ?? CLAIM_SECONDS) * 1000;
  const maxAttempts = deps.tuning?.maxAttempts ?? MAX_ATTEMPTS;
  let tried = false;
  let exhausted = false;
  const claimed = await outbox.change((state) => {
    const record = state.events[event];
    if (!record || !isDue(record, now())) return false;
    tried = record.attempts > 0;
    if (record.attempts >= maxAttempts) {
      exhausted = true;
      state.events[event] = { ...record, state: 'failed', until: undefined, error: clip(`gave up after ${record.attempts} tries; last: ${record.error ?? 'no answer'}`) };
      return;
    }
    state.events[event] = { ...record, state: 'posting', attempts: record.attempts + 1, until: new Date(now().getTime() + claimMs).toISOString() };
  }, now);
  if (!claimed) return false;
  const record = outbox.outbox.events[event]!;
  if (exhausted) {
    await outbox.audit({ action: `ticket ${event}`, outcome: 'failed', detail: `${channelName(record.channel)}: ${record.error}` });
    await outbox.change(() => undefined, now);
    deps.log.warn('ticket update given up', { requestId: outbox.current.id, event, channel: record.channel });
    return true;
  }

  let sent: Sent;
  try {
    sent = await send(outbox, event, record, tried, deps);
  } catch (error) {
    // A bug or a refused URL: recorded as a refusal rather than retried forever.
    sent = { kind: 'refused', status: 0, message: error instanceof Error ? error.message : String(error) };
  }

  const at = now();
  if (sent.kind === 'ok') {
    const skipped = sent.body.skipped;
    await outbox.audit({
      action: `ticket ${event}`,
      outcome: skipped ? 'skipped' : 'posted',
      detail: skipped ? `${channelName(record.channel)}: ${skipped}` : `${channelName(record.channel)}${sent.body.found ? ': found on the ticket from an earlier try, not posted again' : ''}${sent.body.remoteId ? ` (${sent.body.remoteId})` : ''}`,
    });
    await outbox.change((state) => {
      const current = state.events[event];
      if (!current) return false;
      state.events[event] = {
        ...current,
        state: skipped ? 'skipped' : 'posted',
        until: undefined,
        postedAt: skipped ? undefined : at.toISOString(),
        ...(sent.body.remoteId ? { remoteId: sent.body.remoteId } : {}),
        ...(sent.body.textHash ? { textHash: sent.body.textHash } : {}),
        ...(skipped ? { error: clip(skipped) } : { error: undefined }),
      };
    }, now);
    return true;
  }
  if (sent.kind === 'refused') {
    await outbox.audit({ action: `ticket ${event}`, outcome: 'failed', detail: `${channelName(record.channel)}: ${clip(sent.message)}; not retried (fix the cause, then send the ticket again)` });
    await outbox.change((state) => {
      const current = state.events[event];
      if (!current) return false;
      state.events[event] = { ...current, state: 'failed', until: undefined, error: clip(sent.message) };
    }, now);
    deps.log.warn('ticket update refused', { requestId: outbox.current.id, event, channel: record.channel, status: sent.status });
    return true;
  }
  const waitSeconds = Math.min(3600, Math.max(1, sent.retryAfterSeconds ?? 5 * 2 ** Math.max(0, record.attempts - 1)));
  await outbox.change((state) => {
    const current = state.events[event];
    if (!current) return false;
    state.events[event] = { ...current, state: 'retrying', until: new Date(at.getTime() + waitSeconds * 1000).toISOString(), error: clip(sent.message) };
  }, now);
  deps.log.info('ticket update retried later', { requestId: outbox.current.id, event, channel: record.channel, status: sent.status, waitSeconds });
  return true;
}

async function send(outbox: OutboxRow, event: OutboxEvent, record: EventRecord, tried: boolean, deps: TicketDependencies): Promise<Sent> {
  const row = outbox.current;
  if (record.channel === 'mail') return sendOneMail(outbox, event, record, deps);
  const note = noteFor(event, row, record, deps.settings.CONSOLE_BASE_URL);
  if (record.channel === 'callback') {
    if (!row.callbackUrl) return { kind: 'refused', status: 0, message: 'the request names no callbackUrl' };
    const payload = callbackPayload(row, note);
    const answer = await postCallback(row.callbackUrl, payload, record.marker, {
      allowedHosts: deps.settings.CALLBACK_ALLOWED_HOSTS,
      signingSecret: deps.settings.CALLBACK_SIGNING_SECRET,
      fetch: deps.callbackFetch,
    });
    if (answer.kind !== 'ok') return answer;
    return { kind: 'ok', status: answer.status, body: { remoteId: `callback ${callbackWebhookId(record.marker)} to ${new URL(row.callbackUrl).host}`, textHash: createHash('sha256').update(JSON.stringify(payload)).digest('hex') } };
  }
  const text = noteText(note);
  const textHash = createHash('sha256').update(text).digest('hex');

  if (record.channel === 'servicenow') {
    const client = deps.servicenow;
    if (!client) return { kind: 'refused', status: 0, message: 'ServiceNow write-back is no longer configured (SERVICENOW_INSTANCE_URL)' };
    const table = row.ticketTable!;
    const sysId = row.ticketSysId!;
    if (tried) {
      const found = await client.hasWorkNote(table, sysId, note.marker);
      if (found.kind === 'retry') return found;
      if (found.kind === 'refused' && found.status === 401) return found;
      if (found.kind === 'ok' && found.body) return { kind: 'ok', status: found.status, body: { found: true, textHash } };
    }
    const answer = await client.addWorkNote(table, sysId, text);
    if (answer.kind !== 'ok') return answer;
    return { kind: 'ok', status: answer.status, body: { textHash, remoteId: answer.body.updatedOn ? `work note, record updated ${answer.body.updatedOn}` : 'work note' } };
  }
  if (record.channel === 'jira') {
    const client = deps.jira;
    if (!client) return { kind: 'refused', status: 0, message: 'Jira write-back is no longer configured (JIRA_SITE_URL)' };
    if (tried) {
      const found = await client.findComment(row.ticketId, note.marker);
      if (found.kind === 'retry') return found;
      if (found.kind === 'refused' && found.status === 401) return found;
      if (found.kind === 'ok' && found.body) return { kind: 'ok', status: found.status, body: { found: true, textHash, remoteId: `comment ${found.body}` } };
    }
    const answer = await client.addInternalComment(row.ticketId, noteAdf(note), note.marker);
    if (answer.kind !== 'ok') return answer;
    return { kind: 'ok', status: answer.status, body: { textHash, remoteId: `comment ${answer.body.id}` } };
  }
  return { kind: 'refused', status: 0, message: `no sender for channel ${record.channel}` };
}

async function sendOneMail(outbox: OutboxRow, event: OutboxEvent, record: EventRecord, deps: TicketDependencies): Promise<Sent> {
  const recipient: Recipient = event === 'mail-user' ? 'user' : 'manager';
  const sender = deps.settings.NOTIFY_SENDER_UPN;
  if (!sender) return { kind: 'ok', status: 0, body: { skipped: 'NOTIFY_SENDER_UPN is no longer set' } };
  const row = outbox.current;
  const objectId = outbox.outbox.watch?.objectId ?? row.targetObjectId ?? storedTarget(row) ?? parseVerification(row.verification)?.targetObjectId;
  if (!objectId) return { kind: 'ok', status: 0, body: { skipped: 'the user was never resolved' } };
  const user = await recipientOf(deps.graph, objectId, 'user');
  if (user.kind !== 'ok') return user;
  const to = recipient === 'user' ? user : await recipientOf(deps.graph, objectId, 'manager');
  if (to.kind !== 'ok') return to;
  if (!to.body.address) return { kind: 'ok', status: to.status, body: { skipped: recipient === 'manager' ? 'the user has no manager with a mail address in the directory' : 'the user has no mail address' } };
  const at = row.completedAt ?? new Date().toISOString();
  const message = event === 'mail-manager-attest' ? attestationMail(row, user.body.person, record, deps.settings.CONSOLE_BASE_URL) : mailFor(recipient, row, user.body.person, at);
  const answer = await sendMail(deps.graph, sender, to.body.address, message, record.marker);
  if (answer.kind !== 'ok') return answer;
  return { kind: 'ok', status: answer.status, body: { remoteId: `mail to ${maskAddress(to.body.address)}`, textHash: createHash('sha256').update(message.text).digest('hex') } };
}

function storedTarget(row: { result?: string }): string | undefined {
  try {
    const parsed = JSON.parse(row.result ?? '{}') as { target?: { objectId?: unknown } };
    return typeof parsed.target?.objectId === 'string' ? parsed.target.objectId : undefined;
  } catch {
    return undefined;
  }
}

/** Ends every open event and the watch (poison, or a row that is not authentic). */
export async function endEverything(outbox: OutboxRow, reason: string, now: () => Date): Promise<void> {
  let ended = false;
  await outbox.change((state) => {
    ended = false;
    for (const event of OUTBOX_EVENTS) {
      const record = state.events[event];
      if (record && !isSettled(record)) {
        state.events[event] = { ...record, state: 'failed', until: undefined, error: clip(reason) };
        ended = true;
      }
    }
    if (state.watch && !state.watch.ended) {
      state.watch = { ...state.watch, ended: reason.split(':')[0] ?? 'ended' };
      ended = true;
    }
    if (!ended) return false;
  }, now);
  if (ended) await outbox.audit({ action: 'ticket updates', outcome: 'failed', detail: clip(reason) });
  if (ended) await outbox.change(() => undefined, now);
}

function channelName(channel: EventRecord['channel']): string {
  return { servicenow: 'ServiceNow work note', jira: 'Jira internal comment', callback: 'callback', mail: 'mail' }[channel];
}

function maskAddress(address: string): string {
  const at = address.lastIndexOf('@');
  return at > 0 ? `${address[0]}***${address.slice(at)}` : '***';
}

function clip(text: string): string {
  return text.length > 1000 ? `${text.slice(0, 997)}...` : text;
}
