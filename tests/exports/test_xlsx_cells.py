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


def test_turns_whose_seqs_have_gaps_are_exported_in_order(db, volunteer, organizer, tmp_path):
    """Turns stored with gaps in their seqs (not by the sync API, which numbers them 0, 1, …,
    but by an older import or a hand repair) still come out one row each, in seq order, the
    same in the workbook as in turns.csv."""
    import sqlalchemy as sa

    seed(db, volunteer[0])
    with db.get_bind().begin() as conn:
        conn.execute(sa.text("UPDATE turn SET seq = seq * 3 + 2"))
    client, _ = organizer
    set_id = make_set(client)
    turns_csv = list(
        csv.reader(
            io.StringIO(read_zip(client.get(f"/sets/{set_id}/export.zip").content)["turns.csv"][1:])
        )
    )
    path = tmp_path / "export.xlsx"
    path.write_bytes(client.get(f"/sets/{set_id}/export.xlsx").content)
    wb = load_workbook(path, read_only=True)
    rows = [[_text(v) for v in row] for row in wb["turns"].iter_rows(values_only=True)]
    wb.close()
    rows = [(row + [""] * 5)[:5] for row in rows]
    assert rows == turns_csv
    seqs = [int(r[1]) for r in rows[1:]]
    assert len(seqs) > 3 and all(s % 3 == 2 for s in seqs)
    per_hearing: dict[str, list[int]] = {}
    for r in rows[1:]:
        per_hearing.setdefault(r[0], []).append(int(r[1]))
    assert all(v == sorted(v) for v in per_hearing.values())
