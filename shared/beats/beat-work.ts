import { bulkServices } from '../bulk/bulk-services';
import { dispatchBulkJobs } from '../bulk/dispatcher';
import type { Logger } from '../log';
import { releaseDueRuns } from '../schedules/releaser';
import { scheduleServices } from '../schedules/schedule-services';
import { requestStores } from '../request-stores';
import type { Services } from '../services';
import { TABLES } from '../storage/names';
import { redriveDeadWorkers } from '../worker/dead-workers';
import type { BeatWork } from './run-beat';

const at = (iso: string | undefined) => (iso ? new Date(iso) : undefined);

/** What each beat does: a tick of the bulk dispatcher, a pass of the schedule releaser. */
export function beatWork(services: Services, log: Logger): BeatWork {
  return {
    async bulk() {
      const report = await dispatchBulkJobs(bulkServices(services, log));
      if (report.released > 0 || report.finished > 0 || report.completed.length > 0) {
        log.info('bulk dispatch', { jobs: report.jobs, released: report.released, finished: report.finished, completed: report.completed.join(','), factor: report.factor, held: report.held });
      }
      // While a job runs, a dead instance's requests are picked up at each tick, not at the next sweep.
      if (report.jobs > 0) {
        const { store, queue } = requestStores(services);
        await redriveDeadWorkers({ table: services.storage.table(TABLES.requests), store, queue, log });
      }
      return at(report.nextDueAt);
    },
    async schedules() {
      const report = await releaseDueRuns(scheduleServices(services, log));
      if (report.started.length > 0 || report.skipped.length > 0 || report.settled > 0) {
        log.info('schedule release', { started: report.started.join(','), skipped: report.skipped.join(','), settled: report.settled });
      }
      return at(report.nextDueAt);
    },
  };
}
