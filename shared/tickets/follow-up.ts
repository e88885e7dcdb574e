import { z } from 'zod';
import { classify } from '../graph/catalogue';
import { describeMethod } from '../graph/mask';
import { userPath } from '../graph/paths';
import { graphCall } from './mail';
import { kindName } from './note-text';
import type { OutboxRow } from './outbox-row';
import { markerOf, type EventRecord, type Watch } from './outbox-state';
import type { TicketDependencies } from './process-ticket-update';

const methodsSchema = z.object({
  value: z.array(
    z
      .object({
        '@odata.type': z.string(),
        id: z.string(),
        createdDateTime: z.string().nullable().optional(),
        isUsable: z.boolean().nullable().optional(),
        methodUsabilityReason: z.string().nullable().optional(),
      })
      .passthrough(),
  ),
});

/**
 * One look at the user's methods after a reset (one Graph read, through the app's paced client): a
 * method that was not there when the reset ended (the password and passes aside) means the user has
 * registered again; a one-time pass that Graph reports as used means it was used. Either opens the
 * follow-up note and ends the watch; the end of FOLLOW_UP_HOURS opens the closing note instead. A
 * newer request from the same ticket (superseded) ends the watch without a note.
 */
export async function watchStep(outbox: OutboxRow, deps: TicketDependencies, now: () => Date): Promise<boolean> {
  const claimMs = (deps.tuning?.claimSeconds ?? 60) * 1000;
  const watch = outbox.outbox.watch;
  if (!watch || watch.ended) return false;
  // Claim the step by moving nextAt: a duplicate message finds it not due.
  const claimed = await outbox.change((state) => {
    if (!state.watch || state.watch.ended || Date.parse(state.watch.nextAt) > now().getTime()) return false;
    state.watch = { ...state.watch, nextAt: new Date(now().getTime() + claimMs).toISOString() };
  }, now);
  if (!claimed) return false;
  const row = outbox.current;

  if (row.nextRequestId) {
    await end(outbox, 'superseded', `the ticket started a newer request (${row.nextRequestId}); that one is followed instead`, undefined, now);
    return true;
  }
  if (now().getTime() >= Date.parse(watch.until)) {
    const closing: EventRecord = { state: 'pending', channel: outbox.outbox.events.outcome?.channel ?? 'jira', attempts: 0, marker: markerOf(row.id, 'follow-up-closed'), facts: { hours: String(deps.settings.FOLLOW_UP_HOURS) } };
    await end(outbox, 'window-closed', `no new method within ${deps.settings.FOLLOW_UP_HOURS} hours`, { event: 'follow-up-closed', record: closing }, now);
    return true;
  }

  const answer = await graphCall(deps.graph, { method: 'GET', version: 'v1.0', path: `${userPath(watch.objectId)}/authentication/methods` });
  if (answer.kind === 'refused') {
    await end(outbox, 'unreadable', `the user's methods cannot be read (${answer.message}); the follow-up stopped`, undefined, now);
    return true;
  }
  const next = (seconds: number) => new Date(Math.min(Date.parse(watch.until), now().getTime() + seconds * 1000)).toISOString();
  if (answer.kind === 'retry') {
    await outbox.change((state) => {
      if (!state.watch) return false;
      state.watch = { ...state.watch, nextAt: next(Math.max(5, answer.retryAfterSeconds ?? 60)) };
    }, now);
    return true;
  }
  const listed = methodsSchema.safeParse(answer.body);
  if (!listed.success) {
    await outbox.change((state) => {
      if (!state.watch) return false;
      state.watch = { ...state.watch, nextAt: next(deps.settings.FOLLOW_UP_INTERVAL_SECONDS) };
    }, now);
    return true;
  }
  const found = newRegistration(listed.data.value as (z.infer<typeof methodsSchema>['value'][number] & Record<string, unknown>)[], watch);
  if (found) {
    const record: EventRecord = { state: 'pending', channel: outbox.outbox.events.outcome?.channel ?? 'jira', attempts: 0, marker: markerOf(row.id, 'follow-up'), facts: found };
    await end(outbox, found.newMethod ? 'new-method' : 'pass-used', found.newMethod ? `the user registered ${found.newMethod}` : 'the Temporary Access Pass was used', { event: 'follow-up', record }, now);
    return true;
  }
  await outbox.change((state) => {
    if (!state.watch) return false;
    state.watch = { ...state.watch, checks: state.watch.checks + 1, nextAt: next(deps.settings.FOLLOW_UP_INTERVAL_SECONDS) };
  }, now);
  return true;
}

type Listed = { '@odata.type': string; id: string; createdDateTime?: string | null; isUsable?: boolean | null; methodUsabilityReason?: string | null } & Record<string, unknown>;

/** The new method (kind, masked detail, time) and whether the pass was used, or undefined when neither. */
export function newRegistration(methods: readonly Listed[], watch: Pick<Watch, 'baseline' | 'passMethodId'>): Record<string, string> | undefined {
  const known = new Set(watch.baseline.map((id) => id.toLowerCase()));
  const facts: Record<string, string> = {};
  const added = methods.filter((method) => {
    if (known.has(method.id.toLowerCase())) return false;
    const classified = classify(method['@odata.type']);
    return classified.kind !== 'password' && classified.kind !== 'temporaryAccessPass';
  });
  if (added.length > 0) {
    facts.newMethod = added
      .map((method) => {
        const kind = classify(method['@odata.type']).kind;
        const detail = describeMethod(kind, method);
        const name = kindName(kind);
        return detail && detail !== kind && detail !== name ? `${name} (${detail})` : name;
      })
      .join(', ');
    const times = added.map((method) => method.createdDateTime).filter((time): time is string => typeof time === 'string');
    if (times.length > 0) facts.registeredAt = times.sort()[0]!;
  }
  if (watch.passMethodId) {
    const pass = methods.find((method) => method.id.toLowerCase() === watch.passMethodId);
    if (pass && pass.methodUsabilityReason === 'OneTimeUsed') facts.passUsed = 'yes';
  }
  return Object.keys(facts).length > 0 ? facts : undefined;
}

async function end(outbox: OutboxRow, ended: string, detail: string, open: { event: 'follow-up' | 'follow-up-closed'; record: EventRecord } | undefined, now: () => Date): Promise<void> {
  await outbox.audit({ action: 'follow-up', outcome: ended, detail });
  await outbox.change((state) => {
    if (!state.watch) return false;
    state.watch = { ...state.watch, ended };
    if (open && !state.events[open.event]) state.events[open.event] = open.record;
  }, now);
}
