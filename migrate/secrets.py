"""Secret-looking values in inventory text: found once, right after reading, and never passed on.

Command lines, paths and notes sometimes carry a secret (`-password=...`, `/pwd:...`, a connection
string's `Password=...`, an account key, a URL's `user:password@`). `scrub_estate` replaces each
value by a runtime-parameter reference `%NAME%` before anything is derived from the inventory, so
plan.json, the report and every generated file are safe; the VM keeps where it was found and the
parameter name, for the `cond.inline-secret` finding and the container's parameters. The same
pattern is what `policy check --artifacts` looks for in generated files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .generate.names import env_name
from .model import VM, Estate

# Keys whose value is a secret. A key counts only as a whole word ending right before its
# separator: `SharedAccessKeyName=` and `$passwordFile =` are not secrets.
_KEYS = (r"password|passwd|pwd|secret|client[_-]?secret|token|access[_-]?token|api[_-]?key|account[_-]?key"
         r"|shared[_-]?access[_-]?key|access[_-]?key|key")
# A value: quoted, or up to the next separator. Placeholders and variables (`%X%`, `$x`, `$(...)`,
# `${...}`, `(...)`) are references, not values.
_VALUE = r"""(?P<value>"[^"\r\n]*"|'[^'\r\n]*'|(?![%$({<])[^\s;,&"'<>]+)"""
SECRET = re.compile(
    # key=value / key: value (connection strings, query strings, notes, A2C settings)
    rf"(?<![\w$@])(?P<key>{_KEYS})[ \t]*[=:][ \t]*{_VALUE}"
    # -password value / --password value / /password value (command-line switches)
    rf"|(?<![\w$])(?:--?|/)(?P<switch>{_KEYS})[ \t]+{_VALUE.replace('?P<value>', '?P<switch_value>')}"
    # scheme://user:password@host
    r"|(?P<scheme>\b[a-z][a-z0-9+.-]*://[^:/@\s]+):(?P<url_value>[^@/\s]+)@"
    # PEM private keys
    r"|(?P<pem>-----BEGIN [A-Z ]*PRIVATE KEY-----)",
    re.IGNORECASE,
)


_SECRET_NAME = re.compile(rf"(?:^|[_.-])(?:{_KEYS})(?:$|[_.-])", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class RemovedSecret:
    """Where a secret-looking value was (never the value) and the parameter that replaces it."""

    where: str
    parameter: str | None  # None: nothing at run time needs it (notes, tags, paths of the VM)


def find_secrets(text: str) -> list[str]:
    """Return the key (or kind) of every secret-looking literal in `text`, in order; [] when there is none."""
    return [_kind(m) for m in SECRET.finditer(text or "")]


def secret_setting(name: str, value: str) -> bool:
    """True when a setting (an environment variable, a ConfigMap key) holds a secret literal:
    its value looks secret, or its name does (`DB_PASSWORD`) and its value is not a reference."""
    value = str(value or "")
    literal = bool(value) and not re.fullmatch(r"\$\{[^}]*\}|\$\(.*\)|%[^%]*%", value)
    return bool(find_secrets(value)) or (literal and bool(_SECRET_NAME.search(name)))


def scrub(text: str, parameter: str) -> tuple[str, list[str]]:
    """Return (`text` with each secret value replaced by `%<parameter>_<KEY>%`, the parameter names used)."""
    names: list[str] = []

    def replace(match: re.Match) -> str:
        if match.group("pem"):
            names.append(env_name(f"{parameter} private key"))
            return f"%{names[-1]}%"
        group = next(g for g in ("value", "switch_value", "url_value") if match.group(g) is not None)
        names.append(env_name(f"{parameter} {_kind(match)}"))
        start, end = match.span(group)
        return match.string[match.start():start] + f"%{names[-1]}%" + match.string[end:match.end()]

    return SECRET.sub(replace, text), list(dict.fromkeys(names))


def _kind(match: re.Match) -> str:
    if match.group("pem"):
        return "private key"
    if match.group("url_value") is not None:
        return "password"
    return (match.group("key") or match.group("switch")).lower()


def scrub_estate(estate: Estate) -> None:
    """Remove secret-looking values from every VM's free text, in place; record them on `vm.removed_secrets`."""
    for vm in estate.vms:
        _scrub_vm(vm)


def _scrub_vm(vm: VM) -> None:
    removed: list[RemovedSecret] = []

    def clean(text: str, where: str, owner: str | None) -> str:
        if not text or not SECRET.search(text):
            return text
        cleaned, names = scrub(text, owner or vm.name)
        removed.extend(RemovedSecret(where, name if owner else None) for name in names)
        return cleaned

    vm.notes = clean(vm.notes, "Notes", None)
    vm.tags = {key: clean(value, f"tag {key}", None) for key, value in vm.tags.items()}
    vm.collection_errors = [clean(e, "collection errors", None) for e in vm.collection_errors]
    for drive in vm.hard_drives:
        drive.path = clean(drive.path, "hard drive path", None)
    guest = vm.guest
    if guest is not None:
        for s in guest.services or []:
            s.path_name = clean(s.path_name, f"service {s.name} command line", s.name)
            s.display_name = clean(s.display_name, f"service {s.name} display name", None)
        for d in guest.drivers or []:
            d.path_name = clean(d.path_name, f"driver {d.name} path", None)
        for t in guest.scheduled_tasks or []:
            t.execute = clean(t.execute, f"scheduled task {t.task_name} command line", t.task_name)
        for site in guest.iis_sites or []:
            site.physical_path = clean(site.physical_path, f"IIS site {site.name} path", None)
            site.bindings = [clean(b, f"IIS site {site.name} binding", None) for b in site.bindings]
            for app in site.applications:
                app.physical_path = clean(app.physical_path, f"IIS application {site.name}{app.path} path", None)
        for c in guest.connection_strings or []:
            c.file = clean(c.file, f"connection string {c.name} file", None)
    vm.removed_secrets = removed
