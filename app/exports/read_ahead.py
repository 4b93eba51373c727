"""Reading an export's rows one step ahead, in a thread of its own (see read_ahead)."""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Iterator
from typing import Any

_END = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def read_ahead(rows: Iterator[Any], *, at_once: int = 200, depth: int = 8) -> Iterator[Any]:
    """`rows`, read in a thread of their own up to `depth` lists of `at_once` ahead.

    The database builds the next rows (SQLite's and psycopg's waits release the GIL) while
    this thread turns the previous ones into the file, so two cores share an export; at
    most depth × at_once rows wait in memory. Whatever `rows` reads from must not be used
    by anyone else until this generator ends. The thread runs in a copy of this context
    (export progress is reported from it) and is stopped and joined however this generator
    ends; its error is raised here."""
    waiting: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                waiting.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            batch: list[Any] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= at_once:
                    if not put(batch):
                        return
                    batch = []
            if batch and not put(batch):
                return
            put(_END)
        except BaseException as exc:  # raised again in the reading thread
            put(_Failed(exc))

    thread = threading.Thread(target=contextvars.copy_context().run, args=(produce,), daemon=True)
    thread.start()
    try:
        while True:
            item = waiting.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield from item
    finally:
        stop.set()
        thread.join()
        close = getattr(rows, "close", None)
        if close is not None:
            close()  # the query's cursor, in this thread once the other has stopped
