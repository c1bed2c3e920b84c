# hyperdock: what the ordersvc01 container does at start (run by LogMonitor, the entry point).
# Parameters come from the environment or from files in C:\hyperdock\secrets; the HTTPS certificate
# from C:\hyperdock\tls. Nothing secret is in the image.
$ErrorActionPreference = 'Stop'
$parameters = @('ORDERSDB')
$values = [ordered]@{}
foreach ($name in $parameters) {
    $value = [Environment]::GetEnvironmentVariable($name)
    $file = Join-Path -Path 'C:\hyperdock\secrets' -ChildPath $name
    if (-not $value -and (Test-Path -LiteralPath $file)) { $value = (Get-Content -LiteralPath $file -Raw).TrimEnd() }
    if (-not $value) { Write-Output "hyperdock: runtime parameter $name is not set"; continue }
    $values[$name] = $value
    [Environment]::SetEnvironmentVariable($name, $value)
}
# Tokens no configuration builder fills (machineKey keys, identity/SMTP passwords, CLR 2.0 configs).
$templates = 'C:\hyperdock\config-templates'
$sha = [System.Security.Cryptography.SHA256]::Create()
foreach ($folder in @('C:\app\orderprocessor')) {
    if (-not (Test-Path -LiteralPath $folder)) { continue }
    $configs = @(Get-ChildItem -LiteralPath $folder -Recurse -Filter '*.config' | Where-Object { -not $_.PSIsContainer })
    foreach ($config in $configs) {
        $hash = [BitConverter]::ToString($sha.ComputeHash([Text.Encoding]::UTF8.GetBytes($config.FullName.ToLowerInvariant())))
        $template = Join-Path -Path $templates -ChildPath ($hash.Replace('-', '') + '.config')
        if (-not (Test-Path -LiteralPath $template)) {
            if (-not (Select-String -LiteralPath $config.FullName -Pattern '\$\{\w+\}' -Quiet)) { continue }
            New-Item -ItemType Directory -Path $templates -Force | Out-Null
            Copy-Item -LiteralPath $config.FullName -Destination $template
        }
        $xml = New-Object -TypeName System.Xml.XmlDocument
        $xml.PreserveWhitespace = $true
        $xml.Load($template)
        $unset = New-Object -TypeName System.Collections.Generic.List[string]
        foreach ($attribute in @($xml.SelectNodes('//@*[contains(., ''${'') and not(ancestor::*[@configBuilders])]'))) {
            $attribute.Value = [regex]::Replace($attribute.Value, '\$\{(\w+)\}', {
                param($match)
                $token = $match.Groups[1].Value
                $value = [Environment]::GetEnvironmentVariable($token)
                $file = Join-Path -Path 'C:\hyperdock\secrets' -ChildPath $token
                if (-not $value -and (Test-Path -LiteralPath $file)) { $value = (Get-Content -LiteralPath $file -Raw).TrimEnd() }
                if ($value) { return $value }
                $unset.Add($token)
                return $match.Value
            })
        }
        $xml.Save($config.FullName)
        foreach ($token in $unset) { Write-Output ('hyperdock: ' + $config.FullName + ': ' + $token + ' is not set') }
    }
}
$pairs = [string[]]@($values.Keys | ForEach-Object { $_ + '=' + $values[$_] })
foreach ($service in @('OrderProcessor')) {
    if ($pairs.Count -gt 0) {
        New-ItemProperty -Path ('HKLM:\SYSTEM\CurrentControlSet\Services\' + $service) -Name 'Environment' -PropertyType MultiString -Value $pairs -Force | Out-Null
    }
}
& 'C:\ServiceMonitor.exe' 'OrderProcessor'
exit $LASTEXITCODE
