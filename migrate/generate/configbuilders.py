""".NET Framework configuration from the environment: ConfigurationBuilders wired into the app's .config.

.NET Framework apps read connection strings from `web.config` (or `<app>.exe.config`), not from
the environment. Microsoft's ConfigurationBuilders (aspnet/MicrosoftConfigurationBuilders,
README and docs/KeyValueConfigBuilders.md @ 6858f0c) fill `connectionStrings` from environment
variables at run time when the config declares the `configBuilders` section and an
`EnvironmentConfigBuilder`; in `Strict` mode it replaces each connection string whose name is an
environment variable. The package (Microsoft.Configuration.ConfigurationBuilders.Environment,
.NET Framework 4.7.1+) must ship with the app: the build-time script below wires the config only
when its assembly is there, and says so otherwise. It never touches a config that already has
`configBuilders` (wired by its developers, or by `hyperdock package`, whose builder and section
declaration it shares: migrate/package/configs.py).
"""

from __future__ import annotations

from ..package.configs import BUILDER_NAME, BUILDER_TYPE, SECTION_TYPE
from .powershell import ps_list, ps_quote

SCRIPT = "C:\\hyperdock\\configure-config.ps1"
ASSEMBLY = "Microsoft.Configuration.ConfigurationBuilders.Environment.dll"


def config_targets(parameters: list[dict], folders: dict[str, tuple[str, bool]]) -> list[tuple[str, str]]:
    """Return (config file, the builder assembly it needs) in the image for each parameter's .config file.

    `folders` maps a VM folder (lower-case, no trailing backslash) to (its folder in the image,
    whether it is a web application: assemblies in `bin`). Files elsewhere are not wired.
    """
    targets = []
    for parameter in parameters:
        file = parameter.get("file") or ""
        folder, _, name = file.rpartition("\\")
        if not name.lower().endswith(".config") or folder.lower() not in folders:
            continue
        image_folder, web = folders[folder.lower()]
        assembly = f"{image_folder}\\bin\\{ASSEMBLY}" if web else f"{image_folder}\\{ASSEMBLY}"
        targets.append((f"{image_folder}\\{name}", assembly))
    return sorted(set(targets))


def configure_script(targets: list[tuple[str, str]]) -> str:
    """Return configure-config.ps1: wires each config file to the EnvironmentConfigBuilder, at build time."""
    lines = [
        "# hyperdock: let the app's .config read its connection strings from the environment (ConfigurationBuilders).",
        "# Runs at build time, after the content is copied; see the content README.",
        "$ErrorActionPreference = 'Stop'",
        f"$configs = @({ps_list([c for c, _ in targets])})",
        f"$assemblies = @({ps_list([a for _, a in targets])})",
        "for ($i = 0; $i -lt $configs.Count; $i++) {",
        "    $config = $configs[$i]",
        "    if (-not (Test-Path -LiteralPath $config) -or -not (Test-Path -LiteralPath $assemblies[$i])) {",
        f"        Write-Output ('hyperdock: ' + $config + ' not wired: the app needs the package {ASSEMBLY[:-4]}')",
        "        continue",
        "    }",
        "    $xml = New-Object -TypeName System.Xml.XmlDocument",
        "    $xml.PreserveWhitespace = $true",
        "    $xml.Load($config)",
        "    $root = $xml.DocumentElement",
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
    ]
    return "\n".join(lines) + "\n"


def run_statements() -> list[str]:
    """Return the RUN statements that execute the script (a native powershell.exe, checked by its exit code)."""
    return [f"powershell.exe -NoProfile -ExecutionPolicy Bypass -File {ps_quote(SCRIPT)}",
            "if ($LASTEXITCODE -ne 0) { throw ('configure-config.ps1 failed: ' + $LASTEXITCODE) }"]
