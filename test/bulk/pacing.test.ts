import { describe, expect, it } from 'vitest';
import type { GraphRequest, GraphResponse, GraphTransport } from '../../shared/graph/http';
import { pacedGraph } from '../../shared/pacing/paced-graph';
import { TokenBucket } from '../../shared/pacing/token-bucket';
import { throttledIn, writeCount } from '../../shared/pacing/write-kind';

describe('token bucket', () => {
  it('lets a burst through, then one token per interval, in the order asked', () => {
    let now = 1000;
    const bucket = new TokenBucket(10, 3, () => now);
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 0]);
    expect(bucket.reserve()).toBe(100);
    expect(bucket.reserve()).toBe(200);
    now += 1000; // idle long enough: the burst is back
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 0, 100]);
  });

  it('never goes faster than its rate over a long run', () => {
    let now = 0;
    const bucket = new TokenBucket(20, 4, () => now);
    let last = 0;
    for (let i = 0; i < 1000; i += 1) last = now + bucket.reserve();
    // 1000 tokens at 20/s with a burst of 4: the last is due no earlier than (1000 - 4) / 20 s.
    expect(last).toBeGreaterThanOrEqual(((1000 - 4) / 20) * 1000 - 1);
  });

  it('pauses for a Retry-After and takes a rate change for the slots that follow', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 1, () => now);
    bucket.pauseUntil(2000);
    expect(bucket.reserve()).toBe(2000);
    bucket.setRate(1);
    expect(bucket.reserve()).toBe(2100);
    expect(bucket.reserve()).toBe(3100);
  });
});

describe('what counts as a write', () => {
  it('counts deletions, revocations and TAP creation, not reads, read-only POSTs or the $batch envelope', () => {
    expect(writeCount({ method: 'GET', path: '/users/x/authentication/methods' })).toBe(0);
    expect(writeCount({ method: 'DELETE', path: '/users/x/authentication/phoneMethods/1' })).toBe(1);
    expect(writeCount({ method: 'POST', path: '/users/x/revokeSignInSessions' })).toBe(1);
    expect(writeCount({ method: 'POST', path: '/users/x/checkMemberGroups', body: { groupIds: [] } })).toBe(0);
    const batch = { requests: [{ id: '1', method: 'DELETE', url: '/users/x/authentication/phoneMethods/1' }, { id: '2', method: 'GET', url: '/users/x' }, { id: '3', method: 'DELETE', url: 'users/x/authentication/fido2Methods/2' }] };
    expect(writeCount({ method: 'POST', path: '/$batch', body: batch })).toBe(2);
  });

  it('sees throttling in plain answers and inside $batch answers', () => {
    expect(throttledIn(429, undefined)).toEqual({ throttled: true });
    expect(throttledIn(204, undefined)).toEqual({ throttled: false });
    expect(throttledIn(200, { responses: [{ id: '1', status: 204 }, { id: '2', status: 429, headers: { 'Retry-After': '3' } }] })).toEqual({ throttled: true, retryAfterSeconds: 3 });
  });
});

describe('paced Graph transport', () => {
  const answer = (status: number, retryAfterSeconds?: number): GraphResponse => ({ status, requestId: 'r', retryAfterSeconds, body: undefined });
  const write: GraphRequest = { method: 'DELETE', version: 'v1.0', path: '/users/x/authentication/phoneMethods/1' };
  const read: GraphRequest = { method: 'GET', version: 'v1.0', path: '/users/x' };

  it('spaces writes at the budget and lets reads through at once', async () => {
    const sent: number[] = [];
    const inner: GraphTransport = { origin: 'http://127.0.0.1:1', send: async (request) => (sent.push(Date.now()), answer(request.method === 'GET' ? 200 : 204)) };
    const graph = pacedGraph(inner, { writesPerSecond: 50 });
    const started = Date.now();
    await Promise.all([...Array.from({ length: 30 }, () => graph.send(write)), ...Array.from({ length: 30 }, () => graph.send(read))]);
    const elapsed = Date.now() - started;
    // 30 writes at 50/s with a burst of 10: at least 20 intervals of 20 ms.
    expect(elapsed).toBeGreaterThanOrEqual(380);
    expect(elapsed).toBeLessThan(1500);
    expect(graph.stats()).toMatchObject({ requests: 60, writes: 30, throttled: 0 });
  });

  it('stops writing for Retry-After once Graph throttles', async () => {
    let calls = 0;
    const inner: GraphTransport = { origin: 'http://127.0.0.1:1', send: async () => (++calls === 1 ? answer(429, 0.4) : answer(204)) };
    const graph = pacedGraph(inner, { writesPerSecond: 1000 });
    expect((await graph.send(write)).status).toBe(429);
    const started = Date.now();
    await graph.send(write);
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(graph.stats().throttled).toBe(1);
  });
});
