import type { Settings } from '../config';
import type { Schedule } from './schedule-rows';

/**
 * A schedule's approval does not cover its runs forever: whoever a group holds, and what the tenant
 * looks like, changes. It lasts SCHEDULE_APPROVAL_DAYS from when it was given (creation, or a PATCH
 * that names the approver again); after that every run is refused, resetting nobody, and the ticket
 * is asked for a renewal. A schedule stored before approvals were dated counts from its creation.
 */
export function approvalProblem(schedule: Schedule, settings: Pick<Settings, 'REQUIRE_APPROVAL' | 'SCHEDULE_APPROVAL_DAYS'>, now: Date): { code: string; reason: string } | undefined {
  const renew = `PATCH /api/schedules/${schedule.id} with {"approvedBy": "<who approves it>"} (npm run cli -- schedule approve ${schedule.id} --approved-by <who>)`;
  if (!schedule.approvedBy) {
    if (!settings.REQUIRE_APPROVAL) return undefined;
    return { code: 'approval_required', reason: `approval_required: approval is required for resets (REQUIRE_APPROVAL) and this schedule names no approver, so this run reset nobody. Approve it: ${renew}.` };
  }
  const approvedAt = Date.parse(schedule.approvedAt ?? schedule.createdAt);
  const expiresAt = approvedAt + settings.SCHEDULE_APPROVAL_DAYS * 86_400_000;
  if (!Number.isFinite(approvedAt) || now.getTime() >= expiresAt) {
    const when = Number.isFinite(approvedAt) ? new Date(approvedAt).toISOString() : 'an unknown time';
    return {
      code: 'approval_expired',
      reason: `approval_expired: the approval by ${schedule.approvedBy} given at ${when} is older than SCHEDULE_APPROVAL_DAYS (${settings.SCHEDULE_APPROVAL_DAYS} days), so this run reset nobody. Renew it: ${renew}.`,
    };
  }
  return undefined;
}

/** Until when the schedule's approval covers its runs (undefined: it names no approver). */
export function approvalExpiresAt(schedule: Schedule, settings: Pick<Settings, 'SCHEDULE_APPROVAL_DAYS'>): string | undefined {
  if (!schedule.approvedBy) return undefined;
  const approvedAt = Date.parse(schedule.approvedAt ?? schedule.createdAt);
  return Number.isFinite(approvedAt) ? new Date(approvedAt + settings.SCHEDULE_APPROVAL_DAYS * 86_400_000).toISOString() : undefined;
}
