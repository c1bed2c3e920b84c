"""Check registered inputs against the installed pulumi-azure-native SDK's own input types and enums.

Mocks accept any property; Azure does not. This walks what a resource registered (camelCase, as
the engine sends it) through the SDK's generated `*Args` classes: every property name must be one
the SDK declares (`@pulumi.getter(name=...)`), every nested object must match its `*Args` type,
and every value of an enum-typed property must be one of the enum's members (the SDK types
these `Union[str, Enum]`, but the service validates them against the enum).
"""

from __future__ import annotations

import collections.abc
import enum
import importlib
import sys
import typing

import pulumi

SECRET_SIG = "4dabf18193072939515e22adb298388d"
# Enums the SDK itself calls deprecated and open: VirtualMachineSizeTypes' docstring says the list is
# deprecated and sizes come from the resource SKU APIs, so sizes are judged by migrate/core/azure.py.
OPEN_ENUMS = {"VirtualMachineSizeTypes"}
_PULUMI_NAME = "_pulumi_name"  # set by pulumi.getter on each property's getter (pulumi/_types.py)


def args_class(type_token: str) -> type:
    """Return the SDK's args class of a resource type token, e.g. azure-native:compute:VirtualMachine."""
    _, module_name, class_name = type_token.split(":")
    module = importlib.import_module(f"pulumi_azure_native.{module_name}")
    for candidate in (f"{class_name}InitArgs", f"{class_name}Args"):
        if hasattr(module, candidate):
            return getattr(module, candidate)
    raise LookupError(f"no args class for {type_token}")


def _properties(cls: type) -> dict[str, typing.Any]:
    """Return {engine name: type hint} of an SDK input type."""
    module = sys.modules[cls.__module__]
    namespace = dict(vars(module))
    namespace.update({"pulumi": pulumi, "Optional": typing.Optional, "Union": typing.Union,
                      "Sequence": typing.Sequence, "Mapping": typing.Mapping})
    result = {}
    for klass in reversed(cls.__mro__):
        for value in vars(klass).values():
            if isinstance(value, property) and hasattr(value.fget, _PULUMI_NAME):
                annotation = value.fget.__annotations__.get("return")
                result[getattr(value.fget, _PULUMI_NAME)] = (_resolve(annotation, namespace), namespace)
    return result


def _resolve(annotation, namespace):
    if isinstance(annotation, str):
        return eval(annotation, namespace)  # the SDK's own annotation text, evaluated in its module
    return annotation


def _candidates(hint, namespace: dict) -> tuple[list[type], list[type[enum.Enum]], bool]:
    """Return (args classes, enums, whether a sequence) a hint allows, looking through Input/Optional/Union."""
    classes, enums, sequence = [], [], False
    stack = [hint]
    while stack:
        h = stack.pop()
        if isinstance(h, typing.ForwardRef):
            if h.__forward_arg__ in namespace:  # 'SecurityProfileArgs'; 'Output[T]' is not a type to check
                stack.append(namespace[h.__forward_arg__])
            continue
        origin = typing.get_origin(h)
        if origin in (collections.abc.Mapping, dict):
            continue  # tags and free-form settings: string keys, judged by the service
        if origin in (collections.abc.Sequence, list):
            sequence = True
        if origin is not None:
            stack.extend(typing.get_args(h))  # Union, Optional, pulumi.Input/Output, Awaitable, Sequence
        elif isinstance(h, type) and issubclass(h, enum.Enum):
            if h.__name__ not in OPEN_ENUMS:
                enums.append(h)
        elif isinstance(h, type) and h.__name__.endswith("Args"):
            classes.append(h)
    return classes, enums, sequence


def _unwrap(value):
    if isinstance(value, dict) and SECRET_SIG in value:
        return value.get("value")
    return value


def check(type_token: str, props: dict) -> list[str]:
    """Return the problems of `props` (a registered resource's inputs, camelCase) against the SDK."""
    return _check_object(args_class(type_token), props, type_token)


def _check_object(cls: type, props: dict, path: str) -> list[str]:
    problems = []
    known = _properties(cls)
    for name, value in props.items():
        if name not in known:
            problems.append(f"{path}.{name}: not an input of {cls.__name__}")
            continue
        problems += _check_value(*known[name], _unwrap(value), f"{path}.{name}")
    return problems


def _check_value(hint, namespace: dict, value, path: str) -> list[str]:
    classes, enums, sequence = _candidates(hint, namespace)
    if isinstance(value, list) and sequence:
        return [p for i, item in enumerate(value) for p in _check_value(hint, namespace, _unwrap(item), f"{path}[{i}]")]
    if isinstance(value, dict) and classes:
        return _check_object(classes[0], value, path)
    if isinstance(value, str) and enums:
        allowed = {member.value for e in enums for member in e}
        if value not in allowed:
            return [f"{path}: {value!r} is not one of {sorted(allowed)}"]
    return []
