import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CONSOLE_APPROVER_GROUP_ID, DEMO_CONSOLE_OPERATOR_GROUP_ID, DEMO_CONSOLE_READER_GROUP_ID } from '../../dev/graph-sim';
import { functionDefinitions } from '../../functions/all';
import { TABLES } from '../../shared/storage/names';
import { startJiraSim, type RunningJiraSim } from '../../dev/ticket-sims';
import { eventually } from '../support/eventually';
import { jiraWebhook } from '../intake/fixtures';
import { AGENT, APPROVER, OUTSIDER, READER, startConsoleSystem, type ConsoleSystem } from './support';

/**
 * Finishing a partial reset from the console, against Azurite, the Graph simulator and the local
 * identity provider: an operator asks (nothing is written to Graph), a second person approves, and only
 * then a linked request runs on the same ticket with the wider method list, through the same worker.
 * Everyone else is refused: readers, outsiders, the operator approving their own ask, the user, the
 * original requester, a forged finish in storage, and requests a wider list would not finish.
 */

let c: ConsoleSystem;
let jira: RunningJiraSim;
let partialId: string;
const TICKET = 'SR-FINISH-31';
const ADELE = 'adele.vance@contoso.com';
/** The original request's requester: a tenant user, so that a token can be issued for them. */
const REQUESTER = 'johanna.lorenz@contoso.com';

const writesSince = (seq: number, userId: string) => c.system.graph.requestLog.filter((entry) => entry.seq > seq && entry.write && entry.url.includes(userId));
const lastSeq = () => c.system.graph.requestLog.at(-1)?.seq ?? 0;
const idOf = (upn: string) => c.system.graph.tenant.findUser(upn)!.id;

interface FinishAnswer {
  finish?: { requestId?: string; methods: string[]; askedBy: { userPrincipalName: string }; approvedBy?: { userPrincipalName: string } };
  requestId?: string;
  error?: { code: string; message: string };
}

const JIRA_ACCOUNT = { email: 'mfa-reset-bot@contoso.com', apiToken: 'jira-api-token-7c1e4a9d2f6b3e8a5d0c7f1b' };

beforeAll(async () => {
  jira = await startJiraSim({ account: JIRA_ACCOUNT });
  c = await startConsoleSystem({ definitions: functionDefinitions, settings: { JIRA_SITE_URL: jira.url, JIRA_USER_EMAIL: JIRA_ACCOUNT.email, JIRA_API_TOKEN: JIRA_ACCOUNT.apiToken } });
  const answer = await c.system.post('generic', {
    ticket: { system: 'servicedesk', id: TICKET },
    target: { userPrincipalName: ADELE },
    requestedBy: REQUESTER,
    reason: 'lost her phone',
  });
  expect(answer.status).toBe(202);
  partialId = answer.body.id;
  const done = await c.system.waitFor(partialId, ['completed', 'partial', 'failed', 'rejected']);
  expect(done.status).toBe('partial');
}, 120_000);

afterAll(async () => {
  await c?.stop();
  await jira?.stop();
});

