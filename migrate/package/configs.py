"""Rewriting .NET Framework configuration files (web.config, <app>.exe.config) for a container.

Every `connectionStrings` entry and every secret-looking `appSettings` entry gets the value
`${NAME}`, and the section gets `configBuilders="HyperdockEnvironment"`: Microsoft's
EnvironmentConfigBuilder (NuGet `Microsoft.Configuration.ConfigurationBuilders.Environment`, .NET
Framework 4.7.1+) in `Token` mode replaces each `${NAME}` with the environment variable NAME when
the app reads its configuration. NAME is the plan's parameter name (`env_name`), the variable the
container's secrets are passed as. Facts from aspnet/MicrosoftConfigurationBuilders
docs/KeyValueConfigBuilders.md (modes, `tokenPattern` default `\\$\\{(\\w+)\\}`, so NAME is
`[A-Za-z0-9_]+`) and learn.microsoft.com/aspnet/config-builder (the `configBuilders` section
declaration). Token mode exists from version 2 of the package on.

Other secrets the configuration system cannot take from a builder (machineKey keys, identity and
SMTP passwords, connection strings in other attributes) become `${NAME}` too, with a finding:
the image's start.ps1 fills them in at container start (generate/startup.py `_fill_config_tokens`). Values never leave this module: results carry names only.

Parsing is defusedxml's minidom with DTDs forbidden: a configuration file has no DTD, and one that
carries entities or external references is hostile. minidom keeps comments, attribute order and
prefixes, so an unchanged section reads as before.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Callable
from xml.dom import Node
from xml.parsers.expat import ExpatError

import defusedxml
import defusedxml.minidom

from ..contract.names import env_name

BUILDER_NAME = "HyperdockEnvironment"
BUILDER_TYPE = ("Microsoft.Configuration.ConfigurationBuilders.EnvironmentConfigBuilder, "
                "Microsoft.Configuration.ConfigurationBuilders.Environment")
# The section declaration Microsoft documents for ConfigurationBuilders (System.Configuration 4.0).
SECTION_TYPE = ("System.Configuration.ConfigurationBuildersSection, System.Configuration, Version=4.0.0.0, "
                "Culture=neutral, PublicKeyToken=b03f5f7f11d50a3a")

# A key that names a secret: it ends with one of these words (after dropping separators), or holds
# "password" or "secret" anywhere. "Key" alone ends many secret names (ApiKey, AccountKey).
_SECRET_KEY_END = re.compile(r"(password|passwd|pwd|secret|token|key|credential|credentials|connectionstring|connstr)\Z")
_SECRET_KEY_ANY = re.compile(r"password|secret|connectionstring")
# A value that carries a secret whatever its key is called.
_SECRET_VALUE = re.compile(
    r"(?i)(\b(password|pwd|accountkey|sharedaccesskey|sharedsecret|client_secret)\s*=)"
    r"|(://[^/\s:@]+:[^/\s@]+@)|(-----BEGIN [A-Z ]*PRIVATE KEY-----)|([?&]sig=)")
_TRIVIAL_VALUE = re.compile(r"(?i)\s*(|true|false|yes|no|on|off|-?\d+(\.\d+)?)\s*")
# Attributes outside appSettings/connectionStrings that hold secrets, by element and attribute.
_SECRET_ATTRIBUTES = {("machineKey", "validationKey"), ("machineKey", "decryptionKey"), ("identity", "password"),
                      ("network", "password"), ("sessionState", "sqlConnectionString"),
                      ("sessionState", "stateConnectionString")}


class ConfigError(ValueError):
    """A configuration file that cannot be read safely; `line` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


@dataclass(slots=True)
class Rewrite:
    """The result of rewriting one file: new bytes (None if unchanged) and names, never values."""

    data: bytes | None
    parameters: list[dict] = field(default_factory=list)   # {name, env, section}
    findings: list[str] = field(default_factory=list)
    inlined: list[str] = field(default_factory=list)       # external section files now inside this one


