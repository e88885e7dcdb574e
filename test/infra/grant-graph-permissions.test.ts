import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/**
 * Runs infra/scripts/grant-graph-permissions.sh against a stand-in `az` that answers the Graph calls the
 * script makes and remembers the app role assignments it is asked to create.
 */

const script = join(__dirname, '..', '..', 'infra', 'scripts', 'grant-graph-permissions.sh');
const principal = '11111111-2222-3333-4444-555555555555';

// Application roles of Microsoft Graph (value, id) as its service principal lists them.
const catalogue: [string, string][] = [
  ['UserAuthenticationMethod.ReadWrite.All', '50483e42-d915-4231-9639-7fdb7fd190e5'],
  ['UserAuthenticationMethod.Read.All', '38d9df27-64da-44fd-b7c5-a6fbac20248f'],
  ['User.Read.All', 'df021288-bdef-4463-88db-98f22de89214'],
  ['User.RevokeSessions.All', '77f3a031-c388-4f99-b373-dc68676a979e'],
  ['GroupMember.Read.All', '98830695-27a2-44f7-8c18-0c3ebc9698f6'],
  ['RoleManagement.Read.Directory', '483bed4a-2ad3-4361-a73b-c83ccdbdc53c'],
  ['PrivilegedEligibilitySchedule.Read.AzureADGroup', 'aaaaaaaa-0000-0000-0000-000000000011'],
  ['Policy.Read.AuthenticationMethod', 'aaaaaaaa-0000-0000-0000-000000000010'],
  ['Application.Read.All', '9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30'],
  ['AdministrativeUnit.Read.All', '134fd756-38ce-4afd-ba33-e9623dbe66c2'],
  ['UserAuthMethod-Phone.ReadWrite.All', 'aaaaaaaa-0000-0000-0000-000000000001'],
  ['UserAuthMethod-MicrosoftAuthApp.ReadWrite.All', 'aaaaaaaa-0000-0000-0000-000000000002'],
  ['UserAuthMethod-SoftwareOATH.ReadWrite.All', 'aaaaaaaa-0000-0000-0000-000000000003'],
  ['UserAuthMethod-HardwareOATH.ReadWrite.All', 'aaaaaaaa-0000-0000-0000-000000000004'],
  ['UserAuthMethod-TAP.ReadWrite.All', 'aaaaaaaa-0000-0000-0000-000000000005'],
  ['Mail.Send', 'b633e1c5-b582-4048-a93e-9f11b44c7e96'],
  ['GroupMember.ReadWrite.All', 'dbaae8cf-10b5-4b86-a4a1-f871c94c6695'],
  ['IdentityRiskyUser.Read.All', 'dc5007c0-2d7d-4c42-879c-2dab87571379'],
];

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'grant-graph-'));
  writeFileSync(join(dir, 'catalogue.tsv'), catalogue.map(([value, id]) => `${value}\t${id}`).join('\n') + '\n');
  writeFileSync(join(dir, 'held'), '');
  const fakeAz = `#!/usr/bin/env bash
set -eu
state="${dir}"
echo "$*" >>"$state/calls"
case "$*" in
  *servicePrincipalType*) echo "id-mfa-reset / ManagedIdentity" ;;
  *"appId="*) echo "graph-sp-id" ;;
  *appRoles*) cat "$state/catalogue.tsv" ;;
  *"--method GET"*appRoleAssignments*) cat "$state/held" ;;
  *"--method POST"*appRoleAssignments*)
    body="$(printf '%s' "$*" | sed -n 's/.*"appRoleId":"\\([^"]*\\)".*/\\1/p')"
    echo "$body" >>"$state/held" ;;
  *) echo "unexpected az call: $*" >&2; exit 1 ;;
esac
`;
  writeFileSync(join(dir, 'az'), fakeAz);
  chmodSync(join(dir, 'az'), 0o755);
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function grant(...args: string[]) {
  const result = spawnSync('bash', [script, '--principal-id', principal, ...args], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, MANAGED_IDENTITY_PRINCIPAL_ID: '' },
  });
  return { status: result.status, out: result.stdout, err: result.stderr };
}

const posts = () => readFileSync(join(dir, 'calls'), 'utf8').split('\n').filter((line) => line.includes('--method POST'));

