import { z } from 'zod';
import { userPath } from '../graph/paths';
import type { GraphResponse, GraphTransport } from '../graph/http';
import { GraphNetworkError } from '../graph/http';
import { RetryLaterError } from '../graph/retry';
import type { RequestRow } from '../requests/request-row';
import { scrub } from './note-format';
import { kindName, storedResult } from './note-text';
import type { CallOutcome } from './ticket-http';
import type { EventRecord } from './outbox-state';

/**
 * Telling the people affected (the help-desk attack: a caller impersonating the user gets a reset; the
 * real user and their manager are the ones who notice). From the NOTIFY_SENDER_UPN mailbox with Graph
 * `POST /users/{sender}/sendMail` (202 Accepted, application permission Mail.Send, restricted to that one
 * mailbox with Exchange RBAC for Applications or an application access policy: docs/notes-on-the-ticket.md). The manager
 * comes from `GET /users/{id}/manager` (404 when none is set). Never a pass, never a full phone number.
 */

const personSchema = z.object({ mail: z.string().nullable().optional(), displayName: z.string().nullable().optional(), userPrincipalName: z.string().nullable().optional() }).passthrough();
export type Person = z.infer<typeof personSchema>;

export type Recipient = 'user' | 'manager';

export interface MailMessage {
  subject: string;
  text: string;
}

export function mailFor(recipient: Recipient, row: RequestRow, user: Person, at: string): MailMessage {
  const result = storedResult(row);
  const removed = (result?.methods ?? [])
    .filter((method) => ['deleted', 'already-gone', 'deactivated'].includes(method.outcome))
    .map((method) => kindName(method.kind));
  const what = removed.length > 0 ? [...new Set(removed)].join(', ') : 'your registered sign-in methods';
  // Directory text is the only part not written here: masked like method details, in case it holds a number.
  const name = scrub(user.displayName ?? user.userPrincipalName ?? 'the user');
  const ticket = `${row.ticketSystem} ticket ${row.ticketId}`;
  const sessions = row.revokeSessions && result?.revoke?.outcome === 'done';
  if (recipient === 'user') {
    return {
      subject: 'Your multi-factor authentication (MFA) was reset',
      text: [
        `Hello ${name},`,
        '',
        `On ${at} the service desk reset the multi-factor authentication (MFA) of your account ${user.userPrincipalName ?? ''}, for ${ticket}.`,
        `Removed: ${what}.${sessions ? ' You were also signed out everywhere.' : ''}`,
        'At your next sign-in you will be asked to set up your sign-in methods again.',
        '',
        'If you did not ask for this, someone may be trying to take over your account. Contact your service desk or security team at once, and do not approve sign-in prompts you did not start.',
        '',
        `Reference: request ${row.id}`,
      ].join('\n'),
    };
  }
  return {
    subject: `MFA reset for ${name}`,
    text: [
      'Hello,',
      '',
      `You are listed as the manager of ${name} (${user.userPrincipalName ?? ''}). On ${at} the service desk reset their multi-factor authentication (MFA), for ${ticket}.`,
      `Removed: ${what}.`,
      '',
      `If ${name} did not ask for this (for example, they are away or did not lose their phone), someone may be impersonating them. Contact the service desk or security team at once.`,
      '',
      `Reference: request ${row.id}`,
    ].join('\n'),
  };
}

/**
 * The one mail a manager gets when they may vouch for the user (shared/verification/attestation.ts):
 * what was asked, by whom, and the console link where they sign in, check it is really the person
 * (for example on a video call) and confirm. No pass, no verification link (that is the user's).
 */
