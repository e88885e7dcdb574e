#!/usr/bin/env bash
# Makes sure every secret the app reads through a Key Vault reference exists in the vault.
# A missing secret is created with a random value (32 random bytes, hex); an existing one is never changed.
# Why: App Service hands an unresolvable @Microsoft.KeyVault(...) reference to the app as its literal text,
# which would then be used as an HMAC secret that anyone can read from the template.
#
# The secret names come from infra/app-resources.json (keyVaultSecrets), the same map the Bicep uses.
# Run by azd after provisioning (postprovision hook); by hand:
#   infra/scripts/init-secrets.sh [--vault <name>] [--app <function app> --resource-group <rg>]
# Without arguments it reads AZURE_KEY_VAULT_NAME, AZURE_FUNCTION_APP_NAME and AZURE_RESOURCE_GROUP from the
# environment, or from `azd env get-value`.
# Needs: az (signed in as someone with Key Vault Secrets Officer on the vault), node, openssl.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
spec="$here/../app-resources.json"

vault="${AZURE_KEY_VAULT_NAME:-}"
app="${AZURE_FUNCTION_APP_NAME:-}"
group="${AZURE_RESOURCE_GROUP:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --vault) vault="$2"; shift 2 ;;
    --app) app="$2"; shift 2 ;;
    --resource-group) group="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

from_azd() {
  if command -v azd >/dev/null 2>&1; then azd env get-value "$1" 2>/dev/null || true; fi
}
[ -n "$vault" ] || vault="$(from_azd AZURE_KEY_VAULT_NAME)"
[ -n "$app" ] || app="$(from_azd AZURE_FUNCTION_APP_NAME)"
[ -n "$group" ] || group="$(from_azd AZURE_RESOURCE_GROUP)"
if [ -z "$vault" ]; then
  echo "No Key Vault name: pass --vault or set AZURE_KEY_VAULT_NAME (azd sets it after provisioning)." >&2
  exit 2
fi

# Required secrets only, as "<secret name> <how to create it>" lines.
secret_names="$(node -e 'const s = require(process.argv[1]).keyVaultSecrets; for (const e of Object.values(s)) if (!e.optional && e.create !== "byAdmin") console.log(e.secretName + ":" + e.create)' "$spec")"

created=0
for entry in $secret_names; do
  name="${entry%%:*}"
  create="${entry#*:}"
  # A role assignment made by the same deployment can take a few minutes to reach Key Vault: retry on 403.
  attempt=1
  while :; do
    if output="$(az keyvault secret show --vault-name "$vault" --name "$name" --query id --output tsv 2>&1)"; then
      echo "kept $name (already set)"
      break
    fi
    case "$output" in
      *SecretNotFound*|*"was not found"*)
        file="$(mktemp)"
        chmod 600 "$file"
        case "$create" in
          hex32) openssl rand -hex 32 ;;
          base64-32) openssl rand -base64 32 ;;
          whsec32) printf 'whsec_%s' "$(openssl rand -base64 32)" ;;
          *) echo "unknown create kind $create for $name" >&2; exit 1 ;;
        esac | tr -d '\n' >"$file"
        if az keyvault secret set --vault-name "$vault" --name "$name" --file "$file" --encoding utf-8 --output none; then
          rm -f "$file"
          echo "created $name (random value; read it with: az keyvault secret show --vault-name $vault --name $name --query value -o tsv)"
          created=$((created + 1))
          break
        fi
        rm -f "$file"
        ;;
    esac
    case "$output" in
      *Forbidden*|*"not authorized"*|*"does not have"*)
        if [ "$attempt" -ge 10 ]; then
          echo "No permission on $vault after $attempt tries. You need Key Vault Secrets Officer on it (principalId parameter, azd: AZURE_PRINCIPAL_ID)." >&2
          echo "$output" >&2
          exit 1
        fi
        echo "waiting for the Key Vault role assignment to take effect ($attempt/10)..."
        attempt=$((attempt + 1))
        sleep 30
        ;;
      *SecretNotFound*|*"was not found"*)
        # secret set failed for another reason: az printed it above.
        exit 1
        ;;
      *)
        echo "$output" >&2
        exit 1
        ;;
    esac
  done
done

if [ "$created" -gt 0 ] && [ -n "$app" ] && [ -n "$group" ]; then
  # Key Vault references are re-read on restart (otherwise within 24 hours).
  if az functionapp restart --name "$app" --resource-group "$group" --output none 2>/dev/null; then
    echo "restarted $app so that it reads the new secrets"
  else
    echo "note: could not restart $app; it reads the new secrets on its next restart or deployment"
  fi
fi
