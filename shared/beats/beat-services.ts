import type { Logger } from '../log';
import type { Services } from '../services';
import { QUEUES, TABLES } from '../storage/names';
import { BeatQueue } from './beat-queue';
import { BeatStore } from './beat-store';
import { Beats } from './beats';

const built = new WeakMap<Services, { queue: BeatQueue; store: BeatStore }>();

/** The beats of this app: queue app-beats and table AppBeats (made once per Services, so each is created once). */
export function beatServices(services: Services, log: Logger): Beats {
  let made = built.get(services);
  if (!made) {
    made = { queue: new BeatQueue(services.storage.queue(QUEUES.beats)), store: new BeatStore(services.storage.table(TABLES.beats)) };
    built.set(services, made);
  }
  return new Beats(made.queue, made.store, log);
}
