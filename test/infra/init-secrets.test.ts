import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadSettings } from '../../shared/config';
import { runScript } from './run-script';

/**
 * Runs infra/scripts/init-secrets.sh against a stand-in `az` that keeps a vault's secrets and firewall in
 * files and refuses data-plane calls the way Key Vault does: ForbiddenByConnection while public access is
 * disabled, ForbiddenByFirewall (naming the client address) while the caller's address is not allowed.
 */

const root = join(__dirname, '..', '..');
const script = join(root, 'infra', 'scripts', 'init-secrets.sh');
const appResources = JSON.parse(readFileSync(join(root, 'infra', 'app-resources.json'), 'utf8')) as {
  keyVaultSecrets: Record<string, { secretName: string; create: string; optional?: boolean }>;
};
const address = '203.0.113.9';

let dir: string;

const SUBSCRIPTION = '00000000-aaaa-bbbb-cccc-000000000042';

/**
 * A stand-in for az: the vault's secrets and firewall in files, and the app's Key Vault references,
 * whose status the platform works out when the app refreshes them (Resolved when the secret is in the
 * vault and the app may read it, else SecretNotFound or AccessToKeyVaultDenied). It refuses any call
 * that does not name the subscription azd works in.
 */
const fakeAz = (state: string) => `#!/usr/bin/env bash
set -u
state="${state}"
echo "$*" >>"$state/calls"
name=""; file=""; ip=""; public=""; method=""; url=""; subscription=""
args=("$@")
for ((i = 0; i < \${#args[@]}; i++)); do
  case "\${args[$i]}" in
    --name) name="\${args[$((i + 1))]}" ;;
    --file) file="\${args[$((i + 1))]}" ;;
    --ip-address) ip="\${args[$((i + 1))]}" ;;
    --public-network-access) public="\${args[$((i + 1))]}" ;;
    --method) method="\${args[$((i + 1))]}" ;;
    --url) url="\${args[$((i + 1))]}" ;;
    --subscription) subscription="\${args[$((i + 1))]}" ;;
  esac
done
if [ "$subscription" != "${SUBSCRIPTION}" ]; then
  echo "az called without --subscription ${SUBSCRIPTION}: $*" >&2
  exit 99
fi
data_plane_allowed() {
  if [ "$(cat "$state/public")" = "Disabled" ]; then
    echo "(ForbiddenByConnection) Public network access is disabled and request is not from a trusted service nor via an approved private link." >&2
    return 1
  fi
  if [ "$(cat "$state/default-action")" = "Deny" ] && ! grep -qx "${address}/32" "$state/rules"; then
    printf '(ForbiddenByFirewall) Client address is not authorized and caller is not a trusted service.\\nClient address: ${address}\\nCaller: appid=x\\n' >&2
    return 1
  fi
}
case "$1 $2" in
  "keyvault update")
    [ -n "$public" ] && echo "$public" >"$state/public"
    case "$*" in *"--default-action Deny"*) echo Deny >"$state/default-action" ;; esac
    ;;
  "keyvault network-rule")
    case "$3" in
      add) echo "$ip" >>"$state/rules" ;;
      remove) grep -vx "$ip" "$state/rules" >"$state/rules.new" || true; mv "$state/rules.new" "$state/rules" ;;
    esac
    ;;
  "keyvault secret")
    data_plane_allowed || exit 1
    case "$3" in
      list) ls "$state/secrets" ;;
      show)
        if [ -f "$state/secrets/$name" ]; then echo "https://vault/secrets/$name/1"; else
          echo "(SecretNotFound) A secret with (name/id) $name was not found in this key vault." >&2; exit 1; fi ;;
      set)
        if [ -f "$state/fail-set" ] && grep -qx "$name" "$state/fail-set"; then echo "(BadRequest) refused" >&2; exit 1; fi
        cp "$file" "$state/secrets/$name" ;;
    esac
    ;;
  "rest --method")
    case "$method $url" in
      "post /subscriptions/${SUBSCRIPTION}/resourceGroups/rg-test/providers/Microsoft.Web/sites/func-test/config/configreferences/appsettings/refresh?api-version=2022-03-01")
        # The platform resolves each reference again now.
        items=""
        while read -r setting secret; do
          [ -n "$setting" ] || continue
          if [ -f "$state/denied" ] && grep -qx "$setting" "$state/denied"; then status="AccessToKeyVaultDenied"
          elif [ -f "$state/secrets/$secret" ]; then status="Resolved"; else status="SecretNotFound"; fi
          items="$items\${items:+,}{\\"name\\":\\"func-test/$setting\\",\\"properties\\":{\\"status\\":\\"$status\\",\\"secretName\\":\\"$secret\\"}}"
        done <"$state/references"
        echo "{\\"value\\":[$items]}" >"$state/statuses"
        ;;
      "get /subscriptions/${SUBSCRIPTION}/resourceGroups/rg-test/providers/Microsoft.Web/sites/func-test/config/configreferences/appsettings?api-version=2022-03-01")
        cat "$state/statuses" ;;
      *) echo "unexpected az rest call: $*" >&2; exit 1 ;;
    esac
    ;;
  *) echo "unexpected az call: $*" >&2; exit 1 ;;
esac
`;