describe('grant-graph-permissions.sh', () => {
  it('grants the nine roles, then finds them all on a second run and grants nothing', () => {
    const first = grant();
    expect(first.status, first.err).toBe(0);
    for (const role of [
      'UserAuthenticationMethod.ReadWrite.All',
      'User.Read.All',
      'User.RevokeSessions.All',
      'GroupMember.Read.All',
      'RoleManagement.Read.Directory',
      'PrivilegedEligibilitySchedule.Read.AzureADGroup',
      'Policy.Read.AuthenticationMethod',
      'Application.Read.All',
      'AdministrativeUnit.Read.All',
    ]) {
      expect(first.out).toContain(`granted ${role}\n`);
    }
    expect(posts()).toHaveLength(9);
    expect(posts()[0]).toContain(`"principalId":"${principal}","resourceId":"graph-sp-id"`);

    const second = grant();
    expect(second.status, second.err).toBe(0);
    expect(second.out).not.toMatch(/^granted /m);
    expect(second.out.match(/^already had /gm)).toHaveLength(9);
    expect(posts()).toHaveLength(9);
  });

  it('with --methods portal grants the per-method roles and reports, without removing, a broad role held before', () => {
    writeFileSync(join(dir, 'held'), '50483e42-d915-4231-9639-7fdb7fd190e5\n');
    const run = grant('--methods', 'portal');
    expect(run.status, run.err).toBe(0);
    expect(run.out).toContain('granted UserAuthMethod-Phone.ReadWrite.All\n');
    expect(run.out).toContain('granted UserAuthenticationMethod.Read.All\n');
    expect(run.out).not.toContain('granted UserAuthenticationMethod.ReadWrite.All');
    expect(run.out).toMatch(/also holds UserAuthenticationMethod\.ReadWrite\.All .*not removed/);
  });

  it('with --methods all adds every other per-method role, QR code + PIN included', () => {
    const more = ['Passkey', 'WindowsHello', 'Email', 'PlatformCred', 'External', 'QR'].map((name, i) => [`UserAuthMethod-${name}.ReadWrite.All`, `bbbbbbbb-0000-0000-0000-00000000000${i}`] as const);
    writeFileSync(join(dir, 'catalogue.tsv'), [...catalogue, ...more].map(([value, id]) => `${value}\t${id}`).join('\n') + '\n');
    const run = grant('--methods', 'all');
    expect(run.status, run.err).toBe(0);
    for (const [role] of more) expect(run.out).toContain(`granted ${role}\n`);
    expect(run.out).toContain('granted UserAuthMethod-SoftwareOATH.ReadWrite.All\n');
    expect(run.out).not.toContain('granted UserAuthenticationMethod.ReadWrite.All');
  });

  it('stops before granting anything when a role does not exist', () => {
    const run = grant('--methods', 'all');
    expect(run.status).toBe(1);
    expect(run.err).toContain('no application role named UserAuthMethod-Passkey.ReadWrite.All');
    expect(posts()).toHaveLength(0);
  });

  it('--dry-run changes nothing', () => {
    const run = grant('--dry-run');
    expect(run.status, run.err).toBe(0);
    expect(run.out).toContain('would grant User.Read.All\n');
    expect(posts()).toHaveLength(0);
  });

  it('grants the schedule roles only when --schedules names their feature', () => {
    const plain = grant();
    expect(plain.out).not.toMatch(/GroupMember\.ReadWrite\.All|IdentityRiskyUser/);
    const risky = grant('--schedules', 'risky-users');
    expect(risky.status, risky.err).toBe(0);
    expect(risky.out).toContain('granted IdentityRiskyUser.Read.All\n');
    expect(risky.out).not.toContain('GroupMember.ReadWrite.All');
    const both = grant('--schedules', 'group-removal,risky-users');
    expect(both.out).toContain('granted GroupMember.ReadWrite.All\n');
    expect(both.out).toContain('already had IdentityRiskyUser.Read.All\n');
    const typo = grant('--schedules', 'risky');
    expect(typo.status).toBe(2);
    expect(typo.err).toContain('--schedules takes group-removal and risky-users');
  });

  it('refuses to run without a managed identity object id', () => {
    const result = spawnSync('bash', [script], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, MANAGED_IDENTITY_PRINCIPAL_ID: '' },
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--principal-id');
  });
});
