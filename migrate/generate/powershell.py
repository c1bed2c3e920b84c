"""PowerShell that rebuilds a VM's IIS sites and services in an image, with every value quoted by
`migrate.core.powershell` (which says why its quoting cannot be injected)."""

from __future__ import annotations

import re

from ..contract.model import AppPool, Service, Site
from ..core.powershell import ps_list, ps_quote
from ..contract.layout import container_path
from ..core.documents import parse_binding
from ..core.windows import NON_HTTP_PROTOCOLS


def install_features(features: list[str]) -> str:
    return f"Install-WindowsFeature -Name {ps_list(features)}"


DEFAULT_SITE = "Default Web Site"
# HTTP covers https in enabledProtocols; the others are core.windows.NON_HTTP_PROTOCOLS.


def iis_prologue() -> list[str]:
    """Return the statements every IIS image runs first: the module, and no Default Web Site.

    The servercore/iis and dotnet/framework/aspnet images keep Default Web Site on `*:80:`, and
    binding tuples must be unique, so it would keep a migrated `*:80:` site from starting
    (microsoft/iis-docker and microsoft/dotnet-framework-docker Dockerfiles). A VM's own Default Web
    Site is recreated like any other site.
    """
    return ["Import-Module WebAdministration",
            f"if (Test-Path ('IIS:\\Sites\\' + {ps_quote(DEFAULT_SITE)})) {{ Remove-Website -Name {ps_quote(DEFAULT_SITE)} }}"]


def binding_arguments(binding: str) -> str | None:
    """Return New-WebBinding's arguments for an HTTP(S) binding "proto/ip:port:host", or None.

    New-WebBinding has -Protocol -Port -IPAddress -HostHeader -SslFlags and no -BindingInformation
    (MicrosoftDocs/windows-powershell-docs, WebAdministration/New-WebBinding.md, as trimmed into
    tests/data/powershell-reference.json). SslFlags 1 is SNI (IIS `binding@sslFlags`: Sni = 1, as
    IISAdministration's SslFlags enum names it), for HTTPS host names.
    """
    parsed = parse_binding(binding)
    if parsed is None:
        return None
    protocol, address, port, host = parsed
    arguments = f"-Protocol {ps_quote(protocol)} -Port {port} -IPAddress {ps_quote(address)}"
    if host:
        arguments += f" -HostHeader {ps_quote(host)}"
        if protocol == "https":
            arguments += " -SslFlags 1"
    return arguments


def non_http_protocols(site: Site) -> list[str]:
    """Return the site's non-HTTP binding protocols (net.tcp, ...), lower-case, in binding order."""
    return list(dict.fromkeys(b.partition("/")[0].lower() for b in site.bindings
                              if b.lower().startswith(NON_HTTP_PROTOCOLS)))


def iis_site_script(site: Site, pools: dict[str, AppPool], site_id: int) -> list[str]:
    """Return PowerShell statements that rebuild one IIS site, its app pool(s) and applications.

    `site_id` is passed to New-Website explicitly: with no site left, New-Website cannot pick one.
    """
    lines = []
    pool_names = [site.pool]
    pool_names += [a.application_pool for a in site.applications if a.application_pool]
    for name in dict.fromkeys(pool_names):
        pool = pools.get(name) or AppPool(name)
        quoted = ps_quote(name)
        lines.append(f"if (-not (Test-Path ('IIS:\\AppPools\\' + {quoted}))) {{ New-WebAppPool -Name {quoted} | Out-Null }}")
        runtime = pool.managed_runtime_version
        if runtime is not None:
            lines.append(f"Set-ItemProperty -Path ('IIS:\\AppPools\\' + {quoted}) -Name managedRuntimeVersion -Value {ps_quote(runtime)}")
        if pool.enable_32bit:
            lines.append(f"Set-ItemProperty -Path ('IIS:\\AppPools\\' + {quoted}) -Name enable32BitAppOnWin64 -Value $true")
        if pool.identity_type == "SpecificUser":
            # A domain account becomes the gMSA the container runs as: NetworkService speaks for it.
            lines.append(f"Set-ItemProperty -Path ('IIS:\\AppPools\\' + {quoted}) -Name processModel.identityType -Value 'NetworkService'")
    path = container_path(site.physical_path)
    name, quoted_path = ps_quote(site.name), ps_quote(path)
    lines.append(f"New-Item -ItemType Directory -Force -Path {quoted_path} | Out-Null")
    lines.append(f"New-Website -Name {name} -Id {site_id} -PhysicalPath {quoted_path} "
                 f"-ApplicationPool {ps_quote(pool_names[0])} -Force | Out-Null")
    lines.append(f"Get-WebBinding -Name {name} | Remove-WebBinding")
    for binding in site.bindings:
        arguments = binding_arguments(binding)
        if arguments is not None:
            lines.append(f"New-WebBinding -Name {name} {arguments}")
        elif binding.lower().startswith(NON_HTTP_PROTOCOLS):
            # New-WebBinding writes "ip:port:host", which is not a net.tcp binding ("808:*").
            protocol, _, information = binding.partition("/")
            lines.append(f"New-ItemProperty -Path ('IIS:\\Sites\\' + {name}) -Name bindings "
                         f"-Value @{{ protocol = {ps_quote(protocol.lower())}; bindingInformation = {ps_quote(information)} }} | Out-Null")
    protocols = non_http_protocols(site)
    if protocols:
        lines.append(f"Set-ItemProperty -Path ('IIS:\\Sites\\' + {name}) -Name applicationDefaults.enabledProtocols "
                     f"-Value {ps_quote(','.join(['http'] + protocols))}")
    for app in site.applications:
        app_path = container_path(app.physical_path) or path
        quoted_path = ps_quote(app_path)
        lines.append(f"New-Item -ItemType Directory -Force -Path {quoted_path} | Out-Null")
        lines.append(f"New-WebApplication -Site {name} -Name {ps_quote(app.path.strip('/'))} "
                     f"-PhysicalPath {quoted_path} -ApplicationPool {ps_quote(app.application_pool or pool_names[0])} -Force | Out-Null")
    if site.windows_authentication:
        lines.append("Set-WebConfigurationProperty -PSPath 'IIS:\\' -Location " + name
                     + " -Filter 'system.webServer/security/authentication/windowsAuthentication' -Name enabled -Value $true")
    return lines


def service_script(service: Service) -> list[str]:
    """Return PowerShell that registers a Windows service for start.ps1 to start.

    The service runs as LocalSystem in the image; a domain identity is supplied at run time by
    the gMSA credential spec, never as a password here.
    """
    binary = service.path_name or ""
    # Manual: start.ps1 gives the service its parameters, then starts it (an Automatic service
    # would start with the container, before its environment is set).
    return [f"New-Service -Name {ps_quote(service.name)} -BinaryPathName {ps_quote(container_binary(binary))} "
            f"-DisplayName {ps_quote(service.display_name or service.name)} -StartupType Manual | Out-Null"]


def container_binary(path_name: str) -> str:
    """Return a service command line with its executable's drive mapped into the container."""
    match = re.fullmatch(r'\s*"([^"]+)"(.*)', path_name, re.DOTALL) or re.fullmatch(r"\s*(\S+)(.*)", path_name, re.DOTALL)
    if not match:
        return path_name
    exe, rest = match.group(1), match.group(2)
    return f'"{container_path(exe)}"{rest}'
