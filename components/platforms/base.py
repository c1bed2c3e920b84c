"""The interface every host platform implements, and the host it describes (HostSpec).

Three parts, each used by one side of hyperdock:
- capacity (`hyperdock generate`): the size of one host and what the capacity plan must note about
  a pool on such hosts;
- the stack plan (the Pulumi program, still pure): which hosts the stack config asks for, and how a
  host of the capacity plan (hosts.yaml) becomes a host of this platform;
- Pulumi: the host component's arguments and validation, the component itself (with what all hosts
  of the platform share), and the workload runner that starts a container on such a host.
Only the Pulumi part may import Pulumi, and only inside its methods.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Mapping

from migrate.contract.model import Isolation, Platform
from migrate.core.azure import HostSize


@dataclass(frozen=True, slots=True)
class HostSpec:
    """One host the stack builds: its name, platform and isolation, and what its platform needs of it."""

    name: str
    platform: Platform
    isolation: str                  # process | hyperv (Isolation) | both
    vm_size: str = ""
    address: str = ""
    host_key: str | None = None
    image_os: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SizeOptions:
    """What `generate` was told about host sizes (its --host-size, --host-vcpus, --host-memory-gib)."""

    host_size: str
    host_vcpus: int | None = None
    host_memory_gib: int | None = None


class HostPlatform(ABC):
    """Where container hosts run. A subclass is registered in components/platforms/__init__.py PLATFORMS."""

    platform: ClassVar[Platform]
    """The enum value naming it (hosts.yaml `platform`, `generate --platform`)."""
    hosts_title: ClassVar[str]
    """How messages name its hosts, e.g. "on-premises hosts"."""
    managed_identity: ClassVar[bool]
    """True when its hosts have a managed identity to pull from Azure Container Registry with (AcrPull);
    their host component then has `principal_id`."""
    workload_target: ClassVar[str]
    """The ContainerWorkload argument that names a host of this platform (components/workload.py)."""

    # ------------------------------------------------------------------ capacity (generate)

    @abstractmethod
    def host_size(self, options: SizeOptions) -> HostSize:
        """Return the size of one host; raise InputError naming the option when it cannot be had."""

    def pool_notes(self, isolation: Isolation, size: HostSize) -> list[str]:
        """Return what the capacity plan must say about a pool of `isolation` on hosts of `size`."""
        return []

    # ------------------------------------------------------------------ stack plan (pure)

    @abstractmethod
    def configured_hosts(self, config: Mapping[str, Any]) -> list[HostSpec]:
        """Return the hosts the stack config names directly (no `plan`)."""

    def check_plan(self, config: Mapping[str, Any], host_os: str) -> None:
        """Raise StackConfigError when the config cannot build hosts for a plan made for `host_os`."""

    @abstractmethod
    def planned_host(self, config: Mapping[str, Any], name: str, isolation: str, host_size: HostSize,
                     image_os: tuple[str, ...], index: int, count: int) -> HostSpec:
        """Return host `index` (of `count` in hosts.yaml) as a host of this platform; raise StackConfigError
        naming the key when the config lacks what it needs."""

    # ------------------------------------------------------------------ Pulumi (imports inside)

    @abstractmethod
    def host_args(self, spec: HostSpec, config: Mapping[str, Any], common: Mapping[str, Any],
                  secret: Callable[[str], Any]) -> dict:
        """Return the host component's arguments for `spec`; `common` holds those of every platform and
        `secret(key)` a config secret as a Pulumi secret (None when unset)."""

    @abstractmethod
    def validate_host(self, args: Mapping[str, Any]) -> None:
        """Raise the component's error naming the setting when `args` cannot make a host."""

    def create_shared(self, config: Mapping[str, Any]) -> Any:
        """Register what all hosts of the platform in the stack share; return it for create_host (None: nothing)."""
        return None

    @abstractmethod
    def host_component(self) -> type:
        """Return the host component class (components/__main__.py serves it to every language). Its inputs
        must carry `hostOs` and `isolation`: policies/workloads.py recognises a host of any platform by them."""

    @abstractmethod
    def create_host(self, name: str, args: Mapping[str, Any], shared: Any) -> Any:
        """Register the host component; it has `runtime` (the last setup step) and what host_address reads."""

    @abstractmethod
    def host_address(self, host: Any) -> Any:
        """Return where the host is reached (an output of the component)."""

    @abstractmethod
    def target_of(self, host: Any, config: Mapping[str, Any]) -> Any:
        """Return the value of the ContainerWorkload argument `workload_target` for a workload on `host`."""

    @abstractmethod
    def run_workload(self, name: str, definition: Any, secrets: Mapping[str, Any], registry_password: Any,
                     target: Any, parent: Any) -> Any:
        """Register, under `parent`, what (re)starts `definition`'s container on the host `target` names;
        secrets (and the registry password) must stay Pulumi secrets."""
