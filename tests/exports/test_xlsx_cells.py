"""The XLSX export holds the same cells as the CSV export, awkward text included."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from openpyxl import load_workbook

from tests.analysis.builders import hearing, send_observation
from tests.exports.builders import COURT, make_set, read_zip, seed

AWKWARD = '  Tom & Jerry <b>said</b> "=1+1", then: 3 > 2 \t'


def _text(value: object) -> str:
    """An XLSX cell as the CSV export writes it."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value)


def test_every_xlsx_cell_equals_the_csv_cell(db, volunteer, organizer, tmp_path):
    world = seed(db, volunteer[0])
    send_observation(
        volunteer[0],
        protocol_version_id=world.v1.id,  # type: ignore[arg-type]
        court=COURT,
        session_answers={"debrief_notes": AWKWARD},
        hearings=[hearing([("judge", 0, 1)], {"remarks": "http://example.org/=SUM(A1)"})],
    )
    client, _ = organizer
    set_id = make_set(client)
    files = read_zip(client.get(f"/sets/{set_id}/export.zip").content)
    path = tmp_path / "export.xlsx"
    path.write_bytes(client.get(f"/sets/{set_id}/export.xlsx").content)
    wb = load_workbook(path, read_only=True)
    for sheet in ("hearings", "observations", "turns", "codebook"):
        csv_rows = list(csv.reader(io.StringIO(files[f"{sheet}.csv"][1:])))
        xlsx_rows = [[_text(v) for v in row] for row in wb[sheet].iter_rows(values_only=True)]
        width = len(csv_rows[0])
        xlsx_rows = [(row + [""] * width)[:width] for row in xlsx_rows]
        assert xlsx_rows == csv_rows, sheet
    notes = [row for row in wb["observations"].iter_rows(values_only=True) if AWKWARD in row]
    assert len(notes) == 1  # text kept exactly, leading and trailing spaces too
    wb.close()
