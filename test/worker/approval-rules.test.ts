import { describe, expect, it } from 'vitest';
import { approvalNamesTarget, namedInApproval } from '../../shared/approvals/identity';
import { IntakeRefusal } from '../../shared/http/answer';
import { genericApproval, jiraApproval, serviceNowApproval } from '../../shared/intake/approval-gate';

/**
 * Approval by a second person, from the ticket system's own record: the rules, attacked. Payloads are in
 * the shapes the sources send (Jira Service Management's Approval objects in an issue field; the
 * ServiceNow Business Rule's task record with its sysapproval_approver rows).
 */

const refusal = (fn: () => unknown): IntakeRefusal => {
  try {
    fn();
  } catch (error) {
    if (error instanceof IntakeRefusal) return error;
    throw error;
  }
  throw new Error('expected a refusal');
};

const target = { userPrincipalName: 'alex.wilber@contoso.com' };

// --- Jira -------------------------------------------------------------------------------------------

const reporter = { accountId: 'qm:a9c8e1d2:1234', displayName: 'Alex Wilber', accountType: 'customer' };
const agent = { accountId: '5b10ac8d82e05b22cc7d4ef5', displayName: 'Mia Agent' };
const megan = { accountId: '557058:0f1e2d3c', displayName: 'Megan Bowen', emailAddress: 'megan.bowen@contoso.com' };

const step = (name: string, finalDecision: string, approvers: { approver: Record<string, unknown>; approverDecision: string }[]) => ({
  id: String(name.length),
  name,
  finalDecision,
  canAnswerApproval: false,
  approvers,
  createdDate: { iso8601: '2026-11-20T09:15:00+0100', epochMillis: 1795162500000 },
  ...(finalDecision === 'pending' ? {} : { completedDate: { iso8601: '2026-11-20T09:19:00+0100', epochMillis: 1795162740000 } }),
});

const fields = (approvals: unknown[] | undefined, extra: Record<string, unknown> = {}) => ({
  summary: 'Lost my phone',
  reporter,
  creator: reporter,
  assignee: agent,
  customfield_10050: 'alex.wilber@contoso.com',
  ...(approvals ? { customfield_10027: approvals } : {}),
  ...extra,
});

const jira = (approvals: unknown[] | undefined, options: { required?: boolean; body?: Record<string, unknown>; event?: string; user?: unknown; target?: Record<string, string> } = {}) =>
  jiraApproval(options.body ?? {}, fields(approvals), options.user ?? agent, options.event ?? 'jira:issue_updated', 'ITSM-42', options.target ?? target, options.required ?? true);

