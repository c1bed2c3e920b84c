"""What an IIS or Windows-service image does when its container starts: `start.ps1` and LogMonitor.

The container's environment reaches only the entry point (microsoft/IIS.ServiceMonitor README: it
copies the environment into the named app pool; Windows services do not see it), so the entry point is LogMonitor running `start.ps1`, which:

1. reads each runtime parameter from its environment variable, or from the file
   `C:\\hyperdock\\secrets\\<NAME>` (a mounted secret directory), never from the image;
2. imports the HTTPS certificate from `C:\\hyperdock\\tls\\tls.pfx` (password in
   `C:\\hyperdock\\tls\\password`), a mounted secret, and binds it to every HTTPS binding;
3. hands the parameters to the application: IIS through `ServiceMonitor.exe w3svc <AppPoolName>`
   (microsoft/IIS.ServiceMonitor README and Main.cpp: it copies its environment into the named
   pool) plus each further pool's `environmentVariables`; a Windows service through its
   `Environment` registry value (REG_MULTI_SZ under HKLM\\SYSTEM\\CurrentControlSet\\Services\\<name>,
   read by the service control manager when the service starts: a long-standing Windows
   behaviour, not checked against a Microsoft page here [I]), set before the service starts;
4. runs ServiceMonitor in the foreground, so the container lives as long as the service.

LogMonitor (microsoft/windows-container-tools, checked at commit d07608d) sends the Event Log, IIS
ETW and the application's log files to stdout; its configuration follows the repository's IIS
sample (`LogMonitor/src/LogMonitor/sample-config-files/IIS/LogMonitorConfig.json`) and docs
(`waitInSeconds`, `logFormat`, both parsed by v2.1.3's ConfigFileParser tests).
"""

from __future__ import annotations

import re

from ..contract.model import Container
from ..contract.names import TLS_DIR, env_name
from ..core.powershell import ps_list, ps_quote
from ..output import json_text

# Pinned release; the URL is the one in the repository's own example Dockerfile
# (examples/aks/iis-logmonitor/Dockerfile @ d07608d). Its SHA-256 could not be checked here:
# no release asset is reachable offline, so the Dockerfile says so instead of inventing a digest.
LOGMONITOR_VERSION = "v2.1.3"
LOGMONITOR_URL = f"https://github.com/microsoft/windows-container-tools/releases/download/{LOGMONITOR_VERSION}/LogMonitor.exe"
LOGMONITOR = "C:\\LogMonitor\\LogMonitor.exe"
START_SCRIPT = "C:\\hyperdock\\start.ps1"
SERVICE_MONITOR = "C:\\ServiceMonitor.exe"
SECRETS_DIR = "C:\\hyperdock\\secrets"
# IIS ETW providers, names and GUIDs as in Microsoft's IIS sample configuration.
IIS_ETW_PROVIDERS = [
    {"providerName": "IIS: WWW Server", "providerGuid": "3A2A4E84-4C21-4981-AE10-3FDA0D9B0F83", "level": "Information"},
    {"providerName": "Microsoft-Windows-IIS-Logging", "providerGuid": "7E8AD27F-B271-4EA2-A783-A47BDE29143B",
     "level": "Information"},
]
# Pool names that may go into an IIS configuration XPath filter as they are.
_PLAIN_POOL = re.compile(r"[A-Za-z0-9 ._-]+")


def entrypoint() -> list[str]:
    """Return the exec-form entry point: LogMonitor wrapping the start script."""
    return [LOGMONITOR, "powershell.exe", "-NoLogo", "-NoProfile", "-ExecutionPolicy", "Bypass", "-File", START_SCRIPT]


