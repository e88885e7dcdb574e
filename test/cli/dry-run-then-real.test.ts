import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../dev/cli/program';
import { startSystem, type RunningSystem } from '../support/system';

/**
 * A dry run is a delivery of its own: after `reset --dry-run`, the same command without it resets the
 * user (it used to meet the dry run as a conflicting repeat, 422 idempotency_conflict, in demo mode,
 * where nothing signed tells two deliveries apart). Unsigned, as `npm start` runs without secrets.
 */

let system: RunningSystem;
beforeAll(async () => {
  system = await startSystem({ settings: { WEBHOOK_SECRET_GENERIC: '', LOCAL_DEMO_MODE: 'true' } });
});
afterAll(async () => {
  await system?.stop();
});

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ output: string; code: number }> {
  let output = '';
  const program = buildProgram({ out: (text) => (output += text), err: (text) => (output += text), env, tty: false, pollMs: 100 });
  const before = process.exitCode;
  process.exitCode = 0;
  await program.parseAsync(['node', 'entra-mfa-reset', '--url', system.host.url, ...args]);
  const code = Number(process.exitCode ?? 0);
  process.exitCode = before;
  return { output, code };
}

describe('the CLI, a dry run and then the real run for the same ticket', () => {
  it('plans, then resets: two requests, the second linked to the first', async () => {
    const dry = await cli(['reset', 'lidia.holloway@contoso.com', '--ticket', 'SR-DRY-1', '--requested-by', 'agent@contoso.com', '--dry-run']);
    expect(dry.output).toMatch(/lidia\.holloway@contoso\.com: planned/);
    expect(dry.code).toBe(0);
    const dryId = /Accepted: (\S+)/.exec(dry.output)?.[1];

    const real = await cli(['reset', 'lidia.holloway@contoso.com', '--ticket', 'SR-DRY-1', '--requested-by', 'agent@contoso.com']);
    expect(real.output).not.toMatch(/idempotency_conflict/);
    expect(real.output).toMatch(/^Accepted: /m);
    expect(real.output).toMatch(/lidia\.holloway@contoso\.com: completed/);
    expect(real.code).toBe(0);
    const realId = /Accepted: (\S+)/.exec(real.output)?.[1];
    expect(realId).not.toBe(dryId);
    expect((await system.status(realId!)) as unknown as { previousRequestId?: string }).toMatchObject({ previousRequestId: dryId });
  }, 60_000);

  it('the same holds for unsigned deliveries without a webhook-id (curl in demo mode)', async () => {
    const body = { ticket: { system: 'manual', id: 'SR-DRY-2' }, target: { userPrincipalName: 'nestor.wilke@contoso.com' }, requestedBy: 'agent@contoso.com' };
    const post = (extra: Record<string, unknown>) =>
      fetch(`${system.host.url}/api/resets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, ...extra }) });
    const dry = await post({ dryRun: true });
    expect(dry.status).toBe(202);
    const dryId = ((await dry.json()) as { id: string }).id;
    await system.waitFor(dryId, ['planned']);
    const real = await post({});
    expect(real.status).toBe(202);
    // And the real one again is that request, not a third.
    const again = await post({});
    expect(again.status).toBe(200);
    expect(((await again.json()) as { id: string }).id).toBe(((await real.json()) as { id: string }).id);
  }, 60_000);

  it('says so when the requester falls back to this machine\'s user', async () => {
    const { output } = await cli(['reset', 'nestor.wilke@contoso.com', '--ticket', 'SR-DRY-3', '--dry-run']);
    expect(output).toMatch(/warning: no --requested-by and no ENTRA_MFA_RESET_REQUESTED_BY: the request names this machine's user/);
    const named = await cli(['reset', 'nestor.wilke@contoso.com', '--ticket', 'SR-DRY-4', '--dry-run'], { ENTRA_MFA_RESET_REQUESTED_BY: 'agent@contoso.com' });
    expect(named.output).not.toMatch(/warning/);
  }, 60_000);
});
