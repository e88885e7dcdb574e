import { TableClient } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNcrontab } from '../../dev/local-host/timer-scheduler';
import { DEMO_REREGISTRATION_GROUP_ID } from '../../dev/graph-sim/demo-tenant';
import { functionDefinitions } from '../../functions/all';
import { BeatStore } from '../../shared/beats/beat-store';
import { silentLogger } from '../../shared/log';
import { safetyNets } from '../../shared/safety-nets';
import { scheduleStore } from '../../shared/schedules/schedule-services';
import { getServices } from '../../shared/services';
import { QUEUES, TABLES } from '../../shared/storage/names';
import { eventually } from '../support/eventually';
import { signedHeaders } from '../support/signing';
import { startSystem, type RunningSystem } from '../support/system';

/**
 * An idle deployment costs next to nothing on Flex Consumption only if nothing wakes it: every timer of
 * functions/all.ts fires at most every 5 minutes in Azure (each invocation is billed at least a second
 * of its instance's memory), and the faster beats some work needs come from delayed messages that
 * exist only while that work does (shared/beats).
 */
const FIVE_MINUTES_MS = 5 * 60_000;

describe('the timers of functions/all.ts, at the schedules Azure runs them on', () => {
  const timers = functionDefinitions.flatMap((d) => (d.trigger === 'timer' ? [d] : []));

  it('fire at most every 5 minutes (NCRONTAB read as the Functions host reads it; ten days from each of several dates)', () => {
    expect(timers.length).toBeGreaterThan(0);
    for (const timer of timers) {
      const schedule = String(timer.options.schedule);
      expect(schedule, `${timer.name}: a literal schedule, not an app setting a deployment could shorten`).not.toMatch(/%/);
      for (const from of ['2026-01-01T00:00:00Z', '2026-02-27T23:00:00Z', '2026-03-29T00:30:00Z', '2026-12-30T12:00:00Z']) {
        const runs = parseNcrontab(schedule).nextRuns(3000, new Date(from));
        expect(runs.length).toBe(3000);
        let shortest = Number.POSITIVE_INFINITY;
        for (let i = 1; i < runs.length; i += 1) shortest = Math.min(shortest, runs[i]!.getTime() - runs[i - 1]!.getTime());
        expect(shortest, `${timer.name} (${schedule}) from ${from}`).toBeGreaterThanOrEqual(FIVE_MINUTES_MS);
      }
    }
  });

  it('none runs on start-up (on Flex Consumption that is every cold start)', () => {
    for (const timer of timers) expect(timer.options.runOnStartup ?? false, timer.name).toBe(false);
  });

  it('one timer in all: Flex Consumption scales each non-HTTP function on instances of its own', () => {
    expect(timers.map((timer) => timer.name)).toEqual(['safetyNet']);
  });
});

describe('an idle app', () => {
  let system: RunningSystem;
  beforeAll(async () => {
    system = await startSystem({ timers: true });
  });
  afterAll(async () => system?.stop());

  const invocations = (since: number, name?: string) => system.log.invocations.filter((i) => i.at >= since && (name === undefined || i.name === name));

  it('with nothing to do is invoked by nothing but its 5-minute timer', async () => {
    const from = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 8000));
    const seen = invocations(from);
    expect(seen.filter((i) => i.name !== 'safetyNet')).toEqual([]);
    // A 5-minute mark may fall inside the 8 s.
    expect(seen.length).toBeLessThanOrEqual(1);
  });

  it('a schedule whose next slot is half an hour away wakes the releaser once now, leaves no message waiting, and gets its beat from the safety net\'s round before the slot', async () => {
    // Hourly at the minute half an hour from now: the next slot is never within the few minutes a beat
    // may wait for (at the top of the hour, '0 0 * * * *' could be).
    const minute = (new Date().getUTCMinutes() + 30) % 60;
    const body = JSON.stringify({
      name: 'Hourly, idle test',
      schedule: `0 ${minute} * * * *`,
      source: { groupId: DEMO_REREGISTRATION_GROUP_ID },
      requestedBy: 'soc@contoso.com',
      approvedBy: 'lead@contoso.com',
      dryRun: true,
    });
    const from = Date.now();
    const response = await fetch(`${system.host.url}/api/schedules`, { method: 'POST', headers: { 'content-type': 'application/json', ...signedHeaders('generic', body) }, body });
    expect(response.status).toBe(201);
    const { id } = (await response.json()) as { id: string };

    // The kick runs the releaser once; its slot is more than a few minutes away, so nothing waits in the
    // queue the platform watches (a delayed message counts in its length and could hold an instance).
    const beatsQueue = new QueueClient(system.azurite.connectionString, QUEUES.beats);
    await eventually(async () => (invocations(from, 'beats').length === 1 ? true : undefined), 10_000, 100);
    await new Promise((resolve) => setTimeout(resolve, 6000));
    expect(invocations(from, 'beats')).toHaveLength(1);
    expect((await beatsQueue.getProperties()).approximateMessagesCount).toBe(0);

    // 90 s before its slot, the safety net's round leaves a beat delayed to the slot exactly.
    const schedules = scheduleStore(getServices());
    const slot = new Date(Math.ceil((Date.now() + 90_000) / 1000) * 1000);
    await schedules.update({ ...(await schedules.get(id))!, nextRunAt: slot.toISOString() }, new Date());
    await safetyNets(getServices(), silentLogger).find((net) => net.name === 'schedules beat')!.run();
    expect((await beatsQueue.getProperties()).approximateMessagesCount).toBe(1);
    const beats = new BeatStore(TableClient.fromConnectionString(system.azurite.connectionString, TABLES.beats, { allowInsecureConnection: true }));
    expect((await beats.get('schedules'))?.nextAt).toBe(slot.toISOString());
  });
});