def logmonitor_config(container: Container, log_folders: list[str]) -> str:
    """Return LogMonitorConfig.json: Event Log always, IIS log files and ETW for IIS, the app's folders."""
    sources: list[dict] = [{
        "type": "EventLog", "startAtOldestRecord": True, "eventFormatMultiLine": False,
        "channels": [{"name": "system", "level": "Information"}, {"name": "application", "level": "Error"}],
    }]
    folders = list(log_folders)
    if container.iis_sites:
        folders.insert(0, "C:\\inetpub\\logs")
    for folder in dict.fromkeys(folders):
        # "INFINITY": a folder that appears only after the first request must not stop LogMonitor.
        sources.append({"type": "File", "directory": folder, "filter": "*.log", "includeSubdirectories": True,
                        "waitInSeconds": "INFINITY"})
    if container.iis_sites:
        sources.append({"type": "ETW", "eventFormatMultiLine": False, "providers": IIS_ETW_PROVIDERS})
    return json_text({"LogConfig": {"logFormat": "json", "sources": sources}})


def start_script(container: Container, label: str, main_pool: str | None, services: list[str],
                 settings: dict[str, str] | None = None, config_folders: list[str] | None = None) -> str:
    """Return start.ps1 for an IIS image (`main_pool` set) or a Windows-service image (`services`).

    `settings` are fixed variables the app needs besides the parameters (ASPNETCORE_HTTP_PORTS):
    an image's ENV reaches only the entry point, not a service, so they travel the same way.
    `config_folders` are the image folders of the app's content, whose .config files get their
    `${NAME}` tokens outside builder-fed sections filled (`_fill_config_tokens`).
    """
    return start_script_heading(label) + start_script_body(container, main_pool, services, settings, config_folders)


def start_script_heading(label: str) -> str:
    """Return start.ps1's first line: the only one that names the workload."""
    return f"# hyperdock: what the {label} container does at start (run by LogMonitor, the entry point).\n"


def start_script_body(container: Container, main_pool: str | None, services: list[str],
                      settings: dict[str, str] | None = None, config_folders: list[str] | None = None) -> str:
    """Return start.ps1 after its first line (`start_script`): the same for workloads that differ only in label."""
    names = container.parameter_variables()
    lines = [
        "# Parameters come from the environment or from files in C:\\hyperdock\\secrets; the HTTPS certificate",
        "# from C:\\hyperdock\\tls. Nothing secret is in the image.",
        "$ErrorActionPreference = 'Stop'",
        f"$parameters = @({ps_list(names)})",
        "$values = [ordered]@{}",
        "foreach ($name in $parameters) {",
        "    $value = [Environment]::GetEnvironmentVariable($name)",
        f"    $file = Join-Path -Path {ps_quote(SECRETS_DIR)} -ChildPath $name",
        "    if (-not $value -and (Test-Path -LiteralPath $file)) { $value = (Get-Content -LiteralPath $file -Raw).TrimEnd() }",
        "    if (-not $value) { Write-Output \"hyperdock: runtime parameter $name is not set\"; continue }",
        "    $values[$name] = $value",
        "    [Environment]::SetEnvironmentVariable($name, $value)",
        "}",
    ]
    # A .NET Framework config (ConfigurationBuilders, Strict mode) looks a connection string up by its
    # own name; Windows matches variable names without case, so only other spellings need a copy.
    for parameter in sorted(container.parameters, key=lambda p: p.name):
        name, variable = parameter.name, parameter.env_variable
        if variable == env_name(name) and name.upper() != variable and name and "=" not in name and name.isprintable():
            lines.append(f"if ($values.Contains({ps_quote(variable)})) {{ $values[{ps_quote(name)}] = $values[{ps_quote(variable)}]; "
                         f"[Environment]::SetEnvironmentVariable({ps_quote(name)}, $values[{ps_quote(variable)}]) }}")
    for name, value in sorted((settings or {}).items()):
        # The image's value (or one given at run time), else the VM's.
        lines += [f"$values[{ps_quote(name)}] = {ps_quote(value)}",
                  f"if ([Environment]::GetEnvironmentVariable({ps_quote(name)})) {{ "
                  f"$values[{ps_quote(name)}] = [Environment]::GetEnvironmentVariable({ps_quote(name)}) }}"]
    if config_folders:
        lines += _fill_config_tokens(config_folders)
    bindings = container.https_bindings()
    if bindings:
        lines += _certificate(bindings)
    if main_pool is not None:
        lines += _app_pools(container, main_pool)
        lines.append(f"& {ps_quote(SERVICE_MONITOR)} 'w3svc' {ps_quote(main_pool)}")
    else:
        lines += _services(services)
        lines.append(f"& {ps_quote(SERVICE_MONITOR)} {ps_quote(services[0])}")
    lines.append("exit $LASTEXITCODE")
    return "\n".join(lines) + "\n"


