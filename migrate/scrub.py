"""Secret-looking values in inventory text: found once, right after reading, and never passed on.

Command lines, paths and notes sometimes carry a secret (`-password=...`, `/pwd:...`, a connection
string's `Password=...`, an account key, a URL's `user:password@`). `scrub_estate` replaces each
value by a runtime-parameter reference `%NAME%` before anything is derived from the inventory, so
plan.json, the report and every generated file are safe; the VM keeps where it was found and the
parameter name, for the `cond.inline-secret` finding and the container's parameters. What looks
secret is `migrate.core.secrets`' pattern, which `policy check --artifacts` applies to generated files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .contract.names import env_name
from .core.secrets import SECRET, secret_kind
from .model import VM, Estate


@dataclass(frozen=True, slots=True)
class RemovedSecret:
    """Where a secret-looking value was (never the value) and the parameter that replaces it."""

    where: str
    parameter: str | None  # None: nothing at run time needs it (notes, tags, paths of the VM)


def scrub(text: str, parameter: str) -> tuple[str, list[str]]:
    """Return (`text` with each secret value replaced by `%<parameter>_<KEY>%`, the parameter names used)."""
    names: list[str] = []

    def replace(match: re.Match) -> str:
        if match.group("pem"):
            names.append(env_name(f"{parameter} private key"))
            return f"%{names[-1]}%"
        group = next(g for g in ("value", "switch_value", "url_value") if match.group(g) is not None)
        names.append(env_name(f"{parameter} {secret_kind(match)}"))
        start, end = match.span(group)
        return match.string[match.start():start] + f"%{names[-1]}%" + match.string[end:match.end()]

    return SECRET.sub(replace, text), list(dict.fromkeys(names))


def scrub_estate(estate: Estate) -> None:
    """Remove secret-looking values from every VM's free text, in place; record them on `vm.removed_secrets`."""
    clean_texts: set[str] = set()
    for vm in estate.vms:
        if _holds_secret(vm, clean_texts):
            _scrub_vm(vm)


def _holds_secret(vm: VM, clean_texts: set[str]) -> bool:
    """True when SECRET matches one of the VM's texts; `clean_texts` (texts found clean) grows.

    The regex costs a fraction of a microsecond per character, so it runs last: after a few str
    searches for what every match holds, and only on texts not found clean before (most repeat
    from VM to VM: tag values, site paths, bindings)."""
    texts = _texts(vm)
    if not _may_hold_secret("\n".join(texts)):
        return False
    unknown = [text for text in texts if text not in clean_texts]
    joined = "\n".join(unknown)
    if unknown and _may_hold_secret(joined) and SECRET.search(joined):
        return True
    clean_texts.update(unknown)
    return False


# Every SECRET match holds one of these, lower-cased: each key of core.secrets' pattern contains one
# of the first five (password, passwd, pwd, secret, client_secret, token, access_token, api_key, ...),
# a URL's password "://", a PEM key "-----begin". Derived from the pattern by hand, so test_secrets
# fails when the pattern changes (and checks each key holds one).
_HINTS = ("passw", "pwd", "secret", "token", "key", "://", "-----begin")


def _may_hold_secret(text: str) -> bool:
    """False only when SECRET cannot match `text`."""
    if not text.isascii():
        return True  # the pattern ignores case the Unicode way: K (Kelvin) is a k, ſ an s
    low = text.lower()
    return any(hint in low for hint in _HINTS)


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


def _texts(vm: VM) -> list[str]:
    """Return every text `_scrub_vm` cleans; `scrub_estate` searches them joined by newlines.

    A text with a match has one in the joined text too: SECRET's look-behinds and `\\b` see the
    newline before it as they see the start of a text (neither a word character nor `$` or `@`),
    and a match never needs to look past its own end. So no match in the joined text means there
    is nothing to clean, and one search replaces a search per text (test_secrets checks this)."""
    texts = [vm.notes, *vm.tags.values(), *vm.collection_errors]
    for drive in vm.hard_drives:
        texts.append(drive.path)
    guest = vm.guest
    if guest is not None:
        for s in guest.services or ():
            texts += (s.path_name, s.display_name)
        for d in guest.drivers or ():
            texts.append(d.path_name)
        for t in guest.scheduled_tasks or ():
            texts.append(t.execute)
        for site in guest.iis_sites or ():
            texts.append(site.physical_path)
            texts += site.bindings
            for app in site.applications:
                texts.append(app.physical_path)
        for c in guest.connection_strings or ():
            texts.append(c.file)
    return texts
