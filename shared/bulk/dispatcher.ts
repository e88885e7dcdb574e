import { clipAtWord } from '../clip-text';
import type { Settings } from '../config';
import type { GraphTransport } from '../graph';
import type { Logger } from '../log';
import type { PacingStore } from '../pacing/pacing-store';
import { FINAL_STATUSES, type StoredRequest } from '../requests/request-row';
import type { RequestStore } from '../requests/request-store';
import type { ResetQueue } from '../requests/reset-queue';
import type { RequestIntegrity } from '../requests/request-integrity';
import { itemIsAuthentic, jobIsAuthentic, signItems } from './bulk-integrity';
import { requestRowFor } from './bulk-items';
import { countItems, type BulkItem, type StoredJob } from './bulk-rows';
import { JobConflictError, type BulkStore } from './bulk-store';
import { expandGroup } from './group-expansion';
import { MAX_BULK_USERS } from './bulk-request';

/**
 * How often the dispatcher runs while a job has users to release or to wait for: each tick asks for the
 * next one this much later, as a delayed message (shared/beats); with no job left, no tick follows.
 */
export const TICK_SECONDS = 5;
/** Users released but not finished, at most this many seconds of the job's pace. */
const WINDOW_SECONDS = 20;
const MIN_WINDOW = 10;
/** The release factor: halved on throttling, raised by this much per calm tick, never below the floor. */
const FACTOR_STEP = 0.1;
const FACTOR_FLOOR = 0.05;
const STORAGE_CONCURRENCY = 16;

/** Jobs this process has counted in full once (see advance). */
const counted = new Set<string>();

export interface DispatcherDependencies {
  settings: Pick<Settings, 'BULK_RATE_PER_MINUTE' | 'TENANT_DOMAINS' | 'BULK_CONFIRM_ABOVE'>;
  bulk: BulkStore;
  requests: RequestStore;
  queue: ResetQueue;
  graph: GraphTransport;
  pacing: PacingStore;
  /** Verifies jobs and items, MACs the requests made from them (INTAKE_MAC_KEY). */
  integrity: RequestIntegrity;
  log: Logger;
  now?: () => Date;
}

export interface DispatchReport {
  jobs: number;
  released: number;
  finished: number;
  completed: string[];
  factor: number;
  held: boolean;
  /**
   * When the next tick is needed: TICK_SECONDS from now while a job is running (or could not be
   * handled this time), a scheduled job's notBefore, or undefined when no job is left.
   */
  nextDueAt?: string;
}

/**
 * One tick of the bulk dispatcher. For every active job: expand a group once, wait for notBefore, note
 * which released users finished, and release more at the job's pace into queue mfa-resets, never more
 * than a window of unfinished users. All jobs share one pace (BULK_RATE_PER_MINUTE), scaled by a
 * factor kept in GraphPacing that halves when anyone saw Graph throttle and recovers slowly (AIMD);
 * while Graph's Retry-After runs, nothing is released. All state is in the tables, so a restart
 * resumes here; releasing is idempotent (request ids are derived from job and user).
 */
export async function dispatchBulkJobs(deps: DispatcherDependencies): Promise<DispatchReport> {
  const now = (deps.now ?? (() => new Date()))();
  const jobs = await deps.bulk.activeJobs();
  const report: DispatchReport = { jobs: jobs.length, released: 0, finished: 0, completed: [], factor: 1, held: false };
  if (jobs.length === 0) return report;

  const { factor, holdUntil } = await adjustPace(deps, now.getTime());
  report.factor = factor;
  report.held = holdUntil > now.getTime();

  const due = jobs.filter((job) => job.status !== 'expanding' && (!job.notBefore || Date.parse(job.notBefore) <= now.getTime()));
  const requested = due.reduce((sum, job) => sum + job.ratePerMinute, 0);
  const scale = requested > 0 ? Math.min(1, deps.settings.BULK_RATE_PER_MINUTE / requested) * factor : factor;

  // When each job that stays active needs the next tick.
  const nextTicks: number[] = [];
  const soon = now.getTime() + TICK_SECONDS * 1000;
  for (const job of jobs) {
    try {
      if (!jobIsAuthentic(job, deps.integrity)) {
        // A job row the intake did not write (straight into storage, or changed since): nothing is released.
        await deps.bulk.updateJob({
          ...job,
          status: 'failed',
          statusReason: 'unauthenticated_row: this job was not written by the intake (its MAC does not verify); nothing was released',
          completedAt: now.toISOString(),
        });
        deps.log.warn('bulk job refused: its MAC does not verify', { jobId: job.id });
        continue;
      }
      if (job.status === 'expanding') {
        await expand(job, deps, now);
        nextTicks.push(soon); // the next tick finds it running, scheduled, or failed
        continue;
      }
      if (job.notBefore && Date.parse(job.notBefore) > now.getTime()) {
        nextTicks.push(Date.parse(job.notBefore));
        continue;
      }
      const pacePerSecond = (job.ratePerMinute / 60) * scale;
      const outcome = await advance(job, pacePerSecond, report.held, deps, now);
      report.released += outcome.released;
      report.finished += outcome.finished;
      if (outcome.completed) report.completed.push(job.id);
      else nextTicks.push(soon);
    } catch (error) {
      nextTicks.push(soon);
      if (error instanceof JobConflictError) continue; // another dispatcher got there: it carries on
      deps.log.warn('bulk dispatch failed for a job; next tick retries', { jobId: job.id, cause: error instanceof Error ? error.message : String(error) });
    }
  }
  if (nextTicks.length > 0) report.nextDueAt = new Date(Math.min(...nextTicks)).toISOString();
  return report;
}

