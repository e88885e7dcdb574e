import { loadSettings, type Settings } from './config';
import { createGraphClient, type GraphClient } from './graph/client';
import { createStorageClients, type StorageClients } from './storage/clients';

/**
 * What the triggers need, built once per process from the settings. Handlers ask for it on each call
 * so that tests and the local host can swap the environment and call resetServices().
 */
export interface Services {
  settings: Settings;
  storage: StorageClients;
  /** Microsoft Graph (or the local simulator), unpaced; built on first use, so settings-only callers never need a credential. */
  readonly graph: GraphClient;
}

let current: Services | undefined;

export function getServices(): Services {
  current ??= createServices(loadSettings());
  return current;
}

export function createServices(settings: Settings): Services {
  let graph: GraphClient | undefined;
  return {
    settings,
    storage: createStorageClients(settings),
    get graph() {
      graph ??= createGraphClient(settings);
      return graph;
    },
  };
}

export function resetServices(next?: Services): void {
  current = next;
}
