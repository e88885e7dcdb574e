import { FINAL_STATUSES, type StoredRequest } from '../requests/request-row';
import { RequestConflictError } from '../requests/request-store';
import type { QueueBacklog } from '../requests/reset-queue';
import { logFieldsOf } from './request-view';
import type { WorkerDependencies } from './worker-dependencies';

export interface SweepOptions {
  /** An accepted request untouched for this long, with no message waiting for it, lost its message. */
  acceptedGraceMs?: number;
  now?: Date;
  /**
   * How long the sweeper waits before re-driving what looked lost, to read those rows again: a message a
   * worker has just taken off the queue is invisible to the peek while its claim is still on the way, and
   * a row whose claim lands meanwhile is not lost. Default 5 s.
   */
  settleMs?: number;
}

export interface SweepReport {
  redriven: string[];
  /** Stuck-looking requests left alone because the queue holds a backlog their message may be in. */
  waiting: string[];
}

/**
 * Clocks differ between the app and the storage service (which stamps insertion times): a message
 * sent up to this long after its row's last write still counts as possibly that row's message.
 */
const CLOCK_SLACK_MS = 60_000;

/**
 * Re-drives requests that would otherwise never end: `accepted` ones whose queue message was never
 * sent or got lost, and `running` ones whose worker died (its lease ran out).
 *
 * A backlog is not a loss: the queue cannot be searched for one message, so its front is peeked. If
 * a message sent no later than the row's last write (or its lease's end) is still waiting there, or
 * the front is full (a backlog deeper than a peek shows), the row's own message may be queued behind
 * it: the row is left alone and looked at again on a later sweep, once the backlog has moved on. Only
 * a row with no message that could be its own is re-driven, and only that one is called lost.
 * Before re-driving, the sweeper waits a few seconds and reads those rows again: one whose message a
 * worker had just taken (invisible to the peek, its claim not yet written) has changed by then and is
 * left alone. The row is touched before the message is sent, so the next sweep does not send it again.
 */
export async function sweepStuckRequests(deps: Pick<WorkerDependencies, 'store' | 'queue' | 'log'>, options: SweepOptions = {}): Promise<SweepReport> {
  const now = options.now ?? new Date();
  const graceMs = options.acceptedGraceMs ?? 2 * 60 * 1000;
  const accepted = await deps.store.listByStatus('accepted', { updatedBefore: new Date(now.getTime() - graceMs) });
  const running = await deps.store.listByStatus('running', { updatedBefore: now });
  // A request waiting for verification holds its lease until the verification expires: past that, its
  // own expiry message was lost, and the worker must end it.
  const verifying = await deps.store.listByStatus('awaiting_verification', { updatedBefore: now });
  const stuck = [...accepted, ...running, ...verifying].filter((row) => !row.leaseUntil || Date.parse(row.leaseUntil) <= now.getTime());
  const report: SweepReport = { redriven: [], waiting: [] };
  if (stuck.length === 0) return report;

  const backlog = await deps.queue.waiting();
  const candidates: StoredRequest[] = [];
  for (const row of stuck) {
    if (FINAL_STATUSES.includes(row.status)) continue;
    if (mayBeQueued(row, backlog)) report.waiting.push(row.id);
    else candidates.push(row);
  }
  if (candidates.length > 0) await new Promise((resolve) => setTimeout(resolve, options.settleMs ?? 5000));
  for (const listed of candidates) {
    // Read again after the pause: a worker that had just taken its message has claimed it by now.
    const row = await deps.store.get(listed.id);
    if (!row || row.etag !== listed.etag) continue;
    if (!row.trusted) {
      // Not written back (that would make its values look authentic): the worker refuses it on this message.
      await deps.queue.send(row.id);
      report.redriven.push(row.id);
      deps.log.error('stuck request fails its MAC check; sent to the worker, which refuses it', logFieldsOf(row));
      continue;
    }
    const reason =
      row.status === 'awaiting_verification'
        ? row.statusReason ?? 'waiting for verification'
        : row.status === 'running'
        ? 'worker lease ran out with no message waiting for it; re-driven'
        : 're-driven: no queue message for it was waiting (the message was lost or never sent)';
    try {
      const { etag, ...current } = row;
      await deps.store.update({ ...current, statusReason: reason }, etag);
    } catch (error) {
      if (error instanceof RequestConflictError) continue; // a worker got to it meanwhile
      throw error;
    }
    await deps.queue.send(row.id);
    report.redriven.push(row.id);
    deps.log.warn('stuck request re-driven', { ...logFieldsOf(row), reason });
  }
  if (report.waiting.length > 0) {
    deps.log.info('requests waiting behind a queue backlog; not re-driven', {
      waiting: report.waiting.length,
      oldestWaitingMessage: backlog.oldestSentAt?.toISOString(),
      frontFull: backlog.full,
    });
  }
  return report;
}

/** Whether the row's message may still be waiting in the queue behind the visible front. */
function mayBeQueued(row: StoredRequest, backlog: QueueBacklog): boolean {
  if (backlog.full) return true;
  if (!backlog.oldestSentAt) return false;
  // The row's message was sent right after its last write, or becomes visible when its lease ends.
  const since = Math.max(Date.parse(row.updatedAt), row.leaseUntil ? Date.parse(row.leaseUntil) : 0);
  return backlog.oldestSentAt.getTime() <= since + CLOCK_SLACK_MS;
}
