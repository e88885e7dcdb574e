import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, getJson, getText, postBulkCsv, postJson } from '../../dev/cli/client';
import { buildProgram } from '../../dev/cli/program';
import { csvSigningPayload } from '../../shared/bulk/bulk-request';
import { signedHeaders } from '../support/signing';
import { PacingStore } from '../../shared/pacing/pacing-store';
import { TABLES } from '../../shared/storage/names';
import { useAzurite } from '../support/azurite';
import { eventually } from '../support/eventually';
import type { JobAnswer } from '../../dev/cli/answers';
import { bulkTenant, GROUP_ID, jobOf, SECRET, startPipeline, submittedJob, upnOf, type Pipeline } from './support';

const azurite = useAzurite();
let pipeline: Pipeline;

beforeAll(async () => {
  pipeline = await startPipeline(azurite.connectionString, { tenant: bulkTenant(60, { groupFrom: 30, groupSize: 20 }) });
});
afterAll(async () => pipeline?.stop());

async function follow(id: string, timeoutMs = 60_000): Promise<JobAnswer> {
  return eventually(async () => {
    const body = jobOf(await getJson(pipeline.api, `bulk/${id}`, { limit: '1000' }));
    return body.status === 'completed' || body.status === 'failed' ? body : undefined;
  }, timeoutMs, 300);
}

async function refusal(action: Promise<unknown>): Promise<ApiError> {
  const error = await action.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describe('CSV jobs', () => {
  const csv = [
    '\uFEFFdisplayName,userPrincipalName,department',
    `"Vance, Adele",${upnOf(0)},Sales`,
    `User One,${upnOf(1)},`,
    `User Two,"${upnOf(2)}",IT`,
    `Again,${upnOf(1).toUpperCase()},IT`,
    'Personal,someone@outlook.com,',
    'Partner,ann@fabrikam.com,',
    'Broken,not an upn,',
    'Nobody,,',
    '',
    `User Three,${upnOf(3)},IT`,
  ].join('\r\n');

  it('reports duplicate, personal-account, foreign, malformed and empty rows by CSV line, and resets the rest', async () => {
    const response = await postBulkCsv(pipeline.api, csv, { ticket: 'INC0010001', ticketSystem: 'servicenow', requestedBy: 'soc@contoso.com' });
    expect(response.status).toBe(202);
    const answer = submittedJob(response);
    expect(answer.totals).toEqual({ rows: 9, valid: 4, invalid: 5 });
    expect(answer.errors.map((e) => [e.row, e.code])).toEqual([
      [5, 'duplicate'],
      [6, 'personal_account'],
      [7, 'outside_tenant'],
      [8, 'malformed_upn'],
      [9, 'missing_upn'],
    ]);
    expect(answer.errors[1]!.message).toMatch(/personal Microsoft account.*account\.live\.com/);

    const done = await follow(answer.id);
    expect(done.counts).toMatchObject({ completed: 4, invalid: 5, pending: 0 });
    expect(done.ticket).toEqual({ system: 'servicenow', id: 'INC0010001' });

    const invalid = jobOf(await getJson(pipeline.api, `bulk/${answer.id}`, { status: 'invalid' }));
    expect(invalid.items.map((item) => item.error?.code)).toEqual(['duplicate', 'personal_account', 'outside_tenant', 'malformed_upn', 'missing_upn']);

    const exported = await getText(pipeline.api, `bulk/${answer.id}`, { format: 'csv' });
    expect(exported).toContain('6,someone@outlook.com,invalid,,personal_account,');
    expect(exported).toMatch(/\r\n2,bulk0000@contoso\.com,completed,[0-9a-f-]{36},,,/);
  });

  it('signs the options with the body: changing one after signing is refused', async () => {
    const body = Buffer.from(`userPrincipalName\n${upnOf(5)}\n`);
    const signature = signedHeaders('generic', csvSigningPayload({ ticket: 'INC1', requestedBy: 'soc@contoso.com', dryRun: 'true' }, body));
    const url = `${pipeline.host.url}/api/bulk?ticket=INC1&requestedBy=soc%40contoso.com&dryRun=false`;
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/csv', ...signature }, body });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('signature_invalid');
  });

  it('refuses a CSV without a userPrincipalName column, and options given wrong', async () => {
    const noColumn = await refusal(postBulkCsv(pipeline.api, 'upn\nx@contoso.com\n', { ticket: 'INC2', requestedBy: 'soc' }));
    expect(noColumn.status).toBe(400);
    expect(JSON.stringify(noColumn.body)).toContain('userPrincipalName');
    const badOption = await refusal(postBulkCsv(pipeline.api, `userPrincipalName\n${upnOf(6)}\n`, { ticket: 'INC2', requestedBy: 'soc', profile: 'everything' }));
    expect(badOption.status).toBe(400);
    expect((badOption.body as { error: { details: { path: string }[] } }).error.details[0]!.path).toBe('profile');
  });
});

describe('group jobs', () => {
  it('expands a group to its transitive user members and plans each of them', async () => {
    const response = await postJson(pipeline.api, 'bulk', { ticket: 'INC0010002', requestedBy: 'soc@contoso.com', groupId: GROUP_ID, dryRun: true });
    expect(response.status).toBe(202);
    const answer = submittedJob(response);
    // Expanded at intake, so its size is known (and counted against BULK_CONFIRM_ABOVE) before the answer.
    expect(answer.status).toBe('running');
    expect(answer.totals).toEqual({ rows: 20, valid: 20, invalid: 0 });
    const done = await follow(answer.id);
    expect(done.source).toEqual({ kind: 'group', groupId: GROUP_ID });
    expect(done.counts).toMatchObject({ planned: 20, pending: 0, invalid: 0 });
    expect(done.items.map((item) => item.userPrincipalName)).toEqual(Array.from({ length: 20 }, (_, i) => upnOf(30 + i)));
  });

  it('refuses the job at submission, with a reason, when the group does not exist', async () => {
    const missing = await refusal(postJson(pipeline.api, 'bulk', { ticket: 'INC0010003', requestedBy: 'soc@contoso.com', groupId: '00000000-0000-4000-8000-000000000000' }));
    expect(missing.status).toBe(422);
    expect((missing.body as any).error).toMatchObject({ code: 'group_unreadable', message: expect.stringMatching(/does not exist.*nothing was stored/) });
  });
});

describe('the CLI', () => {
  const run = async (...args: string[]) => {
    const out: string[] = [];
    const program = buildProgram({ out: (text) => out.push(text), err: (text) => out.push(text), env: {}, tty: false, pollMs: 300 });
    await program.parseAsync(['node', 'entra-mfa-reset', '--url', pipeline.host.url, '--secret', SECRET, ...args]);
    return out.join('');
  };

  it('bulk submit signs a CSV, follows the job with progress lines, then prints a summary; bulk status shows it again', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'bulk-cli-')), 'users.csv');
    writeFileSync(file, ['userPrincipalName', ...Array.from({ length: 10 }, (_, i) => upnOf(10 + i)), 'someone@hotmail.com'].join('\n'));
    const output = await run('bulk', 'submit', file, '--ticket', 'CHG0031337', '--requested-by', 'soc@contoso.com', '--rate', '600');
    expect(output).toMatch(/Job accepted: [0-9a-f-]{36}/);
    expect(output).toContain('11 rows, 10 users to reset, 1 refused');
    expect(output).toContain('row 12: someone@hotmail.com: personal_account');
    expect(output).toMatch(/ {2}completed 10\/10 users \(100%\)/);
    expect(output).toMatch(/completed\s+10\n/);
    expect(output).toMatch(/invalid\s+1\n/);
    const id = /Job accepted: ([0-9a-f-]{36})/.exec(output)![1]!;
    const status = await run('bulk', 'status', id);
    expect(status).toContain(`Job ${id}: completed`);
    expect(status).toMatch(/12\s+someone@hotmail\.com\s+invalid\s+someone@hotmail\.com is not|hotmail\.com is a personal/);
    const csv = await run('bulk', 'status', id, '--csv');
    expect(csv.split('\r\n')[0]).toBe('row,userPrincipalName,status,requestId,errorCode,message,finishedAt');
  });

  it('reset <upn> resets one user and prints what happened to each method', async () => {
    const output = await run('reset', upnOf(23), '--ticket', 'INC0099', '--requested-by', 'desk@contoso.com');
    expect(output).toMatch(/Accepted: [0-9a-f-]{36}/);
    expect(output).toMatch(new RegExp(`${upnOf(23).replace('.', '\\.')}: completed after`));
    expect(output).toMatch(/phone\s+.*deleted/);
    expect(output).toMatch(/microsoftAuthenticator\s+.*deleted \(default\)/);
  });
});

