import { app } from '@azure/functions';
import { functionDefinitions } from './all';

// Entry point for the Azure Functions host (package.json "main"). Without the host, app.* registers nothing.

// Request bodies reach the handlers as streams (host 4.28+), so each signed route refuses a body over its
// cap after reading that many bytes (functions/http-body.ts), instead of after the host buffered all of it
// (up to FUNCTIONS_REQUEST_BODY_SIZE_LIMIT, which infra sets to the largest route cap).
app.setup({ enableHttpStream: true });
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
