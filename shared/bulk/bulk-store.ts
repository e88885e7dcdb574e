import { odata, RestError, type TableClient, type TransactionAction } from '@azure/data-tables';
import { StorageUnavailableError } from '../requests/request-store';
import { ACTIVE_JOB_STATUSES, itemFromEntity, itemRowKey, itemToEntity, jobFromEntity, jobToEntity, type BulkItem, type BulkJob, type StoredJob } from './bulk-rows';

export class JobConflictError extends Error {
  constructor(readonly jobId: string) {
    super(`bulk job ${jobId} was changed by someone else since it was read`);
    this.name = 'JobConflictError';
  }
}

/** Tables BulkJobs and BulkItems. */
export class BulkStore {
  private ready: Promise<void> | undefined;

  constructor(
    private readonly jobs: TableClient,
    private readonly items: TableClient,
  ) {}

  async getJob(id: string): Promise<StoredJob | undefined> {
    await this.ensureTables();
    try {
      return jobFromEntity(await this.jobs.getEntity<Record<string, unknown>>('job', id));
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw new StorageUnavailableError('read bulk job', error);
    }
  }

  /** Inserts the job unless it exists; then returns the existing one. */
  async createJob(job: BulkJob): Promise<{ created: boolean; job: StoredJob }> {
    await this.ensureTables();
    try {
      const response = await this.jobs.createEntity(jobToEntity(job));
      return { created: true, job: { ...job, etag: response.etag ?? '' } };
    } catch (error) {
      if (isStatus(error, 409)) {
        const existing = await this.getJob(job.id);
        if (existing) return { created: false, job: existing };
      }
      throw new StorageUnavailableError('create bulk job', error);
    }
  }

  async updateJob(job: StoredJob): Promise<StoredJob> {
    const { etag, ...row } = job;
    const next: BulkJob = { ...row, updatedAt: new Date().toISOString() };
    try {
      const response = await this.jobs.updateEntity(jobToEntity(next), 'Replace', { etag });
      return { ...next, etag: response.etag ?? '' };
    } catch (error) {
      if (isStatus(error, 412)) throw new JobConflictError(job.id);
      throw new StorageUnavailableError('update bulk job', error);
    }
  }

  async activeJobs(): Promise<StoredJob[]> {
    await this.ensureTables();
    const statusFilter = ACTIVE_JOB_STATUSES.map((status) => odata`status eq ${status}`).join(' or ');
    const jobs: StoredJob[] = [];
    for await (const entity of this.jobs.listEntities<Record<string, unknown>>({ queryOptions: { filter: `PartitionKey eq 'job' and (${statusFilter})` } })) {
      jobs.push(jobFromEntity(entity));
    }
    return jobs.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Jobs created at or after `since`, newest first, at most `limit`: the console's list of jobs. */
  async recentJobs(since: Date, limit = 50): Promise<StoredJob[]> {
    await this.ensureTables();
    const jobs: StoredJob[] = [];
    const filter = odata`PartitionKey eq 'job' and createdAt ge ${since.toISOString()}`;
    try {
      for await (const entity of this.jobs.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) jobs.push(jobFromEntity(entity));
    } catch (error) {
      throw new StorageUnavailableError('list bulk jobs', error);
    }
    return jobs.sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, limit);
  }

  /** Writes items (insert or replace), 100 to a transaction. */
  async putItems(items: readonly BulkItem[]): Promise<void> {
    await this.ensureTables();
    const byJob = new Map<string, BulkItem[]>();
    for (const item of items) byJob.set(item.jobId, [...(byJob.get(item.jobId) ?? []), item]);
    for (const group of byJob.values()) {
      for (let start = 0; start < group.length; start += 100) {
        const actions: TransactionAction[] = group.slice(start, start + 100).map((item) => ['upsert', itemToEntity(item), 'Replace']);
        await this.items.submitTransaction(actions);
      }
    }
  }

  /** Items in order, from position `from`, at most `limit` (all when left out), of one status if asked. */
  async listItems(jobId: string, options: { from?: number; limit?: number; status?: 'waiting' | 'released' } = {}): Promise<BulkItem[]> {
    await this.ensureTables();
    const filter =
      odata`PartitionKey eq ${jobId} and RowKey ge ${itemRowKey(options.from ?? 0)}` + (options.status ? odata` and status eq ${options.status}` : '');
    const items: BulkItem[] = [];
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const pages = this.items.listEntities<Record<string, unknown>>({ queryOptions: { filter } }).byPage({ maxPageSize: Math.min(1000, limit) });
    for await (const page of pages) {
      for (const entity of page) {
        items.push(itemFromEntity(entity));
        if (items.length >= limit) return items;
      }
    }
    return items;
  }

  private ensureTables(): Promise<void> {
    this.ready ??= Promise.all([createIfMissing(this.jobs), createIfMissing(this.items)])
      .then(() => undefined)
      .catch((error: unknown) => {
        this.ready = undefined;
        throw new StorageUnavailableError('create bulk tables', error);
      });
    return this.ready;
  }
}

async function createIfMissing(table: TableClient): Promise<void> {
  await table.createTable();
}

function isStatus(error: unknown, status: number): boolean {
  return error instanceof RestError && error.statusCode === status;
}
