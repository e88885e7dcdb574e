#!/usr/bin/env bash
# Makes sure every secret the app reads through a Key Vault reference exists in the vault, then has the
# app re-read its references and checks that each one resolved.
# A missing secret is created with a random value (see "create" in infra/app-resources.json: 32 random
# bytes as hex, as Base64, or as a whsec_ Standard Webhooks secret); an existing one is never changed.
# Why: App Service hands an unresolvable @Microsoft.KeyVault(...) reference to the app as its literal text,
# and the app refuses to start with one.
#
# The secrets come from infra/app-resources.json (keyVaultSecrets), the same map the Bicep uses. Optional
# ones (for example WEBHOOK_SECRET_JIRA_AUTOMATION) are handled only when asked for, with --with SETTING or
# OPTIONAL_SECRETS=SETTING,... (the same azd value that makes infra reference them). One issued elsewhere
# ("byAdmin", such as a ticket system's API token) is read from the file named by <SETTING>_FILE (an azd
# value, for example `azd env set JIRA_API_TOKEN_FILE ./jira-token.txt`, so it can be given before the
# first `azd up`) when the vault lacks it; without one the script stops and names both ways to set it.
#
# Then, with the app known (--app and --resource-group, or azd's values), it asks the platform to resolve
# the app's Key Vault references again (POST .../config/configreferences/appsettings/refresh, Microsoft's
# documented way; a restart is not documented to re-read them) and reads each reference's status until
# every one is Resolved, or stops with the setting, its status and what to do.
#
# With private networking the vault has no public endpoint. Then the script opens it to this machine alone
# for as long as it runs: public access on with the firewall denying all but this machine's address (read
# from the vault's own refusal), and closes it again on exit. --no-open fails instead. Opening needs
# management rights on the vault (Contributor, as for azd up); the next `azd provision` resets the
# firewall in any case.
#
# Run by azd after provisioning (postprovision hook); by hand:
#   infra/scripts/init-secrets.sh [--subscription <id>] [--vault <name>] [--app <function app> --resource-group <rg>]
#                                 [--with SETTING]... [--set SETTING FILE]... [--no-open]
# --set writes the value in FILE to SETTING's secret (replacing one that exists): the way to store a
# credential issued elsewhere, or to rotate one, through the same short opening of a private vault.
# Without arguments it reads AZURE_SUBSCRIPTION_ID, AZURE_KEY_VAULT_NAME, AZURE_FUNCTION_APP_NAME,
# AZURE_RESOURCE_GROUP and OPTIONAL_SECRETS from the environment (azd passes them to hooks), or from
# `azd env get-value`. Every az call names that subscription: az's own default may be another one.
# Needs: az (signed in as someone with Key Vault Secrets Officer on the vault), node, openssl.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
spec="$here/../app-resources.json"

subscription="${AZURE_SUBSCRIPTION_ID:-}"
vault="${AZURE_KEY_VAULT_NAME:-}"
app="${AZURE_FUNCTION_APP_NAME:-}"
group="${AZURE_RESOURCE_GROUP:-}"
optional="${OPTIONAL_SECRETS:-}"
may_open=1
sets=()
retry_seconds="${INIT_SECRETS_RETRY_SECONDS:-30}"
while [ $# -gt 0 ]; do
  case "$1" in
    --subscription) subscription="$2"; shift 2 ;;
    --vault) vault="$2"; shift 2 ;;
    --app) app="$2"; shift 2 ;;
    --resource-group) group="$2"; shift 2 ;;
    --with) optional="$optional,$2"; shift 2 ;;
    --no-open) may_open=0; shift ;;
    --set) sets+=("$2=$3"); shift 3 ;;
    -h|--help) sed -n '2,37p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

from_azd() {
  if command -v azd >/dev/null 2>&1; then azd env get-value "$1" 2>/dev/null || true; fi
}
[ -n "$subscription" ] || subscription="$(from_azd AZURE_SUBSCRIPTION_ID)"
[ -n "$vault" ] || vault="$(from_azd AZURE_KEY_VAULT_NAME)"
[ -n "$app" ] || app="$(from_azd AZURE_FUNCTION_APP_NAME)"
[ -n "$group" ] || group="$(from_azd AZURE_RESOURCE_GROUP)"
[ -n "${optional//,/}" ] || optional="$(from_azd OPTIONAL_SECRETS)"
if [ -z "$subscription" ]; then
  echo "No subscription: pass --subscription or set AZURE_SUBSCRIPTION_ID (azd sets it; azd env get-value AZURE_SUBSCRIPTION_ID)." >&2
  exit 2
