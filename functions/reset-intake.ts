import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { receiveResetRequest } from '../shared/intake/intake-service';
import { intakeServices } from '../shared/intake/intake-services';
import type { IntakeSource } from '../shared/intake/signature';
import { getServices } from '../shared/services';
import type { FunctionDefinition } from './definition';

/** One handler per source: read the exact bytes once and hand them to the intake. */
function intakeHandler(source: IntakeSource) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const services = getServices();
    const { store, queue } = intakeServices(services);
    const body = new Uint8Array(await request.arrayBuffer());
    const answer = await receiveResetRequest(
      { source, body, headers: request.headers, url: request.url },
      {
        settings: services.settings,
        store,
        queue,
        log: { info: (message) => context.log(message), warn: (message) => context.warn(message) },
      },
    );
    return { status: answer.status, headers: answer.headers, jsonBody: answer.jsonBody };
  };
}

export const resetIntakeServiceNow: FunctionDefinition = {
  name: 'resetIntakeServiceNow',
  trigger: 'http',
  options: { route: 'resets/servicenow', methods: ['POST'], authLevel: 'function', handler: intakeHandler('servicenow') },
};

export const resetIntakeJira: FunctionDefinition = {
  name: 'resetIntakeJira',
  trigger: 'http',
  options: { route: 'resets/jira', methods: ['POST'], authLevel: 'function', handler: intakeHandler('jira') },
};

export const resetIntake: FunctionDefinition = {
  name: 'resetIntake',
  trigger: 'http',
  options: { route: 'resets', methods: ['POST'], authLevel: 'function', handler: intakeHandler('generic') },
};
