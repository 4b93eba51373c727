"""Observation sets and their exports, through the real app and database."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from app.exports.models import ObservationSet
from tests.exports.builders import make_set, read_zip, seed


def _table(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff"), "CSV must start with a byte-order mark for Excel"
    return list(csv.reader(io.StringIO(text[1:])))


def _dicts(text: str) -> list[dict[str, str]]:
    header, *rows = _table(text)
    return [dict(zip(header, r, strict=True)) for r in rows]


def test_set_page_counts_observations_and_hearings(db, volunteer, organizer):
    seed(db, volunteer[0])
    client, user = organizer
    set_id = make_set(client, "Room 3B", courtroom="3B")
    page = client.get(f"/sets/{set_id}")
    assert page.status_code == 200
    assert "1</strong> observation," in page.text
    assert "2</strong> hearings" in page.text
    saved = db.get(ObservationSet, set_id)
    assert saved.filters == {"courtroom": "3B"} and saved.owner_id == user.id


def test_set_needs_a_name(organizer, db):
    client, _ = organizer
    response = client.post("/sets", data={"name": "  "})
    assert response.status_code == 422
    assert "This field is required." in response.text
    assert db.exec(select(ObservationSet)).all() == []


def test_csv_columns_match_codebook(db, volunteer, organizer):
    seed(db, volunteer[0])
    client, _ = organizer
    set_id = make_set(client)
    response = client.get(f"/sets/{set_id}/export.zip")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    files = read_zip(response.content)
    assert set(files) == {"hearings.csv", "observations.csv", "turns.csv", "codebook.csv"}
    codebook = _dicts(files["codebook.csv"])
    for name in ("hearings.csv", "observations.csv", "turns.csv"):
        header = _table(files[name])[0]
        described = [row["column"] for row in codebook if row["file"] == name]
        assert header == described, name
    by_column = {(r["file"], r["column"]): r for r in codebook}
    nco = by_column[("hearings.csv", "nco")]
    assert nco["label"] == "No-contact order"
    assert nco["type"] == "single_choice"
    assert "ordered=Ordered" in nco["choices"]
    assert nco["protocol_versions"] == "Export test protocol v1"
    assert by_column[("observations.csv", "influence")]["level"] == "session"
    hearings = _dicts(files["hearings.csv"])
    assert len(hearings) == 3
    assert len(_dicts(files["turns.csv"])) == 6
    first = next(h for h in hearings if h["case_reference"] == "27-CR-26-0001")
    assert first["court"] == "District Court" and first["judge"] == "Judge Ada Alvarez"
    assert first["turn_count"] == "3" and first["first_role"] == "judge"
    assert "speakers" not in _table(files["hearings.csv"])[0]  # the timeline is turns.csv
    turns = _dicts(files["turns.csv"])
    assert {t["hearing_id"] for t in turns} <= {h["hearing_id"] for h in hearings}
    first_turns = [t for t in turns if t["hearing_id"] == first["hearing_id"]]
    assert [(t["seq"], t["role"], t["start_ms"], t["end_ms"]) for t in first_turns] == [
        ("0", "judge", "0", "5000"),
        ("1", "prosecutor", "5000", "9000"),
        ("2", "defense", "9000", "12000"),
    ]


def test_a_filtered_set_exports_only_its_hearings_and_turns(db, volunteer, organizer):
    seed(db, volunteer[0])
    client, _ = organizer
    files = read_zip(client.get(f"/sets/{make_set(client, courtroom='5C')}/export.zip").content)
    hearings = _dicts(files["hearings.csv"])
    assert [h["courtroom"] for h in hearings] == ["5C"]
    turns = _dicts(files["turns.csv"])
    assert [(t["hearing_id"], t["role"]) for t in turns] == [
        (hearings[0]["hearing_id"], "prosecutor")
    ]
    assert len(_dicts(files["observations.csv"])) == 1


def test_multi_choice_becomes_one_0_1_column_per_choice(db, volunteer, organizer):
    seed(db, volunteer[0])
    client, _ = organizer
    files = read_zip(client.get(f"/sets/{make_set(client)}/export.zip").content)
    header = _table(files["hearings.csv"])[0]
    assert "components" not in header
    assert {"components__jail", "components__probation", "components__fine"} <= set(header)
    rows = _dicts(files["hearings.csv"])
    answered = next(r for r in rows if r["case_reference"] == "27-CR-26-0001")
    assert (
        answered["components__jail"],
        answered["components__probation"],
        answered["components__fine"],
    ) == ("1", "0", "1")
    none_chosen = next(r for r in rows if r["courtroom"] == "5C")
    assert none_chosen["components__jail"] == "0"  # answered "none of these"
    unanswered = next(r for r in rows if r["safety_mentioned"] == "no")
    assert unanswered["components__jail"] == ""  # not answered: blank, not 0
    codebook = {r["column"]: r for r in _dicts(files["codebook.csv"])}
    assert codebook["components__jail"]["type"] == "0/1"
    assert codebook["components__jail"]["question_key"] == "components"
    assert codebook["components__jail"]["choice"] == "jail"
    assert codebook["components__jail"]["label"] == "Sentence components: Jail"


def test_set_spanning_two_protocol_versions_gets_the_union(db, volunteer, organizer):
    seed(db, volunteer[0], two_versions=True)
    client, _ = organizer
    files = read_zip(client.get(f"/sets/{make_set(client)}/export.zip").content)
    header = _table(files["hearings.csv"])[0]
    assert "review_set" in header and "components__community_service" in header
    codebook = {
        r["column"]: r for r in _dicts(files["codebook.csv"]) if r["file"] == "hearings.csv"
    }
    assert codebook["review_set"]["protocol_versions"] == "Export test protocol v2"
    assert (
        codebook["components__community_service"]["protocol_versions"] == "Export test protocol v2"
    )
    assert (
        codebook["components__jail"]["protocol_versions"]
        == "Export test protocol v1; Export test protocol v2"
    )
    rows = _dicts(files["hearings.csv"])
    v2_row = next(r for r in rows if r["protocol_version"] == "2")
    assert v2_row["review_set"] == "yes" and v2_row["components__community_service"] == "1"
    v1_rows = [r for r in rows if r["protocol_version"] == "1"]
    assert len(v1_rows) == 3 and all(r["review_set"] == "" for r in v1_rows)


def test_xlsx_has_the_same_sheets_and_columns(db, volunteer, organizer, tmp_path):
    seed(db, volunteer[0], two_versions=True)
    client, _ = organizer
    set_id = make_set(client)
    files = read_zip(client.get(f"/sets/{set_id}/export.zip").content)
    response = client.get(f"/sets/{set_id}/export.xlsx")
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "identity"  # not gzipped a second time
    path = tmp_path / "export.xlsx"
    path.write_bytes(response.content)
    wb = load_workbook(path, read_only=True)
    assert wb.sheetnames == ["hearings", "observations", "turns", "codebook"]
    for sheet in ("hearings", "observations", "turns", "codebook"):
        rows = list(wb[sheet].iter_rows(values_only=True))
        csv_rows = _table(files[f"{sheet}.csv"])
        assert list(rows[0]) == csv_rows[0], sheet
        assert len(rows) == len(csv_rows), sheet
    wb.close()


def test_leaving_out_free_text(db, volunteer, organizer):
    seed(db, volunteer[0])
    client, _ = organizer
    set_id = make_set(client)
    full = read_zip(client.get(f"/sets/{set_id}/export.zip").content)
    assert "remarks" in _table(full["hearings.csv"])[0]
    assert "Quick plea" in full["hearings.csv"]
    assert "The judge set the pace." in full["observations.csv"]
    bare = read_zip(client.get(f"/sets/{set_id}/export.zip?without_free_text=1").content)
    everything = "".join(bare.values())
    assert "Quick plea" not in everything and "set the pace" not in everything
    assert "remarks" not in _table(bare["hearings.csv"])[0]
    assert "notes" not in _table(bare["observations.csv"])[0]
    assert "debrief_notes" not in _table(bare["observations.csv"])[0]
    document = client.get(f"/sets/{set_id}/export.json?without_free_text=1").json()
    assert document["options"]["free_text"] is False
    text = json.dumps(document["observations"])
    assert "Quick plea" not in text and "set the pace" not in text
    assert all(o["notes"] == "" for o in document["observations"])


def test_leaving_out_observer_identities(db, volunteer, organizer):
    vol_client, vol_user = volunteer
    seed(db, vol_client)
    client, _ = organizer
    set_id = make_set(client)
    full = read_zip(client.get(f"/sets/{set_id}/export.zip").content)
    assert (
        vol_user.email in full["hearings.csv"] and vol_user.display_name in full["observations.csv"]
    )
    bare = read_zip(client.get(f"/sets/{set_id}/export.zip?without_identities=1").content)
    everything = "".join(bare.values())
    assert vol_user.email not in everything and vol_user.display_name not in everything
    assert "observer_name" not in _table(bare["hearings.csv"])[0]
    refs = {r["observer_ref"] for r in _dicts(bare["hearings.csv"])}
    assert len(refs) == 1 and refs != {""}  # still tells one observer from another
    document = client.get(f"/sets/{set_id}/export.json?without_identities=1").content.decode()
    assert vol_user.email not in document and vol_user.display_name not in document
    xlsx = client.get(f"/sets/{set_id}/export.xlsx?without_identities=1")
    assert xlsx.status_code == 200


@pytest.mark.parametrize("suffix", ["", "/export.zip", "/export.xlsx", "/export.json"])
def test_only_organizers_and_admins_see_sets_and_exports(
    db, volunteer, trainer, organizer, admin, suffix
):
    seed(db, volunteer[0])
    set_id = make_set(organizer[0])
    path = f"/sets/{set_id}{suffix}"
    assert volunteer[0].get(path).status_code == 403
    assert trainer[0].get(path).status_code == 403
    assert organizer[0].get(path).status_code == 200
    assert admin[0].get(path).status_code == 200


def test_volunteers_and_trainers_cannot_import_or_make_sets(volunteer, trainer):
    for client, _ in (volunteer, trainer):
        assert client.get("/sets").status_code == 403
        assert client.post("/sets", data={"name": "x"}).status_code == 403
        assert client.get("/import").status_code == 403
        files = {"file": ("x.json", b"{}", "application/json")}
        assert client.post("/import", files=files).status_code == 403


def test_json_export_gives_every_turn_in_order_as_the_phone_sent_it(db, volunteer, organizer):
    """The turns are written by the database, one hearing at a time: each hearing's turns
    come back whole and in their order, open turns with a null end, across many hearings."""
    from tests.analysis.builders import hearing, send_observation
    from tests.exports.builders import COURT, publish_v1

    v1 = publish_v1(db)
    roles = ["judge", "prosecutor", "defense"]
    sent = []
    for h in range(12):
        turns = [(roles[(h + i) % 3], i * 1000, i * 1000 + 900) for i in range(35 + h)]
        sent.append(turns)
    sent[0].append(("judge", 99_000, None))  # still open when the hearing ended
    send_observation(
        volunteer[0],
        protocol_version_id=v1.id,
        court=COURT,
        hearings=[hearing(turns, {}) for turns in sent],
        status="draft",
    )
    client, _ = organizer
    set_id = make_set(client, status="draft")
    document = client.get(f"/sets/{set_id}/export.json").json()
    (observation,) = document["observations"]
    got = [
        [(t["role"], t["start_ms"], t["end_ms"]) for t in h["turns"]]
        for h in sorted(observation["hearings"], key=lambda h: h["position"])
    ]
    assert got == sent
    assert all(
        list(t) == ["role", "start_ms", "end_ms"]
        for h in observation["hearings"]
        for t in h["turns"]
    )


def test_xlsx_turns_past_a_sheets_rows_continue_on_the_next_sheet(
    db, volunteer, organizer, tmp_path, monkeypatch
):
    """Excel holds 1,048,576 rows a sheet: turns past that go on "turns (2)", …, each with
    the header, every turn once and in order (the limit made small here to see it)."""
    from app.exports import xlsx_export

    seed(db, volunteer[0], two_versions=True)
    client, _ = organizer
    set_id = make_set(client)
    turns_csv = _table(read_zip(client.get(f"/sets/{set_id}/export.zip").content)["turns.csv"])
    monkeypatch.setattr(xlsx_export, "MAX_ROWS", 4)  # a header and three turns a sheet
    path = tmp_path / "export.xlsx"
    path.write_bytes(client.get(f"/sets/{set_id}/export.xlsx").content)
    wb = load_workbook(path, read_only=True)
    parts = [name for name in wb.sheetnames if name.startswith("turns")]
    data = len(turns_csv) - 1
    assert parts == ["turns"] + [f"turns ({i})" for i in range(2, (data + 2) // 3 + 1)]
    rows = []
    for name in parts:
        sheet = list(wb[name].iter_rows(values_only=True))
        assert list(sheet[0]) == turns_csv[0] and 1 < len(sheet) <= 4
        rows += [list(r) for r in sheet[1:]]
    wb.close()
    expected = [
        [h, int(seq), role, int(start), int(end) if end else None]
        for h, seq, role, start, end in turns_csv[1:]
    ]
    assert rows == expected
