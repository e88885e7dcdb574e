import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { functionDefinitions } from '../../functions/all';
import { silentLogger } from '../../shared/log';
import { runSafetyNets, SAFETY_NET_SCHEDULE, safetyNets } from '../../shared/safety-nets';
import { getServices } from '../../shared/services';
import { bulkAcceptedAnswerSchema, jobAnswerSchema } from '../cli/answers';
import { expectAnswer, getJson, postJson, type ApiTarget } from '../cli/client';
import { parseNcrontab } from '../local-host/timer-scheduler';
import type { RunningHostProcess } from './host-process';
import { countStorageRequests } from './storage-requests';
import { benchUpn } from './tenant';

/**
 * What an idle deployment costs: invocations in an hour with nothing to do, and the compute of an idle
 * day at Flex Consumption's on-demand price. Timers are counted from their schedules in
 * functions/all.ts (as Azure fires them: an hour cannot be waited for here); every other invocation is
 * measured, on the app in its own process, over an idle window after a bulk job has ended (so the
 * beats that job started must have stopped). Each invocation is billed as Flex Consumption bills an
 * execution period on an instance: at least 1 s, in 100 ms steps after that, times the instance memory
 * (each non-HTTP function scales on instances of its own, so no two are taken to share a period).
 */

/**
 * Flex Consumption, On Demand, pay-as-you-go, East US: $0.000026 per GB-s of execution time and $0.40 per
 * million executions, with a monthly free grant per subscription of 100,000 GB-s and 250,000 executions
 * (azure.microsoft.com/pricing/details/functions, as restated 2025-05-22 at modal.com/blog/azure-function-pricing-guide;
 * the pricing page itself renders its prices in the browser). The 1,000 ms minimum billable period:
 * learn.microsoft.com/azure/azure-functions/flex-consumption-plan#billing (ms.date 05/12/2025). Read 2026-12-07.
 */
export const FLEX_ON_DEMAND = {
  usdPerGbSecond: 0.000026,
  usdPerMillionExecutions: 0.4,
  freeGbSecondsPerMonth: 100_000,
  freeExecutionsPerMonth: 250_000,
  minimumBilledMs: 1000,
  stepMs: 100,
  readOn: '2026-12-07',
} as const;

/** The timers the app had before its beats (2026-12-03), for the figure it is compared with. */
export const TIMERS_BEFORE_BEATS: Record<string, string> = {
  bulkDispatcher: '*/5 * * * * *',
  resetPoison: '*/10 * * * * *',
  ticketUpdatesPoison: '5-55/10 * * * * *',
  scheduleTimer: '15,45 * * * * *',
  resetSweeper: '15 * * * * *',
  ticketSweeper: '45 * * * * *',
};

/** How often a schedule fires in one hour, read as the Functions host reads NCRONTAB. */
export function firesPerHour(schedule: string, from = new Date('2026-01-05T00:00:00Z')): number {
  const cron = parseNcrontab(schedule);
  const end = from.getTime() + 3600_000;
  let count = 0;
  let at: Date | null = new Date(from.getTime() - 1);
  while ((at = cron.nextRun(at)) && at.getTime() < end) count += 1;
  return count;
}

/** The billed GB-s of one execution period of `ms` on an instance of `memoryMB`. */
export function billedGbSeconds(ms: number, memoryMB: number): number {
  const billedMs = Math.max(FLEX_ON_DEMAND.minimumBilledMs, Math.ceil(ms / FLEX_ON_DEMAND.stepMs) * FLEX_ON_DEMAND.stepMs);
  return (billedMs / 1000) * (memoryMB / 1024);
}

/** Compute and executions of a day at these invocations per hour, before the monthly free grant. */
export function dayCost(invocationsPerHour: number, msPerInvocation: number, memoryMB: number): { gbSeconds: number; usd: number } {
  const perDay = invocationsPerHour * 24;
  const gbSeconds = perDay * billedGbSeconds(msPerInvocation, memoryMB);
  return { gbSeconds, usd: gbSeconds * FLEX_ON_DEMAND.usdPerGbSecond + (perDay / 1e6) * FLEX_ON_DEMAND.usdPerMillionExecutions };
}

/** The instance memory infra deploys by default (infra/main.bicep, instanceMemoryMB). */
export function deployedInstanceMemoryMB(root: string): number {
  const match = /param instanceMemoryMB int = (\d+)/.exec(readFileSync(join(root, 'infra', 'main.bicep'), 'utf8'));
  if (!match) throw new Error('infra/main.bicep has no default instanceMemoryMB');
  return Number(match[1]);
}

export interface IdleStack {
  api: ApiTarget;
  host: RunningHostProcess;
  /** Azurite's ports, to count the safety nets' storage transactions in this process. */
  azurite: { ports: { table: number; queue: number } };
  stop(): Promise<void>;
}

export interface IdleOptions {
  root: string;
  start: () => Promise<IdleStack>;
  /** How long the app is watched doing nothing. */
  windowSeconds: number;
  say: (text: string) => void;
}

