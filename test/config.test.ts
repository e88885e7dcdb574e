import { describe, expect, it } from 'vitest';
import { ConfigError, loadSettings, settingNames } from '../shared/config';

const base = { AzureWebJobsStorage: 'UseDevelopmentStorage=true', INTAKE_MAC_KEY: Buffer.from('e1c3a5b7d9f0e2c4a6b8d1f3e5c7a9b0d2f4e6c8a1b3d5f7e9c0a2b4d6f8e1c3', 'hex').toString('base64') };

describe('settings', () => {
  it('applies defaults', () => {
    const settings = loadSettings(base);
    expect(settings.GRAPH_BASE_URL).toBe('https://graph.microsoft.com');
    expect(settings.GRAPH_AUTH).toBe('default');
    expect(settings.REQUIRE_APPROVAL).toBe(true);
    expect(settings.SCHEDULE_APPROVAL_DAYS).toBe(30);
    expect(settings.REMEDIATION_GROUP_IDS).toEqual([]);
    expect(settings.JIRA_PROJECT_KEYS).toEqual([]);
    expect(settings.SERVICENOW_TABLES).toEqual([]);
    expect(settings.TENANT_DOMAINS).toEqual([]);
    expect(settings.RESET_COOLDOWN_MAX).toBe(3);
  });

  it('reads lists and flags', () => {
    const settings = loadSettings({
      ...base,
      TENANT_DOMAINS: 'contoso.com, fabrikam.com',
      REQUIRE_APPROVAL: 'true',
      PROTECTED_GROUP_IDS: '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
    });
    expect(settings.TENANT_DOMAINS).toEqual(['contoso.com', 'fabrikam.com']);
    expect(settings.REQUIRE_APPROVAL).toBe(true);
    expect(settings.PROTECTED_GROUP_IDS).toEqual(['0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0']);
  });

  it('treats empty values as unset, as local.settings.json leaves them', () => {
    expect(loadSettings({ ...base, AZURE_CLIENT_ID: '', GRAPH_AUTH: '' }).AZURE_CLIENT_ID).toBeUndefined();
  });

  it('fails fast naming the setting', () => {
    expect(() => loadSettings({})).toThrow(/AzureWebJobsStorage is not set/);
    expect(() => loadSettings({ ...base, RESET_COOLDOWN_MAX: 'many' })).toThrow(/RESET_COOLDOWN_MAX must be a positive whole number/);
    expect(() => loadSettings({ ...base, PROTECTED_GROUP_IDS: 'admins' })).toThrow(/PROTECTED_GROUP_IDS/);
    expect(() => loadSettings({ ...base, GRAPH_AUTH: 'magic' })).toThrow(ConfigError);
  });

  it('refuses a Key Vault reference that App Service could not resolve', () => {
    expect(() => loadSettings({ ...base, WEBHOOK_SECRET_JIRA: '@Microsoft.KeyVault(VaultName=kv;SecretName=jira)' })).toThrow(
      /WEBHOOK_SECRET_JIRA is an unresolved Key Vault reference/,
    );
  });

  it('accepts GRAPH_AUTH=none only for loopback origins', () => {
    expect(loadSettings({ ...base, GRAPH_AUTH: 'none', GRAPH_BASE_URL: 'http://127.0.0.1:4000' }).GRAPH_AUTH).toBe('none');
    expect(() => loadSettings({ ...base, GRAPH_AUTH: 'none', GRAPH_BASE_URL: 'https://graph.microsoft.com' })).toThrow(
      /GRAPH_AUTH "none" is accepted only when GRAPH_BASE_URL is a loopback address/,
    );
  });

  it('accepts identity-based storage settings instead of a connection string', () => {
    const settings = loadSettings({ INTAKE_MAC_KEY: base.INTAKE_MAC_KEY, AzureWebJobsStorage__accountName: 'stmfareset', AzureWebJobsStorage__credential: 'managedidentity' });
    expect(settings.AzureWebJobsStorage).toBeUndefined();
  });

  it('refuses weak secrets, naming the setting but never showing the value', () => {
    const weak = (name: string, value: string) => {
      try {
        loadSettings({ ...base, [name]: value });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as Error).message).toContain(name);
        expect((error as Error).message).not.toContain(value);
        return (error as Error).message;
      }
      throw new Error(`${name} was accepted`);
    };
    expect(weak('TAP_SEALING_KEY', Buffer.alloc(32, 0).toString('base64'))).toMatch(/one byte repeated/);
    expect(weak('INTAKE_MAC_KEY', Buffer.from('short').toString('base64'))).toMatch(/at least 32 random bytes/);
    expect(weak('WEBHOOK_SECRET_JIRA', 'jira-secret')).toMatch(/at least 32 random bytes/);
    expect(weak('WEBHOOK_SECRET_SERVICENOW', 'a'.repeat(40))).toMatch(/repeated pattern/);
    expect(weak('WEBHOOK_SECRET_GENERIC', 'a-plain-secret-that-is-long-enough-0123456789')).toMatch(/whsec_/);
    expect(weak('WEBHOOK_SECRET_GENERIC', `whsec_${Buffer.alloc(32, 9).toString('base64')}`)).toMatch(/one byte repeated/);
    expect(() => loadSettings({ AzureWebJobsStorage: 'UseDevelopmentStorage=true' })).toThrow(/INTAKE_MAC_KEY is not set/);
  });

  it('takes a loopback console authority only with a loopback Graph simulator: with real Graph, a stand-in that signs for anyone would decide reveals', () => {
    const loopbackIdp = { CONSOLE_TENANT_ID: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d', CONSOLE_CLIENT_ID: '2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e', CONSOLE_AUTHORITY_HOST: 'http://127.0.0.1:7072' };
    expect(() => loadSettings({ ...base, ...loopbackIdp })).toThrow(/CONSOLE_AUTHORITY_HOST .* is a loopback stand-in, accepted only with a loopback Graph simulator/);
    expect(() => loadSettings({ ...base, ...loopbackIdp, CONSOLE_AUTHORITY_HOST: 'http://localhost:7072' })).toThrow(/CONSOLE_AUTHORITY_HOST/);
    expect(loadSettings({ ...base, ...loopbackIdp, GRAPH_BASE_URL: 'http://127.0.0.1:4000', GRAPH_AUTH: 'none' }).CONSOLE_AUTHORITY_HOST).toBe('http://127.0.0.1:7072');
    expect(loadSettings({ ...base, ...loopbackIdp, CONSOLE_AUTHORITY_HOST: 'https://login.microsoftonline.com' }).CONSOLE_AUTHORITY_HOST).toBe('https://login.microsoftonline.com');
  });

  it('sends the Graph token only to a Microsoft Graph host, or to loopback with GRAPH_AUTH=none', () => {
    expect(loadSettings({ ...base, GRAPH_BASE_URL: 'https://graph.microsoft.us' }).GRAPH_BASE_URL).toBe('https://graph.microsoft.us');
    expect(loadSettings({ ...base, GRAPH_BASE_URL: 'https://microsoftgraph.chinacloudapi.cn' }).GRAPH_AUTH).toBe('default');
    for (const url of ['http://graph.microsoft.com', 'https://graph.microsoft.com.evil.example', 'https://evil.example', 'ftp://graph.microsoft.com', 'https://user:pw@graph.microsoft.com']) {
      expect(() => loadSettings({ ...base, GRAPH_BASE_URL: url }), url).toThrow(/GRAPH_BASE_URL .*is not a Microsoft Graph endpoint/);
    }
    expect(() => loadSettings({ ...base, GRAPH_BASE_URL: 'http://127.0.0.1:4000' })).toThrow(/GRAPH_AUTH must be "none"/);
  });

  it('exposes every setting name it reads', () => {
    expect(settingNames).toContain('WEBHOOK_SECRET_JIRA');
    expect(settingNames).toContain('BREAK_GLASS_UPNS');
  });
});
