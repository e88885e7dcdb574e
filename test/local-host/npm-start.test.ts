import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, isPortFree } from '../../dev/free-port';
import { startStateSchema } from '../../dev/start-state';
import { eventually } from '../support/eventually';

const root = join(__dirname, '..', '..');

describe('npm start', () => {
  it('answers /api/health with 200 without any Azure account, records its storage for audit:verify, and stops gracefully on one Ctrl-C', async () => {
    const port = await freePort();
    const stateFile = join(mkdtempSync(join(tmpdir(), 'npm-start-')), 'state.json');
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), LOCAL_STATE_FILE: stateFile };
    for (const name of ['AzureWebJobsStorage', 'GRAPH_BASE_URL', 'GRAPH_AUTH']) delete env[name];
    // `npm start` itself, in its own process group: a terminal's Ctrl-C signals the whole group, and npm
    // forwards the signal to its child once more. Both must add up to one graceful stop.
    const child = spawn('npm', ['start', '--silent'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? `exit ${code}`)));

    try {
      const started = Date.now();
      const health = await eventually(async () => {
        const response = await fetch(`http://127.0.0.1:${port}/api/health`).catch(() => undefined);
        return response?.status === 200 ? ((await response.json()) as Record<string, unknown>) : undefined;
      }, 60_000, 250);
      expect(Date.now() - started).toBeLessThan(60_000);
      // Anonymous health says only ok or degraded; the details need a function key (none locally).
      expect(health).toEqual({ status: 'ok' });
      const details = (await (await fetch(`http://127.0.0.1:${port}/api/health/details`)).json()) as { storage: { reachable: boolean } };
      expect(details.storage.reachable).toBe(true);
      await eventually(async () => (output.includes('Ctrl-C stops everything') ? true : undefined), 10_000, 100);
      expect(output).toContain(`http://127.0.0.1:${port}/api`);

      const ports = [...output.matchAll(/(?:queue|table) :(\d+)/g)].map((match) => Number(match[1]));
      expect(ports).toHaveLength(2);
      // Started on a chosen PORT, it is a second instance: its Azurite keeps off the usual 10001/10002.
      expect(ports).not.toContain(10001);
      expect(ports).not.toContain(10002);

      // The state file names this instance's API and embedded Azurite, so audit:verify cannot check another's.
      const state = startStateSchema.parse(JSON.parse(readFileSync(stateFile, 'utf8')));
      expect(state.api).toBe(`http://127.0.0.1:${port}/api`);
      expect(state.storage.kind).toBe('embedded-azurite');
      if (state.storage.kind === 'embedded-azurite') expect(state.storage.connectionString).toContain(`:${ports[0]}`);

      process.kill(-child.pid!, 'SIGINT');
      // npm ends itself with the signal it forwarded once its child has ended (@npmcli/run-script).
      expect(['exit 0', 'SIGINT'], output).toContain(await exited);
      expect(output).toContain('stopped.');
      expect(output).not.toContain('again: stopping now');
      expect(existsSync(stateFile)).toBe(false);
      for (const used of [port, ...ports]) expect(await isPortFree(used)).toBe(true);
    } finally {
      if (child.exitCode === null) {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // The group has ended meanwhile.
        }
      }
    }
  }, 90_000);
});
