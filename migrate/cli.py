"""The `hyperdock` command line. Bad input: one line on stderr, exit 2, nothing written."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from . import __version__
from .assess import Options, Progress, assess, cyclic_gc_paused
from .core.azure import AZURE_SIZES, HostSize
from .core.errors import InputError
from .core.windows import HOST_OS_CHOICES
from .output import interrupts_raise, to_json, write_file, write_tree
from .generate.aks import AksOptions
from .generate.capacity import CapacityOptions
from .generate.files import DEFAULT_REGISTRY, GenerateOptions, generate
from .generate.packaged import read_packaged, with_packaged_parameters
from .plan_reader import read_plan
from .report import render_report

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130  # as a shell reports a command ended by Ctrl-C
EXIT_INTERNAL = 70  # EX_SOFTWARE: a bug in hyperdock, not in the input
MAX_MESSAGE = 2000


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, as for every other bad input
        self.exit(EXIT_BAD_INPUT, f"hyperdock: error: {' '.join(message.splitlines())}\n")


_Parser = OneLineParser


def _positive(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 9):  # int() also takes "1_0" and "٣"
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hyperdock", description="Move Hyper-V VMs into Windows containers.")
    parser.add_argument("--version", action="version", version=f"hyperdock {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    a = commands.add_parser("assess", help="assess an inventory and write plan.json and report.md")
    a.add_argument("inventory", nargs="+", type=Path, help="hyperdock/inventory@1 files (JSON or YAML)")
    a.add_argument("--dependencies", action="append", default=[], type=Path, metavar="CSV",
                   help="Azure Migrate dependency export (repeatable)")
    a.add_argument("--host-os", choices=HOST_OS_CHOICES, default="ltsc2025", help="OS of the container hosts")
    a.add_argument("--tenancy", choices=("dedicated", "shared"), default="dedicated",
                   help="dedicated: tenants and trust zones get hosts of their own (the capacity plan keeps "
                        "them apart); shared: they may share hosts, so they get Hyper-V isolation")
    a.add_argument("--min-wave-size", type=_positive, default=1)
    a.add_argument("--max-wave-size", type=_positive, default=50)
    a.add_argument("--chatty-connections", type=_positive, default=1000,
                   help="connections (export rows or their Connection Count, guest connections) at which a one-way pair moves together")
    a.add_argument("--out", required=True, type=Path, help="output directory")
    a.add_argument("--quiet", action="store_true", help="no progress on stderr")
    a.add_argument("--generate", action="store_true", help="also write container definitions and hosts.yaml")
    _generate_options(a)

    gen = commands.add_parser("generate", help="write Dockerfiles, compose, Kubernetes and hosts.yaml from a plan")
    gen.add_argument("plan_dir", type=Path, help="folder holding plan.json (from assess)")
    gen.add_argument("--out", type=Path, help="output directory (default: the plan's folder)")
    _generate_options(gen)

    pkg = commands.add_parser("package", help="fill the build contexts of generate from an extracted content folder")
    pkg.add_argument("plan_dir", type=Path, help="folder holding plan.json and containers/ (from generate)")
    pkg.add_argument("--content", required=True, type=Path, metavar="DIR",
                     help="extraction folder DIR/<vmId>/manifest.json (Get-HyperdockInventory.ps1 -ExtractContent), or a zip of it")
    pkg.add_argument("--max-file-mib", type=_positive, default=512, help="larger files are left out (reported)")
    pkg.add_argument("--max-layer-mib", type=_positive, default=8192, help="a larger application layer is refused")
    pkg.add_argument("--max-archive-mib", type=_positive, default=65536,
                     help="a zip archive given as --content that unpacks to more is refused")

    imp = commands.add_parser("import", help="turn another tool's export into a hyperdock/inventory@1 file")
    imp.add_argument("format", choices=("azure-migrate", "app2container"))
    imp.add_argument("source", type=Path, help="Azure Migrate export (XLSX or CSV), or a folder of A2C analysis.json")
    imp.add_argument("--out", required=True, type=Path, help="inventory file to write (JSON)")

    disc = commands.add_parser("discover", help="inventory VMs where they are: Azure")
    disc.add_argument("platform", choices=("azure",))
    disc.add_argument("--subscription", required=True, help="subscription ID")
    disc.add_argument("--resource-group", help="only this resource group")
    disc.add_argument("--guest", action="store_true", help="also read each Windows guest with Run Command (read-only)")
    disc.add_argument("--concurrency", type=_positive, default=4, help="Run Commands at a time")
    disc.add_argument("--out", required=True, type=Path, help="inventory file to write (JSON)")

    policy = commands.add_parser("policy", help="run the CrossGuard policy pack offline (no Pulumi CLI, no cloud)")
    policy.add_argument("action", choices=("check",))
    policy.add_argument("rest", nargs=argparse.REMAINDER, help="options of `hyperdock policy check --help`")
    return parser


def _generate_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("container definitions and capacity plan")
    g.add_argument("--experimental-k8s-hyperv", action="store_true",
                   help="give Hyper-V isolated workloads Kubernetes manifests with RuntimeClass runhcs-wcow-hypervisor "
                        "(not supported by Kubernetes or AKS)")
    g.add_argument("--registry", default=DEFAULT_REGISTRY,
                   help="registry the images are pushed to, e.g. myregistry.azurecr.io/hyperdock "
                        f"(default {DEFAULT_REGISTRY}, which never resolves)")
    g.add_argument("--platform", choices=("azure", "onprem", "aks"), default="azure",
                   help="where the containers run; aks: Windows node pools for what AKS can run (aks.yaml), "
                        "Azure hosts for the rest")
    g.add_argument("--node-size", default="Standard_D8s_v5", help="with --platform aks: Azure size of the Windows nodes")
    g.add_argument("--host-size", default="Standard_D16s_v5",
                   help=f"Azure size of a host ({', '.join(AZURE_SIZES)}); with --platform onprem use --host-vcpus/--host-memory-gib")
    g.add_argument("--host-vcpus", type=_positive, help="vCPUs of an on-premises host")
    g.add_argument("--host-memory-gib", type=_positive, help="memory of an on-premises host, GiB")
    g.add_argument("--edition", choices=("datacenter", "standard"), default="datacenter",
                   help="Windows Server edition of the hosts (Standard: 2 Hyper-V isolated containers per host)")


def main(argv: list[str] | None = None) -> int:
    """Run one command; return its exit code. Every failure ends as one line on stderr."""
    with interrupts_raise():
        try:
            args = build_parser().parse_args(argv)
            return _run(args)
        except InputError as exc:
            _say(f"error: {exc}")
            return EXIT_BAD_INPUT
        except KeyboardInterrupt:
            _say("interrupted; no partial result was written (a previous result is whole)")
            return EXIT_INTERRUPTED
        except OSError as exc:  # one the readers and writers did not already name
            _say(f"error: {exc.filename or 'hyperdock'}: {exc.strerror or exc}")
            return EXIT_BAD_INPUT
        except (RecursionError, MemoryError) as exc:
            _say(f"error: the input is too large or too deeply nested to process ({type(exc).__name__})")
            return EXIT_BAD_INPUT
        except Exception as exc:  # noqa: BLE001 - the promise is one line, never a traceback
            _say(f"internal error: {type(exc).__name__}: {exc} (a bug in hyperdock {__version__}; please report it)")
            return EXIT_INTERNAL


def run() -> None:
    """The console entry point: `main`, then exit at once once the output is flushed.

    A 50k-VM run holds millions of objects; freeing them one by one at interpreter exit took
    0.5 s and wrote nothing. Every result is already closed and renamed into place by then.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _say(message: str) -> None:
    """Print `message` as exactly one line: line breaks of any kind inside it become spaces."""
    line = " ".join(message.splitlines()) if message else message
    if len(line) > MAX_MESSAGE:
        line = line[:MAX_MESSAGE] + "…"
    print(f"hyperdock: {line}", file=sys.stderr, flush=True)


