import type { GraphRequest, GraphResponse, GraphTransport } from '../graph/http';
import { writeCount } from './write-kind';

/**
 * What one invocation (one reset) adds around each of its Graph writes: how long a write may wait for
 * its token, a check right before it is sent (the worker's lease, the audit's intent row), and a
 * record after it. Reads pass straight through.
 */
export interface WriteHooks {
  /** The longest this invocation may wait for a write token (ms): GRAPH_MAX_INLINE_WAIT_SECONDS, and its lease. */
  maxWaitMs(): number;
  /**
   * Called after the token and right before the write leaves: throws to send nothing (the lease was
   * lost), and returns the request to send (with its client-request-id).
   */
  beforeWrite(request: GraphRequest): Promise<GraphRequest>;
  /** Called once the write was answered, or got no answer at all. */
  afterWrite(request: GraphRequest, outcome: WriteOutcome): Promise<void>;
}

export type WriteOutcome = { response: GraphResponse } | { error: unknown };

/** A transport that can take per-invocation hooks (the paced app transport). */
export interface HookableTransport extends GraphTransport {
  withHooks(hooks: WriteHooks): GraphTransport;
}

export function isHookable(transport: GraphTransport): transport is HookableTransport {
  return typeof (transport as Partial<HookableTransport>).withHooks === 'function';
}

/**
 * The invocation's transport: the paced one with its hooks, or, for a transport without pacing
 * (tests, tools), the hooks around each write directly.
 */
export function withWriteHooks(transport: GraphTransport, hooks: WriteHooks): GraphTransport {
  if (isHookable(transport)) return transport.withHooks(hooks);
  return {
    origin: transport.origin,
    async send(request) {
      if (writeCount(request) === 0) return transport.send(request);
      const sent = await hooks.beforeWrite(request);
      let response: GraphResponse;
      try {
        response = await transport.send(sent);
      } catch (error) {
        await hooks.afterWrite(sent, { error });
        throw error;
      }
      await hooks.afterWrite(sent, { response });
      return response;
    },
  };
}