describe('submission checks and scheduling', () => {
  it('refuses unsigned jobs, other media types, and a body naming both users and a group', async () => {
    expect((await refusal(postJson({ ...pipeline.api, secret: undefined }, 'bulk', { ticket: 'X', requestedBy: 'y', users: [upnOf(1)] }))).status).toBe(401);
    const both = await refusal(postJson(pipeline.api, 'bulk', { ticket: 'X', requestedBy: 'y', users: [upnOf(1)], groupId: GROUP_ID }));
    expect(both.status).toBe(400);
    expect((both.body as any).error.details).toEqual([{ path: 'users', message: 'give exactly one of users or groupId' }]);
    const unknownField = await refusal(postJson(pipeline.api, 'bulk', { ticket: 'X', requestedBy: 'y', users: [upnOf(1)], dryrun: true }));
    expect((unknownField.body as any).error.details).toEqual([{ path: 'dryrun', message: 'is not a known field' }]);
    const response = await fetch(`${pipeline.host.url}/api/bulk`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect(response.status).toBe(415);
  });

  it('releases nobody before notBefore, and caps the pace at BULK_RATE_PER_MINUTE', async () => {
    const notBefore = new Date(Date.now() + 3600_000).toISOString();
    const answer = submittedJob(await postJson(pipeline.api, 'bulk', { ticket: 'CHG9', requestedBy: 'soc', users: [upnOf(20), upnOf(21)], notBefore, ratePerMinute: 50_000 }));
    expect(answer).toMatchObject({ status: 'scheduled', notBefore, ratePerMinute: 12000 });
    await new Promise((resolve) => setTimeout(resolve, 6000)); // at least one dispatcher tick
    const body = jobOf(await getJson(pipeline.api, `bulk/${answer.id}`));
    expect(body.status).toBe('scheduled');
    expect(body.totals.released).toBe(0);
    expect(body.counts.pending).toBe(2);
  });

  it('halves the release pace when an instance records Graph throttling, then recovers it', async () => {
    const pacing = new PacingStore(TableClient.fromConnectionString(azurite.connectionString, TABLES.pacing, { allowInsecureConnection: true }));
    await pacing.recordThrottle(Date.now(), 1);
    // The dispatcher only adjusts while jobs are active: give it one.
    await postJson(pipeline.api, 'bulk', { ticket: 'CHG10', requestedBy: 'soc', users: [upnOf(22)], dryRun: true });
    const halved = await eventually(async () => {
      const state = await pacing.dispatchPacing();
      return state.factor < 1 ? state : undefined;
    }, 15_000, 250);
    expect(halved.factor).toBe(0.5);
    expect(halved.seenThrottleAt).toBe((await pacing.throttle()).lastThrottleAt);
  });
});
