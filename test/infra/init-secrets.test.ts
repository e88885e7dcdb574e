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

const fakeAz = (state: string) => `#!/usr/bin/env bash
set -u
state="${state}"
echo "$*" >>"$state/calls"
name=""; file=""; ip=""; public=""
args=("$@")
for ((i = 0; i < \${#args[@]}; i++)); do
  case "\${args[$i]}" in
    --name) name="\${args[$((i + 1))]}" ;;
    --file) file="\${args[$((i + 1))]}" ;;
    --ip-address) ip="\${args[$((i + 1))]}" ;;
    --public-network-access) public="\${args[$((i + 1))]}" ;;
  esac
done
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
  "functionapp restart") ;;
  *) echo "unexpected az call: $*" >&2; exit 1 ;;
esac
`;

function vault(options: { private: boolean }) {
  writeFileSync(join(dir, 'public'), options.private ? 'Disabled\n' : 'Enabled\n');
  writeFileSync(join(dir, 'default-action'), options.private ? 'Deny\n' : 'Allow\n');
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'init-secrets-'));
  mkdirSync(join(dir, 'secrets'));
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'rules'), '');
  writeFileSync(join(dir, 'calls'), '');
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
    expect(first.out).toContain('restarted func-test');
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
    expect(second.out).not.toContain('restarted');
    expect(Object.fromEntries(stored().map((name) => [name, value(name)]))).toEqual(before);
  });

  it('creates an optional secret only when asked, by --with or OPTIONAL_SECRETS', async () => {
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
    expect(log).toContain('keyvault update --name kv-test --public-network-access Enabled --default-action Deny --bypass None --output none');
    expect(log).toContain(`keyvault network-rule add --name kv-test --ip-address ${address}/32 --output none`);
    expect(log).toContain(`keyvault network-rule remove --name kv-test --ip-address ${address}/32 --output none`);
    // Closed before anything else happens (the restart comes after).
    expect(log.filter((line) => line.startsWith('keyvault')).at(-1)).toBe('keyvault update --name kv-test --public-network-access Disabled --output none');
    expect(log.at(-1)).toMatch(/^functionapp restart/);
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
      env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}`, AZURE_KEY_VAULT_NAME: '' },
    });
    expect(result.status).toBe(2);
    expect(result.err).toContain('--vault');
    expect(existsSync(join(dir, 'secrets', 'webhook-secret-jira'))).toBe(false);
  });
});
