import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { bulkStore } from '../shared/bulk/bulk-services';
import { receiveBulkJob } from '../shared/bulk/bulk-submit';
import { getServices } from '../shared/services';
import type { FunctionDefinition } from './definition';

export async function bulkSubmitHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const services = getServices();
  const body = new Uint8Array(await request.arrayBuffer());
  const answer = await receiveBulkJob(
    { body, headers: request.headers, url: request.url },
    { settings: services.settings, store: bulkStore(services), log: { info: (message) => context.log(message), warn: (message) => context.warn(message) } },
  );
  return { status: answer.status, headers: answer.headers, jsonBody: answer.jsonBody };
}

export const bulkSubmit: FunctionDefinition = {
  name: 'bulkSubmit',
  trigger: 'http',
  options: { route: 'bulk', methods: ['POST'], authLevel: 'function', handler: bulkSubmitHandler },
};
