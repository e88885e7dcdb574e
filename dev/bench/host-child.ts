import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { functionDefinitions } from '../../functions/all';
import type { HostLog } from '../local-host/log';
import { startLocalHost, type RunningLocalHost } from '../local-host/local-host';
import type { HostProcessRequest, HostProcessReply } from './host-process';
import { countStorageRequests, type StorageRequestCounter } from './storage-requests';

/**
 * The child side of host-process.ts: the app's function definitions on the local host, in a process
 * of its own, as compiled JavaScript (dev/bench/compiled.ts). It counts its own storage round trips
 * and its own heap, since only this process can see them, and answers the bench over IPC.
 */
/** Invocations by function: the host asks its log for one handler per invocation. */
const invocations: Record<string, number> = {};
const silentHost: HostLog = {
  info: () => undefined,
  error: () => undefined,
  forInvocation: (name) => {
    invocations[name] = (invocations[name] ?? 0) + 1;
    return () => undefined;
  },
};

let host: RunningLocalHost | undefined;
let trips: StorageRequestCounter | undefined;

let heapPeak = 0;
/** Where the memory was when this process's RSS peaked: V8's heap (used, and committed) and off it. */
let atRssPeak: NodeJS.MemoryUsage | undefined;
setInterval(() => {
  const usage = process.memoryUsage();
  heapPeak = Math.max(heapPeak, usage.heapUsed);
  if (!atRssPeak || usage.rss > atRssPeak.rss) atRssPeak = usage;
}, 100).unref();

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;
/** `--retained`: a full collection every 5 s, then the heap in use: what the app holds, not garbage. */
let retainedPeak = 0;
let retainedTimer: NodeJS.Timeout | undefined;

/**
 * `BENCH_ALLOCATION_PROFILE=file`: V8's sampling heap profiler over the host's life, counting garbage
 * too (objects collected since), written to the file at stop: where the app allocates, not only what
 * it keeps. For finding what drives the heap up; it costs time, so figures of such a run are not quoted.
 */
const allocationProfile = process.env.BENCH_ALLOCATION_PROFILE;
const profiler = allocationProfile ? new Session() : undefined;
async function startAllocationProfile(): Promise<void> {
  if (!profiler) return;
  profiler.connect();
  await profiler.post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
}
async function writeAllocationProfile(): Promise<void> {
  if (!profiler || !allocationProfile) return;
  const { profile } = await profiler.post('HeapProfiler.stopSampling');
  writeFileSync(allocationProfile, JSON.stringify(profile));
}

const reply = (message: HostProcessReply, then?: () => void) => process.send?.(message, undefined, undefined, then);

process.on('message', (message: HostProcessRequest) => {
  void handle(message).catch((error: unknown) => reply({ id: message.id, error: error instanceof Error ? error.message : String(error) }));
});
// The bench went away: so does its host.
process.on('disconnect', () => process.exit(0));

async function handle(message: HostProcessRequest): Promise<void> {
  switch (message.type) {
    case 'start': {
      trips = countStorageRequests(message.storagePorts);
      await startAllocationProfile();
      if (message.retained && !retainedTimer) {
        retainedTimer = setInterval(() => {
          collect();
          retainedPeak = Math.max(retainedPeak, process.memoryUsage().heapUsed);
        }, 5000);
        retainedTimer.unref();
      }
      host = await startLocalHost({
        definitions: functionDefinitions,
        port: 0,
        hostJsonPath: message.hostJsonPath,
        enable: message.enable,
        ...(message.messageLeaseSeconds !== undefined ? { messageLeaseSeconds: message.messageLeaseSeconds } : {}),
        log: silentHost,
      });
      reply({ id: message.id, url: host.url, rss: process.memoryUsage().rss });
      return;
    }
    case 'trips':
      reply({ id: message.id, trips: trips?.counts() ?? { table: 0, queue: 0, queueMessages: 0, queuePolls: 0 } });
      if (message.reset) trips?.reset();
      return;
    case 'memory': {
      if (message.collect) collect();
      const usage = process.memoryUsage();
      reply({ id: message.id, memory: { rss: usage.rss, heapUsed: usage.heapUsed, heapTotal: usage.heapTotal, external: usage.external, heapPeak, retainedPeak, atRssPeak: atRssPeak ?? usage } });
      return;
    }
    case 'invocations':
      reply({ id: message.id, invocations: { ...invocations } });
      return;
    case 'stop':
      trips?.stop();
      await host?.stop();
      await writeAllocationProfile();
      reply({ id: message.id }, () => process.exit(0));
      return;
  }
}
