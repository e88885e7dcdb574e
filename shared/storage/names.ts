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
} as const;
