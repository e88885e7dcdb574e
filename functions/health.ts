import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { cachedHealth, checkHealth } from '../shared/health';
import { getServices } from '../shared/services';
import type { FunctionDefinition } from './definition';

/**
 * Anonymous: only `{status}`, from a probe cached about 30 s. Versions, endpoints and error texts help
 * an attacker and each probe costs a Graph call, so they are behind a function key (`/health/details`).
 */
export async function healthHandler(_request: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> {
  const report = await cachedHealth(getServices());
  return { status: report.status === 'ok' ? 200 : 503, headers: { 'cache-control': 'no-store' }, jsonBody: { status: report.status } };
}

export async function healthDetailsHandler(_request: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> {
  const report = await checkHealth(getServices());
  return { status: report.status === 'ok' ? 200 : 503, headers: { 'cache-control': 'no-store' }, jsonBody: report };
}

export const health: FunctionDefinition = {
  name: 'health',
  trigger: 'http',
  options: { route: 'health', methods: ['GET'], authLevel: 'anonymous', handler: healthHandler },
};

export const healthDetails: FunctionDefinition = {
  name: 'healthDetails',
  trigger: 'http',
  options: { route: 'health/details', methods: ['GET'], authLevel: 'function', handler: healthDetailsHandler },
};