def is_config_file(relative_path: str) -> bool:
    """True for the files `package` rewrites: web.config and <program>.exe.config, any folder."""
    name = relative_path.rsplit("/", 1)[-1].lower()
    return name == "web.config" or name.endswith(".exe.config")


def secret_looking(key: str, value: str) -> bool:
    """True when an app setting looks like a secret: by its value, or by its name unless the value is trivial."""
    if _SECRET_VALUE.search(value):
        return True
    normalized = re.sub(r"[^a-z0-9]", "", key.lower())
    named = bool(_SECRET_KEY_END.search(normalized) or _SECRET_KEY_ANY.search(normalized))
    return named and not _TRIVIAL_VALUE.fullmatch(value)


def _parse(data: bytes, where: str = ""):
    try:
        return defusedxml.minidom.parseString(data, forbid_dtd=True)
    except defusedxml.DefusedXmlException as exc:
        raise ConfigError(f"{where}refused: {type(exc).__name__} (a configuration file has no DTD or entities)") from None
    except ExpatError as exc:
        raise ConfigError(f"{where}not well-formed XML: {exc.args[0].split(':')[0]}", exc.lineno) from None


def rewrite_config(data: bytes, external: Callable[[str], bytes | None] | None = None, builders: bool = True) -> Rewrite:
    """Return the rewritten configuration `data` (UTF-8 or UTF-16 XML), or `data=None` if nothing changes.

    `external(name)` returns the bytes of a file a section names in `configSource` (or appSettings
    `file`), relative to this file, or None. Such files are inlined into their section (and listed
    in `inlined`), so their secrets go through the builder too and the file itself can stay out.
    `builders=False` is for CLR 2.0 (.NET 3.5) apps, whose configuration system has no builders:
    a `configBuilders` declaration would stop them, so values become `${NAME}` only, with a finding.
    Raises ConfigError for XML that does not parse or carries a DTD, entities or external references.
    """
    document = _parse(data)
    root = document.documentElement
    if root.tagName != "configuration":
        return Rewrite(None, findings=[f"root element is <{root.tagName}>, not <configuration>: left as it is"])
    result = Rewrite(None)
    names = _Names()
    sections = [root] + [e for e in _children(root, "location")]
    for parent in sections:
        for section in _children(parent, "connectionStrings") + _children(parent, "appSettings"):
            _inline(document, section, external, result)
        for section in _children(parent, "connectionStrings"):
            _parameterize(section, "name", "connectionString", lambda k, v: True, names, result, "connectionStrings",
                          builders)
        for section in _children(parent, "appSettings"):
            _parameterize(section, "key", "value", secret_looking, names, result, "appSettings", builders)
    _other_secrets(root, names, result)
    if not result.parameters and not result.inlined:  # findings alone change nothing in the file
        return result
    if any(p["section"] in ("connectionStrings", "appSettings") for p in result.parameters):
        if builders:
            _declare_builder(document, root)
        else:
            result.findings.append("CLR 2.0 (.NET 3.5) has no configuration builders: connection strings and secrets "
                                   "are ${NAME} placeholders here, which nothing fills in; set them at container start")
    result.data = _serialize(document, data)
    return result


