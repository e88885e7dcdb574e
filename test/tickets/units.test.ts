import { describe, expect, it } from 'vitest';
import { ConfigError, loadSettings } from '../../shared/config';
import { scrub } from '../../shared/tickets/note-format';
import { finishNote, outcomeNote } from '../../shared/tickets/note-text';
import { newRegistration } from '../../shared/tickets/follow-up';
import { mailFor } from '../../shared/tickets/mail';
import { TEST_SECRETS } from '../support/signing';
import { z } from 'zod';
import { callTicketSystem } from '../../shared/tickets/ticket-http';
import type { RequestRow } from '../../shared/requests/request-row';

const base = { AzureWebJobsStorage: 'UseDevelopmentStorage=true', INTAKE_MAC_KEY: TEST_SECRETS.intakeMacKey };
const problems = (env: Record<string, string>) => {
  try {
    loadSettings({ ...base, ...env });
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
};

describe('write-back settings', () => {
  it('take ticket systems only over https (http only for loopback stand-ins), and refuse credentials in the URL', () => {
    expect(problems({ JIRA_SITE_URL: 'http://contoso.atlassian.net', JIRA_USER_EMAIL: 'bot@contoso.com', JIRA_API_TOKEN: 'x' }).join()).toMatch(/JIRA_SITE_URL must be https/);
    expect(problems({ JIRA_SITE_URL: 'http://127.0.0.1:9000', JIRA_USER_EMAIL: 'bot@contoso.com', JIRA_API_TOKEN: 'x' })).toEqual([]);
    expect(problems({ SERVICENOW_INSTANCE_URL: 'https://admin:pw@contoso.service-now.com', SERVICENOW_USERNAME: 'u', SERVICENOW_PASSWORD: 'p' }).join()).toMatch(/origin only/);
  });

  it('name what is missing for the chosen authentication', () => {
    expect(problems({ SERVICENOW_INSTANCE_URL: 'https://contoso.service-now.com', SERVICENOW_CLIENT_ID: 'abc' }).join()).toMatch(/SERVICENOW_CLIENT_SECRET is not set/);
    expect(problems({ SERVICENOW_INSTANCE_URL: 'https://contoso.service-now.com', SERVICENOW_USERNAME: 'svc' }).join()).toMatch(/SERVICENOW_PASSWORD is not set/);
    expect(problems({ JIRA_SITE_URL: 'https://contoso.atlassian.net' }).join()).toMatch(/JIRA_USER_EMAIL is not set.*JIRA_API_TOKEN is not set/s);
    const secretShown = problems({ SERVICENOW_INSTANCE_URL: 'https://contoso.service-now.com', SERVICENOW_CLIENT_SECRET: 'do-not-print-me' }).join();
    expect(secretShown).toMatch(/SERVICENOW_CLIENT_ID is not set/);
    expect(secretShown).not.toContain('do-not-print-me');
  });

  it('callbacks need their own Standard Webhooks secret, never the request secret', () => {
    expect(problems({ CALLBACK_ALLOWED_HOSTS: 'hooks.contoso.com' }).join()).toMatch(/CALLBACK_SIGNING_SECRET is not set/);
    expect(problems({ CALLBACK_ALLOWED_HOSTS: 'hooks.contoso.com', CALLBACK_SIGNING_SECRET: 'not-whsec' }).join()).toMatch(/CALLBACK_SIGNING_SECRET must be a Standard Webhooks secret/);
    const same = problems({ CALLBACK_ALLOWED_HOSTS: 'hooks.contoso.com', CALLBACK_SIGNING_SECRET: TEST_SECRETS.generic, WEBHOOK_SECRET_GENERIC: TEST_SECRETS.generic }).join();
    expect(same).toMatch(/CALLBACK_SIGNING_SECRET is the same secret as WEBHOOK_SECRET_GENERIC: a callback signed with the request secret could be sent back/);
    expect(same).not.toContain(TEST_SECRETS.generic);
    expect(problems({ CALLBACK_ALLOWED_HOSTS: 'https://hooks.contoso.com/x', CALLBACK_SIGNING_SECRET: 'whsec_kT3w9Zq1bN6cR2xV8mL4pA7sD0fG5hJ1kE9uY3tW6iQ=' }).join()).toMatch(/host name/);
  });
});

describe('note text', () => {
  it('masks anything shaped like a phone number that reaches it, and leaves dates alone', () => {
    expect(scrub('call +1 425 555 0101 or 4255550102')).toBe('call +* *** *** **01 or ********02');
    expect(scrub('resumes at 2026-12-02T15:00:00Z')).toBe('resumes at 2026-12-02T15:00:00Z');
  });

  it('masks phone numbers only: an app version and an object id pass, a dotted phone number does not', () => {
    expect(scrub('Pixel 8, SoftwareTokenActivated, app 6.2406.4219')).toBe('Pixel 8, SoftwareTokenActivated, app 6.2406.4219');
    expect(scrub('request 28c10230-6103-485e-b985-444c60001490 ended')).toBe('request 28c10230-6103-485e-b985-444c60001490 ended');
    expect(scrub('call 425.555.0101 back')).toBe('call ***.***.**01 back');
    expect(scrub('+1 (425) 555-0101')).toBe('+* (***) ***-**01');
  });

  it('cuts a long reason at a word, visibly, never mid-word', () => {
    const reason = `Still registered after 2 pass(es): ${'Microsoft Authenticator Pixel 8 is the default method; '.repeat(40)}To finish: use the console.`;
    const cut = scrub(reason);
    expect(cut.length).toBeLessThanOrEqual(1500);
    expect(cut.endsWith('…')).toBe(true);
    expect(cut.slice(0, -1)).toMatch(/[A-Za-z0-9)]$/);
    expect(reason.startsWith(cut.slice(0, -1))).toBe(true);
    expect(reason.charAt(cut.length - 1)).toMatch(/[\s;,.]/);
  });

  const partial = (reason: string) =>
    outcomeNote({
      id: '8c1e0c2a-1111-8222-9333-444455556666',
      status: 'partial',
      ticketId: 'SR-2',
      ticketSystem: 'jira',
      requestedBy: 'Mia Agent',
      revokeSessions: false,
      result: JSON.stringify({ status: 'partial', reason, methods: [{ id: 'a', kind: 'microsoftAuthenticator', detail: 'Pixel 8, app 6.2406.4219', outcome: 'remaining', reason: 'default' }] }),
    } as unknown as RequestRow).lines.join('\n');

  it("a partial reset's next step follows from what remains: the console's finish, or the admin center", () => {
    const finishable = partial('Still registered: Pixel 8. To finish: use "Finish: also remove FIDO2 security key / passkey" on this request\'s page in the operator console (an operator asks, a second person approves); it runs a linked request on the same ticket with methods ["fido2"].');
    expect(finishable).toMatch(/Next step: finish it in the operator console: on the request's page an operator presses "Finish: also remove FIDO2 security key \/ passkey" and a second person approves it/);
    expect(finishable).toContain('app 6.2406.4219');
    const stuck = partial('Still registered: Pixel 8. This service cannot remove office +1 425*****51. To finish: use "Require re-register multifactor authentication" for this user in the Entra admin center.');
    expect(stuck).toMatch(/Next step: an administrator uses "Require re-register multifactor authentication"/);
    expect(stuck).not.toMatch(/operator console: on the request/);
  });

  it('a dry run names the default Graph would keep as staying, not as removed', () => {
    const text = outcomeNote({
      id: '8c1e0c2a-1111-8222-9333-444455556666',
      status: 'planned',
      ticketId: 'SR-3',
      ticketSystem: 'jira',
      requestedBy: 'Mia Agent',
      revokeSessions: true,
      dryRun: true,
      result: JSON.stringify({
        status: 'planned',
        methods: [
          { id: 'o', kind: 'phone', detail: 'office +1 425*****12', outcome: 'planned', reason: 'would be deleted (dry run)' },
          { id: 'm', kind: 'phone', detail: 'mobile +1 425*****11', outcome: 'planned', reason: 'would be tried last, but Graph keeps the default method while MEGAN-LAPTOP stay: a real run would end partial with it left (dry run)' },
        ],
      }),
    } as unknown as RequestRow).lines.join('\n');
    expect(text).toMatch(/Would remove: phone \(office \+1 425\*{5}12\)\./);
    expect(text).toMatch(/Would stay: phone \(mobile \+1 425\*{5}11\), the default method: .*would end partial/);
  });

  it('tells the ticket when a finish is asked (nothing runs yet) and when a second person approved it', () => {
    const row = { id: '8c1e0c2a-1111-8222-9333-444455556666', status: 'partial', ticketId: 'SR-2', ticketSystem: 'jira', targetUpn: 'adele.vance@contoso.com', requestedBy: 'Mia Agent' } as unknown as RequestRow;
    const asked = finishNote('finish-asked', row, { state: 'pending', channel: 'jira', attempts: 0, marker: 'm', facts: { operator: 'grady.archie@contoso.com', adds: 'FIDO2 security key / passkey, email', kept: 'Pixel 8, app 6.2406.4219' } }, 'https://mfa.contoso.com');
    expect(asked.title).toBe('MFA reset finish asked (request 8c1e0c2a-1111-8222-9333-444455556666)');
    expect(asked.lines.join('\n')).toMatch(/grady\.archie@contoso\.com asked .* also remove FIDO2 security key \/ passkey, email, which kept Pixel 8, app 6\.2406\.4219 registered/);
    expect(asked.lines.join('\n')).toMatch(/Nothing runs until a second person/);
    const approved = finishNote('finish-approved', row, { state: 'pending', channel: 'jira', attempts: 0, marker: 'm', facts: { operator: 'grady.archie@contoso.com', approver: 'delia.dennis@contoso.com', adds: 'FIDO2 security key / passkey, email', requestId: '9d1e0c2a-1111-8222-9333-444455556666' } }, 'https://mfa.contoso.com');
    expect(approved.lines.join('\n')).toMatch(/delia\.dennis@contoso\.com approved the finish grady\.archie@contoso\.com asked for/);
    expect(approved.lines.join('\n')).toContain('https://mfa.contoso.com/api/console/#/requests/9d1e0c2a-1111-8222-9333-444455556666');
  });

  it('says what a failed reset leaves and what to do next', () => {
    const row = {
      id: '8c1e0c2a-1111-8222-9333-444455556666',
      status: 'failed',
      ticketId: 'ITSM-9',
      ticketSystem: 'jira',
      requestedBy: 'Mia Agent',
      revokeSessions: true,
      result: JSON.stringify({ status: 'failed', reason: 'Graph did not answer', methods: [{ id: 'm1', kind: 'phone', detail: 'mobile +1 425*****01', outcome: 'remaining' }] }),
    } as unknown as RequestRow;
    const note = outcomeNote(row);
    expect(note.title).toContain('failed');
    expect(note.lines.join('\n')).toMatch(/Still registered although in scope: phone \(mobile \+1 425\*\*\*\*\*01\)/);
    expect(note.lines.join('\n')).toMatch(/Sign-in sessions: NOT revoked/);
    expect(note.lines.join('\n')).toMatch(/Next step/);
  });
});

describe('the note\'s link to the console', () => {
  const row = { id: '8c1e0c2a-1111-8222-9333-444455556666', status: 'completed', ticketId: 'ITSM-9', ticketSystem: 'jira', requestedBy: 'Mia Agent', revokeSessions: false, result: JSON.stringify({ status: 'completed', methods: [] }) } as unknown as RequestRow;

  it('links the request\'s console page when the app knows where people reach it', () => {
    const text = outcomeNote(row, 'https://mfa-reset-x1.azurewebsites.net').lines.join('\n');
    expect(text).toContain('https://mfa-reset-x1.azurewebsites.net/api/console/#/requests/8c1e0c2a-1111-8222-9333-444455556666 (operator console, Entra sign-in)');
  });

  it('gives no link without CONSOLE_BASE_URL, only where to search', () => {
    const text = outcomeNote(row).lines.join('\n');
    expect(text).not.toMatch(/https?:\/\//);
    expect(text).toContain('the operator console (search ITSM-9)');
  });

  it('takes the origin from settings only: a path, query or plain http to another host is refused', () => {
    expect(problems({ CONSOLE_BASE_URL: 'http://mfa-reset.example.com' }).join()).toMatch(/CONSOLE_BASE_URL must be https/);
    expect(problems({ CONSOLE_BASE_URL: 'https://mfa-reset.example.com/?next=evil' }).join()).toMatch(/CONSOLE_BASE_URL must be the site's origin only/);
    expect(problems({ CONSOLE_BASE_URL: 'http://127.0.0.1:7071' })).toEqual([]);
  });
});

describe('mail text', () => {
  it('keeps a request id full of digits intact and masks a number in directory text', () => {
    const row = { id: '81111111-1111-8222-9333-444455556666', ticketSystem: 'servicenow', ticketId: 'RITM0010001', revokeSessions: true, result: JSON.stringify({ status: 'completed', methods: [{ id: 'm', kind: 'phone', detail: 'x', outcome: 'deleted' }] }) } as unknown as RequestRow;
    const mail = mailFor('manager', row, { displayName: 'Desk phone 4255550199', userPrincipalName: 'a@contoso.com' }, '2026-12-02T10:00:00Z');
    expect(mail.text).toContain('Reference: request 81111111-1111-8222-9333-444455556666');
    expect(mail.text).not.toContain('4255550199');
    expect(mail.text).toContain('Removed: phone.');
  });
});

describe('follow-up detection', () => {
  const watch = { baseline: ['pw', 'fido'], passMethodId: 'tap1' };
  it('sees a method that was not there after the reset, not the password or the pass', () => {
    expect(
      newRegistration(
        [
          { '@odata.type': '#microsoft.graph.passwordAuthenticationMethod', id: 'pw' },
          { '@odata.type': '#microsoft.graph.fido2AuthenticationMethod', id: 'fido' },
          { '@odata.type': '#microsoft.graph.temporaryAccessPassAuthenticationMethod', id: 'tap1', isUsable: true, methodUsabilityReason: 'EnabledByPolicy' },
        ],
        watch,
      ),
    ).toBeUndefined();
    const found = newRegistration(
      [
        { '@odata.type': '#microsoft.graph.phoneAuthenticationMethod', id: '3179e48a-750b-4051-897c-87b9720928f7', phoneType: 'mobile', phoneNumber: '+1 4255550199', createdDateTime: '2026-12-02T10:00:00Z' },
        { '@odata.type': '#microsoft.graph.temporaryAccessPassAuthenticationMethod', id: 'tap1', isUsable: false, methodUsabilityReason: 'OneTimeUsed' },
      ],
      watch,
    );
    expect(found).toEqual({ newMethod: 'phone (mobile +1 425*****99)', registeredAt: '2026-12-02T10:00:00Z', passUsed: 'yes' });
  });
});

describe('one call to a ticket system', () => {
  const call = (status: number, body: string, headers: Record<string, string> = {}) =>
    callTicketSystem({
      system: 'Jira',
      url: 'https://contoso.atlassian.net/rest/api/3/issue/SR-1/comment',
      method: 'POST',
      headers: { authorization: 'Basic c2VjcmV0' },
      body: '{}',
      schema: z.object({ id: z.string() }),
      timeoutMs: 1000,
      fetch: async (_url, init) => {
        // Credentials are never sent where a redirect points.
        expect(init.redirect).toBe('manual');
        return new Response(body, { status, headers });
      },
    });

  it('retries 429 and 5xx after Retry-After, refuses other 4xx and redirects, and never echoes a credential', async () => {
    expect(await call(429, '{"errorMessages":["Rate limit exceeded"]}', { 'retry-after': '7' })).toMatchObject({ kind: 'retry', status: 429, retryAfterSeconds: 7, message: 'Jira answered 429: Rate limit exceeded' });
    expect(await call(503, '<html>busy</html>', { 'retry-after': '2' })).toMatchObject({ kind: 'retry', status: 503, retryAfterSeconds: 2, uncertain: true });
    expect(await call(403, '{"errorMessages":["You do not have permission to add comments"]}')).toMatchObject({ kind: 'refused', status: 403 });
    expect(await call(404, '{"errorMessages":["Issue does not exist"]}')).toMatchObject({ kind: 'refused', status: 404 });
    const moved = await call(302, '', { location: 'https://evil.example/steal' });
    expect(moved).toMatchObject({ kind: 'refused', status: 302 });
    expect(JSON.stringify(moved)).not.toContain('evil.example');
    // A 2xx that is not what the API answers is not taken as posted.
    expect(await call(200, 'ok')).toMatchObject({ kind: 'retry', status: 200 });
    expect(await call(201, '{"id":"10001"}')).toMatchObject({ kind: 'ok', body: { id: '10001' } });
    for (const answer of [await call(401, 'Client must be authenticated'), await call(500, '{"message":"oops"}')]) {
      expect(JSON.stringify(answer)).not.toContain('c2VjcmV0');
    }
  });
});
