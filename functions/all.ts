import { beats } from './beats';
import { bulkStatus } from './bulk-status';
import { bulkSubmit } from './bulk-submit';
import { consoleFunctions } from './console';
import type { FunctionDefinition } from './definition';
import { health, healthDetails } from './health';
import { resetIntake, resetIntakeJira, resetIntakeServiceNow } from './reset-intake';
import { resetPass } from './reset-pass';
import { resetStatus } from './reset-status';
import { resetWorker } from './reset-worker';
import { scheduleFunctions } from './schedules';
import { safetyNet } from './safety-net';
import { ticketUpdates } from './ticket-updates';
import { verificationCallback } from './verification-callback';
import { verificationPageFunctions } from './verification-page';

/**
 * Every function of the app, in one list: registered with Azure by index.ts and served by the local host.
 * One timer only (safetyNet, every 5 minutes): an idle app is not woken more often than that.
 */
export const functionDefinitions: readonly FunctionDefinition[] = [
  health,
  healthDetails,
  resetIntakeServiceNow,
  resetIntakeJira,
  resetIntake,
  resetStatus,
  resetPass,
  resetWorker,
  ticketUpdates,
  bulkSubmit,
  bulkStatus,
  beats,
  safetyNet,
  verificationCallback,
  ...verificationPageFunctions,
  ...consoleFunctions,
  ...scheduleFunctions,
];