class _Names:
    """Environment variable names of one file: unique, so two keys never share a variable."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, key: str) -> str:
        base = env_name(key)
        name, n = base, 2
        while name in self.used:
            name, n = f"{base}_{n}", n + 1
        self.used.add(name)
        return name


def _children(parent, tag: str) -> list:
    return [n for n in parent.childNodes if n.nodeType == Node.ELEMENT_NODE and n.tagName == tag]


def _parameterize(section, key_attr: str, value_attr: str, wanted, names: _Names, result: Rewrite, kind: str,
                  builders: bool) -> None:
    changed = False
    for entry in _children(section, "add"):
        key = entry.getAttribute(key_attr)
        if not key or not entry.hasAttribute(value_attr):
            continue
        if not wanted(key, entry.getAttribute(value_attr)):
            continue
        variable = names.take(key)
        entry.setAttribute(value_attr, "${" + variable + "}")
        result.parameters.append({"name": key, "env": variable, "section": kind})
        changed = True
    if changed and builders:
        present = [b.strip() for b in section.getAttribute("configBuilders").split(",") if b.strip()]
        if BUILDER_NAME not in present:
            # First, so the app's own builders (Key Vault, user secrets) still override as they did.
            section.setAttribute("configBuilders", ",".join([BUILDER_NAME] + present))


def _inline(document, section, external, result: Rewrite) -> None:
    """Move the entries of a section's `configSource` (or appSettings `file`) file into the section.

    configSource replaces the section's content; appSettings `file` is read after the inline
    entries, so its entries go last (a later `add` of a key wins).
    """
    attribute = "configSource" if section.hasAttribute("configSource") else \
        "file" if section.tagName == "appSettings" and section.hasAttribute("file") else None
    if attribute is None:
        return
    name = section.getAttribute(attribute).replace("\\", "/")
    source = external(name) if external is not None and _plain_relative(name) else None
    if source is None:
        result.findings.append(f"<{section.tagName} {attribute}={name!r}>: that file is not in the content; "
                               "its values were not checked")
        return
    other = _parse(source, f"{name}: ").documentElement
    if other.tagName != section.tagName:
        raise ConfigError(f"{name} (the {attribute} of <{section.tagName}>) has the root <{other.tagName}>")
    if attribute == "configSource":
        for child in list(section.childNodes):
            section.removeChild(child)
    for child in list(other.childNodes):
        if child.nodeType in (Node.ELEMENT_NODE, Node.COMMENT_NODE):
            _append(section, document.importNode(child, True))
    section.removeAttribute(attribute)
    result.inlined.append(name)
    result.findings.append(f"{name} ({attribute} of <{section.tagName}>) is inlined into this file and left out")


def _plain_relative(name: str) -> bool:
    parts = name.split("/")
    return bool(name) and ":" not in name and not name.startswith("/") and all(p not in ("", ".", "..") for p in parts)


def _other_secrets(root, names: _Names, result: Rewrite) -> None:
    """Blank secrets that no builder can feed: they become `${NAME}` with a finding."""
    for element in root.getElementsByTagName("*"):
        if element.tagName in ("add",) and element.parentNode.tagName in ("appSettings", "connectionStrings"):
            continue
        for attribute, value in sorted(element.attributes.items()):
            if value.startswith("${"):
                continue
            listed = (element.tagName, attribute) in _SECRET_ATTRIBUTES and not value.startswith("AutoGenerate")
            if listed or attribute.lower() in ("password", "pwd") or _SECRET_VALUE.search(value):
                variable = names.take(f"{element.tagName}_{attribute}")
                element.setAttribute(attribute, "${" + variable + "}")
                result.parameters.append({"name": f"{element.tagName}/@{attribute}", "env": variable, "section": "other"})
                result.findings.append(f"<{element.tagName} {attribute}> held a secret: replaced by ${{{variable}}}, which no "
                                       "configuration builder fills in; the image's start.ps1 writes it into the file at "
                                       f"container start from the variable (or secret file) {variable}")


def _declare_builder(document, root) -> None:
    """Declare the configBuilders section and HyperdockEnvironment, keeping the app's own builders."""
    sections = _children(root, "configSections")
    if sections:
        declarations = sections[0]
    else:
        declarations = document.createElement("configSections")
        _insert_first(root, declarations)
    if not any(s.getAttribute("name") == "configBuilders" for s in _children(declarations, "section")):
        section = document.createElement("section")
        for name, value in (("name", "configBuilders"), ("type", SECTION_TYPE),
                            ("restartOnExternalChanges", "false"), ("requirePermission", "false")):
            section.setAttribute(name, value)
        _append(declarations, section)
    holders = _children(root, "configBuilders")
    if holders:
        holder = holders[0]
    else:
        holder = document.createElement("configBuilders")
        _insert_after(root, holder, declarations)
    builders = (_children(holder, "builders") or [None])[0]
    if builders is None:
        builders = document.createElement("builders")
        _append(holder, builders)
    for existing in _children(builders, "add"):
        if existing.getAttribute("name") == BUILDER_NAME:
            builders.removeChild(existing)
    builder = document.createElement("add")
    for name, value in (("name", BUILDER_NAME), ("mode", "Token"), ("type", BUILDER_TYPE)):
        builder.setAttribute(name, value)
    _append(builders, builder)


