import type { QueueClient } from '@azure/storage-queue';
import { drainQueue, type DrainOptions, type DrainReport } from '../storage/poison-drain';
import { markPoisoned, type PoisonOutcome } from './poisoned';
import type { WorkerDependencies } from './worker-dependencies';

export { decodeBody } from '../storage/poison-drain';

export type PoisonDrainOptions = DrainOptions;
export type PoisonDrainReport = DrainReport<PoisonOutcome>;

/**
 * Empties queue mfa-resets-poison on a timer (shared/storage/poison-drain.ts says why not a trigger):
 * each message, whatever its body, goes to markPoisoned, which parks what is not {requestId}.
 */
export async function drainPoisonQueue(
  poison: QueueClient,
  deps: Pick<WorkerDependencies, 'store' | 'audit' | 'log' | 'tickets'>,
  options: PoisonDrainOptions,
): Promise<PoisonDrainReport> {
  return drainQueue(poison, (body, delivery) => markPoisoned(body, deps, delivery), deps.log, options);
}
