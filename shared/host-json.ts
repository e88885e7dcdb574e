import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';

/**
 * The queue settings of host.json, with the Functions host's own defaults. The local host honours
 * them; the worker reads maxDequeueCount to know when a try is the last one.
 */
export interface QueueSettings {
  maxDequeueCount: number;
  visibilityTimeoutMs: number;
  maxPollingIntervalMs: number;
  batchSize: number;
  newBatchThreshold: number;
}

const timeSpan = z
  .string()
  .regex(/^(\d+\.)?\d{1,2}:\d{2}:\d{2}(\.\d+)?$/, 'must be a TimeSpan such as 00:00:30')
  .transform(parseTimeSpanMs);

/** The queue extension's shortest polling interval: its first wait, and the least `maxPollingInterval` it takes. */
export const MIN_POLLING_INTERVAL_MS = 100;

const hostJsonSchema = z.object({
  extensions: z
    .object({
      queues: z
        .object({
          maxDequeueCount: z.number().int().positive().default(5),
          visibilityTimeout: timeSpan.default('00:00:00'),
          // The queue extension refuses an interval under its 100 ms floor, and so does this.
          maxPollingInterval: z
            .union([timeSpan, z.number().int().positive()])
            .default('00:01:00')
            .refine((ms) => ms >= MIN_POLLING_INTERVAL_MS, { message: `must be at least 00:00:00.100 (${MIN_POLLING_INTERVAL_MS} ms), the queue extension's floor` }),
          batchSize: z.number().int().min(1).max(32).default(16),
          newBatchThreshold: z.number().int().min(0).optional(),
        })
        .passthrough()
        .default({}),
    })
    .passthrough()
    .default({}),
});

export function readQueueSettings(hostJsonPath: string): QueueSettings {
  const parsed = hostJsonSchema.safeParse(JSON.parse(readFileSync(hostJsonPath, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${hostJsonPath}: ${issue?.path.join('.')} ${issue?.message}`);
  }
  const queues = parsed.data.extensions.queues;
  return {
    maxDequeueCount: queues.maxDequeueCount,
    visibilityTimeoutMs: queues.visibilityTimeout,
    maxPollingIntervalMs: queues.maxPollingInterval,
    batchSize: queues.batchSize,
    // The host's default: fetch the next batch when half of the current one is done.
    newBatchThreshold: queues.newBatchThreshold ?? Math.floor(queues.batchSize / 2),
  };
}

export function parseTimeSpanMs(value: string): number {
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(\.\d+)?$/.exec(value);
  if (!match) throw new Error(`not a TimeSpan: ${value}`);
  const [, days, hours, minutes, seconds, fraction] = match;
  return (
    ((Number(days ?? 0) * 24 + Number(hours)) * 3600 + Number(minutes) * 60 + Number(seconds)) * 1000 +
    Math.round(Number(fraction ?? 0) * 1000)
  );
}

let appQueueSettings: QueueSettings | undefined;

/** The app's own host.json (found by walking up from here, as the compiled code sits one folder deeper). */
export function appHostQueueSettings(): QueueSettings {
  if (!appQueueSettings) {
    let dir = __dirname;
    for (let depth = 0; depth < 5 && !existsSync(join(dir, 'host.json')); depth += 1) dir = dirname(dir);
    appQueueSettings = readQueueSettings(join(dir, 'host.json'));
  }
  return appQueueSettings;
}
