import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runScript } from './run-script';

/**
 * infra/scripts/register-providers.sh (azd's preprovision hook) against a stand-in `az` that keeps each
 * provider's registration state in a file, registers on `provider register --wait`, and refuses any call
 * that does not name the subscription azd works in.
 */
const root = join(__dirname, '..', '..');
const script = join(root, 'infra', 'scripts', 'register-providers.sh');
const SUBSCRIPTION = '00000000-aaaa-bbbb-cccc-000000000042';
const providers = (JSON.parse(readFileSync(join(root, 'infra', 'app-resources.json'), 'utf8')) as { resourceProviders: string[] }).resourceProviders;

let dir: string;

const fakeAz = (state: string) => `#!/usr/bin/env bash
set -u
state="${state}"
echo "$*" >>"$state/calls"
namespace=""; subscription=""
args=("$@")
for ((i = 0; i < \${#args[@]}; i++)); do
  case "\${args[$i]}" in
    --namespace) namespace="\${args[$((i + 1))]}" ;;
    --subscription) subscription="\${args[$((i + 1))]}" ;;
  esac
done
if [ "$subscription" != "${SUBSCRIPTION}" ]; then
  echo "az called without --subscription ${SUBSCRIPTION}: $*" >&2
  exit 99
fi
case "$1 $2" in
  "provider show")
    if [ -f "$state/registered/$namespace" ]; then echo Registered; else echo NotRegistered; fi ;;
  "provider register")
    if [ -f "$state/refuse" ]; then echo "(AuthorizationFailed) does not have authorization to perform action '$namespace/register/action'" >&2; exit 1; fi
    case "$*" in *--wait*) touch "$state/registered/$namespace" ;; *) echo "registering without --wait" >&2; exit 1 ;; esac ;;
  *) echo "unexpected az call: $*" >&2; exit 1 ;;
esac
`;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'register-providers-'));
  mkdirSync(join(dir, 'registered'));
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'calls'), '');
  writeFileSync(join(dir, 'bin', 'az'), fakeAz(dir));
  chmodSync(join(dir, 'bin', 'az'), 0o755);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const run = (args: string[] = [], env: Record<string, string> = {}) =>
  runScript([script, ...args], { env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}`, AZURE_SUBSCRIPTION_ID: SUBSCRIPTION, ...env } });
const calls = () => readFileSync(join(dir, 'calls'), 'utf8').split('\n').filter(Boolean);

describe('register-providers.sh', () => {
  it('checks each provider the templates need, registers the missing ones (waiting), one line each', async () => {
    expect(providers).toEqual(
      expect.arrayContaining(['Microsoft.App', 'Microsoft.Web', 'Microsoft.Storage', 'Microsoft.KeyVault', 'Microsoft.Network', 'Microsoft.OperationalInsights', 'Microsoft.Insights']),
    );
    for (const namespace of providers.filter((name) => name !== 'Microsoft.App' && name !== 'Microsoft.Network')) writeFileSync(join(dir, 'registered', namespace), '');
    const result = await run();
    expect(result.status, result.err).toBe(0);
    const lines = result.out.trim().split('\n');
    expect(lines).toHaveLength(providers.length);
    expect(lines).toContain('Microsoft.Web: registered');
    expect(lines).toContain('Microsoft.App: NotRegistered, registering (waits until done)... registered');
    expect(lines).toContain('Microsoft.Network: NotRegistered, registering (waits until done)... registered');
    expect(calls().filter((line) => line.startsWith('provider register'))).toEqual([
      `provider register --namespace Microsoft.App --wait --output none --subscription ${SUBSCRIPTION}`,
      `provider register --namespace Microsoft.Network --wait --output none --subscription ${SUBSCRIPTION}`,
    ]);
    // A second run finds everything registered and registers nothing.
    writeFileSync(join(dir, 'calls'), '');
    const again = await run();
    expect(again.out.trim().split('\n').every((line) => line.endsWith(': registered'))).toBe(true);
    expect(calls().filter((line) => line.startsWith('provider register'))).toEqual([]);
  });

  it('names azd\'s subscription in every az call (az\'s own default may be another one)', async () => {
    expect((await run()).status).toBe(0);
    expect(calls().length).toBeGreaterThanOrEqual(providers.length);
    for (const call of calls()) expect(call).toMatch(new RegExp(`--subscription ${SUBSCRIPTION}$`));
  });

  it('without a subscription it stops before any az call, saying how to give one', async () => {
    const result = await run([], { AZURE_SUBSCRIPTION_ID: '' });
    expect(result.status).toBe(2);
    expect(result.err).toContain('azd env set AZURE_SUBSCRIPTION_ID');
    expect(calls()).toEqual([]);
  });

  it('a registration it may not make stops provisioning, naming the permission', async () => {
    writeFileSync(join(dir, 'refuse'), '');
    const result = await run();
    expect(result.status).toBe(1);
    expect(result.err).toMatch(/Microsoft\.App could not be registered: you need Microsoft\.App\/register\/action/);
  });
});

describe('azure.yaml', () => {
  const yaml = readFileSync(join(root, 'azure.yaml'), 'utf8');

  it('runs register-providers.sh before provisioning and init-secrets.sh after, on every platform', () => {
    expect(yaml).toMatch(/\nhooks:\n(?:  #.*\n)*  preprovision:\n    posix:\n      shell: sh\n      run: bash infra\/scripts\/register-providers\.sh\n    windows:\n      shell: pwsh\n      run: bash infra\/scripts\/register-providers\.sh\n/);
    expect(yaml).toMatch(/\n  postprovision:\n    posix:\n      shell: sh\n      run: bash infra\/scripts\/init-secrets\.sh\n    windows:\n      shell: pwsh\n      run: bash infra\/scripts\/init-secrets\.sh\n/);
  });

  it('every az call in the hook scripts goes through the one wrapper that names the subscription', () => {
    const scripts = [...yaml.matchAll(/run: bash (infra\/scripts\/[\w.-]+\.sh)/g)].map((match) => match[1]!);
    expect(new Set(scripts)).toEqual(new Set(['infra/scripts/register-providers.sh', 'infra/scripts/init-secrets.sh']));
    for (const file of new Set(scripts)) {
      const code = readFileSync(join(root, file), 'utf8')
        .split('\n')
        .filter((line) => !line.trimStart().startsWith('#'));
      const wrapper = code.filter((line) => /^az_sub\(\) \{ az "\$@" --subscription "\$subscription"; \}$/.test(line));
      expect(wrapper, file).toHaveLength(1);
      // Any other `az ` at the start of a command (not inside a message) is a call that skips the wrapper.
      const bare = code.filter((line) => /(^|[;&|(]|\$\(|if |then |! )\s*az\s/.test(line) && !wrapper.includes(line) && !/echo |printf /.test(line));
      expect(bare, file).toEqual([]);
    }
  });
});
