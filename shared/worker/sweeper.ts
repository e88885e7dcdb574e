import { FINAL_STATUSES } from '../requests/request-row';
import { RequestConflictError } from '../requests/request-store';
import { logFieldsOf } from './request-view';
import type { WorkerDependencies } from './worker-dependencies';

export interface SweepOptions {
  /** An accepted request untouched for this long lost its message (the send failed, or the message expired). */
  acceptedGraceMs?: number;
  now?: Date;
}

export interface SweepReport {
  redriven: string[];
}

/**
 * Re-drives requests that would otherwise never end: `accepted` ones whose queue message was never
 * sent or got lost, and `running` ones whose worker died (its lease ran out). The row is touched
 * before the message is sent, so the next sweep does not send it again while the first is queued.
 */
export async function sweepStuckRequests(deps: Pick<WorkerDependencies, 'store' | 'queue' | 'log'>, options: SweepOptions = {}): Promise<SweepReport> {
  const now = options.now ?? new Date();
  const graceMs = options.acceptedGraceMs ?? 2 * 60 * 1000;
  const accepted = await deps.store.listByStatus('accepted', { updatedBefore: new Date(now.getTime() - graceMs) });
  const running = await deps.store.listByStatus('running', { updatedBefore: now });
  const stuck = [...accepted, ...running].filter((row) => !row.leaseUntil || Date.parse(row.leaseUntil) <= now.getTime());

  const redriven: string[] = [];
  for (const row of stuck) {
    if (FINAL_STATUSES.includes(row.status)) continue;
    try {
      const { etag, ...current } = row;
      await deps.store.update({ ...current, statusReason: row.status === 'running' ? 'worker lease ran out; re-driven' : 're-driven: its queue message was lost' }, etag);
    } catch (error) {
      if (error instanceof RequestConflictError) continue; // a worker got to it meanwhile
      throw error;
    }
    await deps.queue.send(row.id);
    redriven.push(row.id);
    deps.log.warn('stuck request re-driven', logFieldsOf(row));
  }
  return { redriven };
}
