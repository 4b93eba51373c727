"""The XLSX export: the CSV export's four tables as sheets of one workbook.

openpyxl's write-only mode streams each sheet's rows to a temporary file as they are appended,
so memory stays flat; the finished workbook (a zip) is then streamed to the client and deleted.
A sheet holds at most 1,048,576 rows in Excel: longer tables continue on "turns (2)", ….
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from openpyxl import Workbook

from app.exports.codebook import CODEBOOK_HEADER
from app.exports.tabular import ExportContext, hearing_rows, observation_rows, turn_rows

MAX_ROWS = 1_048_576  # Excel's limit, header included
CHUNK = 256 * 1024
# Control characters XML 1.0 cannot hold (openpyxl refuses them).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _clean(row: list[Any]) -> list[Any]:
    return [_ILLEGAL.sub("", v) if isinstance(v, str) and _ILLEGAL.search(v) else v for v in row]


def _write_table(
    wb: Workbook, title: str, header: list[str], rows: Iterable[list[Any]], *, check_text: bool
) -> None:
    part = 1
    ws = wb.create_sheet(title)
    ws.append(header)
    used = 1
    for row in rows:
        if used >= MAX_ROWS:
            part += 1
            ws = wb.create_sheet(f"{title} ({part})")
            ws.append(header)
            used = 1
        ws.append(_clean(row) if check_text else row)
        used += 1


def write_workbook(conn: sa.Connection, ctx: ExportContext, path: Path) -> None:
    layout = ctx.layout
    wb = Workbook(write_only=True)
    _write_table(wb, "hearings", [c.name for c in layout.hearings], hearing_rows(conn, ctx), check_text=True)  # fmt: skip
    _write_table(wb, "observations", [c.name for c in layout.observations], observation_rows(conn, ctx), check_text=True)  # fmt: skip
    # Turn rows hold ids, role keys and numbers only: no text to clean.
    _write_table(wb, "turns", [c.name for c in layout.turns], turn_rows(conn, ctx), check_text=False)  # fmt: skip
    _write_table(wb, "codebook", CODEBOOK_HEADER, layout.codebook(), check_text=True)
    wb.save(path)


def export_xlsx(
    connect: Callable[[], sa.Connection], ctx: ExportContext, *, tmp_dir: Path | None = None
) -> Iterator[bytes]:
    """The workbook's bytes: built into a temporary file, streamed, then deleted."""
    fd, name = tempfile.mkstemp(prefix="courtwatch-export-", suffix=".xlsx", dir=tmp_dir)
    os.close(fd)
    path = Path(name)
    try:
        with connect() as conn:
            write_workbook(conn, ctx, path)
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                yield chunk
    finally:
        path.unlink(missing_ok=True)