/** The idle phase: the figures (last line of the bench) and the rows of its table. */
export async function idleHour(options: IdleOptions): Promise<{ figures: Record<string, number>; rows: [string, string, string, string][] }> {
  const memoryMB = deployedInstanceMemoryMB(options.root);
  const timers = functionDefinitions.flatMap((d) => (d.trigger === 'timer' ? [d] : []));
  const queueFunctions = functionDefinitions.flatMap((d) => (d.trigger === 'storageQueue' ? [d.name] : []));
  const timerFires = timers.reduce((sum, timer) => sum + firesPerHour(String(timer.options.schedule)), 0);
  const s = await options.start();
  try {
    // Some work first, so the beats it starts must stop again: a dry-run job of 5 users.
    options.say(`idle: a 5-user dry-run job, then ${options.windowSeconds} s with nothing to do`);
    const users = Array.from({ length: 5 }, (_, i) => benchUpn(i));
    const submitted = expectAnswer(await postJson(s.api, 'bulk', { ticket: { system: 'bench', id: 'IDLE' }, requestedBy: 'bench@contoso.com', users, dryRun: true }), bulkAcceptedAnswerSchema, 'the idle job');
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const job = expectAnswer(await getJson(s.api, `bulk/${submitted.id}`, { limit: '1' }), jobAnswerSchema, 'the idle job status');
      if (job.status === 'completed') break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    // The tick that saw the job end may have scheduled one more: let it pass.
    await new Promise((resolve) => setTimeout(resolve, 7000));
    const before = await s.host.invocations();
    await s.host.trips({ reset: true });
    await new Promise((resolve) => setTimeout(resolve, options.windowSeconds * 1000));
    const after = await s.host.invocations();
    // Storage transactions meanwhile (the queue triggers' polling, anything else that ran), by the app.
    const trips = await s.host.trips({ reset: true });
    const queueInvocations = queueFunctions.reduce((sum, name) => sum + (after[name] ?? 0) - (before[name] ?? 0), 0);
    const queuePerHour = (queueInvocations * 3600) / options.windowSeconds;

    // One round of the safety nets as the 5-minute timer runs it, timed: on an idle app, well under the
    // billed minimum of 1 s. (Run here, on the same storage: the app process runs it only every 5 minutes.)
    const started = performance.now();
    const safetyNetTrips = countStorageRequests(s.azurite.ports);
    await runSafetyNets(safetyNets(getServices(), silentLogger), silentLogger);
    const safetyNetMs = performance.now() - started;
    const safetyNetStorage = safetyNetTrips.counts();
    safetyNetTrips.stop();
    // Storage transactions of an idle hour: the window's, scaled to an hour, and a safety-net round at each
    // of its timer's fires (the window is shorter than its 5 minutes).
    const safetyNetFires = firesPerHour(SAFETY_NET_SCHEDULE);
    const storagePerHour = {
      table: (trips.table * 3600) / options.windowSeconds + safetyNetStorage.table * safetyNetFires,
      queue: (trips.queue * 3600) / options.windowSeconds + safetyNetStorage.queue * safetyNetFires,
    };

    const perHour = timerFires + queuePerHour;
    const now = dayCost(perHour, safetyNetMs, memoryMB);
    const beforeFires = Object.values(TIMERS_BEFORE_BEATS).reduce((sum, schedule) => sum + firesPerHour(schedule), 0);
    const previous = dayCost(beforeFires, safetyNetMs, memoryMB);
    const round = (value: number, digits: number) => Number(value.toFixed(digits));
    const figures = {
      idle_timer_fires_per_hour: timerFires,
      idle_queue_invocations_per_hour: round(queuePerHour, 1),
      idle_invocations_per_hour: round(perHour, 1),
      idle_safety_net_ms: round(safetyNetMs, 0),
      idle_day_gb_s: round(now.gbSeconds, 0),
      idle_day_usd: round(now.usd, 4),
      idle_invocations_per_hour_before_beats: beforeFires,
      idle_day_usd_before_beats: round(previous.usd, 2),
      instance_memory_mb: memoryMB,
      idle_hour_table_transactions: round(storagePerHour.table, 0),
      idle_hour_queue_transactions: round(storagePerHour.queue, 0),
    };
    const rows: [string, string, string, string][] = [
      [
        'idle hour',
        `${figures.idle_invocations_per_hour} invocations (${timerFires} timer, ${figures.idle_queue_invocations_per_hour} queue: measured over ${options.windowSeconds} s)`,
        `timers before beats: ${beforeFires}`,
        '(goal: no timer more often than every 5 minutes)',
      ],
      [
        'idle hour, storage',
        `${figures.idle_hour_table_transactions} table + ${figures.idle_hour_queue_transactions} queue transactions (the queue triggers' polling over ${options.windowSeconds} s, and ${safetyNetFires} safety-net rounds of ${safetyNetStorage.table} + ${safetyNetStorage.queue})`,
        '',
        '',
      ],
      [
        'idle day, Flex Consumption on demand',
        `$${figures.idle_day_usd} (${figures.idle_day_gb_s} GB-s: each invocation billed >= 1 s x ${memoryMB} MB; the safety nets take ${figures.idle_safety_net_ms} ms)`,
        `before beats: $${figures.idle_day_usd_before_beats}`,
        `$${FLEX_ON_DEMAND.usdPerGbSecond}/GB-s, $${FLEX_ON_DEMAND.usdPerMillionExecutions}/million, read ${FLEX_ON_DEMAND.readOn}, before the free grant`,
      ],
    ];
    return { figures, rows };
  } finally {
    await s.stop();
  }
}
