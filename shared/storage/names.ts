/** Table and queue names shared by the intake, the worker, the bulk dispatcher and infra. */
export const TABLES = {
  requests: 'ResetRequests',
  audit: 'ResetAudit',
  bulkJobs: 'BulkJobs',
  bulkItems: 'BulkItems',
  pacing: 'GraphPacing',
  targets: 'ResetTargets',
  passes: 'PassHandover',
  intakeIndex: 'ResetIntakeIndex',
  /** Recurring remediation (shared/schedules): definitions, runs, the users a run resolved, who a schedule last reset. */
  schedules: 'ResetSchedules',
  scheduleRuns: 'ScheduleRuns',
  scheduleTargets: 'ScheduleTargets',
  scheduleMarks: 'ScheduleMarks',
} as const;

export const QUEUES = {
  resets: 'mfa-resets',
  resetsPoison: 'mfa-resets-poison',
  /** The outbox: notes on the ticket, mails and the follow-up watch, after a request ends. */
  ticketUpdates: 'ticket-updates',
  ticketUpdatesPoison: 'ticket-updates-poison',
} as const;
