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
} as const;

export const QUEUES = {
  resets: 'mfa-resets',
  resetsPoison: 'mfa-resets-poison',
  /** The outbox: notes on the ticket, mails and the follow-up watch, after a request ends. */
  ticketUpdates: 'ticket-updates',
  ticketUpdatesPoison: 'ticket-updates-poison',
} as const;
