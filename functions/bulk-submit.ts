import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { BulkStore } from '../shared/bulk/bulk-store';
import { receiveBulkJob } from '../shared/bulk/bulk-submit';
import { getServices, type Services } from '../shared/services';
import { TABLES } from '../shared/storage/names';
import type { FunctionDefinition } from './definition';

const stores = new WeakMap<Services, BulkStore>();

export function bulkStore(services: Services): BulkStore {
  let store = stores.get(services);
  if (!store) {
    store = new BulkStore(services.storage.table(TABLES.bulkJobs), services.storage.table(TABLES.bulkItems));
    stores.set(services, store);
  }
  return store;
}

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
