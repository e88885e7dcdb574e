import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionDefinition } from '../../functions/definition';
import { startLocalHost, type RunningLocalHost } from '../../dev/local-host/local-host';
import { LocalHttpServer } from '../../dev/local-host/http-server';
import { recordingLog } from '../support/quiet-log';

const hostJsonPath = join(__dirname, '..', '..', 'host.json');

const echo: FunctionDefinition = {
  name: 'echo',
  trigger: 'http',
  options: {
    route: 'things/{id}/{part?}',
    methods: ['GET', 'POST'],
    authLevel: 'function',
    handler: async (request) => ({
      status: 200,
      jsonBody: {
        method: request.method,
        params: request.params,
        query: Object.fromEntries(request.query.entries()),
        header: request.headers.get('x-test'),
        body: await request.text(),
      },
    }),
  },
};

const open: FunctionDefinition = {
  name: 'open',
  trigger: 'http',
  options: { route: 'open', methods: ['GET'], authLevel: 'anonymous', handler: async () => ({ status: 204 }) },
};

const broken: FunctionDefinition = {
  name: 'broken',
  trigger: 'http',
  options: {
    route: 'broken',
    authLevel: 'anonymous',
    handler: async () => {
      throw new Error('internal detail that must not leak');
    },
  },
};

describe('local HTTP host', () => {
  let host: RunningLocalHost;
  let keyed: RunningLocalHost;
  beforeAll(async () => {
    const common = { definitions: [echo, open, broken], port: 0, hostJsonPath, enable: { queues: false, timers: false }, log: recordingLog() };
    host = await startLocalHost(common);
    keyed = await startLocalHost({ ...common, functionKey: 'local-key' });
  });
  afterAll(async () => {
    await host.stop();
    await keyed.stop();
  });

  it('passes route parameters, query, headers and the exact body to the handler', async () => {
    const response = await fetch(`${host.url}/api/things/42/detail?x=1`, {
      method: 'POST',
      headers: { 'x-test': 'yes', 'content-type': 'text/plain' },
      body: 'héllo',
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      method: 'POST',
      params: { id: '42', part: 'detail' },
      query: { x: '1' },
      header: 'yes',
      body: 'héllo',
    });
  });

  it('answers 404 outside /api, for unknown routes and for methods a route does not take', async () => {
    expect((await fetch(`${host.url}/things/1`)).status).toBe(404);
    expect((await fetch(`${host.url}/api/nothing`)).status).toBe(404);
    expect((await fetch(`${host.url}/api/open`, { method: 'DELETE' })).status).toBe(404);
  });

  it('answers those 404s (and 401) with the documented {"error": {code, message}} body, saying what exists', async () => {
    const body = async (response: Response) => {
      expect(response.headers.get('content-type')).toMatch(/application\/json/);
      return (await response.json()) as { error: { code: string; message: string } };
    };
    const unknown = await body(await fetch(`${host.url}/api/nothing`));
    expect(unknown.error.code).toBe('not_found');
    expect(unknown.error.message).toMatch(/no route GET \/api\/nothing/);
    expect((await body(await fetch(`${host.url}/outside`))).error.code).toBe('not_found');
    const method = await body(await fetch(`${host.url}/api/open`, { method: 'DELETE' }));
    expect(method.error.message).toMatch(/DELETE \/api\/open: this route takes GET/);
    const unauthorised = await body(await fetch(`${keyed.url}/api/things/1`));
    expect(unauthorised.error).toEqual({ code: 'unauthorized', message: expect.stringContaining('x-functions-key') });
  });

  it('turns a port in use into one line that says what to do', async () => {
    const taken = Number(new URL(host.url).port);
    const second = new LocalHttpServer([], { port: taken, log: recordingLog() });
    await expect(second.listen()).rejects.toThrow(new RegExp(`^port ${taken} is in use .*PORT=${taken + 1} npm start$`));
  });

  it('answers a bare 500 when a handler throws, without the error text', async () => {
    const response = await fetch(`${host.url}/api/broken`);
    expect(response.status).toBe(500);
    expect(await response.text()).toBe('');
  });

  it('does not check keys unless a local function key is configured', async () => {
    expect((await fetch(`${host.url}/api/things/1`)).status).toBe(200);
  });

  it('enforces authLevel function with a configured key, via ?code= or x-functions-key', async () => {
    expect((await fetch(`${keyed.url}/api/things/1`)).status).toBe(401);
    expect((await fetch(`${keyed.url}/api/things/1?code=wrong`)).status).toBe(401);
    expect((await fetch(`${keyed.url}/api/things/1?code=local-key`)).status).toBe(200);
    expect((await fetch(`${keyed.url}/api/things/1`, { headers: { 'x-functions-key': 'local-key' } })).status).toBe(200);
    expect((await fetch(`${keyed.url}/api/open`)).status).toBe(204);
  });
});
