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
  /** When each beat (shared/beats) is next due: one chain of delayed messages per kind of work. */
  beats: 'AppBeats',
} as const;

export const QUEUES = {
  resets: 'mfa-resets',
  resetsPoison: 'mfa-resets-poison',
  /** The outbox: notes on the ticket, mails and the follow-up watch, after a request ends. */
  ticketUpdates: 'ticket-updates',
  ticketUpdatesPoison: 'ticket-updates-poison',
  /** Beats: delayed messages that wake the bulk dispatcher and the schedule releaser while they have work (shared/beats). */
  beats: 'app-beats',
  beatsPoison: 'app-beats-poison',
} as const;
