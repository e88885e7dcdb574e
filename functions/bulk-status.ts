import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { bulkStore } from '../shared/bulk/bulk-services';
import { getBulkStatus } from '../shared/bulk/bulk-status';
import { getServices } from '../shared/services';
import type { FunctionDefinition } from './definition';
import { invocationLog } from './invocation-log';

export async function bulkStatusHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const query = request.query;
  const answer = await getBulkStatus(
    request.params.id ?? '',
    { offset: query.get('offset'), limit: query.get('limit'), status: query.get('status'), format: query.get('format') },
    { store: bulkStore(getServices()), url: request.url, log: invocationLog(context) },
  );
  return 'body' in answer ? { status: answer.status, headers: answer.headers, body: answer.body } : { status: answer.status, headers: answer.headers, jsonBody: answer.jsonBody };
}

export const bulkStatus: FunctionDefinition = {
  name: 'bulkStatus',
  trigger: 'http',
  options: { route: 'bulk/{id}', methods: ['GET'], authLevel: 'function', handler: bulkStatusHandler },
};
