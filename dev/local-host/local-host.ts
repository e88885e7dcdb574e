import { QueueServiceClient } from '@azure/storage-queue';
import type { FunctionDefinition } from '../../functions/definition';
import { readQueueSettings, type QueueSettings } from '../../shared/host-json';
import { LocalHttpServer } from './http-server';
import { consoleLog, type HostLog } from './log';
import { QueuePoller } from './queue-poller';
import { TimerScheduler } from './timer-scheduler';

export interface LocalHostOptions {
  definitions: readonly FunctionDefinition[];
  /** 0 picks a free port. */
  port: number;
  hostJsonPath: string;
  /** Enforce authLevel `function` with this key; unset, keys are not checked (as under Core Tools). */
  functionKey?: string;
  /** Overrides of host.json's queue settings, for tests that cannot wait 30 s for a retry. */
  queueSettings?: Partial<QueueSettings>;
  /** How long a message stays invisible while its handler runs (renewed meanwhile); default 60 s. */
  messageLeaseSeconds?: number;
  /** Which functions kinds to run; tests of the HTTP side alone can leave the pollers out. */
  enable?: { http?: boolean; queues?: boolean; timers?: boolean };
  env?: NodeJS.ProcessEnv;
  log?: HostLog;
}

export interface RunningLocalHost {
  url: string;
  queueSettings: QueueSettings;
  stop(): Promise<void>;
}

/**
 * Serves the app's function definitions the way the Functions host would: HTTP routes under /api,
 * queue triggers polled with the queue extension's semantics, and timers on NCRONTAB schedules.
 */
export async function startLocalHost(options: LocalHostOptions): Promise<RunningLocalHost> {
  const env = options.env ?? process.env;
  const log = options.log ?? consoleLog();
  const enable = { http: true, queues: true, timers: true, ...options.enable };
  const queueSettings = { ...readQueueSettings(options.hostJsonPath), ...options.queueSettings };

  const http = new LocalHttpServer(
    options.definitions.flatMap((d) => (d.trigger === 'http' ? [{ name: d.name, options: d.options }] : [])),
    { port: options.port, functionKey: options.functionKey, log },
  );
  const url = enable.http ? await http.listen() : '';

  const pollers = enable.queues
    ? options.definitions.flatMap((d) => {
        if (d.trigger !== 'storageQueue') return [];
        const setting = d.options.connection ?? 'AzureWebJobsStorage';
        const connectionString = env[setting];
        if (!connectionString) throw new Error(`${d.name}: queue connection setting ${setting} is not set`);
        const service = QueueServiceClient.fromConnectionString(connectionString);
        const queueName = d.options.queueName;
        return [
          new QueuePoller(
            { name: d.name, options: d.options },
            service.getQueueClient(queueName),
            service.getQueueClient(`${queueName}-poison`),
            queueSettings,
            log,
            options.messageLeaseSeconds,
          ),
        ];
      })
    : [];
  await Promise.all(pollers.map((poller) => poller.start()));

  const timers = new TimerScheduler(
    enable.timers ? options.definitions.flatMap((d) => (d.trigger === 'timer' ? [{ name: d.name, options: d.options }] : [])) : [],
    log,
  );
  timers.start();

  let stopping: Promise<void> | undefined;
  return {
    url,
    queueSettings,
    stop() {
      stopping ??= (async () => {
        await Promise.all([...pollers.map((poller) => poller.stop()), timers.stop(), enable.http ? http.close() : undefined]);
      })();
      return stopping;
    },
  };
}
