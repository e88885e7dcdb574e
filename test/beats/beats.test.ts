import { TableClient } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import { beforeEach, describe, expect, it } from 'vitest';
import { BeatQueue } from '../../shared/beats/beat-queue';
import { BeatStore } from '../../shared/beats/beat-store';
import { Beats, MAX_BEAT_DELAY_MS, STALE_BEAT_MS } from '../../shared/beats/beats';
import { runBeat } from '../../shared/beats/run-beat';
import { silentLogger, structuredLogger } from '../../shared/log';
import { decodeBody } from '../../shared/storage/poison-drain';
import { useAzurite } from '../support/azurite';

/**
 * The rules that keep each beat one chain of delayed messages (shared/beats/beats.ts), on Azurite with
 * a test clock: a beat carries its chain on, a kick joins a chain already ahead, duplicate chains merge,
 * a beat that dies between sending and recording still carries on, and no work means no beat.
 */
const azurite = useAzurite();
let clock = new Date('2026-12-07T10:00:00.000Z');
let run = 0;
let queue: QueueClient;
let store: BeatStore;
let beats: Beats;

beforeEach(async () => {
  run += 1;
  clock = new Date('2026-12-07T10:00:00.000Z');
  queue = new QueueClient(azurite.connectionString, `beats-test-${run}`);
  await queue.createIfNotExists();
  store = new BeatStore(TableClient.fromConnectionString(azurite.connectionString, `BeatsTest${run}`, { allowInsecureConnection: true }));
  beats = new Beats(new BeatQueue(queue), store, silentLogger, () => clock);
});

const at = (seconds: number) => new Date(clock.getTime() + seconds * 1000);
/** Every message on the queue, visible or not yet (a delayed beat is invisible until its slot). */
const messages = async () => (await queue.getProperties()).approximateMessagesCount ?? 0;
const nextAt = async () => (await store.get('bulk'))?.nextAt;

