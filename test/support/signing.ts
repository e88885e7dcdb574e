import { RequestIntegrity } from '../../shared/requests/request-integrity';
import { signBase64, signHex } from '../../shared/intake/signature';
import { standardWebhookHeaders } from '../../shared/intake/standard-webhooks';

/** Fixed test secrets, each of the strength the settings demand (32+ random bytes). */
export const TEST_SECRETS = {
  jira: '9f3c1e7a5b2d48f0a6c4e2b8d0f1a3c5e7b9d2f4a6c8e0b1d3f5a7c9e2b4d6f8',
  jiraAutomation: '4d7a2c9e1f6b3a8d5c0e7f2a9b4c1d6e3f8a5b2c7d0e9f4a1b6c3d8e5f2a7b0c',
  servicenow: 'c2e4a6b8d0f1e3a5c7b9d2f4e6a8c0b1d3e5f7a9c2b4d6e8f0a1c3b5d7e9f2a4',
  generic: 'whsec_ex49X5osTmuNDxo8XnudL6TG6LDS9KbI4LLU9qjA4rQ=',
  tapSealingKey: Buffer.from('3a5c7e9b1d4f6a8c0e2b4d6f8a1c3e5b7d9f2a4c6e8b0d1f3a5c7e9b2d4f6a8c', 'hex').toString('base64'),
  intakeMacKey: Buffer.from('e1c3a5b7d9f0e2c4a6b8d1f3e5c7a9b0d2f4e6c8a1b3d5f7e9c0a2b4d6f8e1c3', 'hex').toString('base64'),
};

/** The settings that hold those secrets. */
export function secretSettings(): Record<string, string> {
  return {
    WEBHOOK_SECRET_JIRA: TEST_SECRETS.jira,
    WEBHOOK_SECRET_SERVICENOW: TEST_SECRETS.servicenow,
    WEBHOOK_SECRET_GENERIC: TEST_SECRETS.generic,
    TAP_SEALING_KEY: TEST_SECRETS.tapSealingKey,
    INTAKE_MAC_KEY: TEST_SECRETS.intakeMacKey,
  };
}

export type SignedSource = 'jira' | 'servicenow' | 'generic';

/** Headers that sign `raw` as the source does; generic deliveries get a fresh webhook-id unless given. */
export function signedHeaders(source: SignedSource, raw: string | Uint8Array, options: { webhookId?: string; timestamp?: Date } = {}): Record<string, string> {
  if (source === 'servicenow') return { 'x-servicenow-signature': signBase64(raw, TEST_SECRETS.servicenow) };
  if (source === 'jira') return { 'x-hub-signature': signHex(raw, TEST_SECRETS.jira) };
  return standardWebhookHeaders(TEST_SECRETS.generic, raw, { id: options.webhookId, timestamp: options.timestamp });
}

/** The MACs the app makes under the test INTAKE_MAC_KEY, for tests that build stores by hand. */
export function testIntegrity(): RequestIntegrity {
  return new RequestIntegrity(TEST_SECRETS.intakeMacKey);
}