describe('Jira Service Management approvals', () => {
  it('counts an approval whose finalDecision is approved, by someone other than reporter and target, and names them with their account id', () => {
    expect(jira([step('Manager approval', 'approved', [{ approver: megan, approverDecision: 'approved' }])])).toBe(
      'Megan Bowen <megan.bowen@contoso.com, jira:557058:0f1e2d3c>',
    );
  });

  it('refuses a declined step, even when an earlier step approved', () => {
    const error = refusal(() =>
      jira([
        step('Manager approval', 'approved', [{ approver: megan, approverDecision: 'approved' }]),
        step('Security approval', 'declined', [{ approver: agent, approverDecision: 'declined' }]),
      ]),
    );
    expect(error.code).toBe('approval_rejected');
    expect(error.message).toMatch(/"Security approval" was declined by Mia Agent/);
  });

  it('refuses a declined approver inside a step Jira still shows as pending, approval required or not', () => {
    const approvals = [step('Any two', 'pending', [{ approver: agent, approverDecision: 'declined' }, { approver: megan, approverDecision: 'approved' }])];
    expect(refusal(() => jira(approvals)).code).toBe('approval_rejected');
    expect(refusal(() => jira(approvals, { required: false })).code).toBe('approval_rejected');
  });

  it('refuses a later step still pending under REQUIRE_APPROVAL, naming it', () => {
    const error = refusal(() => jira([step('Manager approval', 'approved', [{ approver: megan, approverDecision: 'approved' }]), step('CISO', 'pending', [])]));
    expect(error.code).toBe('approval_required');
    expect(error.message).toMatch(/"CISO" is pending/);
  });

  it('refuses a self-approval: the reporter approving their own ticket', () => {
    const error = refusal(() => jira([step('Manager approval', 'approved', [{ approver: reporter, approverDecision: 'approved' }])]));
    expect(error.code).toBe('self_approval');
    expect(error.message).toMatch(/both asked for and approved ITSM-42/);
  });

  it('refuses an approval by the target (known by e-mail)', () => {
    const theTarget = { accountId: '61e0aa', displayName: 'Adele Vance', emailAddress: 'Adele.Vance@contoso.com' };
    const error = refusal(() =>
      jira([step('Manager approval', 'approved', [{ approver: theTarget, approverDecision: 'approved' }])], { target: { userPrincipalName: 'adele.vance@CONTOSO.com' } }),
    );
    expect(error.code).toBe('approval_by_target');
  });

  it('on issue updated the event user is the approver, not the requester; on issue created the event user asked', () => {
    const approvals = [step('Manager approval', 'approved', [{ approver: megan, approverDecision: 'approved' }])];
    expect(jira(approvals, { user: megan, event: 'jira:issue_updated' })).toMatch(/^Megan Bowen/);
    expect(refusal(() => jira(approvals, { user: megan, event: 'jira:issue_created' })).code).toBe('self_approval');
  });

  it('refuses an approver the record carries no account id or e-mail for', () => {
    const error = refusal(() => jira([step('Manager approval', 'approved', [{ approver: { displayName: 'Someone' }, approverDecision: 'approved' }])]));
    expect(error.code).toBe('approver_unidentified');
  });

  it('refuses a forged approvedBy that the approvals field does not show', () => {
    const approvals = [step('Manager approval', 'approved', [{ approver: megan, approverDecision: 'approved' }])];
    const forged = refusal(() => jira(approvals, { body: { approvedBy: 'ciso@contoso.com' } }));
    expect(forged.code).toBe('approval_mismatch');
    expect(forged.message).toMatch(/names ciso@contoso.com.*approved by Megan Bowen/);
    expect(refusal(() => jira(undefined, { body: { approvedBy: 'ciso@contoso.com' }, required: false })).code).toBe('approval_mismatch');
    expect(jira(approvals, { body: { approvedBy: 'megan.bowen@contoso.com' } })).toMatch(/^Megan Bowen/);
  });

  it('no approval record: refused under REQUIRE_APPROVAL saying so, passed without an approver otherwise', () => {
    expect(refusal(() => jira(undefined)).message).toMatch(/ITSM-42 in Jira is not approved: it carries no approval record/);
    expect(jira(undefined, { required: false })).toBeUndefined();
  });
});

// --- ServiceNow -------------------------------------------------------------------------------------

const beth = { value: '46d44a23a9fe19810012d100cca80666', display_value: 'Beth Anglin' };
const grady = { value: '62826bf03710200044e0bfc8bcbe5df1', display_value: 'Grady Archie' };
const record = (extra: Record<string, unknown> = {}) => ({
  sys_id: '9d385017c611228701d22104cc95c371',
  number: 'RITM0010023',
  approval: 'approved',
  opened_by: beth,
  opened_by_email: 'beth.anglin@contoso.com',
  u_target_upn: 'alex.wilber@contoso.com',
  ...extra,
});
const row = (approver: unknown, state: string, email?: string) => ({ sys_id: `row-${state}`, state, approver, ...(email ? { approver_email: email } : {}) });
const sn = (body: Record<string, unknown>, options: { required?: boolean } = {}) =>
  serviceNowApproval(body, body, 'RITM0010023', target, options.required ?? true);