fi
if [ -z "$vault" ]; then
  echo "No Key Vault name: pass --vault or set AZURE_KEY_VAULT_NAME (azd sets it after provisioning)." >&2
  exit 2
fi

# az in azd's subscription, never in whatever az defaults to: the vault and the app are there.
az_sub() { az "$@" --subscription "$subscription"; }

# "<setting>:<secret name>:<create>" for every required secret and every optional one asked for; an
# unknown or non-optional name in the optional list is an error, not something to skip silently.
if ! entries="$(node -e '
  const secrets = require(process.argv[1]).keyVaultSecrets;
  const asked = process.argv[2].split(",").map((s) => s.trim()).filter(Boolean);
  const wrong = asked.filter((name) => !secrets[name]?.optional);
  if (wrong.length) {
    const known = Object.keys(secrets).filter((name) => secrets[name].optional).join(", ");
    console.error(`not an optional secret setting: ${wrong.join(", ")} (optional ones: ${known})`);
    process.exit(2);
  }
  for (const [setting, entry] of Object.entries(secrets)) {
    if (!entry.optional || asked.includes(setting)) console.log(`${setting}:${entry.secretName}:${entry.create}`);
  }' "$spec" "$optional")"; then
  exit 2
fi

opened=""
close_vault() {
  [ -n "$opened" ] || return 0
  local address="$opened"
  opened=""
  # Both steps run whatever happened before; the next provision resets the firewall if they fail.
  if [ "$address" != "pending" ]; then
    az_sub keyvault network-rule remove --name "$vault" --ip-address "$address/32" --output none || true
  fi
  if az_sub keyvault update --name "$vault" --public-network-access Disabled --output none; then
    echo "closed $vault again (public network access disabled)"
  else
    echo "could not close $vault: run az keyvault update --name $vault --public-network-access Disabled (or azd provision)" >&2
  fi
}
trap close_vault EXIT
trap 'exit 130' INT TERM

# A refusal by the vault's network rules, as opposed to a missing role or secret.
network_refusal() {
  case "$1" in
    *ForbiddenByConnection*|*ForbiddenByFirewall*|*"Public network access is disabled"*|*"Client address is not authorized"*) return 0 ;;
    *) return 1 ;;
  esac
}

# Opens the vault to this machine's address only. Key Vault names the address in its firewall refusal.
open_vault() {
  local output address attempt=1
  if [ "$may_open" -eq 0 ]; then
    echo "$vault accepts no traffic from this machine (private networking) and --no-open was given." >&2
    echo "Run this from inside the vault's virtual network, or without --no-open." >&2
    exit 1
  fi
  echo "$vault has no public endpoint: opening it to this machine's address alone while secrets are set"
  opened="pending"
  az_sub keyvault update --name "$vault" --public-network-access Enabled --default-action Deny --bypass None --output none
  while :; do
    output="$(az_sub keyvault secret list --vault-name "$vault" --maxresults 1 --query '[].id' --output tsv 2>&1)" && return 0
    address="$(printf '%s' "$output" | sed -n 's/.*Client address: *\([0-9.]*\).*/\1/p' | head -n 1)"
    if [ -n "$address" ]; then break; fi
    if [ "$attempt" -ge 10 ]; then
      echo "could not learn this machine's address from the vault's refusal:" >&2
      echo "$output" >&2
      exit 1
    fi
    attempt=$((attempt + 1))
    sleep "$retry_seconds"
  done
  opened="$address"
  az_sub keyvault network-rule add --name "$vault" --ip-address "$address/32" --output none
  echo "allowed $address/32 on $vault until this script ends"
}

