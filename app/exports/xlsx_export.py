"""The XLSX export: the CSV export's four tables as sheets of one workbook.

XlsxWriter (constant-memory mode) makes the workbook: its parts, styles, sheet names and header
rows, with rows going to a temporary file per sheet as they are written, so memory stays flat.
Its write_row costs ~10 µs a cell, and 100,000 hearings are ~25 million cells, so the data rows
are written into that same row file by _RowWriter as the <row> XML that XlsxWriter would write
(inline strings, numbers, dates with the workbook's date style), about ten times faster; the
dimensions are then set as XlsxWriter's own writes would have set them (tests/exports read the
file back with openpyxl and compare every cell with the CSV). The finished workbook (a zip) is
then streamed to the client and deleted. Text is written as text, never as a formula, a number or
a link, whatever it looks like. A sheet holds at most 1,048,576 rows in Excel: longer tables
continue on "turns (2)", ….
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import tempfile
import types
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import xlsxwriter.workbook
from xlsxwriter import Workbook
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from app.exports.read_ahead import read_ahead
from app.exports.tabular import ExportContext, hearing_rows, observation_rows, turn_sheet_rows

MAX_ROWS = 1_048_576  # Excel's limit, header included
ROWS_AT_ONCE = 500  # rows of XML written to the sheet's file at once
CHUNK = 256 * 1024
# Control characters XML 1.0 cannot hold (Excel refuses a file with them).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _clean(row: list[Any]) -> list[Any]:
    return [_ILLEGAL.sub("", v) if isinstance(v, str) and _ILLEGAL.search(v) else v for v in row]


EXCEL_EPOCH = date(1899, 12, 30)
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_PRESERVE = ' xml:space="preserve"'  # keep a text's leading and trailing spaces


class _RowWriter:
    """Data rows of one constant-memory worksheet, written as <row> XML into its row file."""

    def __init__(self, ws: Worksheet, date_style: int) -> None:
        self.ws = ws
        self.date_style = date_style
        self.letters: list[str] = []
        self.templates: dict[tuple[type, ...], str | bool | None] = {}
        self.pending: list[str] = []
        self.width = 0

    def start(self) -> None:
        """Flush what XlsxWriter holds (the header row) so that our rows follow it."""
        self.ws._write_single_row(self.ws.previous_row + 1)

    def _template(self, kinds: tuple[type, ...]) -> str | None:
        """The <row> XML of rows whose cells have these types, as a str.format template
        ({0} the row number, then the non-empty cells in order); None for other types."""
        letters = self.letters
        if len(kinds) > len(letters):
            letters.extend(xl_col_to_name(c) for c in range(len(letters), len(kinds)))
        cells = []
        arg = 0
        for letter, kind in zip(letters, kinds, strict=False):
            if kind is type(None):
                continue
            arg += 1
            if kind is str:
                cells.append(
                    f'<c r="{letter}{{0}}" t="inlineStr"><is><t{_PRESERVE}>{{{arg}}}</t></is></c>'
                )
            elif kind is int or kind is float:
                cells.append(f'<c r="{letter}{{0}}"><v>{{{arg}!r}}</v></c>')
            elif kind is date:
                cells.append(f'<c r="{letter}{{0}}" s="{self.date_style}"><v>{{{arg}}}</v></c>')
            else:
                return None
        return '<row r="{0}">' + "".join(cells) + "</row>"

    def write(self, index: int, row: list[Any]) -> None:
        """One row; rows of a shape met before (nearly all) take one str.format call."""
        kinds = tuple(map(type, row))
        template = self.templates.get(kinds, False)
        if template is False:
            template = self.templates[kinds] = self._template(kinds)
        self.width = max(self.width, len(row))
        if template is not None and "" not in row:
            texts = [v for v in row if type(v) is str]
            text = "".join(texts)
            # In XML text only & and < need escaping (and > in "]]>"): scripts hold many >.
            if (
                "&" not in text
                and "<" not in text
                and "]]>" not in text
                and all(v == v.strip() for v in texts)  # else xml:space="preserve"
                and not _ILLEGAL.search(text)
            ):
                values = [v for v in row if v is not None]
                if date in kinds:
                    values = [(v - EXCEL_EPOCH).days if type(v) is date else v for v in values]
                self._add(template.format(index + 1, *values))
                return
        self._write_any(index, _clean(row))

    def add_rows(self, xml: str, width: int) -> None:
        """Rows already written as XML, `width` cells wide at most."""
        self.width = max(self.width, width)
        self._add(xml)

    def _add(self, xml: str) -> None:
        pending = self.pending
        pending.append(xml)
        if len(pending) >= ROWS_AT_ONCE:
            self.ws.fh.write("".join(pending))
            pending.clear()

    def _write_any(self, index: int, row: list[Any]) -> None:
        """One row of any cells (text to escape, empty text, other types), cell by cell."""
        letters = self.letters
        if len(row) > len(letters):
            letters.extend(xl_col_to_name(c) for c in range(len(letters), len(row)))
        n = str(index + 1)
        parts = [f'<row r="{n}">']
        add = parts.append
        for letter, value in zip(letters, row, strict=False):
            kind = type(value)
            if kind is str:
                if value:
                    text = value.translate(_ESCAPES)
                    add(f'<c r="{letter}{n}" t="inlineStr"><is><t{_PRESERVE}>{text}</t></is></c>')
            elif kind is int or kind is float:
                add(f'<c r="{letter}{n}"><v>{value!r}</v></c>')
            elif kind is bool:
                add(f'<c r="{letter}{n}" t="b"><v>{int(value)}</v></c>')
            elif kind is date:
                serial = (value - EXCEL_EPOCH).days
                add(f'<c r="{letter}{n}" s="{self.date_style}"><v>{serial}</v></c>')
            elif value is not None:
                text = (value.isoformat() if isinstance(value, datetime) else str(value)).translate(
                    _ESCAPES
                )
                add(f'<c r="{letter}{n}" t="inlineStr"><is><t{_PRESERVE}>{text}</t></is></c>')
        add("</row>")
        self._add("".join(parts))

    def finish(self, last_index: int) -> None:
        """Write what is pending; set the sheet's dimensions as XlsxWriter's writes would."""
        ws = self.ws
        ws.fh.write("".join(self.pending))
        self.pending.clear()
        if last_index > (ws.dim_rowmax or 0):
            ws.dim_rowmax = last_index
        if self.width and self.width - 1 > (ws.dim_colmax or 0):
            ws.dim_colmax = self.width - 1
        ws.previous_row = last_index + 1


def _copy_rows_as_bytes(ws: Worksheet) -> None:
    """Worksheet._write_optimized_sheet_data, copying the rows' file into the sheet's as
    bytes: XlsxWriter reads it back as text, decoding and encoding hundreds of megabytes."""
    if ws.dim_rowmin is None or not hasattr(ws.fh, "buffer"):
        Worksheet._write_optimized_sheet_data(ws)
        return
    ws._xml_start_tag("sheetData")
    ws.row_data_fh.flush()
    ws.fh.flush()
    with open(ws.row_data_filename, "rb") as rows:
        shutil.copyfileobj(rows, ws.fh.buffer, CHUNK)
    ws.row_data_fh.close()
    os.unlink(ws.row_data_filename)
    ws._xml_end_tag("sheetData")


def _add_sheet(wb: Workbook, name: str, header: list[str]) -> _RowWriter:
    """A constant-memory worksheet with its header row, ready for a _RowWriter's rows."""
    ws = wb.add_worksheet(name)
    ws._write_optimized_sheet_data = types.MethodType(_copy_rows_as_bytes, ws)  # type: ignore[method-assign]
    ws.write_row(0, 0, header)
    writer = _RowWriter(ws, wb.default_date_format._get_xf_index())
    writer.start()
    return writer


