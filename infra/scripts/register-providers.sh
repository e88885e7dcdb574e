#!/usr/bin/env bash
# Registers the Azure resource providers the templates need, in azd's subscription, before provisioning.
# Why: a subscription that never used one of them refuses its resources; ARM registers most providers when
# a template first deploys them, but not Microsoft.App, which Flex Consumption's virtual network
# integration needs (the app's subnet is delegated to Microsoft.App/environments): without it the site
# cannot join its subnet ("ServiceAssociationLink ... check if 'Microsoft.App' is registered").
#
# The list is "resourceProviders" in infra/app-resources.json (test/infra checks it covers every resource
# type the compiled template deploys). One line for each: "Microsoft.Web: registered", or for a missing
# one "Microsoft.App: NotRegistered, registering... registered" once az provider register --wait is done.
# Registering needs <namespace>/register/action at the subscription (Contributor or Owner have it).
#
# Run by azd before provisioning (preprovision hook); by hand:
#   infra/scripts/register-providers.sh [--subscription <id>]
# Without --subscription it reads AZURE_SUBSCRIPTION_ID from the environment (azd passes it to hooks), or
# from `azd env get-value`. Every az call names that subscription: az's own default may be another one.
# Needs: az (signed in), node.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
spec="$here/../app-resources.json"

subscription="${AZURE_SUBSCRIPTION_ID:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --subscription) subscription="$2"; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
if [ -z "$subscription" ] && command -v azd >/dev/null 2>&1; then
  subscription="$(azd env get-value AZURE_SUBSCRIPTION_ID 2>/dev/null || true)"
fi
if [ -z "$subscription" ]; then
  echo "No subscription: pass --subscription or set AZURE_SUBSCRIPTION_ID (azd env set AZURE_SUBSCRIPTION_ID <id>)." >&2
  exit 2
fi

# az in azd's subscription, never in whatever az defaults to.
az_sub() { az "$@" --subscription "$subscription"; }

providers="$(node -e 'for (const p of require(process.argv[1]).resourceProviders) console.log(p)' "$spec")"
for namespace in $providers; do
  if ! state="$(az_sub provider show --namespace "$namespace" --query registrationState --output tsv)"; then
    echo "$namespace: could not read its registration in subscription $subscription (see above)" >&2
    exit 1
  fi
  if [ "$state" = "Registered" ]; then
    echo "$namespace: registered"
    continue
  fi
  printf '%s: %s, registering (waits until done)... ' "$namespace" "${state:-NotRegistered}"
  if ! az_sub provider register --namespace "$namespace" --wait --output none; then
    echo
    echo "$namespace could not be registered: you need $namespace/register/action (Contributor or Owner) on subscription $subscription" >&2
    exit 1
  fi
  state="$(az_sub provider show --namespace "$namespace" --query registrationState --output tsv)"
  if [ "$state" != "Registered" ]; then
    echo
    echo "$namespace is $state after registering; run: az provider register --namespace $namespace --subscription $subscription --wait" >&2
    exit 1
  fi
  echo "registered"
done
