# hyperdock: let the app's .config read its connection strings from the environment (ConfigurationBuilders).
# Runs at build time, after the content is copied; see the content README.
$ErrorActionPreference = 'Stop'
$configs = @('C:\inetpub\webshop\web.config')
$assemblies = @('C:\inetpub\webshop\bin\Microsoft.Configuration.ConfigurationBuilders.Environment.dll')
for ($i = 0; $i -lt $configs.Count; $i++) {
    $config = $configs[$i]
    if (-not (Test-Path -LiteralPath $config) -or -not (Test-Path -LiteralPath $assemblies[$i])) {
        Write-Output ('hyperdock: ' + $config + ' not wired: the app needs the package Microsoft.Configuration.ConfigurationBuilders.Environment')
        continue
    }
    $xml = New-Object -TypeName System.Xml.XmlDocument
    $xml.PreserveWhitespace = $true
    $xml.Load($config)
    $root = $xml.DocumentElement
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
