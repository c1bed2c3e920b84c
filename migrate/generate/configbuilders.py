""".NET Framework configuration from the environment: ConfigurationBuilders wired into the app's .config.

.NET Framework apps read connection strings from `web.config` (or `<app>.exe.config`), not from
the environment. Microsoft's ConfigurationBuilders (aspnet/MicrosoftConfigurationBuilders,
README and docs/KeyValueConfigBuilders.md @ 6858f0c) fill `connectionStrings` from environment
variables at run time when the config declares the `configBuilders` section and an
`EnvironmentConfigBuilder`; in `Strict` mode it replaces each connection string whose name is an
environment variable. The builder (NuGet Microsoft.Configuration.ConfigurationBuilders.Environment
and its dependency .Base, .NET Framework 4.7.1+) comes with the image: the Dockerfile downloads the
two pinned packages, and the build-time script below puts their assemblies beside the config
(`bin` of a web app) when the app does not ship them, for a config it wires and for one that
`hyperdock package` already rewrote (it names our builder). It never rewires a config that already
has `configBuilders` (wired by its developers, or by `hyperdock package`, whose builder and section
declaration it shares: migrate/package/configs.py).

The builder's `type` names the assembly without a version (as Microsoft's docs/KeyValueConfigBuilders.md
does): it binds to the copy in the app's folder, the pinned one or the app's own.
"""

from __future__ import annotations

from ..contract.model import Parameter
from ..core.powershell import ps_list, ps_quote
from ..package.configs import BUILDER_NAME, BUILDER_TYPE, SECTION_TYPE

SCRIPT = "C:\\hyperdock\\configure-config.ps1"
ASSEMBLY = "Microsoft.Configuration.ConfigurationBuilders.Environment.dll"
# The pinned release: aspnet/MicrosoftConfigurationBuilders tag v3.0 (ea50da2, 2023-03-21),
# tools/MicrosoftConfigurationBuilders.settings.targets (VersionMajor 3, VersionMinor 0: package
# 3.0.0, AssemblyVersion 3.0.0.0); each package's .nuproj puts its assembly in lib\Net471. The
# Environment package depends only on .Base. URLs: NuGet's package content resource (flat
# container, learn.microsoft.com/nuget/api/package-base-address-resource), ids and versions in
# lower case. Their SHA-256 is not verified by hyperdock (no network here to take it from).
BUILDER_VERSION = "3.0.0"
# tools/version.targets: AssemblyVersion is Major.Minor.0.Revision. Both assemblies are strong-named
# (SignAssembly in src/*/*.csproj) and Environment.csproj references Base.csproj, so the added
# Environment 3.0.0.0 needs Base 3.0.0.0 exactly (no binding redirect is added).
ASSEMBLY_VERSION = "3.0.0.0"
PACKAGES = ("Microsoft.Configuration.ConfigurationBuilders.Base", "Microsoft.Configuration.ConfigurationBuilders.Environment")
PACKAGE_FOLDER = "C:\\hyperdock\\nuget"
PACKAGE_TFM = "net471"


def package_file(package: str) -> str:
    """Return the .nupkg's file name: the flat container's, `<id>.<version>.nupkg` in lower case."""
    return f"{package.lower()}.{BUILDER_VERSION}.nupkg"


def package_url(package: str) -> str:
    """Return the pinned .nupkg's download URL on nuget.org."""
    return f"https://api.nuget.org/v3-flatcontainer/{package.lower()}/{BUILDER_VERSION}/{package_file(package)}"


def add_instructions() -> list[str]:
    """Return the Dockerfile lines that download the builder's packages (their assemblies go in by the script)."""
    return ([f"# ConfigurationBuilders {BUILDER_VERSION} (NuGet), pinned; their SHA-256 is not verified by hyperdock: "
             "check the downloads."]
            + [f"ADD {package_url(p)} C:/hyperdock/nuget/{package_file(p)}" for p in PACKAGES])


def config_targets(parameters: tuple[Parameter, ...], folders: dict[str, tuple[str, bool]],
                   configs: dict[str, str] | None = None) -> list[tuple[str, str, bool]]:
    """Return (config file, the builder assembly it needs, whether to wire it) in the image, by config file.

    `folders` maps a VM folder (lower-case, no trailing backslash) to (its folder in the image,
    whether it is a web application: assemblies in `bin`); `configs` maps such a folder to its
    usual config file name (web.config, <program>.exe.config). A parameter's .config file is wired;
    the usual config of every other folder is listed too, not to be wired, but so that a config
    `hyperdock package` rewrote gets the builder. Files outside `folders` are not listed.
    """
    found: dict[str, tuple[str, bool]] = {}
    for folder, name in (configs or {}).items():
        if folder in folders:
            found.setdefault(f"{folder}\\{name}".lower(), (name, False))
    for parameter in parameters:
        file = parameter.file or ""
        folder, _, name = file.rpartition("\\")
        if name.lower().endswith(".config") and folder.lower() in folders:
            found[f"{folder}\\{name}".lower()] = (name, True)
    targets = set()
    for key, (name, wire) in found.items():
        image_folder, web = folders[key.rpartition("\\")[0]]
        assembly = f"{image_folder}\\bin\\{ASSEMBLY}" if web else f"{image_folder}\\{ASSEMBLY}"
        targets.add((f"{image_folder}\\{name}", assembly, wire))
    return sorted(targets)


