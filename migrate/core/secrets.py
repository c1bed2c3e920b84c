"""What looks like a secret in text: a `password=`, a `-pwd` switch, a URL's `user:password@`, a PEM
private key. Inventory scrubbing (`migrate.scrub`) and `policy check --artifacts` use the same pattern.
"""

from __future__ import annotations

import re

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


def find_secrets(text: str) -> list[str]:
    """Return the key (or kind) of every secret-looking literal in `text`, in order; [] when there is none."""
    return [secret_kind(m) for m in SECRET.finditer(text or "")]


def secret_setting(name: str, value: str) -> bool:
    """True when a setting (an environment variable, a ConfigMap key) holds a secret literal:
    its value looks secret, or its name does (`DB_PASSWORD`) and its value is not a reference."""
    value = str(value or "")
    literal = bool(value) and not re.fullmatch(r"\$\{[^}]*\}|\$\(.*\)|%[^%]*%", value)
    return bool(find_secrets(value)) or (literal and bool(_SECRET_NAME.search(name)))


def secret_kind(match: re.Match) -> str:
    """Return what a SECRET match found: its key (`password`, `pwd`, ...), or `private key`."""
    if match.group("pem"):
        return "private key"
    if match.group("url_value") is not None:
        return "password"
    return (match.group("key") or match.group("switch")).lower()
