#Requires -Version 5.1
<#
.SYNOPSIS
    Writes a hyperdock/inventory@1 file describing the VMs of one or more Hyper-V hosts.

.DESCRIPTION
    Reads each host with Get-VMHost and its VMs with Get-VM, Get-VMNetworkAdapter,
    Get-VMHardDiskDrive and Get-VHD; the guest OS name, version and FQDN from the KVP exchange
    (Msvm_KvpExchangeComponent). With -GuestCredential it also reads each running guest over
    PowerShell Direct (Invoke-Command -VMId), which only works on the host where the VM runs:
    run the script on every host, then give all the files to `hyperdock assess`.

    Read-only: it changes nothing on hosts or guests. It never collects secret values: connection
    strings are reported by name and provider only, app-pool and service identities by account
    name only.

.EXAMPLE
    $cred = Get-Credential CONTOSO\inventory-reader
    .\Get-HyperdockInventory.ps1 -GuestCredential $cred -OutFile "$env:COMPUTERNAME.json"
#>
[CmdletBinding()]
param(
    # Hyper-V hosts to read. Guest data is read only for VMs on the local host.
    [string[]] $ComputerName = @($env:COMPUTERNAME),

    # Credential valid inside the guests (PowerShell Direct). Without it the Guest section is left out.
    [System.Management.Automation.PSCredential] $GuestCredential,

    # Where to write the inventory (UTF-8, no BOM).
    [Parameter(Mandatory = $true)]
    [string] $OutFile
)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
$ScriptVersion = '1.0'

