import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { MAX_BODY_BYTES, receiveResetRequest } from '../shared/intake/intake-service';
import { intakeServices } from '../shared/intake/intake-services';
import type { IntakeSource } from '../shared/intake/signature';
import { getServices } from '../shared/services';
import type { FunctionDefinition } from './definition';
import { invocationLog } from './invocation-log';
import { readSignedBody } from './http-body';

/** One handler per source: read the exact bytes once and hand them to the intake. */
function intakeHandler(source: IntakeSource) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const services = getServices();
    const { store, queue, index, integrity } = intakeServices(services);
    const read = await readSignedBody(request, MAX_BODY_BYTES);
    if ('refusal' in read) return read.refusal;
    const answer = await receiveResetRequest(
      { source, body: read.body, headers: request.headers, url: request.url },
      {
        settings: services.settings,
        store,
        queue,
        index,
        integrity,
        log: invocationLog(context),
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