describe('ServiceNow approvals from sysapproval_approver', () => {
  it('counts an approved row by a second person and names them', () => {
    expect(sn(record({ approvals: [row(grady, 'approved', 'grady.archie@contoso.com')] }))).toBe(
      'Grady Archie <grady.archie@contoso.com, sn:62826bf03710200044e0bfc8bcbe5df1>',
    );
  });

  it('refuses approval = approved without the approver rows under REQUIRE_APPROVAL (the field alone is writable by anyone who can edit the task)', () => {
    const error = refusal(() => sn(record()));
    expect(error.code).toBe('approval_required');
    expect(error.message).toMatch(/sent no sysapproval_approver rows/);
  });

  it('refuses any rejected row, approval required or not', () => {
    const body = record({ approvals: [row(grady, 'approved', 'grady.archie@contoso.com'), row(beth, 'rejected')] });
    expect(refusal(() => sn(body)).code).toBe('approval_rejected');
    expect(refusal(() => sn(body, { required: false })).code).toBe('approval_rejected');
    expect(refusal(() => sn(record({ approval: 'rejected' }), { required: false })).code).toBe('approval_rejected');
  });

  it('refuses the requester approving their own request (same sys_id)', () => {
    expect(refusal(() => sn(record({ approvals: [row(beth, 'approved')] }))).code).toBe('self_approval');
  });

  it('refuses the target approving their own reset (e-mail equals the UPN, any case)', () => {
    const alex = { value: 'aaaa4a23a9fe19810012d100cca80666', display_value: 'Alex Wilber' };
    expect(refusal(() => sn(record({ approvals: [row(alex, 'approved', 'Alex.Wilber@contoso.com')] }))).code).toBe('approval_by_target');
  });

  it('refuses a forged approved_by the approver rows disagree with, and a claim with no approved row', () => {
    const forged = refusal(() => sn(record({ approved_by: 'ciso@contoso.com', approvals: [row(grady, 'approved', 'grady.archie@contoso.com')] })));
    expect(forged.code).toBe('approval_mismatch');
    expect(forged.message).toMatch(/approved by Grady Archie/);
    const pending = refusal(() => sn(record({ approval: 'requested', approvedBy: 'grady.archie@contoso.com', approvals: [row(grady, 'requested')] }), { required: false }));
    expect(pending.code).toBe('approval_mismatch');
    expect(sn(record({ approved_by: grady, approvals: [row(grady, 'approved', 'grady.archie@contoso.com')] }))).toMatch(/^Grady Archie/);
  });

  it('an approval still requested is not an approval', () => {
    expect(refusal(() => sn(record({ approval: 'requested', approvals: [row(grady, 'requested')] }))).message).toMatch(/approval = requested/);
  });
});

// --- generic ----------------------------------------------------------------------------------------

describe('generic callers: the signed approvedBy, with the same rules', () => {
  it('accepts a second person', () => {
    expect(genericApproval('lead@contoso.com', { name: 'agent@contoso.com' }, 'INC-1', target, true)).toBe('lead@contoso.com <lead@contoso.com>');
  });
  it('refuses approver = requester, case-insensitively, by name or id', () => {
    expect(refusal(() => genericApproval('Agent@Contoso.com', { name: 'agent@contoso.com' }, 'INC-1', target, true)).code).toBe('self_approval');
    expect(refusal(() => genericApproval('agent@contoso.com', { id: 'AGENT@contoso.com', name: 'Agent' }, 'INC-1', target, true)).code).toBe('self_approval');
  });
  it('refuses approver = target', () => {
    expect(refusal(() => genericApproval('ALEX.WILBER@contoso.com', { name: 'agent@contoso.com' }, 'INC-1', target, true)).code).toBe('approval_by_target');
  });
  it('refuses a missing approver under REQUIRE_APPROVAL, naming what is missing', () => {
    const error = refusal(() => genericApproval(undefined, { name: 'agent@contoso.com' }, 'INC-1', target, true));
    expect(error.code).toBe('approval_required');
    expect(error.message).toMatch(/INC-1 is not approved: it carries no approval record/);
  });
});

describe('the worker reads the approver back and compares with the resolved target', () => {
  it('finds identifiers and names in the rendered text', () => {
    expect(namedInApproval('Megan Bowen <megan@contoso.com, jira:1>, Grady <sn:2>')).toEqual({ ids: ['megan@contoso.com', 'jira:1', 'sn:2'], names: ['megan bowen', 'grady'] });
    expect(namedInApproval('lead@contoso.com')).toEqual({ ids: ['lead@contoso.com'], names: [] });
  });
  it('matches the target by UPN, object id, mail or display name', () => {
    const resolved = { userPrincipalName: 'alex.wilber@contoso.com', objectId: '0b1d2c3e-0000-4000-8000-000000000001', displayName: 'Alex Wilber' };
    expect(approvalNamesTarget('Alex Wilber <jira:1>', resolved)).toBe(true);
    expect(approvalNamesTarget('X <ALEX.WILBER@contoso.com>', resolved)).toBe(true);
    expect(approvalNamesTarget('Megan Bowen <jira:2>', resolved)).toBe(false);
  });
});
