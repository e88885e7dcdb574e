import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TenantFile } from '../../dev/graph-sim';
import { JIRA_APPROVALS_FIELD, jiraWebhook, jsmApproved, serviceNowRecord } from '../intake/fixtures';
import { startSystem, type RunningSystem } from '../support/system';

/**
 * REQUIRE_APPROVAL on, as in Azure: webhook → intake → queue → worker → Graph simulator. A real
 * second-person approval from ServiceNow's and Jira's own records completes; self-approval, approval by
 * the target, a declined step, a forged approvedBy and a missing approver are refused, naming why,
 * with nothing stored and no Graph write. The Jira flow that works with approval on: the issue-updated
 * event after approval resets once, and later edits of the issue do not reset again.
 */

const user = (upn: string, n: number) => ({
  userPrincipalName: upn,
  displayName: upn.split('@')[0]!.split('.').map((part) => part[0]!.toUpperCase() + part.slice(1)).join(' '),
  methods: [
    { type: 'phone' as const, phoneType: 'mobile' as const, phoneNumber: `+1 42555509${String(n).padStart(2, '0')}` },
    { type: 'microsoftAuthenticator' as const, displayName: `Phone ${n}` },
  ],
});

const tenant: TenantFile = {
  domains: ['contoso.com'],
  users: [
    user('adele.vance@contoso.com', 1),
    user('megan.bowen@contoso.com', 2),
    user('lee.gu@contoso.com', 3),
    user('nestor.wilke@contoso.com', 4),
    user('diego.siciliani@contoso.com', 5),
    { ...user('eligible.ga@contoso.com', 6), eligibleRoles: ['Global Administrator'] },
  ],
};

let system: RunningSystem;
beforeAll(async () => {
  system = await startSystem({ graph: { tenant }, settings: { REQUIRE_APPROVAL: 'true' } });
});
afterAll(async () => {
  await system?.stop();
});

