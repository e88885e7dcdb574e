import { odata, RestError, type TableClient, type TransactionAction } from '@azure/data-tables';
import { StorageUnavailableError } from '../requests/request-store';
import { runFromEntity, runToEntity, scheduleFromEntity, scheduleToEntity, type Schedule, type ScheduleRun, type ScheduleTarget, type StoredSchedule } from './schedule-rows';

export class ScheduleConflictError extends Error {
  constructor(readonly scheduleId: string) {
    super(`schedule ${scheduleId} was changed by someone else since it was read`);
    this.name = 'ScheduleConflictError';
  }
}

const isStatus = (error: unknown, status: number) => error instanceof RestError && error.statusCode === status;

/** Tables ResetSchedules, ScheduleRuns, ScheduleTargets and ScheduleMarks (schedule-rows.ts). */
export class ScheduleStore {
  private ready: Promise<void> | undefined;

  constructor(
    private readonly schedules: TableClient,
    private readonly runs: TableClient,
    private readonly targets: TableClient,
    private readonly markTable: TableClient,
  ) {}

  async get(id: string): Promise<StoredSchedule | undefined> {
    await this.ensureTables();
    try {
      return scheduleFromEntity(await this.schedules.getEntity<Record<string, unknown>>('schedule', id));
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw new StorageUnavailableError('read schedule', error);
    }
  }

  async create(schedule: Schedule): Promise<{ created: boolean; schedule: StoredSchedule }> {
    await this.ensureTables();
    try {
      const response = await this.schedules.createEntity(scheduleToEntity(schedule));
      return { created: true, schedule: { ...schedule, etag: response.etag ?? '' } };
    } catch (error) {
      if (isStatus(error, 409)) {
        const existing = await this.get(schedule.id);
        if (existing) return { created: false, schedule: existing };
      }
      throw new StorageUnavailableError('create schedule', error);
    }
  }

  /** Replaces the row if nobody changed it since it was read (ETag), else ScheduleConflictError. */
  async update(schedule: StoredSchedule, now: Date): Promise<StoredSchedule> {
    const { etag, ...row } = schedule;
    const next: Schedule = { ...row, updatedAt: now.toISOString() };
    try {
      const response = await this.schedules.updateEntity(scheduleToEntity(next), 'Replace', { etag });
      return { ...next, etag: response.etag ?? '' };
    } catch (error) {
      if (isStatus(error, 412) || isStatus(error, 404)) throw new ScheduleConflictError(schedule.id);
      throw new StorageUnavailableError('update schedule', error);
    }
  }

  async delete(schedule: StoredSchedule): Promise<void> {
    try {
      await this.schedules.deleteEntity('schedule', schedule.id, { etag: schedule.etag });
    } catch (error) {
      if (isStatus(error, 412)) throw new ScheduleConflictError(schedule.id);
      if (isStatus(error, 404)) return;
      throw new StorageUnavailableError('delete schedule', error);
    }
  }

