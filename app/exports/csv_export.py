"""The CSV export: a zip of hearings.csv, observations.csv, turns.csv and codebook.csv, streamed.

Each file is written in ~64 KB chunks straight from the database cursor into the zip stream
(zipstream-ng, deflate level 1: most of the time goes to the rows, not the compression).
UTF-8 with a byte-order mark, so Excel opens the files with the right characters.
The rows of hearings.csv and observations.csv become text through csv_text: the same text as
csv.writer's, in about half the time. turns.csv, the largest file (about thirty rows per
hearing), is built mostly by the database (see tabular.turn_csv_lines). Producing it in a
worker thread beside hearings.csv was tried and was slower on two cores: the driver's many
short steps wait on the interpreter lock. Making each file's chunks in a worker thread ahead
of the compression was tried too: about a twentieth faster, not reliably so on a busy machine,
for a thread per export that must be stopped and joined when a client goes away.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from zipstream import ZIP_DEFLATED, ZipStream

from app.exports.read_ahead import read_ahead
from app.exports.tabular import ExportContext, hearing_rows, observation_rows, turn_csv_lines

BOM = "\ufeff"
CHUNK = 64 * 1024
ROWS_AT_ONCE = 100  # rows turned into CSV text at once


class _Parts(list[str]):
    """What csv.writer writes into: its lines, kept as they come (cheaper than a StringIO)."""

    write = list.append


def csv_text(rows: list[list[Any]], writer: Any, written: _Parts) -> str:
    """The lines of `rows` (each ending in CRLF) exactly as csv.writer writes them.

    csv.writer looks at every character of every cell in turn, which for a wide table is
    most of the export's time. A row none of whose cells holds a comma, a quote or a line
    break, and that has no None (blank in CSV: rows made for CSV have "" instead), needs
    no quoting: its line is its cells' text joined by commas, which one %-format per row
    makes in less than half the time (the counts below tell whether any cell held one, for
    all the rows at once). The other rows go through `writer`, which writes into `written`.
    """
    widths = set(map(len, rows))
    if len(widths) == 1:  # one %-format for the whole row: faster than joining each cell's str
        line_format = ",".join(["%s"] * widths.pop())
        lines = [line_format % tuple(row) for row in rows]
    else:
        lines = [",".join(map(str, row)) for row in rows]
    text = "\r\n".join(lines)
    breaks = len(lines) - 1
    if (
        text.count(",") == sum(map(len, rows)) - len(rows)
        and text.count("\n") == breaks
        and text.count("\r") == breaks
        and '"' not in text
        and ("None" not in text or all(None not in row for row in rows))
        and all(len(row) > 1 for row in rows)  # csv.writer quotes a lone empty cell
    ):
        return text + "\r\n" if lines else ""
    written.clear()
    for row, line in zip(rows, lines, strict=True):
        if (
            line.count(",") == len(row) - 1
            and len(row) > 1
            and '"' not in line
            and "\n" not in line
            and "\r" not in line
            and ("None" not in line or None not in row)
        ):
            written.append(line + "\r\n")
        else:
            writer.writerow(row)
    return "".join(written)


def csv_chunks(header: list[str], rows: Iterable[list[Any]]) -> Iterator[bytes]:
    """CSV text of `rows` under `header`, as UTF-8 byte chunks of about CHUNK bytes."""
    written = _Parts()
    writer = csv.writer(written, lineterminator="\r\n")
    parts = [BOM, csv_text([header], writer, written)]
    size = 0
    rows = iter(rows)
    while block := list(itertools.islice(rows, ROWS_AT_ONCE)):
        text = csv_text(block, writer, written)
        parts.append(text)
        size += len(text)
        if size >= CHUNK:
            yield "".join(parts).encode("utf-8")
            parts.clear()
            size = 0
    yield "".join(parts).encode("utf-8")


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
            csv_chunks([c.name for c in layout.hearings], hearing_rows(conn, ctx, blank="")),
            "hearings.csv",
        )
        zs.add(
            csv_chunks(
                [c.name for c in layout.observations], observation_rows(conn, ctx, blank="")
            ),
            "observations.csv",
        )
        # The zip reads its files in turn: nothing else uses conn while turns.csv is read.
        turns = read_ahead(turn_csv_lines(conn, ctx), at_once=500)
        zs.add(line_chunks([c.name for c in layout.turns], turns), "turns.csv")
        zs.add(csv_chunks(layout.codebook_header(), layout.codebook()), "codebook.csv")
        yield from zs
