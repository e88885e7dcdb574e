import { RestError, type TableClient } from '@azure/data-tables';
import type { BeatName } from './beat-message';

export interface BeatRow {
  /** When the beat last scheduled is due (its message's slot). */
  nextAt: string;
  etag: string;
}

const isStatus = (error: unknown, status: number) => error instanceof RestError && error.statusCode === status;

/**
 * Table AppBeats, one row per beat (PartitionKey `beat`, RowKey its name): the slot of the beat message
 * scheduled last. It lets a chain of delayed messages stay one chain: a beat that finds a later one
 * already scheduled stops (shared/beats/beats.ts).
 */
export class BeatStore {
  private ready: Promise<void> | undefined;

  constructor(private readonly table: TableClient) {}

  async get(name: BeatName): Promise<BeatRow | undefined> {
    await this.ensureTable();
    try {
      const row = await this.table.getEntity<{ nextAt?: unknown }>('beat', name);
      return typeof row.nextAt === 'string' ? { nextAt: row.nextAt, etag: row.etag } : undefined;
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  /**
   * Records the slot of the beat just scheduled, if the row is as it was read (`etag`; none: absent).
   * False when another beat wrote first: the two chains merge at their next beat.
   */
  async put(name: BeatName, nextAt: Date, etag: string | undefined): Promise<boolean> {
    await this.ensureTable();
    const entity = { partitionKey: 'beat', rowKey: name, nextAt: nextAt.toISOString() };
    try {
      if (etag) await this.table.updateEntity(entity, 'Replace', { etag });
      else await this.table.createEntity(entity);
      return true;
    } catch (error) {
      if (isStatus(error, 409) || isStatus(error, 412)) return false;
      throw error;
    }
  }

  private ensureTable(): Promise<void> {
    this.ready ??= this.table
      .createTable()
      .then(() => undefined)
      .catch((error: unknown) => {
        this.ready = undefined;
        throw error;
      });
    return this.ready;
  }
}
