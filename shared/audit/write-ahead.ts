import type { AuditEntry, NewAuditEntry } from './audit-entry';

/**
 * Write-ahead audit of Graph writes. Before a write leaves, its intent is appended to the request's
 * chain (method, path, the client-request-id sent with it); after Graph answers, its outcome. A
 * process killed between the two leaves an open intent, which the next run resolves with what Graph
 * says now, so the write that removed a method is in the trail even when its answer was never read.
 *
 *   intent <METHOD> /<version><path>     outcome sending    graphRequestIds [client-request-id]
 *   sent <METHOD> /<version><path>       outcome HTTP nnn   graphRequestIds [client-request-id, request-id]
 *   resolved <METHOD> /<version><path>   outcome gone | still-registered | unknown
 */
export interface WriteIntent {
  method: string;
  /** `/v1.0/users/...`, without the query string. */
  path: string;
  clientRequestId: string;
}

const INTENT = /^intent (DELETE|POST|PATCH|PUT) (\/\S+)$/;

export function intentEntry(intent: WriteIntent, detail?: string): NewAuditEntry {
  return {
    action: `intent ${intent.method} ${intent.path}`,
    outcome: 'sending',
    detail: detail ?? `client-request-id ${intent.clientRequestId}`,
    graphRequestIds: [intent.clientRequestId],
  };
}

export function sentEntry(intent: WriteIntent, outcome: { status: number; requestId?: string } | { noAnswer: string }): NewAuditEntry {
  if ('noAnswer' in outcome) {
    return {
      action: `sent ${intent.method} ${intent.path}`,
      outcome: 'no answer',
      detail: `no answer from Graph (${outcome.noAnswer}); it may or may not have been carried out`,
      graphRequestIds: [intent.clientRequestId],
    };
  }
  return {
    action: `sent ${intent.method} ${intent.path}`,
    outcome: `HTTP ${outcome.status}`,
    graphRequestIds: outcome.requestId && outcome.requestId !== intent.clientRequestId ? [intent.clientRequestId, outcome.requestId] : [intent.clientRequestId],
  };
}

export function resolvedEntry(intent: WriteIntent, outcome: 'gone' | 'still-registered' | 'unknown', detail: string, requestId?: string): NewAuditEntry {
  return {
    action: `resolved ${intent.method} ${intent.path}`,
    outcome,
    detail,
    graphRequestIds: requestId && requestId !== intent.clientRequestId ? [intent.clientRequestId, requestId] : [intent.clientRequestId],
  };
}

/** Intents in the trail that no later row settles (the process stopped between the write and its record). */
export function openIntents(entries: readonly AuditEntry[]): WriteIntent[] {
  const settled = new Set<string>();
  const open: WriteIntent[] = [];
  for (const entry of [...entries].sort((a, b) => b.seq - a.seq)) {
    const match = INTENT.exec(entry.action);
    const clientRequestId = entry.graphRequestIds[0];
    if (match && clientRequestId) {
      if (!settled.has(clientRequestId)) open.push({ method: match[1]!, path: match[2]!, clientRequestId });
      continue;
    }
    if (/^(sent|resolved) /.test(entry.action)) for (const id of entry.graphRequestIds) settled.add(id);
  }
  return open.reverse();
}
