import type { InvocationContext, Timer } from '@azure/functions';
import { runSafetyNets, SAFETY_NET_SCHEDULE, safetyNets } from '../shared/safety-nets';
import { getServices } from '../shared/services';
import type { FunctionDefinition } from './definition';
import { invocationLog } from './invocation-log';

export async function safetyNetHandler(_timer: Timer, context: InvocationContext): Promise<void> {
  const log = invocationLog(context);
  await runSafetyNets(safetyNets(getServices(), log), log);
}

/**
 * The app's only timer, every 5 minutes: the slow safety nets (shared/safety-nets.ts). Work that needs a
 * faster beat gets it from delayed queue messages while it exists (functions/beats.ts), so an idle app
 * is woken 12 times an hour, by this, and by nothing else. One function rather than one timer per net:
 * Flex Consumption scales each non-HTTP function on instances of its own, each run billed at least 1 s.
 */
export const safetyNet: FunctionDefinition = {
  name: 'safetyNet',
  trigger: 'timer',
  options: { schedule: SAFETY_NET_SCHEDULE, handler: safetyNetHandler },
};
