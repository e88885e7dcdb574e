import { z } from 'zod';
import { targetKey, type NormalizedRequest, type Requester } from '../requests/canonical-request';
import { fieldError, refused } from '../http/answer';
import { jiraApproval } from './approval-gate';
import { clip, isRecord, own, schemaError, type Adapter } from './adapter';
import { idempotencyKeys } from './request-id';

/**
 * Jira Cloud, two shapes:
 *  - an admin webhook: `{ timestamp, webhookEvent, issue_event_type_name, user, issue: { id, self, key, fields }, changelog? }`
 *  - an Automation "Send web request" with issue data: the issue object itself, or `{ issue }`.
 * Jira payloads carry no e-mail addresses, so the target UPN is read from the issue field named by
 * JIRA_TARGET_FIELD (text, or a select option `{ value }`).
 */

/** Events that may ask for a reset; any other event (deletes, comments, ...) is refused. */
export const JIRA_EVENTS = ['jira:issue_created', 'jira:issue_updated'] as const;

/** issue_event_type_name of the "issue updated" deliveries Jira sends for comments. */
const COMMENT_EVENT_TYPES: readonly string[] = ['issue_commented', 'issue_comment_edited', 'issue_comment_deleted'];

const ISSUE_KEY = /^[A-Za-z][A-Za-z0-9_]*-[1-9][0-9]*$/;
const EMAIL = /^[^\s@]{1,128}@[^\s@]{1,127}$/;

const userSchema = z
  .object({ accountId: z.string().trim().min(1).max(256).optional(), displayName: z.string().trim().max(256).optional() })
  .passthrough();

const issueSchema = z
  .object({
    id: z.union([z.string(), z.number()]).optional(),
    self: z.string().max(2048).optional(),
    key: z.string().regex(ISSUE_KEY, 'must be a Jira issue key like ITSM-42'),
    fields: z.record(z.unknown()),
  })
  .passthrough();

const webhookSchema = z
  .object({
    webhookEvent: z.string().max(128).optional(),
    user: userSchema.optional(),
    issue: issueSchema,
  })
  .passthrough();