const writes = () => system.graph.requestLog.filter((entry) => entry.write).length;
const final = ['completed', 'partial', 'failed', 'rejected'];
const approver = { sys_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90', state: 'approved', approver: { value: '5137153cc611227c000bbd1bd8cd2005', display_value: 'Fred Luddy' }, approver_email: 'fred.luddy@contoso.com' };

async function refusedWith(source: 'jira' | 'servicenow' | 'generic', body: unknown, code: RegExp | string, message: RegExp) {
  const before = writes();
  const answer = await system.post(source, body);
  expect(answer.status).toBe(422);
  const error = (answer.body as unknown as { error: { code: string; message: string } }).error;
  expect(error.code).toMatch(code);
  expect(error.message).toMatch(message);
  expect(writes()).toBe(before);
}

describe('with REQUIRE_APPROVAL on', () => {
  it('ServiceNow: an approval by a second person from sysapproval_approver completes, naming the approver in the audit', async () => {
    const answer = await system.post('servicenow', { ...serviceNowRecord({ number: 'RITM0030001', u_target_upn: 'megan.bowen@contoso.com' }), timestamp: Date.now() });
    expect(answer.status).toBe(202);
    const done = await system.waitFor(answer.body.id, final);
    expect(done.status).toBe('completed');
    const view = (await (await fetch(answer.body.statusUrl)).json()) as { approvedBy?: string };
    expect(view.approvedBy).toMatch(/^Fred Luddy <fred\.luddy@contoso\.com/);
  });

  it('Jira: the issue-updated event after a JSM approval resets once; later edits of the issue do not reset again', async () => {
    const approved = (updated: string) =>
      jiraWebhook({ key: 'ITSM-301', event: 'jira:issue_updated', target: 'adele.vance@contoso.com', fields: { [JIRA_APPROVALS_FIELD]: jsmApproved, updated } });
    const first = await system.post('jira', approved('2026-11-20T09:20:11.334+0100'));
    expect(first.status).toBe(202);
    expect((await system.waitFor(first.body.id, final)).status).toBe('completed');
    const after = writes();

    // A comment or field change later sends the issue again, approvals unchanged.
    const later = await system.post('jira', approved('2026-11-20T10:02:40.100+0100'));
    expect(later.status).toBe(200);
    expect(later.body.id).toBe(first.body.id);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(writes()).toBe(after);
  });

  it('Jira: issue created before anyone approved is refused, saying it is not approved', async () => {
    await refusedWith('jira', jiraWebhook({ key: 'ITSM-302', target: 'lee.gu@contoso.com' }), 'approval_required', /ITSM-302 in Jira is not approved/);
  });

  it('Jira: a declined step refuses even though an earlier step approved', async () => {
    const declined = [
      ...jsmApproved,
      { id: '13', name: 'Security approval', finalDecision: 'declined', approvers: [{ approver: { accountId: '5b10ac8d82e05b22cc7d4ef5', displayName: 'Mia Agent' }, approverDecision: 'declined' }] },
    ];
    const body = jiraWebhook({ key: 'ITSM-303', event: 'jira:issue_updated', target: 'lee.gu@contoso.com', fields: { [JIRA_APPROVALS_FIELD]: declined } });
    await refusedWith('jira', body, 'approval_rejected', /"Security approval" was declined/);
  });

  it('Jira: the reporter approving their own ticket is refused', async () => {
    const self = [{ ...jsmApproved[0]!, approvers: [{ approver: { accountId: 'qm:a9c8e1d2-6f5e-4c1b-9a2d-3f4e5d6c7b8a:1234', displayName: 'Alex Wilber' }, approverDecision: 'approved' }] }];
    const body = jiraWebhook({ key: 'ITSM-304', event: 'jira:issue_updated', target: 'lee.gu@contoso.com', fields: { [JIRA_APPROVALS_FIELD]: self } });
    await refusedWith('jira', body, 'self_approval', /both asked for and approved ITSM-304/);
  });

  it('ServiceNow: a forged approved_by that the approver rows disagree with is refused', async () => {
    const body = { ...serviceNowRecord({ number: 'RITM0030002', u_target_upn: 'lee.gu@contoso.com', approved_by: 'ciso@contoso.com' }), timestamp: Date.now() };
    await refusedWith('servicenow', body, 'approval_mismatch', /names ciso@contoso\.com.*approved by Fred Luddy/);
  });

  it('ServiceNow: approval = approved without approver rows is not an approval', async () => {
    const { approvals: _rows, ...withoutRows } = serviceNowRecord({ number: 'RITM0030003', u_target_upn: 'lee.gu@contoso.com' }) as Record<string, unknown>;
    await refusedWith('servicenow', { ...withoutRows, timestamp: Date.now() }, 'approval_required', /sent no sysapproval_approver rows/);
  });

  it('ServiceNow: the target approving their own reset is refused', async () => {
    const target = { ...approver, approver: { value: '0a0b0c0d0e0f00112233445566778899', display_value: 'Lee Gu' }, approver_email: 'Lee.Gu@contoso.com' };
    const body = { ...serviceNowRecord({ number: 'RITM0030004', u_target_upn: 'lee.gu@contoso.com', approvals: [target] }), timestamp: Date.now() };
    await refusedWith('servicenow', body, 'approval_by_target', /approved the reset of their own MFA/);
  });

  it('generic: requester = approver, approver = target and a missing approver are refused, each saying why', async () => {
    const base = { ticket: { system: 'freshservice', id: 'SR-77' }, target: { userPrincipalName: 'nestor.wilke@contoso.com' }, requestedBy: 'agent@contoso.com' };
    await refusedWith('generic', { ...base, approvedBy: 'AGENT@contoso.com' }, 'self_approval', /both asked for and approved/);
    await refusedWith('generic', { ...base, approvedBy: 'Nestor.Wilke@contoso.com' }, 'approval_by_target', /approved the reset of their own MFA/);
    await refusedWith('generic', base, 'approval_required', /not approved: it carries no approval record/);
  });

  it('generic: an approver who turns out to be the target named by object id is refused by the worker, with zero writes', async () => {
    const diego = system.graph.tenant.findUser('diego.siciliani@contoso.com')!;
    const before = writes();
    const answer = await system.post('generic', {
      ticket: { system: 'freshservice', id: 'SR-78' },
      target: { objectId: diego.id },
      requestedBy: 'agent@contoso.com',
      approvedBy: 'diego.siciliani@contoso.com',
    });
    expect(answer.status).toBe(202);
    const done = await system.waitFor(answer.body.id, final);
    expect(done.status).toBe('rejected');
    expect(done.result?.code).toBe('approval-by-target');
    expect(writes()).toBe(before);
  });

  it('an approved request for a PIM-eligible Global Administrator still ends rejected with zero writes', async () => {
    const before = writes();
    const answer = await system.post('generic', {
      ticket: { system: 'freshservice', id: 'SR-79' },
      target: { userPrincipalName: 'eligible.ga@contoso.com' },
      requestedBy: 'agent@contoso.com',
      approvedBy: 'lead@contoso.com',
    });
    expect(answer.status).toBe(202);
    const done = await system.waitFor(answer.body.id, final);
    expect(done.status).toBe('rejected');
    expect(done.result?.code).toBe('privileged-target');
    expect(done.statusReason).toMatch(/Global Administrator \(PIM-eligible, tenant-wide\)/);
    expect(writes()).toBe(before);
  });
});
