"""Rewriting real web.config / exe.config files so secrets come from the container's parameters."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from conftest import DATA
from migrate.package.configs import (BUILDER_NAME, BUILDER_TYPE, SECTION_TYPE, ConfigError, holds_secret, is_config_file,
                                     rewrite_config, rewrite_json_settings, secret_looking)

CONFIGS = DATA / "webconfig"
# tokenPattern's default in Microsoft.Configuration.ConfigurationBuilders (docs/KeyValueConfigBuilders.md).
TOKEN = re.compile(r"^\$\{(\w+)\}$")


def attributes(root: ET.Element, path: str, attribute: str) -> dict[str, str]:
    key = "name" if "connectionStrings" in path else "key"
    return {e.get(key): e.get(attribute) for e in root.findall(path)}


def original_values(data: bytes) -> list[str]:
    root = ET.fromstring(data)
    return [e.get("connectionString") for e in root.findall("./connectionStrings/add")]


@pytest.mark.parametrize("name", ["eshop-legacy-webforms.web.config", "eshop-modernized-mvc.web.config",
                                  "eshop-legacy-wcf.web.config", "todolistservice.web.config"])
def test_connection_strings_become_tokens_of_the_builder(name):
    data = (CONFIGS / name).read_bytes()
    result = rewrite_config(data)
    assert result.data is not None
    root = ET.fromstring(result.data)
    strings = attributes(root, "./connectionStrings/add", "connectionString")
    assert strings and all(TOKEN.match(v) for v in strings.values())
    assert BUILDER_NAME in root.find("./connectionStrings").get("configBuilders").split(",")
    for value in original_values(data):
        assert value.encode() not in result.data
    # configSections stays the first element; the section and the builder are declared once.
    assert root[0].tag == "configSections"
    assert [s.get("type") for s in root.findall("./configSections/section") if s.get("name") == "configBuilders"] == [SECTION_TYPE]
    (builder,) = [b for b in root.findall("./configBuilders/builders/add") if b.get("name") == BUILDER_NAME]
    assert builder.get("mode") == "Token" and builder.get("type") == BUILDER_TYPE
    # Each token names the environment variable the result reports, and only names reach the result.
    assert {TOKEN.match(v).group(1) for v in strings.values()} <= {p["env"] for p in result.parameters}
    assert all(set(p) == {"name", "env", "section"} for p in result.parameters)


def test_an_app_with_its_own_builders_keeps_them():
    data = (CONFIGS / "eshop-modernized-mvc.web.config").read_bytes()
    root = ET.fromstring(rewrite_config(data).data)
    names = [b.get("name") for b in root.findall("./configBuilders/builders/add")]
    assert names == ["Environment", "AzureKeyVault", "Secrets", BUILDER_NAME]
    assert root.find("./connectionStrings").get("configBuilders") == f"{BUILDER_NAME},Secrets,Environment,AzureKeyVault"
    settings = attributes(root, "./appSettings/add", "value")
    assert TOKEN.match(settings["StorageConnectionString"])
    assert b"#YourAzureStorageCatalogConnectionString#" not in rewrite_config(data).data
    # Settings that are not secrets keep their values.
    assert settings["webpages:Version"] == "3.0.0.0" and settings["UseMockData"] == "true"
    assert settings["AzureActiveDirectoryInstance"] == "https://login.microsoftonline.com/{0}"


def test_client_secret_app_setting_is_parameterized():
    data = (CONFIGS / "todolistservice.web.config").read_bytes()
    result = rewrite_config(data)
    settings = attributes(ET.fromstring(result.data), "./appSettings/add", "value")
    assert settings["ida:ClientSecret"] == "${IDA_CLIENTSECRET}"
    assert settings["ida:ClientID"].startswith("[Enter client ID")  # an id is not a secret
    assert b"[Enter_client_Secret_from_Azure_Portal]" not in result.data
    assert {"name": "ida:ClientSecret", "env": "IDA_CLIENTSECRET", "section": "appSettings"} in result.parameters


def test_a_config_without_secrets_is_left_byte_for_byte():
    assert rewrite_config((CONFIGS / "todolistclient.exe.config").read_bytes()).data is None


def test_bom_and_comments_survive():
    data = (CONFIGS / "eshop-legacy-webforms.web.config").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    out = rewrite_config(data).data
    assert out.startswith(b"\xef\xbb\xbf<?xml")
    assert b"<!-- For more information on Entity Framework configuration" in out


def test_old_namespace_is_kept_for_new_elements():
    data = (b'<?xml version="1.0"?>\n<configuration xmlns="http://schemas.microsoft.com/.NetConfiguration/v2.0">\n'
            b'  <connectionStrings><add name="Db" connectionString="Server=x;Password=hunter2" /></connectionStrings>\n'
            b'</configuration>\n')
    out = rewrite_config(data).data
    root = ET.fromstring(out)
    ns = "{http://schemas.microsoft.com/.NetConfiguration/v2.0}"
    assert root.find(f"./{ns}configSections/{ns}section").get("name") == "configBuilders"
    assert b"hunter2" not in out and b"ns0:" not in out


def test_secrets_outside_key_value_sections_are_removed_with_a_finding():
    data = b"""<configuration><system.web>
      <machineKey validationKey="0123456789ABCDEF0123456789ABCDEF" decryptionKey="FEDCBA9876543210" />
      <identity impersonate="true" userName="CONTOSO\\svc" password="P@ss-identity" />
    </system.web><system.net><mailSettings><smtp><network host="mail" userName="u" password="P@ss-smtp" /></smtp></mailSettings></system.net>
    <log4net><appender><connectionString value="Data Source=db;User ID=a;Password=P@ss-log4net" /></appender></log4net>
    </configuration>"""
    result = rewrite_config(data)
    for secret in (b"0123456789ABCDEF0123456789ABCDEF", b"FEDCBA9876543210", b"P@ss-identity", b"P@ss-smtp", b"P@ss-log4net"):
        assert secret not in result.data
    assert b'userName="CONTOSO\\svc"' in result.data
    assert len(result.findings) == 5 and all("no configuration builder fills in" in f for f in result.findings)
    # No key/value section changed: no builder is declared.
    assert b"configBuilders" not in result.data


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("ida:ClientSecret", "abc", True),
    ("PaymentGatewayApiKey", "k-123", True),
    ("StorageConnectionString", "UseDevelopmentStorage=true", True),
    ("smtp.password", "x", True),
    ("AccessToken", "eyJ0eXAi", True),
    ("Endpoint", "https://user:pa55@example.com/", True),
    ("BlobUrl", "https://a.blob.core.windows.net/c?sv=2020&sig=abc", True),
    ("Anything", "Server=db;User Id=sa;Password=x", True),
    ("PasswordMinLength", "8", False),
    ("ApiKeyEnabled", "true", False),
    ("KeyVaultName", "vault", False),
    ("TokenLifetimeMinutes", "30", False),
    ("webpages:Version", "3.0.0.0", False),
    ("ClientSecret", "", False),
])
def test_secret_looking(key, value, expected):
    assert secret_looking(key, value) is expected


@pytest.mark.parametrize("data", [
    b'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><configuration>&b;</configuration>',
    b'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY x SYSTEM "file:///etc/passwd">]><configuration>&x;</configuration>',
    b'<?xml version="1.0"?><!DOCTYPE configuration SYSTEM "http://example.invalid/x.dtd"><configuration/>',
])
def test_dtds_and_entities_are_refused(data):
    with pytest.raises(ConfigError, match="refused"):
        rewrite_config(data)


def test_malformed_xml_names_its_line():
    with pytest.raises(ConfigError) as caught:
        rewrite_config(b"<configuration>\n<appSettings>\n</configuration>\n")
    assert caught.value.line == 3


def test_which_files_are_configs():
    assert is_config_file("Web.config") and is_config_file("Views/web.config") and is_config_file("bin/Svc.exe.config")
    assert not is_config_file("packages.config") and not is_config_file("web.config.bak")


def test_config_source_is_inlined_so_its_secrets_go_through_the_builder():
    main = (b'<?xml version="1.0"?>\n<configuration>\n  <connectionStrings configSource="App_Config\\ConnectionStrings.config" />\n'
            b'  <appSettings file="secrets.config">\n    <add key="PageSize" value="20" />\n  </appSettings>\n</configuration>\n')
    files = {"App_Config/ConnectionStrings.config":
             b'<connectionStrings>\n  <add name="Db" connectionString="Server=db;Password=Planted-1" />\n</connectionStrings>\n',
             "secrets.config": b'<appSettings><add key="SmtpPassword" value="Planted-2" /></appSettings>'}
    result = rewrite_config(main, files.get)
    root = ET.fromstring(result.data)
    assert root.find("./connectionStrings").get("configSource") is None and root.find("./appSettings").get("file") is None
    assert attributes(root, "./connectionStrings/add", "connectionString") == {"Db": "${DB}"}
    assert attributes(root, "./appSettings/add", "value") == {"PageSize": "20", "SmtpPassword": "${SMTPPASSWORD}"}
    assert sorted(result.inlined) == sorted(files) and b"Planted" not in result.data


def test_config_source_that_is_missing_or_escapes_is_a_finding():
    main = b'<configuration><connectionStrings configSource="..\\outside.config" /></configuration>'
    result = rewrite_config(main, lambda name: pytest.fail(f"read {name}"))
    assert result.findings and "not in the content" in result.findings[0] and not result.inlined


def test_appsettings_json_secrets_are_blanked_with_dotnet_variable_names():
    data = (b'{"ConnectionStrings": {"ShopDb": "Server=db;Password=Planted-3"}, "Payments": {"ApiKey": "Planted-4", '
            b'"Retries": 3}, "Logging": {"LogLevel": {"Default": "Information"}}}')
    result = rewrite_json_settings(data)
    document = json.loads(result.data)
    assert document["ConnectionStrings"]["ShopDb"] == "" and document["Payments"] == {"ApiKey": "", "Retries": 3}
    assert {p["env"] for p in result.parameters} == {"ConnectionStrings__ShopDb", "Payments__ApiKey"}
    assert b"Planted" not in result.data and not holds_secret(result.data)
    assert rewrite_json_settings(b"// comment\n{}") is None


def test_secret_scan_of_other_files():
    assert holds_secret(b'<target type="Database" connectionString="Server=db;User Id=a;Password=x" />')
    assert holds_secret(b'{"smtp": {"password": "x"}}')
    assert not holds_secret(b'<nlog><targets><target type="File" fileName="app.log" /></targets></nlog>')


def test_a_finding_alone_leaves_the_file_as_it_was():
    data = b'<configuration>\n  <connectionStrings configSource="missing.config"/>\n</configuration>\n'
    result = rewrite_config(data, lambda name: None)
    assert result.data is None and "not in the content" in result.findings[0]


def test_clr2_apps_get_placeholders_without_builders():
    data = (CONFIGS / "eshop-legacy-webforms.web.config").read_bytes()
    result = rewrite_config(data, builders=False)
    assert b"configBuilders" not in result.data and b"${CATALOGDBCONTEXT}" in result.data
    assert b"(localdb)" not in result.data and any("CLR 2.0" in f for f in result.findings)
