import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSystem, type RunningSystem } from '../support/system';

/**
 * Logs are one JSON object per line (docs/api.md), whichever function writes them: the local host
 * prefixes each with `[function] level:` as `func start` does, and what follows must parse as JSON with
 * a message. Local demo mode's warning is said once per start, not on every unsigned request.
 */
let system: RunningSystem;

beforeAll(async () => {
  system = await startSystem({ settings: { WEBHOOK_SECRET_GENERIC: '', LOCAL_DEMO_MODE: 'true' } });
}, 60_000);
afterAll(async () => {
  await system?.stop();
});

const post = (path: string, body: string, contentType = 'application/json') =>
  fetch(`${system.host.url}/api/${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });

describe('function logs under the local host', () => {
  it('are JSON after the function prefix, for intake, refusals, bulk, status and the worker; demo mode is said once', async () => {
    const ids: string[] = [];
    for (const ticket of ['LOG-1', 'LOG-2']) {
      const answer = await post('resets', JSON.stringify({ ticket, target: { userPrincipalName: 'nestor.wilke@contoso.com' }, requestedBy: 'agent@contoso.com', dryRun: true }));
      expect(answer.status).toBe(202);
      expect(answer.headers.get('x-demo-mode')).toBe('unsigned-accepted');
      ids.push(((await answer.json()) as { id: string }).id);
    }
    expect((await post('resets', JSON.stringify({ ticket: 'LOG-3', target: 'nestor.wilke@contoso.com', requestedBy: 'agent@contoso.com' }))).status).toBe(400);
    const bulk = await post('bulk?ticket=LOG-BULK&requestedBy=agent%40contoso.com&dryRun=true', 'userPrincipalName\nnestor.wilke@contoso.com\n', 'text/csv');
    expect(bulk.status).toBe(202);
    const job = ((await bulk.json()) as { id: string }).id;
    expect((await post('bulk?ticket=LOG-BULK-2&requestedBy=agent%40contoso.com&dryRun=true', 'userPrincipalName\nlee.gu@contoso.com\n', 'text/csv')).status).toBe(202);
    expect((await fetch(`${system.host.url}/api/bulk/${job}`)).status).toBe(200);
    expect((await fetch(`${system.host.url}/api/resets/0f1e2d3c-4b5a-8c69-8796-a5b4c3d2e1f0`)).status).toBe(404);
    for (const id of ids) await system.waitFor(id, ['planned', 'completed', 'failed', 'rejected']);

    const functionLines = system.log.lines.filter((line) => /^\[\w+\] /.test(line));
    const byFunction = new Set(functionLines.map((line) => /^\[(\w+)\]/.exec(line)![1]));
    for (const name of ['resetIntake', 'bulkSubmit', 'resetWorker']) expect(byFunction, name).toContain(name);
    for (const line of functionLines) {
      const text = line.replace(/^\[\w+\] (?:\w+: )?/, '');
      let parsed: unknown;
      expect(() => (parsed = JSON.parse(text)), line).not.toThrow();
      expect(parsed, line).toMatchObject({ message: expect.any(String) });
    }
    // Two unsigned resets and two unsigned bulk jobs: one warning each kind, not one per request.
    expect(functionLines.filter((line) => /LOCAL DEMO MODE.*UNSIGNED generic webhook/.test(line))).toHaveLength(1);
    expect(functionLines.filter((line) => /LOCAL DEMO MODE.*UNSIGNED bulk job/.test(line))).toHaveLength(1);
  }, 60_000);
});
