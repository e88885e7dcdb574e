/**
 * What every HTTP route answers (intake, status, bulk, schedules, pass collection, the console): an
 * HTTP status, headers and a JSON body, without any Azure Functions type. Every error body is
 * `{ error: { code, message, details? } }`.
 */
export interface HttpAnswer {
  status: number;
  headers?: Record<string, string>;
  jsonBody: unknown;
}

export interface FieldProblem {
  path: string;
  message: string;
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** A refusal decided by the intake; becomes an error answer. */
export class IntakeRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'IntakeRefusal';
  }

  toAnswer(extraHeaders: Record<string, string> = {}): HttpAnswer {
    return errorAnswer(this.status, this.code, this.message, this.details, { ...extraHeaders, ...this.headers });
  }
}

export function errorAnswer(
  status: number,
  code: string,
  message: string,
  details?: unknown,
  headers: Record<string, string> = {},
): HttpAnswer {
  const body: ErrorBody = { error: details === undefined ? { code, message } : { code, message, details } };
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, jsonBody: body };
}

export function jsonAnswer(status: number, body: unknown, headers: Record<string, string> = {}): HttpAnswer {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, jsonBody: body };
}

export const badRequest = (message: string, problems: FieldProblem[]) =>
  new IntakeRefusal(400, 'invalid_request', message, problems);

/** A 400 for one field, with its path. */
export const fieldError = (path: string, message: string) => badRequest(`${path} ${message}`, [{ path, message }]);

export const refused = (code: string, message: string, details?: unknown) => new IntakeRefusal(422, code, message, details);
