import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadSettings } from '../../shared/config';
import { weakKeyProblem, weakTextProblem } from '../../shared/security/secret-strength';
import { TEST_SECRETS } from '../support/signing';

/**
 * Secrets an attacker found accepted at start: made-up text, repeated patterns, counting keys, and one
 * secret for two sources or purposes. Each is refused with a message that names the setting and how
 * to make a good one, never the value.
 */
const base = { AzureWebJobsStorage: 'UseDevelopmentStorage=true', INTAKE_MAC_KEY: TEST_SECRETS.intakeMacKey };

function refusal(settings: Record<string, string>): string {
  try {
    loadSettings({ ...base, ...settings });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    for (const value of Object.values(settings)) if (value.length >= 8) expect(problems.join('\n')).not.toContain(value);
    return problems.join('\n');
  }
  throw new Error(`accepted: ${Object.keys(settings).join(', ')}`);
}

describe('weak secrets are refused at start', () => {
  it('the ones that were accepted: words, a repeated password, a repeated word, bytes 0..31', () => {
    expect(refusal({ WEBHOOK_SECRET_JIRA: 'my-super-secret-jira-webhook-key' })).toMatch(/^WEBHOOK_SECRET_JIRA reads as words, not random characters \(make a good one with: openssl rand -base64 32\)$/);
    expect(refusal({ WEBHOOK_SECRET_SERVICENOW: 'Password1Password1Password1Pass1' })).toMatch(/^WEBHOOK_SECRET_SERVICENOW is a repeated pattern.*openssl rand -base64 32/);
    expect(refusal({ WEBHOOK_SECRET_JIRA: 'changeme-changeme-changeme-changeme-changeme' })).toMatch(/^WEBHOOK_SECRET_JIRA is a repeated pattern/);
    const counting = Buffer.from(Array.from({ length: 32 }, (_, index) => index)).toString('base64');
    expect(refusal({ TAP_SEALING_KEY: counting })).toMatch(/^TAP_SEALING_KEY is a counting sequence, not a random key.*openssl rand -base64 32/);
  });

  it('also: a passphrase, the alphabet, Base64 of typed text, a whsec_ key of words, a key of few byte values', () => {
    expect(weakTextProblem('correct-horse-battery-staple-mango-tulip')).toMatch(/reads as words/);
    expect(weakTextProblem('Sunflower-Umbrella-Galaxy-Pebble-Orchid')).toMatch(/reads as words/);
    expect(weakTextProblem('abcdefghijklmnopqrstuvwxyz0123456789')).toMatch(/counting sequence/);
    expect(refusal({ INTAKE_MAC_KEY: Buffer.from('Password1Password1Password1Pass1').toString('base64') })).toMatch(/INTAKE_MAC_KEY is a repeated pattern/);
    expect(refusal({ WEBHOOK_SECRET_GENERIC: `whsec_${Buffer.from('my-super-secret-generic-webhook-key').toString('base64')}` })).toMatch(/WEBHOOK_SECRET_GENERIC has a key that reads as words/);
    expect(weakKeyProblem(Buffer.from(Array.from({ length: 32 }, (_, index) => (index % 4) * 60)))).toMatch(/distinct byte values/);
    expect(weakKeyProblem(Buffer.from(Array.from({ length: 48 }, (_, index) => 200 - index * 3)))).toMatch(/counting sequence/);
  });

  it('accepts what openssl rand makes, every time (2,000 of each kind)', () => {
    for (let index = 0; index < 2000; index += 1) {
      const bytes = randomBytes(32);
      expect(weakKeyProblem(bytes)).toBeUndefined();
      expect(weakTextProblem(bytes.toString('base64'))).toBeUndefined();
      expect(weakTextProblem(bytes.toString('hex'))).toBeUndefined();
      expect(weakTextProblem(randomBytes(24).toString('base64url'))).toBeUndefined();
    }
  });

  it('accepts the fixtures every test and demo uses', () => {
    expect(() => loadSettings({ ...base, WEBHOOK_SECRET_JIRA: TEST_SECRETS.jira, WEBHOOK_SECRET_JIRA_AUTOMATION: TEST_SECRETS.jiraAutomation, WEBHOOK_SECRET_SERVICENOW: TEST_SECRETS.servicenow, WEBHOOK_SECRET_GENERIC: TEST_SECRETS.generic, TAP_SEALING_KEY: TEST_SECRETS.tapSealingKey })).not.toThrow();
  });
});

describe('one secret for two sources or two purposes is refused', () => {
  const secret = randomBytes(32).toString('hex');
  const key = randomBytes(32).toString('base64');

  it('Jira, ServiceNow and Jira Automation sharing a secret', () => {
    const message = refusal({ WEBHOOK_SECRET_JIRA: secret, WEBHOOK_SECRET_SERVICENOW: secret, WEBHOOK_SECRET_JIRA_AUTOMATION: secret });
    expect(message).toContain('WEBHOOK_SECRET_JIRA_AUTOMATION is the same secret as WEBHOOK_SECRET_JIRA: each source needs its own secret');
    expect(message).toContain('WEBHOOK_SECRET_SERVICENOW is the same secret as WEBHOOK_SECRET_JIRA');
    expect(message).toContain('openssl rand -base64 32');
  });

  it('INTAKE_MAC_KEY equal to TAP_SEALING_KEY, and the same key written two ways (Base64, whsec_, hex)', () => {
    expect(refusal({ INTAKE_MAC_KEY: key, TAP_SEALING_KEY: key })).toMatch(/^INTAKE_MAC_KEY is the same secret as TAP_SEALING_KEY: each purpose needs its own key/);
    expect(refusal({ TAP_SEALING_KEY: key, WEBHOOK_SECRET_GENERIC: `whsec_${key}` })).toMatch(/TAP_SEALING_KEY is the same secret as WEBHOOK_SECRET_GENERIC/);
    expect(refusal({ WEBHOOK_SECRET_JIRA: Buffer.from(key, 'base64').toString('hex'), TAP_SEALING_KEY: key })).toMatch(/TAP_SEALING_KEY is the same secret as WEBHOOK_SECRET_JIRA/);
    expect(refusal({ WEBHOOK_SECRET_SERVICENOW: secret, JIRA_SITE_URL: 'https://contoso.atlassian.net', JIRA_USER_EMAIL: 'bot@contoso.com', JIRA_API_TOKEN: secret })).toMatch(/JIRA_API_TOKEN is the same secret as WEBHOOK_SECRET_SERVICENOW/);
  });
});
