import { testIntegrity } from '../support/signing';
import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { resetAnswerSchema, type JobAnswer } from '../../dev/cli/answers';
import { expectAnswer, getJson, getText, postJson } from '../../dev/cli/client';
import { RequestStore } from '../../shared/requests/request-store';
import { TABLES } from '../../shared/storage/names';
import { useAzurite } from '../support/azurite';
import { eventually } from '../support/eventually';
import { bulkTenant, jobOf, removalsByUser, startPipeline, submittedJob, upnOf, type Pipeline } from './support';

/**
 * 300-user jobs through the whole app: HTTP intake, the dispatcher timer, queue mfa-resets, the worker
 * and the Graph simulator, on one Azurite. Zero simulated latency and a generous write budget keep it quick.
 */
const azurite = useAzurite();
let pipeline: Pipeline;

beforeAll(async () => {
  pipeline = await startPipeline(azurite.connectionString, { tenant: bulkTenant(300) });
});
afterAll(async () => pipeline?.stop());

const users = (from: number, count: number) => Array.from({ length: count }, (_, i) => upnOf(from + i));
const job = (extra: Record<string, unknown>) => ({ ticket: { system: 'servicenow', id: 'CHG0042001' }, requestedBy: 'soc@contoso.com', reason: 'incident 42', ...extra });

type Status = JobAnswer;
async function follow(id: string, seen: Status[] = [], timeoutMs = 200_000): Promise<Status> {
  return eventually(async () => {
    const body = jobOf(await getJson(pipeline.api, `bulk/${id}`, { limit: '1000' }));
    seen.push(body);
    return body.status === 'completed' || body.status === 'failed' ? body : undefined;
  }, timeoutMs, 500);
}

function writesIn(pipeline: Pipeline) {
  return pipeline.sim.requestLog.filter((entry) => entry.write).length;
}

describe('a 300-user job', () => {
  it('dry run: plans every user, changes nothing, and shows progress while it runs', async () => {
    const writesBefore = writesIn(pipeline);
    const response = await postJson(pipeline.api, 'bulk', job({ users: users(0, 300), dryRun: true, ratePerMinute: 1800, confirmUsers: 300 }));
    expect(response.status).toBe(202);
    const submitted = submittedJob(response);
    expect(submitted).toMatchObject({ id: expect.any(String), statusUrl: expect.stringContaining(`/api/bulk/${submitted.id}`), dryRun: true, totals: { rows: 300, valid: 300, invalid: 0 } });

    const seen: Status[] = [];
    const done = await follow(submitted.id, seen);
    expect(done.counts).toEqual({ completed: 0, partial: 0, failed: 0, rejected: 0, planned: 300, pending: 0, invalid: 0 });
    expect(done.items).toHaveLength(300);
    expect(done.items.every((item) => item.status === 'planned' && item.requestId)).toBe(true);
    // Progress was visible: some users finished while others were still pending.
    expect(seen.some((status) => (status.counts.pending ?? 0) > 0 && status.totals.finished > 0 && status.totals.percent < 100)).toBe(true);
    expect(writesIn(pipeline) - writesBefore).toBe(0);
    expect(pipeline.sim.tenant.removals).toHaveLength(0);
  }, 240_000);

  it('real run, with the app stopped mid-job and started again: every user is reset exactly once, as ordinary bulk requests', async () => {
    const body = job({ users: users(0, 300), ratePerMinute: 3000, confirmUsers: 300 });
    const response = await postJson(pipeline.api, 'bulk', body, { webhookId: 'msg_bulk_real_run' });
    expect(response.status).toBe(202);
    const id = submittedJob(response).id;
    // Mid-job: some users already reset in Graph, more than 100 still pending. (The job's counts move at
    // the dispatcher's ticks, 5 s apart, and a reset now takes so little storage that by the tick that
    // first counts a completion most of the job may be done: Graph's own record says sooner.)
    await eventually(async () => {
      const status = jobOf(await getJson(pipeline.api, `bulk/${id}`));
      const resetInGraph = pipeline.sim.tenant.removals.length > 0 || (status.counts.completed ?? 0) > 0;
      return resetInGraph && (status.counts.pending ?? 0) > 100 ? status : undefined;
    }, 60_000, 200);

    await pipeline.restart();
    const done = await follow(id);
    expect(done.counts).toEqual({ completed: 300, partial: 0, failed: 0, rejected: 0, planned: 0, pending: 0, invalid: 0 });

    const removals = removalsByUser(pipeline.sim);
    for (const upn of users(0, 300)) {
      const methods = removals.get(upn);
      expect(methods?.size, upn).toBe(2);
      expect([...methods!.values()], upn).toEqual([1, 1]);
    }
    expect(pipeline.sim.tenant.revocations).toHaveLength(300);

    const store = new RequestStore(TableClient.fromConnectionString(azurite.connectionString, TABLES.requests, { allowInsecureConnection: true }), testIntegrity());
    const requestId = done.items[7]!.requestId!;
    const request = await store.get(requestId);
    expect(request).toMatchObject({ source: 'bulk', bulkJobId: id, status: 'completed', targetUpn: upnOf(7), ticketId: 'CHG0042001', dryRun: false });
    const single = expectAnswer(await getJson(pipeline.api, `resets/${requestId}`), resetAnswerSchema.extend({ audit: z.object({ verified: z.boolean() }) }), 'a reset status');
    expect(single.audit.verified).toBe(true);

    // The same job sent again (the same webhook-id, re-signed) is the same job: nothing is redone.
    const again = await postJson(pipeline.api, 'bulk', body, { webhookId: 'msg_bulk_real_run' });
    expect(again.status).toBe(200);
    expect(submittedJob(again).id).toBe(id);

    const csv = await getText(pipeline.api, `bulk/${id}`, { format: 'csv' });
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe('row,userPrincipalName,status,requestId,errorCode,message,finishedAt');
    expect(lines).toHaveLength(301);
    expect(lines[1]).toMatch(/^1,bulk0000@contoso\.com,completed,[0-9a-f-]{36},,,\d{4}-/);
    expect(pipeline.sim.tenant.removals).toHaveLength(600);
  }, 300_000);
});