def _run(args: argparse.Namespace) -> int:
    if args.command == "assess":
        return _assess(args)
    if args.command == "generate":
        return _generate(args)
    if args.command == "package":
        return _package(args)
    if args.command == "import":
        return _import(args)
    if args.command == "discover":
        return _discover(args)
    from policies.check import main as policy_check  # imports Pulumi: only when asked for

    return policy_check(args.rest)


def _assess(args: argparse.Namespace) -> int:
    if args.min_wave_size > args.max_wave_size:
        raise InputError("--min-wave-size", f"{args.min_wave_size} is larger than --max-wave-size {args.max_wave_size}")
    options = Options(host_os=args.host_os, tenancy=args.tenancy, min_wave_size=args.min_wave_size,
                      max_wave_size=args.max_wave_size, chatty_connections=args.chatty_connections)
    progress = Progress(enabled=not args.quiet)
    generate_options = _generate_settings(args) if args.generate else None
    _check_out_folder(args.out)
    with cyclic_gc_paused():
        plan = assess(args.inventory, args.dependencies, options, progress)
        for warning in plan["graph"]["warnings"]:
            print(f"hyperdock: warning: {warning}", file=sys.stderr)
        files = {"plan.json": to_json(plan)}
        generated = None
        if generate_options is not None:
            definitions, generated = generate(plan, generate_options)
            files.update(definitions)
        files["report.md"] = render_report(plan, generated)
    write_tree(args.out, files)
    progress.step("write", f"wrote {len(files)} files under {args.out}")
    return 0


