import type { VerificationPolicy } from '../verification/policy';
import { z } from 'zod';
import { METHOD_KINDS, type MethodKind, type ResetProfile } from '../method-names';
import type { RiskLevel } from './schedule-request';

/**
 * Table ResetSchedules: one row per schedule (PartitionKey `schedule`, RowKey its id). Table
 * ScheduleRuns: one row per run (PartitionKey the schedule id, RowKey the run id, which sorts by
 * time). Table ScheduleTargets: the users a run resolved (PartitionKey the run id), so that its end
 * knows their object ids. Table ScheduleMarks: when this schedule last reset a user (PartitionKey the
 * schedule id, RowKey the user's object id), for the risky-users rule.
 */

export interface Schedule {
  id: string;
  name: string;
  schedule: string;
  timeZone: string;
  sourceKind: 'group' | 'riskyUsers';
  groupId?: string;
  minimumRiskLevel?: RiskLevel;
  profile: ResetProfile;
  /** Which methods every request of a run resets, when named (else the profile decides). */
  methods?: MethodKind[];
  revokeSessions: boolean;
  removeFromGroupAfterReset: boolean;
  requestedBy: string;
  requestedById?: string;
  approvedBy?: string;
  /** When approvedBy was given (at creation, or by a PATCH naming it): the approval lasts SCHEDULE_APPROVAL_DAYS from then. */
  approvedAt?: string;
  ticketSystem?: string;
  ticketId?: string;
  ticketUrl?: string;
  /** ServiceNow: the record's sys_id and table, so a refused run's work note can be written there. */
  ticketSysId?: string;
  ticketTable?: string;
  /**
   * When the Jira issue or ServiceNow record was looked up and found in an allowed project or table
   * (JIRA_PROJECT_KEYS, SERVICENOW_TABLES): only then may a refused run write a note there.
   */
  ticketCheckedAt?: string;
  enabled: boolean;
  dryRun: boolean;
  /** The verification each run's requests ask for (none unless set); covered by the MAC when present. */
  verification?: VerificationPolicy;
  maxUsersPerRun: number;
  /** The next slot the timer releases; missed slots collapse into one run. */
  nextRunAt?: string;
  lastRunAt?: string;
  /** The run that is still going, if any: a slot due meanwhile is skipped. */
  activeRunId?: string;
  createdAt: string;
  updatedAt: string;
  /** MAC over the definition (INTAKE_MAC_KEY): a row written straight into storage never runs. */
  mac?: string;
}
export type StoredSchedule = Schedule & { etag: string };

