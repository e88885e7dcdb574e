import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { getJson, signedCall } from '../../dev/cli/client';
import { standardWebhookHeaders } from '../../shared/intake/standard-webhooks';
import { scheduleStore } from '../../shared/schedules/schedule-services';
import { getServices } from '../../shared/services';
import { useAzurite } from '../support/azurite';
import { eventually } from '../support/eventually';
import { bulkTenant, GROUP_ID, jobOf, removalsByUser, SECRET, startPipeline, upnOf, type Pipeline } from '../bulk/support';

// Integration tests on a shared two-core machine: waits are generous, the assertions are not.
vi.setConfig({ testTimeout: 150_000 });

/**
 * An attacker who captured signed schedule and bulk calls (a proxy log, shell history) sends them again
 * within their five minutes, as they are or to another route. Each signed call acts once: a replay is
 * answered with the first outcome and changes nothing, and a signature spent on one call is refused on
 * any other.
 */
const azurite = useAzurite();
let pipeline: Pipeline;
beforeAll(async () => {
  pipeline = await startPipeline(azurite.connectionString, { tenant: bulkTenant(4, { groupFrom: 0, groupSize: 2 }) });
});
afterAll(async () => pipeline?.stop());

/** A signed call captured as it went over the wire: its exact headers and bytes, to be sent again. */
interface Captured {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

function capture(method: string, path: string, body?: Record<string, unknown>): Captured {
  const raw = body === undefined ? '' : JSON.stringify(body);
  return { method, path, body: raw, headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...standardWebhookHeaders(SECRET, raw) } };
}

async function send(call: Captured, override: Partial<Pick<Captured, 'method' | 'path'>> = {}) {
  const method = override.method ?? call.method;
  const response = await fetch(`${pipeline.api.url}/api/${override.path ?? call.path}`, {
    method,
    headers: call.headers,
    ...(method === 'GET' || method === 'HEAD' ? {} : { body: call.body }),
  });
  return { status: response.status, replay: response.headers.get('x-idempotent-replay'), body: (await response.json()) as Record<string, unknown> };
}

const definition = { name: 'Incident 42 users', schedule: '0 0 3 1 1 *', source: { groupId: GROUP_ID }, requestedBy: 'soc@contoso.com', approvedBy: 'lead@contoso.com' };
const writes = () => pipeline.sim.requestLog.filter((entry) => entry.write).length;
const runsOf = async (id: string) => scheduleStore(getServices()).listRuns(id);

async function jobEnded(jobId: string) {
  return eventually(async () => {
    const job = jobOf(await getJson(pipeline.api, `bulk/${jobId}`));
    return job.status === 'completed' || job.status === 'failed' ? job : undefined;
  }, 60_000, 250);
}

describe('a captured POST /api/schedules/{id}/run sent again', () => {
  it('is answered with the first run and resets nobody again; sent to DELETE, it deletes nothing', async () => {
    const id = z.object({ id: z.string() }).parse((await signedCall(pipeline.api, 'POST', 'schedules', definition)).body).id;
    const run = capture('POST', `schedules/${id}/run`, {});
    const first = await send(run);
    expect(first.status).toBe(202);
    const bulkJobId = z.string().parse(first.body.bulkJobId);
    await jobEnded(bulkJobId);
    const resets = removalsByUser(pipeline.sim);
    expect([...resets.get(upnOf(0))!.values()]).toEqual([1, 1]);
    const writesAfterFirst = writes();

    const replayed = await send(run);
    expect(replayed).toMatchObject({ status: 200, replay: 'true', body: { runId: first.body.runId, bulkJobId } });
    // The same bytes to another route: the signature covers neither method nor path, the webhook-id does.
    const asDelete = await send(run, { method: 'DELETE', path: `schedules/${id}` });
    expect(asDelete.status).toBe(422);
    expect(asDelete.body).toMatchObject({ error: { code: 'idempotency_conflict' } });
    expect(String((asDelete.body.error as { message: string }).message)).toContain(`POST /api/schedules/${id}/run`);

    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(writes()).toBe(writesAfterFirst);
    expect(await runsOf(id)).toHaveLength(1);
    expect((await signedCall(pipeline.api, 'GET', `schedules/${id}`)).status).toBe(200);
  });

  it('a captured signed read cannot be spent as a run or a delete', async () => {
    const id = z.object({ id: z.string() }).parse((await signedCall(pipeline.api, 'POST', 'schedules', { ...definition, dryRun: true })).body).id;
    const read = capture('GET', `schedules/${id}`);
    expect((await send(read)).status).toBe(200);
    expect((await send(read)).status).toBe(200); // a read again is only a read
    const asRun = await send(read, { method: 'POST', path: `schedules/${id}/run` });
    expect(asRun.status).toBe(422);
    const asDelete = await send(read, { method: 'DELETE', path: `schedules/${id}` });
    expect(asDelete.status).toBe(422);
    expect(await runsOf(id)).toHaveLength(0);
    expect((await signedCall(pipeline.api, 'GET', `schedules/${id}`)).status).toBe(200);
  });
});

