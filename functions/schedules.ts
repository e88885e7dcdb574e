import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { handleScheduleCall, MAX_SCHEDULE_BODY_BYTES } from '../shared/schedules/schedule-api';
import { scheduleServices } from '../shared/schedules/schedule-services';
import { getServices } from '../shared/services';
import type { FunctionDefinition } from './definition';
import { readSignedBody } from './http-body';
import { invocationLog } from './invocation-log';

export async function schedulesHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const read = await readSignedBody(request, MAX_SCHEDULE_BODY_BYTES);
  if ('refusal' in read) return read.refusal;
  const answer = await handleScheduleCall(
    { method: request.method, id: request.params.id, action: request.params.action, body: read.body, headers: request.headers },
    scheduleServices(getServices(), invocationLog(context)),
  );
  return { status: answer.status, headers: answer.headers, jsonBody: answer.jsonBody };
}

const http = (name: string, route: string, methods: ('GET' | 'POST' | 'PATCH' | 'DELETE')[]): FunctionDefinition => ({
  name,
  trigger: 'http',
  options: { route, methods, authLevel: 'function', handler: schedulesHandler },
});

/**
 * `/api/schedules…`: every route a generic signed route (shared/schedules/schedule-api.ts). Due runs are
 * started, and ended runs settled, by the schedule releaser's beats (functions/beats.ts).
 */
export const scheduleFunctions: readonly FunctionDefinition[] = [
  http('schedules', 'schedules', ['GET', 'POST']),
  http('scheduleItem', 'schedules/{id}', ['GET', 'PATCH', 'DELETE']),
  http('scheduleAction', 'schedules/{id}/{action}', ['POST']),
];
