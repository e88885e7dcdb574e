import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../dev/cli/program';
import { runningApiOrigin, type StartState } from '../../dev/start-state';

/**
 * `npm run cli` and `npm run demo` find the running npm start from the state file it writes, whatever
 * PORT it took, so the README's commands work as written. The file decides where signed requests go,
 * so it counts only for a live process and a loopback address.
 */
const ID = '6a1f0c3e-2b4d-4e5f-8a9b-0c1d2e3f4a5b';
let server: Server;
let origin = '';
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: ID, status: 'completed', target: { userPrincipalName: 'adele.vance@contoso.com' }, result: { methods: [] } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function stateFile(state: Partial<StartState> & { api: string }): string {
  const file = join(mkdtempSync(join(tmpdir(), 'cli-state-')), 'state.json');
  writeFileSync(file, JSON.stringify({ pid: process.pid, storage: { kind: 'external', description: 'test' }, ...state }));
  return file;
}

describe('the CLI and the demo find the running npm start', () => {
  it('read its API from the state file of a live npm start', () => {
    expect(runningApiOrigin({ LOCAL_STATE_FILE: stateFile({ api: 'http://127.0.0.1:7345/api' }) })).toBe('http://127.0.0.1:7345');
    expect(runningApiOrigin({ LOCAL_STATE_FILE: stateFile({ api: 'http://localhost:7345/api/' }) })).toBe('http://localhost:7345');
  });

  it('ignore a file whose process has ended, and one that names anything but a loopback address', () => {
    // 2^22 + 7 is above Linux's default pid limit: no such process.
    expect(runningApiOrigin({ LOCAL_STATE_FILE: stateFile({ api: 'http://127.0.0.1:7345/api', pid: 4_194_311 }) })).toBeUndefined();
    for (const api of ['https://evil.example.com/api', 'http://10.0.0.5:7071/api', 'http://127.0.0.1.evil.example.com:7071/api', 'file:///etc/passwd']) {
      expect(runningApiOrigin({ LOCAL_STATE_FILE: stateFile({ api }) }), api).toBeUndefined();
    }
    expect(runningApiOrigin({ LOCAL_STATE_FILE: join(tmpdir(), 'no-such-npm-start.json') })).toBeUndefined();
  });

  it('the CLI without --url talks to that npm start; --url and ENTRA_MFA_RESET_URL still win', async () => {
    const run = async (env: NodeJS.ProcessEnv, ...args: string[]) => {
      const out: string[] = [];
      const program = buildProgram({ out: (text) => out.push(text), err: (text) => out.push(text), env, tty: false, pollMs: 20 });
      const before = process.exitCode;
      await program.parseAsync(['node', 'entra-mfa-reset', ...args]).catch((error: unknown) => out.push(String(error)));
      process.exitCode = before;
      return out.join('');
    };
    seen.length = 0;
    const found = await run({ LOCAL_STATE_FILE: stateFile({ api: `${origin}/api` }) }, 'status', ID);
    expect(found).toContain('adele.vance@contoso.com: completed');
    expect(seen).toEqual([`/api/resets/${ID}`]);

    // A stale file would send the request elsewhere; an explicit --url is used instead.
    seen.length = 0;
    const explicit = await run({ LOCAL_STATE_FILE: stateFile({ api: 'http://127.0.0.1:9/api', pid: 4_194_311 }) }, '--url', origin, 'status', ID);
    expect(explicit).toContain('completed');
    expect(seen).toHaveLength(1);

    // ENTRA_MFA_RESET_URL (read from the process environment, as commander does) wins over a live npm start's file too.
    seen.length = 0;
    const saved = process.env.ENTRA_MFA_RESET_URL;
    process.env.ENTRA_MFA_RESET_URL = origin;
    try {
      const fromEnv = await run({ LOCAL_STATE_FILE: stateFile({ api: 'http://127.0.0.1:9/api' }) }, 'status', ID);
      expect(fromEnv).toContain('completed');
      expect(seen).toHaveLength(1);
    } finally {
      if (saved === undefined) delete process.env.ENTRA_MFA_RESET_URL;
      else process.env.ENTRA_MFA_RESET_URL = saved;
    }
  });
});
