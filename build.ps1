#!/usr/bin/env pwsh
# Tessera's entry point for PowerShell. Same verbs as build.sh:
#   ./build.ps1 build | boot <kind> [--gdb] [--append "..."] | test [--full] | bench <what> | run
# Everything is done by the C# build driver in tools/Tessera.Tools; this script only makes
# sure it is compiled (again when its sources changed) and forwards the arguments.
$ErrorActionPreference = 'Stop'
$here = $PSScriptRoot
$env:TESSERA_ROOT = $here
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'

if (-not (Get-Command dotnet -ErrorAction SilentlyContinue)) {
    Write-Error 'the .NET SDK (10.0) is required: https://learn.microsoft.com/dotnet/core/install/linux-debian'
    exit 1
}

$toolDir = Join-Path $here 'out/tools'
$toolDll = Join-Path $toolDir 'tessera.dll'
$stamp = Join-Path $toolDir '.sources'
$sources = Get-ChildItem -Recurse -File (Join-Path $here 'tools/Tessera.Tools') -Include *.cs, *.csproj |
    Where-Object { $_.FullName -notmatch '[\\/](bin|obj)[\\/]' }
$stale = -not (Test-Path $toolDll) -or -not (Test-Path $stamp) -or
    ($sources | Where-Object { $_.LastWriteTimeUtc -gt (Get-Item $stamp).LastWriteTimeUtc })
if ($stale) {
    Write-Host 'building the build driver (tools/Tessera.Tools)...'
    dotnet build (Join-Path $here 'tools/Tessera.Tools/Tessera.Tools.csproj') -c Release -o $toolDir --nologo -v quiet -clp:ErrorsOnly
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
    New-Item -ItemType File -Force $stamp | Out-Null
}
& dotnet $toolDll @args
exit $LASTEXITCODE
