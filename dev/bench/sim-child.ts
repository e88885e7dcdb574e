import { startGraphSimulator, type RunningGraphSimulator } from '../graph-sim';
import type { SimProcessOptions } from './sim-process';
import { benchTenant } from './tenant';

/** The child side of sim-process.ts: one simulator, answering the bench over IPC. */
let sim: RunningGraphSimulator | undefined;

type Request = { id: number; type: 'start'; options: SimProcessOptions } | { id: number; type: 'log'; from: number } | { id: number; type: 'length' } | { id: number; type: 'stop' };

process.on('message', (message: Request) => {
  void handle(message).catch((error: unknown) => process.send?.({ id: message.id, error: error instanceof Error ? error.message : String(error) }));
});
// The bench went away: so does its simulator.
process.on('disconnect', () => process.exit(0));

async function handle(message: Request): Promise<void> {
  switch (message.type) {
    case 'start': {
      const { users, latencyMs, throttle } = message.options;
      sim = await startGraphSimulator({ tenant: benchTenant(users), faults: { latencyMs }, throttle });
      process.send?.({ id: message.id, url: sim.url });
      return;
    }
    case 'log':
      process.send?.({ id: message.id, entries: sim?.requestLog.slice(message.from) ?? [] });
      return;
    case 'length':
      process.send?.({ id: message.id, length: sim?.requestLog.length ?? 0 });
      return;
    case 'stop':
      await sim?.stop();
      process.send?.({ id: message.id }, undefined, undefined, () => process.exit(0));
      return;
  }
}
