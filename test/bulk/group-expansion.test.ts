import { describe, expect, it } from 'vitest';
import type { GraphRequest, GraphResponse, GraphTransport } from '../../shared/graph/http';
import { MAX_BULK_USERS } from '../../shared/bulk/bulk-request';
import { expandGroup } from '../../shared/bulk/group-expansion';
import { checkSizeConsent } from '../../shared/bulk/bulk-consent';
import { IntakeRefusal } from '../../shared/http/answer';

const GROUP = '3e1f0b6a-1d2c-4e5f-8a9b-0c1d2e3f4a5b';
const ORIGIN = 'https://graph.example.test';

/** A Graph that answers every page of a group's members with 999 users and a next link, for ever. */
function endlessGroup(total: number): GraphTransport & { requests: GraphRequest[] } {
  const requests: GraphRequest[] = [];
  return {
    origin: ORIGIN,
    requests,
    async send(request): Promise<GraphResponse> {
      requests.push(request);
      const page = requests.length - 1;
      const value = Array.from({ length: 999 }, (_, i) => ({ id: `00000000-0000-4000-8000-${String(page * 999 + i).padStart(12, '0')}`, userPrincipalName: `u${page * 999 + i}@contoso.com` }));
      return {
        status: 200,
        requestId: `r${page}`,
        retryAfterSeconds: undefined,
        body: { ...(page === 0 ? { '@odata.count': total } : {}), value, '@odata.nextLink': `${ORIGIN}/v1.0/groups/${GROUP}/transitiveMembers/microsoft.graph.user?$count=true&$skiptoken=p${page + 1}` },
      };
    },
  };
}

function answering(status: number, retryAfterSeconds?: number): GraphTransport {
  return {
    origin: ORIGIN,
    async send(): Promise<GraphResponse> {
      return { status, requestId: 'x', retryAfterSeconds, body: { error: { code: status === 403 ? 'Authorization_RequestDenied' : 'Error', message: 'refused' } } };
    },
  };
}

describe('group expansion', () => {
  it('an "All users" group of 250,000 is refused after reading just past the limit, naming its size; every page an advanced query', async () => {
    const graph = endlessGroup(250_000);
    const expansion = await expandGroup(graph, 'job', GROUP, ['contoso.com'], { limit: MAX_BULK_USERS });
    expect(expansion).toMatchObject({ ok: false, tooMany: true, count: 250_000 });
    expect(!expansion.ok && expansion.reason).toMatch(/has 250000 users; a bulk job takes at most 10000/);
    expect(graph.requests).toHaveLength(Math.ceil((MAX_BULK_USERS + 1) / 999));
    for (const request of graph.requests) expect(request.headers).toMatchObject({ ConsistencyLevel: 'eventual' });
    expect(graph.requests[0]!.path).toMatch(/\$count=true/);
  });

  it('a next link to another host is not followed: the expansion fails instead of counting part of the group', async () => {
    const graph: GraphTransport = {
      origin: ORIGIN,
      async send(): Promise<GraphResponse> {
        return { status: 200, requestId: 'x', retryAfterSeconds: undefined, body: { value: [{ id: 'a', userPrincipalName: 'a@contoso.com' }], '@odata.nextLink': 'https://evil.example/v1.0/groups/x' } };
      },
    };
    const expansion = await expandGroup(graph, 'job', GROUP, [], { limit: 100 });
    expect(expansion.ok).toBe(false);
  });

  it('a refused read (403, 404) is permanent and named; throttling beyond the inline wait is temporary', async () => {
    expect(await expandGroup(answering(403), 'job', GROUP, [], { limit: 100 })).toMatchObject({ ok: false, permanent: true, reason: expect.stringMatching(/GroupMember\.Read\.All/) });
    expect(await expandGroup(answering(404), 'job', GROUP, [], { limit: 100 })).toMatchObject({ ok: false, permanent: true, reason: expect.stringMatching(/does not exist/) });
    expect(await expandGroup(answering(429, 120), 'job', GROUP, [], { limit: 100, maxInlineWaitSeconds: 1 })).toMatchObject({ ok: false, permanent: false });
  });
});

describe('size consent', () => {
  const refusal = (run: () => void) => {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(IntakeRefusal);
      return error as IntakeRefusal;
    }
    throw new Error('not refused');
  };

  it('up to the threshold no count is needed; above it the exact count is', () => {
    expect(() => checkSizeConsent({ users: 100, rows: 100, kind: 'users' }, undefined, 100)).not.toThrow();
    expect(refusal(() => checkSizeConsent({ users: 101, rows: 101, kind: 'users' }, undefined, 100))).toMatchObject({ status: 422, code: 'confirmation_required' });
    expect(() => checkSizeConsent({ users: 101, rows: 101, kind: 'users' }, 101, 100)).not.toThrow();
    expect(refusal(() => checkSizeConsent({ users: 101, rows: 101, kind: 'users' }, 100, 100))).toMatchObject({ code: 'confirmation_mismatch' });
    // A stated count is held to, whatever the size: "500" never becomes a job of 5,000 or of 5.
    expect(refusal(() => checkSizeConsent({ users: 5, rows: 5, kind: 'csv' }, 500, 100))).toMatchObject({ code: 'confirmation_mismatch' });
  });
});
