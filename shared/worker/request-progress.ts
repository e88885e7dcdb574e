import type { AuditHead } from '../audit/audit-log';
import type { NewAuditEntry } from '../audit/audit-entry';
import type { RequestRow, StoredRequest } from '../requests/request-row';
import { RequestConflictError } from '../requests/request-store';
import { actorOf, auditHeadOf, targetOf } from './request-view';
import type { WorkerDependencies } from './worker-dependencies';

/** Someone else changed the request since this worker read it: it no longer holds it, and stops. */
export class LeaseLostError extends Error {
  constructor(requestId: string) {
    super(`request ${requestId} was taken over by another worker`);
    this.name = 'LeaseLostError';
  }
}

/**
 * One worker's hold on a request row: audit rows are appended to the request's chain, and every save
 * carries the chain's head, so the row always names the last audit row it knew of.
 *
 * Audits and saves run one at a time, in call order: concurrent deletions each check the lease and
 * write an intent row before their Graph call, and two saves racing on one ETag would look to this
 * worker as if another had taken the request over.
 */
export class RequestProgress {
  private head: AuditHead | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private row: StoredRequest,
    private readonly deps: Pick<WorkerDependencies, 'store' | 'audit'>,
    /** `quarantine`: the row failed its MAC check, and the only write allowed is the one that ends it. */
    private readonly options: { quarantine?: boolean } = {},
  ) {
    this.head = auditHeadOf(row);
  }

  get current(): StoredRequest {
    return this.row;
  }

  audit(entry: NewAuditEntry): Promise<void> {
    return this.serial(async () => {
      const written = await this.deps.audit.append(this.row.id, actorOf(this.row), targetOf(this.row), entry, this.head);
      this.head = { seq: written.seq, hash: written.hash };
    });
  }

  /** Writes the row with the given changes if nobody else changed it since; LeaseLostError otherwise. */
  save(changes: Partial<RequestRow>): Promise<StoredRequest> {
    return this.serial(async () => {
      const { etag, ...current } = this.row;
      const next: RequestRow = { ...current, ...changes, ...(this.head ? { auditSeq: this.head.seq, auditHash: this.head.hash } : {}) };
      try {
        this.row = await this.deps.store.update(next, etag, this.options.quarantine ? { quarantine: true } : {});
      } catch (error) {
        if (error instanceof RequestConflictError) throw new LeaseLostError(this.row.id);
        throw error;
      }
      return this.row;
    });
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
