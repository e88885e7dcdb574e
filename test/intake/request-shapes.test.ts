import { describe, expect, it } from 'vitest';
import { bulkRequestSchema } from '../../shared/bulk/bulk-request';
import { issuesToProblems } from '../../shared/intake/adapter';
import { canonicalRequestSchema, normalizeRequest } from '../../shared/requests/canonical-request';

const base = { target: { userPrincipalName: 'adele.vance@contoso.com' }, requestedBy: 'you@contoso.com' };
const problemsOf = (body: unknown) => {
  const parsed = canonicalRequestSchema.safeParse(body);
  if (parsed.success) throw new Error('accepted');
  return issuesToProblems(parsed.error.issues);
};

/** The shapes a newcomer sends first: one ticket form across /api/resets and /api/bulk, and a target that says what it wants. */
describe('request shapes', () => {
  it('takes ticket as a plain id or as an object in /api/resets, as /api/bulk does', () => {
    const plain = canonicalRequestSchema.parse({ ...base, ticket: 'SR-1' });
    expect(normalizeRequest(plain).ticket).toEqual({ system: 'manual', id: 'SR-1' });
    const object = canonicalRequestSchema.parse({ ...base, ticket: { system: 'servicenow', id: 'INC0012345' } });
    expect(normalizeRequest(object).ticket).toEqual({ system: 'servicenow', id: 'INC0012345' });
    for (const ticket of ['SR-1', { system: 'jira', id: 'IT-7' }]) {
      expect(bulkRequestSchema.safeParse({ ticket, requestedBy: 'you@contoso.com', users: ['adele.vance@contoso.com'] }).success, JSON.stringify(ticket)).toBe(true);
    }
  });

  it('still refuses a ticket id with a line break, an empty one, and a number, saying which shapes it takes', () => {
    expect(problemsOf({ ...base, ticket: 'SR-1\r\nforged' })[0]?.message).toMatch(/control characters/);
    expect(problemsOf({ ...base, ticket: '' })[0]?.message).toMatch(/must not be empty/);
    expect(problemsOf({ ...base, ticket: 42 })[0]?.message).toMatch(/ticket id such as "SR-1" or \{"system"/);
  });

  it('answers a string target with the object to send', () => {
    const problems = problemsOf({ ...base, ticket: 'SR-1', target: 'adele.vance@contoso.com' });
    expect(problems).toEqual([{ path: 'target', message: expect.stringContaining('{"userPrincipalName": "adele.vance@contoso.com"}') }]);
    expect(problems[0]!.message).not.toMatch(/Expected|received/);
    expect(problemsOf({ ticket: 'SR-1', requestedBy: 'you@contoso.com' })[0]).toEqual({ path: 'target', message: expect.stringContaining('userPrincipalName') });
  });
});