async function adjustPace(deps: DispatcherDependencies, now: number): Promise<{ factor: number; holdUntil: number }> {
  const [pacing, throttle] = await Promise.all([deps.pacing.dispatchPacing(), deps.pacing.throttle()]);
  let factor = pacing.factor;
  let seen = pacing.seenThrottleAt;
  if (throttle.lastThrottleAt !== undefined && throttle.lastThrottleAt > (seen ?? 0)) {
    factor = Math.max(FACTOR_FLOOR, factor / 2);
    seen = throttle.lastThrottleAt;
    deps.log.warn('bulk pace halved: Graph throttled', { factor, throttledUntil: throttle.throttledUntil ? new Date(throttle.throttledUntil).toISOString() : undefined });
  } else if (factor < 1) {
    factor = Math.min(1, factor + FACTOR_STEP);
  }
  if (factor !== pacing.factor || seen !== pacing.seenThrottleAt) {
    await deps.pacing.saveDispatchPacing({ factor, seenThrottleAt: seen, updatedAt: now });
  }
  return { factor, holdUntil: throttle.throttledUntil ?? 0 };
}

/**
 * A group job stored before its size was counted at intake (the intake expands groups now): expanded
 * here under the same limits, and failed rather than started when it is larger than a job takes or
 * larger than BULK_CONFIRM_ABOVE, since nobody confirmed its size.
 */
async function expand(job: StoredJob, deps: DispatcherDependencies, now: Date): Promise<void> {
  const expansion = await expandGroup(deps.graph, job.id, job.groupId ?? '', deps.settings.TENANT_DOMAINS, { limit: MAX_BULK_USERS });
  const fail = async (reason: string) => {
    await deps.bulk.updateJob({ ...job, status: 'failed', statusReason: reason, completedAt: now.toISOString() });
    deps.log.warn('bulk job failed: group cannot be expanded', { jobId: job.id, reason });
  };
  if (!expansion.ok && expansion.tooMany) return fail(`too_many_users: ${expansion.reason} Nobody was reset.`);
  if (expansion.ok) {
    const users = expansion.items.filter((item) => item.status !== 'invalid').length;
    if (users > deps.settings.BULK_CONFIRM_ABOVE) {
      return fail(
        `confirmation_required: group ${job.groupId ?? ''} has ${users} user members, more than BULK_CONFIRM_ABOVE (${deps.settings.BULK_CONFIRM_ABOVE}), and nobody confirmed that number; nobody was reset. Submit the job again with confirmUsers: ${users} if that is meant.`,
      );
    }
  }
  if (!expansion.ok) {
    if (expansion.permanent) return fail(expansion.reason);
    deps.log.warn('bulk group expansion deferred', { jobId: job.id, reason: expansion.reason });
    return;
  }
  expansion.items = signItems(expansion.items, deps.integrity);
  await deps.bulk.putItems(expansion.items);
  const counts = countItems(expansion.items);
  const scheduled = job.notBefore !== undefined && Date.parse(job.notBefore) > now.getTime();
  await deps.bulk.updateJob({
    ...job,
    status: scheduled ? 'scheduled' : 'running',
    rows: expansion.items.length,
    valid: expansion.items.length - counts.invalid,
    invalid: counts.invalid,
    counts,
  });
  deps.log.info('bulk group expanded', { jobId: job.id, users: expansion.items.length, invalid: counts.invalid });
}

