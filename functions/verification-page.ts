import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { requestStores } from '../shared/request-stores';
import { getServices } from '../shared/services';
import { verificationAsset } from '../shared/verification/page-assets';
import { verificationPage, type PageAction } from '../shared/verification/page-service';
import type { FunctionDefinition } from './definition';
import { readSignedBody } from './http-body';
import { invocationLog } from './invocation-log';

/**
 * The page the person being verified opens (anonymous: the link's token and the browser's own secret
 * are its authentication, checked in shared/verification/page-service.ts), and its script and styles.
 */
export const verificationPageShell: FunctionDefinition = {
  name: 'verificationPageShell',
  trigger: 'http',
  options: {
    route: 'verify/{id}/{token}',
    methods: ['GET'],
    authLevel: 'anonymous',
    handler: async () => {
      const asset = verificationAsset('verify.html');
      return { status: asset.status, headers: { ...asset.headers, 'cache-control': 'no-store' }, body: asset.body };
    },
  },
};

export const verificationPageAssets: FunctionDefinition = {
  name: 'verificationPageAssets',
  trigger: 'http',
  options: {
    route: 'verify-assets/{file}',
    methods: ['GET'],
    authLevel: 'anonymous',
    handler: async (request) => {
      const asset = verificationAsset(request.params.file ?? '');
      return { status: asset.status, headers: asset.headers, body: asset.body };
    },
  },
};

const ACTIONS: readonly PageAction[] = ['open', 'new-code', 'pass'];

export async function verificationPageActionHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const action = request.params.action as PageAction;
  if (!ACTIONS.includes(action)) return { status: 404, jsonBody: { error: { code: 'not_found', message: 'no such action' } } };
  const read = await readSignedBody(request, 1024);
  if ('refusal' in read) return read.refusal;
  const services = getServices();
  const answer = await verificationPage(
    { id: request.params.id ?? '', token: request.params.token ?? '', action, body: read.body },
    { ...requestStores(services), settings: services.settings, log: invocationLog(context) },
  );
  return { status: answer.status, headers: { ...answer.headers, 'x-content-type-options': 'nosniff' }, jsonBody: answer.jsonBody };
}

export const verificationPageAction: FunctionDefinition = {
  name: 'verificationPageAction',
  trigger: 'http',
  options: { route: 'verify/{id}/{token}/{action}', methods: ['POST'], authLevel: 'anonymous', handler: verificationPageActionHandler },
};

export const verificationPageFunctions: readonly FunctionDefinition[] = [verificationPageShell, verificationPageAssets, verificationPageAction];
