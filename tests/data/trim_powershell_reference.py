"""Re-trim tests/data/powershell-reference.json from a full cmdlet reference.

    python tests/data/trim_powershell_reference.py CMDLETS_JSON

CMDLETS_JSON is every documented cmdlet per documentation set, with its module, parameters, aliases
and parameter sets, extracted from MicrosoftDocs/windows-powershell-docs and MicrosoftDocs/PowerShell-Docs
at the commits tests/data/SOURCES.md names (it is not part of the repository).

Keeps, per documentation set, the cmdlets of the modules hyperdock's PowerShell may use (MODULES)
with their parameters' names, aliases and parameter sets (types dropped), then adds ADDED: inbox
or Gallery commands that the full reference does not cover, each with its source. Add a module
here (not by hand in the JSON) when generated PowerShell starts using it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "powershell-reference.json"
MODULES = {
    # PowerShell core (5.1 and 7.4 sets)
    "Microsoft.PowerShell.Core", "Microsoft.PowerShell.Management", "Microsoft.PowerShell.Utility",
    "Microsoft.PowerShell.Security", "Microsoft.PowerShell.Archive", "CimCmdlets",
    # Windows Server modules: IIS, features, tasks, AD (gMSA), Hyper-V (collector), networking
    "WebAdministration", "IISAdministration", "ServerManager", "Dism", "ScheduledTasks", "ActiveDirectory",
    "Hyper-V", "NetTCPIP", "NetSecurity", "NetNat", "PKI", "FailoverClusters",
    # the ws2016 and ws2019 pages file the ServerManager cmdlets (Install-WindowsFeature) under this module
    "Microsoft.Windows.ServerManager.Migration",
}
ADDED = {
    "_sources": [
        "PowerShellGet 1.0.0.1 (inbox in Windows PowerShell 5.1): Install-Module, "
        "https://learn.microsoft.com/previous-versions/powershell/module/powershellget/install-module?view=powershell-5.0",
        "CredentialSpec (PowerShell Gallery, MIT): MicrosoftDocs/Virtualization-Documentation "
        "windows-server-container-tools/ServiceAccounts/CredentialSpec.psm1 @ 1c99891d43e8e4a5fa3289bf31e1e17cca482977",
    ],
    # Inbox commands missing from the full reference, in every core set.
    "core": {
        "Install-Module": {
            "module": "PowerShellGet",
            "parameters": ["Confirm", "Force", "InputObject", "MaximumVersion", "MinimumVersion", "Name", "Repository",
                           "RequiredVersion", "Scope", "WhatIf"],
            "sets": [["Confirm", "Force", "MaximumVersion", "MinimumVersion", "Name", "Repository", "RequiredVersion",
                      "Scope", "WhatIf"], ["Confirm", "Force", "InputObject", "Scope", "WhatIf"]],
        },
    },
    # Gallery modules: their commands count only in a script that installs the module.
    "gallery": {
        "CredentialSpec": {
            "New-CredentialSpec": {
                "module": "CredentialSpec", "aliases": {"Name": "FileName"},
                "parameters": ["AKV", "AccountName", "AdditionalAccounts", "Domain", "FileName", "NoClobber", "Path"],
                "sets": [["AKV", "AccountName", "AdditionalAccounts", "Domain", "FileName", "NoClobber"],
                         ["AKV", "AccountName", "AdditionalAccounts", "Domain", "NoClobber", "Path"]],
            },
            "Get-CredentialSpec": {"module": "CredentialSpec", "parameters": [], "sets": []},
        },
    },
}


def compact(cmdlet: dict) -> dict:
    """Return a cmdlet's module, parameter names, aliases and sets (each set a bit mask over the names)."""
    parameters = sorted(cmdlet.get("parameters", {}))
    out = {"module": cmdlet["module"], "parameters": parameters}
    if cmdlet.get("aliases"):
        out["aliases"] = cmdlet["aliases"]
    if cmdlet.get("sets"):
        out["sets"] = [sum(1 << parameters.index(p) for p in s if p in parameters) for s in cmdlet["sets"]]
    return out


def trim(reference: dict) -> dict:
    """Return {set: {cmdlet: [compact entry with "in": [sets it is documented identically in]]}}.

    Entries identical across documentation sets are stored once; "in" names the sets.
    """
    added = {"_sources": ADDED["_sources"], "core": {n: compact(c) for n, c in ADDED["core"].items()},
             "gallery": {m: {n: compact(c) for n, c in cmds.items()} for m, cmds in ADDED["gallery"].items()}}
    out = {"_common": reference["_common"], "_sources": reference["_sources"], "_added": added, "cmdlets": {}}
    for key, cmdlets in sorted(reference.items()):
        if key.startswith("_"):
            continue
        for name, cmdlet in sorted(cmdlets.items()):
            if cmdlet["module"].lower() not in {m.lower() for m in MODULES}:  # older docsets spell "pki"
                continue
            entry, variants = compact(cmdlet), out["cmdlets"].setdefault(name, [])
            same = next((v for v in variants if {k: x for k, x in v.items() if k != "in"} == entry), None)
            if same is None:
                variants.append(dict(entry, **{"in": [key]}))
            else:
                same["in"].append(key)
    return out


if __name__ == "__main__":
    source = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    OUT.write_text(json.dumps(trim(source), sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{OUT}: {OUT.stat().st_size} bytes")