export const RUN_STATUSES = ['running', 'completed', 'failed', 'refused', 'skipped'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface ScheduleRun {
  scheduleId: string;
  id: string;
  /** The slot this run is for (the timer), or when it was asked for (run now). */
  slot: string;
  trigger: 'timer' | 'manual' | 'catch-up';
  status: RunStatus;
  reason?: string;
  bulkJobId?: string;
  /** A refused run: the notice request (ResetRequests, source `schedule`) whose outbox tells the ticket. */
  noticeRequestId?: string;
  /** Whether the ticket was told, and if not why. */
  ticketNotice?: string;
  /** Users found, users handed to the bulk job, users left out because they were reset already. */
  found: number;
  planned: number;
  alreadyReset: number;
  counts?: { completed: number; partial: number; failed: number; rejected: number; planned: number; invalid: number };
  removedFromGroup?: number;
  removalFailures?: number;
  dryRun: boolean;
  startedAt: string;
  finishedAt?: string;
  /** While the run is being ended (schedule-runs.ts settleActiveRun): until when one releaser holds it. */
  settlingUntil?: string;
}

export interface ScheduleTarget {
  runId: string;
  index: number;
  userId: string;
  userPrincipalName: string;
}

type Entity = Record<string, unknown> & { partitionKey: string; rowKey: string };

function strip(entity: Record<string, unknown>): Record<string, unknown> {
  const { partitionKey: _pk, rowKey: _rk, etag: _etag, timestamp: _ts, ...rest } = entity;
  for (const key of Object.keys(rest)) if (key.startsWith('odata')) delete rest[key];
  return rest;
}

export function scheduleToEntity(schedule: Schedule): Entity {
  const entity: Entity = { partitionKey: 'schedule', rowKey: schedule.id };
  for (const [name, value] of Object.entries(schedule)) {
    if (value === undefined || name === 'id' || name === 'etag') continue;
    entity[name] = name === 'methods' ? JSON.stringify(value) : value;
  }
  return entity;
}

const storedMethods = z.array(z.enum(METHOD_KINDS));

/** `methods` as stored (JSON); one that does not parse is dropped, and then the schedule's MAC fails. */
function methodsFrom(value: unknown): MethodKind[] | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const parsed = storedMethods.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export function scheduleFromEntity(entity: Record<string, unknown>): StoredSchedule {
  const { methods, ...rest } = strip(entity);
  const named = methodsFrom(methods);
  return { ...(rest as Omit<Schedule, 'id' | 'methods'>), ...(named ? { methods: named } : {}), id: String(entity.rowKey), etag: String(entity.etag ?? '') };
}

export function runToEntity(run: ScheduleRun): Entity {
  const entity: Entity = { partitionKey: run.scheduleId, rowKey: run.id };
  for (const [name, value] of Object.entries(run)) {
    if (value === undefined || name === 'scheduleId' || name === 'id') continue;
    entity[name] = name === 'counts' ? JSON.stringify(value) : value;
  }
  return entity;
}

export function runFromEntity(entity: Record<string, unknown>): ScheduleRun {
  const { counts, ...rest } = strip(entity);
  return {
    ...(rest as Omit<ScheduleRun, 'scheduleId' | 'id' | 'counts'>),
    scheduleId: String(entity.partitionKey),
    id: String(entity.rowKey),
    ...(typeof counts === 'string' ? { counts: JSON.parse(counts) as ScheduleRun['counts'] } : {}),
  };
}

/** Run ids sort by time: the slot in milliseconds, zero-padded, then the trigger. */
export function runIdFor(slot: Date, trigger: ScheduleRun['trigger'], nonce = ''): string {
  return `${String(slot.getTime()).padStart(15, '0')}-${trigger}${nonce ? `-${nonce}` : ''}`;
}

/** The fields the schedule's MAC covers: everything that decides whom it resets and how. */
const MAC_FIELDS = [
  'id',
  'sourceKind',
  'groupId',
  'minimumRiskLevel',
  'profile',
  'revokeSessions',
  'removeFromGroupAfterReset',
  'requestedBy',
  'requestedById',
  'approvedBy',
  'ticketSystem',
  'ticketId',
  'ticketUrl',
  'dryRun',
  'maxUsersPerRun',
  'createdAt',
] as const satisfies readonly (keyof Schedule)[];

/** Adding or removing `methods` or the ServiceNow record in storage breaks the MAC as any other field does. */
export function scheduleMacText(schedule: Schedule): string {
  const fields: [string, unknown][] = MAC_FIELDS.map((name) => [name, schedule[name] ?? null]);
  // Covered when present, so that rows signed before these fields existed still verify.
  if (schedule.methods !== undefined) fields.push(['methods', schedule.methods]);
  if (schedule.ticketSysId !== undefined) fields.push(['ticketSysId', schedule.ticketSysId]);
  if (schedule.ticketTable !== undefined) fields.push(['ticketTable', schedule.ticketTable]);
  if (schedule.approvedAt !== undefined) fields.push(['approvedAt', schedule.approvedAt]);
  if (schedule.ticketCheckedAt !== undefined) fields.push(['ticketCheckedAt', schedule.ticketCheckedAt]);
  if (schedule.verification !== undefined) fields.push(['verification', schedule.verification]);
  return JSON.stringify(fields);
}
