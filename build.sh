#!/usr/bin/env bash
# Tessera's entry point for POSIX shells. Same verbs as build.ps1:
#   ./build.sh build | boot <kind> [--gdb] [--append "..."] | test [--full] | bench <what> | run
# Everything is done by the C# build driver in tools/Tessera.Tools; this script only
# makes sure it is compiled (again when its sources changed) and forwards the arguments.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export TESSERA_ROOT="$here"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! command -v dotnet >/dev/null 2>&1; then
    echo "error: the .NET SDK (10.0) is required: https://learn.microsoft.com/dotnet/core/install/linux-debian" >&2
    exit 1
fi

tool_dir="$here/out/tools"
tool_dll="$tool_dir/tessera.dll"
stamp="$tool_dir/.sources"
# Rebuild the driver when any of its sources is newer than the last build.
if [ ! -f "$tool_dll" ] || [ ! -f "$stamp" ] || [ -n "$(find "$here/tools" "$here/kernel" "$here/drivers" -newer "$stamp" -type f -not -path '*/bin/*' -not -path '*/obj/*' \( -name '*.cs' -o -name '*.csproj' \) -print -quit)" ]; then
    echo "building the build driver (tools/Tessera.Tools)..." >&2
    dotnet build "$here/tools/Tessera.Tools/Tessera.Tools.csproj" -c Release -o "$tool_dir" --nologo -v quiet -clp:ErrorsOnly >&2
    touch "$stamp"
fi
exec dotnet "$tool_dll" "$@"
