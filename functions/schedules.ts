import type { HttpRequest, HttpResponseInit, InvocationContext, Timer } from '@azure/functions';
import { releaseDueRuns } from '../shared/schedules/releaser';
import { handleScheduleCall, MAX_SCHEDULE_BODY_BYTES } from '../shared/schedules/schedule-api';
import { scheduleServices } from '../shared/schedules/schedule-services';
import { RELEASER_SCHEDULE } from '../shared/schedules/releaser';
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

export async function scheduleTimerHandler(_timer: Timer, context: InvocationContext): Promise<void> {
  const report = await releaseDueRuns(scheduleServices(getServices(), invocationLog(context)));
  if (report.started.length > 0 || report.skipped.length > 0 || report.settled > 0) context.log(JSON.stringify({ message: 'schedule release', ...report }));
}

const http = (name: string, route: string, methods: ('GET' | 'POST' | 'PATCH' | 'DELETE')[]): FunctionDefinition => ({
  name,
  trigger: 'http',
  options: { route, methods, authLevel: 'function', handler: schedulesHandler },
});

/** `/api/schedules…`: every route a generic signed route (shared/schedules/schedule-api.ts). */
export const scheduleFunctions: readonly FunctionDefinition[] = [
  http('schedules', 'schedules', ['GET', 'POST']),
  http('scheduleItem', 'schedules/{id}', ['GET', 'PATCH', 'DELETE']),
  http('scheduleAction', 'schedules/{id}/{action}', ['POST']),
  // Releases due runs and ends finished ones; the Functions host runs a timer on one instance at a time.
  { name: 'scheduleTimer', trigger: 'timer', options: { schedule: RELEASER_SCHEDULE, handler: scheduleTimerHandler } },
];
