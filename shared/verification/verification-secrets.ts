import { timingSafeEqual } from 'node:crypto';
import type { RequestIntegrity } from '../requests/request-integrity';
import { isRequestId } from '../requests/request-row';

/**
 * The values that authenticate a verification, derived under INTAKE_MAC_KEY each time they are needed,
 * so none of them is ever stored, logged or shown where it should not be:
 *  - the page token in the link handed to the person (shown to the agent, since they hand it over);
 *  - each presentation request's callback `state` (the request id and attempt, MAC'd) and `api-key`
 *    header, which only the Request Service sees.
 * Each has its own label, so one can never stand in for another.
 */
export class VerificationSecrets {
  constructor(private readonly integrity: RequestIntegrity) {}

  pageToken(requestId: string, startedAt: string): string {
    return this.integrity.mac('verification-page', `${requestId}|${startedAt}`);
  }

  checkPageToken(requestId: string, startedAt: string, given: string): boolean {
    return same(this.pageToken(requestId, startedAt), given);
  }

  callbackState(requestId: string, attempt: number): string {
    return `${requestId}.${attempt}.${this.integrity.mac('verification-state', `${requestId}|${attempt}`)}`;
  }

  /** The request and attempt a callback's `state` names, when it is one this service made; undefined otherwise. */
  readState(state: string): { requestId: string; attempt: number } | undefined {
    const match = /^([0-9a-f-]{36})\.([1-9][0-9]{0,2})\.([A-Za-z0-9_-]{43})$/.exec(state);
    if (!match || !isRequestId(match[1]!)) return undefined;
    const requestId = match[1]!;
    const attempt = Number(match[2]);
    return same(this.callbackState(requestId, attempt), state) ? { requestId, attempt } : undefined;
  }

  apiKey(requestId: string, attempt: number): string {
    return this.integrity.mac('verification-api-key', `${requestId}|${attempt}`);
  }

  checkApiKey(requestId: string, attempt: number, given: string | null | undefined): boolean {
    return typeof given === 'string' && same(this.apiKey(requestId, attempt), given);
  }
}

/** Constant-time comparison of two texts of any length. */
function same(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
