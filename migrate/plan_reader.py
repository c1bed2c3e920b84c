"""Reading a plan.json back (for `generate`): parsed, then checked against plan.schema.json."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

import jsonschema
import jsonschema_rs
import orjson

from .core.errors import InputError
from .plan import PLAN_SCHEMA_ID
from .tolerant import binding_problem


@lru_cache(maxsize=None)
def schema(name: str) -> dict:
    """Return one of hyperdock's JSON Schemas (`plan`, `inventory`, `hosts`)."""
    text = resources.files("migrate").joinpath("schemas", f"{name}.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@lru_cache(maxsize=None)
def compiled(name: str):
    """Return a compiled (Rust) validator of one of hyperdock's schemas, for the yes/no fast path."""
    return jsonschema_rs.validator_for(schema(name))


def read_plan(path: Path) -> dict:
    """Return the plan in `path`; raise InputError naming the field that breaks hyperdock/plan@1.

    Fast path first: orjson parses and the compiled validator says yes or no (0.2 s for a 50k-VM
    plan, where the pure-Python validator takes tens of seconds). Only a plan it rejects goes
    through `jsonschema`, whose messages are the ones hyperdock has always given.
    """
    where = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(where, f"cannot read file: {exc.strerror}; run `hyperdock assess` first") from None
    try:
        plan = orjson.loads(raw)  # refuses NaN, lone surrogates, numbers past a double, nesting past 1024
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{where}:{exc.lineno}", f"not valid JSON: {exc.msg}") from None
    if not isinstance(plan, dict) or plan.get("schema") != PLAN_SCHEMA_ID:
        raise InputError(where, f"expected schema {PLAN_SCHEMA_ID!r}", "schema")
    if compiled("plan").is_valid(plan):
        _check_workloads(plan["workloads"], where)
        return plan
    try:
        error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema("plan")).iter_errors(plan))
    except RecursionError:
        raise InputError(where, "nested too deeply to be a plan") from None
    if error is not None:
        field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
        raise InputError(where, error.message[:300], field or None)
    _check_workloads(plan["workloads"], where)
    return plan


def _check_workloads(workloads: list[dict], where: str) -> None:
    """Raise InputError for what the schema cannot say: one record per vmId, and containers to generate from."""
    seen: dict[str, int] = {}
    for i, w in enumerate(workloads):
        field = f"workloads[{i}]"
        if w["vmId"] in seen:
            raise InputError(where, f"vmId {str(w['vmId'])[:60]!r} appears twice (also workloads[{seen[w['vmId']]}]); "
                                    "expected one workload per VM", f"{field}.vmId")
        seen[w["vmId"]] = i
        if w["target"] not in ("process", "hyperv"):
            continue
        container = w.get("container")
        if not isinstance(container, dict):
            raise InputError(where, f"a {w['target']} workload needs its container object", f"{field}.container")
        for s, site in enumerate(container.get("iisSites") or []):
            for b, binding in enumerate(site.get("bindings") or []):
                problem = binding_problem(binding) if isinstance(binding, str) else "expected a string"
                if problem:
                    raise InputError(where, problem, f"{field}.container.iisSites[{s}].bindings[{b}]")
