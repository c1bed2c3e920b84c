#Requires -Version 5.1
<#
.SYNOPSIS
    Writes a hyperdock/inventory@1 file describing the VMs of one or more Hyper-V hosts.

.DESCRIPTION
    Reads each host with Get-VMHost and its VMs with Get-VM, Get-VMNetworkAdapter,
    Get-VMHardDiskDrive and Get-VHD; the guest OS name, version and FQDN from the KVP exchange
    (Msvm_KvpExchangeComponent). With -GuestCredential it also reads each running guest, choosing
    the way in per guest: PowerShell Direct (New-PSSession -VMId) for Windows Server 2016 or later
    guests of this host, else WinRM (New-PSSession -ComputerName, the guest's FQDN or IP address)
    for older guests (2008 R2 with WMF 3.0 or later, 2012 R2) and for VMs of other hosts. The way
    taken is recorded as Guest.CollectedVia; why a guest was not read, as CollectionErrors.
    Run the script on every host, then give all the files to `hyperdock assess`.

    Read-only: it changes nothing on hosts or guests. It never collects secret values: connection
    strings are reported by name and provider only, app-pool and service identities by account
    name only.

.EXAMPLE
    $cred = Get-Credential CONTOSO\inventory-reader
    .\Get-HyperdockInventory.ps1 -GuestCredential $cred -OutFile "$env:COMPUTERNAME.json"
#>
[CmdletBinding()]
param(
    # Hyper-V hosts to read. Guests of other hosts are read over WinRM only.
    [string[]] $ComputerName = @($env:COMPUTERNAME),

    # Credential valid inside the guests (PowerShell Direct or WinRM). Without it only the KVP data is read.
    [System.Management.Automation.PSCredential] $GuestCredential,

    # Where to write the inventory (UTF-8, no BOM).
    [Parameter(Mandatory = $true)]
    [string] $OutFile,

    # Also copy each guest's application content (IIS sites and applications, service and task folders)
    # into this folder, as DIR\<vmId>\ with a manifest (hyperdock/extract@1), for `hyperdock package`.
    [string] $ExtractContent,

    # Files larger than this stay on the guest (listed as skipped in the manifest).
    [long] $ExtractMaxFileMB = 512,

    # A part stops taking files at this total; the rest are listed as skipped.
    [long] $ExtractMaxPartMB = 4096
)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
if ($ExtractContent) {
    if (-not $GuestCredential) { throw '-ExtractContent needs -GuestCredential (the content is read inside the guests)' }
    # Resolved against the current location, as PowerShell users expect of a relative path.
    $ExtractContent = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($ExtractContent)
}
# Resolved against the current location ($PWD), not the process directory .NET would use.
$OutFile = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($OutFile)
$ScriptVersion = '1.1'

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

# Runs inside the guest (PowerShell Direct or WinRM; Windows PowerShell 3.0 or later). Everything it
# returns is inventory, never a secret; it only reads.
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

    function Get-HyperdockThirdPartyDriver {
        # System drivers from other vendors: by the driver store's provider (Get-WindowsDriver -Online lists
        # the packages that did not ship with Windows; the AddService lines of their INF name the driver
        # services), else by the company in the driver file's version information. Not by the signer:
        # since Windows 10 1607 / Server 2016 new kernel drivers load only when Microsoft signed them
        # (Learn, kernel-mode code signing requirements). $null when the guest has no Get-WindowsDriver.
        if (-not (Get-Command -Name 'Get-WindowsDriver' -ErrorAction SilentlyContinue)) { return $null }
        $providers = @{}
        foreach ($package in @(Get-WindowsDriver -Online)) {
            $inf = [string] $package.OriginalFileName
            if (-not $package.ProviderName -or $package.ProviderName -match '^Microsoft' -or -not (Test-Path -LiteralPath $inf)) { continue }
            foreach ($line in @(Get-Content -LiteralPath $inf)) {
                if ($line -match '^\s*AddService\s*=\s*"?([^",;\s]+)') { $providers[$Matches[1].ToLowerInvariant()] = [string] $package.ProviderName }
            }
        }
        $found = @()
        foreach ($driver in @(Get-CimInstance -ClassName 'Win32_SystemDriver')) {
            $provider = $providers[([string] $driver.Name).ToLowerInvariant()]
            if (-not $provider) {
                $file = ([string] $driver.PathName) -replace '^\\\?\?\\', '' -replace '^\\SystemRoot\\', ($env:SystemRoot + '\') -replace '^System32\\', ($env:SystemRoot + '\System32\')
                if ($file -and (Test-Path -LiteralPath $file)) {
                    $company = [string] (Get-Item -LiteralPath $file).VersionInfo.CompanyName
                    if ($company -and $company -notmatch 'Microsoft') { $provider = $company }
                }
            }
            if ($provider) {
                $found += [ordered]@{ Name = $driver.Name; PathName = $driver.PathName; ServiceType = $driver.ServiceType; State = $driver.State; Provider = $provider }
            }
        }
        return , $found
    }

    function ConvertTo-HyperdockTrigger {
        # One task trigger as the inventory records it: Type (from the CIM class), StartBoundary as ISO
        # local time (the offset dropped), DaysInterval, WeeksInterval, DaysOfWeek, RepetitionInterval.
        # MSFT_TaskWeeklyTrigger.DaysOfWeek is a bit mask, Sunday = 1 (Task Scheduler's WeeklyTrigger).
        param($Trigger)
        $types = @{ MSFT_TaskDailyTrigger = 'Daily'; MSFT_TaskWeeklyTrigger = 'Weekly'; MSFT_TaskTimeTrigger = 'Once'
            MSFT_TaskBootTrigger = 'Boot'; MSFT_TaskLogonTrigger = 'Logon' }
        $class = [string] $Trigger.CimClass.CimClassName
        $type = if ($types.ContainsKey($class)) { $types[$class] } else { 'Other' }
        $entry = [ordered]@{ Type = $type; StartBoundary = $null }
        if ([string] $Trigger.StartBoundary -match '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?') { $entry['StartBoundary'] = $Matches[0] }
        if ($type -eq 'Daily') { $entry['DaysInterval'] = [int] $Trigger.DaysInterval }
        if ($type -eq 'Weekly') {
            $names = @('Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday')
            $entry['WeeksInterval'] = [int] $Trigger.WeeksInterval
            $days = @()
            for ($bit = 0; $bit -lt 7; $bit++) { if ([int] $Trigger.DaysOfWeek -band (1 -shl $bit)) { $days += $names[$bit] } }
            $entry['DaysOfWeek'] = $days
        }
        if ($Trigger.Repetition -and $Trigger.Repetition.Interval) { $entry['RepetitionInterval'] = [string] $Trigger.Repetition.Interval }
        return $entry
    }

    $drivers = Get-HyperdockThirdPartyDriver

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
    $modules = @()
    $configFiles = @()
    if (Get-Module -ListAvailable -Name 'WebAdministration') {
        Import-Module -Name 'WebAdministration'
        # Native modules (URL Rewrite, ARR, ...) must be installed in the image as they were on the VM.
        $modules = @(Get-WebGlobalModule | ForEach-Object { [ordered]@{ Name = $_.Name; Image = [Environment]::ExpandEnvironmentVariables($_.Image) } })
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

    # Sections a guest cannot read (no NetTCPIP or ScheduledTasks module before 2012) stay $null: unknown, not empty.
    $listeners = $null
    $connections = $null
    if (Get-Command -Name 'Get-NetTCPConnection' -ErrorAction SilentlyContinue) {
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
    }

    $tasks = $null
    if (Get-Command -Name 'Get-ScheduledTask' -ErrorAction SilentlyContinue) {
        $tasks = @(Get-ScheduledTask | Where-Object { $_.TaskPath -notlike '\Microsoft\*' } | ForEach-Object {
                [ordered]@{ TaskName = $_.TaskName; Execute = @($_.Actions)[0].Execute; RunAs = $_.Principal.UserId
                    Triggers = @(@($_.Triggers) | Where-Object { $_ } | ForEach-Object { ConvertTo-HyperdockTrigger -Trigger $_ }) }
            })
    }

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
        IISModules               = $modules
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
    $errors = @()
    if ($GuestCredential -and $VM.State -eq 'Running') {
        $target = Get-HyperdockGuestAddress -Kvp $kvp -Adapters $adapters
        foreach ($channel in @(Get-HyperdockGuestChannel -Kvp $kvp -IsLocal $IsLocal -Target $target)) {
            try {
                $guest = Read-HyperdockGuest -Channel $channel -VM $VM -Target $target
                break
            }
            catch {
                $errors += ('{0} to the guest failed: {1}' -f $channel, $_.Exception.Message)
                Write-Warning ('Guest of {0} not read over {1}: {2}' -f $VM.Name, $channel, $_.Exception.Message)
            }
        }
        if (-not $guest -and $errors.Count -eq 0) {
            $errors += 'no way into the guest: PowerShell Direct needs Windows Server 2016 or later on this host, WinRM a name or IP address'
        }
    }
    if (-not $guest -and $kvp.Count -gt 0) {
        $guest = [ordered]@{ OSName = $kvp['OSName']; OSVersion = $kvp['OSVersion']; FullyQualifiedDomainName = $kvp['FullyQualifiedDomainName']
            CollectedVia = 'KVP' }
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
    if ($errors.Count -gt 0) { $record['CollectionErrors'] = $errors }
    return $record
}

function Get-HyperdockGuestAddress {
    # Returns the name WinRM reaches the guest by: its FQDN from the KVP exchange (Kerberos needs a name),
    # else its first IPv4 address (which needs HTTPS or TrustedHosts on this host); $null when neither is known.
    param([hashtable] $Kvp, $Adapters)
    if ($Kvp['FullyQualifiedDomainName']) { return [string] $Kvp['FullyQualifiedDomainName'] }
    $ipv4 = @($Adapters | ForEach-Object { $_['IPAddresses'] } | Where-Object { $_ -match '^\d{1,3}(\.\d{1,3}){3}$' })
    if ($ipv4.Count -gt 0) { return [string] $ipv4[0] }
    return $null
}

function Get-HyperdockGuestChannel {
    # Returns the ways into one guest, in the order to try: 'PowerShellDirect' when the VM runs on this host,
    # the host runs Windows Server 2016 or later and the guest reports 10.0 or later (or nothing); then 'WinRM'
    # when the guest has a name or address. PowerShell Direct needs Windows 10 / Server 2016 in the guest and
    # on the host (Virtualization-Documentation, powershell-direct.md).
    param([hashtable] $Kvp, [bool] $IsLocal, [string] $Target)
    $channels = @()
    $version = [version] '0.0'
    $reported = [version]::TryParse([string] $Kvp['OSVersion'], [ref] $version)
    if ($IsLocal -and [Environment]::OSVersion.Version.Major -ge 10 -and (-not $reported -or $version.Major -ge 10)) {
        $channels += 'PowerShellDirect'
    }
    if ($Target) { $channels += 'WinRM' }
    return $channels
}

function Read-HyperdockGuest {
    # Runs the guest probe over one channel and returns the Guest section, with CollectedVia set.
    # Throws with the reason when the session fails or the guest's PowerShell is older than 3.0.
    param([string] $Channel, $VM, [string] $Target)
    if ($Channel -eq 'PowerShellDirect') {
        $session = New-PSSession -VMId $VM.VMId -Credential $GuestCredential
    }
    else {
        $session = New-PSSession -ComputerName $Target -Credential $GuestCredential
    }
    try {
        $major = Invoke-Command -Session $session -ScriptBlock { $PSVersionTable.PSVersion.Major }
        if ($major -lt 3) {
            throw ('Windows PowerShell {0}.0 in the guest; the probe needs 3.0 or later (WMF 5.1 on Windows Server 2008 R2 SP1)' -f $major)
        }
        $remote = Invoke-Command -Session $session -ScriptBlock $GuestProbe
    }
    finally {
        Remove-PSSession -Session $session
    }
    # Copy the keys: the deserialized result also carries remoting properties (PSComputerName, RunspaceId).
    $guest = [ordered]@{}
    foreach ($key in $remote.Keys) { $guest[$key] = $remote[$key] }
    $guest['CollectedVia'] = $Channel
    return $guest
}

# ---- Content extraction (-ExtractContent), format hyperdock/extract@1 ------------------------------
# Kept apart from the inventory functions above. On the guest it only lists, hashes and reads files;
# it writes only under -ExtractContent on this host: DIR\<vmId>\<folder>\... and DIR\<vmId>\manifest.json.

# Left on the guest: certificates with private keys, key files, logs, temporary files and dumps; and the
# logs/temp folders at the top of a part. `hyperdock package` applies the same lists (migrate/package/parts.py).
$ExtractExcludedExtensions = @('.pfx', '.p12', '.key', '.log', '.tmp', '.dmp')
$ExtractExcludedTopFolders = @('logs', 'log', 'temp', 'tmp')

# Runs inside the guest: lists one folder's files with size and SHA-256, without following links or
# junctions and without opening anything for writing.
$ExtractListing = {
    param([string] $Root, [long] $MaxFileBytes, [string[]] $ExcludedExtensions, [string[]] $ExcludedTopFolders)
    $ErrorActionPreference = 'Stop'
    $found = New-Object -TypeName 'System.Collections.ArrayList'
    if (-not (Test-Path -LiteralPath $Root -PathType Container)) { return }
    $sha = [System.Security.Cryptography.SHA256]::Create()
    $pending = New-Object -TypeName 'System.Collections.Stack'
    $pending.Push($Root)
    while ($pending.Count -gt 0) {
        $folder = $pending.Pop()
        try { $items = @(Get-ChildItem -LiteralPath $folder -Force) }
        catch {
            $relative = $folder.Substring($Root.Length).TrimStart('\') -replace '\\', '/'
            if (-not $relative) { $relative = '(root)' }
            [void] $found.Add(@{ Path = $relative; Size = 0; Sha256 = $null; Reason = 'folder not readable: ' + $_.Exception.Message })
            continue
        }
        foreach ($item in $items) {
            $relative = $item.FullName.Substring($Root.Length).TrimStart('\') -replace '\\', '/'
            $reason = $null
            $size = 0
            if ($item.Attributes -band [System.IO.FileAttributes]::ReparsePoint) {
                $reason = 'link, junction or reparse point'
            }
            elseif ($item.PSIsContainer) {
                if ($relative -notmatch '/' -and $ExcludedTopFolders -contains $item.Name.ToLowerInvariant()) {
                    $reason = 'logs or temporary folder'
                }
                else {
                    $pending.Push($item.FullName)
                    continue
                }
            }
            else {
                $size = [long] $item.Length
                if ($ExcludedExtensions -contains $item.Extension.ToLowerInvariant()) { $reason = ('{0} file' -f $item.Extension) }
                elseif ($size -gt $MaxFileBytes) { $reason = 'larger than -ExtractMaxFileMB' }
            }
            $hash = $null
            if (-not $reason) {
                try {
                    $stream = [System.IO.File]::Open($item.FullName, 'Open', 'Read', 'ReadWrite')
                    try { $hash = -join ($sha.ComputeHash($stream) | ForEach-Object { $_.ToString('x2') }) }
                    finally { $stream.Dispose() }
                }
                catch { $reason = 'not readable: ' + $_.Exception.Message }
            }
            [void] $found.Add(@{ Path = $relative; Size = $size; Sha256 = $hash; Reason = $reason })
        }
    }
    $found
}

function Test-HyperdockRelativePath {
    # True for a relative path (from the guest, so not trusted) that stays inside its folder here.
    param([string] $Path)
    if (-not $Path -or $Path -match '^/' -or $Path -match '[:\\]') { return $false }
    foreach ($segment in $Path -split '/') {
        if ($segment -in @('', '.', '..') -or $segment -ne $segment.TrimEnd(' ', '.')) { return $false }
    }
    return $true
}

function Get-HyperdockExecutableFolder {
    # Returns the folder of a command line's executable, quoted or not ('' when there is none).
    param([string] $CommandLine)
    if ($CommandLine -match '^\s*"([^"]+)"' -or $CommandLine -match '^\s*(\S+)') {
        $exe = $Matches[1]
        if ($exe.Contains('\')) { return $exe.Substring(0, $exe.LastIndexOf('\')) }
    }
    return ''
}

function Get-HyperdockContentPart {
    # Returns the guest folders an image is built from (IIS sites and applications, service and task
    # folders), each once: a folder inside another part comes with it. Paths under \Windows\ are not content.
    param($Guest)
    $candidates = @()
    foreach ($site in @($Guest['IISSites'])) {
        if (-not $site) { continue }
        $candidates += [pscustomobject]@{ Kind = 'site'; Source = [string] $site.PhysicalPath }
        foreach ($app in @($site.Applications)) {
            if ($app) { $candidates += [pscustomobject]@{ Kind = 'application'; Source = [string] $app.PhysicalPath } }
        }
    }
    foreach ($service in @($Guest['Services'])) {
        if ($service) { $candidates += [pscustomobject]@{ Kind = 'service'; Source = (Get-HyperdockExecutableFolder -CommandLine $service.PathName) } }
    }
    foreach ($task in @($Guest['ScheduledTasks'])) {
        if ($task) { $candidates += [pscustomobject]@{ Kind = 'task'; Source = (Get-HyperdockExecutableFolder -CommandLine $task.Execute) } }
    }
    $parts = @()
    $names = @{}
    foreach ($candidate in ($candidates | Sort-Object -Property { $_.Source.Length })) {
        $source = ($candidate.Source -replace '^%SystemDrive%', 'C:').TrimEnd('\')
        if ($source -notmatch '^[A-Za-z]:\\.' -or $source -match '^[A-Za-z]:\\Windows(\\|$)') { continue }
        $inside = $parts | Where-Object { $source -eq $_.Source -or $source.StartsWith($_.Source + '\', [System.StringComparison]::OrdinalIgnoreCase) }
        if ($inside) { continue }
        $name = ($source.Substring(3).ToLowerInvariant() -replace '[^a-z0-9]+', '-').Trim('-')
        if (-not $name) { $name = 'part' }
        $unique = $name
        $n = 2
        while ($names.ContainsKey($unique)) { $unique = '{0}-{1}' -f $name, $n; $n++ }
        $names[$unique] = $true
        $parts += [pscustomobject]@{ Kind = $candidate.Kind; Source = $source; Folder = $unique }
    }
    return $parts
}

function New-HyperdockExtractSession {
    # Opens a session into the guest the way its inventory was read (Guest.CollectedVia): PowerShell Direct,
    # or WinRM to the same name or address; $null, with a warning, when the guest was not read or it fails.
    param($Record)
    $channel = $Record['Guest']['CollectedVia']
    try {
        if ($channel -eq 'PowerShellDirect') { return New-PSSession -VMId $Record['VMId'] -Credential $GuestCredential }
        if ($channel -eq 'WinRM') {
            $target = Get-HyperdockGuestAddress -Kvp @{ FullyQualifiedDomainName = $Record['Guest']['FullyQualifiedDomainName'] } `
                -Adapters $Record['NetworkAdapters']
            if ($target) { return New-PSSession -ComputerName $target -Credential $GuestCredential }
        }
    }
    catch { Write-Warning ('{0} to {1} failed: {2}' -f $channel, $Record['Name'], $_.Exception.Message) }
    return $null
}

function Copy-HyperdockContentPart {
    # Copies one part's files from the guest into $Destination and returns its manifest entry. Resumable:
    # a file already here with the guest's SHA-256 is not copied again.
    param($Session, $Part, [string] $Destination, [string] $VMName)
    $arguments = @($Part.Source, ($ExtractMaxFileMB * 1048576), $ExtractExcludedExtensions, $ExtractExcludedTopFolders)
    $listing = @(Invoke-Command -Session $Session -ScriptBlock $ExtractListing -ArgumentList $arguments)
    $files = @()
    $skipped = @()
    $copied = [long] 0
    $done = 0
    foreach ($entry in $listing) {
        $done++
        if (-not (Test-HyperdockRelativePath -Path $entry.Path)) {
            Write-Warning ('{0}: unsafe path from the guest ignored: {1}' -f $VMName, $entry.Path)
            continue
        }
        if (-not $entry.Reason -and $copied + $entry.Size -gt $ExtractMaxPartMB * 1048576) { $entry.Reason = 'part larger than -ExtractMaxPartMB' }
        if ($entry.Reason) {
            $skipped += [ordered]@{ path = $entry.Path; size = [long] $entry.Size; reason = $entry.Reason }
            continue
        }
        Write-Progress -Id 2 -Activity ('hyperdock extract: {0}' -f $VMName) -Status $Part.Source -CurrentOperation $entry.Path `
            -PercentComplete ([int] (100 * $done / $listing.Count))
        $target = Join-Path -Path $Destination -ChildPath ($entry.Path -replace '/', '\')
        $present = (Test-Path -LiteralPath $target -PathType Leaf) -and (Get-FileHash -LiteralPath $target -Algorithm SHA256).Hash -eq $entry.Sha256
        if (-not $present) {
            New-Item -ItemType Directory -Force -Path (Split-Path -Path $target -Parent) | Out-Null
            # A string, not Join-Path: the guest's drive need not exist on this host.
            $guestPath = $Part.Source + '\' + ($entry.Path -replace '/', '\')
            Copy-Item -FromSession $Session -LiteralPath $guestPath -Destination $target -Force
        }
        $hash = (Get-FileHash -LiteralPath $target -Algorithm SHA256).Hash.ToLowerInvariant()
        if ($hash -ne $entry.Sha256) {
            Remove-Item -LiteralPath $target -Force
            $skipped += [ordered]@{ path = $entry.Path; size = [long] $entry.Size; reason = 'changed while it was copied: run again' }
            continue
        }
        $files += [ordered]@{ path = $entry.Path; size = [long] $entry.Size; sha256 = $hash }
        $copied += $entry.Size
    }
    Write-Progress -Id 2 -Activity ('hyperdock extract: {0}' -f $VMName) -Completed
    return [ordered]@{ source = $Part.Source; folder = $Part.Folder; kind = $Part.Kind; files = $files; skipped = $skipped }
}

function Export-HyperdockContent {
    # Copies the content parts of one VM's guest into $ExtractContent\<vmId>\ and writes its manifest
    # last (temporary file, then renamed), so a manifest always describes files that are complete.
    param($Record)
    $parts = @(Get-HyperdockContentPart -Guest $Record['Guest'])
    if ($parts.Count -eq 0) { return }
    $session = New-HyperdockExtractSession -Record $Record
    if (-not $session) { return }
    $root = Join-Path -Path $ExtractContent -ChildPath $Record['VMId']
    $entries = @()
    try {
        foreach ($part in $parts) {
            Write-Progress -Id 1 -Activity 'hyperdock extract' -Status ('{0}: {1}' -f $Record['Name'], $part.Source)
            $entries += Copy-HyperdockContentPart -Session $session -Part $part -Destination (Join-Path -Path $root -ChildPath $part.Folder) -VMName $Record['Name']
        }
    }
    finally {
        Remove-PSSession -Session $session
    }
    $manifest = [ordered]@{ schema = 'hyperdock/extract@1'; vmId = $Record['VMId']; parts = $entries }
    $json = ConvertTo-Json -InputObject $manifest -Depth 6
    $temporary = Join-Path -Path $root -ChildPath 'manifest.json.tmp'
    New-Item -ItemType Directory -Force -Path $root | Out-Null
    [System.IO.File]::WriteAllText($temporary, $json, (New-Object -TypeName 'System.Text.UTF8Encoding' -ArgumentList $false))
    Move-Item -LiteralPath $temporary -Destination (Join-Path -Path $root -ChildPath 'manifest.json') -Force
    Write-Host ('hyperdock: extracted {0} part(s) of {1} to {2}' -f $entries.Count, $Record['Name'], $root)
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
    if ($ExtractContent) {
        foreach ($record in $vms) {
            if (-not $record.Contains('Guest')) { continue }
            # A guest whose content cannot be copied keeps its inventory; run again to resume.
            try { Export-HyperdockContent -Record $record }
            catch { Write-Warning ('Content of {0} not extracted: {1}' -f $record['Name'], $_.Exception.Message) }
        }
    }
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
