import { errorAnswer, jsonAnswer, type HttpAnswer } from '../http/answer';
import { isRequestId } from '../requests/request-row';
import type { BulkItem, ItemStatus, StoredJob } from './bulk-rows';
import type { BulkStore } from './bulk-store';

/** A JSON answer, or the CSV export. */
export type BulkStatusAnswer = HttpAnswer | { status: number; headers: Record<string, string>; body: string };

export interface BulkStatusQuery {
  offset?: string | null;
  limit?: string | null;
  /** Only items in this status (`failed`, `invalid`, `pending`, ...). */
  status?: string | null;
  /** `csv`: every item as CSV instead of JSON. */
  format?: string | null;
}

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

/**
 * `GET /api/bulk/{id}`: the job's status, totals and counts per request status, and its users' outcomes
 * a page at a time (`offset`, `limit`, `status`); `format=csv` exports every user's outcome.
 */
export async function getBulkStatus(id: string, query: BulkStatusQuery, deps: { store: BulkStore; url?: string; log?: { warn(message: string): void } }): Promise<BulkStatusAnswer> {
  if (!isRequestId(id)) return errorAnswer(404, 'not_found', `no bulk job has the id ${id.slice(0, 64)}`);
  const offset = whole(query.offset, 0);
  const limit = Math.min(MAX_PAGE, Math.max(1, whole(query.limit, DEFAULT_PAGE)));
  const statusFilter = query.status?.trim() || undefined;
  try {
    const job = await deps.store.getJob(id);
    if (!job) return errorAnswer(404, 'not_found', `no bulk job has the id ${id}`);
    if (query.format === 'csv') {
      const items = await deps.store.listItems(id);
      return {
        status: 200,
        headers: {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `attachment; filename="bulk-${id}.csv"`,
          'cache-control': 'no-store',
        },
        body: itemsCsv(items.filter((item) => matches(item, statusFilter))),
      };
    }
    const items = statusFilter
      ? (await deps.store.listItems(id)).filter((item) => matches(item, statusFilter)).slice(offset, offset + limit)
      : await deps.store.listItems(id, { from: offset, limit });
    return jsonAnswer(200, jobView(job, items, { offset, limit, status: statusFilter }, deps.url), { 'cache-control': 'no-store' });
  } catch (error) {
    deps.log?.warn(`bulk status ${id}: ${error instanceof Error ? error.message : String(error)}`);
    return errorAnswer(503, 'storage_unavailable', 'the job cannot be read right now; try again later', undefined, { 'retry-after': '10' });
  }
}

export function jobView(job: StoredJob, items: BulkItem[], page: { offset: number; limit: number; status?: string }, requestUrl?: string) {
  const finished = job.counts.completed + job.counts.partial + job.counts.failed + job.counts.rejected + job.counts.planned;
  const origin = requestUrl ? safeOrigin(requestUrl) : '';
  const base = `${origin}/api/bulk/${job.id}`;
  const total = page.status ? undefined : job.rows;
  const hasNext = total !== undefined ? page.offset + items.length < total : items.length === page.limit;
  const statusParam = page.status ? `&status=${encodeURIComponent(page.status)}` : '';
  return {
    id: job.id,
    status: job.status,
    ...(job.statusReason ? { statusReason: job.statusReason } : {}),
    dryRun: job.dryRun,
    source: { kind: job.kind, ...(job.groupId ? { groupId: job.groupId } : {}) },
    ticket: { system: job.ticketSystem, id: job.ticketId, ...(job.ticketUrl ? { url: job.ticketUrl } : {}) },
    requestedBy: job.requestedBy,
    ...(job.approvedBy ? { approvedBy: job.approvedBy } : {}),
    ...(job.reason ? { reason: job.reason } : {}),
    options: { profile: job.profile, ...(job.methods ? { methods: job.methods } : {}), revokeSessions: job.revokeSessions, dryRun: job.dryRun, ratePerMinute: job.ratePerMinute, ...(job.notBefore ? { notBefore: job.notBefore } : {}) },
    totals: {
      rows: job.rows,
      valid: job.valid,
      invalid: job.invalid,
      released: job.released,
      finished,
      percent: job.valid === 0 ? 100 : Math.floor((finished / job.valid) * 100),
    },
    counts: job.counts,
    createdAt: job.createdAt,
    ...(job.startedAt ? { startedAt: job.startedAt } : {}),
    ...(job.completedAt ? { completedAt: job.completedAt } : {}),
    updatedAt: job.updatedAt,
    items: items.map((item) => itemView(item, origin)),
    page: {
      offset: page.offset,
      limit: page.limit,
      ...(total !== undefined ? { total } : {}),
      ...(hasNext ? { next: `${base}?offset=${page.offset + items.length}&limit=${page.limit}${statusParam}` } : {}),
    },
    exportUrl: `${base}?format=csv`,
  };
}

function itemView(item: BulkItem, origin: string) {
  return {
    row: item.row,
    userPrincipalName: item.userPrincipalName,
    status: item.status,
    ...(item.requestId ? { requestId: item.requestId, statusUrl: `${origin}/api/resets/${item.requestId}` } : {}),
    ...(item.errorCode ? { error: { code: item.errorCode, message: item.errorMessage } } : {}),
    ...(item.reason ? { reason: item.reason } : {}),
    ...(item.finishedAt ? { finishedAt: item.finishedAt } : {}),
  };
}

function matches(item: BulkItem, status: string | undefined): boolean {
  if (!status) return true;
  if (status === 'pending') return item.status === 'waiting' || item.status === 'released';
  return item.status === (status as ItemStatus);
}

export const CSV_COLUMNS = ['row', 'userPrincipalName', 'status', 'requestId', 'errorCode', 'message', 'finishedAt'] as const;

export function itemsCsv(items: readonly BulkItem[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const item of items) {
    lines.push(
      [String(item.row), item.userPrincipalName, item.status, item.requestId ?? '', item.errorCode ?? '', item.errorMessage ?? item.reason ?? '', item.finishedAt ?? '']
        .map(csvCell)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** Quotes where needed, and defuses cells a spreadsheet would read as a formula. */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function whole(value: string | null | undefined, fallback: number): number {
  const parsed = Number(value);
  return value !== null && value !== undefined && value !== '' && Number.isInteger(parsed) && parsed >= 0 ? parsed : fallback;
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}
