#Requires -Modules ActiveDirectory
# gMSA for ordersvc01: the identity the container runs as, in place of the VM's domain accounts.
# Run once as a domain administrator on a domain-joined container host; then copy the
# credential spec to C:\ProgramData\docker\CredentialSpecs on every host of its pool.
param(
    # AD group of the container hosts allowed to retrieve the gMSA password.
    [string] $HostGroup = 'hyperdock-container-hosts'
)
$ErrorActionPreference = 'Stop'
# New-CredentialSpec comes from the CredentialSpec module on the PowerShell Gallery (Microsoft's gMSA docs).
if (-not (Get-Module -ListAvailable -Name CredentialSpec)) { Install-Module -Name CredentialSpec -Force }
$account = 'ordersvc-a607f8'
$domain = 'contoso.local'
# The VM used: 'CONTOSO\svc-orders'; grant the gMSA the same rights (SQL logins, shares, SPNs).
try {
    Get-ADServiceAccount -Identity $account | Out-Null
}
catch {
    New-ADServiceAccount -Name $account -DNSHostName ('{0}.{1}' -f $account, $domain) -PrincipalsAllowedToRetrieveManagedPassword $HostGroup
}
New-CredentialSpec -AccountName $account -Path (Join-Path -Path $PSScriptRoot -ChildPath 'ordersvc01_credspec.json')
