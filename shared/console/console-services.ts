import { bulkStore } from '../bulk/bulk-services';
import type { BulkStore } from '../bulk/bulk-store';
import { requestStores, type RequestStores } from '../request-stores';
import { scheduleStore } from '../schedules/schedule-services';
import type { ScheduleStore } from '../schedules/schedule-store';
import type { Services } from '../services';
import { appGraph } from '../pacing/app-graph';
import { GroupNames } from './group-names';
import { validatorFor } from './person-gate';
import type { ConsoleTokenValidator } from './token-validation';

export interface ConsoleServices extends Pick<RequestStores, 'store' | 'audit' | 'passes' | 'integrity' | 'queue' | 'secrets' | 'index'> {
  services: Services;
  bulk: BulkStore;
  schedules: ScheduleStore;
  /** Absent while the console is not configured (CONSOLE_TENANT_ID / CONSOLE_CLIENT_ID unset). */
  validator: ConsoleTokenValidator | undefined;
  /** Group display names for people (the schedules page, a refusal that says which group to ask for). */
  groupNames: GroupNames;
}

const built = new WeakMap<Services, ConsoleServices>();

/** Once per Services, so the tenant's signing keys are fetched once and cached between calls. */
export function consoleServices(services: Services): ConsoleServices {
  let made = built.get(services);
  if (!made) {
    const { store, audit, passes, integrity, queue, secrets, index } = requestStores(services);
    made = { services, store, audit, passes, integrity, queue, secrets, index, bulk: bulkStore(services), schedules: scheduleStore(services), validator: validatorFor(services.settings), groupNames: new GroupNames(appGraph(services)) };
    built.set(services, made);
  }
  return made;
}
