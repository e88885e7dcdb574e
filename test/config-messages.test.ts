import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../shared/config';

const base = { AzureWebJobsStorage: 'UseDevelopmentStorage=true', INTAKE_MAC_KEY: randomBytes(32).toString('base64') };
const problem = (env: Record<string, string>): string => {
  try {
    loadSettings({ ...base, ...env });
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('settings were accepted');
};

/** A bad setting's message is what the operator needs to fix it: the value, an example, no zod vocabulary. */
describe('configuration messages', () => {
  it('show the bad value and an example, and never zod type names', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ GRAPH_AUTH: 'magic' }, /GRAPH_AUTH must be one of "default", "none", got "magic" \(for example: GRAPH_AUTH=default\)/],
      [{ REQUIRE_APPROVAL: 'maybe' }, /REQUIRE_APPROVAL must be one of "true", "false".*got "maybe"/],
      [{ GRAPH_BASE_URL: 'graph' }, /GRAPH_BASE_URL must be a URL such as https:\/\/graph\.microsoft\.com, got "graph"/],
      [{ AZURE_CLIENT_ID: 'abc' }, /AZURE_CLIENT_ID must be a client id \(GUID\), got "abc"/],
      [{ RESET_COOLDOWN_MAX: 'many' }, /RESET_COOLDOWN_MAX must be a positive whole number, got "many"$/m],
    ];
    for (const [env, expected] of cases) {
      const message = problem(env);
      expect(message).toMatch(expected);
      expect(message).not.toMatch(/Invalid enum value|Expected|received|Invalid url|ZodError/);
    }
  });

  it('never show the value of a secret or a connection string', () => {
    const key = 'AccountKey=c2VjcmV0LWtleS10aGF0LW11c3Qtbm90LWxlYWs=';
    expect(problem({ WEBHOOK_SECRET_GENERIC: 'not-a-whsec-secret-but-long-enough-to-count' })).not.toContain('not-a-whsec');
    expect(problem({ AzureWebJobsStorage: '', AzureWebJobsStorage__tableServiceUri: `nope ${key}` })).not.toContain('AccountKey');
  });
});
