import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { getBulkStatus } from '../shared/bulk/bulk-status';
import { checkHealth } from '../shared/health';
import { errorAnswer, jsonAnswer, type HttpAnswer } from '../shared/http/answer';
import { consoleAuthority } from '../shared/console/authority';
import { consoleServices, type ConsoleServices } from '../shared/console/console-services';
import { listRequests, requestDetail } from '../shared/console/console-views';
import { listBulkJobs } from '../shared/console/bulk-views';
import { listSchedules } from '../shared/console/schedule-views';
import { admitPerson, type ConsoleNeed, type SignedInPerson } from '../shared/console/person-gate';
import { managerAttestation } from '../shared/verification/attestation';
import { appGraph } from '../shared/pacing/app-graph';
import { ticketHookFor } from '../shared/tickets/ticket-services';
import { revealPass } from '../shared/console/reveal-pass';
import { approveFinish, askFinish, type FinishDependencies } from '../shared/finish/finish-service';
import { consoleAsset, securityHeaders } from '../shared/console/static-assets';
import { getServices } from '../shared/services';
import type { FunctionDefinition } from './definition';
import { invocationLog } from './invocation-log';

/**
 * The operator console: its pages (anonymous: they hold no data) and its JSON API, where every route
 * needs a signed-in person in the right group (shared/console/person-gate.ts). authLevel is
 * `anonymous` because people carry no function key; the gate refuses any request that carries one.
 */

type PersonHandler = (person: SignedInPerson, request: HttpRequest, deps: ConsoleServices, context: InvocationContext) => Promise<HttpAnswer | HttpResponseInit>;

function personRoute(need: ConsoleNeed, handler: PersonHandler) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const deps = consoleServices(getServices());
    const admitted = await admitPerson(
      { header: (name) => request.headers.get(name), query: (name) => request.query.get(name) },
      need,
      { settings: deps.services.settings, validator: deps.validator, groupNames: deps.groupNames },
    );
    if ('answer' in admitted) {
      if (admitted.answer.status >= 500) invocationLog(context).warn('console sign-in check unavailable', { status: admitted.answer.status, answer: JSON.stringify(admitted.answer.jsonBody) });
      return toResponse(admitted.answer);
    }
    try {
      return toResponse(await handler(admitted.person, request, deps, context));
    } catch (error) {
      invocationLog(context).warn('console read failed', { method: request.method, path: new URL(request.url).pathname, error: error instanceof Error ? error.message : String(error) });
      return toResponse(errorAnswer(503, 'storage_unavailable', 'the console cannot read the store right now; try again later', undefined, { 'retry-after': '10', 'cache-control': 'no-store' }));
    }
  };
}

function toResponse(answer: HttpAnswer | HttpResponseInit): HttpResponseInit {
  if ('jsonBody' in answer && answer.jsonBody !== undefined) {
    return { status: answer.status, headers: { ...(answer.headers as Record<string, string>), 'x-content-type-options': 'nosniff' }, jsonBody: answer.jsonBody };
  }
  return answer as HttpResponseInit;
}

const queryOf = (request: HttpRequest) => Object.fromEntries([...request.query.entries()]);

export const consolePage: FunctionDefinition = {
  name: 'consolePage',
  trigger: 'http',
  options: {
    route: 'console/{file?}',
    methods: ['GET'],
    authLevel: 'anonymous',
    handler: async (request) => {
      const authority = consoleAuthority(getServices().settings);
      const asset = consoleAsset(request.params.file, authority ? new URL(authority.tokenUrl).origin : undefined);
      return { status: asset.status, headers: asset.headers, body: asset.body };
    },
  },
};

/** What the page needs to start a sign-in: public values of the app registration, no secret. */
export const consoleConfig: FunctionDefinition = {
  name: 'consoleConfig',
  trigger: 'http',
  options: {
    route: 'console/api/config',
    methods: ['GET'],
    authLevel: 'anonymous',
    handler: async () => {
      const authority = consoleAuthority(getServices().settings);
      const body = authority
        ? { enabled: true, tenantId: authority.tenantId, clientId: authority.clientId, authorizeUrl: authority.authorizeUrl, tokenUrl: authority.tokenUrl, scopes: authority.requestedScopes }
        : { enabled: false, message: 'the console is off: set CONSOLE_TENANT_ID and CONSOLE_CLIENT_ID' };
      return { status: 200, headers: { ...securityHeaders(undefined), 'cache-control': 'no-store' }, jsonBody: body };
    },
  },
};

export const consoleMe: FunctionDefinition = {
  name: 'consoleMe',
  trigger: 'http',
  options: {
    route: 'console/api/me',
    methods: ['GET'],
    authLevel: 'anonymous',
    handler: personRoute('reader', async (person) =>
      jsonAnswer(200, { userPrincipalName: person.userPrincipalName, objectId: person.objectId, name: person.name, roles: person.roles }, { 'cache-control': 'no-store' }),
    ),
  },
};

export const consoleRequests: FunctionDefinition = {
  name: 'consoleRequests',
  trigger: 'http',
  options: {
    route: 'console/api/requests',
    methods: ['GET'],
    authLevel: 'anonymous',
    handler: personRoute('reader', async (_person, request, deps) => listRequests(queryOf(request), deps)),
  },
};

