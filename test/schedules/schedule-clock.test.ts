import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGraphSimulator, type RunningGraphSimulator } from '../../dev/graph-sim';
import { BulkStore } from '../../shared/bulk/bulk-store';
import { structuredLogger } from '../../shared/log';
import { appGraph } from '../../shared/pacing/app-graph';
import { requestStores } from '../../shared/request-stores';
import { nextRunTime } from '../../shared/schedules/cron';
import { releaseDueRuns } from '../../shared/schedules/releaser';
import { handleScheduleCall } from '../../shared/schedules/schedule-api';
import type { ScheduleDependencies } from '../../shared/schedules/schedule-runs';
import { ScheduleStore } from '../../shared/schedules/schedule-store';
import { getServices } from '../../shared/services';
import { useAzurite } from '../support/azurite';
import { signedHeaders } from '../support/signing';
import { applyEnv, bulkTenant, GROUP_ID } from '../bulk/support';
import { secretSettings } from '../support/signing';

/**
 * The timer's rules with a test clock: no dispatcher runs here (the tables are this test's own), so a
 * run's bulk job ends only when the test says so.
 */
const azurite = useAzurite();
let sim: RunningGraphSimulator;
let deps: ScheduleDependencies;
let clock = new Date('2025-03-01T00:30:00Z');
const quiet = structuredLogger({ log: () => undefined, warn: () => undefined, error: () => undefined });

beforeAll(async () => {
  sim = await startGraphSimulator({ tenant: bulkTenant(4, { groupFrom: 0, groupSize: 2 }) });
  applyEnv({ AzureWebJobsStorage: azurite.connectionString, GRAPH_BASE_URL: sim.url, GRAPH_AUTH: 'none', ...secretSettings(), TENANT_DOMAINS: 'contoso.com' });
  const services = getServices();
  const table = (name: string) => TableClient.fromConnectionString(azurite.connectionString, name, { allowInsecureConnection: true });
  deps = {
    settings: services.settings,
    schedules: new ScheduleStore(table('ClockSchedules'), table('ClockRuns'), table('ClockTargets'), table('ClockMarks')),
    bulk: new BulkStore(table('ClockBulkJobs'), table('ClockBulkItems')),
    integrity: requestStores(services).integrity,
    index: requestStores(services).index,
    graph: appGraph(services),
    log: quiet,
    now: () => clock,
  };
});
afterAll(async () => sim?.stop());

async function createHourly(extra: Record<string, unknown> = {}): Promise<string> {
  const raw = JSON.stringify({ name: 'Hourly', schedule: '0 0 * * * *', source: { groupId: GROUP_ID }, requestedBy: 'soc@contoso.com', approvedBy: 'lead@contoso.com', ...extra });
  // Signed and created now (the signature's freshness is checked against the real time), then its
  // next slot is put on the test clock (nextRunAt is bookkeeping, outside the schedule's MAC).
  const headers = new Headers(signedHeaders('generic', raw));
  const answer = await handleScheduleCall({ method: 'POST', body: Buffer.from(raw), headers }, { ...deps, now: undefined });
  expect(answer.status).toBe(201);
  const id = (answer.jsonBody as { id: string }).id;
  const stored = (await deps.schedules.get(id))!;
  await deps.schedules.update({ ...stored, nextRunAt: nextRunTime(stored.schedule, stored.timeZone, clock)!.toISOString() }, clock);
  return id;
}

async function endJob(bulkJobId: string) {
  const job = (await deps.bulk.getJob(bulkJobId))!;
  await deps.bulk.updateJob({ ...job, status: 'completed', completedAt: clock.toISOString() });
}

