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
$pairs = [string[]]@($values.Keys | ForEach-Object { $_ + '=' + $values[$_] })
foreach ($service in @('OrderProcessor')) {
    if ($pairs.Count -gt 0) {
        New-ItemProperty -Path ('HKLM:\SYSTEM\CurrentControlSet\Services\' + $service) -Name 'Environment' -PropertyType MultiString -Value $pairs -Force | Out-Null
    }
}
& 'C:\ServiceMonitor.exe' 'OrderProcessor'
exit $LASTEXITCODE
