import { beatServices } from './beats/beat-services';
import { beatWork } from './beats/beat-work';
import type { BeatName } from './beats/beat-message';
import { TICK_SECONDS } from './bulk/dispatcher';
import { appHostQueueSettings } from './host-json';
import type { LogFields, Logger } from './log';
import { requestStores } from './request-stores';
import { SETTLE_SECONDS } from './schedules/releaser';
import type { Services } from './services';
import { QUEUES, TABLES } from './storage/names';
import { drainQueue } from './storage/poison-drain';
import { drainTicketUpdatesPoison } from './tickets/ticket-poison';
import { ticketDependencies } from './tickets/ticket-services';
import { sweepTicketOutbox } from './tickets/ticket-sweeper';
import { drainPoisonQueue } from './worker/poison-drain';
import { sweepStuckRequests } from './worker/sweeper';
import { workerDependencies } from './worker/worker-services';

/** How often the safety nets run (functions/safety-net.ts): the only timer the app has. */
export const SAFETY_NET_SCHEDULE = '0 */5 * * * *';

/** One safety net: does its rounds and says what it did (undefined: nothing to report). */
export interface SafetyNet {
  name: string;
  run(): Promise<LogFields | undefined>;
}

/**
 * Runs every net side by side; one that fails is logged and runs again at the next round, and never
 * keeps the others from theirs. Returns what became of each.
 */
export async function runSafetyNets(nets: readonly SafetyNet[], log: Logger): Promise<Record<string, 'ok' | 'failed'>> {
  const settled = await Promise.allSettled(nets.map((net) => net.run()));
  const outcome: Record<string, 'ok' | 'failed'> = {};
  settled.forEach((result, index) => {
    const name = nets[index]!.name;
    if (result.status === 'fulfilled') {
      outcome[name] = 'ok';
      if (result.value) log.info(`safety net: ${name}`, result.value);
    } else {
      outcome[name] = 'failed';
      log.warn(`safety net ${name} failed; it runs again in 5 minutes`, { cause: result.reason instanceof Error ? result.reason.message : String(result.reason) });
    }
  });
  return outcome;
}

/**
 * The slow safety nets, every 5 minutes, for what a lost message would otherwise leave undone: the
 * beats' work when no beat of theirs is running (a bulk job or a schedule whose kick was lost, a job
 * stored before beats existed), requests whose queue message went missing or whose worker died, ticket
 * outboxes that were never woken, and the three poison queues. Each is idempotent and cheap when idle.
 */
export function safetyNets(services: Services, log: Logger): SafetyNet[] {
  const { maxDequeueCount } = appHostQueueSettings();
  const beats = beatServices(services, log);
  const work = beatWork(services, log);
  /** A beat's work, unless its chain is running now (it would do the same at its next beat). */
  const beatNet = (name: BeatName, runningWithinMs: number): SafetyNet => ({
    name: `${name} beat`,
    async run() {
      if (await beats.running(name, runningWithinMs)) return undefined;
      const outcome = await beats.scheduleNext(name, undefined, await work[name]());
      return outcome === 'scheduled' ? { beat: name, restarted: true } : undefined;
    },
  });
  return [
    beatNet('bulk', 2 * TICK_SECONDS * 1000),
    beatNet('schedules', 2 * SETTLE_SECONDS * 1000),
    {
      name: 'reset sweeper',
      async run() {
        const report = await sweepStuckRequests(workerDependencies(services, log));
        return report.redriven.length > 0 || report.waiting.length > 0 ? { redriven: report.redriven.length, waitingInBacklog: report.waiting.length } : undefined;
      },
    },
    {
      name: 'ticket sweeper',
      async run() {
        const deps = ticketDependencies(services, log);
        const woken = await sweepTicketOutbox({ table: services.storage.table(TABLES.requests), store: requestStores(services).store, queue: deps.queue, log });
        return woken.length > 0 ? { woken: woken.length } : undefined;
      },
    },
    {
      name: 'mfa-resets-poison',
      async run() {
        const report = await drainPoisonQueue(services.storage.queue(QUEUES.resetsPoison), workerDependencies(services, log), { maxDequeueCount });
        return Object.keys(report.handled).length > 0 || report.retried > 0 ? { ...report.handled, retried: report.retried } : undefined;
      },
    },
    {
      name: 'ticket-updates-poison',
      async run() {
        const report = await drainTicketUpdatesPoison(services.storage.queue(QUEUES.ticketUpdatesPoison), ticketDependencies(services, log), { maxDequeueCount });
        return Object.keys(report.handled).length > 0 || report.retried > 0 ? { ...report.handled, retried: report.retried } : undefined;
      },
    },
    {
      // A beat is no record: one the queue extension gave up on (an unreadable body) is only dropped.
      name: 'app-beats-poison',
      async run() {
        const report = await drainQueue(services.storage.queue(QUEUES.beatsPoison), async () => 'dropped' as const, log, { maxDequeueCount });
        return report.handled.dropped ? { dropped: report.handled.dropped } : undefined;
      },
    },
  ];
}