export function attestationMail(row: RequestRow, user: Person, record: EventRecord, consoleBaseUrl: string | undefined): MailMessage {
  const name = scrub(user.displayName ?? user.userPrincipalName ?? 'your report');
  const link = consoleBaseUrl ? `${consoleBaseUrl.replace(/\/+$/, '')}/api/console/#/attest/${encodeURIComponent(row.id)}` : `the operator console (request ${row.id})`;
  return {
    subject: `Please confirm it is really ${name} before their MFA is reset`,
    text: [
      'Hello,',
      '',
      `The service desk was asked to reset the multi-factor authentication (MFA) of ${name} (${user.userPrincipalName ?? ''}), for ${row.ticketSystem} ticket ${row.ticketId}, by ${scrub(row.requestedBy)}.`,
      `Nothing is changed until someone confirms it is really them${record.facts?.expiresAt ? `, before ${record.facts.expiresAt}` : ''}. As their manager you can:`,
      `1. Talk to ${name} on a video call (or in person) and make sure it is them, and that they asked for this.`,
      `2. Open ${link}, sign in with your work account, and confirm.`,
      '',
      `If you cannot reach ${name}, or they did not ask for this, do not confirm: tell the service desk or security team at once. Someone may be impersonating them.`,
      '',
      `Reference: request ${row.id}`,
    ].join('\n'),
  };
}

/** Who to write to: the user's or their manager's mail address, or why there is none. */
export async function recipientOf(graph: GraphTransport, objectId: string, recipient: Recipient): Promise<CallOutcome<{ address: string | undefined; person: Person }>> {
  const path = recipient === 'user' ? `${userPath(objectId)}?$select=mail,displayName,userPrincipalName` : `${userPath(objectId)}/manager?$select=mail,displayName,userPrincipalName`;
  const answer = await graphCall(graph, { method: 'GET', version: 'v1.0', path });
  if (answer.kind !== 'ok') {
    // No manager set: nothing to send, not a failure.
    if (answer.kind === 'refused' && answer.status === 404 && recipient === 'manager') return { kind: 'ok', status: 404, body: { address: undefined, person: {} } };
    return answer;
  }
  const person = personSchema.safeParse(answer.body);
  if (!person.success) return { kind: 'retry', status: answer.status, uncertain: false, message: 'Graph answered with a user in an unexpected shape' };
  const address = person.data.mail ?? undefined;
  return { kind: 'ok', status: answer.status, body: { address: address && address.includes('@') ? address : undefined, person: person.data } };
}

export async function sendMail(graph: GraphTransport, sender: string, to: string, message: MailMessage, marker: string): Promise<CallOutcome<undefined>> {
  const answer = await graphCall(graph, {
    method: 'POST',
    version: 'v1.0',
    path: `${userPath(sender)}/sendMail`,
    body: {
      message: {
        subject: message.subject,
        body: { contentType: 'Text', content: message.text },
        toRecipients: [{ emailAddress: { address: to } }],
        // Lets a mail rule or a person see which request a mail belongs to (custom headers start with x-).
        internetMessageHeaders: [{ name: 'x-entra-mfa-reset', value: marker }],
      },
      saveToSentItems: true,
    },
  });
  if (answer.kind !== 'ok') return answer;
  return { kind: 'ok', status: answer.status, body: undefined };
}

async function graphCall(graph: GraphTransport, request: Parameters<GraphTransport['send']>[0]): Promise<CallOutcome<unknown>> {
  let response: GraphResponse;
  try {
    response = await graph.send(request);
  } catch (error) {
    if (error instanceof GraphNetworkError) return { kind: 'retry', uncertain: request.method !== 'GET', message: `Graph did not answer: ${error.message}` };
    // The paced client refuses to wait longer than it may (the budget is spent, or Graph throttles): later.
    if (error instanceof RetryLaterError) {
      return { kind: 'retry', uncertain: false, retryAfterSeconds: Math.max(1, (error.retryAt.getTime() - Date.now()) / 1000), message: `Graph budget: ${error.reason}` };
    }
    throw error;
  }
  if (response.status >= 200 && response.status < 300) return { kind: 'ok', status: response.status, body: response.body };
  const code = graphErrorText(response.body);
  const message = `Graph answered ${response.status}${code ? `: ${code}` : ''}${response.requestId ? ` (request-id ${response.requestId})` : ''}`;
  if (response.status === 429 || response.status >= 500) {
    return { kind: 'retry', status: response.status, retryAfterSeconds: response.retryAfterSeconds, uncertain: response.status >= 500 && request.method !== 'GET', message };
  }
  return { kind: 'refused', status: response.status, message };
}

function graphErrorText(body: unknown): string {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (!error) return '';
  return [error.code, error.message].filter((part) => typeof part === 'string').join(' ').slice(0, 300);
}

export { graphCall };
