import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSystem, type RunningSystem } from '../support/system';

/**
 * What a newcomer types first, answered in words they can act on: `ticket` may be a plain id in
 * /api/resets as in /api/bulk, and a string `target` is told the object it should be, never zod's
 * "Expected object, received string".
 */
let system: RunningSystem;

beforeAll(async () => {
  system = await startSystem();
}, 60_000);
afterAll(async () => {
  await system?.stop();
});

interface ErrorBody {
  error: { code: string; message: string; details?: { path: string; message: string }[] };
}

describe('request shape messages', () => {
  it('accepts a plain ticket id, as /api/bulk does', async () => {
    const answer = await system.post('generic', { ticket: 'SR-PLAIN-1', target: { userPrincipalName: 'nestor.wilke@contoso.com' }, requestedBy: 'agent@contoso.com', dryRun: true });
    expect(answer.status).toBe(202);
    const status = (await system.status(answer.body.id)) as unknown as { ticket: { id: string } };
    expect(status.ticket.id).toBe('SR-PLAIN-1');
  });

  it('tells a string target the object it should be, and names no zod type', async () => {
    const answer = (await system.post('generic', { ticket: 'SR-PLAIN-2', target: 'nestor.wilke@contoso.com', requestedBy: 'agent@contoso.com' })) as unknown as { status: number; body: ErrorBody };
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_request');
    const target = answer.body.error.details?.find((detail) => detail.path === 'target');
    expect(target?.message).toContain('{"userPrincipalName": ');
    expect(target?.message).toContain('{"objectId": ');
    expect(JSON.stringify(answer.body)).not.toMatch(/Expected object|received string|ZodError|invalid_type/);
  });

  it('names what a ticket may be when it is neither a string nor an object', async () => {
    const answer = (await system.post('generic', { ticket: 42, target: { userPrincipalName: 'nestor.wilke@contoso.com' }, requestedBy: 'agent@contoso.com' })) as unknown as { status: number; body: ErrorBody };
    expect(answer.status).toBe(400);
    const ticket = answer.body.error.details?.find((detail) => detail.path === 'ticket');
    expect(ticket, JSON.stringify(answer.body)).toBeDefined();
    expect(JSON.stringify(answer.body)).not.toMatch(/Expected|received number|invalid_union/);
  });
});
