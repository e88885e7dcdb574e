import { fork, type ChildProcess } from 'node:child_process';
import { askerFor } from './ipc-ask';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SimLogEntry } from '../graph-sim';
import type { ThrottleOptions } from '../graph-sim/throttle';

/**
 * The Graph simulator in a process of its own, so that the bench's memory figures tell the app (this
 * process) from the simulator (its tenant and request log). Spoken to over IPC: the bench reads the
 * request log from it, since round trips and Graph writes are counted there.
 */
export interface SimProcessOptions {
  /** A bench tenant of this many users (dev/bench/tenant.ts). */
  users: number;
  latencyMs: number;
  throttle: ThrottleOptions;
}

export interface RunningSimProcess {
  url: string;
  pid: number | undefined;
  /** The request log from entry `from` on. */
  log(from?: number): Promise<SimLogEntry[]>;
  /** How many entries the log holds now. */
  logLength(): Promise<number>;
  stop(): Promise<void>;
}

type Reply = { id: number; url?: string; entries?: SimLogEntry[]; length?: number; error?: string };

const CHILD = join(__dirname, 'sim-child.ts');

export async function startSimProcess(options: SimProcessOptions): Promise<RunningSimProcess> {
  const child: ChildProcess = fork(CHILD, [], {
    // tsx's loader by absolute URL, wherever the bench is started from.
    execArgv: ['--import', pathToFileURL(require.resolve('tsx')).href],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  const ask = askerFor<Record<string, unknown>, Reply>(child, 'graph simulator process');

  const started = await ask({ type: 'start', options });
  return {
    url: started.url!,
    pid: child.pid,
    log: async (from = 0) => (await ask({ type: 'log', from })).entries ?? [],
    logLength: async () => (await ask({ type: 'length' })).length ?? 0,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await ask({ type: 'stop' }).catch(() => undefined);
      await exited;
    },
  };
}
