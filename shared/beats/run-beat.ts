import type { Logger } from '../log';
import { beatMessageSchema, type BeatName } from './beat-message';
import type { Beats, ScheduleOutcome } from './beats';

/** One beat's work: done now, it says when the next beat is due (undefined: nothing left to do). */
export type BeatWork = Record<BeatName, () => Promise<Date | undefined>>;

export interface BeatDelivery {
  dequeueCount: number;
  maxDequeueCount: number;
}

/**
 * Handles one message of queue app-beats: does the beat's work, then schedules the next beat while
 * work remains (shared/beats/beats.ts). A failure before the last try throws, so the queue shows the
 * message again after host.json's visibilityTimeout; on the last try it is logged and dropped instead
 * of poisoned, and the 5-minute safety net carries the work on.
 */
export async function runBeat(message: unknown, delivery: BeatDelivery, deps: { beats: Beats; work: BeatWork; log: Logger }): Promise<ScheduleOutcome | 'malformed' | 'failed'> {
  const parsed = beatMessageSchema.safeParse(message);
  if (!parsed.success) {
    deps.log.warn('beat message is not {beat, slot?}; dropped', { dequeueCount: delivery.dequeueCount });
    return 'malformed';
  }
  const { beat, slot } = parsed.data;
  try {
    const dueAt = await deps.work[beat]();
    return await deps.beats.scheduleNext(beat, slot ? new Date(slot) : undefined, dueAt);
  } catch (error) {
    if (delivery.dequeueCount < delivery.maxDequeueCount) throw error;
    deps.log.error('beat failed on its last try; the safety net carries its work on within 5 minutes', {
      beat,
      cause: error instanceof Error ? error.message : String(error),
    });
    return 'failed';
  }
}
