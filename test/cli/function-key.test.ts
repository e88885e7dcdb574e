import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../dev/cli/program';

/**
 * In Azure every machine route needs a function key: the CLI sends it in x-functions-key on every call
 * (the CSV export included) and never in the URL, where proxies and access logs would keep it.
 */
const KEY = 'test-function-key-0123456789';
const JOB = '0f1e2d3c-4b5a-8c69-8796-a5b4c3d2e1f0';
let server: Server;
let url = '';
const calls: { url: string; key: string | undefined }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const key = req.headers['x-functions-key'] as string | undefined;
    calls.push({ url: req.url ?? '', key });
    if (key !== KEY) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'unauthorized', message: 'function key required' } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8' });
    res.end('row,userPrincipalName,status\n1,adele.vance@contoso.com,completed\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('the CLI with a function key', () => {
  it('sends it in a header for the CSV export, never in the URL', async () => {
    const out: string[] = [];
    const program = buildProgram({ out: (text) => out.push(text), err: (text) => out.push(text), env: {}, tty: false });
    await program.parseAsync(['node', 'entra-mfa-reset', '--url', url, '--key', KEY, 'bulk', 'status', JOB, '--csv']);
    expect(out.join('')).toContain('adele.vance@contoso.com,completed');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.key).toBe(KEY);
    expect(calls[0]!.url).not.toContain(KEY);
    expect(calls[0]!.url).not.toContain('code=');
  });
});
