import { app } from '@azure/functions';
import { functionDefinitions } from './all';

// Entry point for the Azure Functions host (package.json "main"). Without the host, app.* registers nothing.
for (const definition of functionDefinitions) {
  switch (definition.trigger) {
    case 'http':
      app.http(definition.name, definition.options);
      break;
    case 'storageQueue':
      app.storageQueue(definition.name, definition.options);
      break;
    case 'timer':
      app.timer(definition.name, definition.options);
      break;
  }
}