# Attributes holding a token that no ConfigurationBuilder fills: builders run only on a section that
# names them (`configBuilders`), and only on key/value sections (appSettings, connectionStrings) —
# aspnet/MicrosoftConfigurationBuilders docs/KeyValueConfigBuilders.md ("mode"; raw-XML expansion
# was a version-1 feature). machineKey keys, identity and SMTP passwords, and every token of a
# CLR 2.0 config (which has no builders) are left to the start script.
UNFED_TOKENS_XPATH = "//@*[contains(., '${') and not(ancestor::*[@configBuilders])]"
TEMPLATES_DIR = "C:\\hyperdock\\config-templates"


def _fill_config_tokens(folders: list[str]) -> list[str]:
    """Fill `${NAME}` tokens no builder fills, in each .config under `folders`, from NAME's variable or
    secret file. The config is rendered from a token-only copy kept at the first start, so a restart
    with other values rewrites it (idempotent). The filled file is in the container's writable layer
    only (these settings cannot come from anywhere else); values are never printed, only names."""
    return [*_FILL_TOKENS_START, f"foreach ($folder in @({ps_list(folders)})) {{", *_FILL_TOKENS_REST]


# _fill_config_tokens' lines before and after the one that names the folders, written once.
_FILL_TOKENS_START = (
    "# Tokens no configuration builder fills (machineKey keys, identity/SMTP passwords, CLR 2.0 configs).",
    f"$templates = {ps_quote(TEMPLATES_DIR)}",
    "$sha = [System.Security.Cryptography.SHA256]::Create()",
)
_FILL_TOKENS_REST = (
    "    if (-not (Test-Path -LiteralPath $folder)) { continue }",
    "    $configs = @(Get-ChildItem -LiteralPath $folder -Recurse -Filter '*.config' | Where-Object { -not $_.PSIsContainer })",
    "    foreach ($config in $configs) {",
    "        $hash = [BitConverter]::ToString($sha.ComputeHash([Text.Encoding]::UTF8.GetBytes($config.FullName.ToLowerInvariant())))",
    "        $template = Join-Path -Path $templates -ChildPath ($hash.Replace('-', '') + '.config')",
    "        if (-not (Test-Path -LiteralPath $template)) {",
    "            if (-not (Select-String -LiteralPath $config.FullName -Pattern '\\$\\{\\w+\\}' -Quiet)) { continue }",
    "            New-Item -ItemType Directory -Path $templates -Force | Out-Null",
    "            Copy-Item -LiteralPath $config.FullName -Destination $template",
    "        }",
    "        $xml = New-Object -TypeName System.Xml.XmlDocument",
    "        $xml.PreserveWhitespace = $true",
    "        $xml.Load($template)",
    "        $unset = New-Object -TypeName System.Collections.Generic.List[string]",
    f"        foreach ($attribute in @($xml.SelectNodes({ps_quote(UNFED_TOKENS_XPATH)}))) {{",
    "            $attribute.Value = [regex]::Replace($attribute.Value, '\\$\\{(\\w+)\\}', {",
    "                param($match)",
    "                $token = $match.Groups[1].Value",
    "                $value = [Environment]::GetEnvironmentVariable($token)",
    f"                $file = Join-Path -Path {ps_quote(SECRETS_DIR)} -ChildPath $token",
    "                if (-not $value -and (Test-Path -LiteralPath $file)) { $value = (Get-Content -LiteralPath $file -Raw).TrimEnd() }",
    "                if ($value) { return $value }",
    "                $unset.Add($token)",
    "                return $match.Value",
    "            })",
    "        }",
    "        $xml.Save($config.FullName)",
    "        foreach ($token in $unset) { Write-Output ('hyperdock: ' + $config.FullName + ': ' + $token + ' is not set') }",
    "    }",
    "}",
)


