import { decideApproval, type ApprovalRecord } from '../approvals/decision';
import { person, type Person } from '../approvals/identity';
import { jiraApprovalRecord, jiraRequesters } from '../approvals/jira-approvals';
import { serviceNowApprovalRecord, serviceNowClaimedApprover, serviceNowRequesters } from '../approvals/servicenow-approvals';
import type { Requester } from '../requests/canonical-request';
import { refused } from '../http/answer';

/**
 * What the adapters call to fill in `approvedBy`: the approval decision (shared/approvals) for their
 * source, with a refusal a person can act on (422, naming what is missing or wrong) when it fails.
 * Adapters stay thin; the rules live in one place.
 */

type Bag = Record<string, unknown>;
type Target = { userPrincipalName?: string; objectId?: string };

function gate(input: Parameters<typeof decideApproval>[0]): string | undefined {
  const decision = decideApproval(input);
  if (!decision.ok) throw refused(decision.code, decision.message, { target: input.target.userPrincipalName ?? input.target.objectId });
  return decision.approvedBy;
}

export function serviceNowApproval(body: Bag, record: Bag, ticket: string, target: Target, required: boolean): string | undefined {
  return gate({
    ticket: `${ticket} in ServiceNow`,
    record: serviceNowApprovalRecord(body, record),
    claimedApprover: serviceNowClaimedApprover(body, record),
    requesters: serviceNowRequesters(body, record),
    target,
    required,
  });
}

export function jiraApproval(
  body: Bag,
  fields: Bag,
  eventUser: unknown,
  webhookEvent: string | undefined,
  ticket: string,
  target: Target,
  required: boolean,
): string | undefined {
  const claimed = body.approvedBy;
  return gate({
    ticket: `${ticket} in Jira`,
    record: jiraApprovalRecord(fields),
    claimedApprover: typeof claimed === 'string' && claimed.trim() !== '' ? claimed.trim() : undefined,
    requesters: jiraRequesters(fields, eventUser, webhookEvent),
    target,
    required,
  });
}

/**
 * A generic caller has no ticket record the service can read: its signed `approvedBy` is the record,
 * and the same second-person rules apply to it (compared on the UPN or e-mail it names).
 */
export function genericApproval(approvedBy: string | undefined, requestedBy: Requester, ticket: string, target: Target, required: boolean): string | undefined {
  const record: ApprovalRecord =
    approvedBy === undefined ? { state: 'none' } : { state: 'approved', approvers: [person({ name: approvedBy, emails: [approvedBy] })], detail: 'approvedBy' };
  return gate({ ticket, record, requesters: [requesterPerson(requestedBy)], target, required });
}

/**
 * Bulk jobs and schedules have many targets: the worker compares the approver with each one as the
 * directory names them; here the same rules as a single request, approver ≠ requester (case-blind, by
 * every name and id the requester is given under).
 */
export function bulkApproval(approvedBy: string | undefined, requestedBy: Requester | string, job: string, required: boolean): string | undefined {
  const requester = typeof requestedBy === 'string' ? { name: requestedBy } : requestedBy;
  return genericApproval(approvedBy, requester, job, {}, required);
}

function requesterPerson(requester: Requester): Person {
  return person({ name: requester.name, emails: [requester.name, requester.id] });
}
