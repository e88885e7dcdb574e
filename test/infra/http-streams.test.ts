import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_BULK_BODY_BYTES } from '../../shared/bulk/bulk-request';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * In Azure the body cap applies before the host buffers a body: the app turns on HTTP streams (the host
 * then hands the handler a stream that readSignedBody stops reading at the route's cap), and infra sets
 * the host's own limit to the largest route cap. The local host does the same (test/local-host/body-and-host.test.ts).
 */
afterEach(() => {
  vi.resetModules();
  vi.doUnmock('@azure/functions');
});

describe('HTTP streams in Azure', () => {
  it('the entry point turns streaming on before it registers a function', async () => {
    const calls: string[] = [];
    vi.doMock('@azure/functions', () => ({
      app: {
        setup: (options: { enableHttpStream?: boolean }) => calls.push(`setup ${JSON.stringify(options)}`),
        http: (name: string) => calls.push(`http ${name}`),
        storageQueue: (name: string) => calls.push(`queue ${name}`),
        timer: (name: string) => calls.push(`timer ${name}`),
      },
    }));
    await import('../../functions/index');
    expect(calls[0]).toBe('setup {"enableHttpStream":true}');
    expect(calls.filter((call) => call.startsWith('http ')).length).toBeGreaterThan(5);
  });

  it('infra caps the host at the largest route cap (the bulk CSV)', () => {
    const bicep = readFileSync(join(__dirname, '..', '..', 'infra', 'main.bicep'), 'utf8');
    expect(bicep).toContain('FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: string(2 * 1024 * 1024)');
    expect(MAX_BULK_BODY_BYTES).toBe(2 * 1024 * 1024);
  });
});
