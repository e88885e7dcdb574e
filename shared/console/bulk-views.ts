import type { BulkStore } from '../bulk/bulk-store';
import { jsonAnswer, type HttpAnswer } from '../http/answer';

const DAY_MS = 24 * 3600_000;

/** `GET /api/console/bulk`: jobs of the last 30 days, newest first, with their progress. */
export async function listBulkJobs(store: BulkStore, now = new Date()): Promise<HttpAnswer> {
  const jobs = await store.recentJobs(new Date(now.getTime() - 30 * DAY_MS), 100);
  return jsonAnswer(
    200,
    {
      items: jobs.map((job) => {
        const finished = job.counts.completed + job.counts.partial + job.counts.failed + job.counts.rejected + job.counts.planned;
        return {
          id: job.id,
          status: job.status,
          ticket: { system: job.ticketSystem, id: job.ticketId },
          requestedBy: job.requestedBy,
          kind: job.kind,
          dryRun: job.dryRun,
          rows: job.rows,
          valid: job.valid,
          finished,
          percent: job.valid === 0 ? 100 : Math.floor((finished / job.valid) * 100),
          counts: job.counts,
          createdAt: job.createdAt,
          ...(job.completedAt ? { completedAt: job.completedAt } : {}),
        };
      }),
    },
    { 'cache-control': 'no-store' },
  );
}
