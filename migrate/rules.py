"""The assessment rules: one function each, with an ID, severity, fit effect and remediation.

A rule returns None when it does not fire, or the message that explains this workload's case.
Rules marked `isolation=Isolation.HYPERV` also require Hyper-V isolation when they fire.

Each rule's source (written into plan.json and report.md) names the public source of its fact; the
bracketed keys are short names for these (Microsoft Learn pages under
learn.microsoft.com/virtualization/windowscontainers/, written in MicrosoftDocs/Virtualization-Documentation,
unless another site or a repository is named):
- S1 deploy-containers/version-compatibility ("Windows container version compatibility": title confirmed);
  S11 deploy-containers/portability; S15 microsoft/hcsshim `osversion/platform_compat_windows.go`
  (rules R1-R4: migrate/core/windows.py states them).
- S4 manage-containers/container-security; S7 about/faq (licensing: 2 Hyper-V isolated containers on
  Standard); S5 = MS-LS quick-start/lift-shift-to-containers (what does not containerize, the .NET ladder,
  services needing a foreground entry point, writable state on volumes).
- S12 deploy-containers/gpu-acceleration, hardware-devices-in-containers, print-spooler; S13
  manage-containers/manage-serviceaccounts and gmsa-run-container (gMSA).
- S19 microsoft/dotnet-framework-docker README.aspnet.md / README.runtime.md; S26 microsoft/mssql-docker
  #716, #718 (SQL Server images withdrawn), microsoft/Windows-Containers #91, #313 (no domain join);
  microsoft/Windows-Containers #26: Office not supported (Exchange, SharePoint, System Center: unverified).
- AWS-PS, A2C AppHasNoPorts: AWS App2Container's Windows analysis script and its findings (App2Container
  User Guide, docs.aws.amazon.com/app2container/latest/UserGuide/). AZ-AC: learn.microsoft.com/azure/migrate/
  tutorial-app-containerization-aspnet-kubernetes. AZ-WEB (the readiness classes Ready, Ready with
  conditions, Not ready, Unknown): learn.microsoft.com/azure/migrate/concepts-azure-webapps-assessment-calculation.
  ASMA: Azure/App-Service-Migration-Assistant wiki "Readiness Checks". GCP-RULES (A*L-NET-1, A*L-APP-2,
  A*L-APP-3): cloud.google.com/migrate/anthos/docs/fit-assessment-rules; GCP-WIN:
  cloud.google.com/migrate/containers/docs/windows/prepare-windows-cluster (Google Cloud Migrate to Containers).
- .NET 8/9 end of support 2026-11-10, .NET 10 LTS to 2028-11-14: ".NET and .NET Core Support Policy",
  dotnet.microsoft.com/platform/support/policy/dotnet-core, and dotnet/dotnet-docker.
- The collector's sections: this repository's README, "Collecting an inventory".
Confirmed by a search of the published pages: S1's address and title; S5/MS-LS's address (its title is now
'Using Windows Containers to "Containerize" Existing Applications', formerly "Lift and shift to containers");
ASMA's wiki page (github.com/Azure/App-Service-Migration-Assistant/wiki/Readiness-Checks: port bindings,
protocols, certificates, location tags). Unconfirmed: the other addresses follow the source files' paths in
their repositories (learn.microsoft.com serves those paths) and were not opened to check them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from .contract.model import Fit, Isolation
from .facts import CONTAINER_RUNTIME_SERVICES, WorkloadFacts
from .core.windows import (NETFX3_FEATURES, NON_HTTP_PROTOCOLS, OS_BUILDS, hyperv_isolation_possible, os_for_build,
                           process_isolation_possible)

BLOCKER, WARNING, INFO = "blocker", "warning", "info"
# Fit levels, worst first (Azure Migrate's readiness classes: Ready, Ready with conditions, Not ready, Unknown).
FIT_ORDER = (Fit.NOT_READY, Fit.UNKNOWN, Fit.READY_WITH_CONDITIONS, Fit.READY)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    severity: str
    fit: Fit
    title: str
    remediation: str
    source: str
    check: Callable[[WorkloadFacts], str | None]
    isolation: Isolation | None = None


RULES: list[Rule] = []


def rule(id: str, severity: str, title: str, remediation: str, source: str, isolation: Isolation | None = None,
         fit: Fit | None = None):
    """Register a check function as a rule; the fit effect follows from the severity unless given."""
    fit = fit or {BLOCKER: Fit.NOT_READY, WARNING: Fit.READY_WITH_CONDITIONS, INFO: Fit.READY}[severity]

    def register(check: Callable[[WorkloadFacts], str | None]) -> Callable[[WorkloadFacts], str | None]:
        RULES.append(Rule(id, severity, fit, title, remediation, source, check, isolation))
        return check

    return register


def _names(items) -> str:
    items = sorted(set(items), key=str.lower)
    shown = ", ".join(items[:6])
    return shown + (f" and {len(items) - 6} more" if len(items) > 6 else "")


# --- data ----------------------------------------------------------------------------------------

@rule("data.no-guest", WARNING, "Guest not inventoried",
      "Run Get-HyperdockInventory.ps1 with -GuestCredential (PowerShell Direct, or WinRM for older guests) so the guest is read.",
      "hyperdock README, Collecting an inventory (Get-HyperdockInventory.ps1)")
def no_guest(f: WorkloadFacts) -> str | None:
    if not f.has_guest:
        return "the guest could not be read, so its applications are unknown; it stays a VM until assessed"
    if f.guest_sections_empty:
        return "only the guest's OS is known (no features, services, software, sites or listeners); it stays a VM until assessed"
    return None


@rule("data.partial-guest", INFO, "Guest sections missing",
      "Re-run the collector with guest access; decisions on missing sections are less certain.",
      "hyperdock README, Collecting an inventory (Get-HyperdockInventory.ps1)")
def partial_guest(f: WorkloadFacts) -> str | None:
    # The sections "ready" depends on have rules of their own (data.unverified-guest, data.missing-evidence).
    missing = [s for s in f.missing_sections if s not in EVIDENCE]
    return f"guest sections missing: {', '.join(missing)}; confidence is lower" if missing else None


# The guest sections a "ready" decision rests on: what each rules out, and how the collector reads it.
EVIDENCE = {
    "Services": ("database engines, domain controllers and background services", "Win32_Service"),
    "Software": ("products without container support", "the Uninstall registry keys"),
    "Drivers": ("third-party kernel drivers", "Get-WindowsDriver -Online"),
    "Listeners": ("database listeners and the application's ports", "Get-NetTCPConnection -State Listen"),
}
_BLOCKER_EVIDENCE = ("Services", "Software", "Drivers")


def _missing_evidence(f: WorkloadFacts) -> list[str]:
    """Return the evidence sections the guest record lacks (absent, not empty); [] without a guest."""
    return [name for name in EVIDENCE if name in f.missing_sections]


def _collect(sections: list[str]) -> str:
    return "; collect " + ", ".join(f"{s} ({EVIDENCE[s][1]})" for s in sections)


@rule("data.unverified-guest", WARNING, "No evidence to rule blockers out",
      "Collect the guest with Get-HyperdockInventory.ps1 -GuestCredential (PowerShell Direct, or WinRM for "
      "older guests); an export that lists only the OS and web apps cannot show a workload is ready.",
      "Azure Migrate readiness classes: learn.microsoft.com/azure/migrate/concepts-azure-webapps-assessment-calculation (AZ-WEB)", fit=Fit.UNKNOWN)
def unverified_guest(f: WorkloadFacts) -> str | None:
    missing = _missing_evidence(f)
    if no_guest(f) or not all(s in missing for s in _BLOCKER_EVIDENCE):
        return None
    return (f"no {', '.join(_BLOCKER_EVIDENCE[:-1])} or {_BLOCKER_EVIDENCE[-1]} data: "
            f"{', '.join(EVIDENCE[s][0] for s in _BLOCKER_EVIDENCE)} cannot be ruled out{_collect(missing)}")


@rule("data.missing-evidence", WARNING, "Decided without some guest evidence",
      "Collect the missing sections (Get-HyperdockInventory.ps1 -GuestCredential) before the wave.",
      "Azure Migrate readiness classes: learn.microsoft.com/azure/migrate/concepts-azure-webapps-assessment-calculation (AZ-WEB)")
def missing_evidence(f: WorkloadFacts) -> str | None:
    missing = _missing_evidence(f)
    if not missing or no_guest(f) or all(s in missing for s in _BLOCKER_EVIDENCE):
        return None
    return f"not checked for {', '.join(EVIDENCE[s][0] for s in missing)}{_collect(missing)}"


@rule("data.collection-error", INFO, "Collection failed in part",
      "Fix the cause named (permissions, VM agent, VM off) and collect again.",
      "hyperdock README, Collecting an inventory (Get-HyperdockInventory.ps1)")
def collection_error(f: WorkloadFacts) -> str | None:
    return "; ".join(f.collection_errors) if f.collection_errors else None


# --- blockers: stays a VM -------------------------------------------------------------------------

@rule("block.non-windows-guest", BLOCKER, "Not a Windows guest",
      "Keep it a VM, or assess it with a Linux container tool; hyperdock plans Windows containers.",
      "learn.microsoft.com/virtualization/windowscontainers/quick-start/lift-shift-to-containers (S5)")
def non_windows(f: WorkloadFacts) -> str | None:
    if f.os_name and "windows" not in f.os_name.lower():
        return f"guest OS is {f.os_name!r}, not Windows"
    return None


@rule("block.domain-controller", BLOCKER, "Active Directory domain controller",
      "Keep domain controllers as VMs; containers cannot be domain controllers or domain-joined.",
      "learn.microsoft.com/virtualization/windowscontainers/quick-start/lift-shift-to-containers (S5); microsoft/Windows-Containers #91, #313 (S26)")
def domain_controller(f: WorkloadFacts) -> str | None:
    if f.has_feature("AD-Domain-Services") or "ntds" in f.service_names:
        return "AD DS runs here (feature AD-Domain-Services or service NTDS)"
    return None


_INFRA_FEATURES = {
    "DHCP": "DHCP Server", "DNS": "DNS Server (a gray area that may work but is not intended)",
    "UpdateServices": "WSUS", "AD-Certificate": "AD Certificate Services", "NPAS": "Network Policy Server",
    "Hyper-V": "Hyper-V", "Failover-Clustering": "Failover Clustering", "ADFS-Federation": "AD FS",
    "WDS": "Windows Deployment Services",
}


@rule("block.infrastructure-role", BLOCKER, "Infrastructure role",
      "Keep infrastructure roles on VMs; the roles are removed from container base images.",
      "learn.microsoft.com/virtualization/windowscontainers/quick-start/lift-shift-to-containers (S5); WSUS, clustering, Hyper-V unverified")
def infrastructure_role(f: WorkloadFacts) -> str | None:
    found = [label for feature, label in _INFRA_FEATURES.items() if f.has_feature(feature)]
    return f"infrastructure roles installed: {', '.join(found)}" if found else None


@rule("block.file-server", BLOCKER, "File server",
      "Move shares to a file service (SMB share, Azure Files) and keep or retire the VM.",
      "learn.microsoft.com/virtualization/windowscontainers/quick-start/lift-shift-to-containers (S5)")
def file_server(f: WorkloadFacts) -> str | None:
    if not f.has_feature("FS-FileServer"):
        return None
    if f.has_feature("FS-DFS-Namespace", "FS-DFS-Replication", "FS-Resource-Manager"):
        return "File Server role with DFS or FSRM"
    if not f.has_iis_sites and not f.app_services:
        return "File Server role and no application besides it"
    return None


_DATABASES = re.compile(r"mssqlserver|mssql\$.+|mysql\d*|postgresql.*|mongodb|oracleservice.+|redis|cassandra|elasticsearch.*")
_DB_PROCESSES = {"sqlservr", "mysqld", "postgres", "mongod", "oracle", "redis-server", "elasticsearch"}


@rule("block.database-engine", BLOCKER, "Database engine in the guest",
      "Keep the database on a VM or move it to a managed database; containerize the application tier.",
      "microsoft/mssql-docker #716, #718 (S26: SQL Server not supported in Windows containers); cloud.google.com/migrate/anthos/docs/fit-assessment-rules, rule A*L-APP-2 (GCP-RULES)")
def database_engine(f: WorkloadFacts) -> str | None:
    services = sorted(n for n in f.service_names if _DATABASES.fullmatch(n))
    processes = sorted(f.listener_processes & _DB_PROCESSES)
    if services or processes:
        return f"database engine found: {_names(services + processes)}"
    return None


@rule("block.remote-desktop", BLOCKER, "Remote Desktop Services or desktop use",
      "Keep RDS hosts as VMs (or move to a VDI service); containers have no interactive desktop.",
      "learn.microsoft.com/virtualization/windowscontainers/quick-start/lift-shift-to-containers (S5)")
def remote_desktop(f: WorkloadFacts) -> str | None:
    rds = sorted(name for name in f.features if name.startswith("rds-") or name == "remote-desktop-services")
    return f"Remote Desktop Services installed ({_names(rds)})" if rds else None


@rule("block.kernel-driver", BLOCKER, "Third-party kernel driver",
      "Find a user-mode alternative or keep it a VM; drivers cannot be installed in containers.",
      "learn.microsoft.com/virtualization/windowscontainers/deploy-containers/hardware-devices-in-containers (S12)")
def kernel_driver(f: WorkloadFacts) -> str | None:
    return f"non-Microsoft kernel drivers: {_names(f.kernel_drivers)}" if f.kernel_drivers else None


@rule("block.dotnet-1x", BLOCKER, ".NET Framework 1.x",
      "Port the application to .NET Framework 4.8 or later before containerizing it.",
      "learn.microsoft.com/virtualization/windowscontainers/quick-start/lift-shift-to-containers (S5: .NET Framework < 2.0 unsupported)")
def dotnet_1x(f: WorkloadFacts) -> str | None:
    pools = [name for name, runtime in f.app_pools if runtime.startswith("v1.")]
    return f"app pools on .NET Framework 1.x: {_names(pools)}" if pools else None


_PRODUCTS = re.compile(r"microsoft exchange|sharepoint server|microsoft office|configuration manager|system center")


@rule("block.unsupported-product", BLOCKER, "Product without container support",
      "Keep the VM; Microsoft states no container support for this product.",
      "microsoft/Windows-Containers #26 (Office not supported); Exchange, SharePoint, System Center unverified")
def unsupported_product(f: WorkloadFacts) -> str | None:
    found = sorted({name for name in f.software if _PRODUCTS.search(name)})
    return f"installed: {_names(found)}" if found else None


# Services of the Azure Migrate discovery appliance (MicrosoftDocs/azure-docs, articles/migrate:
# "Microsoft Azure Gateway Service (asrgwy)", "Microsoft Azure Hyper-V Discovery Service (amhvdiscoverysvc)").
_MIGRATE_APPLIANCE_SERVICES = {"asrgwy": "Microsoft Azure Gateway Service", "amhvdiscoverysvc": "Microsoft Azure Hyper-V Discovery Service"}


@rule("block.migration-appliance", BLOCKER, "Azure Migrate appliance",
      "Keep it a VM while the migration runs and retire it afterwards; it is migration tooling, not a workload.",
      "MicrosoftDocs/azure-docs articles/migrate (appliance services asrgwy, amhvdiscoverysvc)")
def migration_appliance(f: WorkloadFacts) -> str | None:
    found = sorted(label for name, label in _MIGRATE_APPLIANCE_SERVICES.items() if name in f.service_names)
    return f"the Azure Migrate appliance runs here ({', '.join(found)})" if found else None


@rule("block.image-newer-than-host", BLOCKER, "Image OS newer than the hosts",
      "Plan hosts of at least the pinned OS (--host-os), or re-certify the application on an older image.",
      "Windows container version compatibility, learn.microsoft.com/virtualization/windowscontainers/deploy-containers/version-compatibility (S1); learn.microsoft.com/virtualization/windowscontainers/deploy-containers/portability (S11); rule R3 in migrate/core/windows.py")
def image_newer_than_host(f: WorkloadFacts) -> str | None:
    if not hyperv_isolation_possible(f.estate.host_build, OS_BUILDS[f.image_os]):
        return f"osPin {f.image_os} is newer than host OS {f.estate.host_os}: it cannot run in either isolation mode"
    return None


_PRINT_ROLE = ("Print-Services", "Print-Server", "Print-Scan-Server", "Print-LPD-Service", "Print-Internet")


@rule("block.print-server-role", BLOCKER, "Print Server role",
      "Keep the print server a VM (or move to a print service); apps that only print can use a windows/server image.",
      "learn.microsoft.com/virtualization/windowscontainers/deploy-containers/print-spooler (S12)")
def print_server_role(f: WorkloadFacts) -> str | None:
    # Microsoft supports apps that *use* printing in containers, not the role or driver installs.
    found = [name for name in _PRINT_ROLE if f.has_feature(name)]
    return f"Print Server role installed ({', '.join(found)}): not supported in containers" if found else None


# --- conditions: ready once addressed --------------------------------------------------------------

@rule("cond.legacy-guest-os", WARNING, "Guest OS older than any container image",
      "Test the application on the target image before the wave; Windows Server < 2016 is not a container OS.",
      "learn.microsoft.com/virtualization/windowscontainers/quick-start/lift-shift-to-containers (S5)")
def legacy_guest_os(f: WorkloadFacts) -> str | None:
    name = f.os_name
    if f.guest_build is not None and f.guest_build < OS_BUILDS["ltsc2016"]:
        return f"guest runs {name or f'build {f.guest_build}'}; the application moves to a {f.image_os} image"
    if f.guest_build is None and re.search(r"Server (2003|2008|2012)", name):
        return f"guest runs {name}; the application moves to a {f.image_os} image"
    return None


@rule("cond.writable-state", WARNING, "Writable state on the VM",
      "Mount the data paths as volumes (or move them to a file or blob service).",
      "learn.microsoft.com/virtualization/windowscontainers/quick-start/lift-shift-to-containers (MS-LS)")
def writable_state(f: WorkloadFacts) -> str | None:
    reasons = []
    if f.disk_count > 1:
        reasons.append(f"{f.disk_count} virtual disks")
    if f.data_drives:  # the same fact gives the container its data volumes (plan.py dataDrives)
        reasons.append(f"application paths on drive {', '.join(d + ':' for d in f.data_drives)}")
    return "; ".join(reasons) if reasons else None


@rule("cond.connection-strings", WARNING, "Connection strings in config files",
      "Pass them as runtime parameters (secrets); hyperdock never copies their values.",
      "AWS App2Container Windows analysis (AWS-PS); learn.microsoft.com/azure/migrate/tutorial-app-containerization-aspnet-kubernetes (AZ-AC)")
def connection_strings(f: WorkloadFacts) -> str | None:
    return f"connection strings become secrets: {_names(f.connection_strings)}" if f.connection_strings else None


@rule("cond.inline-secret", WARNING, "Secret value in a command line, path or note",
      "The value was removed from every output: supply the runtime parameter the finding names as a secret "
      "(compose secret, Kubernetes Secret, Pulumi secret), and rotate it: the inventory exposed it.",
      "AWS App2Container Windows analysis (AWS-PS); learn.microsoft.com/azure/migrate/tutorial-app-containerization-aspnet-kubernetes (AZ-AC)")
def inline_secret(f: WorkloadFacts) -> str | None:
    removed = f.removed_secrets
    if not removed:
        return None
    shown = [f"{r.where} (parameter {r.parameter})" if r.parameter else r.where for r in removed]
    return f"secret-looking values removed from: {_names(shown)}"


@rule("cond.domain-identity", WARNING, "Domain identity (needs gMSA)",
      "Create a gMSA and a credential spec; containers cannot join a domain.",
      "learn.microsoft.com/virtualization/windowscontainers/manage-containers/manage-serviceaccounts (S13); cloud.google.com/migrate/containers/docs/windows/prepare-windows-cluster (GCP-WIN)")
def domain_identity(f: WorkloadFacts) -> str | None:
    # The same facts make the container's domainIdentities and gmsa (plan.py).
    reasons = [f"site {name} uses Windows authentication" for name in f.windows_auth_sites]
    reasons += [f"{kind} {name} runs as {account}" for kind, name, account in f.domain_accounts]
    return "; ".join(reasons[:4]) + (f" (+{len(reasons) - 4} more)" if len(reasons) > 4 else "") if reasons else None


@rule("cond.non-http-binding", WARNING, "Non-HTTP IIS bindings",
      "Expose the extra ports and install WAS activation in the image; net.pipe does not cross containers.",
      "Azure/App-Service-Migration-Assistant wiki, Readiness Checks (ASMA)")
def non_http_binding(f: WorkloadFacts) -> str | None:
    found = sorted({b.split("/", 1)[0] for b in f.bindings if b.lower().startswith(NON_HTTP_PROTOCOLS)})
    return f"bindings: {', '.join(found)}" if found else None


@rule("cond.https-certificate", WARNING, "HTTPS bindings need a certificate",
      "Supply the PFX and its password at run time (Secret <name>-tls, or secrets/<name>/tls/ for compose): "
      "start.ps1 imports and binds it; no certificate is in the image.",
      "Azure/App-Service-Migration-Assistant wiki, Readiness Checks (ASMA)")
def https_certificate(f: WorkloadFacts) -> str | None:
    https = [b for b in f.bindings if b.lower().startswith("https/")]
    return f"{len(https)} HTTPS binding(s)" if https else None


@rule("cond.no-listener", WARNING, "No application port found",
      "Confirm how clients reach it; a container without a port suits batch work only.",
      "AWS App2Container Windows analysis, finding AppHasNoPorts (AWS-PS)")
def no_listener(f: WorkloadFacts) -> str | None:
    if not f.has_guest or "Listeners" in f.missing_sections:
        return None
    # The container's ports: a site reached only over net.pipe (no port) has none (cond.non-http-binding).
    return None if f.ports else "no listening port besides Windows' own"


@rule("cond.specific-ip-listener", WARNING, "Listener bound to one IP",
      "Rebind to all addresses; a container has one network interface.",
      "cloud.google.com/migrate/anthos/docs/fit-assessment-rules, rule A*L-NET-1 (GCP-RULES)")
def specific_ip_listener(f: WorkloadFacts) -> str | None:
    return f"listening on {_names(f.bound_listeners)}" if f.bound_listeners else None


@rule("cond.background-service", WARNING, "Windows services need a foreground entry point",
      "Start the service under ServiceMonitor or LogMonitor as the container's entry point.",
      "learn.microsoft.com/virtualization/windowscontainers/quick-start/lift-shift-to-containers (S5, MS-LS: a foreground entry point such as ServiceMonitor)")
def background_service(f: WorkloadFacts) -> str | None:
    services = [name for name, start_mode in f.app_services if start_mode == "Auto" and not _DATABASES.fullmatch(name.lower())]
    return f"services: {_names(services)}" if services else None


@rule("cond.scheduled-task", WARNING, "Scheduled tasks",
      "A VM of scheduled tasks becomes Kubernetes CronJobs from the task triggers (run once in compose); "
      "set spec.timeZone to the VM's zone.",
      "learn.microsoft.com/virtualization/windowscontainers/quick-start/lift-shift-to-containers (MS-LS: a foreground entry point such as ServiceMonitor)")
def scheduled_task(f: WorkloadFacts) -> str | None:
    return f"tasks: {_names(f.scheduled_tasks)}" if f.scheduled_tasks else None


@rule("cond.legacy-dotnet", WARNING, ".NET Framework 2.x/3.x",
      "The image adds .NET 3.5 (NetFx3) to the supported 4.8.x image (the 3.5 images are retired): test the app on it.",
      "learn.microsoft.com/virtualization/windowscontainers/quick-start/lift-shift-to-containers (S5); microsoft/dotnet-framework-docker README.aspnet.md, README.runtime.md (S19)")
def legacy_dotnet(f: WorkloadFacts) -> str | None:
    pools = [name for name, runtime in f.app_pools if runtime.startswith("v2.")]
    if f.has_feature("NET-Framework-Core", "NET-Framework-Features"):
        pools.append("feature NET-Framework-Core (3.5)")
    elif not f.features.isdisjoint(NETFX3_FEATURES):  # ASP.NET 3.5 alone: the image gets NetFx3 all the same
        pools.append("feature Web-Asp-Net or Web-Net-Ext (ASP.NET 3.5)")
    return f".NET 2.0/3.5: {_names(pools)}" if pools else None


@rule("cond.msmq", WARNING, "MSMQ",
      "Only private or public queues without AD authentication are supported; use WS2019 or later images.",
      "learn.microsoft.com/virtualization/windowscontainers/quick-start/lift-shift-to-containers (S5)")
def msmq(f: WorkloadFacts) -> str | None:
    return "MSMQ is installed" if f.has_feature("MSMQ", "MSMQ-Server", "MSMQ-Services") else None


@rule("cond.msmq-gmsa", WARNING, "MSMQ together with a domain identity (gMSA)",
      "Use only private queues without AD authentication in the container, or keep the workload a VM: "
      "MSMQ does not work with gMSA.",
      "learn.microsoft.com/virtualization/windowscontainers/quick-start/lift-shift-to-containers (MS-LS)")
def msmq_gmsa(f: WorkloadFacts) -> str | None:
    if msmq(f) is None:
        return None
    identity = domain_identity(f)
    return f"MSMQ is installed and the workload needs gMSA ({identity}); integration of gMSAs with MSMQ is not supported" \
        if identity else None


@rule("cond.printing", WARNING, "Printing",
      "Use the windows/server image; printer drivers cannot be installed in a container.",
      "learn.microsoft.com/virtualization/windowscontainers/deploy-containers/print-spooler (S12)", isolation=Isolation.HYPERV)
def printing(f: WorkloadFacts) -> str | None:
    if f.has_feature("Print-Services", "Print-Server"):
        return "Print Server role installed; Hyper-V isolation avoids sharing the host's spooler"
    return None


@rule("cond.container-runtime-in-vm", WARNING, "Container runtime inside the VM",
      "Move the containers it runs onto the container hosts instead; nesting runtimes is unsupported.",
      "cloud.google.com/migrate/anthos/docs/fit-assessment-rules, rule A*L-APP-3 (GCP-RULES)")
def container_runtime(f: WorkloadFacts) -> str | None:
    found = sorted(n for n in f.service_names if n in CONTAINER_RUNTIME_SERVICES)
    return f"runtime services: {', '.join(found)}" if found else None


# IIS's own native modules live in %windir%\System32\inetsrv (applicationHost.config's globalModules);
# the ASP.NET ones in %windir%\Microsoft.NET. URL Rewrite installs rewrite.dll into inetsrv too, so it
# is known by name; ARR, the ASP.NET Core Module V2 and third-party modules live elsewhere
# (%ProgramFiles%\IIS\...). AspNetCoreModule (v1) in inetsrv is from memory, not a checked source [U].
_IIS_OWN_IMAGES = re.compile(r"^(%windir%|%systemroot%|[a-z]:\\windows)\\(system32\\inetsrv|microsoft\.net)\\", re.IGNORECASE)
_OUT_OF_BAND_MODULES = {"rewritemodule": "URL Rewrite", "aspnetcoremodule": "ASP.NET Core Module"}


@rule("cond.iis-native-module", WARNING, "IIS modules that Windows does not ship",
      "Install the same module versions in the image (their MSI in the Dockerfile), or remove the dependency.",
      "Azure/App-Service-Migration-Assistant wiki, Readiness Checks (ASMA); IIS applicationHost.config globalModules")
def iis_native_module(f: WorkloadFacts) -> str | None:
    found = [_OUT_OF_BAND_MODULES.get(name.lower(), name) for name, image in f.iis_modules
             if name.lower() in _OUT_OF_BAND_MODULES or (image and not _IIS_OWN_IMAGES.match(image.strip().strip('"')))]
    return f"native modules to install in the image: {_names(found)}" if found else None


# .NET 8 and 9 support ends 2026-11-10; .NET 10 (LTS) is supported to 2028-11-14 (dotnet support policy).
_DOTNET_END_OF_SUPPORT = {8: "2026-11-10", 9: "2026-11-10"}


@rule("cond.dotnet-end-of-support", WARNING, ".NET 8/9 out of support",
      "Retarget the application to .NET 10 (LTS, supported to 2028-11-14) and use the 10.0 image.",
      ".NET support policy, dotnet.microsoft.com/platform/support/policy/dotnet-core")
def dotnet_end_of_support(f: WorkloadFacts) -> str | None:
    majors = f.dotnet_majors
    if not majors or majors[-1] not in _DOTNET_END_OF_SUPPORT:
        return None  # the newest runtime present is what the image is built on (decide._base_image)
    return f".NET {majors[-1]} support ended {_DOTNET_END_OF_SUPPORT[majors[-1]]}; no more security fixes"


# --- isolation ---------------------------------------------------------------------------------------

@rule("iso.untrusted", INFO, "Untrusted code", "None: Hyper-V isolation is the security boundary.",
      "learn.microsoft.com/virtualization/windowscontainers/manage-containers/container-security (S4); learn.microsoft.com/virtualization/windowscontainers/about/faq (S7)", isolation=Isolation.HYPERV)
def untrusted(f: WorkloadFacts) -> str | None:
    return "tagged trust=untrusted: runs in its own utility VM" if f.trust == "untrusted" else None


@rule("iso.shared-tenancy", INFO, "Tenants or trust zones may share a host",
      "None; or run with --tenancy dedicated if every tenant and zone gets hosts of its own.",
      "learn.microsoft.com/virtualization/windowscontainers/manage-containers/container-security (S4)", isolation=Isolation.HYPERV)
def shared_tenancy(f: WorkloadFacts) -> str | None:
    e = f.estate
    if e.tenancy == "shared" and (len(e.tenants) > 1 or len(e.zones) > 1):
        return f"{len(e.tenants)} tenants and {len(e.zones)} zones may share hosts; the kernel is no boundary"
    return None


@rule("iso.internet-facing-multitenant", INFO, "Internet-facing in a multi-tenant estate",
      "None: Hyper-V isolation contains a compromise to one utility VM.",
      "learn.microsoft.com/virtualization/windowscontainers/manage-containers/container-security (S4); learn.microsoft.com/virtualization/windowscontainers/about/faq (S7)", isolation=Isolation.HYPERV)
def internet_facing(f: WorkloadFacts) -> str | None:
    exposed = f.exposure == "internet" or (f.zone == "dmz" and f.exposure != "internal")
    if exposed and f.estate.multi_tenant:
        return f"internet-facing ({'exposure=internet' if f.exposure == 'internet' else 'zone=dmz'}) among {len(f.estate.tenants)} tenants"
    return None


@rule("iso.image-older-than-host", INFO, "Image older than the host",
      "None; or re-certify the application on the host's OS to allow process isolation.",
      "Windows container version compatibility, learn.microsoft.com/virtualization/windowscontainers/deploy-containers/version-compatibility (S1); microsoft/hcsshim osversion/platform_compat_windows.go (S15); rules R1, R3, R4 in migrate/core/windows.py", isolation=Isolation.HYPERV)
def image_older(f: WorkloadFacts) -> str | None:
    host, image = f.estate.host_build, OS_BUILDS[f.image_os]
    if image < host and not process_isolation_possible(host, image):
        return f"osPin {f.image_os} ({image}) cannot run process-isolated on {os_for_build(host)} ({host})"
    return None
