#!/usr/bin/env bash
# Grants the app's managed identity the Microsoft Graph application roles (application permissions) the
# reset engine needs. Idempotent: it lists what the identity already holds and adds only what is missing;
# it never removes anything. Prints "granted X" or "already had X" for each role.
#
#   infra/scripts/grant-graph-permissions.sh [--principal-id <object id>] [--methods broad|portal|all]
#                                            [--schedules group-removal,risky-users] [--dry-run]
#
# --principal-id  object id of the managed identity's service principal. Default: MANAGED_IDENTITY_PRINCIPAL_ID
#                 from the environment or from `azd env get-value` (a main.bicep output).
# --methods       which roles cover the authentication-method deletes:
#                   broad  (default) UserAuthenticationMethod.ReadWrite.All: every method type, and TAP.
#                   portal UserAuthenticationMethod.Read.All plus the per-method UserAuthMethod-*.ReadWrite.All
#                          roles for phone, Microsoft Authenticator, software and hardware OATH, and TAP: enough
#                          for the "portal" profile only.
#                   all    as portal, plus FIDO2/passkey, Windows Hello, email, platform credential, external
#                          and QR code + PIN methods: the per-method equivalent of broad.
# --schedules     only for the schedule features used (docs/schedules.md), comma-separated:
#                   group-removal  GroupMember.ReadWrite.All: removeFromGroupAfterReset takes users out of the group.
#                   risky-users    IdentityRiskyUser.Read.All: a riskyUsers source (Entra ID P2).
# --dry-run       only print what would be granted.
#
# Always granted as well: User.Read.All (resolve users), User.RevokeSessions.All (revoke sign-in sessions),
# GroupMember.Read.All (protected groups), RoleManagement.Read.Directory (privileged role holders),
# PrivilegedEligibilitySchedule.Read.AzureADGroup (PIM for Groups: who may activate membership or ownership
# of a role-assignable or protected group), Policy.Read.AuthenticationMethod (the tenant's Temporary Access Pass policy: lifetime bounds,
# one-time use, who may use a pass), Application.Read.All (owners of privileged applications and service principals),
# AdministrativeUnit.Read.All (restricted management administrative units).
#
# Who can run it: a Privileged Role Administrator or Global Administrator, signed in with `az login`.
# Granting application roles of Microsoft Graph is reserved to them; Application Administrator and
# Cloud Application Administrator cannot.
# Set GRAPH_URL for a national cloud (for example https://graph.microsoft.us).
set -euo pipefail

GRAPH_APP_ID="00000003-0000-0000-c000-000000000000"
graph="${GRAPH_URL:-https://graph.microsoft.com}"
principal="${MANAGED_IDENTITY_PRINCIPAL_ID:-}"
methods="broad"
dry_run=false
schedules=""

while [ $# -gt 0 ]; do
  case "$1" in
    --principal-id) principal="$2"; shift 2 ;;
    --methods) methods="$2"; shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    --schedules) schedules="$2"; shift 2 ;;
    -h|--help) sed -n '2,33p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

if [ -z "$principal" ] && command -v azd >/dev/null 2>&1; then
  principal="$(azd env get-value MANAGED_IDENTITY_PRINCIPAL_ID 2>/dev/null || true)"
fi
if ! printf '%s' "$principal" | grep -Eiq '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'; then
  echo "No managed identity: pass --principal-id <object id> or set MANAGED_IDENTITY_PRINCIPAL_ID (azd sets it after provisioning)." >&2
  exit 2
fi

