"""`hyperdock package`: fill each workload's build context from an extraction.

For every container workload of the plan, each content part the Dockerfile COPYs
(`containers/<label>/content/<folder>/`) is filled from the matching part of
`DIR/<vmId>/manifest.json` (matched by guest path). Files are verified against the manifest while
they are copied; configuration files are rewritten so secrets come from the container's
parameters (configs.py); logs, temporary files and keys stay out. Everything is staged beside the
build context first and swapped in only when every workload is staged: bad input changes nothing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import InputError
from ..contract import packaged
from ..contract.model import Plan, Workload
from ..contract.names import parameters_secret
from ..contract.plan_io import read_plan
from ..interrupts import interrupts_deferred
from ..output import to_json, write_file
from .archive import is_archive, unpack
from .configs import (SCANNED_EXTENSIONS, ConfigError, holds_secret, is_config_file, rewrite_config,
                      rewrite_json_settings)
from .extraction import Extraction, Part, copy_verified, read_extraction, unlisted_files
from .parts import ContentPart, content_parts, exclusion_reason, normalize_guest_path

PACKAGE_SCHEMA_ID = packaged.PACKAGE_SCHEMA_ID
TEXT_LIMIT = 16 * 1024 * 1024  # configuration and script text is read whole: real ones are far smaller
STAGING = ".hyperdock-package.tmp"
RETIRED = ".hyperdock-package.old"
BUILDER_DLL = "Microsoft.Configuration.ConfigurationBuilders.Environment.dll"
DOCKERIGNORE = """\
# Written by `hyperdock package`: keeps keys, certificates, logs and scratch files out of the
# image even if someone copies them into content/ by hand, and the deployment files out of the
# build context.
**/*.pfx
**/*.p12
**/*.key
**/*.log
**/*.tmp
**/*.dmp
content/*/logs
content/*/log
content/*/temp
content/*/tmp
gmsa.ps1
*_credspec.json
"""


@dataclass(frozen=True, slots=True)
class PackageOptions:
    max_file_bytes: int = 512 * 1024 * 1024      # a larger file is left out, with its reason
    max_layer_bytes: int = 8 * 1024 * 1024 * 1024  # a larger application layer is refused
    max_archive_bytes: int = 64 * 1024 * 1024 * 1024  # a zip that unpacks to more is refused


def package(plan_dir: Path, content_dir: Path, options: PackageOptions = PackageOptions()) -> dict:
    """Fill the build contexts under `plan_dir` from `content_dir`; return the report (also written as package.json).

    Raises InputError (nothing changed) for a bad plan, a missing build context, or an unsafe or
    inconsistent extraction.
    """
    plan = read_plan(plan_dir / "plan.json")
    if is_archive(content_dir):
        # Beside the build contexts: the same disk, not a small /tmp.
        with tempfile.TemporaryDirectory(prefix=".hyperdock-extract-", dir=plan_dir) as temporary:
            root = unpack(content_dir, Path(temporary), options.max_archive_bytes)
            try:
                return _fill(plan, plan_dir, root, content_dir.name, options)
            except InputError as exc:  # name the archive, not the temporary folder
                raise InputError(exc.where.replace(temporary, f"{content_dir}!"), exc.message, exc.field) from None
    if not content_dir.is_dir():
        raise InputError(str(content_dir), "neither a folder nor a zip archive: expected the extraction "
                                           "(DIR/<vmId>/manifest.json)")
    return _fill(plan, plan_dir, content_dir, content_dir.name, options)


def _fill(plan: Plan, plan_dir: Path, content_dir: Path, shown: str, options: PackageOptions) -> dict:
    labels = plan.labels
    workloads = plan.containers
    staged: list[tuple[Path, list[str]]] = []
    reports = []
    try:
        for w in workloads:
            context = plan_dir / "containers" / labels[w.vm_id]
            if not context.is_dir() or context.is_symlink():
                raise InputError(str(context), "no build context here: run `hyperdock generate` first")
            report, folders = _stage_workload(w, labels[w.vm_id], context, content_dir, options)
            reports.append(report)
            if folders:
                staged.append((context, folders))
    except BaseException:
        for context, _ in staged:
            shutil.rmtree(context / STAGING, ignore_errors=True)
        for w in workloads:
            shutil.rmtree(plan_dir / "containers" / labels[w.vm_id] / STAGING, ignore_errors=True)
        raise
    with interrupts_deferred():  # a handful of renames per workload that must not stop half-way
        for context, folders in staged:
            _swap(context, folders)
    # One file at a time: the folder is generate's result, whose other files must stay as they are.
    for r in reports:
        if r["parts"]:
            write_file(plan_dir / "containers" / r["label"] / ".dockerignore", _dockerignore(r))
    used = {w.vm_id.lower() for w in workloads}
    unused = sorted(e.name for e in os.scandir(content_dir) if e.is_dir(follow_symlinks=False) and e.name.lower() not in used)
    document = {"schema": PACKAGE_SCHEMA_ID, "content": shown, "workloads": reports,
                "unusedExtractions": unused}   # VMs that stay VMs, or are not in the plan
    write_file(plan_dir / "package.json", to_json(document))
    return document


def _stage_workload(w: Workload, label: str, context: Path, content_dir: Path, options: PackageOptions) -> tuple[dict, list[str]]:
    staging = context / STAGING
    if os.path.lexists(staging):
        if staging.is_symlink():
            raise InputError(str(staging), "is a link; refused")
        shutil.rmtree(staging)
    extraction = read_extraction(content_dir, w.vm_id)
    # Windows and .NET match variable names without case.
    plan_parameters = {v.lower() for v in w.container.parameter_variables()}
    report = {"name": w.name, "label": label, "vmId": w.vm_id, "parts": [], "notExtracted": [], "leftOut": [],
              "parameters": [], "findings": [], "layerBytes": 0}
    by_source = {normalize_guest_path(p.source): p for p in (extraction.parts if extraction else [])}
    folders = []
    for expected in content_parts(w):
        part = by_source.get(normalize_guest_path(expected.guest_path))
        if part is None:
            report["notExtracted"].append({"folder": f"content/{expected.folder}", "source": expected.guest_path,
                                           "reason": "no extraction for this VM" if extraction is None else
                                           "no part with this guest path in the manifest"})
            continue
        report["parts"].append(_stage_part(extraction, part, expected, staging / expected.folder, report, options))
        folders.append(expected.folder)
    report["layerBytes"] = sum(p["bytes"] for p in report["parts"])
    if report["layerBytes"] > options.max_layer_bytes:
        raise InputError(extraction.where if extraction else label,
                         f"the application layer of {label} would be {report['layerBytes']} bytes, over the limit of "
                         f"{options.max_layer_bytes} (--max-layer-mib)")
    for parameter in report["parameters"]:
        parameter["inPlan"] = parameter["env"].lower() in plan_parameters
    for env in sorted({p["env"] for p in report["parameters"] if not p["inPlan"]}):
        report["findings"].append(f"{env} is not a parameter of the plan: give the container this secret too "
                                  f"(compose: {env}= in secrets/{label}.env; Kubernetes: key {env} of Secret "
                                  f"{parameters_secret(label)}; Pulumi: hyperdock:workloadSecrets); run `hyperdock generate` "
                                  "on this folder again to add it to compose, k8s and start.ps1 (the Pulumi program "
                                  "reads package.json itself)")
    report["parameters"].sort(key=lambda p: (p["file"], p["env"]))
    report["leftOut"].sort(key=lambda e: e["path"])
    return report, folders


def _stage_part(extraction: Extraction, part: Part, expected: ContentPart, target: Path, report: dict,
                options: PackageOptions) -> dict:
    """Copy one part into `target`, verified; return its summary and add to the workload's report.

    Configuration files go first: the section files they name (configSource) are inlined into
    them and then stay out.
    """
    base = f"content/{expected.folder}"
    stats = {"files": 0, "bytes": 0}
    target.mkdir(parents=True)
    for entry in part.skipped:
        report["leftOut"].append({"path": f"{base}/{entry['path']}", "reason": f"left on the guest: {entry['reason']}"})
    for relative in unlisted_files(extraction, part):
        report["leftOut"].append({"path": f"{base}/{relative}", "reason": "not in the manifest"})
    inlined: dict[str, str] = {}
    ordered = sorted(part.files, key=lambda f: not is_config_file(f.path))
    for item in ordered:
        reason = exclusion_reason(item.path)
        if reason is None and item.size > options.max_file_bytes:
            reason = f"{item.size} bytes, over the limit of {options.max_file_bytes} (--max-file-mib)"
        if reason is None and item.path in inlined:
            reason = f"inlined into {inlined[item.path]} (its secrets go through the configuration builder)"
        if reason is not None:
            report["leftOut"].append({"path": f"{base}/{item.path}", "reason": reason})
            continue
        try:
            _stage_file(extraction, part, item, target, f"{base}/{item.path}", report, stats, inlined,
                        builders=not (expected.runtime or "").lower().startswith("v2"))
        except OSError as exc:
            raise InputError(f"{extraction.root / part.folder}/{item.path}", f"cannot be copied: {exc.strerror}") from None
    return {"folder": base, "source": part.source, "files": stats["files"], "bytes": stats["bytes"],
            "ownReadme": any(f.path.lower() == "readme.txt" for f in part.files)}


def _stage_file(extraction: Extraction, part: Part, item, target: Path, shown: str, report: dict, stats: dict,
                inlined: dict[str, str], builders: bool) -> None:
    """Stage one file: configs rewritten, other configuration text checked for secrets, the rest copied."""
    destination = target.joinpath(*item.path.split("/"))
    destination.parent.mkdir(parents=True, exist_ok=True)
    lower = item.path.lower()
    if (is_config_file(item.path) or lower.endswith(SCANNED_EXTENSIONS)) and item.size > TEXT_LIMIT:
        if is_config_file(item.path):
            raise InputError(f"{extraction.root / part.folder}/{item.path}",
                             f"{item.size} bytes: too large for a configuration file (at most {TEXT_LIMIT})")
        report["leftOut"].append({"path": shown, "reason": f"{item.size} bytes: too large to check for secrets "
                                  f"(at most {TEXT_LIMIT}); supply it at run time"})
        return
    if is_config_file(item.path):
        output = _rewritten_config(extraction, part, item, shown, report, inlined, builders)
    elif lower.endswith(SCANNED_EXTENSIONS):
        data = copy_verified(extraction, part, item, None)
        output = data
        if holds_secret(data):
            rewrite = rewrite_json_settings(data) if lower.endswith(".json") else None
            if rewrite is None or rewrite.data is None or holds_secret(rewrite.data):
                report["leftOut"].append({"path": shown, "reason": "holds a secret-looking value that hyperdock cannot "
                                          "move into a parameter: supply this file at run time"})
                return
            output = rewrite.data
            _note(rewrite, shown, report)
    else:
        copy_verified(extraction, part, item, destination)
        stats["files"] += 1
        stats["bytes"] += item.size
        return
    destination.write_bytes(output)
    stats["files"] += 1
    stats["bytes"] += len(output)


def _note(rewrite, shown: str, report: dict) -> None:
    for parameter in rewrite.parameters:
        report["parameters"].append(dict(parameter, file=shown))
    report["findings"].extend(f"{shown}: {finding}" for finding in rewrite.findings)


def _rewritten_config(extraction: Extraction, part: Part, item, shown: str, report: dict, inlined: dict[str, str],
                      builders: bool) -> bytes:
    data = copy_verified(extraction, part, item, None)
    folder = item.path.rsplit("/", 1)[0] + "/" if "/" in item.path else ""
    by_path = {f.path.lower(): f for f in part.files}

    def external(name: str) -> bytes | None:
        entry = by_path.get((folder + name).lower())
        if entry is None:
            return None
        inlined[entry.path] = shown
        return copy_verified(extraction, part, entry, None)

    try:
        rewrite = rewrite_config(data, external, builders)
    except ConfigError as exc:
        where = f"{extraction.root / part.folder / item.path}" + (f":{exc.line}" if exc.line else "")
        raise InputError(where, str(exc)) from None
    _note(rewrite, shown, report)
    if builders and rewrite.data is not None and any(p["section"] in ("connectionStrings", "appSettings")
                                                     for p in rewrite.parameters):
        beside = f"{folder}bin/{BUILDER_DLL}" if item.path.lower().endswith("web.config") else f"{folder}{BUILDER_DLL}"
        if beside.lower() not in by_path:
            report["findings"].append(
                f"{shown}: now reads secrets through ConfigurationBuilders, but {base_of(shown)}{beside} is not in the "
                "content: the image build (configure-config.ps1) adds the pinned NuGet package "
                "Microsoft.Configuration.ConfigurationBuilders.Environment and .Base to the application's folder "
                "(bin for a web application); a .NET Framework 4.7.1+ app is needed")
    return rewrite.data if rewrite.data is not None else data


def _dockerignore(report: dict) -> str:
    """The fixed patterns, plus generate's placeholder README of each packaged part (it comes back when
    generate runs again, and would otherwise be served from the site)."""
    placeholders = [f"{p['folder']}/README.txt" for p in report["parts"] if not p["ownReadme"]]
    return DOCKERIGNORE + "".join(f"{line}\n" for line in placeholders)


def base_of(shown: str) -> str:
    """Return `content/<folder>/` of a shown path."""
    return "/".join(shown.split("/")[:2]) + "/"


def _swap(context: Path, folders: list[str]) -> None:
    """Move each staged folder into content/, replacing what was there (the placeholder README)."""
    content = context / "content"
    if content.is_symlink():
        raise InputError(str(content), "is a link; refused")
    content.mkdir(exist_ok=True)
    retired = context / RETIRED
    shutil.rmtree(retired, ignore_errors=True)
    retired.mkdir()
    for folder in folders:
        current = content / folder
        if os.path.lexists(current):
            os.replace(current, retired / folder)
        os.replace(context / STAGING / folder, current)
    shutil.rmtree(retired, ignore_errors=True)
    shutil.rmtree(context / STAGING, ignore_errors=True)


def summary_lines(document: dict) -> list[str]:
    """Return one line per workload for the terminal: what was packaged, left out, and the layer size."""
    lines = []
    if document["unusedExtractions"]:
        lines.append(f"{len(document['unusedExtractions'])} extraction(s) of VMs that are not container workloads "
                     "of the plan: not used")
    for r in document["workloads"]:
        if not r["parts"]:
            lines.append(f"{r['label']}: nothing extracted; {len(r['notExtracted'])} part(s) keep their placeholder")
            continue
        files = sum(p["files"] for p in r["parts"])
        missing = f", {len(r['notExtracted'])} part(s) not extracted" if r["notExtracted"] else ""
        names = ", ".join(sorted({p["env"] for p in r["parameters"]}))
        lines.append(f"{r['label']}: {files} files in {len(r['parts'])} part(s), layer {r['layerBytes']} bytes; "
                     f"{len(r['leftOut'])} left out{missing}" + (f"; parameters {names}" if names else ""))
    return lines