describe('a captured PATCH sent again after a later change', () => {
  it('an old {enabled: true} replayed after a disable leaves the schedule disabled', async () => {
    const id = z.object({ id: z.string() }).parse((await signedCall(pipeline.api, 'POST', 'schedules', { ...definition, enabled: false })).body).id;
    const enable = capture('PATCH', `schedules/${id}`, { enabled: true });
    expect(await send(enable)).toMatchObject({ status: 200, body: { enabled: true } });
    expect((await signedCall(pipeline.api, 'PATCH', `schedules/${id}`, { enabled: false })).status).toBe(200);
    const before = await scheduleStore(getServices()).get(id);

    const replayed = await send(enable);
    expect(replayed).toMatchObject({ status: 200, replay: 'true' });
    const after = await scheduleStore(getServices()).get(id);
    expect(after).toMatchObject({ enabled: false, etag: before!.etag, updatedAt: before!.updatedAt });
    // And to another schedule: refused, that one unchanged too.
    const other = z.object({ id: z.string() }).parse((await signedCall(pipeline.api, 'POST', 'schedules', { ...definition, enabled: false })).body).id;
    expect((await send(enable, { path: `schedules/${other}` })).status).toBe(422);
    expect((await scheduleStore(getServices()).get(other))!.enabled).toBe(false);
  });

  it('a replayed DELETE answers the first deletion; a replayed create names the same schedule and makes no second', async () => {
    const create = capture('POST', 'schedules', { ...definition, dryRun: true, name: 'Replayed create' });
    const made = await send(create);
    expect(made.status).toBe(201);
    const again = await send(create);
    expect(again).toMatchObject({ status: 200, replay: 'true', body: { id: made.body.id } });
    const listed = (await scheduleStore(getServices()).list()).filter((schedule) => schedule.name === 'Replayed create');
    expect(listed).toHaveLength(1);

    const remove = capture('DELETE', `schedules/${String(made.body.id)}`);
    expect((await send(remove)).status).toBe(200);
    expect(await send(remove)).toMatchObject({ status: 200, replay: 'true', body: { id: made.body.id, deleted: true } });
  });
});

describe('a captured POST /api/bulk sent again', () => {
  it('answers the first job and stores nothing new; the same webhook-id with another body is refused', async () => {
    const submit = capture('POST', 'bulk', { ticket: 'CHG-REPLAY-1', requestedBy: 'soc@contoso.com', approvedBy: 'lead@contoso.com', users: [upnOf(2), upnOf(3)], dryRun: true });
    const first = await send(submit);
    expect(first.status).toBe(202);
    const replayed = await send(submit);
    expect(replayed).toMatchObject({ status: 200, replay: 'true', body: { id: first.body.id } });
    const swapped = { ...submit, body: submit.body.replace(upnOf(2), upnOf(1)) };
    const conflict = await send(swapped);
    expect(conflict.status).toBe(401); // the signature no longer matches the bytes
    const asSchedule = await send(submit, { path: 'schedules' });
    expect(asSchedule).toMatchObject({ status: 422, body: { error: { code: 'idempotency_conflict' } } });
  });
});