async function advance(
  job: StoredJob,
  pacePerSecond: number,
  held: boolean,
  deps: DispatcherDependencies,
  now: Date,
): Promise<{ released: number; finished: number; completed: boolean }> {
  // The first tick of a job in this process reads every item and counts them afresh (after a restart
  // the counts on the job row may lag one tick). Later ticks read only what they act on: the released
  // users (at most a window of them) and the next waiting ones, not every unfinished user of the job.
  const recount = !counted.has(job.id);
  const all = recount ? await deps.bulk.listItems(job.id) : undefined;
  const changed = new Map<number, BulkItem>();
  const counts = recount ? undefined : { ...job.counts };
  const settle = (item: BulkItem, row: StoredRequest) => {
    Object.assign(item, finishedFields(row));
    changed.set(item.index, item);
    if (counts) {
      counts.pending -= 1;
      counts[item.status as Exclude<BulkItem['status'], 'waiting' | 'released'>] += 1;
    }
  };

  // 1. Which released users finished since the last tick.
  const released = all ? all.filter((item) => item.status === 'released') : await deps.bulk.listItems(job.id, { status: 'released' });
  const tracked = released.filter((item) => item.requestId);
  const rows = await mapLimit(tracked, STORAGE_CONCURRENCY, (item) => deps.requests.get(item.requestId!));
  let finished = 0;
  tracked.forEach((item, index) => {
    const row = rows[index];
    if (row && FINAL_STATUSES.includes(row.status)) {
      settle(item, row);
      finished += 1;
    }
  });

  // 2. Release more, at the pace and within the window.
  const outstanding = released.filter((item) => item.status === 'released').length;
  const window = Math.max(MIN_WINDOW, Math.ceil(pacePerSecond * WINDOW_SECONDS));
  const last = job.lastTickAt ? Date.parse(job.lastTickAt) : now.getTime() - TICK_SECONDS * 1000;
  const elapsedSeconds = Math.min(Math.max(0, (now.getTime() - last) / 1000), TICK_SECONDS * 3);
  let credit = Math.min(job.credit + pacePerSecond * elapsedSeconds, Math.max(1, pacePerSecond * TICK_SECONDS * 2));
  const wanted = held ? 0 : Math.max(0, Math.min(Math.floor(credit), window - outstanding));
  // One more than wanted: whether any user is still waiting after this tick's batch, and which is next.
  // No user before the cursor waits: the cursor is the first waiting user this process last saw.
  const waiting = all ? all.filter((item) => item.status === 'waiting') : await deps.bulk.listItems(job.id, { status: 'waiting', from: job.cursor, limit: wanted + 1 });
  const batch = waiting.slice(0, Math.min(wanted, waiting.length));
  await mapLimit(batch, STORAGE_CONCURRENCY, async (item, position) => {
    if (!itemIsAuthentic(item, deps.integrity)) {
      // Not written by the intake (or changed since): never becomes a reset.
      item.status = 'invalid';
      item.errorCode = 'unauthenticated_row';
      item.errorMessage = 'this item was not written by the intake (its MAC does not verify); it was not released';
      changed.set(item.index, item);
      deps.log.warn('bulk item refused: its MAC does not verify', { jobId: job.id, index: item.index });
      return;
    }
    const { request } = await deps.requests.create(requestRowFor(job, item, now, deps.integrity));
    item.requestId = request.id;
    item.releasedAt = now.toISOString();
    if (FINAL_STATUSES.includes(request.status)) {
      settle(item, request); // released before a restart and already done
    } else {
      // Spread the tick's users over the tick instead of handing the queue one burst.
      const delay = Math.min(TICK_SECONDS - 1, Math.floor(position / Math.max(pacePerSecond, 0.001)));
      await deps.queue.send(request.id, delay > 0 ? delay : undefined);
      item.status = 'released';
    }
    if (item.status === 'released') changed.set(item.index, item);
  });
  credit = Math.max(0, credit - batch.length);
  if (changed.size > 0) await deps.bulk.putItems([...changed.values()]);

  // 3. Progress on the job row; the last tick counts every item again.
  const nextWaiting = waiting[batch.length];
  const done = nextWaiting === undefined && ![...released, ...batch].some((item) => item.status === 'released');
  const everyItem = all ?? (done ? await deps.bulk.listItems(job.id) : undefined);
  await deps.bulk.updateJob({
    ...job,
    status: done ? 'completed' : 'running',
    cursor: nextWaiting ? nextWaiting.index : job.rows,
    released: everyItem ? everyItem.filter((item) => item.status !== 'waiting' && item.status !== 'invalid').length : job.released + batch.length,
    counts: everyItem ? countItems(everyItem) : counts!,
    credit,
    lastTickAt: now.toISOString(),
    startedAt: job.startedAt ?? (batch.length > 0 ? now.toISOString() : undefined),
    ...(done ? { completedAt: now.toISOString() } : {}),
  });
  counted.add(job.id);
  if (done) {
    counted.delete(job.id);
    deps.log.info('bulk job completed', { jobId: job.id });
  }
  return { released: batch.length, finished, completed: done };
}

function finishedFields(row: StoredRequest): Partial<BulkItem> {
  return {
    status: row.status as BulkItem['status'],
    // Whole (a partial reason ends with what to do next, which the CSV and the CLI must not lose); a bound against a runaway text only.
    reason: row.status === 'completed' || row.status === 'planned' ? undefined : row.statusReason === undefined ? undefined : clipAtWord(row.statusReason, 8000),
    finishedAt: row.completedAt ?? row.updatedAt,
  };
}

async function mapLimit<T, R>(items: readonly T[], limit: number, run: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await run(items[index]!, index);
    }
  });
  await Promise.all(workers);
  return results;
}
