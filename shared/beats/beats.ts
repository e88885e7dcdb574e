import type { Logger } from '../log';
import type { BeatKicker, BeatName } from './beat-message';
import type { BeatQueue } from './beat-queue';
import type { BeatStore } from './beat-store';

/**
 * A beat whose slot passed at most this long ago may still be running (picked up late, or doing its
 * work): the safety net leaves its chain alone. Older, and nothing scheduled since, it ended or was lost.
 */
export const STALE_BEAT_MS = 60_000;
/** A beat already scheduled at most this much later than the one wanted does instead. */
const SLACK_MS = 2_000;
/**
 * The longest delay a beat is sent with. Work due later (a schedule's slot tonight, a job's notBefore
 * tomorrow) gets no message now: the 5-minute safety net does the work each round, and the round that
 * finds it due within this sends the beat for its exact time. A message delayed for hours would sit
 * in a queue the platform's scale controller watches, and the queue's length counts messages not yet
 * visible, so it could hold an instance of the beats function for nothing.
 */
export const MAX_BEAT_DELAY_MS = 6 * 60_000;
/** The shortest delay: work due now waits a second (it is done at once by whoever found it due). */
const MIN_BEAT_DELAY_MS = 1_000;

/** none: no work left; later: due beyond MAX_BEAT_DELAY_MS, left to the safety net; covered: a beat is already due by then. */
export type ScheduleOutcome = 'none' | 'later' | 'covered' | 'scheduled';

/**
 * Beats: chains of delayed queue messages that give the bulk dispatcher and the schedule releaser a
 * fast beat while they have work, and no beat at all when they have none, so that an idle app is not
 * woken every few seconds (Flex Consumption bills each invocation at least a second of its instance).
 *
 * A beat does its work, then asks `scheduleNext` for the next one when it says work remains. The row
 * of table AppBeats holds the slot of the beat scheduled last; a beat that finds a later one still
 * ahead (another chain's, or a kick's) stops, so duplicate chains merge at their next beat. The
 * message is sent before the row is written: a beat that dies between the two leaves a message whose
 * slot is later than the row's, which carries the chain on. Losing every message of a chain costs at
 * most the 5-minute safety net (functions/safety-net.ts), which does the work and starts a new chain.
 * Beats are only ever sent for the next few minutes (MAX_BEAT_DELAY_MS); the safety net covers the rest.
 */
export class Beats implements BeatKicker {
  constructor(
    private readonly queue: BeatQueue,
    private readonly store: BeatStore,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async kick(name: BeatName): Promise<void> {
    try {
      await this.queue.send({ beat: name }, 0);
    } catch (error) {
      this.log.warn('beat not sent; the safety net starts the work within 5 minutes', { beat: name, cause: error instanceof Error ? error.message : String(error) });
    }
  }

  /**
   * After a beat's work: schedules the next beat at `dueAt` unless one is already scheduled by then.
   * `slot` is this beat's own slot (undefined for a kick or the safety net). Without `dueAt` (no work
   * left) nothing is scheduled: the chain stops; with one beyond MAX_BEAT_DELAY_MS, nothing either:
   * the safety net's round before it schedules it.
   */
  async scheduleNext(name: BeatName, slot: Date | undefined, dueAt: Date | undefined): Promise<ScheduleOutcome> {
    if (!dueAt) return 'none';
    const now = this.now().getTime();
    if (dueAt.getTime() > now + MAX_BEAT_DELAY_MS) return 'later';
    const due = new Date(Math.max(dueAt.getTime(), now + MIN_BEAT_DELAY_MS));
    const row = await this.store.get(name);
    if (row) {
      const pending = Date.parse(row.nextAt);
      // Only a beat still ahead is sure to run: one due already may be finishing without work (it saw
      // none when it looked), so new work schedules its own beat then, and the two merge at the next.
      const someoneElses = slot === undefined || pending > slot.getTime();
      const ahead = pending >= now && pending <= now + MAX_BEAT_DELAY_MS + STALE_BEAT_MS;
      if (someoneElses && ahead && pending <= due.getTime() + SLACK_MS) return 'covered';
    }
    await this.queue.send({ beat: name, slot: due.toISOString() }, due.getTime() - now);
    await this.store.put(name, due, row?.etag);
    return 'scheduled';
  }

  /** Whether a beat of `name` is scheduled within `withinMs` from now (or only just passed): its chain is running. */
  async running(name: BeatName, withinMs: number): Promise<boolean> {
    const row = await this.store.get(name);
    if (!row) return false;
    const pending = Date.parse(row.nextAt);
    const now = this.now().getTime();
    return this.alive(pending, now) && pending <= now + withinMs;
  }

  /** A slot not long past, and not further ahead than a beat is ever sent (a row set beyond that is not a beat's). */
  private alive(pending: number, now: number): boolean {
    return Number.isFinite(pending) && pending >= now - STALE_BEAT_MS && pending <= now + MAX_BEAT_DELAY_MS + STALE_BEAT_MS;
  }
}