describe('one chain per beat', () => {
  it('no work, no beat: nothing is sent and nothing recorded', async () => {
    expect(await beats.scheduleNext('bulk', undefined, undefined)).toBe('none');
    expect(await messages()).toBe(0);
    expect(await nextAt()).toBeUndefined();
  });

  it('a kick with work to do starts the chain; the chain\'s own beat carries it on; a kick while it runs joins it', async () => {
    expect(await beats.scheduleNext('bulk', undefined, at(5))).toBe('scheduled');
    expect(await nextAt()).toBe(at(5).toISOString());
    expect(await messages()).toBe(1);
    // A kick (new job) 2 s later, needing a tick in 5 s: the chain's beat, 3 s ahead, does.
    clock = at(2);
    expect(await beats.scheduleNext('bulk', undefined, at(5))).toBe('covered');
    expect(await messages()).toBe(1);
    // The chain's beat arrives at its slot: it is the chain's own, and carries it on.
    clock = new Date('2026-12-07T10:00:05.000Z');
    expect(await beats.scheduleNext('bulk', clock, at(5))).toBe('scheduled');
    expect(await nextAt()).toBe(at(5).toISOString());
    expect(await messages()).toBe(2);
  });

  it('the delayed message carries its slot and becomes visible at it', async () => {
    const real = new Beats(new BeatQueue(queue), store, silentLogger);
    const due = new Date(Date.now() + 2000);
    await real.scheduleNext('schedules', undefined, due);
    expect((await queue.peekMessages()).peekedMessageItems).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 3500));
    const [message] = (await queue.receiveMessages()).receivedMessageItems;
    expect(decodeBody(message!.messageText)).toEqual({ beat: 'schedules', slot: (await store.get('schedules'))!.nextAt });
  });

  it('two chains merge at their next beat: the earlier finds a later one scheduled and stops, the later carries on', async () => {
    const start = clock.getTime();
    const t = (seconds: number) => new Date(start + seconds * 1000);
    // Chain A's beat is due at +5 s; chain B (started at the same moment elsewhere) records its beat at +6 s last.
    await beats.scheduleNext('bulk', undefined, t(5));
    await store.put('bulk', t(6), (await store.get('bulk'))!.etag);
    clock = t(5);
    expect(await beats.scheduleNext('bulk', t(5), t(10))).toBe('covered');
    clock = t(6);
    expect(await beats.scheduleNext('bulk', t(6), t(11))).toBe('scheduled');
    expect(await nextAt()).toBe(t(11).toISOString());
  });

  it('a beat that died after sending its next message and before recording it: that message carries the chain on', async () => {
    await store.put('bulk', clock, undefined); // the row still names the old slot
    clock = at(5);
    const orphan = clock; // the message sent before the crash, slot later than the row's
    expect(await beats.scheduleNext('bulk', orphan, at(5))).toBe('scheduled');
  });

  it('a beat due already may be finishing without work: new work does not count on it', async () => {
    await store.put('bulk', clock, undefined);
    clock = at(3); // that beat's slot passed 3 s ago; it may have found no job and stopped
    expect(await beats.scheduleNext('bulk', undefined, at(5))).toBe('scheduled');
  });

  it('a beat scheduled further ahead (a job starting in 5 minutes) does not keep new work waiting: an earlier one is scheduled', async () => {
    await beats.scheduleNext('bulk', undefined, at(300));
    expect(await beats.scheduleNext('bulk', undefined, at(5))).toBe('scheduled');
    expect(await nextAt()).toBe(at(5).toISOString());
  });

  it('sends no beat for work due beyond a few minutes (the safety net sends it when the time comes within them), and none sooner than a second', async () => {
    // A schedule's slot tonight: no message waits for it in a queue the platform watches.
    expect(await beats.scheduleNext('schedules', undefined, at(3600))).toBe('later');
    expect(await beats.scheduleNext('schedules', undefined, new Date(clock.getTime() + MAX_BEAT_DELAY_MS + 1000))).toBe('later');
    expect(await messages()).toBe(0);
    // Within them: sent, for its exact time.
    expect(await beats.scheduleNext('schedules', undefined, new Date(clock.getTime() + MAX_BEAT_DELAY_MS))).toBe('scheduled');
    expect(Date.parse((await store.get('schedules'))!.nextAt)).toBe(clock.getTime() + MAX_BEAT_DELAY_MS);
    // Work overdue waits a second at least.
    await beats.scheduleNext('bulk', undefined, at(-60));
    expect(await nextAt()).toBe(at(1).toISOString());
    expect(await messages()).toBe(2);
  });

  it('tells the safety net whether a chain is running: a beat due soon or just now, not one far ahead or long past', async () => {
    expect(await beats.running('bulk', 10_000)).toBe(false);
    await beats.scheduleNext('bulk', undefined, at(5));
    expect(await beats.running('bulk', 10_000)).toBe(true);
    clock = at(5 + STALE_BEAT_MS / 1000 - 1);
    expect(await beats.running('bulk', 10_000)).toBe(true);
    clock = at(10);
    expect(await beats.running('bulk', 10_000)).toBe(false);
    await beats.scheduleNext('bulk', undefined, at(300));
    expect(await beats.running('bulk', 10_000)).toBe(false);
  });

  it('a kick that cannot be sent is logged, never thrown: the safety net starts the work', async () => {
    const lines: string[] = [];
    const log = structuredLogger({ log: () => undefined, warn: (line: string) => void lines.push(line), error: () => undefined });
    const broken = new Beats(new BeatQueue(new QueueClient('http://127.0.0.1:1/devstoreaccount1/nowhere')), store, log, () => clock);
    await expect(broken.kick('bulk')).resolves.toBeUndefined();
    expect(lines.join('\n')).toMatch(/beat not sent; the safety net starts the work within 5 minutes/);
  });
});

describe('runBeat', () => {
  const work = (due: Date | undefined, fail = false) => ({ bulk: async () => (fail ? Promise.reject(new Error('storage down')) : due), schedules: async () => undefined });

  it('drops a message that is not a beat, without doing any work', async () => {
    let worked = 0;
    const counting = { bulk: async () => ((worked += 1), undefined), schedules: async () => ((worked += 1), undefined) };
    for (const body of ['text', { beat: 'other' }, { beat: 'bulk', slot: 'soon' }, { beat: 'bulk', extra: 1 }, null]) {
      expect(await runBeat(body, { dequeueCount: 1, maxDequeueCount: 5 }, { beats, work: counting, log: silentLogger })).toBe('malformed');
    }
    expect(worked).toBe(0);
  });

  it('does the work and schedules the next beat when work remains, none when it is done', async () => {
    expect(await runBeat({ beat: 'bulk' }, { dequeueCount: 1, maxDequeueCount: 5 }, { beats, work: work(at(5)), log: silentLogger })).toBe('scheduled');
    clock = at(5);
    expect(await runBeat({ beat: 'bulk', slot: clock.toISOString() }, { dequeueCount: 1, maxDequeueCount: 5 }, { beats, work: work(undefined), log: silentLogger })).toBe('none');
  });

  it('a failure before the last try throws (the queue shows the beat again); on the last try it is logged and dropped, not poisoned', async () => {
    await expect(runBeat({ beat: 'bulk' }, { dequeueCount: 1, maxDequeueCount: 5 }, { beats, work: work(at(5), true), log: silentLogger })).rejects.toThrow(/storage down/);
    expect(await runBeat({ beat: 'bulk' }, { dequeueCount: 5, maxDequeueCount: 5 }, { beats, work: work(at(5), true), log: silentLogger })).toBe('failed');
  });
});
