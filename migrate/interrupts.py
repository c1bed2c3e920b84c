"""SIGINT and SIGTERM while hyperdock writes: raised as `Interrupted` so cleanups run, or held over a swap."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived; raised where Python next runs, unwinding every cleanup."""


def _raise_interrupted(signum, frame) -> None:
    raise Interrupted(signal.Signals(signum).name)


@contextmanager
def interrupts_raise() -> Iterator[None]:
    """Turn SIGTERM (and SIGINT) into `Interrupted` for the duration, so cleanups run on both."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _raise_interrupted) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block is done, then raise `Interrupted` if one came.

    Around the swap: a handful of renames that must not stop half-way.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous = {s: signal.signal(s, lambda signum, frame: pending.append(signum)) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if pending:
        raise Interrupted(signal.Signals(pending[0]).name)
