"""The CSV export: a zip of hearings.csv, observations.csv, turns.csv and codebook.csv, streamed.

Each file is written in ~64 KB chunks straight from the database cursor into the zip stream
(zipstream-ng, deflate level 1: most of the time goes to the rows, not the compression).
UTF-8 with a byte-order mark, so Excel opens the files with the right characters.
turns.csv, the largest file (about thirty rows per hearing), is built mostly by the database
(see tabular.turn_csv_lines). Producing it in a worker thread beside hearings.csv was tried
and was slower on two cores: the driver's many short steps wait on the interpreter lock.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from zipstream import ZIP_DEFLATED, ZipStream

from app.exports.codebook import CODEBOOK_HEADER
from app.exports.tabular import ExportContext, hearing_rows, observation_rows, turn_csv_lines

BOM = "\ufeff"
CHUNK = 64 * 1024


def csv_chunks(header: list[str], rows: Iterable[list[Any]]) -> Iterator[bytes]:
    """CSV text of `rows` under `header`, as UTF-8 byte chunks of about CHUNK bytes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def line_chunks(header: list[str], lines: Iterable[str]) -> Iterator[bytes]:
    """Lines already in CSV form (each ending in CRLF) under `header`, as UTF-8 byte chunks."""
    parts = [BOM + ",".join(header) + "\r\n"]
    size = 0
    for line in lines:
        parts.append(line)
        size += len(line)
        if size >= CHUNK:
            yield "".join(parts).encode("utf-8")
            parts.clear()
            size = 0
    yield "".join(parts).encode("utf-8")


def export_zip(connect: Callable[[], sa.Connection], ctx: ExportContext) -> Iterator[bytes]:
    """The zip's bytes, produced as the client reads them; `connect` opens the read connection."""
    layout = ctx.layout
    with connect() as conn:
        zs = ZipStream(compress_type=ZIP_DEFLATED, compress_level=1)
        zs.add(
            csv_chunks([c.name for c in layout.hearings], hearing_rows(conn, ctx)), "hearings.csv"
        )
        zs.add(
            csv_chunks([c.name for c in layout.observations], observation_rows(conn, ctx)),
            "observations.csv",
        )
        zs.add(line_chunks([c.name for c in layout.turns], turn_csv_lines(conn, ctx)), "turns.csv")
        zs.add(csv_chunks(CODEBOOK_HEADER, layout.codebook()), "codebook.csv")
        yield from zs
