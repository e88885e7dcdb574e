import type { z } from 'zod';
import type { GraphRequest, GraphResponse, GraphTransport } from './http';
import { callGraph, type CallOptions, type RetryPolicy } from './retry';
import { graphErrorText } from './schemas';
import type { ResetState, StepEvent } from './state';

/** An answer the engine cannot proceed on (403 missing permission, 500 after retries, a body it does not understand). */
export class GraphCallError extends Error {
  constructor(
    readonly status: number,
    readonly requestId: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'GraphCallError';
  }
}

export interface StepContext {
  graph: GraphTransport;
  policy: RetryPolicy;
  state: ResetState;
  now(): Date;
  call(request: GraphRequest, options?: CallOptions): Promise<GraphResponse>;
  /** Appends an event to the state and hands a copy to the caller's onStep, one at a time, in order. */
  record(event: Omit<StepEvent, 'at'>): Promise<void>;
}

export function createStepContext(
  graph: GraphTransport,
  policy: RetryPolicy,
  state: ResetState,
  onStep: ((state: ResetState, event: StepEvent) => Promise<void>) | undefined,
): StepContext & { flush(): Promise<void> } {
  let chain: Promise<void> = Promise.resolve();
  const now = () => new Date(policy.now());
  return {
    graph,
    policy,
    state,
    now,
    call: (request, options) => callGraph(graph, request, policy, options),
    record(event) {
      const full: StepEvent = { ...event, at: now().toISOString() };
      state.events.push(full);
      state.updatedAt = full.at;
      // Concurrent deletions finish in any order; the caller persists snapshots strictly one after another.
      const copy = structuredClone(state);
      chain = chain.then(() => onStep?.(copy, full));
      return chain;
    },
    flush: () => chain,
  };
}

/** Parses a 2xx body with its schema, or explains what was wrong with the answer. */
export function expectBody<T extends z.ZodTypeAny>(response: GraphResponse, schema: T, what: string): z.output<T> {
  if (response.status < 200 || response.status > 299) throw failure(response, what);
  const parsed = schema.safeParse(response.body);
  if (!parsed.success) {
    throw new GraphCallError(response.status, response.requestId, `${what}: unexpected answer from Graph (${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message})`);
  }
  return parsed.data;
}

export function failure(response: GraphResponse, what: string): GraphCallError {
  const text = graphErrorText(response.body) ?? `HTTP ${response.status}`;
  const hint =
    response.status === 403
      ? ' (the app identity lacks a Graph permission or role: see the deployment notes)'
      : response.status === 401
        ? ' (no valid token: check the managed identity)'
        : '';
  return new GraphCallError(response.status, response.requestId, `${what} failed: ${text}${hint}`);
}
