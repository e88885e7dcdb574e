import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { intakeServices } from '../shared/intake/intake-services';
import { getResetStatus } from '../shared/intake/status-service';
import { getServices } from '../shared/services';
import { requestStores } from '../shared/request-stores';
import type { FunctionDefinition } from './definition';
import { invocationLog } from './invocation-log';

export async function resetStatusHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const services = getServices();
  const { store, audit } = intakeServices(services);
  const { secrets } = requestStores(services);
  const answer = await getResetStatus(request.params.id ?? '', { store, audit, secrets, baseUrl: services.settings.CONSOLE_BASE_URL, log: invocationLog(context) });
  return { status: answer.status, headers: answer.headers, jsonBody: answer.jsonBody };
}

export const resetStatus: FunctionDefinition = {
  name: 'resetStatus',
  trigger: 'http',
  options: { route: 'resets/{id}', methods: ['GET'], authLevel: 'function', handler: resetStatusHandler },
};
