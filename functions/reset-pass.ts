import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { collectTemporaryAccessPass } from '../shared/passes/collect-pass';
import { requestStores } from '../shared/request-stores';
import { getServices } from '../shared/services';
import type { FunctionDefinition } from './definition';
import { readSignedBody } from './http-body';

export async function resetPassHandler(request: HttpRequest): Promise<HttpResponseInit> {
  const services = getServices();
  const read = await readSignedBody(request, 4 * 1024);
  if ('refusal' in read) return read.refusal;
  const answer = await collectTemporaryAccessPass(
    { id: request.params.id ?? '', body: read.body, headers: request.headers },
    { ...requestStores(services), settings: services.settings },
  );
  return { status: answer.status, headers: answer.headers, jsonBody: answer.jsonBody };
}

export const resetPass: FunctionDefinition = {
  name: 'resetPass',
  trigger: 'http',
  options: { route: 'resets/{id}/temporary-access-pass', methods: ['POST'], authLevel: 'function', handler: resetPassHandler },
};