function Get-KvpIntrinsicItem {
    # Returns the guest's intrinsic KVP items (OSName, OSVersion, FullyQualifiedDomainName, ...) as a hashtable.
    param([string] $Server, [guid] $VMId)
    $items = @{}
    try {
        $system = Get-CimInstance -ComputerName $Server -Namespace 'root\virtualization\v2' `
            -ClassName 'Msvm_ComputerSystem' -Filter ('Name = ''{0}''' -f $VMId.Guid)
        $kvp = Get-CimAssociatedInstance -InputObject $system -ResultClassName 'Msvm_KvpExchangeComponent'
        foreach ($raw in @($kvp.GuestIntrinsicExchangeItems)) {
            $xml = [xml] $raw
            $name = ($xml.INSTANCE.PROPERTY | Where-Object { $_.NAME -eq 'Name' }).VALUE
            $data = ($xml.INSTANCE.PROPERTY | Where-Object { $_.NAME -eq 'Data' }).VALUE
            if ($name) { $items[$name] = $data }
        }
    }
    catch {
        Write-Warning ('KVP data unavailable for VM {0}: {1}' -f $VMId, $_.Exception.Message)
    }
    return $items
}

# Runs inside the guest over PowerShell Direct. Everything it returns is inventory, never a secret.
# `hyperdock discover azure --guest` runs the same body through Azure Run Command (between the markers).
$GuestProbe = {
    # >>> guest probe
    Set-StrictMode -Version 2.0
    $ErrorActionPreference = 'SilentlyContinue'
    $os = Get-CimInstance -ClassName 'Win32_OperatingSystem'
    $cs = Get-CimInstance -ClassName 'Win32_ComputerSystem'

    $features = @()
    if (Get-Command -Name 'Get-WindowsFeature' -ErrorAction SilentlyContinue) {
        $features = @(Get-WindowsFeature | Where-Object { $_.Installed } | ForEach-Object { $_.Name })
    }

    $services = @(Get-CimInstance -ClassName 'Win32_Service' |
        Where-Object { $_.StartMode -eq 'Auto' -or $_.PathName -notmatch '\\Windows\\' } |
        Select-Object -Property 'Name', 'DisplayName', 'StartMode', 'State', 'PathName', 'StartName')

    $drivers = @(Get-CimInstance -ClassName 'Win32_SystemDriver' | Where-Object {
            $path = $_.PathName -replace '^\\\?\?\\', ''
            $signature = Get-AuthenticodeSignature -FilePath $path
            -not $signature.SignerCertificate -or $signature.SignerCertificate.Subject -notmatch 'O=Microsoft Corporation'
        } | Select-Object -Property 'Name', 'PathName', 'ServiceType', 'State')

    $uninstallKeys = @(
        'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\*',
        'HKLM:\SOFTWARE\Wow6432Node\Microsoft\Windows\CurrentVersion\Uninstall\*'
    )
    $software = @(Get-ItemProperty -Path $uninstallKeys | Where-Object { $_.DisplayName } |
        Select-Object -Property 'DisplayName', 'DisplayVersion', 'Publisher' | Sort-Object -Property 'DisplayName' -Unique)

    $release = (Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full' -Name 'Release').Release
    $runtimes = @()
    if (Get-Command -Name 'dotnet' -ErrorAction SilentlyContinue) {
        $runtimes = @(& dotnet --list-runtimes | ForEach-Object { ($_ -split ' \[')[0] })
    }

    $sites = @()
    $pools = @()
    $configFiles = @()
    if (Get-Module -ListAvailable -Name 'WebAdministration') {
        Import-Module -Name 'WebAdministration'
        foreach ($site in @(Get-Website)) {
            $windowsAuth = Get-WebConfigurationProperty -PSPath 'IIS:\' -Location $site.Name `
                -Filter 'system.webServer/security/authentication/windowsAuthentication' -Name 'enabled'
            $sites += [ordered]@{
                Name                  = $site.Name
                Bindings              = @($site.Bindings.Collection | ForEach-Object { '{0}/{1}' -f $_.protocol, $_.bindingInformation })
                PhysicalPath          = [Environment]::ExpandEnvironmentVariables($site.PhysicalPath)
                ApplicationPool       = $site.ApplicationPool
                Applications          = @(Get-WebApplication -Site $site.Name | ForEach-Object {
                        [ordered]@{ Path = $_.Path; PhysicalPath = $_.PhysicalPath; ApplicationPool = $_.ApplicationPool }
                    })
                WindowsAuthentication = [bool] $windowsAuth.Value
            }
            $configFiles += Join-Path -Path ([Environment]::ExpandEnvironmentVariables($site.PhysicalPath)) -ChildPath 'web.config'
        }
        foreach ($pool in @(Get-ChildItem -Path 'IIS:\AppPools')) {
            # processModel.password is deliberately not read.
            $pools += [ordered]@{
                Name                  = $pool.Name
                ManagedRuntimeVersion = $pool.managedRuntimeVersion
                Enable32BitAppOnWin64 = [bool] $pool.enable32BitAppOnWin64
                IdentityType          = [string] $pool.processModel.identityType
                UserName              = $pool.processModel.userName
            }
        }
    }
    foreach ($service in $services) {
        $exe = ($service.PathName -replace '^"([^"]+)".*$', '$1') -replace '^(\S+\.exe).*$', '$1'
        if ($exe -and $exe -notmatch '\\Windows\\') { $configFiles += "$exe.config" }
    }

    $connectionStrings = @()
    foreach ($file in ($configFiles | Sort-Object -Unique)) {
        if (-not (Test-Path -LiteralPath $file)) { continue }
        $config = [xml] (Get-Content -LiteralPath $file -Raw)
        foreach ($entry in @($config.configuration.connectionStrings.add)) {
            if ($entry -and $entry.name) {
                # Names and providers only: the connectionString attribute holds credentials.
                $connectionStrings += [ordered]@{ File = $file; Name = $entry.name; Provider = $entry.providerName }
            }
        }
    }

    $listening = @(Get-NetTCPConnection -State 'Listen')
    $processNames = @{}
    foreach ($process in @(Get-Process)) { $processNames[[int] $process.Id] = $process.ProcessName }
    $listeners = @($listening | ForEach-Object {
            [ordered]@{ LocalAddress = $_.LocalAddress; LocalPort = [int] $_.LocalPort; OwningProcess = [int] $_.OwningProcess; ProcessName = $processNames[[int] $_.OwningProcess] }
        } | Sort-Object -Property { $_.LocalPort } -Unique)
    $listenPorts = @($listening | ForEach-Object { [int] $_.LocalPort })
    $connections = @(Get-NetTCPConnection -State 'Established' |
        Where-Object { $listenPorts -notcontains [int] $_.LocalPort -and $_.RemoteAddress -notmatch '^(127\.|::1$)' } |
        ForEach-Object { [ordered]@{ RemoteAddress = $_.RemoteAddress; RemotePort = [int] $_.RemotePort; ProcessName = $processNames[[int] $_.OwningProcess] } })

    $tasks = @(Get-ScheduledTask | Where-Object { $_.TaskPath -notlike '\Microsoft\*' } | ForEach-Object {
            [ordered]@{ TaskName = $_.TaskName; Execute = @($_.Actions)[0].Execute; RunAs = $_.Principal.UserId }
        })

    [ordered]@{
        OSName                   = $os.Caption
        OSVersion                = $os.Version
        FullyQualifiedDomainName = ('{0}.{1}' -f $cs.DNSHostName, $cs.Domain)
        PartOfDomain             = [bool] $cs.PartOfDomain
        Features                 = $features
        Services                 = $services
        Drivers                  = $drivers
        Software                 = $software
        DotNetFrameworkRelease   = $release
        DotNetRuntimes           = $runtimes
        IISSites                 = $sites
        AppPools                 = $pools
        Listeners                = $listeners
        Connections              = $connections
        ConnectionStrings        = $connectionStrings
        ScheduledTasks           = $tasks
    }
    # <<< guest probe
}

