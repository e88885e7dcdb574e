import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SYSTEM_SECRETS, startSystem, type RunningSystem } from '../support/system';

vi.setConfig({ testTimeout: 120_000 });

/**
 * What docs/servicenow.md and docs/jira.md tell people to run before touching their instance: each
 * guide's `curl` rehearsal, run by bash as written against the app (approval required, as under
 * npm start), and the ServiceNow guide's Flow Designer Script step, run against stand-ins for the Glide
 * APIs it calls. A guide whose commands stop working fails here.
 */

const root = join(__dirname, '..', '..');
const guide = (name: string) => readFileSync(join(root, 'docs', name), 'utf8');

/** The second sh block under "## Rehearse it with curl": what the person runs in the second terminal. */
function rehearsal(name: string): string {
  const text = guide(name);
  const section = text.slice(text.indexOf('## Rehearse it with curl against npm start'));
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!);
  expect(blocks.length).toBeGreaterThanOrEqual(2);
  return blocks[1]!;
}

let system: RunningSystem;
beforeAll(async () => {
  system = await startSystem({ settings: { REQUIRE_APPROVAL: 'true' } });
});
afterAll(async () => {
  await system?.stop();
});

/** Run asynchronously: the app answering the curl runs in this process. */
async function runBash(script: string, env: Record<string, string>): Promise<{ answers: Record<string, unknown>[]; output: string }> {
  const child = spawn('bash', ['-c', `set -eo pipefail\n${script}`], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  expect(code, stderr).toBe(0);
  // Each curl prints one JSON answer; they arrive back to back.
  const answers = stdout
    .replace(/}\s*{/g, '}\n{')
    .split('\n')
    .filter((line) => line.trim().startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { answers, output: stdout };
}

describe('the ITSM guides rehearse against the app with curl, as written', () => {
  it('ServiceNow: the signed body is accepted, a wrong signature is refused, and the reset completes', async () => {
    const { answers } = await runBash(rehearsal('servicenow.md'), { API: system.host.url, WEBHOOK_SECRET_SERVICENOW: SYSTEM_SECRETS.servicenow });
    expect(answers).toHaveLength(2);
    expect(answers[0]).toMatchObject({ status: 'accepted' });
    expect((answers[1] as { error: { code: string } }).error.code).toBe('signature_invalid');
    const done = await system.waitFor(String(answers[0]!.id), ['completed', 'partial', 'failed', 'rejected']);
    expect(done.status, done.statusReason).toBe('completed');
  });

  it('Jira: the signed delivery is accepted, a wrong signature is refused, and the reset completes', async () => {
    const { answers } = await runBash(rehearsal('jira.md'), { API: system.host.url, WEBHOOK_SECRET_JIRA: SYSTEM_SECRETS.jira });
    expect(answers).toHaveLength(2);
    expect(answers[0]).toMatchObject({ status: 'accepted' });
    expect((answers[1] as { error: { code: string } }).error.code).toBe('signature_invalid');
    const done = await system.waitFor(String(answers[0]!.id), ['completed', 'partial', 'failed', 'rejected']);
    expect(done.status, done.statusReason).toBe('completed');
  });
});

describe("the ServiceNow guide's Flow Designer action", () => {
  it('its Script step builds the body the Business Rule builds, signed so that the app accepts it', async () => {
    const text = guide('servicenow.md');
    const section = text.slice(text.indexOf('## Or: a Flow Designer action'));
    const script = /```javascript\n([\s\S]*?)```/.exec(section)![1]!;
    const task: Record<string, string> = { number: 'RITM0050001', short_description: 'Perdí mi teléfono', approval: 'approved', opened_by: '6816f79cc0a8016401c5a33be04be441' };
    const properties: Record<string, string> = {
      'x_mfa_reset.function_key': 'function-key-from-a-password2-property',
      'x_mfa_reset.webhook_secret': SYSTEM_SECRETS.servicenow,
      'glide.servlet.uri': 'https://contoso.service-now.com/',
    };
    class GlideRecord {
      private rows: Record<string, string>[] = [];
      private at = -1;
      constructor(private readonly table: string) {}
      get(sysId: string) {
        return sysId === 'feedc0defeedc0defeedc0defeedc0de';
      }
      getTableName() {
        return this.table;
      }
      addQuery() {}
      query() {
        this.rows = this.table === 'sysapproval_approver' ? [{ sys_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f91', state: 'approved', approver: '5137153cc611227c000bbd1bd8cd2005' }] : [];
      }
      next() {
        this.at += 1;
        return this.at < this.rows.length;
      }
      getUniqueValue() {
        return this.table === 'sysapproval_approver' ? String(this.rows[this.at]?.sys_id) : 'feedc0defeedc0defeedc0defeedc0de';
      }
      getValue(name: string) {
        return this.table === 'sysapproval_approver' ? String(this.rows[this.at]?.[name]) : task[name];
      }
      getDisplayValue() {
        return this.table === 'sysapproval_approver' ? 'Fred Luddy' : 'José Müller';
      }
      get approver() {
        return { email: 'fred.luddy@contoso.com', user_name: 'fred.luddy' };
      }
      get opened_by() {
        return { email: 'jose.muller@contoso.com', user_name: 'jose.muller' };
      }
      get assigned_to() {
        return { email: 'beth.anglin@contoso.com' };
      }
      get variables() {
        return { target_user: { getRefRecord: () => ({ getValue: (name: string) => (name === 'email' ? 'lidia.holloway@contoso.com' : 'lidia.h') }) } };
      }
    }
    const outputs: Record<string, string> = {};
    runInNewContext(script, {
      inputs: { record: { getTableName: () => 'sc_req_item', getUniqueValue: () => 'feedc0defeedc0defeedc0defeedc0de' } },
      outputs,
      JSON,
      gs: { getProperty: (name: string) => properties[name] },
      GlideDateTime: class {
        getNumericValue() {
          return Date.now();
        }
      },
      GlideRecord,
      GlideStringUtil: { base64Encode: (value: string) => Buffer.from(value, 'utf8').toString('base64') },
      GlideCertificateEncryption: class {
        generateMac(keyBase64: string, algorithm: string, data: string) {
          expect(algorithm).toBe('HmacSHA256');
          return createHmac('sha256', Buffer.from(keyBase64, 'base64')).update(Buffer.from(data, 'latin1')).digest('base64');
        }
      },
    });
    expect(outputs.function_key).toBe('function-key-from-a-password2-property');
    expect(outputs.body).toMatch(/^[\x20-\x7e]*$/);
    // The REST step sends the body pill alone, with the signature pill as its header.
    const answer = await fetch(`${system.host.url}/api/resets/servicenow`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', 'x-servicenow-signature': outputs.signature!, 'x-functions-key': outputs.function_key },
      body: outputs.body,
    });
    expect(answer.status).toBe(202);
    const { id } = (await answer.json()) as { id: string };
    const status = (await system.status(id)) as unknown as { target: { userPrincipalName: string }; requestedBy: { name: string }; approvedBy: string };
    expect(status.target.userPrincipalName).toBe('lidia.holloway@contoso.com');
    expect(status.requestedBy.name).toBe('José Müller');
    expect(status.approvedBy).toContain('Fred Luddy');
  });
});
