"""gMSA wiring for workloads that used domain identities (Microsoft Learn "Create gMSAs for Windows containers").

Containers cannot join a domain; they run as a group managed service account through a credential
spec. hyperdock writes the credential spec with what the inventory knows (account, DNS and NetBIOS
domain; the domain's SID and GUID marked to fill), the script that creates the gMSA and rewrites
that file with `New-CredentialSpec`, and the names that compose and Kubernetes use.
"""

from __future__ import annotations

from ..contract.model import Container
from ..contract.names import credential_spec_file, gmsa_account
from ..core.powershell import ps_quote


def gmsa_script(label: str, container: Container) -> str:
    """Return PowerShell that creates the gMSA and writes its credential spec (run once per workload)."""
    account = gmsa_account(label)
    domain = container.domain or "example.local"
    identities = ", ".join(container.domain_identities) or "Windows authentication"
    return "\n".join([
        "#Requires -Modules ActiveDirectory",
        f"# gMSA for {label}: the identity the container runs as, in place of the VM's domain accounts.",
        "# Run once as a domain administrator on a domain-joined container host; then copy the",
        "# credential spec to C:\\ProgramData\\docker\\CredentialSpecs on every host of its pool.",
        "param(",
        "    # AD group of the container hosts allowed to retrieve the gMSA password.",
        "    [string] $HostGroup = 'hyperdock-container-hosts'",
        ")",
        "$ErrorActionPreference = 'Stop'",
        "# New-CredentialSpec comes from the CredentialSpec module on the PowerShell Gallery (Microsoft's gMSA docs).",
        "if (-not (Get-Module -ListAvailable -Name CredentialSpec)) { Install-Module -Name CredentialSpec -Force }",
        f"$account = {ps_quote(account)}",
        f"$domain = {ps_quote(domain)}",
        f"# The VM used: {ps_quote(identities)}; grant the gMSA the same rights (SQL logins, shares, SPNs).",
        "try {",
        "    Get-ADServiceAccount -Identity $account | Out-Null",
        "}",
        "catch {",
        "    New-ADServiceAccount -Name $account -DNSHostName ('{0}.{1}' -f $account, $domain) "
        "-PrincipalsAllowedToRetrieveManagedPassword $HostGroup",
        "}",
        f"New-CredentialSpec -AccountName $account -Path (Join-Path -Path $PSScriptRoot -ChildPath {ps_quote(credential_spec_file(label))})",
        "",
    ])
