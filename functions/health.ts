import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { checkHealth } from '../shared/health';
import { getServices } from '../shared/services';
import type { FunctionDefinition } from './definition';

export async function healthHandler(_request: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> {
  const report = await checkHealth(getServices());
  return { status: report.status === 'ok' ? 200 : 503, jsonBody: report };
}

export const health: FunctionDefinition = {
  name: 'health',
  trigger: 'http',
  options: { route: 'health', methods: ['GET'], authLevel: 'anonymous', handler: healthHandler },
};
