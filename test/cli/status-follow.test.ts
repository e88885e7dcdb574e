import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../dev/cli/program';

const ID = '6a1f0c3e-2b4d-4e5f-8a9b-0c1d2e3f4a5b';
let server: Server;
let url = '';
let reads = 0;
const statuses = ['queued', 'running', 'running', 'completed'];

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === `/api/resets/${ID}`) {
      const status = statuses[Math.min(reads, statuses.length - 1)]!;
      reads += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: ID, status, target: { userPrincipalName: 'adele.vance@contoso.com' }, ...(status === 'completed' ? { result: { methods: [{ kind: 'phone', detail: '+1 555 0100', outcome: 'deleted' }] } } : {}) }));
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'not_found', message: 'no reset request has this id' } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const run = async (...args: string[]) => {
  const out: string[] = [];
  const program = buildProgram({ out: (text) => out.push(text), err: (text) => out.push(text), env: {}, tty: false, pollMs: 20 });
  const before = process.exitCode;
  await program.parseAsync(['node', 'entra-mfa-reset', '--url', url, ...args]).catch((error: unknown) => out.push(String(error)));
  const code = process.exitCode;
  process.exitCode = before;
  return { output: out.join(''), code };
};

describe('entra-mfa-reset status <id>', () => {
  it('shows one request now, and with --follow each change of status until it ends', async () => {
    reads = 0;
    const now = await run('status', ID);
    expect(now.output).toContain('adele.vance@contoso.com: queued');
    expect(now.code).toBe(1);

    reads = 0;
    const followed = await run('status', ID, '--follow');
    expect(followed.output).toMatch(/ {2}queued\n {2}running\n\nadele\.vance@contoso\.com: completed after/);
    expect(followed.output).toContain('phone');
    expect(followed.code ?? 0).toBe(0);
  });

  it('says so for an unknown id rather than waiting forever', async () => {
    const unknown = await run('status', '00000000-0000-0000-0000-000000000000', '--follow');
    expect(unknown.output).toMatch(/404|not_found|no reset request/);
  });
});