function vault(options: { private: boolean }) {
  writeFileSync(join(dir, 'public'), options.private ? 'Disabled\n' : 'Enabled\n');
  writeFileSync(join(dir, 'default-action'), options.private ? 'Deny\n' : 'Allow\n');
}

/** The app's Key Vault references as infra makes them: every required secret, and the optional ones listed. */
function references(optional: string[] = []) {
  const lines = Object.entries(appResources.keyVaultSecrets)
    .filter(([setting, entry]) => !entry.optional || optional.includes(setting))
    .map(([setting, entry]) => `${setting} ${entry.secretName}`);
  writeFileSync(join(dir, 'references'), `${lines.join('\n')}\n`);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'init-secrets-'));
  mkdirSync(join(dir, 'secrets'));
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'rules'), '');
  writeFileSync(join(dir, 'calls'), '');
  // Before any refresh the platform resolved the references when the secrets were not there yet.
  writeFileSync(join(dir, 'statuses'), '{"value":[{"name":"func-test/INTAKE_MAC_KEY","properties":{"status":"SecretNotFound"}}]}');
  references();
  writeFileSync(join(dir, 'bin', 'az'), fakeAz(dir));
  chmodSync(join(dir, 'bin', 'az'), 0o755);
  vault({ private: false });
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[] = [], env: Record<string, string> = {}) {
  return runScript([script, '--vault', 'kv-test', '--app', 'func-test', '--resource-group', 'rg-test', ...args], {
    env: {
      ...process.env,
      PATH: `${join(dir, 'bin')}:${process.env.PATH}`,
      INIT_SECRETS_RETRY_SECONDS: '0',
      OPTIONAL_SECRETS: '',
      AZURE_KEY_VAULT_NAME: '',
      AZURE_SUBSCRIPTION_ID: SUBSCRIPTION,
      ...env,
    },
  });
}

const stored = () => readdirSync(join(dir, 'secrets')).sort();
const value = (name: string) => readFileSync(join(dir, 'secrets', name), 'utf8');
const calls = () => readFileSync(join(dir, 'calls'), 'utf8').split('\n').filter(Boolean);
const required = Object.values(appResources.keyVaultSecrets).filter((entry) => !entry.optional).map((entry) => entry.secretName).sort();

