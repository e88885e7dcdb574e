import type { FunctionDefinition } from './definition';
import { health } from './health';

/** Every function of the app, in one list: registered with Azure by index.ts and served by the local host. */
export const functionDefinitions: readonly FunctionDefinition[] = [health];
