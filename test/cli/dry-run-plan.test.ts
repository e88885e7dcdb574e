import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../dev/cli/program';

/**
 * A dry run prints the methods in the order the reset would remove them (the plan's waves, the default
 * method last), and when Graph would keep the default because other methods stay, it says the reset
 * would end partial: a dry run never reads better than the run it stands for.
 */
const ID = '2ca505ca-cbaf-8fd4-854b-d6a370fe9720';
const method = (id: string, kind: string, detail: string, outcome: string, isDefault = false) => ({ id, kind, detail, outcome, isDefault, reason: 'x', requestIds: [] });
const answer = (blocked: boolean) => ({
  id: ID,
  status: 'planned',
  target: { userPrincipalName: 'megan.bowen@contoso.com' },
  result: {
    status: 'planned',
    // The listing order Graph gave, not the order of the run.
    methods: [
      method('pw', 'password', 'password', 'kept'),
      method('mob', 'phone', 'mobile +1 425*****11', 'planned', true),
      method('off', 'phone', 'office +1 425*****12', 'planned'),
      method('whfb', 'windowsHelloForBusiness', 'MEGAN-LAPTOP', 'kept'),
      method('hw', 'hardwareOath', 'Token2 OATH TOTP token', 'planned'),
    ],
    plan: {
      profile: 'portal',
      deletions: [
        { id: 'hw', kind: 'hardwareOath', wave: 0, isDefault: false },
        { id: 'off', kind: 'phone', wave: 1, isDefault: false },
        { id: 'mob', kind: 'phone', wave: 2, isDefault: true },
      ],
      kept: [],
      unknownTypes: [],
      ...(blocked ? { defaultBlocked: { methodIds: ['mob'], detail: 'mobile +1 425*****11', staying: ['MEGAN-LAPTOP'] } } : {}),
    },
  },
});

let server: Server;
let url = '';
let blocked = true;

beforeAll(async () => {
  server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer(blocked)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function status(): Promise<{ output: string; code: number | undefined }> {
  const out: string[] = [];
  const program = buildProgram({ out: (text) => out.push(text), err: (text) => out.push(text), env: {}, tty: false });
  const before = process.exitCode;
  await program.parseAsync(['node', 'entra-mfa-reset', '--url', url, 'status', ID]);
  const code = process.exitCode as number | undefined;
  process.exitCode = before;
  return { output: out.join(''), code };
}

describe('a dry run as the CLI prints it', () => {
  it('lists the planned methods in the order they would go, the default last, then what stays', async () => {
    blocked = false;
    const { output } = await status();
    const lines = output.split('\n').filter((line) => /planned|kept/.test(line) && !line.includes(': planned'));
    expect(lines.map((line) => line.trim().split(/\s+/).slice(0, 2).join(' '))).toEqual([
      '1 hardwareOath',
      '2 phone',
      '3 phone',
      'password password',
      'windowsHelloForBusiness MEGAN-LAPTOP',
    ]);
    expect(lines[2]).toContain('mobile +1 425*****11');
    expect(lines[2]).toContain('planned (default)');
    expect(output).not.toContain('would end partial');
  });

  it('says the reset would end partial when Graph would keep the default method', async () => {
    blocked = true;
    const { output, code } = await status();
    expect(output).toMatch(/would stay: mobile \+1 425\*{5}11, the default method: .*MEGAN-LAPTOP would stay\. This reset would end partial/);
    // The table says the same as the line under it: the default is not "planned" and then "would stay".
    const mobile = output.split('\n').find((line) => line.includes('mobile +1 425*****11') && /^\s*\d/.test(line)) ?? '';
    expect(mobile).toContain('would stay (default)');
    expect(mobile).not.toContain('planned');
    // planned is still a finished dry run for scripts.
    expect(code ?? 0).toBe(0);
  });
});
