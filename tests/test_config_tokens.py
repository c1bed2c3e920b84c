"""Tokens `hyperdock package` leaves where no ConfigurationBuilder reaches (machineKey keys, identity
and SMTP passwords, CLR 2.0 configs) are filled by the image's start.ps1 (review finding)."""

from __future__ import annotations

import json
from pathlib import Path
from xml.dom import minidom

from migrate.generate.dockerfile import render_dockerfile
from migrate.generate.startup import TEMPLATES_DIR, UNFED_TOKENS_XPATH, start_script
from migrate.package.configs import rewrite_config
from migrate.contract.plan_io import plan_from_document
from powershell_ast import parse

ROOT = Path(__file__).resolve().parent.parent
PLAN = plan_from_document(json.loads((ROOT / "examples" / "plan" / "plan.json").read_text(encoding="utf-8")))
CONFIG = b"""<configuration>
  <appSettings><add key="PaymentGatewayApiKey" value="k-123" /></appSettings>
  <connectionStrings><add name="ShopDb" connectionString="Server=db;Password=hunter2" /></connectionStrings>
  <system.web><machineKey validationKey="0123456789ABCDEF0123456789ABCDEF" decryptionKey="FEDCBA9876543210" /></system.web>
</configuration>"""


def _unfed(node, fed: bool = False) -> tuple[set[str], set[str]]:
    """(attribute values holding a token outside any element with configBuilders, those inside)."""
    fed = fed or node.hasAttribute("configBuilders")
    outside, inside = set(), set()
    for name, value in node.attributes.items():
        if "${" in value:
            (inside if fed else outside).add(value)
    for child in node.childNodes:
        if child.nodeType == child.ELEMENT_NODE:
            o, i = _unfed(child, fed)
            outside |= o
            inside |= i
    return outside, inside


def test_the_start_scripts_selection_is_exactly_the_tokens_no_builder_fills():
    """The XPath's rule (a `${` attribute with no configBuilders ancestor) splits package's output
    into machineKey tokens (start.ps1) and appSettings/connectionStrings tokens (the builder)."""
    assert UNFED_TOKENS_XPATH == "//@*[contains(., '${') and not(ancestor::*[@configBuilders])]"
    outside, inside = _unfed(minidom.parseString(rewrite_config(CONFIG).data).documentElement)
    assert outside == {"${MACHINEKEY_VALIDATIONKEY}", "${MACHINEKEY_DECRYPTIONKEY}"}
    assert inside == {"${PAYMENTGATEWAYAPIKEY}", "${SHOPDB}"}
    # A CLR 2.0 config has no builders: every token is the start script's.
    outside, inside = _unfed(minidom.parseString(rewrite_config(CONFIG, builders=False).data).documentElement)
    assert len(outside) == 4 and not inside


def test_iis_image_start_fills_tokens_before_the_pool_starts_without_printing_values():
    web01 = next(w for w in PLAN.workloads if w.name == "WEB01")
    _, files = render_dockerfile(web01, "web01")
    script = files["start.ps1"]
    tree = parse(script.encode("utf-8"))
    assert not tree.root_node.has_error
    fill = script.index(UNFED_TOKENS_XPATH.replace("'", "''"))
    assert script.index("foreach ($folder in @('C:\\inetpub\\webshop'") < fill < script.index("ServiceMonitor.exe")
    assert f"$templates = '{TEMPLATES_DIR}'" in script and "$xml.Load($template)" in script  # idempotent
    assert "Write-Output" not in script[fill:script.index("$xml.Save($config.FullName)", fill) + 40].replace(
        "Write-Output ('hyperdock: ' + $config.FullName + ': ' + $token + ' is not set')", "")


def test_no_folders_no_fill_step():
    container = next(w for w in PLAN.workloads if w.name == "WEB01").container
    assert "config-templates" not in start_script(container, "web01", "DefaultAppPool", [])
