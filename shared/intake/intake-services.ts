import { AuditLog } from '../audit/audit-log';
import { RequestStore } from '../requests/request-store';
import { ResetQueue } from '../requests/reset-queue';
import type { Services } from '../services';
import { QUEUES, TABLES } from '../storage/names';

export interface IntakeServices {
  store: RequestStore;
  queue: ResetQueue;
  audit: AuditLog;
}

const built = new WeakMap<Services, IntakeServices>();

/** The request store, reset queue and audit log over the app's storage, built once per Services. */
export function intakeServices(services: Services): IntakeServices {
  let made = built.get(services);
  if (!made) {
    made = {
      store: new RequestStore(services.storage.table(TABLES.requests)),
      queue: new ResetQueue(services.storage.queue(QUEUES.resets)),
      audit: new AuditLog(services.storage.table(TABLES.audit)),
    };
    built.set(services, made);
  }
  return made;
}