# --set SETTING FILE: "<secret name>=<file>" pairs.
set_entries=()
for pair in ${sets[@]+"${sets[@]}"}; do
  setting="${pair%%=*}"
  source_file="${pair#*=}"
  if [ ! -r "$source_file" ]; then echo "--set $setting: cannot read $source_file" >&2; exit 2; fi
  if ! secret_name="$(node -e 'const e = require(process.argv[1]).keyVaultSecrets[process.argv[2]]; if (!e) process.exit(2); console.log(e.secretName)' "$spec" "$setting")"; then
    echo "--set $setting: not a Key Vault secret setting of infra/app-resources.json" >&2
    exit 2
  fi
  set_entries+=("$secret_name=$source_file")
done

# Runs az for the vault's data plane, opening a private vault first if that is what refuses. It runs in
# this shell (not in $(...)), so that the opening is known to close_vault; what az printed is in $call_output.
call_output=""
vault_call() {
  while :; do
    if call_output="$(az_sub "$@" 2>&1)"; then
      return 0
    fi
    if network_refusal "$call_output" && [ -z "$opened" ]; then
      open_vault
      continue
    fi
    return 1
  done
}

for pair in ${set_entries[@]+"${set_entries[@]}"}; do
  name="${pair%%=*}"
  attempt=1
  until vault_call keyvault secret set --vault-name "$vault" --name "$name" --file "${pair#*=}" --encoding utf-8 --query id --output tsv; do
    if [ "$attempt" -ge 10 ]; then
      echo "could not set $name in $vault:" >&2
      echo "$call_output" >&2
      exit 1
    fi
    echo "waiting for access to $vault to take effect ($attempt/10)..."
    attempt=$((attempt + 1))
    sleep "$retry_seconds"
  done
  echo "set $name from the given file"
done

# The file a credential issued elsewhere is read from when the vault lacks it: <SETTING>_FILE, from the
# environment or azd (set before the first azd up, or any time after).
file_for() {
  local value
  value="$(printenv "$1_FILE" || true)"
  [ -n "$value" ] || value="$(from_azd "$1_FILE")"
  printf '%s' "$value"
}

missing_by_admin=()
for entry in $entries; do
  setting="${entry%%:*}"
  rest="${entry#*:}"
  name="${rest%%:*}"
  create="${rest#*:}"
  # A role assignment or firewall rule made moments ago can take minutes to reach Key Vault: retry.
  attempt=1
  while :; do
    if output="$(az_sub keyvault secret show --vault-name "$vault" --name "$name" --query id --output tsv 2>&1)"; then
      echo "kept $name (already set)"
      break
    fi
    if network_refusal "$output"; then
      if [ -z "$opened" ]; then
        open_vault
        continue
      fi
      # Opened, but the rule has not taken effect yet: wait like for a role assignment below.
      output="Forbidden (firewall rule not in effect yet): $output"
    fi
    case "$output" in
      *SecretNotFound*|*"was not found"*)
        if [ "$create" = "byAdmin" ]; then
          given="$(file_for "$setting")"
          if [ -z "$given" ]; then
            missing_by_admin+=("$setting:$name")
            break
          fi
          if [ ! -r "$given" ]; then
            echo "${setting}_FILE names $given, which cannot be read" >&2
            exit 2
          fi
          if az_sub keyvault secret set --vault-name "$vault" --name "$name" --file "$given" --encoding utf-8 --output none; then
            echo "set $name from ${setting}_FILE"
            break
          fi
          exit 1
        fi
        file="$(mktemp)"
        chmod 600 "$file"
        case "$create" in
          hex32) openssl rand -hex 32 ;;
          base64-32) openssl rand -base64 32 ;;
          whsec32) printf 'whsec_%s' "$(openssl rand -base64 32)" ;;
          *) echo "unknown create kind $create for $name" >&2; rm -f "$file"; exit 1 ;;
        esac | tr -d '\n' >"$file"
        if az_sub keyvault secret set --vault-name "$vault" --name "$name" --file "$file" --encoding utf-8 --output none; then
          rm -f "$file"
          echo "created $name (random value; read it with: az keyvault secret show --vault-name $vault --name $name --query value -o tsv)"
          break
        fi
        rm -f "$file"
        # secret set failed for another reason: az printed it above.
        exit 1
        ;;
      *Forbidden*|*"not authorized"*|*"does not have"*)
        if [ "$attempt" -ge 10 ]; then
          echo "No access to $vault after $attempt tries. You need Key Vault Secrets Officer on it (principalId parameter, azd: AZURE_PRINCIPAL_ID)." >&2
          echo "$output" >&2
          exit 1
        fi
        echo "waiting for access to $vault to take effect ($attempt/10)..."
        attempt=$((attempt + 1))
        sleep "$retry_seconds"
        ;;
      *)
        echo "$output" >&2
        exit 1
        ;;
    esac
  done