export const consoleRequest: FunctionDefinition = {
  name: 'consoleRequest',
  trigger: 'http',
  options: {
    route: 'console/api/requests/{id}',
    methods: ['GET'],
    authLevel: 'anonymous',
    handler: personRoute('reader', async (person, request, deps) => requestDetail(request.params.id ?? '', person, { ...deps, settings: deps.services.settings })),
  },
};

export const consolePassReveal: FunctionDefinition = {
  name: 'consolePassReveal',
  trigger: 'http',
  options: {
    route: 'console/api/requests/{id}/pass',
    methods: ['POST'],
    authLevel: 'anonymous',
    handler: personRoute('collector', async (person, request, deps) => revealPass(request.params.id ?? '', person, { ...deps, settings: deps.services.settings })),
  },
};

function finishDependencies(deps: ConsoleServices, context: InvocationContext): FinishDependencies {
  const log = invocationLog(context);
  return { ...deps, settings: deps.services.settings, tickets: ticketHookFor(deps.services, log), log };
}

/**
 * Finishing a partial reset, the console's one write besides revealing a pass and attesting: an operator
 * asks (nothing runs), a second person in the approver group approves, and only that creates the linked
 * request (shared/finish/finish-service.ts).
 */
export const consoleFinishAsk: FunctionDefinition = {
  name: 'consoleFinishAsk',
  trigger: 'http',
  options: {
    route: 'console/api/requests/{id}/finish',
    methods: ['POST'],
    authLevel: 'anonymous',
    handler: personRoute('operator', async (person, request, deps, context) => askFinish(request.params.id ?? '', person, finishDependencies(deps, context))),
  },
};

export const consoleFinishApprove: FunctionDefinition = {
  name: 'consoleFinishApprove',
  trigger: 'http',
  options: {
    route: 'console/api/requests/{id}/finish/approve',
    methods: ['POST'],
    authLevel: 'anonymous',
    handler: personRoute('approver', async (person, request, deps, context) => approveFinish(request.params.id ?? '', person, finishDependencies(deps, context))),
  },
};

/**
 * Manager attestation: any signed-in person of the tenant may ask; only the target's current manager
 * (read from the directory now) is shown the request, may attest, and is shown a requested pass once.
 */
export const consoleAttestation: FunctionDefinition = {
  name: 'consoleAttestation',
  trigger: 'http',
  options: {
    route: 'console/api/requests/{id}/attestation/{action?}',
    methods: ['GET', 'POST'],
    authLevel: 'anonymous',
    handler: personRoute('person', async (person, request, deps, context) => {
      const action = request.method === 'GET' ? 'view' : request.params.action === 'pass' ? 'pass' : request.params.action ? undefined : 'attest';
      if (!action || (request.method === 'GET' && request.params.action)) return errorAnswer(404, 'not_found', 'no such attestation action');
      const log = invocationLog(context);
      return managerAttestation(request.params.id ?? '', person, action, { ...deps, settings: deps.services.settings, graph: appGraph(deps.services), tickets: ticketHookFor(deps.services, log), log });
    }),
  },
};

export const consoleBulkJobs: FunctionDefinition = {
  name: 'consoleBulkJobs',
  trigger: 'http',
  options: {
    route: 'console/api/bulk',
    methods: ['GET'],
    authLevel: 'anonymous',
    handler: personRoute('reader', async (_person, _request, deps) => listBulkJobs(deps.bulk)),
  },
};

export const consoleBulkJob: FunctionDefinition = {
  name: 'consoleBulkJob',
  trigger: 'http',
  options: {
    route: 'console/api/bulk/{id}',
    methods: ['GET'],
    authLevel: 'anonymous',
    handler: personRoute('reader', async (_person, request, deps) => {
      const query = request.query;
      const answer = await getBulkStatus(
        request.params.id ?? '',
        { offset: query.get('offset'), limit: query.get('limit'), status: query.get('status'), format: query.get('format') },
        { store: deps.bulk },
      );
      return 'body' in answer ? { status: answer.status, headers: answer.headers, body: answer.body } : answer;
    }),
  },
};

/** Schedules with their next run times and last runs (read only; changes go through /api/schedules). */
export const consoleSchedules: FunctionDefinition = {
  name: 'consoleSchedules',
  trigger: 'http',
  options: {
    route: 'console/api/schedules',
    methods: ['GET'],
    authLevel: 'anonymous',
    handler: personRoute('reader', async (_person, _request, deps) => listSchedules(deps.schedules, deps.integrity, deps.groupNames)),
  },
};

/** The health panel: the details the anonymous health route keeps to itself. */
export const consoleHealth: FunctionDefinition = {
  name: 'consoleHealth',
  trigger: 'http',
  options: {
    route: 'console/api/health',
    methods: ['GET'],
    authLevel: 'anonymous',
    handler: personRoute('reader', async (_person, _request, deps) => jsonAnswer(200, await checkHealth(deps.services), { 'cache-control': 'no-store' })),
  },
};

export const consoleFunctions: readonly FunctionDefinition[] = [
  consoleConfig,
  consoleMe,
  consoleRequests,
  consoleRequest,
  consolePassReveal,
  consoleFinishAsk,
  consoleFinishApprove,
  consoleAttestation,
  consoleBulkJobs,
  consoleBulkJob,
  consoleSchedules,
  consoleHealth,
  consolePage,
];
