import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../dev/free-port';
import { eventually } from '../support/eventually';

const root = join(__dirname, '..', '..');

/**
 * `npm start` with the built-in demo tenant sets its break-glass account, protected group and domain
 * (and approval), so a newcomer sees the guards refuse out of the box rather than concluding they do
 * not work.
 */
describe('npm start with the demo tenant', () => {
  it('refuses the demo break-glass account and the protected group member out of the box, and says so in the banner', async () => {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port) };
    for (const name of ['AzureWebJobsStorage', 'GRAPH_BASE_URL', 'GRAPH_AUTH', 'BREAK_GLASS_UPNS', 'PROTECTED_GROUP_IDS', 'TENANT_DOMAINS', 'REQUIRE_APPROVAL', 'GRAPH_SIM_TENANT']) delete env[name];
    for (const name of ['WEBHOOK_SECRET_JIRA', 'WEBHOOK_SECRET_SERVICENOW', 'WEBHOOK_SECRET_GENERIC']) delete env[name];
    const child = spawn(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'dev', 'start.ts')], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const api = `http://127.0.0.1:${port}/api`;
    try {
      await eventually(async () => ((await fetch(`${api}/health`).catch(() => undefined))?.status === 200 ? true : undefined), 60_000, 250);
      expect(output).toMatch(/BREAK_GLASS_UPNS=breakglass@contoso\.com \(demo default\)/);
      expect(output).toMatch(/PROTECTED_GROUP_IDS=5f0c1d2e-3a4b-4c5d-8e6f-708192a3b4c5 \(demo default\)/);

      const cases = [
        { upn: 'breakglass@contoso.com', code: 'break-glass' },
        { upn: 'lynne.robbins@contoso.com', code: 'protected-group' },
        { upn: 'christie.cline@contoso.com', code: 'privileged-target' },
      ];
      for (const c of cases) {
        const response = await fetch(`${api}/resets`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ticket: { system: 'manual', id: `SR-${c.code}` }, target: { userPrincipalName: c.upn }, requestedBy: 'you@contoso.com', approvedBy: 'lead@contoso.com' }),
        });
        expect(response.status, await response.clone().text()).toBe(202);
        const { id } = (await response.json()) as { id: string };
        const done = await eventually(async () => {
          const view = (await (await fetch(`${api}/resets/${id}`)).json()) as { status: string; result?: { code?: string } };
          return ['completed', 'partial', 'failed', 'rejected'].includes(view.status) ? view : undefined;
        }, 20_000, 200);
        expect(done.status, c.upn).toBe('rejected');
        expect(done.result?.code, c.upn).toBe(c.code);
      }

      // Approval is on: a request without an approver is refused at the door.
      const unapproved = await fetch(`${api}/resets`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ticket: { system: 'manual', id: 'SR-unapproved' }, target: { userPrincipalName: 'adele.vance@contoso.com' }, requestedBy: 'you@contoso.com' }),
      });
      expect(unapproved.status).toBe(422);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 120_000);
});
