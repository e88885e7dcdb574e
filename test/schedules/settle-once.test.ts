import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGraphSimulator, type RunningGraphSimulator } from '../../dev/graph-sim';
import { BulkStore } from '../../shared/bulk/bulk-store';
import { structuredLogger } from '../../shared/log';
import { appGraph } from '../../shared/pacing/app-graph';
import { requestStores } from '../../shared/request-stores';
import { groupMembers } from '../../shared/schedules/graph-sources';
import { handleScheduleCall } from '../../shared/schedules/schedule-api';
import { SETTLE_CLAIM_MS, settleActiveRun, startRun, type ScheduleDependencies } from '../../shared/schedules/schedule-runs';
import { ScheduleStore } from '../../shared/schedules/schedule-store';
import { getServices } from '../../shared/services';
import { useAzurite } from '../support/azurite';
import { secretSettings, signedHeaders } from '../support/signing';
import { applyEnv, bulkTenant, GROUP_ID } from '../bulk/support';

/**
 * Releasers run side by side now that beats drive them (two beats of one chain's merge, a beat and
 * a manual run): a run whose bulk job ended is ended by one of them, so each user leaves the group
 * once and the run's counts say what happened. Five users in the group, the fifth through a nested
 * group (not a direct member: never removed, never a failure).
 */
const azurite = useAzurite();
let sim: RunningGraphSimulator;
let deps: ScheduleDependencies;
let clock = new Date('2025-05-01T00:30:00Z');
const quiet = structuredLogger({ log: () => undefined, warn: () => undefined, error: () => undefined });

beforeAll(async () => {
  sim = await startGraphSimulator({ tenant: bulkTenant(6, { groupFrom: 0, groupSize: 5 }) });
  applyEnv({ AzureWebJobsStorage: azurite.connectionString, GRAPH_BASE_URL: sim.url, GRAPH_AUTH: 'none', ...secretSettings(), TENANT_DOMAINS: 'contoso.com', REMEDIATION_GROUP_IDS: GROUP_ID });
  const services = getServices();
  const table = (name: string) => TableClient.fromConnectionString(azurite.connectionString, name, { allowInsecureConnection: true });
  deps = {
    settings: services.settings,
    schedules: new ScheduleStore(table('SettleSchedules'), table('SettleRuns'), table('SettleTargets'), table('SettleMarks')),
    bulk: new BulkStore(table('SettleBulkJobs'), table('SettleBulkItems')),
    integrity: requestStores(services).integrity,
    index: requestStores(services).index,
    graph: appGraph(services),
    log: quiet,
    now: () => clock,
  };
});
afterAll(async () => sim?.stop());

/** A group schedule that removes users after their reset, with a run started and its job ended `completed` for every user. */
async function endedRun(): Promise<{ id: string; runId: string; planned: number }> {
  const raw = JSON.stringify({ name: 'Re-registration', schedule: '0 0 * * * *', source: { groupId: GROUP_ID }, removeFromGroupAfterReset: true, requestedBy: 'soc@contoso.com', approvedBy: 'lead@contoso.com' });
  const answer = await handleScheduleCall({ method: 'POST', body: Buffer.from(raw), headers: new Headers(signedHeaders('generic', raw)) }, { ...deps, now: undefined });
  expect(answer.status).toBe(201);
  const id = (answer.jsonBody as { id: string }).id;
  const outcome = await startRun((await deps.schedules.get(id))!, 'manual', clock, deps);
  if (!outcome.started) throw new Error(outcome.message);
  const run = outcome.run;
  const job = (await deps.bulk.getJob(run.bulkJobId!))!;
  const items = await deps.bulk.listItems(job.id);
  await deps.bulk.putItems(items.map((item) => ({ ...item, status: 'completed', finishedAt: clock.toISOString() })));
  await deps.bulk.updateJob({ ...job, status: 'completed', counts: { ...job.counts, completed: items.length, pending: 0 }, completedAt: clock.toISOString() });
  return { id, runId: run.id, planned: run.planned };
}