  async list(): Promise<StoredSchedule[]> {
    await this.ensureTables();
    const found: StoredSchedule[] = [];
    try {
      for await (const entity of this.schedules.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq 'schedule'` } })) {
        found.push(scheduleFromEntity(entity));
      }
    } catch (error) {
      throw new StorageUnavailableError('list schedules', error);
    }
    return found.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async putRun(run: ScheduleRun): Promise<void> {
    await this.ensureTables();
    try {
      await this.runs.upsertEntity(runToEntity(run), 'Replace');
    } catch (error) {
      throw new StorageUnavailableError('write schedule run', error);
    }
  }

  async getRun(scheduleId: string, runId: string): Promise<ScheduleRun | undefined> {
    await this.ensureTables();
    try {
      return runFromEntity(await this.runs.getEntity<Record<string, unknown>>(scheduleId, runId));
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw new StorageUnavailableError('read schedule run', error);
    }
  }

  /** A run with its row's ETag, for `claimRun`. */
  async getRunForUpdate(scheduleId: string, runId: string): Promise<{ run: ScheduleRun; etag: string } | undefined> {
    await this.ensureTables();
    try {
      const entity = await this.runs.getEntity<Record<string, unknown>>(scheduleId, runId);
      return { run: runFromEntity(entity), etag: String(entity.etag ?? '') };
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw new StorageUnavailableError('read schedule run', error);
    }
  }

  /** Replaces the run if nobody wrote it since it was read with `etag`; false if someone did. */
  async claimRun(run: ScheduleRun, etag: string): Promise<boolean> {
    try {
      await this.runs.updateEntity(runToEntity(run), 'Replace', { etag });
      return true;
    } catch (error) {
      if (isStatus(error, 412) || isStatus(error, 404)) return false;
      throw new StorageUnavailableError('claim schedule run', error);
    }
  }

  /** The schedule's runs, newest first, at most `limit`. */
  async listRuns(scheduleId: string, limit = 50): Promise<ScheduleRun[]> {
    await this.ensureTables();
    const runs: ScheduleRun[] = [];
    try {
      for await (const entity of this.runs.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq ${scheduleId}` } })) runs.push(runFromEntity(entity));
    } catch (error) {
      throw new StorageUnavailableError('list schedule runs', error);
    }
    return runs.sort((a, b) => b.id.localeCompare(a.id)).slice(0, limit);
  }

  async putTargets(targets: readonly ScheduleTarget[]): Promise<void> {
    await this.ensureTables();
    for (let start = 0; start < targets.length; start += 100) {
      const actions: TransactionAction[] = targets.slice(start, start + 100).map((target) => [
        'upsert',
        { partitionKey: target.runId, rowKey: String(target.index).padStart(7, '0'), userId: target.userId, userPrincipalName: target.userPrincipalName },
        'Replace',
      ]);
      try {
        await this.targets.submitTransaction(actions);
      } catch (error) {
        throw new StorageUnavailableError('write schedule targets', error);
      }
    }
  }

  async listTargets(runId: string): Promise<ScheduleTarget[]> {
    await this.ensureTables();
    const targets: ScheduleTarget[] = [];
    try {
      for await (const entity of this.targets.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq ${runId}` } })) {
        targets.push({ runId, index: Number(entity.rowKey), userId: String(entity.userId), userPrincipalName: String(entity.userPrincipalName) });
      }
    } catch (error) {
      throw new StorageUnavailableError('list schedule targets', error);
    }
    return targets;
  }

  /** When this schedule last reset each user, by object id. A failed read throws: the run does not go ahead. */
  async marks(scheduleId: string): Promise<Map<string, string>> {
    await this.ensureTables();
    const marks = new Map<string, string>();
    try {
      for await (const entity of this.markTable.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq ${scheduleId}` } })) {
        marks.set(String(entity.rowKey), String(entity.resetAt));
      }
    } catch (error) {
      throw new StorageUnavailableError('read schedule marks', error);
    }
    return marks;
  }

  async putMarks(scheduleId: string, marks: readonly { userId: string; resetAt: string; runId: string }[]): Promise<void> {
    await this.ensureTables();
    for (let start = 0; start < marks.length; start += 100) {
      const actions: TransactionAction[] = marks
        .slice(start, start + 100)
        .map((mark) => ['upsert', { partitionKey: scheduleId, rowKey: mark.userId, resetAt: mark.resetAt, runId: mark.runId }, 'Replace']);
      try {
        await this.markTable.submitTransaction(actions);
      } catch (error) {
        throw new StorageUnavailableError('write schedule marks', error);
      }
    }
  }

  private ensureTables(): Promise<void> {
    this.ready ??= Promise.all([this.schedules, this.runs, this.targets, this.markTable].map((table) => table.createTable()))
      .then(() => undefined)
      .catch((error: unknown) => {
        this.ready = undefined;
        throw new StorageUnavailableError('create schedule tables', error);
      });
    return this.ready;
  }
}
