import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { errorAnswer } from '../shared/http/answer';
import { readBodyWithin } from '../shared/http/read-body';

/**
 * The body of a signed route, read at most `maxBytes` (every signed route uses it): the exact bytes
 * for the signature check, or the 413 answer to send instead.
 */
export async function readSignedBody(request: HttpRequest, maxBytes: number): Promise<{ body: Uint8Array } | { refusal: HttpResponseInit }> {
  const read = await readBodyWithin(request.body as ReadableStream<Uint8Array> | null, request.headers.get('content-length'), maxBytes);
  if (read.ok) return { body: read.body };
  const limit = maxBytes >= 1024 * 1024 ? `${maxBytes / 1024 / 1024} MiB` : `${maxBytes / 1024} KiB`;
  const answer = errorAnswer(413, 'body_too_large', `the body is larger than ${limit}`);
  return { refusal: { status: answer.status, headers: answer.headers, jsonBody: answer.jsonBody } };
}
