import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, isPortFree } from '../../dev/free-port';
import { eventually } from '../support/eventually';

const root = join(__dirname, '..', '..');

describe('npm start', () => {
  it('answers /api/health with 200 without any Azure account, and leaves nothing running after SIGINT', async () => {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port) };
    for (const name of ['AzureWebJobsStorage', 'GRAPH_BASE_URL', 'GRAPH_AUTH']) delete env[name];
    const child = spawn(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'dev', 'start.ts')], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

    try {
      const started = Date.now();
      const health = await eventually(async () => {
        const response = await fetch(`http://127.0.0.1:${port}/api/health`);
        return response.status === 200 ? ((await response.json()) as Record<string, unknown>) : undefined;
      }, 60_000, 250);
      expect(Date.now() - started).toBeLessThan(60_000);
      // Anonymous health says only ok or degraded; the details need a function key (none locally).
      expect(health).toEqual({ status: 'ok' });
      const details = (await (await fetch(`http://127.0.0.1:${port}/api/health/details`)).json()) as { storage: { reachable: boolean } };
      expect(details.storage.reachable).toBe(true);
      expect(output).toContain(`http://127.0.0.1:${port}/api`);

      const ports = [...output.matchAll(/(?:queue|table) :(\d+)/g)].map((match) => Number(match[1]));
      expect(ports).toHaveLength(2);

      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(output).toContain('stopped.');
      for (const used of [port, ...ports]) expect(await isPortFree(used)).toBe(true);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 90_000);
});
