import { decodeBase64Key, decodeWebhookSecret } from './secret-strength';

/**
 * One secret for two sources or two purposes (the docs say never): whoever holds it for one can act as
 * the other. Jira's secret used for ServiceNow lets a Jira admin sign ServiceNow requests; the intake
 * MAC key used as the pass sealing key puts both under one leak; a callback signed with the generic
 * request secret can be sent back to the app as a request. Compared by every form a value can take
 * (the text itself, and the key bytes of its Base64, hex or `whsec_` reading), so that the same key
 * written two ways is still one key. Messages name settings, never values.
 */
const SECRET_SETTINGS = [
  'WEBHOOK_SECRET_JIRA',
  'WEBHOOK_SECRET_JIRA_AUTOMATION',
  'WEBHOOK_SECRET_SERVICENOW',
  'WEBHOOK_SECRET_GENERIC',
  'CALLBACK_SIGNING_SECRET',
  'TAP_SEALING_KEY',
  'INTAKE_MAC_KEY',
  'SERVICENOW_CLIENT_SECRET',
  'SERVICENOW_PASSWORD',
  'JIRA_API_TOKEN',
] as const;

type SecretSetting = (typeof SECRET_SETTINGS)[number];
const SOURCES: readonly SecretSetting[] = ['WEBHOOK_SECRET_JIRA', 'WEBHOOK_SECRET_JIRA_AUTOMATION', 'WEBHOOK_SECRET_SERVICENOW', 'WEBHOOK_SECRET_GENERIC'];

export interface Reuse {
  setting: SecretSetting;
  sameAs: SecretSetting;
  why: string;
}

export function reusedSecrets(settings: Partial<Record<SecretSetting, string | undefined>>): Reuse[] {
  const seen = new Map<string, SecretSetting>();
  const found: Reuse[] = [];
  for (const setting of SECRET_SETTINGS) {
    const value = settings[setting];
    if (value === undefined || value.trim() === '') continue;
    const forms = formsOf(value);
    const earlier = forms.map((form) => seen.get(form)).find((name) => name !== undefined && name !== setting);
    if (earlier) found.push({ setting, sameAs: earlier, why: whyNot(earlier, setting) });
    for (const form of forms) if (!seen.has(form)) seen.set(form, setting);
  }
  return found;
}

function whyNot(a: SecretSetting, b: SecretSetting): string {
  const pair = [a, b];
  if (pair.includes('CALLBACK_SIGNING_SECRET') && pair.includes('WEBHOOK_SECRET_GENERIC')) {
    return 'a callback signed with the request secret could be sent back to the app as a request';
  }
  if (SOURCES.includes(a) && SOURCES.includes(b)) return 'each source needs its own secret, or one source can sign requests as the other';
  return 'each purpose needs its own key, or one leak opens both';
}

/** Every reading of a value as key material, plus the text itself. */
function formsOf(value: string): string[] {
  const text = value.trim();
  const forms = new Set<string>([`text:${text}`]);
  const add = (bytes: Buffer | undefined) => {
    if (bytes && bytes.length >= 16) forms.add(`bytes:${bytes.toString('hex')}`);
  };
  add(Buffer.from(text, 'utf8'));
  add(decodeWebhookSecret(text));
  add(decodeBase64Key(text));
  if (/^(?:[0-9a-f]{2})+$/i.test(text)) add(Buffer.from(text, 'hex'));
  return [...forms];
}
