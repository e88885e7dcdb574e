import { afterAll, beforeAll } from 'vitest';
import { startAzurite, type RunningAzurite } from '../../dev/azurite';

/**
 * Starts a private Azurite on free ports for the calling test file and stops it afterwards.
 * Read `.connectionString` inside tests or hooks, not at module load.
 */
export function useAzurite(): { readonly connectionString: string; readonly running: RunningAzurite } {
  let running: RunningAzurite | undefined;
  beforeAll(async () => {
    running = await startAzurite();
  });
  afterAll(async () => {
    await running?.stop();
  });
  return {
    get connectionString() {
      if (!running) throw new Error('Azurite is not running yet: use it inside a test or hook');
      return running.connectionString;
    },
    get running() {
      if (!running) throw new Error('Azurite is not running yet: use it inside a test or hook');
      return running;
    },
  };
}