describe('the schedule timer, with a test clock', () => {
  it('a run still going when the next slot is due is skipped and the skip recorded; the slot after runs', async () => {
    const id = await createHourly();
    expect((await deps.schedules.get(id))!.nextRunAt).toBe('2025-03-01T01:00:00.000Z');

    clock = new Date('2025-03-01T00:59:50Z');
    expect((await releaseDueRuns(deps)).started).toEqual([]);

    clock = new Date('2025-03-01T01:00:05Z');
    const first = await releaseDueRuns(deps);
    expect(first.started).toHaveLength(1);
    const [run] = await deps.schedules.listRuns(id);
    expect(run).toMatchObject({ status: 'running', trigger: 'timer', slot: '2025-03-01T01:00:00.000Z', planned: 2 });

    clock = new Date('2025-03-01T02:00:05Z');
    const second = await releaseDueRuns(deps);
    expect(second.started).toEqual([]);
    expect(second.skipped).toHaveLength(1);
    const skipped = (await deps.schedules.getRun(id, second.skipped[0]!))!;
    expect(skipped).toMatchObject({ status: 'skipped', slot: '2025-03-01T02:00:00.000Z' });
    expect(skipped.reason).toContain(`run ${run!.id} is still going`);
    expect((await deps.schedules.get(id))!.nextRunAt).toBe('2025-03-01T03:00:00.000Z');

    await endJob(run!.bulkJobId!);
    clock = new Date('2025-03-01T03:00:05Z');
    const third = await releaseDueRuns(deps);
    expect(third.settled).toBe(1);
    expect(third.started).toHaveLength(1);
    expect((await deps.schedules.getRun(id, run!.id))!.status).toBe('completed');
    // Only one bulk job runs at a time for the schedule.
    const runs = await deps.schedules.listRuns(id);
    expect(runs.filter((candidate) => candidate.status === 'running')).toHaveLength(1);
    for (const candidate of runs) if (candidate.bulkJobId && candidate.status === 'running') await endJob(candidate.bulkJobId);
    clock = new Date('2025-03-01T03:10:00Z');
    await releaseDueRuns(deps);
  });

  it('slots missed while the app was down are run once at start, not once per slot', async () => {
    clock = new Date('2025-03-02T00:30:00Z');
    const id = await createHourly();
    // Down from 00:30 to 05:30: five slots (01:00 … 05:00) passed.
    clock = new Date('2025-03-02T05:30:00Z');
    await releaseDueRuns(deps);
    const runs = await deps.schedules.listRuns(id);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ trigger: 'catch-up', slot: '2025-03-02T01:00:00.000Z', status: 'running' });
    expect((await deps.schedules.get(id))!.nextRunAt).toBe('2025-03-02T06:00:00.000Z');
    clock = new Date('2025-03-02T05:31:00Z');
    await releaseDueRuns(deps);
    expect(await deps.schedules.listRuns(id)).toHaveLength(1);
  });

  it('a schedule row written straight into storage (its MAC does not verify) never runs', async () => {
    clock = new Date('2025-03-03T00:30:00Z');
    const id = await createHourly();
    const stored = (await deps.schedules.get(id))!;
    await deps.schedules.update({ ...stored, maxUsersPerRun: 10_000, groupId: '4f2a1c7b-2e3d-4f60-9b0c-1d2e3f4a5b6c' }, clock);
    clock = new Date('2025-03-03T01:00:05Z');
    const report = await releaseDueRuns(deps);
    expect(report.started).toEqual([]);
    const [run] = await deps.schedules.listRuns(id);
    expect(run).toMatchObject({ status: 'failed' });
    expect(run!.reason).toContain('unauthenticated_row');
    expect(run!.bulkJobId).toBeUndefined();
  });

  it('methods added to a stored schedule, or the ones it names removed, break its MAC: the run is refused', async () => {
    clock = new Date('2025-03-04T00:30:00Z');
    const plain = await createHourly();
    const named = await createHourly({ methods: ['phone'] });
    const storedPlain = (await deps.schedules.get(plain))!;
    await deps.schedules.update({ ...storedPlain, methods: ['phone', 'microsoftAuthenticator', 'fido2'] }, clock);
    const storedNamed = (await deps.schedules.get(named))!;
    const { methods: _dropped, ...widened } = storedNamed;
    await deps.schedules.update(widened, clock);
    clock = new Date('2025-03-04T01:00:05Z');
    expect((await releaseDueRuns(deps)).started).toEqual([]);
    for (const id of [plain, named]) {
      const [run] = await deps.schedules.listRuns(id);
      expect(run).toMatchObject({ status: 'failed' });
      expect(run!.reason).toContain('unauthenticated_row');
    }
  });
});

describe('the timer across daylight-saving changes, in the schedule\'s time zone', () => {
  /** Ticks every 30 minutes from `from` to `to`, ending each run's job as it starts; the slots that ran. */
  async function night(id: string, from: string, to: string): Promise<string[]> {
    // Only this schedule runs: the earlier tests' hourly schedules are paused (enabled is outside the MAC).
    for (const other of await deps.schedules.list()) if (other.id !== id && other.enabled) await deps.schedules.update({ ...other, enabled: false }, clock);
    for (let at = Date.parse(from); at <= Date.parse(to); at += 30 * 60_000) {
      clock = new Date(at);
      await releaseDueRuns(deps);
      for (const run of await deps.schedules.listRuns(id)) if (run.status === 'running' && run.bulkJobId) await endJob(run.bulkJobId);
    }
    return (await deps.schedules.listRuns(id)).filter((run) => run.status !== 'skipped').map((run) => run.slot).sort();
  }

  async function createAt(schedule: string, timeZone: string, at: string): Promise<string> {
    clock = new Date(at);
    const raw = JSON.stringify({ name: 'Nightly', schedule, timeZone, source: { groupId: GROUP_ID }, requestedBy: 'soc@contoso.com', approvedBy: 'lead@contoso.com' });
    const answer = await handleScheduleCall({ method: 'POST', body: Buffer.from(raw), headers: new Headers(signedHeaders('generic', raw)) }, { ...deps, now: undefined });
    const id = (answer.jsonBody as { id: string }).id;
    const stored = (await deps.schedules.get(id))!;
    await deps.schedules.update({ ...stored, nextRunAt: nextRunTime(schedule, timeZone, clock)!.toISOString() }, clock);
    return id;
  }

  it('02:30 Amsterdam runs once on the night 02:30 does not exist (at 03:30 CEST) and once on the night it happens twice', { timeout: 120_000 }, async () => {
    const spring = await createAt('0 30 2 * * *', 'Europe/Amsterdam', '2025-03-29T12:00:00Z');
    // 29 March 02:30 CET (01:30Z) already passed; the nights of 30 and 31 March.
    expect(await night(spring, '2025-03-29T23:05:00Z', '2025-03-31T02:05:00Z')).toEqual(['2025-03-30T01:30:00.000Z', '2025-03-31T00:30:00.000Z']);
    const autumn = await createAt('0 30 2 * * *', 'Europe/Amsterdam', '2025-10-25T12:00:00Z');
    // 26 October: 02:30 CEST (00:30Z) and 02:30 CET (01:30Z) are both 02:30 local; the schedule runs once.
    expect(await night(autumn, '2025-10-25T22:05:00Z', '2025-10-27T02:05:00Z')).toEqual(['2025-10-26T01:30:00.000Z', '2025-10-27T01:30:00.000Z']);
  });
});
