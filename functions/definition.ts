import type { HttpFunctionOptions, StorageQueueFunctionOptions, TimerFunctionOptions } from '@azure/functions';

/**
 * One function of the app: its name, its trigger options and its handler (inside the options, as
 * `app.*` expects them). The Azure entry point and the local host both read the same list.
 */
export type FunctionDefinition =
  | { name: string; trigger: 'http'; options: HttpFunctionOptions }
  | { name: string; trigger: 'storageQueue'; options: StorageQueueFunctionOptions }
  | { name: string; trigger: 'timer'; options: TimerFunctionOptions };
