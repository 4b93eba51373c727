"""How far an export has got, for the background jobs' progress bars.

The row generators (tabular.py, json_export.py) report each batch of rows they read; a job
sets a callback for its thread with `reporting`; a streamed download sets none, and reporting
costs it one context-variable lookup per batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_callback: ContextVar[Callable[[int], None] | None] = ContextVar("export_progress", default=None)


def report_rows(n: int) -> None:
    callback = _callback.get()
    if callback is not None:
        callback(n)


@contextmanager
def reporting(callback: Callable[[int], None]) -> Iterator[None]:
    token = _callback.set(callback)
    try:
        yield
    finally:
        _callback.reset(token)