function Get-VMRecord {
    param([string] $Server, $VM, [bool] $IsLocal)
    $kvp = Get-KvpIntrinsicItem -Server $Server -VMId $VM.VMId
    $adapters = @(Get-VMNetworkAdapter -VM $VM | ForEach-Object {
            [ordered]@{
                Name        = $_.Name
                SwitchName  = $_.SwitchName
                MacAddress  = $_.MacAddress
                IPAddresses = @($_.IPAddresses)
                VlanId      = (Get-VMNetworkAdapterVlan -VMNetworkAdapter $_).AccessVlanId
            }
        })
    $disks = @(Get-VMHardDiskDrive -VM $VM | ForEach-Object {
            $vhd = Get-VHD -ComputerName $Server -Path $_.Path -ErrorAction SilentlyContinue
            [ordered]@{
                Path     = $_.Path
                VhdType  = if ($vhd) { [string] $vhd.VhdType } else { $null }
                Size     = if ($vhd) { [long] $vhd.Size } else { $null }
                FileSize = if ($vhd) { [long] $vhd.FileSize } else { $null }
            }
        })
    $guest = $null
    if ($GuestCredential -and $IsLocal -and $VM.State -eq 'Running') {
        try {
            $remote = Invoke-Command -VMId $VM.VMId -Credential $GuestCredential -ScriptBlock $GuestProbe
            # Copy the keys: the deserialized result also carries remoting properties (PSComputerName, RunspaceId).
            $guest = [ordered]@{}
            foreach ($key in $remote.Keys) { $guest[$key] = $remote[$key] }
        }
        catch {
            Write-Warning ('Guest of {0} not read: {1}' -f $VM.Name, $_.Exception.Message)
        }
    }
    if (-not $guest -and $kvp.Count -gt 0) {
        $guest = [ordered]@{ OSName = $kvp['OSName']; OSVersion = $kvp['OSVersion']; FullyQualifiedDomainName = $kvp['FullyQualifiedDomainName'] }
    }
    $record = [ordered]@{
        Name                 = $VM.Name
        VMId                 = $VM.VMId.Guid
        Generation           = $VM.Generation
        State                = $VM.State.ToString()
        ProcessorCount       = $VM.ProcessorCount
        MemoryStartup        = $VM.MemoryStartup
        DynamicMemoryEnabled = $VM.DynamicMemoryEnabled
        MemoryAssigned       = $VM.MemoryAssigned
        Notes                = $VM.Notes
        NetworkAdapters      = $adapters
        HardDrives           = $disks
    }
    if ($guest) { $record['Guest'] = $guest }
    return $record
}

$hosts = @()
foreach ($server in $ComputerName) {
    Write-Progress -Activity 'hyperdock inventory' -Status $server
    $vmHost = Get-VMHost -ComputerName $server
    $osVersion = (Get-CimInstance -ComputerName $server -ClassName 'Win32_OperatingSystem').Version
    $cluster = $null
    if (Get-Command -Name 'Get-Cluster' -ErrorAction SilentlyContinue) {
        $cluster = (Get-Cluster -Name $server -ErrorAction SilentlyContinue).Name
    }
    $isLocal = $server -eq $env:COMPUTERNAME -or $server -eq 'localhost'
    $vms = @(Get-VM -ComputerName $server | ForEach-Object { Get-VMRecord -Server $server -VM $_ -IsLocal $isLocal })
    $hosts += [ordered]@{
        ComputerName          = $vmHost.ComputerName
        OSVersion             = $osVersion
        LogicalProcessorCount = $vmHost.LogicalProcessorCount
        MemoryCapacity        = $vmHost.MemoryCapacity
        ClusterName           = $cluster
        vms                   = $vms
    }
}

$inventory = [ordered]@{
    schema      = 'hyperdock/inventory@1'
    collectedAt = (Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ')
    source      = 'Get-HyperdockInventory.ps1 {0}' -f $ScriptVersion
    hosts       = $hosts
}
# -Depth 8 keeps IIS applications (5 levels down) as objects rather than type names.
$json = ConvertTo-Json -InputObject $inventory -Depth 8
# Windows PowerShell 5.1's Out-File writes UTF-16; write UTF-8 without a BOM instead.
[System.IO.File]::WriteAllText($OutFile, $json, (New-Object -TypeName 'System.Text.UTF8Encoding' -ArgumentList $false))
Write-Host ('hyperdock: wrote {0} VMs on {1} hosts to {2}' -f ($hosts | ForEach-Object { $_.vms.Count } | Measure-Object -Sum).Sum, $hosts.Count, $OutFile)
