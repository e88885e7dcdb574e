import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Integration tests on a shared two-core machine: waits are generous, the assertions are not.
vi.setConfig({ testTimeout: 150_000 });
import { requestStores } from '../../shared/request-stores';
import { getServices } from '../../shared/services';
import { SYSTEM_SECRETS, startSystem, type RunningSystem } from '../support/system';

/**
 * The Business Rule of docs/servicenow.md, run as written against stand-ins for the Glide APIs it calls. generateMac
 * is given the charset the guide has to assume the worst of (Latin-1): the escaped body must still verify.
 */
const guide = readFileSync(join(__dirname, '..', '..', 'docs', 'servicenow.md'), 'utf8');
const section = guide.slice(guide.indexOf('# Connect ServiceNow'));
const script = /```javascript\n([\s\S]*?)```/.exec(section)![1]!;

let system: RunningSystem;
beforeAll(async () => {
  system = await startSystem();
});
afterAll(async () => {
  await system?.stop();
});

interface Sent {
  endpoint?: string;
  headers: Record<string, string>;
  body?: string;
}

function runRule(execute: (sent: Sent) => { status: number; body: string }) {
  const sent: Sent = { headers: {} };
  const notes: string[] = [];
  const record: Record<string, string> = {
    number: 'RITM0040001',
    short_description: 'Perdí mi teléfono',
    approval: 'approved',
    opened_by: '6816f79cc0a8016401c5a33be04be441',
    sys_updated_by: 'beth.anglin',
  };
  const current = {
    getTableName: () => 'sc_req_item',
    getUniqueValue: () => '0badc0de0badc0de0badc0de0badc0de',
    getValue: (name: string) => record[name],
    getDisplayValue: () => 'José Müller',
    opened_by: { email: 'jose.muller@contoso.com', user_name: 'jose.muller' },
    assigned_to: { email: 'Beth.Anglin@contoso.com' },
    variables: { target_user: { getRefRecord: () => ({ getValue: (name: string) => (name === 'email' ? 'adele.vance@contoso.com' : 'adele.v') }) } },
  };
  const properties: Record<string, string> = {
    'x_mfa_reset.endpoint': `${system.host.url}/api/resets/servicenow`,
    'x_mfa_reset.function_key': 'unused-locally',
    'x_mfa_reset.webhook_secret': SYSTEM_SECRETS.servicenow,
    'glide.servlet.uri': 'https://contoso.service-now.com/',
  };
  class GlideRecord {
    private rows: Record<string, unknown>[] = [];
    private at = -1;
    work_notes = '';
    constructor(private readonly table: string) {}
    addQuery() {}
    query() {
      this.rows = this.table === 'sysapproval_approver' ? [{ sys_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90', state: 'approved', approver: '5137153cc611227c000bbd1bd8cd2005' }] : [];
    }
    next() {
      this.at += 1;
      return this.at < this.rows.length;
    }
    getUniqueValue() {
      return String(this.rows[this.at]?.sys_id);
    }
    getValue(name: string) {
      return String(this.rows[this.at]?.[name]);
    }
    getDisplayValue() {
      return 'Fred Luddy';
    }
    get approver() {
      return { email: 'fred.luddy@contoso.com', user_name: 'fred.luddy' };
    }
    get(sysId: string) {
      return sysId === current.getUniqueValue();
    }
    update() {
      notes.push(this.work_notes);
    }
  }
  const context = {
    current,
    previous: null,
    JSON,
    gs: { getProperty: (name: string) => properties[name] },
    GlideDateTime: class {
      getNumericValue() {
        return Date.now();
      }
    },
    GlideRecord,
    GlideStringUtil: { base64Encode: (text: string) => Buffer.from(text, 'utf8').toString('base64') },
    GlideCertificateEncryption: class {
      generateMac(keyBase64: string, algorithm: string, data: string) {
        expect(algorithm).toBe('HmacSHA256');
        return createHmac('sha256', Buffer.from(keyBase64, 'base64')).update(Buffer.from(data, 'latin1')).digest('base64');
      }
    },
    sn_ws: {
      RESTMessageV2: class {
        setEndpoint(url: string) {
          sent.endpoint = url;
        }
        setHttpMethod() {}
        setRequestHeader(name: string, value: string) {
          sent.headers[name.toLowerCase()] = value;
        }
        setRequestBody(body: string) {
          sent.body = body;
        }
        setHttpTimeout() {}
        execute() {
          const answer = execute(sent);
          return { getStatusCode: () => answer.status, getBody: () => answer.body, getErrorMessage: () => '' };
        }
      },
    },
  };
  runInNewContext(script, context);
  return { sent, notes };
}

describe("the ServiceNow guide's Business Rule", () => {
  it('reads the target from the e-mail, escapes non-ASCII before signing, and its request is accepted', async () => {
    const { sent, notes } = runRule(() => ({ status: 202, body: JSON.stringify({ id: 'x', status: 'accepted' }) }));
    expect(sent.body).toMatch(/^[\x20-\x7e]*$/);
    expect(sent.body).toContain('Jos\\u00e9 M\\u00fcller');
    const answer = await fetch(sent.endpoint!, { method: 'POST', headers: { 'content-type': sent.headers['content-type']!, 'x-servicenow-signature': sent.headers['x-servicenow-signature']! }, body: sent.body });
    expect(answer.status).toBe(202);
    const { id } = (await answer.json()) as { id: string };
    const status = (await (await fetch(`${system.host.url}/api/resets/${id}`)).json()) as { target: { userPrincipalName: string }; requestedBy: { name: string } };
    expect(status.target.userPrincipalName).toBe('adele.vance@contoso.com');
    expect(status.requestedBy.name).toBe('José Müller');
    // The assignee reaches the request, for the console's pass hand-over.
    expect((await requestStores(getServices()).store.get(id))!.ticketAssignee).toBe('beth.anglin@contoso.com');
    expect(notes).toEqual([expect.stringContaining('writes the outcome into this ticket')]);
  });

  it('writes a work note when the call throws (timeout, DNS) instead of failing silently', () => {
    const { notes } = runRule(() => {
      throw new Error('com.glide.communications.ProcessingException: Timeout');
    });
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain('MFA reset request not sent');
    expect(notes[0]).toContain('Nothing was reset');
  });
});
