import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { requestStores } from '../shared/request-stores';
import { getServices } from '../shared/services';
import { ticketHookFor } from '../shared/tickets/ticket-services';
import { MAX_CALLBACK_BYTES, receiveVerificationCallback } from '../shared/verification/callback-service';
import { CALLBACK_PATH } from '../shared/verification/presentation-request';
import type { FunctionDefinition } from './definition';
import { readSignedBody } from './http-body';
import { invocationLog } from './invocation-log';
import type { InvocationContext } from '@azure/functions';

/**
 * The Verified ID Request Service's callbacks. Anonymous at the host: the service can send only the
 * headers we gave it (an `api-key`), so the per-attempt key and the MAC'd state are checked by the handler.
 */
export async function verificationCallbackHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const services = getServices();
  const read = await readSignedBody(request, MAX_CALLBACK_BYTES);
  if ('refusal' in read) return read.refusal;
  const answer = await receiveVerificationCallback(
    { body: read.body, apiKey: request.headers.get('api-key') },
    { ...requestStores(services), settings: services.settings, tickets: ticketHookFor(services, invocationLog(context)), log: invocationLog(context) },
  );
  return { status: answer.status, headers: answer.headers, jsonBody: answer.jsonBody };
}

export const verificationCallback: FunctionDefinition = {
  name: 'verificationCallback',
  trigger: 'http',
  options: { route: CALLBACK_PATH.replace(/^\/api\//, ''), methods: ['POST'], authLevel: 'anonymous', handler: verificationCallbackHandler },
};