def configure_script(targets: list[tuple[str, str, bool]]) -> str:
    """Return configure-config.ps1: wires each config file to the EnvironmentConfigBuilder, at build time."""
    return "\n".join([
        "# hyperdock: let the app's .config read its connection strings from the environment (ConfigurationBuilders).",
        "# Runs at build time, after the content is copied; see the content README.",
        "$ErrorActionPreference = 'Stop'",
        f"$configs = @({ps_list([c for c, _, _ in targets])})",
        f"$assemblies = @({ps_list([a for _, a, _ in targets])})",
        "# Wire the config: a parameter of the plan is read from it.",
        "$wire = @(" + ", ".join("$true" if w else "$false" for _, _, w in targets) + ")",
        _CONFIGURE_REST,
    ])


# configure-config.ps1 after the lines that name the configs: the same for every workload, joined once.
_CONFIGURE_REST = "\n".join([
    f"$packages = @({ps_list([PACKAGE_FOLDER + chr(92) + package_file(p) for p in PACKAGES])})",
    "Add-Type -AssemblyName System.IO.Compression.FileSystem",
    "function Add-Builder([string] $folder) {",
    "    # The builder's assemblies from the pinned packages, each only where the app does not ship it.",
    "    New-Item -ItemType Directory -Force -Path $folder | Out-Null",
    "    # The added .Environment binds to .Base by its exact strong-name version: an app's other .Base would fail at start.",
    f"    $base = Join-Path -Path $folder -ChildPath '{PACKAGES[0]}.dll'",
    f"    if ((Test-Path -LiteralPath $base) -and -not (Test-Path -LiteralPath (Join-Path -Path $folder -ChildPath '{ASSEMBLY}'))) {{",
    "        $version = [System.Reflection.AssemblyName]::GetAssemblyName($base).Version.ToString()",
    f"        if ($version -ne '{ASSEMBLY_VERSION}') {{",
    f"            throw ($base + ' is version ' + $version + ', not {ASSEMBLY_VERSION}: ship {ASSEMBLY[:-4]} of the same version with the app')",
    "        }",
    "    }",
    "    foreach ($package in $packages) {",
    "        $zip = [System.IO.Compression.ZipFile]::OpenRead($package)",
    "        try {",
    "            foreach ($entry in $zip.Entries) {",
    f"                if ($entry.FullName -notlike 'lib/{PACKAGE_TFM}/*.dll') {{ continue }}",
    "                $target = Join-Path -Path $folder -ChildPath $entry.Name",
    "                if (Test-Path -LiteralPath $target) { continue }",
    "                [System.IO.Compression.ZipFileExtensions]::ExtractToFile($entry, $target)",
    "                Write-Output ('hyperdock: added ' + $target)",
    "            }",
    "        } finally { $zip.Dispose() }",
    "    }",
    "}",
    "for ($i = 0; $i -lt $configs.Count; $i++) {",
    "    $config = $configs[$i]",
    "    if (-not (Test-Path -LiteralPath $config)) {",
    "        if ($wire[$i]) { Write-Output ('hyperdock: ' + $config + ' is not in the content: nothing to wire') }",
    "        continue",
    "    }",
    "    $xml = New-Object -TypeName System.Xml.XmlDocument",
    "    $xml.PreserveWhitespace = $true",
    "    $xml.Load($config)",
    "    $root = $xml.DocumentElement",
    f"    $ours = $root.SelectSingleNode(\"configBuilders/builders/add[@name='{BUILDER_NAME}']\")",
    "    if ($null -eq $root.SelectSingleNode('configBuilders') -and -not $wire[$i]) { continue }",
    "    if ($null -eq $root.SelectSingleNode('configBuilders') -or $null -ne $ours) {",
    "        Add-Builder -folder (Split-Path -Parent $assemblies[$i])",
    "    }",
    "    if ($null -ne $root.SelectSingleNode('configBuilders')) {",
    "        Write-Output ('hyperdock: ' + $config + ' already has configBuilders: left as it is')",
    "        continue",
    "    }",
    "    $sections = $root.SelectSingleNode('configSections')",
    "    if ($null -eq $sections) { $sections = $root.PrependChild($xml.CreateElement('configSections')) }",
    "    $section = $sections.AppendChild($xml.CreateElement('section'))",
    "    $section.SetAttribute('name', 'configBuilders')",
    f"    $section.SetAttribute('type', {ps_quote(SECTION_TYPE)})",
    "    $section.SetAttribute('restartOnExternalChanges', 'false')",
    "    $section.SetAttribute('requirePermission', 'false')",
    "    $builders = $root.InsertAfter($xml.CreateElement('configBuilders'), $sections).AppendChild($xml.CreateElement('builders'))",
    "    $builder = $builders.AppendChild($xml.CreateElement('add'))",
    f"    $builder.SetAttribute('name', {ps_quote(BUILDER_NAME)})",
    "    $builder.SetAttribute('mode', 'Strict')",
    f"    $builder.SetAttribute('type', {ps_quote(BUILDER_TYPE)})",
    "    $strings = $root.SelectSingleNode('connectionStrings')",
    "    if ($null -eq $strings) { $strings = $root.AppendChild($xml.CreateElement('connectionStrings')) }",
    f"    $strings.SetAttribute('configBuilders', {ps_quote(BUILDER_NAME)})",
    "    $xml.Save($config)",
    "    Write-Output ('hyperdock: ' + $config + ' reads its connection strings from the environment')",
    "}",
]) + "\n"


def run_statements() -> list[str]:
    """Return the RUN statements that execute the script (a native powershell.exe, checked by its exit code)."""
    return [f"powershell.exe -NoProfile -ExecutionPolicy Bypass -File {ps_quote(SCRIPT)}",
            "if ($LASTEXITCODE -ne 0) { throw ('configure-config.ps1 failed: ' + $LASTEXITCODE) }"]
