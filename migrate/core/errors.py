"""The error types of bad input: InputError for a file (one line naming file and field), and
SettingsError's kinds for the Pulumi program's settings (one line naming the setting)."""

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


class SettingsError(ValueError):
    """A setting of the Pulumi program (a stack key, a component argument) that cannot work or is
    unsafe; raised before any resource is registered, with one line naming the setting.

    `hyperdock policy check` reports any of these as bad input; the subclasses say which part refused it.
    """


class StackConfigError(SettingsError):
    """Stack configuration that cannot be built; the message names the key."""


class HostConfigError(SettingsError):
    """A host setting that cannot work or is unsafe."""


class SetupError(SettingsError):
    """Host setup settings that cannot produce a working host; the message says which and why."""


class WorkloadConfigError(SettingsError):
    """A container definition that cannot run."""


class RegistryConfigError(SettingsError):
    """A registry setting that cannot work or would pull from somewhere unintended."""


class AksConfigError(SettingsError):
    """An AKS setting that cannot work or is unsafe."""