def _generate(args: argparse.Namespace) -> int:
    options = _generate_settings(args)
    out = args.out or args.plan_dir
    _check_out_folder(out)
    plan_path = args.plan_dir / "plan.json"
    plan = read_plan(plan_path)
    # Parameters `hyperdock package` found in the configs (package.json) join the plan's.
    packaged = with_packaged_parameters(plan, read_packaged(args.plan_dir))
    try:
        files, generated = generate(packaged, options)
        files["report.md"] = render_report(plan, generated)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        # plan.json passed its schema but is not what assess writes: edited by hand, or by another version.
        raise InputError(str(plan_path), f"cannot generate from this plan ({type(exc).__name__}: {str(exc)[:80]}); "
                                         "re-run `hyperdock assess` to write it again") from None
    if os.path.abspath(out) == os.path.abspath(args.plan_dir):
        # The plan stays part of the result it is written into (and listed in its manifest).
        files["plan.json"] = plan_path.read_bytes()
    write_tree(out, files)
    print(f"hyperdock: wrote {len(files)} files under {out}", file=sys.stderr)
    return 0


def _package(args: argparse.Namespace) -> int:
    from .package.build import PackageOptions, package, summary_lines

    options = PackageOptions(max_file_bytes=args.max_file_mib * 1024 * 1024, max_layer_bytes=args.max_layer_mib * 1024 * 1024,
                             max_archive_bytes=args.max_archive_mib * 1024 * 1024)
    document = package(args.plan_dir, args.content, options)
    for line in summary_lines(document):
        print(f"hyperdock: {line}", file=sys.stderr)
    print(f"hyperdock: wrote {args.plan_dir / 'package.json'}", file=sys.stderr)
    return 0


def _import(args: argparse.Namespace) -> int:
    from .imports import import_app2container, import_azure_migrate

    inventory = import_azure_migrate(args.source) if args.format == "azure-migrate" else import_app2container(args.source)
    _write_inventory(args.out, inventory)
    return 0


def _discover(args: argparse.Namespace) -> int:
    from .discover_azure import discover_azure, default_credential

    inventory = discover_azure(args.subscription, default_credential(), resource_group=args.resource_group,
                               guest=args.guest, concurrency=args.concurrency)
    _write_inventory(args.out, inventory)
    return 0


def _write_inventory(out: Path, inventory: dict) -> None:
    count = sum(len(h["vms"]) for h in inventory["hosts"])
    write_file(out, to_json(inventory))
    print(f"hyperdock: wrote {count} VMs to {out}", file=sys.stderr)


def _check_out_folder(out: Path) -> None:
    """Refuse an --out that can never hold a result before doing any work."""
    if out.exists() and not out.is_dir():
        raise InputError(str(out), "exists and is not a folder; --out needs a folder")


def _generate_settings(args: argparse.Namespace) -> GenerateOptions:
    if args.platform == "onprem":
        if not (args.host_vcpus and args.host_memory_gib):
            raise InputError("--platform onprem", "needs --host-vcpus and --host-memory-gib (the size of your hosts)")
        size = HostSize("onprem", args.host_vcpus, args.host_memory_gib * 1024, True)
    else:
        if args.host_size not in AZURE_SIZES:
            raise InputError("--host-size", f"unknown size {args.host_size!r}; expected one of {', '.join(AZURE_SIZES)}")
        size = AZURE_SIZES[args.host_size]
    aks = None
    if args.platform == "aks":
        if args.experimental_k8s_hyperv:
            raise InputError("--experimental-k8s-hyperv", "AKS does not support Hyper-V isolation: those workloads stay on hosts")
        if args.node_size not in AZURE_SIZES:
            raise InputError("--node-size", f"unknown size {args.node_size!r}; expected one of {', '.join(AZURE_SIZES)}")
        aks = AksOptions(node_size=AZURE_SIZES[args.node_size])
    if not re.fullmatch(r"[a-z0-9.-]+(:\d+)?(/[a-z0-9._-]+)*", args.registry):
        raise InputError("--registry", f"{args.registry!r} is not a registry reference like myregistry.azurecr.io/hyperdock")
    return GenerateOptions(
        experimental_k8s_hyperv=args.experimental_k8s_hyperv, registry=args.registry,
        capacity=CapacityOptions(platform="azure" if aks else args.platform, size=size, edition=args.edition), aks=aks,
    )