describe('finishing a partial reset from the console', () => {
  it('the partial request names the blockers and points at the finish action, not at sending it again', async () => {
    const status = await c.system.status(partialId);
    expect(status.statusReason).toMatch(/To finish: use "Finish: also remove FIDO2 security key \/ passkey, email \(self-service password reset\)" on this request's page in the operator console/);
    expect(status.statusReason).not.toMatch(/send the request again/);
    const detail = await c.call(`/requests/${partialId}`, await c.idp.issueToken(AGENT));
    const finish = (detail.body as { finish: { offer: { offered: boolean; methods: string[] }; canAsk: boolean; canApprove: boolean } }).finish;
    expect(finish.offer.offered).toBe(true);
    expect(finish.offer.methods).toEqual(['phone', 'microsoftAuthenticator', 'softwareOath', 'hardwareOath', 'fido2', 'email']);
    expect(finish.canAsk).toBe(true);
    expect(finish.canApprove).toBe(false);
    const asReader = (await c.call(`/requests/${partialId}`, await c.idp.issueToken(READER))).body as { finish: { canAsk: boolean; offer: { offered: boolean } } };
    expect(asReader.finish.offer.offered).toBe(true);
    expect(asReader.finish.canAsk).toBe(false);
  });

  it('only operators may ask: a reader, an approver and an outsider get 403 and nothing is stored', async () => {
    for (const who of [READER, APPROVER, OUTSIDER]) {
      const answer = await c.call(`/requests/${partialId}/finish`, await c.idp.issueToken(who), { method: 'POST' });
      expect(answer.status, who).toBe(403);
      expect((answer.body as FinishAnswer).error?.code).toBe('not_in_group');
    }
    const refused = await c.call(`/requests/${partialId}/finish`, await c.idp.issueToken(OUTSIDER), { method: 'POST' });
    // The refusal names the group to ask for by its name in the directory, not a setting or a GUID.
    expect((refused.body as FinishAnswer).error?.message).toMatch(/"MFA reset console operators"/);
    expect(refused.text).not.toContain(DEMO_CONSOLE_OPERATOR_GROUP_ID);
    const detail = (await c.call(`/requests/${partialId}`, await c.idp.issueToken(AGENT))).body as { finish: { asked?: unknown } };
    expect(detail.finish.asked).toBeUndefined();
  });

  it('a machine credential beside an operator token is refused', async () => {
    const answer = await c.call(`/requests/${partialId}/finish`, await c.idp.issueToken(AGENT), { method: 'POST', headers: { 'x-functions-key': 'k' } });
    expect(answer.status).toBe(401);
  });

  it('the user being reset may not ask, even in the operator group', async () => {
    const token = await c.idp.issueToken(ADELE, { groups: [DEMO_CONSOLE_OPERATOR_GROUP_ID] });
    const answer = await c.call(`/requests/${partialId}/finish`, token, { method: 'POST' });
    expect(answer.status).toBe(403);
    expect((answer.body as FinishAnswer).error?.code).toBe('finish_by_target');
  });

  it('an operator asks: recorded and audited, nothing written to Graph, and a repeat is the same ask', async () => {
    const before = lastSeq();
    const token = await c.idp.issueToken(AGENT);
    const answer = await c.call(`/requests/${partialId}/finish`, token, { method: 'POST' });
    expect(answer.status).toBe(202);
    const body = answer.body as FinishAnswer;
    expect(body.finish?.askedBy.userPrincipalName).toBe(AGENT);
    expect(body.finish?.requestId).toBeUndefined();
    const again = await c.call(`/requests/${partialId}/finish`, token, { method: 'POST' });
    expect(again.status).toBe(200);
    // Nothing runs on an ask alone.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(writesSince(before, idOf(ADELE))).toEqual([]);
    const status = await c.system.status(partialId);
    expect(status.status).toBe('partial');
    expect(status.audit?.verified).toBe(true);
    expect(status.audit?.entries.map((e) => e.action)).toContain('finish asked');
  });

  it('refuses an approval by the operator who asked, by the user, by the original requester, and by a non-approver', async () => {
    const before = lastSeq();
    const cases: [string, Parameters<ConsoleSystem['idp']['issueToken']>[1], number, string][] = [
      [AGENT, { groups: [DEMO_CONSOLE_OPERATOR_GROUP_ID, DEMO_CONSOLE_APPROVER_GROUP_ID] }, 403, 'self_approval'],
      [ADELE, { groups: [DEMO_CONSOLE_APPROVER_GROUP_ID] }, 403, 'approval_by_target'],
      [REQUESTER, { groups: [DEMO_CONSOLE_READER_GROUP_ID, DEMO_CONSOLE_APPROVER_GROUP_ID] }, 403, 'approval_by_requester'],
      [READER, undefined, 403, 'not_in_group'],
      [AGENT, undefined, 403, 'not_in_group'],
    ];
    for (const [who, overrides, status, code] of cases) {
      const answer = await c.call(`/requests/${partialId}/finish/approve`, await c.idp.issueToken(who, overrides), { method: 'POST' });
      expect(answer.status, `${who} ${code}`).toBe(status);
      expect((answer.body as FinishAnswer).error?.code, who).toBe(code);
    }
    expect(writesSince(before, idOf(ADELE))).toEqual([]);
    expect((await c.system.status(partialId)).status).toBe('partial');
    // The page tells an approver who may not approve why, before they click.
    const asRequester = (await c.call(`/requests/${partialId}`, await c.idp.issueToken(REQUESTER, { groups: [DEMO_CONSOLE_APPROVER_GROUP_ID] }))).body as { finish: { canApprove: boolean; approveRefusal?: string } };
    expect(asRequester.finish.canApprove).toBe(false);
    expect(asRequester.finish.approveRefusal).toMatch(/you asked for the original reset/);
  });

  it('a second person approves: a linked request on the same ticket removes the blockers and ends completed', async () => {
    const before = lastSeq();
    const answer = await c.call(`/requests/${partialId}/finish/approve`, await c.idp.issueToken(APPROVER), { method: 'POST' });
    expect(answer.status).toBe(202);
    const linkedId = (answer.body as FinishAnswer).requestId!;
    expect(linkedId).toMatch(/^[0-9a-f-]{36}$/);
    const done = await c.system.waitFor(linkedId, ['completed', 'partial', 'failed', 'rejected'], 30_000);
    expect(done.status, done.statusReason).toBe('completed');
    const linked = (await c.system.status(linkedId)) as unknown as Record<string, unknown> & { ticket: { id: string }; target: { userPrincipalName: string }; requestedBy: { name: string }; approvedBy: string; previousRequestId: string; options: { methods: string[] }; audit: { verified: boolean; entries: { action: string; detail?: string }[] } };
    expect(linked.ticket.id).toBe(TICKET);
    expect(linked.target.userPrincipalName).toBe(ADELE);
    expect(linked.requestedBy.name).toBe(AGENT);
    expect(linked.approvedBy).toBe(APPROVER);
    expect(linked.previousRequestId).toBe(partialId);
    expect(linked.options.methods).toEqual(expect.arrayContaining(['fido2', 'email']));
    expect(linked.audit.verified).toBe(true);
    expect(linked.audit.entries[0]?.action).toBe('created');
    // Graph: the FIDO2 key, the email method and then the default Authenticator went; nothing else was asked before approval.
    const deletes = writesSince(before, idOf(ADELE)).filter((entry) => entry.method === 'DELETE').map((entry) => entry.url);
    expect(deletes.some((url) => url.includes('/fido2Methods/'))).toBe(true);
    expect(deletes.some((url) => url.includes('/emailMethods/'))).toBe(true);
    expect(deletes.at(-1)).toMatch(/microsoftAuthenticatorMethods/);
    expect(c.system.graph.tenant.findUser(ADELE)!.methods.filter((m) => m.kind !== 'password')).toEqual([]);

    // The partial request stays partial (it did end so), and names its successor.
    const original = (await c.system.status(partialId)) as unknown as { status: string; nextRequestId: string; audit: { verified: boolean; entries: { action: string }[] } };
    expect(original.status).toBe('partial');
    expect(original.nextRequestId).toBe(linkedId);
    expect(original.audit.verified).toBe(true);
    expect(original.audit.entries.map((e) => e.action)).toEqual(expect.arrayContaining(['finish asked', 'finish approved']));

    // A second approval is the same approval: no second request, no more writes.
    const seq = lastSeq();
    const again = await c.call(`/requests/${partialId}/finish/approve`, await c.idp.issueToken(APPROVER), { method: 'POST' });
    expect(again.status).toBe(200);
    expect((again.body as FinishAnswer).requestId).toBe(linkedId);
    const list = (await c.call(`/requests?ticket=${TICKET}`, await c.idp.issueToken(READER))).body as { items: { id: string }[] };
    expect(list.items.map((item) => item.id).sort()).toEqual([partialId, linkedId].sort());
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(writesSince(seq, idOf(ADELE))).toEqual([]);
  }, 60_000);

  it('a new delivery for the ticket now answers with the linked request', async () => {
    const answer = await c.system.post('generic', { ticket: { system: 'servicedesk', id: TICKET }, target: { userPrincipalName: ADELE }, requestedBy: REQUESTER });
    const original = (await c.system.status(partialId)) as unknown as { nextRequestId: string };
    expect(answer.status).toBe(200);
    expect(answer.body.id).toBe(original.nextRequestId);
  });
});

describe('what cannot be finished', () => {
  it('a completed request, and a partial one a wider list would not finish (an office phone Graph refuses to delete)', async () => {
    const token = await c.idp.issueToken(AGENT);
    const completed = await c.system.post('generic', { ticket: { system: 'servicedesk', id: 'SR-FINISH-DONE' }, target: { userPrincipalName: 'lidia.holloway@contoso.com' }, requestedBy: REQUESTER });
    expect((await c.system.waitFor(completed.body.id, ['completed', 'partial', 'failed', 'rejected'])).status).toBe('completed');
    const refusedDone = await c.call(`/requests/${completed.body.id}/finish`, token, { method: 'POST' });
    expect(refusedDone.status).toBe(409);
    expect((refusedDone.body as FinishAnswer).error?.code).toBe('not_finishable');

    const diego = await c.system.post('generic', { ticket: { system: 'servicedesk', id: 'SR-FINISH-DIEGO' }, target: { userPrincipalName: 'diego.siciliani@contoso.com' }, requestedBy: REQUESTER });
    const ended = await c.system.waitFor(diego.body.id, ['completed', 'partial', 'failed', 'rejected']);
    expect(ended.status).toBe('partial');
    expect(ended.statusReason).toMatch(/Require re-register multifactor authentication/);
    const refusedDiego = await c.call(`/requests/${diego.body.id}/finish`, token, { method: 'POST' });
    expect(refusedDiego.status).toBe(409);
    expect((refusedDiego.body as FinishAnswer).error?.message).toMatch(/cannot remove office/);
  }, 60_000);

  it('a finish forged into storage is not approved: the row fails its MAC and nothing is written', async () => {
    const answer = await c.system.post('generic', { ticket: { system: 'servicedesk', id: 'SR-FINISH-FORGED' }, target: { userPrincipalName: 'diego.siciliani@contoso.com' }, requestedBy: REQUESTER });
    const ended = await c.system.waitFor(answer.body.id, ['completed', 'partial', 'failed', 'rejected']);
    expect(ended.status).toBe('partial');
    const table = TableClient.fromConnectionString(c.system.azurite.connectionString, TABLES.requests, { allowInsecureConnection: true });
    const entity = await table.getEntity<Record<string, unknown>>(answer.body.id.slice(0, 2), answer.body.id);
    const forged = {
      version: 1,
      methods: ['phone', 'microsoftAuthenticator', 'softwareOath', 'hardwareOath', 'windowsHelloForBusiness', 'fido2', 'email'],
      adds: ['windowsHelloForBusiness'],
      staying: ['office'],
      kept: 'Pixel 7',
      askedBy: { userPrincipalName: 'someone@contoso.com', objectId: '00000000-0000-4000-8000-000000000001' },
      askedAt: new Date().toISOString(),
    };
    const next: Record<string, unknown> = { ...entity, finish: JSON.stringify(forged) };
    for (const name of Object.keys(next)) if (name === 'etag' || name === 'timestamp' || name.startsWith('odata')) delete next[name];
    await table.updateEntity(next as { partitionKey: string; rowKey: string }, 'Replace');
    const before = lastSeq();
    const approve = await c.call(`/requests/${answer.body.id}/finish/approve`, await c.idp.issueToken(APPROVER), { method: 'POST' });
    expect(approve.status).toBe(409);
    expect((approve.body as FinishAnswer).error?.code).toBe('unverified_row');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(writesSince(before, idOf('diego.siciliani@contoso.com'))).toEqual([]);
  }, 60_000);
});

describe("the finish on a Jira issue's ticket", () => {
  it('the issue gets a note when the finish is asked, one when it is approved, and the linked request\'s outcome', async () => {
    jira.addIssue('ITSM-831');
    const answer = await c.system.post('jira', jiraWebhook({ key: 'ITSM-831', target: 'megan.bowen@contoso.com' }));
    expect(answer.status).toBe(202);
    expect((await c.system.waitFor(answer.body.id, ['completed', 'partial', 'failed', 'rejected'])).status).toBe('partial');
    await eventually(async () => (jira.comments('ITSM-831').length === 1 ? true : undefined), 20_000);
    expect(jira.comments('ITSM-831')[0]!.text).toMatch(/Next step: finish it in the operator console: on the request's page an operator presses "Finish: also remove Windows Hello for Business"/);

    expect((await c.call(`/requests/${answer.body.id}/finish`, await c.idp.issueToken(AGENT), { method: 'POST' })).status).toBe(202);
    await eventually(async () => (jira.comments('ITSM-831').length === 2 ? true : undefined), 20_000);
    expect(jira.comments('ITSM-831')[1]!.text).toMatch(/MFA reset finish asked .*grady\.archie@contoso\.com asked in the operator console to finish this reset of megan\.bowen@contoso\.com: a linked request on this ticket would also remove Windows Hello for Business.*Nothing runs until a second person/s);

    const approved = await c.call(`/requests/${answer.body.id}/finish/approve`, await c.idp.issueToken(APPROVER), { method: 'POST' });
    expect(approved.status).toBe(202);
    const linkedId = (approved.body as FinishAnswer).requestId!;
    expect((await c.system.waitFor(linkedId, ['completed', 'partial', 'failed', 'rejected'], 30_000)).status).toBe('completed');
    await eventually(async () => (jira.comments('ITSM-831').length === 4 ? true : undefined), 30_000);
    // The approval is the partial request's note and the outcome the linked request's: two outboxes,
    // each delivered on its own, so a busy machine may post them in either order.
    const texts = jira.comments('ITSM-831').slice(2).map((comment) => comment.text);
    expect(texts).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`MFA reset finish approved .*delia\\.dennis@contoso\\.com approved the finish grady\\.archie@contoso\\.com asked for\\. Request ${linkedId}`, 's')),
        expect.stringMatching(new RegExp(`MFA reset completed \\(request ${linkedId}\\)`)),
      ]),
    );
    // Every note is internal: the customer on the portal sees none of this.
    expect(jira.comments('ITSM-831').every((comment) => !comment.jsdPublic)).toBe(true);
  }, 90_000);
});