done

# Closed as soon as the secrets are in (the EXIT trap covers every earlier way out).
close_vault

if [ "${#missing_by_admin[@]}" -gt 0 ]; then
  for pair in "${missing_by_admin[@]}"; do
    setting="${pair%%:*}"
    name="${pair#*:}"
    echo "missing $name ($setting): it is issued elsewhere (OPTIONAL_SECRETS lists it), and no ${setting}_FILE names a file holding it. Either:" >&2
    echo "  azd env set ${setting}_FILE <file holding the value>, then azd provision (or azd up)" >&2
    echo "  infra/scripts/init-secrets.sh --set $setting <file> (opens a private vault to this machine for the moment it takes)" >&2
  done
  exit 1
fi

# The app reads its Key Vault references when its settings change and then once a day: secrets created
# after the deployment applied its settings would reach it only then. Microsoft documents a refresh call
# for this (learn.microsoft.com/azure/app-service/app-service-key-vault-references, "Understand
# rotation"); the status of each reference says whether it resolved. An unresolved one reaches the app as
# its literal text, which the app refuses: better to stop here, saying which and why.
reference_problems() {
  node -e '
    let text = "";
    process.stdin.on("data", (chunk) => (text += chunk));
    process.stdin.on("end", () => {
      let items;
      try {
        items = JSON.parse(text).value ?? [];
      } catch {
        console.log("(the answer listing the references is not JSON)");
        return;
      }
      if (items.length === 0) console.log("(no Key Vault reference is listed for the app yet)");
      const hint = {
        AccessToKeyVaultDenied: "the app identity cannot read the vault yet: its Key Vault Secrets User role can take minutes to apply; with private networking the vault must be reachable from the app subnet",
        SecretNotFound: "the secret is not in the vault: set it (infra/scripts/init-secrets.sh --set SETTING FILE)",
        VaultNotFound: "no vault of that name is reachable",
        Initialized: "not resolved yet",
      };
      for (const item of items) {
        const properties = item.properties ?? {};
        if (properties.status === "Resolved") continue;
        const setting = String(item.name ?? "").split("/").pop();
        const details = String(properties.details ?? "").replace(/\s+/g, " ").trim();
        console.log(`${setting}: ${properties.status ?? "unknown"}${details ? ` (${details})` : ""}; ${hint[properties.status] ?? "see its status in the portal (Environment variables)"}`);
      }
    });'
}

if [ -n "$app" ] && [ -n "$group" ]; then
  site="/subscriptions/$subscription/resourceGroups/$group/providers/Microsoft.Web/sites/$app"
  api="api-version=2022-03-01"
  attempt=1
  while :; do
    problems=""
    if ! refreshed="$(az_sub rest --method post --url "$site/config/configreferences/appsettings/refresh?$api" --output none 2>&1)"; then
      problems="the refresh call failed: $refreshed"
    elif listing="$(az_sub rest --method get --url "$site/config/configreferences/appsettings?$api" --output json 2>&1)"; then
      problems="$(printf '%s' "$listing" | reference_problems)" || problems="(the references could not be read)"
    else
      problems="the references could not be read: $listing"
    fi
    if [ -z "$problems" ]; then
      echo "refreshed $app's Key Vault references: every one resolved"
      break
    fi
    if [ "$attempt" -ge 10 ]; then
      echo "$app's Key Vault references did not all resolve after $attempt tries:" >&2
      printf '%s\n' "$problems" | sed 's/^/  /' >&2
      echo "The app would read such a setting as its literal @Microsoft.KeyVault(...) text and refuse to start. Fix the cause, then run this script again." >&2
      exit 1
    fi
    echo "waiting for $app's Key Vault references to resolve ($attempt/10)..."
    attempt=$((attempt + 1))
    sleep "$retry_seconds"
  done
else
  echo "note: no function app named (--app and --resource-group, or azd's values): its Key Vault references were not refreshed or checked"
fi
