import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { QueueServiceClient } from '@azure/storage-queue';
import { TableServiceClient } from '@azure/data-tables';
import { freePort, preferredOrFreePort } from './free-port';

/** Azurite's well-known development account (public, documented; not a secret). */
const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface RunningAzurite {
  connectionString: string;
  ports: { blob: number; queue: number; table: number };
  /** The Azurite process, for fault tests that freeze it (SIGSTOP) and let it go on (SIGCONT). */
  pid: number | undefined;
  stop(): Promise<void>;
}

export interface AzuriteOptions {
  /** Try Azurite's usual ports 10000-10002 first (for `npm start`); tests always take fresh free ports. */
  preferDefaultPorts?: boolean;
  /**
   * Run Azurite outside this process's group (for `npm start`): a terminal's Ctrl-C then reaches only
   * the parent, which lets running invocations finish against it and stops it last. It also puts
   * Azurite in a session of its own, which Linux's autogroup scheduler gives a CPU share of its own;
   * the bench and the tests keep it in their group, so that it shares the cores as it always has there.
   */
  ownProcessGroup?: boolean;
  readyTimeoutMs?: number;
}

/** Starts Azurite from the npm package, in memory, on free ports, and waits until queues and tables answer. */
export async function startAzurite(options: AzuriteOptions = {}): Promise<RunningAzurite> {
  const pick = options.preferDefaultPorts ? preferredOrFreePort : () => freePort();
  const blob = await pick(10000);
  const queue = await pick(10001);
  const table = await pick(10002);

  const main = join(dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'azurite.js');
  const child = spawn(
    process.execPath,
    [
      '--require',
      join(__dirname, 'azurite-leash.cjs'),
      main,
      '--inMemoryPersistence',
      '--skipApiVersionCheck',
      '--disableTelemetry',
      '--silent',
      '--blobHost', '127.0.0.1', '--blobPort', String(blob),
      '--queueHost', '127.0.0.1', '--queuePort', String(queue),
      '--tableHost', '127.0.0.1', '--tablePort', String(table),
    ],
    // The leash (its stdin) ends it if this process goes first, however it goes.
    { stdio: ['pipe', 'ignore', 'pipe'], detached: options.ownProcessGroup === true },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));

  const connectionString = [
    'DefaultEndpointsProtocol=http',
    `AccountName=${DEV_ACCOUNT}`,
    `AccountKey=${DEV_KEY}`,
    `BlobEndpoint=http://127.0.0.1:${blob}/${DEV_ACCOUNT}`,
    `QueueEndpoint=http://127.0.0.1:${queue}/${DEV_ACCOUNT}`,
    `TableEndpoint=http://127.0.0.1:${table}/${DEV_ACCOUNT}`,
  ].join(';');

  const running: RunningAzurite = { connectionString, ports: { blob, queue, table }, pid: child.pid, stop: () => stopChild(child) };
  try {
    await waitUntilReady(connectionString, child, options.readyTimeoutMs ?? 30_000, () => stderr);
  } catch (error) {
    await running.stop();
    throw error;
  }
  return running;
}

async function waitUntilReady(
  connectionString: string,
  child: ChildProcess,
  timeoutMs: number,
  stderr: () => string,
): Promise<void> {
  const queues = QueueServiceClient.fromConnectionString(connectionString, { retryOptions: { maxTries: 1 } });
  const tables = TableServiceClient.fromConnectionString(connectionString, {
    allowInsecureConnection: true,
    retryOptions: { maxRetries: 0 },
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Azurite exited with code ${child.exitCode}: ${stderr()}`);
    try {
      await Promise.all([queues.getProperties(), tables.getProperties()]);
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(`Azurite did not answer within ${timeoutMs} ms: ${error instanceof Error ? error.message : String(error)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
