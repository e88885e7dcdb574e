import { fork, type ChildProcess } from 'node:child_process';
import { askerFor } from './ipc-ask';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StorageRequestCounts } from './storage-requests';

/**
 * The app (its function definitions on the local host) in a process of its own, so that the bench's
 * memory figures tell the app from the driver that loads it (autocannon, the status polling, the
 * baseline's writes) and from the simulator. It runs the compiled JavaScript of dev/bench/compiled.ts
 * on plain Node, as the Functions host runs the app, not TypeScript through a loader.
 */
export interface HostProcessOptions {
  /** The compiled tree (CompiledApp.dir). */
  compiledDir: string;
  /** The app's settings, on top of this process's environment. */
  env: Record<string, string>;
  enable: { http: boolean; queues: boolean; timers: boolean };
  /** The repository's host.json (the compiled tree has none). */
  hostJsonPath: string;
  /** Azurite's ports, to count the host's storage round trips. */
  storagePorts: { table: number; queue: number };
  /** How the worker's Node.js starts, as in Azure (workerNodeArguments). */
  nodeArguments: string[];
  /** A full collection every 5 s, to report the heap the app holds (see run.ts, `--retained`). */
  retained: boolean;
  /** How long a queue message stays invisible while its handler runs (the local host's default: 60 s). */
  messageLeaseSeconds?: number;
}

export interface HostMemory {
  rss: number;
  heapUsed: number;
  /** V8's heap as committed (used and free). */
  heapTotal: number;
  /** Off V8's heap: Buffers and other memory held for JavaScript objects. */
  external: number;
  /** The process's memory when its RSS was highest. */
  atRssPeak: NodeJS.MemoryUsage;
  /** The largest heap in use seen, sampled every 100 ms. */
  heapPeak: number;
  retainedPeak: number;
}

export interface RunningHostProcess {
  url: string;
  pid: number | undefined;
  /** The host's storage round trips since it started or since the last `reset`. */
  trips(options?: { reset?: boolean }): Promise<StorageRequestCounts>;
  /** The host's memory; with `collect`, after a full garbage collection. */
  memory(options?: { collect?: boolean }): Promise<HostMemory>;
  /** Invocations so far, by function name. */
  invocations(): Promise<Record<string, number>>;
  /** Ends the process with a signal at once (SIGKILL: as an instance dies, mid-invocation). */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** How the process ended, if it has: its exit code or signal. */
  ended(): string | undefined;
  stop(): Promise<void>;
}

export type HostProcessRequest =
  | { id: number; type: 'start'; enable: HostProcessOptions['enable']; hostJsonPath: string; storagePorts: HostProcessOptions['storagePorts']; retained: boolean; messageLeaseSeconds?: number }
  | { id: number; type: 'trips'; reset: boolean }
  | { id: number; type: 'memory'; collect: boolean }
  | { id: number; type: 'invocations' }
  | { id: number; type: 'stop' };

export type HostProcessReply = { id: number; url?: string; rss?: number; trips?: StorageRequestCounts; memory?: HostMemory; invocations?: Record<string, number>; error?: string };

type Body<T> = T extends unknown ? Omit<T, 'id'> : never;

/** The Node.js arguments the Functions host starts the worker with in Azure (and npm start uses). */
export function workerNodeArguments(root: string): string[] {
  const resources = JSON.parse(readFileSync(join(root, 'infra', 'app-resources.json'), 'utf8')) as { nodeArguments?: unknown };
  if (typeof resources.nodeArguments !== 'string') throw new Error('infra/app-resources.json has no nodeArguments');
  return resources.nodeArguments.split(' ').filter((arg) => arg !== '');
}

export async function startHostProcess(options: HostProcessOptions): Promise<RunningHostProcess> {
  const child: ChildProcess = fork(join(options.compiledDir, 'dev', 'bench', 'host-child.js'), [], {
    env: { ...process.env, ...options.env },
    // BENCH_APP_NODE_ARGUMENTS (such as `--cpu-prof --cpu-prof-dir=prof`): added for this process only,
    // for profiling the app apart from the driver, simulator and Azurite (NODE_OPTIONS refuses --cpu-prof).
    execArgv: [...options.nodeArguments, ...(process.env.BENCH_APP_NODE_ARGUMENTS ?? '').split(' ').filter((arg) => arg !== '')],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  const ask = askerFor<Body<HostProcessRequest>, HostProcessReply>(child, 'app host process');

  const started = await ask({
    type: 'start',
    enable: options.enable,
    hostJsonPath: options.hostJsonPath,
    storagePorts: options.storagePorts,
    retained: options.retained,
    ...(options.messageLeaseSeconds !== undefined ? { messageLeaseSeconds: options.messageLeaseSeconds } : {}),
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url: started.url!,
    pid: child.pid,
    trips: async ({ reset = false } = {}) => (await ask({ type: 'trips', reset })).trips!,
    memory: async ({ collect = false } = {}) => (await ask({ type: 'memory', collect })).memory!,
    invocations: async () => (await ask({ type: 'invocations' })).invocations!,
    ended: () => (child.signalCode ? `signal ${child.signalCode}` : child.exitCode !== null ? `exit code ${child.exitCode}` : undefined),
    kill: async (signal) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      await ask({ type: 'stop' }).catch(() => undefined);
      await exited;
    },
  };
}