def _certificate(bindings: list[tuple[str, int, str]]) -> list[str]:
    """Import the PFX and bind it: `(Get-WebBinding ...).AddSslCertificate(thumbprint, 'my')` is the
    New-WebBinding reference's own Example 2 (learn.microsoft.com, module webadministration)."""
    lines = [
        f"$pfx = Join-Path -Path {ps_quote(TLS_DIR)} -ChildPath 'tls.pfx'",
        "# The PFX's password is a file beside it; the variables avoid the word, which secret scanners look for.",
        f"$unlockFile = Join-Path -Path {ps_quote(TLS_DIR)} -ChildPath 'password'",
        "if (Test-Path -LiteralPath $pfx) {",
        "    if (Test-Path -LiteralPath $unlockFile) {",
        "        $unlock = ConvertTo-SecureString -String (Get-Content -LiteralPath $unlockFile -Raw).TrimEnd() -AsPlainText -Force",
        "        $certificate = Import-PfxCertificate -FilePath $pfx -CertStoreLocation 'Cert:\\LocalMachine\\My' -Password $unlock",
        "    } else {",
        "        $certificate = Import-PfxCertificate -FilePath $pfx -CertStoreLocation 'Cert:\\LocalMachine\\My'",
        "    }",
        "    Import-Module WebAdministration",
    ]
    for site, port, host in bindings:
        host_argument = f" -HostHeader {ps_quote(host)}" if host else ""
        # A restarted container keeps its binding: a second AddSslCertificate fails, and that is fine.
        lines += [f"    try {{ (Get-WebBinding -Name {ps_quote(site)} -Protocol 'https' -Port {port}{host_argument})"
                  ".AddSslCertificate($certificate.Thumbprint, 'My') }",
                  "    catch { Write-Output ('hyperdock: certificate binding: ' + $_.Exception.Message) }"]
    lines += ["} else {",
              "    Write-Output 'hyperdock: no certificate at C:\\hyperdock\\tls\\tls.pfx: HTTPS bindings will not answer'",
              "}"]
    return lines


def _app_pools(container: Container, main_pool: str) -> list[str]:
    """ServiceMonitor fills `main_pool`; the site's other pools get the same variables here."""
    pools = sorted({a.application_pool or "" for s in container.iis_sites for a in s.applications}
                   | {s.pool for s in container.iis_sites})
    others = [p for p in pools if p and p != main_pool]
    plain = [p for p in others if _PLAIN_POOL.fullmatch(p)]
    lines = [f"# App pool(s) {', '.join(repr(p) for p in others if p not in plain)} have names that cannot go into an "
             "IIS filter: set their environmentVariables yourself."] if len(plain) < len(others) else []
    if plain:
        lines += [
            f"foreach ($pool in @({ps_list(plain)})) {{",
            "    foreach ($name in $values.Keys) {",
            "        $filter = \"system.applicationHost/applicationPools/add[@name='$pool']/environmentVariables\"",
            "        # Idempotent: a restarted container already has the variable.",
            "        Remove-WebConfigurationProperty -PSPath 'MACHINE/WEBROOT/APPHOST' -Filter $filter -Name '.' "
            "-AtElement @{ name = $name } -ErrorAction SilentlyContinue",
            "        Add-WebConfigurationProperty -PSPath 'MACHINE/WEBROOT/APPHOST' "
            "-Filter $filter "
            "-Name '.' -Value @{ name = $name; value = $values[$name] }",
            "    }",
            "}",
        ]
    return lines


def _services(services: list[str]) -> list[str]:
    """Each service gets the parameters as its Environment value, then starts (the first under ServiceMonitor)."""
    lines = [
        "$pairs = [string[]]@($values.Keys | ForEach-Object { $_ + '=' + $values[$_] })",
        f"foreach ($service in @({ps_list(services)})) {{",
        "    if ($pairs.Count -gt 0) {",
        "        New-ItemProperty -Path ('HKLM:\\SYSTEM\\CurrentControlSet\\Services\\' + $service) -Name 'Environment' "
        "-PropertyType MultiString -Value $pairs -Force | Out-Null",
        "    }",
        "}",
    ]
    if len(services) > 1:
        lines.append(f"foreach ($service in @({ps_list(services[1:])})) {{ Start-Service -Name $service }}")
    return lines
