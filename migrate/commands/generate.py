"""`hyperdock generate`: container definitions, compose, Kubernetes and hosts.yaml from a plan.

Also the home of the container-definition and capacity options, which `assess --generate` shares.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.azure import AKS_WINDOWS_NODE_SIZE, AZURE_SIZES, PLANNED_HOST_SIZE
from ..core.errors import InputError
from ..generate.capacity import CapacityOptions
from ..contract.model import Platform
from ..contract.names import DEFAULT_REGISTRY
from ..output import cyclic_gc_paused, tree_writer
from .common import check_out_folder, positive

if TYPE_CHECKING:
    from ..generate.files import GenerateOptions

NAME = "generate"
HELP = "write Dockerfiles, compose, Kubernetes and hosts.yaml from a plan"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("plan_dir", type=Path, help="folder holding plan.json (from assess)")
    parser.add_argument("--out", type=Path, help="output directory (default: the plan's folder)")
    add_generate_options(parser)


def add_generate_options(parser: argparse.ArgumentParser) -> None:
    """Add the container-definition and capacity options (of `generate` and `assess --generate`)."""
    g = parser.add_argument_group("container definitions and capacity plan")
    g.add_argument("--experimental-k8s-hyperv", action="store_true",
                   help="give Hyper-V isolated workloads Kubernetes manifests with RuntimeClass runhcs-wcow-hypervisor "
                        "(not supported by Kubernetes or AKS)")
    g.add_argument("--registry", default=DEFAULT_REGISTRY,
                   help="registry the images are pushed to, e.g. myregistry.azurecr.io/hyperdock "
                        f"(default {DEFAULT_REGISTRY}, which never resolves)")
    g.add_argument("--platform", choices=(*(p.value for p in Platform), "aks"), default=Platform.AZURE.value,
                   help="where the containers run; aks: Windows node pools for what AKS can run (aks.yaml), "
                        "Azure hosts for the rest")
    g.add_argument("--node-size", default=AKS_WINDOWS_NODE_SIZE, help="with --platform aks: Azure size of the Windows nodes")
    g.add_argument("--host-size", default=PLANNED_HOST_SIZE,
                   help=f"Azure size of a host ({', '.join(AZURE_SIZES)}); with --platform onprem use --host-vcpus/--host-memory-gib")
    g.add_argument("--host-vcpus", type=positive, help="vCPUs of an on-premises host")
    g.add_argument("--host-memory-gib", type=positive, help="memory of an on-premises host, GiB")
    g.add_argument("--edition", choices=("datacenter", "standard"), default="datacenter",
                   help="Windows Server edition of the hosts (Standard: 2 Hyper-V isolated containers per host)")


def generate_settings(args: argparse.Namespace) -> GenerateOptions:
    """Return the GenerateOptions the options of `add_generate_options` ask for.

    Raises InputError naming the option for a combination that cannot work.
    """
    from ..generate.aks import AksOptions
    from ..generate.files import GenerateOptions

    from components.platforms import SizeOptions, host_platform

    # aks: AKS node pools for what AKS can run (aks.yaml), Azure hosts for the rest.
    hosts = host_platform(Platform.AZURE if args.platform == "aks" else args.platform)
    size = hosts.host_size(SizeOptions(args.host_size, args.host_vcpus, args.host_memory_gib))
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
        capacity=CapacityOptions(platform=hosts.platform, size=size, edition=args.edition),
        aks=aks,
    )


def run(args: argparse.Namespace) -> int:
    options = generate_settings(args)
    out = args.out or args.plan_dir
    check_out_folder(out)
    with cyclic_gc_paused():
        return _generate(args, options, out)


def _generate(args: argparse.Namespace, options: GenerateOptions, out: Path) -> int:
    """Write the result of `generate` into `out`; return the exit code."""
    from ..generate.files import generate
    from ..contract.packaged import read_packaged, with_packaged_parameters
    from ..contract.plan_io import plan_from_document, read_plan_document
    from ..report import render_report

    plan_path = args.plan_dir / "plan.json"
    plan = read_plan_document(plan_path)
    # Parameters `hyperdock package` found in the configs (package.json) join the plan's.
    packaged = with_packaged_parameters(plan_from_document(plan, str(plan_path)), read_packaged(args.plan_dir))
    # Each file goes to the writer as soon as it is rendered: creating files overlaps rendering.
    with tree_writer(out) as tree:
        try:
            _, generated = generate(packaged, options, tree.put)
            tree.put("report.md", render_report(plan, generated))
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            # plan.json passed its schema but is not what assess writes: edited by hand, or by another version.
            raise InputError(str(plan_path), f"cannot generate from this plan ({type(exc).__name__}: {str(exc)[:80]}); "
                                             "re-run `hyperdock assess` to write it again") from None
        if os.path.abspath(out) == os.path.abspath(args.plan_dir):
            # The plan stays part of the result it is written into (and listed in its manifest).
            tree.put("plan.json", plan_path.read_bytes())
    print(f"hyperdock: wrote {len(tree.written)} files under {out}", file=sys.stderr)
    return 0
