import type { ZodIssue } from 'zod';
import type { Settings } from '../config';
import type { NormalizedRequest } from '../requests/canonical-request';
import type { RequestSource } from '../requests/request-row';
import { badRequest, type FieldProblem } from '../http/answer';
import type { Authentication, HeaderLookup } from './signature';

/** What a source adapter makes of a parsed body. */
export interface AdaptedRequest {
  source: RequestSource;
  request: NormalizedRequest;
  /** The request id derives from this (shared/intake/request-id.ts); only signed content goes into it. */
  idempotencyKey: string;
  /** The delivery's own id (webhook-id, X-Atlassian-Webhook-Identifier), kept for the record only. */
  deliveryId?: string;
}

export interface AdapterInput {
  body: Record<string, unknown>;
  headers: HeaderLookup;
  settings: Settings;
  /** How the delivery was authenticated (its webhook-id for Standard Webhooks). */
  auth: Authentication;
  /** The body's signed `timestamp` in epoch milliseconds, when it has one (checked already). */
  signedAt?: number;
}

export type Adapter = (input: AdapterInput) => AdaptedRequest;

export function formatPath(path: readonly (string | number)[], prefix = ''): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out || '(body)';
}

export function issuesToProblems(issues: readonly ZodIssue[], prefix = ''): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push({ path: formatPath([...issue.path, key], prefix), message: 'is not a known field' });
      continue;
    }
    if (issue.code === 'invalid_union' && issue.unionErrors.length > 0) {
      // Name the problem of the alternative that came closest (the one with the fewest issues).
      const best = [...issue.unionErrors].sort((a, b) => a.issues.length - b.issues.length)[0]!;
      const nested = issuesToProblems(best.issues, prefix);
      if (nested.length > 0) {
        problems.push(...nested);
        continue;
      }
    }
    problems.push({ path: formatPath(issue.path, prefix), message: issue.message });
  }
  return problems;
}

export function schemaError(issues: readonly ZodIssue[], prefix = ''): Error {
  const problems = issuesToProblems(issues, prefix);
  return badRequest(
    `the request does not have the expected shape: ${problems
      .slice(0, 5)
      .map((problem) => `${problem.path} ${problem.message}`)
      .join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`,
    problems,
  );
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An own property (never one from the prototype chain, so `__proto__` and `constructor` are plain keys). */
export function own(record: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}

/** At most `max` characters, with control characters (CR/LF that could forge log lines) made spaces. */
export function clip(value: string, max: number): string {
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}
