import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, getJson, postBulkCsv, postJson } from '../../dev/cli/client';
import { buildProgram } from '../../dev/cli/program';
import { bulkStore } from '../../shared/bulk/bulk-services';
import { buildBulkJob } from '../../shared/bulk/bulk-submit';
import { parseBulkJson } from '../../shared/bulk/bulk-request';
import { silentLogger } from '../../shared/log';
import { requestStores } from '../../shared/request-stores';
import { safetyNets } from '../../shared/safety-nets';
import { getServices } from '../../shared/services';
import { TABLES } from '../../shared/storage/names';
import { useAzurite } from '../support/azurite';
import { eventually } from '../support/eventually';
import { signedHeaders } from '../support/signing';
import { bulkTenant, GROUP_ID, jobOf, SECRET, startPipeline, submittedJob, upnOf, type Pipeline } from './support';

/**
 * Consent to a bulk job's size (issue: "a groupId bulk job ignores the size limit"): above
 * BULK_CONFIRM_ABOVE (100 by default) a job is accepted only with confirmUsers equal to the number of
 * users it resets, a group counted after its expansion, and the answer says how many that is.
 */

const azurite = useAzurite();
let pipeline: Pipeline;
const GROUP_SIZE = 500;
const later = () => new Date(Date.now() + 3600_000).toISOString();

beforeAll(async () => {
  // 560 users, 500 of them in the group (the last 100 through a nested group).
  pipeline = await startPipeline(azurite.connectionString, { tenant: bulkTenant(560, { groupFrom: 0, groupSize: GROUP_SIZE }) });
});
afterAll(async () => pipeline?.stop());

async function refusal(action: Promise<unknown>): Promise<{ status: number; code: string; message: string; details: Record<string, unknown> }> {
  const error = await action.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ApiError);
  const { status, body } = error as ApiError;
  const refused = (body as { error: { code: string; message: string; details?: Record<string, unknown> } }).error;
  return { status, code: refused.code, message: refused.message, details: refused.details ?? {} };
}

const jobsTable = () => TableClient.fromConnectionString(azurite.connectionString, TABLES.bulkJobs, { allowInsecureConnection: true });
async function storedJobs(): Promise<number> {
  let count = 0;
  try {
    for await (const _ of jobsTable().listEntities()) count += 1;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw error;
  }
  return count;
}
const writes = () => pipeline.sim.requestLog.filter((entry) => entry.write);

