"""XLSForm in and out: pyxform accepts what we write, a round trip gives the same definition,
forms written the way ODK and KoboToolbox forms are written come in, and every row Courtwatch
cannot hold is listed with its sheet and row while nothing is stored."""

from __future__ import annotations

import copy
import html
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from pyxform.xls2xform import convert
from sqlmodel import select

from app.protocols.definition import load_default_protocol, parse_definition
from app.protocols.models import Protocol, ProtocolVersion
from app.protocols.xlsform import XLSFormRejected, from_xlsform, to_xlsform
from tests.protocols.factories import published_protocol

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(
    survey: list[list[Any]],
    choices: list[list[Any]] | None = None,
    settings: list[list[Any]] | None = None,
) -> bytes:
    """An XLSForm as a person writes it in a spreadsheet: the first row names the columns."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "survey"
    for line in survey:
        sheet.append(line)
    for title, lines in (("choices", choices), ("settings", settings)):
        if lines:
            extra = book.create_sheet(title)
            for line in lines:
                extra.append(line)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def pyxform_accepts(raw: bytes, tmp_path: Path) -> str:
    path = tmp_path / "form.xlsx"
    path.write_bytes(raw)
    result = convert(xlsform=str(path))
    assert result.xform.startswith("<?xml")
    return result.xform


def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return parse_definition(a).model_dump(exclude_defaults=True) == parse_definition(b).model_dump(
        exclude_defaults=True
    )


def bilingual_default() -> dict[str, Any]:
    """The default protocol with Spanish labels on a few parts of every kind."""
    document = load_default_protocol()
    document["translations"] = {"es": {"title": "Calendario de sentencias"}}
    section = document["sections"][2]
    section["translations"] = {"es": {"title": "La audiencia"}}
    for question in section["questions"]:
        question["translations"] = {"es": {"label": "¿" + question["label"] + "?"}}
        for choice in question.get("choices", []):
            choice["translations"] = {"es": {"label": choice["label"] + " (es)"}}
    return document


@pytest.mark.parametrize("document", [load_default_protocol(), bilingual_default()])
def test_export_converts_with_pyxform_and_round_trips(document, tmp_path):
    raw = to_xlsform(parse_definition(document), form_id="sentencing", version="3")
    xform = pyxform_accepts(raw, tmp_path)
    assert "victim_present" in xform and "select1" in xform
    back = from_xlsform(raw)
    assert back.notes == []
    assert same(back.definition, document)
    assert back.name == document["title"]


def test_spanish_labels_travel_in_xlsform_columns(tmp_path):
    raw = to_xlsform(parse_definition(bilingual_default()), form_id="s", version="1")
    book = openpyxl.load_workbook(io.BytesIO(raw))
    header = [c.value for c in book["survey"][1]]
    assert "label::English (en)" in header and "label::Español (es)" in header
    xform = pyxform_accepts(raw, tmp_path)
    assert 'lang="Español (es)"' in xform


def test_a_label_that_looks_like_a_formula_is_written_as_text():
    document = copy.deepcopy(load_default_protocol())
    document["sections"][0]["questions"][0]["label"] = "=HYPERLINK(1)"
    raw = to_xlsform(parse_definition(document), form_id="s", version="1")
    book = openpyxl.load_workbook(io.BytesIO(raw))
    cells = [c for row in book["survey"].iter_rows() for c in row if c.value == "=HYPERLINK(1)"]
    assert cells and all(c.data_type == "s" for c in cells)


ODK_FORM = [
    ["type", "name", "label", "hint", "required", "relevant", "constraint", "appearance"],
    ["start", "start", "", "", "", "", "", ""],
    ["end", "end", "", "", "", "", "", ""],
    ["begin group", "hearing", "The hearing", "", "", "", "", "field-list"],
    ["note", "intro", "Do not write the names of victims.", "", "", "", "", ""],
    [
        "select_one yn",
        "victim_present",
        "Was the victim present?",
        "In the room",
        "yes",
        "",
        "",
        "",
    ],
    [
        "select_one yn",
        "advocate",
        "Was an advocate present?",
        "",
        "",
        "${victim_present} = '1'",
        "",
        "",
    ],
    ["select_multiple terms", "sentence", "Sentence", "", "", "", "", ""],
    [
        "integer",
        "jail_days",
        "Jail days",
        "",
        "",
        "selected(${sentence}, 'jail')",
        ". >= 0 and . <= 365",
        "",
    ],
    ["decimal", "fine", "Fine", "", "", "${sentence} = 'fine' or ${sentence} = 'jail'", "", ""],
    ["text", "notes", "Notes", "", "", "", "string-length(.) <= 500", "multiline"],
    ["time", "started", "Start time", "", "", "", "", ""],
    ["end group", "", "", "", "", "", "", ""],
    ["text", "comment", "Anything else?", "", "", "", "", ""],
]
ODK_CHOICES = [
    ["list_name", "name", "label"],
    ["yn", "1", "Yes"],
    ["yn", "0", "No"],
    ["terms", "jail", "Jail"],
    ["terms", "fine", "Fine"],
    ["terms", "probation", "Probation"],
]


def test_an_odk_style_form_comes_in_as_a_draft_definition(tmp_path):
    raw = workbook(ODK_FORM, ODK_CHOICES, [["form_title", "form_id"], ["County watch", "cw"]])
    pyxform_accepts(raw, tmp_path)  # the test form itself is a valid XLSForm
    found = from_xlsform(raw)
    definition = parse_definition(found.definition)
    assert found.name == "County watch"
    assert [s.key for s in definition.sections] == ["hearing", "questions"]
    hearing = definition.sections[0]
    assert hearing.level == "hearing" and "Do not write the names" in hearing.help
    kinds = {q.key: q.type for q in definition.questions()}
    assert kinds == {
        "victim_present": "single_choice",
        "advocate": "single_choice",
        "sentence": "multi_choice",
        "jail_days": "count",
        "fine": "number",
        "notes": "long_text",
        "started": "time",
        "comment": "short_text",
    }
    victim = definition.question("victim_present")
    assert victim.required and victim.help == "In the room"
    assert [c.value for c in victim.choices] == ["c_1", "c_0"]
    advocate = definition.question("advocate")
    assert advocate.show_if.question == "victim_present" and advocate.show_if.equals == "c_1"
    jail = definition.question("jail_days")
    assert (jail.min, jail.max) == (0, 365) and jail.show_if.equals == "jail"
    assert definition.question("fine").show_if.any_of == ["fine", "jail"]
    assert definition.question("notes").max_length == 500
    assert any("start" in note for note in found.notes)


KOBO_FORM = [
    [
        "type",
        "name",
        "label::English (en)",
        "label::Español (es)",
        "hint::English (en)",
        "hint::Español (es)",
        "required",
    ],
    ["begin_group", "sitting", "The sitting", "La sesión", "", "", ""],
    [
        "select_one judge_tone",
        "tone",
        "How did the judge speak?",
        "¿Cómo habló el juez?",
        "To the defendant",
        "Al acusado",
        "true",
    ],
    ["end_group", "", "", "", "", "", ""],
]
KOBO_CHOICES = [
    ["list_name", "name", "label::English (en)", "label::Español (es)"],
    ["judge_tone", "respectful", "Respectfully", "Con respeto"],
    ["judge_tone", "dismissive", "Dismissively", "Con desdén"],
]


def test_a_kobo_style_form_keeps_its_labels_in_each_language(tmp_path):
    raw = workbook(
        KOBO_FORM,
        KOBO_CHOICES,
        [["form_title", "default_language"], ["Juzgado", "English (en)"]],
    )
    pyxform_accepts(raw, tmp_path)
    definition = parse_definition(from_xlsform(raw).definition)
    assert definition.language == "en" and definition.languages() == ["en", "es"]
    tone = definition.question("tone")
    assert tone.label == "How did the judge speak?" and tone.required
    assert tone.translations["es"].label == "¿Cómo habló el juez?"
    assert tone.translations["es"].help == "Al acusado"
    assert tone.choices[1].translations["es"].label == "Con desdén"
    assert definition.sections[0].translations["es"].title == "La sesión"


def test_a_spanish_first_form_keeps_spanish_as_its_language():
    raw = workbook(
        [
            ["type", "name", "label::Español (es)", "label::English (en)"],
            ["integer", "dias", "Días de cárcel", "Jail days"],
        ],
        settings=[["form_title", "default_language"], ["Sentencias", "Español (es)"]],
    )
    definition = parse_definition(from_xlsform(raw).definition)
    assert definition.language == "es"
    assert definition.question("dias").label == "Días de cárcel"
    assert definition.question("dias").translations["en"].label == "Jail days"


def test_rows_courtwatch_cannot_hold_are_listed_with_sheet_and_row():
    raw = workbook(
        [
            ["type", "name", "label", "relevant", "choice_filter", "calculation", "required"],
            ["begin repeat", "people", "People", "", "", "", ""],
            ["text", "role", "Role", "", "", "", ""],
            ["end repeat", "", "", "", "", "", ""],
            ["calculate", "total", "", "", "", "1 + 1", ""],
            ["select_one county", "county", "County", "", "", "", ""],
            ["select_one court", "court", "Court", "", "county=${county}", "", ""],
            ["integer", "days", "Days", "${county} = 'a' and ${court} = 'b'", "", "", ""],
            ["text", "why", "Why", "", "", "", "${days} > 3"],
            ["select_one nowhere", "missing", "Missing list", "", "", "", ""],
            ["geopoint", "where", "Where", "", "", "", ""],
        ],
        [["list_name", "name", "label"], ["county", "a", "A"], ["court", "b", "B"]],
    )
    with pytest.raises(XLSFormRejected) as caught:
        from_xlsform(raw)
    problems = {p.loc: p.msg for p in caught.value.problems}
    assert "Repeats cannot be held" in problems["survey row 2"]
    assert "survey row 4" in problems
    assert "Calculations" in problems["survey row 5"]
    assert "Choice filters" in problems["survey row 7, column choice_filter"]
    assert "comparison with an earlier answer" in problems["survey row 8, column relevant"]
    assert "not a condition" in problems["survey row 9, column required"]
    assert "not in the choices sheet" in problems["survey row 10, column type"]
    assert "Locations" in problems["survey row 11"]


def test_not_a_workbook_is_refused():
    with pytest.raises(XLSFormRejected) as caught:
        from_xlsform(b"PK\x03\x04 not really a zip")
    assert caught.value.problems[0].loc == "file"


def test_trainer_downloads_and_uploads_xlsform_through_the_pages(trainer, db, tmp_path):
    client, _ = trainer
    version = published_protocol(db)
    page = client.get(f"/protocols/versions/{version.id}")
    assert "Download XLSForm" in page.text
    response = client.get(f"/protocols/versions/{version.id}/export.xlsx")
    assert response.status_code == 200 and response.headers["content-type"] == XLSX
    assert "attachment" in response.headers["content-disposition"]
    pyxform_accepts(response.content, tmp_path)

    raw = workbook(KOBO_FORM, KOBO_CHOICES, [["form_title"], ["Tone watch"]])
    uploaded = client.post("/protocols/import", files={"file": ("tone.xlsx", raw, XLSX)})
    assert uploaded.status_code == 303, uploaded.text
    stored = db.exec(select(Protocol).where(Protocol.name == "Tone watch")).one()
    draft = db.exec(select(ProtocolVersion).where(ProtocolVersion.protocol_id == stored.id)).one()
    assert draft.status == "draft"
    assert draft.definition["sections"][0]["questions"][0]["key"] == "tone"


def test_an_upload_with_rows_it_cannot_hold_stores_nothing(trainer, db):
    client, _ = trainer
    before = len(db.exec(select(ProtocolVersion)).all())
    raw = workbook(
        [["type", "name", "label"], ["begin repeat", "r", "R"], ["end repeat", "", ""]],
        settings=[["form_title"], ["Repeats"]],
    )
    response = client.post("/protocols/import", files={"file": ("r.xlsx", raw, XLSX)})
    assert response.status_code == 422
    assert "survey row 2" in response.text and "Repeats cannot be held" in response.text
    db.expire_all()
    assert len(db.exec(select(ProtocolVersion)).all()) == before
    assert db.exec(select(Protocol).where(Protocol.name == "Repeats")).first() is None


def test_a_spanish_trainer_reads_why_a_row_cannot_be_held_in_spanish(trainer, db):
    client, _ = trainer
    raw = workbook(
        [["type", "name", "label"], ["begin repeat", "r", "R"], ["end repeat", "", ""]],
        settings=[["form_title"], ["Repeats"]],
    )
    response = client.post(
        "/protocols/import",
        files={"file": ("r.xlsx", raw, XLSX)},
        headers={"Accept-Language": "es"},
    )
    assert response.status_code == 422
    page = html.unescape(response.text)
    assert "<code>survey, fila 2</code>: No se admiten las repeticiones (repeat)" in page
    assert "survey, fila 3" in page and "Repeats cannot be held" not in page
    # Read outside a request (the CLI), the same workbook is refused in English.
    with pytest.raises(XLSFormRejected) as refused:
        from_xlsform(raw)
    assert refused.value.problems[0].loc == "survey row 2"
    assert refused.value.problems[0].msg.startswith("Repeats cannot be held")


@pytest.mark.parametrize("role", ["volunteer", "organizer"])
def test_only_trainers_and_admins_export_xlsform(client_for, db, role):
    client, _ = client_for(role)
    version = published_protocol(db)
    assert client.get(f"/protocols/versions/{version.id}/export.xlsx").status_code == 403


def run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
    }
    env.pop("SECRET_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], env=env, capture_output=True, text=True
    )


def test_cli_exports_and_imports_xlsform(tmp_path):
    assert run_cli(tmp_path, "db", "upgrade").returncode == 0
    assert run_cli(tmp_path, "seed-demo").returncode == 0
    out = tmp_path / "sentencing.xlsx"
    exported = run_cli(tmp_path, "protocol", "export-xlsform", "1", str(out))
    assert exported.returncode == 0, exported.stderr
    pyxform_accepts(out.read_bytes(), tmp_path)
    imported = run_cli(tmp_path, "protocol", "import-xlsform", str(out))
    assert imported.returncode == 0, imported.stderr
    assert "Imported as draft version 2" in imported.stdout

    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(workbook([["type", "name", "label"], ["calculate", "x", ""]]))
    refused = run_cli(tmp_path, "protocol", "import-xlsform", str(bad))
    assert refused.returncode == 1 and "survey row 2" in refused.stderr
    missing = run_cli(tmp_path, "protocol", "export-xlsform", "999", str(tmp_path / "n.xlsx"))
    assert missing.returncode == 1 and "No protocol version 999" in missing.stderr


def test_the_default_protocol_ships_in_english_and_spanish(tmp_path):
    definition = parse_definition(load_default_protocol())
    assert definition.languages() == ["en", "es"]
    untranslated = [s.key for s in definition.sections if "es" not in s.translations]
    for question in definition.questions():
        parts = [question, *question.choices, *question.roles]
        untranslated += [
            f"{question.key}:{getattr(p, 'value', getattr(p, 'key', ''))}"
            for p in parts
            if "es" not in p.translations
        ]
    assert untranslated == []
    notes = definition.question("observer_notes")
    assert "No escriba nombres de víctimas" in notes.translations["es"].help
    # and the Spanish labels travel to XLSForm
    raw = to_xlsform(definition, form_id="sentencing", version="1")
    assert "¿Quién está hablando?" in pyxform_accepts(raw, tmp_path)
