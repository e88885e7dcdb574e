import type { RequestIntegrity } from '../requests/request-integrity';
import type { BulkItem, BulkJob } from './bulk-rows';

/**
 * Bulk jobs and their items carry MACs under INTAKE_MAC_KEY like single requests do: the dispatcher
 * turns items into MAC'd reset requests, so a job or item written straight into storage (or a UPN
 * changed there) would otherwise become a reset the worker trusts. The dispatcher refuses a job or an
 * item whose MAC fails.
 */
const JOB_FIELDS = [
  'id',
  'kind',
  'groupId',
  'ticketSystem',
  'ticketId',
  'ticketUrl',
  'requestedBy',
  'requestedById',
  'approvedBy',
  'reason',
  'profile',
  'revokeSessions',
  'dryRun',
  'notBefore',
  'createdAt',
] as const satisfies readonly (keyof BulkJob)[];

/** `methods` is covered when the job names any: jobs signed before it existed still verify, and adding or removing it breaks the MAC. */
function jobText(job: BulkJob): string {
  const fields: [string, unknown][] = JOB_FIELDS.map((name) => [name, job[name] ?? null]);
  if (job.methods !== undefined) fields.push(['methods', job.methods]);
  if (job.verification !== undefined) fields.push(['verification', job.verification]);
  return JSON.stringify(fields);
}

function itemText(item: Pick<BulkItem, 'jobId' | 'index' | 'userPrincipalName'>): string {
  return JSON.stringify([item.jobId, item.index, item.userPrincipalName]);
}

export function signJob<T extends BulkJob>(job: T, integrity: RequestIntegrity): T {
  return { ...job, intakeMac: integrity.mac('bulk-job', jobText(job)) };
}

export function jobIsAuthentic(job: BulkJob, integrity: RequestIntegrity): boolean {
  return integrity.verifyMac('bulk-job', jobText(job), job.intakeMac);
}

export function signItems(items: readonly BulkItem[], integrity: RequestIntegrity): BulkItem[] {
  return items.map((item) => ({ ...item, mac: integrity.mac('bulk-item', itemText(item)) }));
}

export function itemIsAuthentic(item: BulkItem, integrity: RequestIntegrity): boolean {
  return integrity.verifyMac('bulk-item', itemText(item), item.mac);
}