roles=(User.Read.All User.RevokeSessions.All GroupMember.Read.All RoleManagement.Read.Directory PrivilegedEligibilitySchedule.Read.AzureADGroup Policy.Read.AuthenticationMethod Application.Read.All AdministrativeUnit.Read.All)
portal_methods=(
  UserAuthenticationMethod.Read.All
  UserAuthMethod-Phone.ReadWrite.All
  UserAuthMethod-MicrosoftAuthApp.ReadWrite.All
  UserAuthMethod-SoftwareOATH.ReadWrite.All
  UserAuthMethod-HardwareOATH.ReadWrite.All
  UserAuthMethod-TAP.ReadWrite.All
)
other_methods=(
  UserAuthMethod-Passkey.ReadWrite.All
  UserAuthMethod-WindowsHello.ReadWrite.All
  UserAuthMethod-Email.ReadWrite.All
  UserAuthMethod-PlatformCred.ReadWrite.All
  UserAuthMethod-External.ReadWrite.All
  UserAuthMethod-QR.ReadWrite.All
)
case "$methods" in
  broad) roles=(UserAuthenticationMethod.ReadWrite.All "${roles[@]}") ;;
  portal) roles=("${portal_methods[@]}" "${roles[@]}") ;;
  all) roles=("${portal_methods[@]}" "${other_methods[@]}" "${roles[@]}") ;;
  *) echo "--methods must be broad, portal or all, not $methods" >&2; exit 2 ;;
esac
# Word splitting rather than an array: an empty array under set -u fails in the bash 3.2 macOS ships.
for feature in ${schedules//,/ }; do
  case "$feature" in
    group-removal) roles+=(GroupMember.ReadWrite.All) ;;
    risky-users) roles+=(IdentityRiskyUser.Read.All) ;;
    *) echo "--schedules takes group-removal and risky-users, not $feature" >&2; exit 2 ;;
  esac
done

# az prints CR LF on Windows shells; strip CRs from everything read back.
tsv() { az "$@" --output tsv | tr -d '\r'; }

identity="$(tsv rest --method GET --uri "$graph/v1.0/servicePrincipals/$principal?\$select=id,displayName,servicePrincipalType" \
  --query "[displayName, servicePrincipalType] | join(' / ', @)")"
echo "Managed identity: $identity ($principal)"

graph_sp="$(tsv rest --method GET --uri "$graph/v1.0/servicePrincipals(appId='$GRAPH_APP_ID')?\$select=id" --query id)"
if [ -z "$graph_sp" ]; then
  echo "Microsoft Graph has no service principal in this tenant." >&2
  exit 1
fi

# value<TAB>id of every Graph application role.
catalogue="$(tsv rest --method GET --uri "$graph/v1.0/servicePrincipals/$graph_sp?\$select=appRoles" \
  --query "appRoles[?contains(allowedMemberTypes, 'Application')].[value, id]")"

role_id() { printf '%s\n' "$catalogue" | awk -F '\t' -v want="$1" '$1 == want { print $2; exit }'; }
role_value() { printf '%s\n' "$catalogue" | awk -F '\t' -v want="$1" '$2 == want { print $1; exit }'; }

# Resolve every role before changing anything, so that a typo or a role missing in this cloud stops the run.
ids=()
for role in "${roles[@]}"; do
  id="$(role_id "$role")"
  if [ -z "$id" ]; then
    echo "Microsoft Graph offers no application role named $role in this tenant." >&2
    exit 1
  fi
  ids+=("$id")
done

held="$(tsv rest --method GET --uri "$graph/v1.0/servicePrincipals/$principal/appRoleAssignments?\$top=999" \
  --query "value[?resourceId=='$graph_sp'].appRoleId")"

for i in "${!roles[@]}"; do
  role="${roles[$i]}"
  id="${ids[$i]}"
  if printf '%s\n' "$held" | grep -qix "$id"; then
    echo "already had $role"
  elif [ "$dry_run" = true ]; then
    echo "would grant $role"
  else
    az rest --method POST --uri "$graph/v1.0/servicePrincipals/$principal/appRoleAssignments" \
      --headers "Content-Type=application/json" \
      --body "{\"principalId\":\"$principal\",\"resourceId\":\"$graph_sp\",\"appRoleId\":\"$id\"}" \
      --output none
    echo "granted $role"
  fi
done

# Report Graph roles held beyond this set (for example the broad role after switching to --methods portal).
for id in $held; do
  if ! printf '%s\n' "${ids[@]}" | grep -qix "$id"; then
    echo "also holds $(role_value "$id" || true) ($id): not removed; remove it yourself if it is no longer wanted"
  fi
done

echo "Done. Roles granted now reach the app with its next Graph token; managed identity tokens are cached, so a change can take up to 24 hours to apply."
