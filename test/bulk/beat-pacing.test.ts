import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, postJson } from '../../dev/cli/client';
import { BulkStore } from '../../shared/bulk/bulk-store';
import { TABLES } from '../../shared/storage/names';
import { useAzurite } from '../support/azurite';
import { eventually } from '../support/eventually';
import { bulkTenant, jobOf, startPipeline, submittedJob, upnOf, type Pipeline } from './support';

/**
 * A 300-user job driven by beats (delayed messages on queue app-beats) instead of a 5-second timer:
 * the users are released at the job's pace, the Graph writes stay within the app's write budget with
 * the efficiency a timer gave, and once the job is done the beats stop, so the idle app is not woken.
 */
const USERS = 300;
const PACE_PER_MINUTE = 600; // 10 users a second
const WRITE_BUDGET = 30; // three writes per user: the pace uses the budget exactly
const azurite = useAzurite();
let pipeline: Pipeline;

beforeAll(async () => {
  pipeline = await startPipeline(azurite.connectionString, {
    tenant: bulkTenant(USERS),
    env: { BULK_RATE_PER_MINUTE: String(PACE_PER_MINUTE), GRAPH_WRITE_BUDGET_PER_SECOND: String(WRITE_BUDGET) },
  });
});
afterAll(async () => pipeline?.stop());

const beatsSince = (since: number) => pipeline.log.invocations.filter((invocation) => invocation.name === 'beats' && invocation.at > since).length;

describe(`a ${USERS}-user job paced by beats`, () => {
  it('releases at the job\'s pace, writes within the budget, and the beats stop when the job is done', async () => {
    const submitted = Date.now();
    const users = Array.from({ length: USERS }, (_, index) => upnOf(index));
    const answer = submittedJob(await postJson(pipeline.api, 'bulk', { ticket: 'CHG-PACE', requestedBy: 'soc@contoso.com', users, ratePerMinute: PACE_PER_MINUTE, confirmUsers: USERS }));
    const done = await eventually(async () => {
      const job = jobOf(await getJson(pipeline.api, `bulk/${answer.id}`, { limit: '1' }));
      return job.status === 'completed' ? job : undefined;
    }, 120_000, 250);
    const finished = Date.now();
    expect(done.counts.completed).toBe(USERS);

    // Pace: the users were released over the time the pace asks for, not faster. The first tick may
    // release up to two ticks' worth at once (the credit a tick carries), the rest at 10 a second.
    const store = new BulkStore(...[TABLES.bulkJobs, TABLES.bulkItems].map((name) => TableClient.fromConnectionString(azurite.connectionString, name, { allowInsecureConnection: true })) as [TableClient, TableClient]);
    const released = (await store.listItems(answer.id)).map((item) => Date.parse(item.releasedAt ?? '')).sort((a, b) => a - b);
    expect(released.every(Number.isFinite)).toBe(true);
    const releaseSeconds = (released.at(-1)! - released[0]!) / 1000;
    const burst = (PACE_PER_MINUTE / 60) * 5 * 2;
    expect(releaseSeconds).toBeGreaterThanOrEqual(((USERS - burst) / (PACE_PER_MINUTE / 60)) * 0.9);

    // Efficiency: successful Graph writes per second of the whole job (submission to the status saying
    // completed), against the budget: the bench's bulk_efficiency at this test's size. Never above the
    // budget. On this test's 2-core machine a 5-second timer reached 0.74-0.79 and beats 0.67-0.75 in
    // quiet runs (the job's end is seen at the first tick after its last user, with either); the bound
    // leaves room for a machine busy with other tests, and the full bench (2,000 users) is the measure.
    const writes = pipeline.sim.requestLog.filter((entry) => entry.write && entry.status > 0 && entry.status < 400).length;
    expect(writes).toBe(USERS * 3);
    const efficiency = writes / ((finished - submitted) / 1000) / WRITE_BUDGET;
    expect(efficiency).toBeLessThanOrEqual(1.1);
    expect(efficiency).toBeGreaterThanOrEqual(0.45);
    expect(pipeline.sim.requestLog.filter((entry) => entry.status === 429)).toHaveLength(0);

    // The beats stop with the work: at most the one tick already scheduled when the job ended runs
    // after it, and then nothing for as long as nothing new arrives.
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    expect(beatsSince(finished)).toBeLessThanOrEqual(1);
    const quietFrom = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    expect(beatsSince(quietFrom)).toBe(0);
  }, 240_000);
});
