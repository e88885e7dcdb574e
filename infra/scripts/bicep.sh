#!/usr/bin/env bash
# Compiles and lints infra/main.bicep with the real Bicep CLI, pinned, restored from NuGet.
#
#   infra/scripts/bicep.sh [--outdir DIR] [--snapshot PARAMS.bicepparam ...]
#
# 1. Restores Azure.Bicep.CommandLine.linux-x64 (version below) with `dotnet restore` of a throwaway
#    project into a cache outside the repo ($BICEP_CACHE, default ~/.cache/entra-mfa-reset/bicep), once.
# 2. `bicep build infra/main.bicep` into DIR (default: a temporary folder, removed afterwards).
# 3. `bicep lint infra/main.bicep`.
# 4. For each --snapshot file: `bicep snapshot` (the resources the template would deploy with those
#    parameters, expressions evaluated), written beside it as <name>.snapshot.json.
# Fails on any error and on any warning: a warning the templates must live with is suppressed in the
# Bicep beside a one-line reason (#disable-next-line <rule> // why).
# Needs: dotnet (the .NET SDK) and a NuGet source that serves the package. Exit 3: no dotnet.
set -euo pipefail

version="0.49.2"
package="Azure.Bicep.CommandLine.linux-x64"

here="$(cd "$(dirname "$0")" && pwd)"
infra="$(cd "$here/.." && pwd)"
cache="${BICEP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/entra-mfa-reset/bicep}"
outdir=""
snapshots=()
while [ $# -gt 0 ]; do
  case "$1" in
    --outdir) outdir="$2"; shift 2 ;;
    --snapshot) snapshots+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) echo "bicep.sh restores the linux-x64 Bicep CLI; on $(uname -s)-$(uname -m) install Bicep yourself (az bicep install)." >&2; exit 3 ;;
esac

bicep="$cache/packages/$(echo "$package" | tr '[:upper:]' '[:lower:]')/$version/tools/bicep"
if [ ! -x "$bicep" ]; then
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "dotnet is not installed: cannot restore $package $version from NuGet." >&2
    exit 3
  fi
  mkdir -p "$cache/restore"
  # PackageDownload fetches the package as it is (no assets, no framework match), exactly this version.
  cat >"$cache/restore/restore.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>netstandard2.0</TargetFramework>
  </PropertyGroup>
  <ItemGroup>
    <PackageDownload Include="$package" Version="[$version]" />
  </ItemGroup>
</Project>
EOF
  echo "restoring $package $version into $cache/packages"
  DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 \
    dotnet restore "$cache/restore/restore.csproj" --packages "$cache/packages" --verbosity quiet
  # NuGet extracts without the execute bit.
  chmod +x "$bicep"
fi

"$bicep" --version

log="$(mktemp)"
cleanup=("$log")
kept="$outdir"
if [ -z "$outdir" ]; then
  outdir="$(mktemp -d)"
  cleanup+=("$outdir")
fi
trap 'rm -rf "${cleanup[@]}"' EXIT

# Runs one CLI command, shows its diagnostics, and fails on an error or a warning.
run() {
  local status=0
  "$bicep" "$@" >"$log" 2>&1 || status=$?
  cat "$log"
  if [ "$status" -ne 0 ]; then
    echo "bicep $1 failed (exit $status)" >&2
    exit 1
  fi
  if grep -Eq ': (Error|Warning) ' "$log"; then
    echo "bicep $1 reported the diagnostics above; fix them or suppress each with a reason" >&2
    exit 1
  fi
}

mkdir -p "$outdir"
echo "bicep build infra/main.bicep"
run build "$infra/main.bicep" --outdir "$outdir"
echo "bicep lint infra/main.bicep"
run lint "$infra/main.bicep"
for params in "${snapshots[@]}"; do
  echo "bicep snapshot $params"
  run snapshot "$params" --mode overwrite \
    --tenant-id 00000000-0000-0000-0000-000000000001 \
    --subscription-id 00000000-0000-0000-0000-000000000002 \
    --location westeurope --deployment-name snapshot
done
echo "bicep: main.bicep compiled and linted with no error and no warning${kept:+ (ARM template: $kept/main.json)}"
