import type { InvocationContext } from '@azure/functions';
import { structuredLogger, type Logger } from '../shared/log';

/** The invocation's logger (Application Insights in Azure) as the domain's structured Logger. */
export function invocationLog(context: InvocationContext): Logger {
  return structuredLogger(
    { log: (...args) => context.log(...args), warn: (...args) => context.warn(...args), error: (...args) => context.error(...args) },
    { invocationId: context.invocationId },
  );
}
