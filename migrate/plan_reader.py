"""Reading a plan.json back (for `generate`): parsed, then checked against plan.schema.json."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

import jsonschema

from .errors import InputError
from .plan import PLAN_SCHEMA_ID


@lru_cache(maxsize=None)
def schema(name: str) -> dict:
    """Return one of hyperdock's JSON Schemas (`plan`, `inventory`, `hosts`)."""
    text = resources.files("migrate").joinpath("schemas", f"{name}.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def read_plan(path: Path) -> dict:
    """Return the plan in `path`; raise InputError naming the field that breaks hyperdock/plan@1."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(where, f"cannot read file: {exc.strerror}; run `hyperdock assess` first") from None
    try:
        plan = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}:{exc.lineno}", f"not valid JSON: {exc.msg}") from None
    if not isinstance(plan, dict) or plan.get("schema") != PLAN_SCHEMA_ID:
        raise InputError(where, f"expected schema {PLAN_SCHEMA_ID!r}", "schema")
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema("plan")).iter_errors(plan))
    if error is not None:
        field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
        raise InputError(where, error.message, field or None)
    return plan
