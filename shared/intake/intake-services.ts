import { requestStores, type RequestStores } from '../request-stores';
import type { Services } from '../services';

export type IntakeServices = Pick<RequestStores, 'store' | 'queue' | 'audit' | 'index' | 'integrity'>;

/** The request store, reset queue and audit log the intake and the status API use. */
export function intakeServices(services: Services): IntakeServices {
  return requestStores(services);
}
