import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { beatServices } from '../shared/beats/beat-services';
import { bulkStore } from '../shared/bulk/bulk-services';
import { MAX_BULK_BODY_BYTES } from '../shared/bulk/bulk-request';
import { receiveBulkJob } from '../shared/bulk/bulk-submit';
import { appGraph } from '../shared/pacing/app-graph';
import { requestStores } from '../shared/request-stores';
import { getServices } from '../shared/services';
import type { FunctionDefinition } from './definition';
import { invocationLog } from './invocation-log';
import { readSignedBody } from './http-body';

export async function bulkSubmitHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const services = getServices();
  const read = await readSignedBody(request, MAX_BULK_BODY_BYTES);
  if ('refusal' in read) return read.refusal;
  const { integrity, index } = requestStores(services);
  const log = invocationLog(context);
  const answer = await receiveBulkJob(
    { body: read.body, headers: request.headers, url: request.url },
    { settings: services.settings, store: bulkStore(services), integrity, index, graph: appGraph(services), beats: beatServices(services, log), log },
  );
  return { status: answer.status, headers: answer.headers, jsonBody: answer.jsonBody };
}

export const bulkSubmit: FunctionDefinition = {
  name: 'bulkSubmit',
  trigger: 'http',
  options: { route: 'bulk', methods: ['POST'], authLevel: 'function', handler: bulkSubmitHandler },
};
