import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../dev/free-port';
import { eventually } from '../support/eventually';

const root = join(__dirname, '..', '..');

/** Runs dev/start.ts as `npm start` does; resolves with its output once the banner is out (or it exits). */
async function start(env: NodeJS.ProcessEnv): Promise<{ output: string; code: number | null }> {
  const dir = mkdtempSync(join(tmpdir(), 'npm-start-settings-'));
  const full: NodeJS.ProcessEnv = { ...process.env, LOCAL_STATE_FILE: join(dir, 'state.json'), LOCAL_SETTINGS_FILE: join(dir, 'none.json'), ...env };
  for (const name of ['AzureWebJobsStorage', 'GRAPH_BASE_URL', 'GRAPH_AUTH', 'LOCAL_DEMO_MODE']) if (!(name in env)) delete full[name];
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'dev', 'start.ts')], { cwd: root, env: full, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await eventually(async () => (output.includes('Ctrl-C stops everything') || child.exitCode !== null ? true : undefined), 60_000, 100);
    if (child.exitCode === null) child.kill('SIGINT');
    return { output, code: await exited };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

describe('npm start settings', () => {
  it('PORT=abc and a port in use each print one line with what to do, and no stack trace', async () => {
    const bad = await start({ PORT: 'abc' });
    expect(bad.code).toBe(1);
    expect(bad.output.trim()).toBe('npm start failed: PORT must be a port number from 0 to 65535, got "abc" (for example: PORT=7072 npm start)');

    const { createServer } = await import('node:net');
    const port = await freePort();
    const holder = createServer().listen(port, '127.0.0.1');
    try {
      const taken = await start({ PORT: String(port) });
      expect(taken.code).toBe(1);
      expect(taken.output).toContain(`npm start failed: port ${port} is in use`);
      expect(taken.output).not.toMatch(/\n\s+at /);
    } finally {
      holder.close();
    }
  }, 120_000);

  it('a copied local.settings.example.json keeps the simulator and demo mode, and the banner names the file and what it set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'copied-'));
    const file = join(dir, 'local.settings.json');
    copyFileSync(join(root, 'local.settings.example.json'), file);
    const { output, code } = await start({ PORT: String(await freePort()), LOCAL_SETTINGS_FILE: file });
    expect(code, output).toBe(0);
    expect(output).toMatch(/graph {6}Graph simulator at http:\/\/127\.0\.0\.1:\d+, demo tenant/);
    expect(output).toContain(`settings   ${file} set `);
    expect(output).toContain('DEMO MODE');
    expect(output).not.toContain('REAL MICROSOFT GRAPH');
  }, 90_000);

  it('says loudly when a settings file, not the shell, points npm start at real Microsoft Graph', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'real-'));
    const file = join(dir, 'local.settings.json');
    const example = JSON.parse(readFileSync(join(root, 'local.settings.example.json'), 'utf8')) as { Values: Record<string, string> };
    writeFileSync(file, JSON.stringify({ Values: { ...example.Values, GRAPH_BASE_URL: 'https://graph.microsoft.com' } }));
    const { output } = await start({ PORT: String(await freePort()), LOCAL_SETTINGS_FILE: file });
    expect(output).toContain(`!! REAL MICROSOFT GRAPH: GRAPH_BASE_URL=https://graph.microsoft.com came from ${file}`);
    expect(output).not.toContain('Graph simulator at');
  }, 90_000);

  it('a weak or reused secret stops npm start with one line naming the setting and how to make a good one', async () => {
    const weak = await start({ PORT: String(await freePort()), WEBHOOK_SECRET_JIRA: 'my-super-secret-jira-webhook-key' });
    expect(weak.code, weak.output).toBe(1);
    expect(weak.output.trim()).toBe('npm start failed: WEBHOOK_SECRET_JIRA reads as words, not random characters (make a good one with: openssl rand -base64 32)');

    const key = randomBytes(32).toString('base64');
    const reused = await start({ PORT: String(await freePort()), INTAKE_MAC_KEY: key, TAP_SEALING_KEY: key });
    expect(reused.code, reused.output).toBe(1);
    expect(reused.output.trim().split('\n')).toHaveLength(1);
    expect(reused.output.trim()).toMatch(/^npm start failed: INTAKE_MAC_KEY is the same secret as TAP_SEALING_KEY: .*openssl rand -base64 32\)$/);
    expect(reused.output).not.toContain(key);
  }, 120_000);
});
