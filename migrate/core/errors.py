"""The one error type that bad input raises: it renders as a single line naming file and field."""

from __future__ import annotations


class InputError(Exception):
    """Bad input: a file that cannot be read, or a field that breaks the contract.

    ``where`` is the file (and line, when known); ``field`` the dotted path inside it.
    """

    def __init__(self, where: str, message: str, field: str | None = None):
        self.where = where
        self.field = field
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        location = f"{self.where}: {self.field}" if self.field else self.where
        return f"{location}: {self.message}"
