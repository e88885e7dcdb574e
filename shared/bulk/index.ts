/** Bulk remediation: jobs of many users, released into the reset queue at a shared, throttling-aware pace. */
export { receiveBulkJob, type BulkSubmitInput, type BulkSubmitDependencies } from './bulk-submit';
export { getBulkStatus, itemsCsv, type BulkStatusAnswer, type BulkStatusQuery } from './bulk-status';
export { dispatchBulkJobs, TICK_SECONDS, type DispatchReport, type DispatcherDependencies } from './dispatcher';
export { bulkServices, bulkStore } from './bulk-services';
export { BulkStore } from './bulk-store';
export { bulkRequestSchema, csvSigningPayload, csvOptionHeader, CSV_OPTIONS, MAX_BULK_USERS, type CsvOption, type BulkRequest } from './bulk-request';
export { bulkRequestId, itemsFor } from './bulk-items';
export type { BulkJob, BulkItem, JobCounts, JobStatus, ItemStatus } from './bulk-rows';
