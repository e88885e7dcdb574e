/** One Graph write budget for the whole app: a paced transport, and the shared state in GraphPacing. */
export { pacedGraph, type PacedGraph, type PacedGraphOptions, type PacingStats } from './paced-graph';
export { PacingStore, type ThrottleState, type DispatchPacing } from './pacing-store';
export { TokenBucket } from './token-bucket';
export { writeCount, throttledIn } from './write-kind';
export { appGraph } from './app-graph';
export { withWriteHooks, isHookable, type WriteHooks, type WriteOutcome, type HookableTransport } from './write-hooks';
