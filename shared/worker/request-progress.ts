import { FenceLostError, type AuditFence, type AuditHead } from '../audit/audit-log';
import { GENESIS_HASH } from '../audit/audit-entry';
import type { NewAuditEntry } from '../audit/audit-entry';
import type { RequestRow, StoredRequest } from '../requests/request-row';
import { RequestConflictError } from '../requests/request-store';
import { actorOf, auditHeadOf, targetOf } from './request-view';
import { parseVerification } from '../verification/verification-state';
import type { WorkerDependencies } from './worker-dependencies';

const EMPTY_TRAIL: AuditHead = { seq: 0, hash: GENESIS_HASH };

/** Someone else changed the request since this worker read it: it no longer holds it, and stops. */
export class LeaseLostError extends Error {
  constructor(requestId: string) {
    super(`request ${requestId} was taken over by another worker`);
    this.name = 'LeaseLostError';
  }
}

/**
 * One worker's hold on a request row: audit rows are appended to the request's chain, and every save
 * carries the chain's head, so the row names an audit row that exists.
 *
 * Rows may be noted (kept in memory) and written later together: one entity-group transaction for all
 * of them, before the next row that must be written at once (`audit`, a Graph write's intent), before
 * the next save (which then names them as its head), or on `flush`. A noted row that was never written
 * is lost with the process; only what the recovery rules can do without (a step's outcome, a write's
 * answer) is noted: a write's intent is always written before the write leaves.
 *
 * Audits and saves run one at a time, in call order: concurrent deletions each write an intent row
 * before their Graph call, and two saves racing on one ETag would look to this worker as if another had
 * taken the request over.
 */
export class RequestProgress {
  private head: AuditHead | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private noted: NewAuditEntry[] = [];
  private fence: AuditFence | undefined;

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

  /**
   * From now on every batch of rows this holder writes also writes the request's audit fence, on the
   * condition that nobody else wrote it since (AuditFence): a holder taken over gets LeaseLostError from
   * its next batch, and so sends no Graph write after it.
   */
  holdFence(fence: AuditFence): void {
    this.fence = fence;
  }

  /** Rows noted and not yet written. */
  get pendingRows(): number {
    return this.noted.length;
  }

  /** Writes the row now, with any rows noted before it, in one transaction. */
  audit(entry: NewAuditEntry): Promise<void> {
    this.noted.push(entry);
    return this.flush();
  }

  /** Keeps the row to be written with the next audit, flush or save, in the order noted. */
  note(entry: NewAuditEntry): void {
    this.noted.push(entry);
  }

  /** Writes the noted rows, if any, in one transaction. */
  flush(): Promise<void> {
    return this.serial(() => this.writeNoted());
  }

  private async writeNoted(): Promise<void> {
    if (this.noted.length === 0) return;
    const entries = this.noted;
    this.noted = [];
    try {
      // A row that names no head yet has, as a rule, no trail yet: the rows are numbered from 1 without
      // reading it first. Should someone have written there meanwhile, the insert conflicts and the
      // trail's head is read then.
      const written = await this.deps.audit.appendMany(this.row.id, actorOf(this.row), targetOf(this.row), entries, this.head ?? EMPTY_TRAIL, this.fence);
      const last = written[written.length - 1];
      if (last) this.head = { seq: last.seq, hash: last.hash };
    } catch (error) {
      if (error instanceof FenceLostError) throw new LeaseLostError(this.row.id);
      // Not written: kept, so that a later flush (the failure path's own save) still records them.
      this.noted = [...entries, ...this.noted];
      throw error;
    }
  }

  /**
   * Writes the row with the given changes if nobody else changed what this holder owns since;
   * LeaseLostError otherwise. `changes` may be a function of the row as it is, for changes made from
   * fields others write too (the outbox). Others write a few fields while a worker holds a request (the
   * ticket outbox its notes, the verification page its browser binding, the intake a link to a new
   * attempt): such a write is taken in and the save tried again, so a ticket note never stops a reset.
   */
  save(changes: Partial<RequestRow> | ((current: StoredRequest) => Partial<RequestRow>)): Promise<StoredRequest> {
    return this.serial(async () => {
      await this.writeNoted();
      return this.writeRow(changes);
    });
  }

  /**
   * Writes the row ahead of the rows noted so far (they follow with the next flush or save, after it):
   * for a claim, which must have landed before this holder writes anything to the trail. The row names
   * the head as it was before them.
   */
  saveAhead(changes: Partial<RequestRow>): Promise<StoredRequest> {
    return this.serial(() => this.writeRow(changes));
  }

  private async writeRow(changes: Partial<RequestRow> | ((current: StoredRequest) => Partial<RequestRow>)): Promise<StoredRequest> {
    for (let attempt = 0; ; attempt += 1) {
      const { etag, ...current } = this.row;
      const made = typeof changes === 'function' ? changes(this.row) : changes;
      const next: RequestRow = { ...current, ...made, ...(this.head ? { auditSeq: this.head.seq, auditHash: this.head.hash } : {}) };
      try {
        this.row = await this.deps.store.update(next, etag, this.options.quarantine ? { quarantine: true } : {});
        return this.row;
      } catch (error) {
        if (!(error instanceof RequestConflictError)) throw error;
        const fresh = attempt < 5 && !this.options.quarantine ? await this.deps.store.get(this.row.id) : undefined;
        if (!fresh || !fresh.trusted || !onlySharedFieldsChanged(this.row, fresh)) throw new LeaseLostError(this.row.id);
        this.row = withSharedFieldsOf(this.row, fresh);
        const freshHead = auditHeadOf(fresh);
        if (freshHead && (!this.head || freshHead.seq > this.head.seq)) this.head = freshHead;
      }
    }
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** Fields a request's holder owns: a change to any of them by someone else means the request was taken over. */
const HOLDER_FIELDS = ['status', 'statusReason', 'leaseUntil', 'attempts', 'engineState', 'result', 'completedAt'] as const;

function onlySharedFieldsChanged(mine: StoredRequest, fresh: StoredRequest): boolean {
  if (HOLDER_FIELDS.some((name) => mine[name] !== fresh[name])) return false;
  const a = parseVerification(mine.verification);
  const b = parseVerification(fresh.verification);
  if (!a || !b) return mine.verification === fresh.verification;
  // Of the verification, only the page's browser binding and who was shown the pass change on the side.
  const core = (v: NonNullable<typeof a>) => JSON.stringify({ ...v, pageBinding: undefined, passShownTo: undefined, passShownAt: undefined });
  return core(a) === core(b);
}

/** The row as this holder has it, with what others wrote meanwhile: outbox, audit head, attempt link, a finish asked in the console, page binding. */
function withSharedFieldsOf(mine: StoredRequest, fresh: StoredRequest): StoredRequest {
  const a = parseVerification(mine.verification);
  const b = parseVerification(fresh.verification);
  const verification = a && b ? JSON.stringify({ ...a, pageBinding: b.pageBinding, passShownTo: b.passShownTo, passShownAt: b.passShownAt }) : fresh.verification;
  return { ...mine, ticketUpdates: fresh.ticketUpdates, ticketDueAt: fresh.ticketDueAt, nextRequestId: fresh.nextRequestId, finish: fresh.finish, auditSeq: fresh.auditSeq, auditHash: fresh.auditHash, verification, etag: fresh.etag, trusted: fresh.trusted };
}
