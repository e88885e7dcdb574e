import { identifiable, person, renderPerson, samePerson, type Person } from './identity';

/**
 * Whether a request is approved, decided from the ticket system's own approval record (ServiceNow's
 * sysapproval_approver rows, Jira Service Management's approvals field) or, for a generic caller,
 * from its signed `approvedBy`. An approval counts only from a second person: an approver who is
 * neither the requester nor the user being reset. A body that names an approver the record does not
 * show is a forgery and is refused, approval required or not; so are a declined record, a
 * self-approval and an approval by the target.
 */

export type ApprovalRecord =
  /** The source sent no approval record at all. */
  | { state: 'none' }
  /** An approval was asked for and is not complete (or the record is incomplete). */
  | { state: 'pending'; detail: string }
  | { state: 'declined'; detail: string }
  | { state: 'approved'; approvers: Person[]; detail: string };

export interface ApprovalInput {
  /** What the source calls it, for messages: "RITM0010001 in ServiceNow". */
  ticket: string;
  record: ApprovalRecord;
  /** An approver the body names outside the record (approvedBy, approved_by); must agree with the record. */
  claimedApprover?: string;
  /** Whoever asked: the reporter, the caller, the record's opened_by. */
  requesters: Person[];
  /** The user to reset, as the ticket names them. */
  target: { userPrincipalName?: string; objectId?: string };
  required: boolean;
}

export type ApprovalDecision = { ok: true; approvedBy?: string } | { ok: false; code: string; message: string };

const MAX_APPROVED_BY = 256;

export function decideApproval(input: ApprovalInput): ApprovalDecision {
  const { record, ticket } = input;
  if (record.state === 'declined') {
    return { ok: false, code: 'approval_rejected', message: `${ticket} was declined (${record.detail}); nothing will be reset` };
  }

  if (input.claimedApprover !== undefined) {
    const claimed = person({ name: input.claimedApprover, emails: [input.claimedApprover] });
    if (record.state !== 'approved') {
      return {
        ok: false,
        code: 'approval_mismatch',
        message: `the request names ${input.claimedApprover} as approver, but ${ticket}'s own approval record shows no approval (${record.state === 'none' ? 'none sent' : record.detail}); only the ticket system's record counts`,
      };
    }
    const matches = record.approvers.some((approver) => samePerson(approver, claimed) || sameName(approver, input.claimedApprover));
    if (!matches) {
      return {
        ok: false,
        code: 'approval_mismatch',
        message: `the request names ${input.claimedApprover} as approver, but ${ticket}'s approval record was approved by ${record.approvers.map(renderPerson).join(', ') || 'nobody identifiable'}; only the ticket system's record counts`,
      };
    }
  }

  if (record.state !== 'approved') {
    if (!input.required) return { ok: true };
    const why = record.state === 'none' ? 'it carries no approval record' : `its approval is not complete (${record.detail})`;
    return { ok: false, code: 'approval_required', message: `approval is required for resets (REQUIRE_APPROVAL) and ${ticket} is not approved: ${why}; send it again once a second person has approved it` };
  }

  const targetIds = [input.target.userPrincipalName, input.target.objectId].filter((v): v is string => !!v).map((v) => v.toLowerCase());
  const problems: { code: string; message: string }[] = [];
  const counted: Person[] = [];
  for (const approver of record.approvers) {
    if (!identifiable(approver)) {
      problems.push({ code: 'approver_unidentified', message: `${approver.name ?? 'an approver'} approved ${ticket}, but the record carries no account id or e-mail for them, so it cannot be told apart from the requester or the target` });
    } else if (input.requesters.some((requester) => samePerson(requester, approver))) {
      problems.push({ code: 'self_approval', message: `${renderPerson(approver)} both asked for and approved ${ticket}; an approval must come from a second person` });
    } else if (approver.ids.some((id) => targetIds.includes(id))) {
      problems.push({ code: 'approval_by_target', message: `${renderPerson(approver)} approved the reset of their own MFA in ${ticket}; an approval must come from someone other than the user being reset` });
    } else {
      counted.push(approver);
    }
  }
  if (counted.length === 0) {
    if (problems.length > 0) return { ok: false, ...problems[0]! };
    return { ok: false, code: 'approval_required', message: `${ticket} is marked approved but its approval record names no approver` };
  }
  // A self-approval next to a valid one is still an attempt worth refusing: the record is not clean.
  const selfOrTarget = problems.find((p) => p.code === 'self_approval' || p.code === 'approval_by_target');
  if (selfOrTarget) return { ok: false, ...selfOrTarget };

  const text = counted.map(renderPerson).join(', ');
  return { ok: true, approvedBy: text.length > MAX_APPROVED_BY ? `${text.slice(0, MAX_APPROVED_BY - 1)}…` : text };
}

/** The claim names the approver by display name, or by an identifier without its `sn:`/`jira:` prefix. */
function sameName(approver: Person, claimed: string | undefined): boolean {
  if (claimed === undefined) return false;
  const lower = claimed.trim().toLowerCase();
  if (approver.name !== undefined && approver.name.toLowerCase() === lower) return true;
  return approver.ids.some((id) => id === lower || id.endsWith(`:${lower}`));
}
