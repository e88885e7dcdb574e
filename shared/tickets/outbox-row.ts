import type { AuditHead, AuditLog } from '../audit/audit-log';
import type { NewAuditEntry } from '../audit/audit-entry';
import type { StoredRequest } from '../requests/request-row';
import { RequestConflictError, type RequestStore } from '../requests/request-store';
import { actorOf, auditHeadOf, targetOf } from '../worker/request-view';
import { outboxFields, parseOutbox, type OutboxState } from './outbox-state';

/**
 * A request row seen by the outbox: every change to the outbox state is a read-modify-write of the row
 * under its ETag, re-applied to a fresh read when someone else wrote first (the console recording a pass
 * reveal, another outbox invocation). Audit rows are appended to the request's chain and the row's
 * audit head follows them.
 */
export class OutboxRow {
  private head: AuditHead | undefined;

  constructor(
    private row: StoredRequest,
    private state: OutboxState,
    private readonly deps: { store: RequestStore; audit: AuditLog },
  ) {
    this.head = auditHeadOf(row);
  }

  get current(): StoredRequest {
    return this.row;
  }

  get outbox(): OutboxState {
    return this.state;
  }

  /**
   * Applies `mutate` to a copy of the state and saves it. `mutate` returns false to leave things as they
   * are (what it wanted to claim is no longer there to claim); then nothing is written and false returned.
   */
  async change(mutate: (state: OutboxState, row: StoredRequest) => boolean | void, now: () => Date): Promise<boolean> {
    for (let attempt = 0; attempt < 6; attempt += 1) {
      const next = structuredClone(this.state);
      if (mutate(next, this.row) === false) return false;
      const { etag, ...fields } = this.row;
      const head = this.latestHead();
      try {
        this.row = await this.deps.store.update(
          { ...fields, ...outboxFields(next, now()), ...(head ? { auditSeq: head.seq, auditHash: head.hash } : {}) },
          etag,
        );
        this.state = next;
        return true;
      } catch (error) {
        if (!(error instanceof RequestConflictError)) throw error;
        await this.reload();
      }
    }
    throw new Error(`request ${this.row.id}: the outbox state kept changing under concurrent writers`);
  }

  async audit(entry: NewAuditEntry): Promise<void> {
    const written = await this.deps.audit.append(this.row.id, actorOf(this.row), targetOf(this.row), entry, this.latestHead());
    this.head = { seq: written.seq, hash: written.hash };
  }

  async reload(): Promise<void> {
    const fresh = await this.deps.store.get(this.row.id);
    if (!fresh) throw new Error(`request ${this.row.id} is gone`);
    const state = parseOutbox(fresh.ticketUpdates);
    if (!state) throw new Error(`request ${this.row.id}: its outbox state no longer parses`);
    this.row = fresh;
    this.state = state;
  }

  private latestHead(): AuditHead | undefined {
    const stored = auditHeadOf(this.row);
    if (!stored) return this.head;
    if (!this.head) return stored;
    return stored.seq >= this.head.seq ? stored : this.head;
  }
}
