# hyperdock: let the app's .config read its connection strings from the environment (ConfigurationBuilders).
# Runs at build time, after the content is copied; see the content README.
$ErrorActionPreference = 'Stop'
$configs = @('C:\inetpub\intranet\web.config')
$assemblies = @('C:\inetpub\intranet\bin\Microsoft.Configuration.ConfigurationBuilders.Environment.dll')
# Wire the config: a parameter of the plan is read from it.
$wire = @($false)
$packages = @('C:\hyperdock\nuget\microsoft.configuration.configurationbuilders.base.3.0.0.nupkg', 'C:\hyperdock\nuget\microsoft.configuration.configurationbuilders.environment.3.0.0.nupkg')
Add-Type -AssemblyName System.IO.Compression.FileSystem
function Add-Builder([string] $folder) {
    # The builder's assemblies from the pinned packages, each only where the app does not ship it.
    New-Item -ItemType Directory -Force -Path $folder | Out-Null
    # The added .Environment binds to .Base by its exact strong-name version: an app's other .Base would fail at start.
    $base = Join-Path -Path $folder -ChildPath 'Microsoft.Configuration.ConfigurationBuilders.Base.dll'
    if ((Test-Path -LiteralPath $base) -and -not (Test-Path -LiteralPath (Join-Path -Path $folder -ChildPath 'Microsoft.Configuration.ConfigurationBuilders.Environment.dll'))) {
        $version = [System.Reflection.AssemblyName]::GetAssemblyName($base).Version.ToString()
        if ($version -ne '3.0.0.0') {
            throw ($base + ' is version ' + $version + ', not 3.0.0.0: ship Microsoft.Configuration.ConfigurationBuilders.Environment of the same version with the app')
        }
    }
    foreach ($package in $packages) {
        $zip = [System.IO.Compression.ZipFile]::OpenRead($package)
        try {
            foreach ($entry in $zip.Entries) {
                if ($entry.FullName -notlike 'lib/net471/*.dll') { continue }
                $target = Join-Path -Path $folder -ChildPath $entry.Name
                if (Test-Path -LiteralPath $target) { continue }
                [System.IO.Compression.ZipFileExtensions]::ExtractToFile($entry, $target)
                Write-Output ('hyperdock: added ' + $target)
            }
        } finally { $zip.Dispose() }
    }
}
for ($i = 0; $i -lt $configs.Count; $i++) {
    $config = $configs[$i]
    if (-not (Test-Path -LiteralPath $config)) {
        if ($wire[$i]) { Write-Output ('hyperdock: ' + $config + ' is not in the content: nothing to wire') }
        continue
    }
    $xml = New-Object -TypeName System.Xml.XmlDocument
    $xml.PreserveWhitespace = $true
    $xml.Load($config)
    $root = $xml.DocumentElement
    $ours = $root.SelectSingleNode("configBuilders/builders/add[@name='HyperdockEnvironment']")
    if ($null -eq $root.SelectSingleNode('configBuilders') -and -not $wire[$i]) { continue }
    if ($null -eq $root.SelectSingleNode('configBuilders') -or $null -ne $ours) {
        Add-Builder -folder (Split-Path -Parent $assemblies[$i])
    }
    if ($null -ne $root.SelectSingleNode('configBuilders')) {
        Write-Output ('hyperdock: ' + $config + ' already has configBuilders: left as it is')
        continue
    }
    $sections = $root.SelectSingleNode('configSections')
    if ($null -eq $sections) { $sections = $root.PrependChild($xml.CreateElement('configSections')) }
    $section = $sections.AppendChild($xml.CreateElement('section'))
    $section.SetAttribute('name', 'configBuilders')
    $section.SetAttribute('type', 'System.Configuration.ConfigurationBuildersSection, System.Configuration, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b03f5f7f11d50a3a')
    $section.SetAttribute('restartOnExternalChanges', 'false')
    $section.SetAttribute('requirePermission', 'false')
    $builders = $root.InsertAfter($xml.CreateElement('configBuilders'), $sections).AppendChild($xml.CreateElement('builders'))
    $builder = $builders.AppendChild($xml.CreateElement('add'))
    $builder.SetAttribute('name', 'HyperdockEnvironment')
    $builder.SetAttribute('mode', 'Strict')
    $builder.SetAttribute('type', 'Microsoft.Configuration.ConfigurationBuilders.EnvironmentConfigBuilder, Microsoft.Configuration.ConfigurationBuilders.Environment')
    $strings = $root.SelectSingleNode('connectionStrings')
    if ($null -eq $strings) { $strings = $root.AppendChild($xml.CreateElement('connectionStrings')) }
    $strings.SetAttribute('configBuilders', 'HyperdockEnvironment')
    $xml.Save($config)
    Write-Output ('hyperdock: ' + $config + ' reads its connection strings from the environment')
}