describe('a group job above BULK_CONFIRM_ABOVE', () => {
  it('without confirmUsers: 422 naming 500, nothing stored, no Graph write; every member page read as an advanced query', async () => {
    pipeline.sim.resetLog();
    const before = await storedJobs();
    const refused = await refusal(postJson(pipeline.api, 'bulk', { ticket: 'INC-ALL', requestedBy: 'soc@contoso.com', groupId: GROUP_ID }));
    expect(refused.status).toBe(422);
    expect(refused.code).toBe('confirmation_required');
    expect(refused.message).toMatch(/has 500 user members, so this job would reset 500 users, more than BULK_CONFIRM_ABOVE \(100\); nothing was stored\. .*confirmUsers: 500/);
    expect(refused.details).toMatchObject({ wouldReset: 500, confirmAbove: 100, fields: ['confirmUsers'] });
    expect(await storedJobs()).toBe(before);
    expect(writes()).toEqual([]);
    const pages = pipeline.sim.requestLog.filter((entry) => entry.url.includes('/transitiveMembers/microsoft.graph.user'));
    expect(pages.length).toBeGreaterThan(0);
    for (const page of pages) {
      expect(page.status).toBe(200);
      expect(decodeURIComponent(page.url)).toMatch(/\$count=true/);
    }
  });

  it('with confirmUsers: 500 it is accepted, holding exactly the 500 users counted, whoever joins the group afterwards', async () => {
    const response = await postJson(pipeline.api, 'bulk', { ticket: 'INC-ALL-2', requestedBy: 'soc@contoso.com', groupId: GROUP_ID, confirmUsers: GROUP_SIZE, notBefore: later() });
    expect(response.status).toBe(202);
    const answer = submittedJob(response);
    expect(answer.status).toBe('scheduled');
    expect(answer.totals).toEqual({ rows: 500, valid: 500, invalid: 0 });

    // Membership changes after the answer do not change the job: what was confirmed is what runs.
    const joiner = pipeline.sim.tenant.findUser(upnOf(555))!;
    joiner.groupIds.push(GROUP_ID.toLowerCase());
    await new Promise((resolve) => setTimeout(resolve, 6000)); // a dispatcher tick
    joiner.groupIds.pop();
    const job = jobOf(await getJson(pipeline.api, `bulk/${answer.id}`, { limit: '1000' }));
    expect(job.totals).toMatchObject({ rows: 500, valid: 500 });
    expect(job.counts.pending).toBe(500);
  });

  it('a count that does not match is refused, naming the real one, even for a small job', async () => {
    const off = await refusal(postJson(pipeline.api, 'bulk', { ticket: 'INC-ALL-3', requestedBy: 'soc', groupId: GROUP_ID, confirmUsers: 499 }));
    expect(off).toMatchObject({ status: 422, code: 'confirmation_mismatch', details: { wouldReset: 500, confirmUsers: 499 } });
    expect(off.message).toMatch(/confirmUsers is 499 but group .* has 500 user members/);
    const small = await refusal(postJson(pipeline.api, 'bulk', { ticket: 'INC-S', requestedBy: 'soc', users: [upnOf(1), upnOf(2)], confirmUsers: 20, dryRun: true }));
    expect(small).toMatchObject({ status: 422, code: 'confirmation_mismatch', details: { wouldReset: 2 } });
  });

  it('Graph unable to count the group now: 503 with Retry-After, nothing stored; never a job of unknown size', async () => {
    const before = await storedJobs();
    pipeline.sim.setFaults({ rate503: 1, appliesTo: 'reads', retryAfterSeconds: 40 });
    try {
      const response = await fetch(`${pipeline.host.url}/api/bulk`, {
        method: 'POST',
        ...(() => {
          const body = JSON.stringify({ ticket: 'INC-503', requestedBy: 'soc', groupId: GROUP_ID, confirmUsers: GROUP_SIZE });
          return { body, headers: { 'content-type': 'application/json', ...signedHeaders('generic', body) } };
        })(),
      });
      expect(response.status).toBe(503);
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('graph_unavailable');
    } finally {
      pipeline.sim.setFaults({});
    }
    expect(await storedJobs()).toBe(before);
  });

  it('a group job stored before intake counted groups (found by the safety net: no kick woke the dispatcher for it) is failed, not started, naming the count', async () => {
    pipeline.sim.resetLog();
    const services = getServices();
    const { integrity } = requestStores(services);
    const parsed = parseBulkJson({ ticket: 'INC-OLD', requestedBy: 'soc', groupId: GROUP_ID });
    const { job } = buildBulkJob(integrity.requestId('bulk|test|legacy-group-job'), parsed, services.settings, integrity, new Date());
    expect(job.status).toBe('expanding');
    await bulkStore(services).createJob(job);
    // Nothing told the dispatcher about this row: the 5-minute safety net finds it and starts a beat.
    await safetyNets(services, silentLogger).find((net) => net.name === 'bulk beat')!.run();
    const done = await eventually(async () => {
      const body = jobOf(await getJson(pipeline.api, `bulk/${job.id}`));
      return body.status === 'failed' ? body : undefined;
    }, 30_000, 300);
    expect(done.statusReason).toMatch(/^confirmation_required: group .* has 500 user members, more than BULK_CONFIRM_ABOVE \(100\).*nobody was reset/);
    expect(writes()).toEqual([]);
  });
});

