import { z } from 'zod';
import { METHOD_KINDS, RESET_PROFILES } from '../method-names';
import { verificationPolicySchema } from '../verification/policy';

/**
 * One row of table ResetRequests per request. PartitionKey is the first two hex digits of the id and
 * RowKey the id, so a read by id is a point read while writes spread over 256 partitions.
 *
 * The intake writes the request as accepted; the worker updates status, engineState (its step
 * progress, JSON), result (JSON), attempts, leaseUntil and the audit head. Nothing secret is ever
 * stored here: no Temporary Access Pass, no signature, no token.
 */

export const REQUEST_STATUSES = ['accepted', 'running', 'awaiting_verification', 'completed', 'partial', 'failed', 'rejected', 'planned'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

/** Statuses a request does not leave. */
export const FINAL_STATUSES: readonly RequestStatus[] = ['completed', 'partial', 'failed', 'rejected', 'planned'];

/** `schedule`: a notice that a schedule's run reset nobody, carried to its ticket by the outbox (shared/schedules/schedule-notice.ts). */
export const REQUEST_SOURCES = ['jira', 'servicenow', 'generic', 'bulk', 'schedule'] as const;
export type RequestSource = (typeof REQUEST_SOURCES)[number];

const isoTime = z.string().datetime({ offset: true });

export const requestRowSchema = z.object({
  id: z.string().min(1),
  /** What the id was derived from under INTAKE_MAC_KEY (see shared/intake/request-id.ts). */
  idempotencyKey: z.string().min(1),
  source: z.enum(REQUEST_SOURCES),
  /** Jira's X-Atlassian-Webhook-Identifier, when the id derives from the delivery. */
  deliveryId: z.string().optional(),
  /** Bulk remediation: the job this request belongs to (shared/bulk). */
  bulkJobId: z.string().optional(),
  /** A new attempt for a ticket and target whose earlier request failed: that request's id. */
  previousRequestId: z.string().optional(),
  /** The next attempt, once one was started from the same ticket (set on the earlier request). */
  nextRequestId: z.string().optional(),
  /**
   * A partial reset being finished from the console: who asked for which wider methods, who approved,
   * and the linked request made then (JSON, shared/finish/finish-state.ts). Covered by the state MAC.
   */
  finish: z.string().max(20_000).optional(),
  /** The intake's MAC over the request fields (shared/requests/request-integrity.ts). */
  intakeMac: z.string().optional(),
  /**
   * The app's MAC over the whole row as it last wrote it (RequestIntegrity.stateMac), set by the store
   * on every write: status, progress, result, lease and audit head cannot be changed in storage alone.
   */
  stateMac: z.string().optional(),

  status: z.enum(REQUEST_STATUSES),
  statusReason: z.string().optional(),

  ticketSystem: z.string(),
  ticketId: z.string(),
  ticketUrl: z.string().optional(),
  /** ServiceNow only: the record's sys_id and table, for writing back to the ticket. */
  ticketSysId: z.string().optional(),
  ticketTable: z.string().optional(),
  /** The ticket's assignee (e-mail address) when the delivery named one: the console tells a pass collector whether that is them. */
  ticketAssignee: z.string().max(256).optional(),

  targetUpn: z.string().optional(),
  targetObjectId: z.string().optional(),

  requestedBy: z.string(),
  requestedById: z.string().optional(),
  approvedBy: z.string().optional(),
  reason: z.string().optional(),

  profile: z.enum(RESET_PROFILES),
  methods: z.array(z.enum(METHOD_KINDS)).optional(),
  revokeSessions: z.boolean(),
  temporaryAccessPass: z.object({ lifetimeInMinutes: z.number().int().optional(), isUsableOnce: z.boolean().optional() }).optional(),
  dryRun: z.boolean(),
  /** Generic callers: where the outcome is posted (shared/tickets/callback-client.ts); covered by the row MAC. */
  callbackUrl: z.string().max(2048).optional(),
  /** The verification the request asked for (stricter than the service's, never looser); covered by the row MAC. */
  verificationAsked: verificationPolicySchema.optional(),
  /** Verifying the person before the first write: method, state, attempts, evidence (JSON, shared/verification). */
  verification: z.string().max(200_000).optional(),

  /** The worker's step progress, JSON. */
  engineState: z.string().optional(),
  /** The outcome, JSON. */
  result: z.string().optional(),
  attempts: z.number().int().nonnegative(),
  /** A worker holds the request until then (ISO time). */
  leaseUntil: isoTime.optional(),
  /** Where the request's audit chain ends (see shared/audit), so removed trailing rows show. */
  auditSeq: z.number().int().nonnegative().optional(),
  auditHash: z.string().optional(),

  createdAt: isoTime,
  updatedAt: isoTime,
  completedAt: isoTime.optional(),

  /** The outbox after the request ended: what was posted to the ticket and mailed, JSON (shared/tickets/outbox-state.ts). */
  ticketUpdates: z.string().optional(),
  /** When the outbox next has something to do for this request; unset when nothing is left (the ticket sweeper's filter). */
  ticketDueAt: isoTime.optional(),
});

export type RequestRow = z.infer<typeof requestRowSchema>;

/**
 * A row as read from the table, with the ETag to update it with. `trusted`: both MACs verified when the
 * store read it (RequestIntegrity.trusts). Only a trusted row may be written back with a new state MAC,
 * so no writer can launder a row someone changed in storage.
 */
export type StoredRequest = RequestRow & { etag: string; trusted: boolean };

const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isRequestId(value: string): boolean {
  return REQUEST_ID.test(value);
}

export function requestPartitionKey(id: string): string {
  return id.slice(0, 2).toLowerCase();
}

/** Table properties: complex values as JSON strings, undefined values left out. */
export type RequestEntity = Record<string, string | number | boolean> & { partitionKey: string; rowKey: string };

const JSON_PROPERTIES = ['methods', 'temporaryAccessPass'] as const;

export function toEntity(row: RequestRow): RequestEntity {
  const parsed = requestRowSchema.parse(row);
  const entity: RequestEntity = { partitionKey: requestPartitionKey(parsed.id), rowKey: parsed.id };
  for (const [name, value] of Object.entries(parsed)) {
    if (value === undefined || name === 'id') continue;
    entity[name] = (JSON_PROPERTIES as readonly string[]).includes(name) ? JSON.stringify(value) : (value as string | number | boolean);
  }
  return entity;
}

export class RequestRowError extends Error {
  constructor(id: string, detail: string) {
    super(`ResetRequests row ${id} does not match the row schema: ${detail}`);
    this.name = 'RequestRowError';
  }
}

export function fromEntity(entity: Record<string, unknown>): StoredRequest {
  const id = String(entity.rowKey ?? '');
  const candidate: Record<string, unknown> = { id };
  for (const [name, value] of Object.entries(entity)) {
    if (['partitionKey', 'rowKey', 'etag', 'timestamp', 'odata.metadata'].includes(name) || name.startsWith('odata')) continue;
    if ((JSON_PROPERTIES as readonly string[]).includes(name) && typeof value === 'string') {
      try {
        candidate[name] = JSON.parse(value) as unknown;
      } catch {
        throw new RequestRowError(id, `${name} is not JSON`);
      }
      continue;
    }
    candidate[name] = value;
  }
  const parsed = requestRowSchema.safeParse(candidate);
  if (!parsed.success) {
    throw new RequestRowError(id, parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; '));
  }
  return { ...parsed.data, etag: String(entity.etag ?? ''), trusted: false };
}
