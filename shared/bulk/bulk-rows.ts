import { z } from 'zod';
import { METHOD_KINDS, type MethodKind, type ResetProfile } from '../method-names';
import type { RequestStatus } from '../requests/request-row';
import type { VerificationPolicy } from '../verification/policy';

/**
 * Table BulkJobs: one row per job (PartitionKey `job`, RowKey the job id), with its options, pace and
 * progress, so a restarted dispatcher carries on where it was. Table BulkItems: one row per listed
 * user (PartitionKey the job id, RowKey the zero-padded position), with its own validation error or
 * the id and outcome of its reset request.
 */

export const JOB_STATUSES = ['expanding', 'scheduled', 'running', 'completed', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const ACTIVE_JOB_STATUSES: readonly JobStatus[] = ['expanding', 'scheduled', 'running'];

/** `invalid`: refused at submission; `waiting`: not released yet; `released`: its request is queued or running. */
export type ItemStatus = 'invalid' | 'waiting' | 'released' | Exclude<RequestStatus, 'accepted' | 'running' | 'awaiting_verification'>;
export const FINAL_ITEM_STATUSES: readonly ItemStatus[] = ['invalid', 'completed', 'partial', 'failed', 'rejected', 'planned'];

export const COUNT_KEYS = ['completed', 'partial', 'failed', 'rejected', 'planned', 'pending', 'invalid'] as const;
export type JobCounts = Record<(typeof COUNT_KEYS)[number], number>;

export interface BulkJob {
  id: string;
  status: JobStatus;
  statusReason?: string;
  kind: 'users' | 'csv' | 'group';
  groupId?: string;
  ticketSystem: string;
  ticketId: string;
  ticketUrl?: string;
  requestedBy: string;
  requestedById?: string;
  approvedBy?: string;
  reason?: string;
  profile: ResetProfile;
  /** Which methods each request resets, when named (else the profile decides). */
  methods?: MethodKind[];
  revokeSessions: boolean;
  dryRun: boolean;
  /** The verification the job asked for (none unless asked); covered by the job MAC when present. */
  verification?: VerificationPolicy;
  /** Users released per minute at most (the job's own pace, capped by BULK_RATE_PER_MINUTE). */
  ratePerMinute: number;
  notBefore?: string;
  /** Rows listed, rows that became requests, rows refused at submission (duplicates included). */
  rows: number;
  valid: number;
  invalid: number;
  /** Position of the first item not yet released; every item before it was released. */
  cursor: number;
  released: number;
  counts: JobCounts;
  /** Users the pace allows but not yet released (fractional), carried from tick to tick. */
  credit: number;
  lastTickAt?: string;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  completedAt?: string;
  /** The intake's MAC over the job's definition (bulk-integrity.ts). */
  intakeMac?: string;
  /** SHA-256 of the signed submission: a repeat of its webhook-id must carry the same bytes. */
  submissionDigest?: string;
}

export type StoredJob = BulkJob & { etag: string };

export interface BulkItem {
  jobId: string;
  /** 0-based position in the job; the RowKey. */
  index: number;
  /** Where the user came from: the CSV line (header = 1), or the position in `users` (1-based). */
  row: number;
  userPrincipalName: string;
  status: ItemStatus;
  errorCode?: string;
  errorMessage?: string;
  requestId?: string;
  /** The request's status reason, when it ended other than completed/planned. */
  reason?: string;
  releasedAt?: string;
  finishedAt?: string;
  /** MAC over job id, position and UPN (bulk-integrity.ts). */
  mac?: string;
}

export function emptyCounts(): JobCounts {
  return { completed: 0, partial: 0, failed: 0, rejected: 0, planned: 0, pending: 0, invalid: 0 };
}

export function countItems(items: readonly Pick<BulkItem, 'status'>[]): JobCounts {
  const counts = emptyCounts();
  for (const item of items) {
    if (item.status === 'waiting' || item.status === 'released') counts.pending += 1;
    else counts[item.status] += 1;
  }
  return counts;
}

export const itemRowKey = (index: number) => String(index).padStart(7, '0');

type Entity = Record<string, unknown> & { partitionKey: string; rowKey: string };

export function jobToEntity(job: BulkJob): Entity {
  const entity: Entity = { partitionKey: 'job', rowKey: job.id };
  for (const [name, value] of Object.entries(job)) {
    if (value === undefined || name === 'id' || name === 'etag') continue;
    entity[name] = name === 'counts' || name === 'methods' ? JSON.stringify(value) : value;
  }
  return entity;
}

const storedMethods = z.array(z.enum(METHOD_KINDS));

/** `methods` as stored (JSON); one that does not parse is dropped, and then the job's MAC fails. */
function methodsFrom(value: unknown): MethodKind[] | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const parsed = storedMethods.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export function jobFromEntity(entity: Record<string, unknown>): StoredJob {
  const { partitionKey: _pk, rowKey, etag, timestamp: _ts, counts, methods, ...rest } = entity;
  for (const key of Object.keys(rest)) if (key.startsWith('odata')) delete rest[key];
  const named = methodsFrom(methods);
  return {
    ...(rest as Omit<BulkJob, 'id' | 'counts' | 'methods'>),
    ...(named ? { methods: named } : {}),
    id: String(rowKey),
    counts: { ...emptyCounts(), ...(typeof counts === 'string' ? (JSON.parse(counts) as Partial<JobCounts>) : {}) },
    etag: String(etag ?? ''),
  };
}

export function itemToEntity(item: BulkItem): Entity {
  const entity: Entity = { partitionKey: item.jobId, rowKey: itemRowKey(item.index) };
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined || name === 'jobId') continue;
    entity[name] = value;
  }
  return entity;
}

export function itemFromEntity(entity: Record<string, unknown>): BulkItem {
  const { partitionKey, rowKey: _rk, etag: _etag, timestamp: _ts, ...rest } = entity;
  for (const key of Object.keys(rest)) if (key.startsWith('odata')) delete rest[key];
  return { ...(rest as Omit<BulkItem, 'jobId'>), jobId: String(partitionKey) };
}
