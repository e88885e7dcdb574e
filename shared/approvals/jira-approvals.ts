import { person, type Person } from './identity';
import type { ApprovalRecord } from './decision';

/**
 * Jira Service Management's approvals, as its approval field appears in issue payloads (the Service
 * Desk REST API's Approval object; the field is a custom field, so any field holding such a list is
 * read):
 *
 *   [{ "id": "1", "name": "Manager approval", "finalDecision": "approved" | "declined" | "pending",
 *      "approvers": [{ "approver": { "accountId": "…", "emailAddress": "…", "displayName": "…" },
 *                      "approverDecision": "approved" | "declined" | "pending" }],
 *      "createdDate": { "iso8601": "…" }, "completedDate": { "iso8601": "…" } }]
 *
 * Approved only when every step's finalDecision is approved; any declined step or declined approver
 * declines the whole request, whatever an earlier step said. Approvers are those whose own decision
 * is approved. Jira Cloud often hides e-mail addresses, so a person is known by accountId.
 */

type Bag = Record<string, unknown>;

const isBag = (value: unknown): value is Bag => typeof value === 'object' && value !== null && !Array.isArray(value);
const own = (bag: Bag, key: string): unknown => (Object.prototype.hasOwnProperty.call(bag, key) ? bag[key] : undefined);
const str = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);

export function jiraPerson(user: unknown): Person | undefined {
  if (!isBag(user)) return undefined;
  const accountId = str(own(user, 'accountId'));
  const p = person({
    name: str(own(user, 'displayName')),
    emails: [str(own(user, 'emailAddress'))],
    ids: [accountId ? `jira:${accountId}` : undefined],
  });
  return p.ids.length > 0 || p.name ? p : undefined;
}

function isApprovalStep(value: unknown): value is Bag {
  return isBag(value) && (own(value, 'finalDecision') !== undefined || Array.isArray(own(value, 'approvers')));
}

export function jiraApprovalRecord(fields: Bag): ApprovalRecord {
  const steps: Bag[] = [];
  for (const value of Object.values(fields)) {
    if (Array.isArray(value) && value.length > 0 && value.every(isApprovalStep)) steps.push(...value);
  }
  if (steps.length === 0) return { state: 'none' };

  const label = (step: Bag, index: number) => str(own(step, 'name')) ?? `approval ${index + 1}`;
  const approvers: Person[] = [];
  const pending: string[] = [];
  for (const [index, step] of steps.entries()) {
    const decision = str(own(step, 'finalDecision'))?.toLowerCase();
    const entries = (Array.isArray(own(step, 'approvers')) ? (own(step, 'approvers') as unknown[]) : []).filter(isBag);
    const decliner = entries.find((entry) => str(own(entry, 'approverDecision'))?.toLowerCase() === 'declined');
    if (decision === 'declined' || decliner) {
      const who = decliner ? jiraPerson(own(decliner, 'approver'))?.name : undefined;
      return { state: 'declined', detail: `Jira approval "${label(step, index)}" was declined${who ? ` by ${who}` : ''}` };
    }
    if (decision !== 'approved') {
      pending.push(`"${label(step, index)}" is ${decision ?? 'undecided'}`);
      continue;
    }
    for (const entry of entries) {
      if (str(own(entry, 'approverDecision'))?.toLowerCase() !== 'approved') continue;
      const approver = jiraPerson(own(entry, 'approver'));
      if (approver) approvers.push(approver);
    }
  }
  if (pending.length > 0) return { state: 'pending', detail: `Jira approval ${pending.join(', ')}` };
  return { state: 'approved', approvers, detail: 'approved in Jira Service Management' };
}

/**
 * Who asked: the reporter and the creator. The webhook's `user` is who caused the event: on issue
 * created that is the creator too, but on issue updated it is whoever changed the issue, typically the
 * approver, so it is not a requester then.
 */
export function jiraRequesters(fields: Bag, eventUser: unknown, webhookEvent: string | undefined): Person[] {
  const candidates = [own(fields, 'reporter'), own(fields, 'creator')];
  if (webhookEvent !== 'jira:issue_updated') candidates.push(eventUser);
  return candidates.map(jiraPerson).filter((p): p is Person => p !== undefined && p.ids.length > 0);
}