describe('a run whose bulk job ended', () => {
  it('is ended once by releasers running side by side: each user leaves the group once, and the count says so', async () => {
    const { id, runId, planned } = await endedRun();
    expect(planned).toBe(5);
    const listed = (await deps.schedules.get(id))!;
    // Three releasers that read the schedule at the same moment (two beats and the safety net, say).
    const after = await Promise.all([0, 1, 2].map(() => settleActiveRun(listed, deps)));
    expect(after.filter((schedule) => schedule.activeRunId === undefined).length).toBeGreaterThanOrEqual(1);

    const ended = (await deps.schedules.getRun(id, runId))!;
    expect(ended).toMatchObject({ status: 'completed', removedFromGroup: 4, removalFailures: 0 });
    expect(ended.settlingUntil).toBeUndefined();
    expect((await groupMembers(deps.graph, GROUP_ID)).map((user) => user.userPrincipalName)).toEqual(['bulk0004@contoso.com']);
    // The releasers that lost the claim left the run alone; the next beat finds it ended.
    expect((await settleActiveRun((await deps.schedules.get(id))!, deps)).activeRunId).toBeUndefined();
  });

  it('claimed by a releaser that died is ended by the next one once the claim has run out', async () => {
    const { id, runId, planned } = await endedRun();
    expect(planned).toBe(1); // the nested member is still in the group
    const read = (await deps.schedules.getRunForUpdate(id, runId))!;
    const until = new Date(clock.getTime() + SETTLE_CLAIM_MS);
    expect(await deps.schedules.claimRun({ ...read.run, settlingUntil: until.toISOString() }, read.etag)).toBe(true);

    clock = new Date(clock.getTime() + 60_000);
    expect((await settleActiveRun((await deps.schedules.get(id))!, deps)).activeRunId).toBe(runId);
    expect((await deps.schedules.getRun(id, runId))!.status).toBe('running');

    clock = new Date(until.getTime() + 1_000);
    expect((await settleActiveRun((await deps.schedules.get(id))!, deps)).activeRunId).toBeUndefined();
    expect((await deps.schedules.getRun(id, runId))!).toMatchObject({ status: 'completed', removedFromGroup: 0, removalFailures: 0 });
  });

  it('claimed by a releaser whose storage failed before it ended the run is ended by the next tick, not after the claim runs out', async () => {
    const { id, runId } = await endedRun();
    // The first releaser claims, then cannot list the run's targets.
    const failing: ScheduleDependencies = {
      ...deps,
      schedules: Object.assign(Object.create(Object.getPrototypeOf(deps.schedules)) as ScheduleStore, deps.schedules, {
        listTargets: async () => {
          throw new Error('storage unavailable');
        },
      }),
    };
    await expect(settleActiveRun((await deps.schedules.get(id))!, failing)).rejects.toThrow(/storage unavailable/);
    const after = (await deps.schedules.getRun(id, runId))!;
    expect(after.status).toBe('running');
    expect(after.settlingUntil).toBeUndefined();

    // A minute later (the claim would hold for SETTLE_CLAIM_MS): the next releaser ends it.
    clock = new Date(clock.getTime() + 60_000);
    expect((await settleActiveRun((await deps.schedules.get(id))!, deps)).activeRunId).toBeUndefined();
    expect((await deps.schedules.getRun(id, runId))!).toMatchObject({ status: 'completed', removalFailures: 0 });
  });

  it('a releaser that fails while writing the outcome leaves its claim to run out rather than write the run back as running', async () => {
    const { id, runId } = await endedRun();
    const failing: ScheduleDependencies = {
      ...deps,
      schedules: Object.assign(Object.create(Object.getPrototypeOf(deps.schedules)) as ScheduleStore, deps.schedules, {
        // The outcome lands, but its answer is lost.
        putRun: async (run: Parameters<ScheduleStore['putRun']>[0]) => {
          await deps.schedules.putRun(run);
          throw new Error('no answer');
        },
      }),
    };
    await expect(settleActiveRun((await deps.schedules.get(id))!, failing)).rejects.toThrow(/no answer/);
    expect((await deps.schedules.getRun(id, runId))!.status).toBe('completed');
    expect((await settleActiveRun((await deps.schedules.get(id))!, deps)).activeRunId).toBeUndefined();
    expect((await deps.schedules.getRun(id, runId))!.status).toBe('completed');
  });

  it('a claim set further ahead than a releaser ever sets one (written into storage) holds nothing', async () => {
    const { id, runId } = await endedRun();
    const read = (await deps.schedules.getRunForUpdate(id, runId))!;
    await deps.schedules.claimRun({ ...read.run, settlingUntil: new Date(clock.getTime() + 24 * 3600_000).toISOString() }, read.etag);
    expect((await settleActiveRun((await deps.schedules.get(id))!, deps)).activeRunId).toBeUndefined();
    expect((await deps.schedules.getRun(id, runId))!).toMatchObject({ status: 'completed' });
  });
});