describe('init-secrets.sh', () => {
  it('creates every required secret, in a form the app accepts, and keeps them on a second run', async () => {
    const first = await run();
    expect(first.status, first.err).toBe(0);
    expect(stored()).toEqual(required);
    expect(stored()).toContain('intake-mac-key');
    expect(stored()).not.toContain('webhook-secret-jira-automation');
    expect(value('webhook-secret-jira')).toMatch(/^[0-9a-f]{64}$/);
    expect(Buffer.from(value('intake-mac-key'), 'base64')).toHaveLength(32);
    expect(Buffer.from(value('tap-sealing-key'), 'base64')).toHaveLength(32);
    expect(value('webhook-secret-generic')).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(first.out).toContain("refreshed func-test's Key Vault references: every one resolved");
    // No value reaches the output.
    for (const name of stored()) expect(first.out + first.err).not.toContain(value(name));

    // The app's own schema accepts what was generated.
    const env: Record<string, string> = { AzureWebJobsStorage: 'UseDevelopmentStorage=true' };
    for (const [setting, entry] of Object.entries(appResources.keyVaultSecrets)) {
      if (!entry.optional) env[setting] = value(entry.secretName);
    }
    expect(() => loadSettings(env)).not.toThrow();

    const before = Object.fromEntries(stored().map((name) => [name, value(name)]));
    const second = await run();
    expect(second.status, second.err).toBe(0);
    expect(second.out).not.toMatch(/^created /m);
    expect(Object.fromEntries(stored().map((name) => [name, value(name)]))).toEqual(before);
  });

  it('creates an optional secret only when asked, by --with or OPTIONAL_SECRETS', async () => {
    references(['WEBHOOK_SECRET_JIRA_AUTOMATION']);
    expect((await run(['--with', 'WEBHOOK_SECRET_JIRA_AUTOMATION'])).status).toBe(0);
    expect(stored()).toContain('webhook-secret-jira-automation');
    rmSync(join(dir, 'secrets', 'webhook-secret-jira-automation'));
    expect((await run([], { OPTIONAL_SECRETS: ' WEBHOOK_SECRET_JIRA_AUTOMATION ,' })).status).toBe(0);
    expect(value('webhook-secret-jira-automation')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a name that is not an optional secret instead of skipping it', async () => {
    for (const wrong of ['WEBHOOK_SECRET_JIRA_AUTOMATON', 'INTAKE_MAC_KEY']) {
      const result = await run(['--with', wrong]);
      expect(result.status).toBe(2);
      expect(result.err).toContain(`not an optional secret setting: ${wrong}`);
      expect(result.err).toContain('WEBHOOK_SECRET_JIRA_AUTOMATION');
    }
    expect(stored()).toEqual([]);
  });

  it('opens a private vault to its own address only, and closes it again', async () => {
    vault({ private: true });
    const result = await run();
    expect(result.status, result.err).toBe(0);
    expect(stored()).toEqual(required);
    expect(result.out).toContain(`allowed ${address}/32`);
    const log = calls();
    expect(log).toContain(`keyvault update --name kv-test --public-network-access Enabled --default-action Deny --bypass None --output none --subscription ${SUBSCRIPTION}`);
    expect(log).toContain(`keyvault network-rule add --name kv-test --ip-address ${address}/32 --output none --subscription ${SUBSCRIPTION}`);
    expect(log).toContain(`keyvault network-rule remove --name kv-test --ip-address ${address}/32 --output none --subscription ${SUBSCRIPTION}`);
    // Closed before anything else happens (the references are refreshed and read after).
    expect(log.filter((line) => line.startsWith('keyvault')).at(-1)).toBe(`keyvault update --name kv-test --public-network-access Disabled --output none --subscription ${SUBSCRIPTION}`);
    expect(log.at(-1)).toMatch(/^rest --method get .*configreferences\/appsettings\?/);
    expect(readFileSync(join(dir, 'public'), 'utf8').trim()).toBe('Disabled');
    expect(readFileSync(join(dir, 'rules'), 'utf8').trim()).toBe('');
  });

  it('closes the vault when it fails half way', async () => {
    vault({ private: true });
    writeFileSync(join(dir, 'fail-set'), 'tap-sealing-key\n');
    const result = await run();
    expect(result.status).not.toBe(0);
    expect(readFileSync(join(dir, 'public'), 'utf8').trim()).toBe('Disabled');
    expect(readFileSync(join(dir, 'rules'), 'utf8').trim()).toBe('');
  });

  it('with --no-open leaves a private vault closed and fails, saying why', async () => {
    vault({ private: true });
    const result = await run(['--no-open']);
    expect(result.status).toBe(1);
    expect(result.err).toContain('--no-open');
    expect(stored()).toEqual([]);
    expect(calls().filter((line) => line.startsWith('keyvault update') || line.startsWith('keyvault network-rule'))).toEqual([]);
  });

  it('--set stores a value from a file, replacing the old one, through the same opening', async () => {
    vault({ private: true });
    const file = join(dir, 'value.txt');
    writeFileSync(file, 'a'.repeat(10) + 'given-by-an-admin-0123456789abcdef');
    const result = await run(['--set', 'WEBHOOK_SECRET_JIRA', file]);
    expect(result.status, result.err).toBe(0);
    expect(value('webhook-secret-jira')).toBe(readFileSync(file, 'utf8'));
    expect(result.out + result.err).not.toContain('given-by-an-admin');
    expect(readFileSync(join(dir, 'public'), 'utf8').trim()).toBe('Disabled');
    expect((await run(['--set', 'NOT_A_SECRET', file])).status).toBe(2);
  });

  it('a --set that Key Vault refuses fails with its error and still closes the vault', async () => {
    vault({ private: true });
    writeFileSync(join(dir, 'fail-set'), 'webhook-secret-jira\n');
    const file = join(dir, 'value.txt');
    writeFileSync(file, 'given-by-an-admin-0123456789abcdef-0123456789');
    const result = await run(['--set', 'WEBHOOK_SECRET_JIRA', file]);
    expect(result.status).toBe(1);
    expect(result.err).toContain('(BadRequest) refused');
    expect(readFileSync(join(dir, 'public'), 'utf8').trim()).toBe('Disabled');
    expect(readFileSync(join(dir, 'rules'), 'utf8').trim()).toBe('');
  });

  it('needs a vault name', async () => {
    const result = await runScript([script], {
      env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}`, AZURE_KEY_VAULT_NAME: '', AZURE_SUBSCRIPTION_ID: SUBSCRIPTION },
    });
    expect(result.status).toBe(2);
    expect(result.err).toContain('--vault');
    expect(existsSync(join(dir, 'secrets', 'webhook-secret-jira'))).toBe(false);
  });

  it('needs the subscription azd works in, and makes no az call without it', async () => {
    const result = await run([], { AZURE_SUBSCRIPTION_ID: '' });
    expect(result.status).toBe(2);
    expect(result.err).toMatch(/No subscription: pass --subscription or set AZURE_SUBSCRIPTION_ID/);
    expect(calls()).toEqual([]);
  });

  it('names that subscription in every az call, the vault\'s opening and closing included', async () => {
    vault({ private: true });
    const result = await run();
    expect(result.status, result.err).toBe(0);
    expect(calls().length).toBeGreaterThan(10);
    for (const call of calls()) expect(call).toMatch(new RegExp(`--subscription ${SUBSCRIPTION}$`));
    // And --subscription on the command line wins over the environment.
    const other = '00000000-aaaa-bbbb-cccc-00000000ffff';
    const wrong = await run(['--subscription', other]);
    expect(wrong.status).not.toBe(0);
    expect(calls().at(-1)).toContain(`--subscription ${other}`);
  });

  it('has the app re-read its Key Vault references through the documented refresh call after the secrets are written, then checks each resolved', async () => {
    const result = await run();
    expect(result.status, result.err).toBe(0);
    const log = calls();
    const lastSet = log.map((line) => line.startsWith('keyvault secret set')).lastIndexOf(true);
    const refresh = log.findIndex((line) => line.startsWith('rest --method post') && line.includes('/config/configreferences/appsettings/refresh?api-version=2022-03-01'));
    const read = log.findIndex((line) => line.startsWith('rest --method get') && line.includes('/config/configreferences/appsettings?api-version=2022-03-01'));
    expect(lastSet).toBeGreaterThan(-1);
    expect(refresh).toBeGreaterThan(lastSet);
    expect(read).toBeGreaterThan(refresh);
    expect(log[refresh]).toContain(`/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-test/providers/Microsoft.Web/sites/func-test/`);
    // No restart: the refresh is what makes the app read them again.
    expect(log.filter((line) => line.includes('restart'))).toEqual([]);
  });

  it('stops, naming the setting, its status and what to do, when a reference does not resolve', async () => {
    writeFileSync(join(dir, 'denied'), 'TAP_SEALING_KEY\n');
    const result = await run();
    expect(result.status).toBe(1);
    expect(result.err).toMatch(/func-test's Key Vault references did not all resolve after 10 tries/);
    expect(result.err).toMatch(/TAP_SEALING_KEY: AccessToKeyVaultDenied; the app identity cannot read the vault yet/);
    expect(result.err).toMatch(/refuse to start/);
    expect(calls().filter((line) => line.includes('/refresh?'))).toHaveLength(10);
    // Secrets were still created; only the check failed.
    expect(stored()).toEqual(required);
  });

  it('a credential issued elsewhere, listed in OPTIONAL_SECRETS before the first azd up, is stored from <SETTING>_FILE', async () => {
    references(['JIRA_API_TOKEN']);
    const file = join(dir, 'jira-token.txt');
    writeFileSync(file, 'ATATT3xFfGF0-issued-by-atlassian-0123456789');
    const result = await run([], { OPTIONAL_SECRETS: 'JIRA_API_TOKEN', JIRA_API_TOKEN_FILE: file });
    expect(result.status, result.err).toBe(0);
    expect(value('jira-api-token')).toBe(readFileSync(file, 'utf8'));
    expect(result.out).toContain('set jira-api-token from JIRA_API_TOKEN_FILE');
    expect(result.out + result.err).not.toContain('issued-by-atlassian');
    expect(result.out).toMatch(/every one resolved/);
    // Once stored it is kept, the file no longer needed.
    const again = await run([], { OPTIONAL_SECRETS: 'JIRA_API_TOKEN' });
    expect(again.status, again.err).toBe(0);
    expect(again.out).toContain('kept jira-api-token');
  });

  it('listed without a file, it stops before the app is left with an unresolvable reference, naming both ways to give it', async () => {
    references(['JIRA_API_TOKEN']);
    const result = await run([], { OPTIONAL_SECRETS: 'JIRA_API_TOKEN', JIRA_API_TOKEN_FILE: '' });
    expect(result.status).toBe(1);
    expect(result.err).toMatch(/missing jira-api-token \(JIRA_API_TOKEN\): it is issued elsewhere/);
    expect(result.err).toContain('azd env set JIRA_API_TOKEN_FILE <file holding the value>');
    expect(result.err).toContain('infra/scripts/init-secrets.sh --set JIRA_API_TOKEN <file>');
    // After the first azd up, the other way: --set, then list it.
    const file = join(dir, 'jira-token.txt');
    writeFileSync(file, 'ATATT3xFfGF0-issued-by-atlassian-0123456789');
    expect((await run(['--set', 'JIRA_API_TOKEN', file])).status).toBe(0);
    const listed = await run([], { OPTIONAL_SECRETS: 'JIRA_API_TOKEN', JIRA_API_TOKEN_FILE: '' });
    expect(listed.status, listed.err).toBe(0);
    expect(listed.out).toContain('kept jira-api-token');
  });
});
