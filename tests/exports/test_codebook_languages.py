"""The codebook lists each column's label and choices in every language the protocol has
(XLSForm's `label::es` convention), while the data keep the stable keys."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from app.protocols import service as protocol_service
from tests.analysis.builders import hearing, send_observation
from tests.exports.builders import COURT, definition_v1, make_set, read_zip


def _spanish_definition() -> dict:
    d = definition_v1()
    questions = {q["key"]: q for s in d["sections"] for q in s["questions"]}
    questions["safety_mentioned"]["translations"] = {
        "es": {"label": "¿Se mencionó la seguridad de la víctima?"}
    }
    questions["components"]["translations"] = {"es-MX": {"label": "Componentes de la sentencia"}}
    jail = next(c for c in questions["components"]["choices"] if c["value"] == "jail")
    jail["translations"] = {"es": {"label": "Cárcel"}}
    questions["nco"]["translations"] = {"es": {"label": "Orden de no contacto"}}
    return d  # "Who decided the sentence?", "Probation", … have no Spanish


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def _exported_set(db, volunteer, organizer, definition: dict, hearings: list) -> tuple:
    """A protocol published with `definition`, one observation of it sent through the sync
    API, and a set of everything: (organizer's client, set id, the CSV zip's files)."""
    version = protocol_service.publish(
        session=db,
        version=protocol_service.create_protocol(
            session=db, name=definition["title"], definition=definition, created_by_id=None
        ),
    )
    send_observation(volunteer[0], protocol_version_id=version.id, court=COURT, hearings=hearings)
    client, _ = organizer
    set_id = make_set(client)
    return client, set_id, read_zip(client.get(f"/sets/{set_id}/export.zip").content)


def _header(files: dict) -> list[str]:
    return next(csv.reader(io.StringIO(files["codebook.csv"].removeprefix("\ufeff"))))


def test_codebook_gives_labels_and_choices_in_each_language_with_english_where_missing(
    db, volunteer, organizer, tmp_path
):
    client, set_id, files = _exported_set(
        db,
        volunteer,
        organizer,
        _spanish_definition(),
        [hearing([("judge", 0, 4000)], {"safety_mentioned": "no", "components": ["jail"]})],
    )
    header = _header(files)
    assert header[-2:] == ["label::es", "choices::es"]
    book = {r["column"]: r for r in _rows(files["codebook.csv"]) if r["file"] == "hearings.csv"}

    safety = book["safety_mentioned"]
    assert safety["label"] == "Victim safety mentioned?"
    assert safety["label::es"] == "¿Se mencionó la seguridad de la víctima?"
    assert safety["choices::es"] == "yes=Sí; no=No; not_observed=No observado"
    assert safety["choices"] == "yes=Yes; no=No; not_observed=Not observed"
    assert book["components__jail"]["label::es"] == "Componentes de la sentencia: Cárcel"
    assert book["components__probation"]["label::es"] == "Componentes de la sentencia: Probation"
    assert book["nco"]["choices::es"] == book["nco"]["choices"]  # no Spanish choices: as written
    assert book["decided_by"]["label::es"] == "Who decided the sentence?"  # never blank
    assert all(r["label::es"] for r in book.values())
    # The fixed columns in the interface's Spanish; the base label stays English.
    assert book["session_date"]["label"] == "Date of the court sitting"
    assert book["session_date"]["label::es"] == "Fecha de la sesión del tribunal"
    assert book["hearing_id"]["label::es"] == "La audiencia (un caso visto)"
    assert book["courtroom"]["label::es"] == "Sala"
    note = next(r for r in _rows(files["codebook.csv"]) if r["type"] == "note")
    assert note["label"].startswith("Text cells that begin with")
    assert note["label::es"].startswith("Las celdas de texto que empiezan por")
    turns = {r["column"]: r for r in _rows(files["codebook.csv"]) if r["file"] == "turns.csv"}
    assert turns["seq"]["label::es"] == "Orden del turno dentro de la audiencia, desde 0"

    # The data keep the keys, whatever the language of the labels.
    hearings = _rows(files["hearings.csv"])
    assert hearings[0]["safety_mentioned"] == "no" and hearings[0]["components__jail"] == "1"

    path = tmp_path / "export.xlsx"
    path.write_bytes(client.get(f"/sets/{set_id}/export.xlsx").content)
    wb = load_workbook(path, read_only=True)
    sheet = list(wb["codebook"].iter_rows(values_only=True))
    assert list(sheet[0]) == header
    by_column = {row[1]: row for row in sheet[1:] if row[0] == "hearings.csv"}
    assert by_column["safety_mentioned"][-2] == "¿Se mencionó la seguridad de la víctima?"
    assert by_column["session_date"][-2] == "Fecha de la sesión del tribunal"
    wb.close()


def test_a_protocol_in_english_only_has_no_language_columns(db, volunteer, organizer):
    _, _, files = _exported_set(
        db, volunteer, organizer, definition_v1(), [hearing([("judge", 0, 1000)], {})]
    )
    assert not [name for name in _header(files) if "::" in name]
