"""`report.md`: what a person acts on, rendered from the plan alone (GitHub renders the Mermaid)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterator, NamedTuple

from .contract.model import Target
from .contract.names import data_mount

_MERMAID_UNSAFE = re.compile(r"[^A-Za-z0-9 ._:/-]")
TARGET_LABEL = {Target.PROCESS: "container, process isolation", Target.HYPERV: "container, Hyper-V isolation",
                Target.VM: "stays a VM"}
MAX_DIAGRAM_NODES = 60  # GitHub's renderer gives up on much larger diagrams


def render_report(plan: dict, generated=None) -> str:
    """Return the Markdown report for `plan`; with `generated` (from `generate`), link the files."""
    return "".join(report_chunks(plan, generated))


def report_chunks(plan: dict, generated=None) -> Iterator[str]:
    """Yield `render_report(plan, generated)` in pieces: a section, or a batch of workloads, at a time.

    At 50k VMs the report is 33 MB of text: written as it is rendered, it is never held whole.
    """
    lines: list[str] = []
    out = lines.append
    summary = plan["summary"]
    out("# hyperdock assessment")
    out("")
    out(f"{summary['workloads']} workloads assessed for **{plan['hostOS']}** container hosts "
        f"(build {plan['hostBuild']}), tenancy `{plan['options']['tenancy']}`.")
    out("")
    out("| target | workloads |")
    out("|---|---:|")
    for target, count in summary["byTarget"].items():
        out(f"| {TARGET_LABEL[target]} | {count} |")
    out("")
    out("| fit | workloads |")
    out("|---|---:|")
    for fit, count in summary["byFit"].items():
        out(f"| {fit} | {count} |")
    out("")
    if generated is not None:
        _definitions(plan, generated, out)
    by_name = _by_name(plan)
    _waves(plan, by_name, out)
    yield _taken(lines)
    _shared(plan, out)
    _graph(plan, out)
    yield _taken(lines)
    _groups(plan, by_name, out)
    yield _taken(lines)
    out("## Findings per workload")
    out("")
    workloads = plan["workloads"]
    seen = _Rendered(tables={}, images={})
    for start in range(0, len(workloads), _BATCH):
        for w in workloads[start:start + _BATCH]:
            _workload(w, out, generated, seen)
        yield _taken(lines)
    yield _taken(lines)


_BATCH = 500  # workloads per chunk of report_chunks


class _Rendered(NamedTuple):
    """Parts of the per-workload sections rendered so far, rendered once for the workloads that repeat them.

    `tables`: findings tables by id() of their list; assess's plan shares one list among the workloads
    with the same findings (migrate/plan.py). Every list stays alive in the plan while the report is
    rendered, so an id is not reused meanwhile. `images`: the base image and host line, by its values.
    """

    tables: dict[int, str]
    images: dict[tuple, str]


def _taken(lines: list[str]) -> str:
    """Return `lines` as text, each ended by a line break, and empty the list."""
    text = "\n".join(lines) + "\n" if lines else ""
    lines.clear()
    return text


# Every character str.splitlines() breaks at: CR, NEL, U+2028/9 and the rest end a Markdown line
# in some renderer, and would let an inventory value start a heading or a table row of its own.
_LINE_BREAKS = re.compile("[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")
_BACKTICKS = re.compile("`+")


# Rule ids, severities, messages and remediations repeat across thousands of workloads: each
# distinct value is escaped once (typed, so True and 1 stay apart).
@lru_cache(maxsize=1 << 16, typed=True)
def _cell(text: object) -> str:
    """Return `text` as one line of Markdown text, safe in a table cell: breaks, pipes and backticks escaped."""
    return _LINE_BREAKS.sub(" ", str(text)).replace("|", "\\|").replace("`", "\\`")


@lru_cache(maxsize=1 << 16, typed=True)
def _code(text: object) -> str:
    """Return `text` as a one-line code span, fenced with more backticks than it holds in a row."""
    line = _LINE_BREAKS.sub(" ", str(text)).replace("|", "\\|")
    fence = "`" * (max((len(m) for m in _BACKTICKS.findall(line)), default=0) + 1)
    pad = " " if line.startswith("`") or line.endswith("`") else ""
    return f"{fence}{pad}{line}{pad}{fence}"


def _by_name(plan: dict) -> dict[str, dict]:
    """Workloads by name; with duplicate names the first (by vmId) stands for them in tables."""
    by_name: dict[str, dict] = {}
    for w in plan["workloads"]:
        by_name.setdefault(w["name"], w)
    return by_name


def _waves(plan: dict, by_name: dict[str, dict], out) -> None:
    rows: dict[tuple, str] = {}
    out("## Waves")
    out("")
    if not plan["waves"]:
        out("No workload migrates.")
        out("")
    for wave in plan["waves"]:
        out(f"### Wave {wave['wave']} ({wave['environment']})")
        out("")
        for note in wave["notes"]:
            out(f"> {note}")
            out("")
        out("| workload | target | fit | base image | move group | application |")
        out("|---|---|---|---|---|---|")
        for name in wave["workloads"]:
            w = by_name[name]
            # The row after the name is the same for a move group's members: rendered once (all strings).
            key = (w["target"], w["fit"], w["baseImage"], w["moveGroup"], w["tags"].get("app", ""))
            rest = rows.get(key)
            if rest is None:
                rest = rows[key] = (f"| {w['target']} | {w['fit']} | {_code(w['baseImage'])} | {_cell(w['moveGroup'])} | "
                                    f"{_cell(key[4])} |")
            out(f"| {_cell(name)} {rest}")
        out("")


def _shared(plan: dict, out) -> None:
    out("## Shared infrastructure (stays out of waves)")
    out("")
    out(", ".join(_cell(n) for n in plan["sharedInfrastructure"]) or "None found.")
    out("")


def _graph(plan: dict, out) -> None:
    graph = plan["graph"]
    out("## Dependencies")
    out("")
    out("Most depended-on workloads: " + (", ".join(
        f"{_cell(d['name'])} ({d['dependants']})" for d in graph["mostDependedOn"]) or "none") + ".")
    out("")
    out(f"Cycles: {len(graph['cycles'])}." + "".join(
        f"\n- {' ↔ '.join(_cell(n) for n in cycle)}" for cycle in graph["cycles"][:20]))
    out("")
    out(f"External dependencies: {len(graph['external'])}." + "".join(
        f"\n- {_code(e['address'])} from {', '.join(_cell(n) for n in e['dependants'])}" for e in graph["external"][:50]))
    out("")
    if graph.get("connections"):
        out(f"Counting: {_cell(graph['connections'])}; `--chatty-connections` {plan['options']['chattyConnections']} "
            "applies to that count.")
        out("")
    for warning in graph.get("warnings", []):
        out(f"> Warning: {_cell(warning)}")
        out("")


_NODE_IDS = tuple(f"n{i}" for i in range(MAX_DIAGRAM_NODES))


def _groups(plan: dict, by_name: dict[str, dict], out) -> None:
    out("## Move groups")
    out("")
    for group in plan["moveGroups"]:
        waves = ", ".join(map(str, group["waves"])) or "none (stays VM)"
        reasons = ", ".join(group["reasons"]) or "alone"
        members = group["workloads"]
        out(f"### {_cell(group['id'])}: {', '.join(map(_cell, members[:8]))}{' …' if len(members) > 8 else ''}\n\n"
            f"Wave {waves}; held together by: {reasons}.\n")
        if 1 < len(members) <= MAX_DIAGRAM_NODES:
            out("```mermaid\nflowchart LR")
            # A name repeated in a group (VMs of one name) keeps its last id and a line per member.
            ids = dict(zip(members, _NODE_IDS))
            for name in members:
                out(f'  {ids[name]}["{_mermaid(name)}<br/>{by_name[name]["target"]}"]')
            for name in members:
                arrow = f"  {ids[name]} -->|"
                for dep in by_name[name]["dependsOn"]:
                    target = ids.get(dep["name"])
                    if target is not None:
                        ports = dep["ports"]  # most edges have one port: formatted as it is, not joined
                        out(f"{arrow}{ports[0] if len(ports) == 1 else ','.join(map(str, ports[:4]))}| {target}")
            out("```\n")


def _mermaid(text: str) -> str:
    return _MERMAID_UNSAFE.sub("_", text)


def _definitions(plan: dict, generated, out) -> None:
    out("## Container definitions")
    out("")
    out("[hosts.yaml](hosts.yaml) is the capacity plan the Pulumi program builds; `compose/` holds a "
        "compose file per host of it, each running its workloads with their isolation; `k8s/` holds the "
        "Kubernetes manifests; `containers/<name>/` a Dockerfile each, with `content/` placeholders "
        "for the application files and, where domain identities were used, `gmsa.ps1`.")
    out("")
    if getattr(generated, "aks", None):
        _aks(generated.aks, out)
    elif generated.kubernetes_skipped:
        out("> Kubernetes and AKS do not support Hyper-V isolation: no manifests for "
            + ", ".join(f"`{label}`" for label in generated.kubernetes_skipped)
            + ". Run them with compose or on the hosts of `hosts.yaml`, or generate with "
              "`--experimental-k8s-hyperv` (RuntimeClass `runhcs-wcow-hypervisor`, containerd >= 1.7).")
        out("")


def _aks(aks: dict, out) -> None:
    """The AKS plan in a paragraph and a table: pools, retargeted images, what stays on hosts."""
    summary = aks["summary"]
    out(f"[aks.yaml](aks.yaml) plans {summary['windowsNodes']} Windows nodes ({aks['nodeSize']['name']}, "
        f"at most {aks['maxPods']} pods each) in {len(aks['pools'])} node pools for {summary['workloadsOnAks']} workloads, "
        f"beside a Linux system pool of {aks['systemPool']['count']} {aks['systemPool']['vmSize']}.")
    out("")
    out("| pool | osSKU | tenant / zone | nodes (min–max) | workloads |")
    out("|---|---|---|---|---:|")
    for pool in aks["pools"]:
        out(f"| {pool['name']} | {pool['osSku']} | {_cell(pool['tenant'] or '-')} / {_cell(pool['zone'] or '-')} | "
            f"{pool['nodeCount']} ({pool['minCount']}–{pool['maxCount']}) | {len(pool['workloads'])} |")
    out("")
    if summary["retargeted"]:
        out(f"> Retargeted to ltsc2022 base images, because AKS node pools run Windows Server 2022 and a pool runs "
            f"containers of its own build only (process isolation): "
            + ", ".join(f"`{label}`" for label in summary["retargeted"]) + ". Test them on ltsc2022.")
        out("")
    if aks["stayOnHosts"]:
        out("> Not on AKS; these stay on hyperdock's hosts (`hosts.yaml`, `compose/`): "
            + "; ".join(f"{_code(s['workload'])} ({_cell(s['reason'])})" for s in aks["stayOnHosts"]) + ".")
        out("")


@lru_cache(maxsize=None)
def _data_drives(drives: tuple[str, ...]) -> str:
    """The note on a container's volumes for the VM's other drives: where they are, and that they start empty."""
    where = ", ".join(f"`{drive}:` at `{data_mount(drive)}`" for drive in drives)
    return (f"Data drives: the VM's {where}, each a volume of its own (compose, Kubernetes, the hosts' `docker run`). "
            "A new volume is empty: copy the data in before the cut-over, and point settings and scripts that "
            "name these drives at their folders.\n")


def _workload(w: dict, out, generated, seen: _Rendered) -> None:
    """One workload's heading, base image, files and findings table."""
    wave = f"wave {w['wave']}" if w["wave"] else "no wave"
    key = (w["baseImage"], w["baseImageReason"], w["host"], w["confidence"])  # strings (or None), by the schema
    image = seen.images.get(key)
    if image is None:
        if w["baseImage"]:
            image = (f"Base image {_code(w['baseImage'])} ({_cell(w['baseImageReason'])}). Host {_cell(w['host'])}; "
                     f"confidence {_cell(w['confidence'])}.")
        else:
            image = f"Host {_cell(w['host'])}; confidence {_cell(w['confidence'])}."
        seen.images[key] = image
    out(f"### {_cell(w['name'])}: {TARGET_LABEL[w['target']]} ({_cell(w['fit'])}, {wave})\n\n{image}\n")
    drives = (w.get("container") or {}).get("dataDrives")
    if drives:
        out(_data_drives(tuple(drives)))
    files = generated.files.get(w["vmId"], []) if generated is not None else []
    if files:
        out("Files: " + ", ".join(f"[{f.split('/')[-1] if f.startswith('containers/') and f.endswith('Dockerfile') else f}]({f})"
                                  for f in files if not f.endswith("README.txt")) + ".\n")
    findings = w["findings"]
    table = seen.tables.get(id(findings))
    if table is None:
        table = seen.tables[id(findings)] = "\n".join([
            "| rule | severity | finding | remediation |", "|---|---|---|---|",
            *(f"| {_code(f['rule'])} | {_cell(f['severity'])} | {_cell(f['message'])} | {_cell(f['remediation'])} |"
              for f in findings), ""])
    out(table)
