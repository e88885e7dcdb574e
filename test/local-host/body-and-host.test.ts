import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { functionDefinitions } from '../../functions/all';
import { signedHeaders } from '../support/signing';
import { startSystem, type RunningSystem } from '../support/system';

// Integration tests on a shared two-core machine: waits are generous, the assertions are not.
vi.setConfig({ testTimeout: 60_000 });

/**
 * What the local host and the signed routes do with a hostile request before any signature is checked:
 * a body far over the route's cap is refused after the cap, not after it was buffered (20 MB were
 * buffered before a 401), a Host header the host does not serve is not reflected into statusUrl (DNS
 * rebinding reaches a demo instance), and a signed body that says one field twice is refused.
 */
let system: RunningSystem;
beforeAll(async () => {
  system = await startSystem({ definitions: functionDefinitions.filter((definition) => definition.trigger === 'http') });
});
afterAll(async () => system?.stop());

const url = () => new URL(system.host.url);

/** Sends headers and then the body slowly; resolves with the answer and how many body bytes had been written by then. */
function slowUpload(options: { headers: Record<string, string>; totalBytes: number; chunkBytes: number }): Promise<{ status: number; body: string; written: number }> {
  return new Promise((resolve, reject) => {
    let written = 0;
    let answered = false;
    const req = httpRequest({ host: url().hostname, port: url().port, path: '/api/resets', method: 'POST', headers: options.headers }, (res) => {
      answered = true;
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, written }));
    });
    req.on('error', (error) => (answered ? undefined : reject(error)));
    const chunk = Buffer.alloc(options.chunkBytes, 0x20);
    const tick = setInterval(() => {
      if (answered || written >= options.totalBytes) {
        clearInterval(tick);
        if (!answered) req.end();
        return;
      }
      written += chunk.length;
      req.write(chunk);
    }, 5);
  });
}

describe('a body over the cap', () => {
  it('declared 20 MB: refused (413) before a byte of it is sent', async () => {
    const answer = await slowUpload({ headers: { 'content-type': 'application/json', 'content-length': String(20 * 1024 * 1024) }, totalBytes: 0, chunkBytes: 1 });
    expect(answer.status).toBe(413);
    expect(answer.written).toBe(0);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'body_too_large' } });
  });

  it('chunked, without a length: refused once it passes 64 KiB, long before the 20 MB are sent', async () => {
    const answer = await slowUpload({ headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, totalBytes: 20 * 1024 * 1024, chunkBytes: 16 * 1024 });
    expect(answer.status).toBe(413);
    expect(answer.written).toBeLessThan(2 * 1024 * 1024);
  });
});

describe('the Host header', () => {
  let sent = 0;
  function withHost(host: string): Promise<{ status: number; body: string }> {
    sent += 1;
    const raw = JSON.stringify({ ticket: { system: 'manual', id: `SR-HOST-${sent}` }, target: { userPrincipalName: 'adele.vance@contoso.com' }, requestedBy: 'agent@contoso.com' });
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        { host: url().hostname, port: url().port, path: '/api/resets', method: 'POST', headers: { host, 'content-type': 'application/json', ...signedHeaders('generic', raw) } },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end(raw);
    });
  }

  it('one this host does not serve (a rebinding page\'s name) is answered 421 and never reflected', async () => {
    for (const host of ['attacker.example', `attacker.example:${url().port}`, `127.0.0.1:${Number(url().port) + 1}`, `localhost.attacker.example:${url().port}`]) {
      const answer = await withHost(host);
      expect(answer.status, host).toBe(421);
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'host_not_served' } });
      expect(answer.body).not.toContain(`http://${host}`);
    }
  });

  it('its own names are served, and statusUrl takes them', async () => {
    for (const host of [`127.0.0.1:${url().port}`, `localhost:${url().port}`]) {
      const answer = await withHost(host);
      expect(answer.status, answer.body).toBe(202);
      expect((JSON.parse(answer.body) as { statusUrl: string }).statusUrl.startsWith(`http://${host}/api/resets/`)).toBe(true);
    }
  });
});

describe('a signed body that names a field twice', () => {
  async function post(path: string, raw: string, source: 'generic' | 'jira' = 'generic') {
    const response = await fetch(`${system.host.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...signedHeaders(source, raw) }, body: raw });
    return { status: response.status, body: (await response.json()) as { error?: { code: string; message: string; details?: { path: string }[] } } };
  }
  const request = (target: string) => `"ticket":{"system":"manual","id":"SR-DUP-1"},"requestedBy":"agent@contoso.com",${target}`;

  it('is refused with 400 naming the key, whether top-level, nested or escaped (\u0061 is a)', async () => {
    const cases: [string, string][] = [
      [`{${request('"target":{"userPrincipalName":"adele.vance@contoso.com"},"target":{"userPrincipalName":"megan.bowen@contoso.com"}')}}`, 'target'],
      [`{${request('"target":{"userPrincipalName":"adele.vance@contoso.com","userPrincipalName":"megan.bowen@contoso.com"}')}}`, 'target.userPrincipalName'],
      [`{${request('"target":{"userPrincipalName":"adele.vance@contoso.com"},"t\\u0061rget":{"userPrincipalName":"megan.bowen@contoso.com"}')}}`, 'target'],
    ];
    for (const [raw, key] of cases) {
      const answer = await post('/api/resets', raw);
      expect(answer.status, raw).toBe(400);
      expect(answer.body.error).toMatchObject({ code: 'duplicate_key', details: [{ path: key }] });
      expect(answer.body.error!.message).toContain(key);
    }
    const jira = await post('/api/resets/jira', `{"timestamp":${Date.now()},"webhookEvent":"jira:issue_created","webhookEvent":"jira:issue_updated","issue":{}}`, 'jira');
    expect(jira.body.error).toMatchObject({ code: 'duplicate_key', details: [{ path: 'webhookEvent' }] });
  });

  it('on the bulk and schedule routes too', async () => {
    const bulk = await post('/api/bulk', '{"ticket":"CHG1","requestedBy":"soc@contoso.com","users":["a@contoso.com"],"users":["b@contoso.com"]}');
    expect(bulk.body.error).toMatchObject({ code: 'duplicate_key', details: [{ path: 'users' }] });
    const schedule = await post('/api/schedules', '{"name":"x","name":"y","schedule":"0 0 3 * * *","source":{"groupId":"3e1f0b6a-1d2c-4e5f-8a9b-0c1d2e3f4a5b"},"requestedBy":"soc@contoso.com"}');
    expect(schedule.body.error).toMatchObject({ code: 'duplicate_key', details: [{ path: 'name' }] });
  });
});