def _depth(node) -> int:
    depth = 0
    while node.parentNode is not None and node.parentNode.nodeType == Node.ELEMENT_NODE:
        depth, node = depth + 1, node.parentNode
    return depth


def _append(parent, child) -> None:
    indent = "\n" + "  " * (_depth(parent) + 1)
    last = parent.lastChild
    if last is not None and last.nodeType == Node.TEXT_NODE and not last.data.strip():
        parent.insertBefore(parent.ownerDocument.createTextNode(indent), last)
        parent.insertBefore(child, last)
    else:
        parent.appendChild(parent.ownerDocument.createTextNode(indent))
        parent.appendChild(child)
        parent.appendChild(parent.ownerDocument.createTextNode("\n" + "  " * _depth(parent)))


def _insert_first(root, child) -> None:
    first = root.firstChild
    root.insertBefore(root.ownerDocument.createTextNode("\n  "), first)
    root.insertBefore(child, first)


def _insert_after(root, child, anchor) -> None:
    following = anchor.nextSibling
    root.insertBefore(root.ownerDocument.createTextNode("\n  "), following)
    root.insertBefore(child, following)


def _serialize(document, original: bytes) -> bytes:
    """UTF-8 (with the BOM when the original had one), declaration first, nodes around the root kept."""
    body = "\n".join(node.toxml() for node in document.childNodes)
    text = '<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n"
    bom = b"\xef\xbb\xbf" if original.startswith(b"\xef\xbb\xbf") else b""
    return bom + text.encode("utf-8")


# Files other than the rewritten configs that are read for secrets: configuration and script text.
SCANNED_EXTENSIONS = (".config", ".json", ".xml", ".ini", ".udl", ".settings", ".properties", ".yaml", ".yml",
                      ".env", ".ps1", ".bat", ".cmd", ".txt")
_SECRET_JSON = re.compile(r'(?i)"[^"]*(password|passwd|pwd|secret|apikey|api_key|accesskey|accountkey|connectionstring)"'
                          r'\s*:\s*"[^"]+"')


def holds_secret(data: bytes) -> bool:
    """True when text holds a secret-looking value (a password in a connection string, a key, a JSON secret)."""
    text = data.decode("utf-8", "replace") if not data.startswith((b"\xff\xfe", b"\xfe\xff")) else data.decode("utf-16", "replace")
    return bool(_SECRET_VALUE.search(text) or _SECRET_JSON.search(text))


def rewrite_json_settings(data: bytes) -> Rewrite | None:
    """Return appsettings-style JSON with connection strings and secret-looking values blanked, or None if it is not JSON.

    .NET reads `Section:Key` from the environment variable `Section__Key` (its configuration's
    environment provider), which overrides the file: each blanked value is reported with that name.
    """
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None
    parameters: list[dict] = []

    def walk(node, path: list[str]) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
        for key, value in list(items):
            here = path + [str(key)]
            if isinstance(value, str):
                in_strings = bool(path) and path[0].lower() == "connectionstrings"
                if value and (in_strings or secret_looking(str(key), value)):
                    node[key] = ""
                    parameters.append({"name": ":".join(here), "env": "__".join(here), "section": "json"})
            else:
                walk(value, here)

    walk(document, [])
    if not parameters:
        return Rewrite(None)
    findings = [f"{p['name']} blanked: .NET reads it from the environment variable {p['env']}" for p in parameters]
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return Rewrite(text.encode("utf-8"), parameters, findings)
