import { FINAL_STATUSES, isRequestId } from '../requests/request-row';
import { RequestProgress } from './request-progress';
import { resetMessageSchema } from './reset-message';
import { actorOf, logFieldsOf, targetOf } from './request-view';
import type { WorkerDependencies } from './worker-dependencies';

export type PoisonOutcome = 'marked' | 'already-finished' | 'unknown' | 'parked' | 'left-for-sweeper' | 'held-elsewhere';

/** The request named has a live lease: a worker holds it, or it waits for its own resume time. */
class HeldElsewhere extends Error {
  constructor(readonly until: string) {
    super(`the request is held until ${until}`);
    this.name = 'HeldElsewhere';
  }
}

export interface PoisonDelivery {
  dequeueCount: number;
  maxDequeueCount: number;
}

const ID_IN_TEXT = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

/**
 * A message that failed every try lands on mfa-resets-poison: its request ends `failed`, with the
 * last recorded cause, and the audit says so, unless it is still held (a live lease): then it is tried
 * again later, and on the last try left to its holder and the sweeper. Nothing is retried from here.
 *
 * This handler takes any body and never leaves a message for `mfa-resets-poison-poison`, which nothing
 * reads: a body that is not `{requestId}` is parked (logged, and audited on the request it names if
 * an id can be found in it, without changing that request: whoever can write to the queue must not be
 * able to fail someone's reset). When storage fails, the queue retries; on the last try the request
 * is left as it is, for the sweeper, and the handler ends without throwing.
 */
export async function markPoisoned(
  message: unknown,
  deps: Pick<WorkerDependencies, 'store' | 'audit' | 'log' | 'tickets'>,
  delivery: PoisonDelivery = { dequeueCount: 1, maxDequeueCount: 1 },
): Promise<PoisonOutcome> {
  try {
    return await mark(message, deps);
  } catch (error) {
    const cause = error instanceof Error ? error.message : String(error);
    if (delivery.dequeueCount < delivery.maxDequeueCount) throw error;
    if (error instanceof HeldElsewhere) {
      deps.log.warn('poison message names a request that is still held; left to its holder and the sweeper', { until: error.until, dequeueCount: delivery.dequeueCount });
      return 'held-elsewhere';
    }
    deps.log.error('poison message could not be recorded; the request is left for the sweeper', { cause, dequeueCount: delivery.dequeueCount });
    return 'left-for-sweeper';
  }
}

async function mark(message: unknown, deps: Pick<WorkerDependencies, 'store' | 'audit' | 'log' | 'tickets'>): Promise<PoisonOutcome> {
  const parsed = resetMessageSchema.safeParse(message);
  if (!parsed.success) return park(message, deps);
  const row = await deps.store.get(parsed.data.requestId);
  if (!row) {
    deps.log.error('poison message names no stored request', { requestId: parsed.data.requestId });
    return 'unknown';
  }
  if (FINAL_STATUSES.includes(row.status)) return 'already-finished';
  // A live lease: a worker is on it (another delivery), or it waits for a Retry-After. Failing it now
  // would cut a running reset short and call it failed; tried again later, once the lease has passed.
  // (A message anyone wrote to this queue cannot stop a reset that is under way.)
  if (row.leaseUntil && Date.parse(row.leaseUntil) > Date.now()) throw new HeldElsewhere(row.leaseUntil);
  const reason = `the reset could not be processed and its message was moved to the poison queue${row.statusReason ? `; last: ${row.statusReason}` : ''}`;
  const progress = new RequestProgress(row, deps);
  // Ending the request takes its audit fence: a worker still sending for it (its lease ran out by this
  // clock, not yet by its own) has its next batch refused, and so sends nothing more.
  progress.holdFence({ holder: 'poison handler', etag: '*' });
  await progress.audit({ action: 'poisoned', outcome: 'failed', detail: reason });
  const final = { status: 'failed' as const, statusReason: reason, leaseUntil: undefined, completedAt: new Date().toISOString() };
  await progress.save({ ...final, ...deps.tickets?.fieldsOnFinish({ ...progress.current, ...final }) });
  await deps.tickets?.notify(progress.current);
  deps.log.error('reset failed: message poisoned', { ...logFieldsOf(row), reason });
  return 'marked';
}

/** An unreadable message: logged by shape only (its content is whatever someone wrote), audited where it names a request. */
async function park(message: unknown, deps: Pick<WorkerDependencies, 'store' | 'audit' | 'log'>): Promise<PoisonOutcome> {
  const text = typeof message === 'string' ? message : safeJson(message);
  const found = ID_IN_TEXT.exec(text)?.[0];
  const requestId = found && isRequestId(found) ? found : undefined;
  const row = requestId ? await deps.store.get(requestId) : undefined;
  deps.log.error('poison message is not {requestId}; parked', {
    type: typeof message === 'string' ? 'text' : typeof message,
    length: text.length,
    ...(row ? { requestId: row.id } : {}),
  });
  if (row) {
    await deps.audit.append(row.id, actorOf(row), targetOf(row), {
      action: 'poison-parked',
      outcome: 'ignored',
      detail: `an unreadable message naming this request reached the poison queue and was set aside (${text.length} characters); the request itself was not changed`,
    });
  }
  return 'parked';
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
