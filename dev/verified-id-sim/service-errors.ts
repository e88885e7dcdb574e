import { randomBytes, randomUUID } from 'node:crypto';

/**
 * The Request Service's error body (learn.microsoft.com/entra/verified-id/error-codes): an outer code and
 * message fixed by the HTTP status, and an innererror naming what caused it.
 */
export interface ServiceErrorBody {
  requestId: string;
  date: string;
  mscv: string;
  error: {
    code: string;
    message: string;
    innererror: { code: InnerErrorCode; message: string; target?: string };
  };
}

/** The documented inner codes. */
export type InnerErrorCode = 'badOrMissingField' | 'notFound' | 'tokenError' | 'transientError';

/** Outer code and message per status, word for word from the documented table. */
const OUTER: Record<number, { code: string; message: string }> = {
  400: { code: 'badRequest', message: 'The request is invalid.' },
  401: { code: 'unauthorized', message: 'The requested resource requires authentication' },
  404: { code: 'notFound', message: "The requested resource doesn't exist." },
  405: { code: 'methodNotAllowed', message: "The requested method isn't allowed on the requested resource." },
  413: { code: 'payloadTooLarge', message: 'The payload is too large.' },
  415: { code: 'unsupportedMediaType', message: 'The specified media type is unsupported.' },
  500: { code: 'internalServerError', message: 'A generic error has occurred on the server.' },
};

export interface ServiceError {
  status: number;
  body: ServiceErrorBody;
}

export function serviceError(status: number, inner: { code: InnerErrorCode; message: string; target?: string }): ServiceError {
  const outer = OUTER[status] ?? OUTER[500]!;
  return {
    status,
    body: {
      requestId: randomUUID(),
      // The documented examples carry an RFC 1123 date ("Fri, 29 Apr 2022 11:20:19 GMT").
      date: new Date().toUTCString(),
      // An internal correlation vector in the real service; the shape of the examples, random here.
      mscv: `${randomBytes(12).toString('base64url').slice(0, 16)}.1`,
      error: { ...outer, innererror: inner.target === undefined ? { code: inner.code, message: inner.message } : inner },
    },
  };
}

/** A 400 for one field of the request, as the service answers a request it cannot take. */
export function badField(target: string, message: string): ServiceError {
  return serviceError(400, { code: 'badOrMissingField', message, target });
}
