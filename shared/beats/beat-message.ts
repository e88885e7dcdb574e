import { z } from 'zod';

/**
 * The kinds of work that need a faster beat than the 5-minute safety net while they exist: the bulk
 * dispatcher (a tick every few seconds while a job has users to release or to wait for) and the
 * schedule releaser (a schedule's next slot, and the end of a run's bulk job).
 */
export const BEAT_NAMES = ['bulk', 'schedules'] as const;
export type BeatName = (typeof BEAT_NAMES)[number];

/**
 * What travels on queue app-beats. `slot` is when the message was scheduled to become visible: a beat
 * that finds no later beat scheduled is the chain's own and carries it on. A kick (new work) has none.
 */
export const beatMessageSchema = z
  .object({
    beat: z.enum(BEAT_NAMES),
    slot: z.string().datetime().optional(),
  })
  .strict();
export type BeatMessage = z.infer<typeof beatMessageSchema>;

/** What intake and the schedule routes need: wake a beat now, since they just stored work for it. */
export interface BeatKicker {
  /** Never throws: a kick that cannot be sent is logged, and the safety net starts the work within 5 minutes. */
  kick(name: BeatName): Promise<void>;
}
