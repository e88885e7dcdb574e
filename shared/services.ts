import { loadSettings, type Settings } from './config';
import { createStorageClients, type StorageClients } from './storage/clients';

/**
 * What the triggers need, built once per process from the settings. Handlers ask for it on each call
 * so that tests and the local host can swap the environment and call resetServices().
 */
export interface Services {
  settings: Settings;
  storage: StorageClients;
}

let current: Services | undefined;

export function getServices(): Services {
  current ??= createServices(loadSettings());
  return current;
}

export function createServices(settings: Settings): Services {
  return { settings, storage: createStorageClients(settings) };
}

export function resetServices(next?: Services): void {
  current = next;
}