describe('lists and CSV files above BULK_CONFIRM_ABOVE', () => {
  it('a list of 101 users needs confirmUsers: 101; a list of 100 does not', async () => {
    const users = Array.from({ length: 101 }, (_, i) => upnOf(i));
    const refused = await refusal(postJson(pipeline.api, 'bulk', { ticket: 'CHG-101', requestedBy: 'soc', users, dryRun: true }));
    expect(refused).toMatchObject({ status: 422, code: 'confirmation_required', details: { wouldReset: 101 } });
    expect(refused.message).toMatch(/this job would reset 101 users, more than BULK_CONFIRM_ABOVE/);
    expect((await postJson(pipeline.api, 'bulk', { ticket: 'CHG-101b', requestedBy: 'soc', users, dryRun: true, confirmUsers: 101 })).status).toBe(202);
    expect((await postJson(pipeline.api, 'bulk', { ticket: 'CHG-100', requestedBy: 'soc', users: users.slice(0, 100), dryRun: true })).status).toBe(202);
  });

  it('a CSV counts the users it resets, not its rows; confirmUsers travels as a signed option', async () => {
    const rows = [...Array.from({ length: 120 }, (_, i) => upnOf(i)), upnOf(3).toUpperCase(), 'someone@outlook.com'];
    const csv = ['userPrincipalName', ...rows].join('\n');
    const refused = await refusal(postBulkCsv(pipeline.api, csv, { ticket: 'CHG-CSV', requestedBy: 'soc', dryRun: 'true' }));
    expect(refused).toMatchObject({ status: 422, code: 'confirmation_required', details: { wouldReset: 120, rows: 122 } });
    expect(refused.message).toMatch(/would reset 120 users \(122 rows listed, 2 refused\)/);
    const wrong = await refusal(postBulkCsv(pipeline.api, csv, { ticket: 'CHG-CSV', requestedBy: 'soc', dryRun: 'true', confirmUsers: '122' }));
    expect(wrong.code).toBe('confirmation_mismatch');
    const accepted = submittedJob(await postBulkCsv(pipeline.api, csv, { ticket: 'CHG-CSV', requestedBy: 'soc', dryRun: 'true', confirmUsers: '120' }));
    expect(accepted.totals).toEqual({ rows: 122, valid: 120, invalid: 2 });

    // The count is signed with the body: raising it in the URL after signing is refused.
    const url = new URL(`${pipeline.host.url}/api/bulk`);
    const options = { ticket: 'CHG-CSV-T', requestedBy: 'soc', confirmUsers: '5' };
    const { csvSigningPayload } = await import('../../shared/bulk/bulk-request');
    const headers = signedHeaders('generic', csvSigningPayload(options, Buffer.from(csv)));
    for (const [name, value] of Object.entries({ ...options, confirmUsers: '120' })) url.searchParams.set(name, value);
    const tampered = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/csv', ...headers }, body: csv });
    expect(tampered.status).toBe(401);

    const notNumber = await refusal(postBulkCsv(pipeline.api, csv, { ticket: 'CHG-CSV', requestedBy: 'soc', confirmUsers: '120 users' }));
    expect(notNumber).toMatchObject({ status: 400 });
  });
});

describe('the CLI', () => {
  const run = async (...args: string[]) => {
    const out: string[] = [];
    const program = buildProgram({ out: (text) => out.push(text), err: (text) => out.push(text), env: {}, tty: false, pollMs: 300 });
    await program.parseAsync(['node', 'entra-mfa-reset', '--url', pipeline.host.url, '--secret', SECRET, ...args]);
    return out.join('');
  };

  it('bulk submit --group says how many users the job would reset and how to confirm; --confirm-users submits it', async () => {
    const error = await run('bulk', 'submit', '--group', GROUP_ID, '--ticket', 'INC-CLI', '--requested-by', 'soc', '--no-wait').then(
      () => undefined,
      (caught: unknown) => caught as Error,
    );
    expect(error?.message).toMatch(/422 confirmation_required: .*would reset 500 users/);
    expect(error?.message).toMatch(/If that is meant, run the same command with --confirm-users 500\./);
    const count = /--confirm-users (\d+)/.exec(error!.message)![1]!;
    const output = await run('bulk', 'submit', '--group', GROUP_ID, '--ticket', 'INC-CLI', '--requested-by', 'soc', '--confirm-users', count, '--not-before', later(), '--no-wait');
    expect(output).toMatch(new RegExp(`Job accepted: .*\\n  ${count} rows, ${count} users to reset, 0 refused`));
  });
});
