"""PowerShell that cannot be injected: every inventory value becomes exactly one string literal.

Plain printable ASCII goes in single quotes, where `$()` and `%` are inert and a single quote is
doubled (Microsoft Learn "about_Quoting_Rules"). Anything else (double quotes, control characters,
newlines, backticks, non-ASCII) is carried as Base64 and decoded at run time, so no character of it
reaches the parser. Non-ASCII includes the typographic quotes U+2018 to U+201B, which PowerShell's
tokenizer also takes for single quotes (PowerShell/PowerShell
`src/System.Management.Automation/engine/parser/CharTraits.cs`, `IsSingleQuote`) [V]. Double quotes
go as Base64 because Docker for Windows hands a shell-form RUN line to the SHELL as one Windows
command line, whose parsing removes unescaped `"` [I] (Docker's "Dockerfile reference", RUN and
SHELL); a newline would end the RUN instruction.
"""

from __future__ import annotations

import base64
import re

# Printable ASCII without `"` (0x22) and the backtick (0x60); fullmatch, so no final newline slips through.
_PLAIN = re.compile(r"[\x20\x21\x23-\x5f\x61-\x7e]*")


def ps_quote(value: str) -> str:
    """Return a PowerShell expression that evaluates to `value` and is a single literal token."""
    if _PLAIN.fullmatch(value):
        return "'" + value.replace("'", "''") + "'"
    encoded = base64.b64encode(value.encode("utf-8")).decode("ascii")
    return f"([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('{encoded}')))"


def ps_list(values: list[str]) -> str:
    """Return a comma-separated list of quoted values (quoted, because bare comma lists trip parsers)."""
    return ", ".join(ps_quote(v) for v in values)
