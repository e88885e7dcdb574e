import { errorAnswer, type HttpAnswer } from '../http/answer';

/**
 * The answer to revealing or collecting a pass that a later request for the same user voided: Graph
 * keeps one Temporary Access Pass per user, so that request's pass deleted this one in Entra ID, and
 * handing it out would give someone a pass that does not work as if it did. 410, naming the request
 * whose pass is the user's current one.
 */
export function supersededAnswer(superseded: { byRequestId: string; at: string }, headers: Record<string, string>): HttpAnswer {
  return errorAnswer(
    410,
    'pass_superseded',
    `this pass was superseded by request ${superseded.byRequestId} at ${superseded.at}: issuing that request's pass deleted this one in Entra ID (a user has one pass at a time), so it is void; reveal the pass of request ${superseded.byRequestId} instead`,
    { supersededBy: superseded.byRequestId, at: superseded.at },
    headers,
  );
}

/** The audit row's words for a refused reveal or collection of a superseded pass. */
export function supersededDetail(who: string, superseded: { byRequestId: string; at: string }): string {
  return `asked for by ${who}; refused: superseded by request ${superseded.byRequestId} at ${superseded.at}, the pass was void`;
}
