import type { ResetState } from '../graph';
import type { RequestRow } from '../requests/request-row';
import type { RequestProgress } from './request-progress';
import { leaseMs, type WorkerDependencies } from './worker-dependencies';

/**
 * This invocation's claim on the request: status `running`, the attempt counted, a lease, written with
 * the row's ETag, so that of two invocations of one request only one goes on.
 *
 * It is made once the run has something to write, not when the message arrives: the Graph reads before
 * it (resolve, guards, snapshot, plan) change nothing, so the claim carries the state they produced
 * and the one write does two things (it takes the request, and it keeps the snapshot and plan before
 * anything is removed). It is made before anything reaches the audit trail, a Graph write or a
 * verification request, so an invocation that loses the race has written nothing anywhere.
 */
export class Claim {
  private made: Promise<void> | undefined;
  private written = false;
  private staged: ResetState | undefined;

  constructor(
    private readonly progress: RequestProgress,
    private readonly deps: Pick<WorkerDependencies, 'settings'>,
    /** The attempt this invocation is: the row's count plus one. */
    readonly attempt: number,
  ) {}

  /** Whether the claim has been written (this invocation holds the request). */
  get isMade(): boolean {
    return this.written;
  }

  /** The engine's latest state: written with the claim, and with any save made to renew the lease. */
  stage(state: ResetState): void {
    this.staged = state;
  }

  /** What a save adds to persist the latest state (empty when there is none). */
  state(): Partial<RequestRow> {
    return this.staged ? { engineState: JSON.stringify(this.staged) } : {};
  }

  /** Writes the claim if it is not written yet; LeaseLostError when another invocation got there first. */
  ensure(): Promise<void> {
    this.made ??= this.progress
      .saveAhead({
        status: 'running',
        statusReason: undefined,
        attempts: this.attempt,
        leaseUntil: new Date(Date.now() + leaseMs(this.deps)).toISOString(),
        ...this.state(),
      })
      .then(() => {
        this.written = true;
      });
    return this.made;
  }
}
