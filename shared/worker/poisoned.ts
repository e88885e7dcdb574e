import { FINAL_STATUSES } from '../requests/request-row';
import { RequestProgress } from './request-progress';
import { resetMessageSchema } from './reset-message';
import { logFieldsOf } from './request-view';
import type { WorkerDependencies } from './worker-dependencies';

/**
 * A message that failed every try lands on mfa-resets-poison: its request ends `failed`, with the
 * last recorded cause, and the audit says so. Nothing is retried from here.
 */
export async function markPoisoned(message: unknown, deps: Pick<WorkerDependencies, 'store' | 'audit' | 'log' | 'tickets'>): Promise<'marked' | 'already-finished' | 'unknown'> {
  const parsed = resetMessageSchema.safeParse(message);
  if (!parsed.success) {
    deps.log.error('poison message is not {requestId}; nothing to mark');
    return 'unknown';
  }
  const row = await deps.store.get(parsed.data.requestId);
  if (!row) {
    deps.log.error('poison message names no stored request', { requestId: parsed.data.requestId });
    return 'unknown';
  }
  if (FINAL_STATUSES.includes(row.status)) return 'already-finished';
  const reason = `the reset could not be processed and its message was moved to the poison queue${row.statusReason ? `; last: ${row.statusReason}` : ''}`;
  const progress = new RequestProgress(row, deps);
  await progress.audit({ action: 'poisoned', outcome: 'failed', detail: reason });
  const final = { status: 'failed' as const, statusReason: reason, leaseUntil: undefined, completedAt: new Date().toISOString() };
  await progress.save({ ...final, ...deps.tickets?.fieldsOnFinish({ ...progress.current, ...final }) });
  await deps.tickets?.notify(progress.current);
  deps.log.error('reset failed: message poisoned', { ...logFieldsOf(row), reason });
  return 'marked';
}