def _write_table(wb: Workbook, title: str, header: list[str], rows: Iterable[list[Any]]) -> None:
    part = 1
    writer = _add_sheet(wb, title, header)
    write = writer.write
    used = 1
    for row in rows:
        if used >= MAX_ROWS:
            writer.finish(used - 1)
            part += 1
            writer = _add_sheet(wb, f"{title} ({part})", header)
            write = writer.write
            used = 1
        write(used, row)
        used += 1
    writer.finish(used - 1)


def _write_turns(
    wb: Workbook, title: str, header: list[str], hearings: Iterable[tuple[str, str, Any]]
) -> None:
    """The turns sheet(s) from tabular.turn_sheet_rows: a hearing's rows are one format of
    the template the database built, unless they cross into the next sheet (or their seqs
    are not 0, 1, …), when each row is formatted on its own."""
    width = len(header)

    part = 1
    writer = _add_sheet(wb, title, header)
    used = 1  # the next row's index (the header is row 0)
    for hearing_id, template, seqs in hearings:
        n = len(seqs)
        if used + n <= MAX_ROWS and isinstance(seqs, range):
            writer.add_rows(template.format(*range(used + 1, used + n + 1), h=hearing_id), width)
            used += n
            continue
        numbers = [0] * (max(seqs) + 1)
        for seq, row in zip(seqs, template.split("</row>"), strict=False):
            if used >= MAX_ROWS:
                writer.finish(used - 1)
                part += 1
                writer = _add_sheet(wb, f"{title} ({part})", header)
                used = 1
            numbers[seq] = used + 1
            writer.add_rows((row + "</row>").format(*numbers, h=hearing_id), width)
            used += 1
    writer.finish(used - 1)


def new_workbook(path: Path) -> Workbook:
    """A workbook that writes rows straight to disk and never reinterprets a cell's text."""
    return Workbook(
        str(path),
        {
            "constant_memory": True,
            "tmpdir": str(path.parent),
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "default_date_format": "yyyy-mm-dd",
        },
    )


def write_workbook(conn: sa.Connection, ctx: ExportContext, path: Path) -> None:
    layout = ctx.layout
    wb = new_workbook(path)
    _write_table(wb, "hearings", [c.name for c in layout.hearings], hearing_rows(conn, ctx))  # fmt: skip
    _write_table(wb, "observations", [c.name for c in layout.observations], observation_rows(conn, ctx))  # fmt: skip
    turns = read_ahead(turn_sheet_rows(conn, ctx))  # nothing else uses conn meanwhile
    _write_turns(wb, "turns", [c.name for c in layout.turns], turns)
    _write_table(wb, "codebook", layout.codebook_header(), layout.codebook())
    with _fast_deflate():
        wb.close()


@contextlib.contextmanager
def _fast_deflate() -> Iterator[None]:
    """Zip the workbook at deflate level 1 (as the CSV export does) instead of 6: a third of
    the export's time went to compressing the sheets' XML, for a file a fifth smaller.
    XlsxWriter has no option for it; it makes its ZipFile by this module-level name."""
    saved = xlsxwriter.workbook.ZipFile
    xlsxwriter.workbook.ZipFile = functools.partial(zipfile.ZipFile, compresslevel=1)  # type: ignore[misc]
    try:
        yield
    finally:
        xlsxwriter.workbook.ZipFile = saved  # type: ignore[misc]


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
