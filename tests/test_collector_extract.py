"""The collector's -ExtractContent: read-only on the guest, resumable, the hyperdock/extract@1 contract."""

from __future__ import annotations

import json
import re

import pytest

from conftest import ROOT
from migrate.package.parts import EXCLUDED_EXTENSIONS, EXCLUDED_TOP_FOLDERS
from migrate.contract.plan_io import schema
from powershell_ast import command_names, nodes, parse

SCRIPT = ROOT / "migrate" / "collect" / "Get-HyperdockInventory.ps1"
EXTRACT_FUNCTIONS = ("Test-HyperdockRelativePath", "Get-HyperdockExecutableFolder", "Get-HyperdockContentPart",
                     "New-HyperdockExtractSession", "Copy-HyperdockContentPart", "Export-HyperdockContent")


@pytest.fixture(scope="module")
def tree():
    return parse(SCRIPT.read_bytes())


def functions(tree) -> dict[str, str]:
    found = {}
    for function in nodes(tree.root_node, "function_statement"):
        name = next(c for c in function.children if c.type == "function_name").text.decode()
        found[name] = function.text.decode()
    return found


def assignment(tree, variable: str) -> str:
    """Return the text of the right-hand side of `$variable = ...` at the script's top level."""
    for node in nodes(tree.root_node, "assignment_expression"):
        if node.children[0].text.decode() == variable:
            return node.children[-1].text.decode()
    raise AssertionError(f"{variable} is not assigned")


def test_parses_and_defines_the_extraction_functions(tree):
    assert not tree.root_node.has_error
    assert set(EXTRACT_FUNCTIONS) <= set(functions(tree))


def test_parameters_and_their_checks():
    text = SCRIPT.read_text(encoding="utf-8")
    for parameter in ("[string] $ExtractContent", "[long] $ExtractMaxFileMB = 512", "[long] $ExtractMaxPartMB = 4096"):
        assert parameter in text
    assert "-ExtractContent needs -GuestCredential" in text
    assert "GetUnresolvedProviderPathFromPSPath($ExtractContent)" in text


def test_guest_side_only_reads(tree):
    listing = assignment(tree, "$ExtractListing")
    assert set(command_names(parse(listing).root_node)) <= {"Test-Path", "Get-ChildItem", "New-Object", "ForEach-Object"}
    # Files are opened for reading only, sharing writes with the app that may hold them.
    assert "[System.IO.File]::Open($item.FullName, 'Open', 'Read', 'ReadWrite')" in listing
    assert not re.search(r"OpenWrite|WriteAll|::Delete|::Move|::Copy|Set-|Remove-|New-Item|Out-File", listing)
    # Links and junctions are reported, never followed.
    assert "[System.IO.FileAttributes]::ReparsePoint" in listing and "-Recurse" not in listing


def test_exclusions_are_the_ones_package_applies(tree):
    def strings(text: str) -> tuple[str, ...]:
        return tuple(re.findall(r"'([^']*)'", text))
    assert strings(assignment(tree, "$ExtractExcludedExtensions")) == EXCLUDED_EXTENSIONS
    assert strings(assignment(tree, "$ExtractExcludedTopFolders")) == EXCLUDED_TOP_FOLDERS


def test_copy_from_session_resumes_and_verifies(tree):
    copy = functions(tree)["Copy-HyperdockContentPart"]
    (call,) = [c.text.decode() for c in nodes(parse(copy).root_node, "command")
               if c.child_by_field_name("command_name").text.decode() == "Copy-Item"]
    assert "-FromSession $Session" in call and "-LiteralPath $guestPath" in call
    # Resume: a file already here with the guest's hash is not copied again; every copy is checked after.
    assert copy.index("$present = (Test-Path -LiteralPath $target -PathType Leaf) -and (Get-FileHash") < copy.index("Copy-Item")
    assert copy.index("Copy-Item") < copy.rindex("Get-FileHash -LiteralPath $target -Algorithm SHA256")
    assert "Test-HyperdockRelativePath -Path $entry.Path" in copy   # guest paths are not trusted
    assert "Write-Progress" in copy


def test_sessions_are_powershell_direct_or_winrm_and_closed(tree):
    session = functions(tree)["New-HyperdockExtractSession"]
    # The way the inventory read the guest (Read-HyperdockGuest), to the same name or address.
    assert "$channel = $Record['Guest']['CollectedVia']" in session
    assert "if ($channel -eq 'PowerShellDirect') { return New-PSSession -VMId $Record['VMId'] -Credential $GuestCredential }" in session
    assert "Get-HyperdockGuestAddress" in session and "New-PSSession -ComputerName $target -Credential $GuestCredential" in session
    assert "'PowerShellDirect'" in functions(tree)["Get-HyperdockGuestChannel"] and "'WinRM'" in functions(tree)["Get-HyperdockGuestChannel"]
    export = functions(tree)["Export-HyperdockContent"]
    assert re.search(r"finally \{\s+Remove-PSSession -Session \$session", export)


def test_manifest_follows_the_contract_and_is_written_last(tree):
    export = functions(tree)["Export-HyperdockContent"]
    copy = functions(tree)["Copy-HyperdockContentPart"]
    assert "schema = 'hyperdock/extract@1'; vmId = $Record['VMId']; parts = $entries" in export
    contract = schema("extract")
    part = contract["properties"]["parts"]["items"]
    for key in part["properties"]:
        assert re.search(rf"\b{key} = ", copy), key
    for key in part["properties"]["files"]["items"]["properties"]:
        assert re.search(rf"\b{key} = ", copy), key
    # Written to a temporary file, then renamed: a manifest always describes complete files.
    assert export.index("WriteAllText($temporary") < export.index("Move-Item -LiteralPath $temporary")
    assert re.search(r"ConvertTo-Json -InputObject \$manifest -Depth 6\b", export)


def test_extraction_runs_after_the_inventory_of_a_host(tree):
    text = SCRIPT.read_text(encoding="utf-8")
    loop = text[text.index("foreach ($server in $ComputerName)"):]
    assert "try { Export-HyperdockContent -Record $record }" in loop and "Content of {0} not extracted" in loop


def test_the_example_extraction_is_what_the_collector_writes():
    """examples/extract follows the same contract (package reads both)."""
    import jsonschema
    for manifest in (ROOT / "examples" / "extract").glob("*/manifest.json"):
        document = json.loads(manifest.read_text(encoding="utf-8"))
        jsonschema.validate(document, schema("extract"))
        assert document["vmId"] == manifest.parent.name
