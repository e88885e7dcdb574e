import { bulkDispatcher } from './bulk-dispatcher';
import { bulkStatus } from './bulk-status';
import { bulkSubmit } from './bulk-submit';
import { consoleFunctions } from './console';
import type { FunctionDefinition } from './definition';
import { health, healthDetails } from './health';
import { resetIntake, resetIntakeJira, resetIntakeServiceNow } from './reset-intake';
import { resetPass } from './reset-pass';
import { resetPoison } from './reset-poison';
import { resetStatus } from './reset-status';
import { resetSweeper } from './reset-sweeper';
import { resetWorker } from './reset-worker';
import { scheduleFunctions } from './schedules';
import { ticketSweeper, ticketUpdates, ticketUpdatesPoison } from './ticket-updates';
import { verificationCallback } from './verification-callback';
import { verificationPageFunctions } from './verification-page';

/** Every function of the app, in one list: registered with Azure by index.ts and served by the local host. */
export const functionDefinitions: readonly FunctionDefinition[] = [
  health,
  healthDetails,
  resetIntakeServiceNow,
  resetIntakeJira,
  resetIntake,
  resetStatus,
  resetPass,
  resetWorker,
  resetPoison,
  resetSweeper,
  ticketUpdates,
  ticketUpdatesPoison,
  ticketSweeper,
  bulkSubmit,
  bulkStatus,
  bulkDispatcher,
  verificationCallback,
  ...verificationPageFunctions,
  ...consoleFunctions,
  ...scheduleFunctions,
];