export const jiraAdapter: Adapter = ({ body, headers, settings, auth, signedAt }) => {
  // Automation may post the bare issue; a webhook and the wrapped form have `issue`.
  const wrapped = isRecord(own(body, 'issue'));
  const bare = !wrapped && (own(body, 'key') !== undefined || own(body, 'fields') !== undefined);
  const parsed = webhookSchema.safeParse(bare ? { issue: body } : body);
  if (!parsed.success) throw schemaError(parsed.error.issues.map((issue) => (bare ? { ...issue, path: issue.path.slice(1) } : issue)));
  const { webhookEvent, user, issue } = parsed.data;
  const at = (path: string) => (bare ? path : `issue.${path}`);

  if (webhookEvent !== undefined && !(JIRA_EVENTS as readonly string[]).includes(webhookEvent)) {
    throw refused(
      'unsupported_event',
      `Jira event "${webhookEvent}" does not ask for a reset: subscribe the webhook to issue created (or updated) events only`,
    );
  }
  // Jira sends "issue updated" (issue_commented) for every comment, the app's own outcome note included.
  // After a failed request that delivery would start a new attempt, whose note would start another:
  // a comment never asks for a reset, whoever wrote it (the type is part of the signed body).
  const eventType = own(body, 'issue_event_type_name');
  if (typeof eventType === 'string' && COMMENT_EVENT_TYPES.includes(eventType)) {
    throw refused(
      'unsupported_event',
      `Jira event type "${eventType}" is a comment and does not ask for a reset (the MFA reset service's own notes are comments): nothing was started`,
    );
  }

  const field = settings.JIRA_TARGET_FIELD;
  const raw = own(issue.fields, field);
  // A user picker arrives as {accountId, displayName, ...}: Jira Cloud leaves the e-mail out for privacy.
  if (isRecord(raw) && own(raw, 'accountId') !== undefined && own(raw, 'value') === undefined) {
    throw fieldError(
      at(`fields.${field}`),
      `is a Jira user picker: Jira Cloud does not send e-mail addresses for user picker fields (only accountId and displayName), so the user to reset cannot be read from it. Make ${field} (JIRA_TARGET_FIELD) a short text field holding the user's sign-in name (UPN), or a select list of them`,
    );
  }
  const upn = targetFromField(raw);
  if (upn === undefined) {
    throw fieldError(
      at(`fields.${field}`),
      `is empty or missing: the issue field ${field} (JIRA_TARGET_FIELD) must hold the sign-in name of the user to reset, as text or a select option`,
    );
  }

  // On issue updated the event's user is whoever changed the issue (often the approver), not who asked.
  const requestedBy =
    webhookEvent === 'jira:issue_updated'
      ? (requesterOf(own(issue.fields, 'reporter')) ?? requesterOf(own(issue.fields, 'creator')) ?? requesterOf(user))
      : (requesterOf(user) ?? requesterOf(own(issue.fields, 'reporter')) ?? requesterOf(own(issue.fields, 'creator')));
  if (!requestedBy) {
    throw fieldError(bare ? 'fields.reporter' : 'user', 'is missing: the request must name who asked (an accountId or displayName)');
  }

  const key = issue.key.toUpperCase();
  const summary = own(issue.fields, 'summary');
  const request: NormalizedRequest = {
    ticket: { system: 'jira', id: key, url: browseUrl(issue.self, key), ...assigneeOf(own(issue.fields, 'assignee')) },
    target: { userPrincipalName: upn },
    requestedBy,
    approvedBy: jiraApproval(body, issue.fields, user, webhookEvent, key, { userPrincipalName: upn }, settings.REQUIRE_APPROVAL),
    reason: typeof summary === 'string' && summary.trim() !== '' ? clip(summary.trim(), 2000) : undefined,
    profile: 'portal',
    revokeSessions: true,
    dryRun: false,
  };

  // Identity from signed content only: the event, its time (kept on Jira's retries), the issue and the
  // target. X-Atlassian-Webhook-Identifier is unsigned: kept for the record, never for identity.
  const deliveryId = clip(headers.get('x-atlassian-webhook-identifier')?.trim() ?? '', 256) || undefined;
  const target = targetKey(request.target);
  const idempotencyKey =
    auth.mode === 'token' || signedAt === undefined
      ? idempotencyKeys.jiraAutomation(key, signedAt, target)
      : idempotencyKeys.jiraEvent(String(issue.id ?? key), webhookEvent ?? 'jira:issue_created', signedAt, target);
  return { source: 'jira', request, deliveryId, idempotencyKey };
};

/**
 * The issue's assignee, when Jira sent their e-mail address (it leaves it out when the person's profile
 * hides it): the console compares it with the sign-in name of whoever reveals a pass. An accountId alone
 * cannot be compared, so it is not recorded.
 */
function assigneeOf(value: unknown): { assignee?: string } {
  const email = isRecord(value) ? own(value, 'emailAddress') : undefined;
  return typeof email === 'string' && EMAIL.test(email.trim()) ? { assignee: email.trim().toLowerCase() } : {};
}

function targetFromField(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined;
  if (isRecord(value)) {
    const option = own(value, 'value');
    if (typeof option === 'string') return option.trim() || undefined;
  }
  return undefined;
}

function requesterOf(value: unknown): Requester | undefined {
  if (!isRecord(value)) return undefined;
  const id = own(value, 'accountId');
  const name = own(value, 'displayName');
  const accountId = typeof id === 'string' && id.trim() !== '' ? clip(id.trim(), 256) : undefined;
  const displayName = typeof name === 'string' && name.trim() !== '' ? clip(name.trim(), 256) : undefined;
  if (!accountId && !displayName) return undefined;
  return { id: accountId, name: displayName ?? accountId! };
}

/** The site's browse link, from the issue's REST `self` URL (https://site.atlassian.net/rest/api/2/issue/10002). */
function browseUrl(self: string | undefined, key: string): string | undefined {
  if (!self) return undefined;
  try {
    const url = new URL(self);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
    return `${url.origin}/browse/${key}`;
  } catch {
    return undefined;
  }
}
