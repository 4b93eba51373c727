"""The version life cycle, editing drafts, JSON in and out, through the real database."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from app.protocols import editing
from app.protocols import service as protocol_service
from app.protocols.models import Protocol, ProtocolVersion
from tests.protocols.factories import published_protocol, small_definition


def test_create_makes_a_draft_version_one(db):
    version = protocol_service.create_protocol(
        session=db, name="  Review  calendar ", created_by_id=None
    )
    assert (version.version, version.status) == (1, "draft")
    protocol = db.get(Protocol, version.protocol_id)
    assert protocol.name == "Review calendar"
    # The blank start has the speaker timeline and a notes field.
    types = [q["type"] for s in version.definition["sections"] for q in s["questions"]]
    assert types == ["speaker_timeline", "long_text"]


def test_names_are_unique_case_insensitively(db):
    protocol_service.create_protocol(session=db, name="Pretrial", created_by_id=None)
    with pytest.raises(protocol_service.DefinitionRejected) as exc:
        protocol_service.create_protocol(session=db, name="PRETRIAL", created_by_id=None)
    assert exc.value.errors[0]["loc"] == "name"


def test_life_cycle_draft_published_retired_and_published_is_frozen(db):
    version = published_protocol(db)
    assert version.status == "published" and version.published_at is not None
    with pytest.raises(protocol_service.VersionLocked, match="is published and cannot change"):
        protocol_service.update_definition(
            session=db, version=version, change=editing.remove_question("safety_mentioned")
        )
    db.refresh(version)
    assert "safety_mentioned" in json.dumps(version.definition)
    with pytest.raises(protocol_service.VersionLocked):
        protocol_service.publish(session=db, version=version)

    draft = protocol_service.new_draft(session=db, version=version, created_by_id=None)
    assert (draft.version, draft.status) == (2, "draft")
    # Asking again gives the same draft, not a third version.
    assert (
        protocol_service.new_draft(session=db, version=version, created_by_id=None).id == draft.id
    )
    protocol_service.update_definition(
        session=db, version=draft, change=editing.remove_question("safety_mentioned")
    )
    protocol_service.publish(session=db, version=draft)
    retired = protocol_service.retire(session=db, version=version)
    assert retired.status == "retired"
    with pytest.raises(protocol_service.VersionLocked):
        protocol_service.retire(session=db, version=retired)

    changes = protocol_service.diff(old=version, new=draft)
    assert [q.key for q in changes.removed] == ["safety_mentioned"]
    assert changes.added == [] and changes.changed == []


def test_an_edit_that_breaks_the_definition_is_refused_and_nothing_changes(db):
    version = protocol_service.create_protocol(
        session=db, name="Breakable", definition=small_definition("Breakable"), created_by_id=None
    )
    before = json.dumps(version.definition, sort_keys=True)
    duplicate = {"key": "could_hear", "type": "yes_no", "label": "Again"}
    with pytest.raises(protocol_service.DefinitionRejected) as exc:
        protocol_service.update_definition(
            session=db, version=version, change=editing.add_question("hearing", duplicate)
        )
    assert any(
        "could_hear" in e["msg"] or "duplicate" in e["msg"].lower() for e in exc.value.errors
    )
    db.expire_all()
    assert json.dumps(db.get(ProtocolVersion, version.id).definition, sort_keys=True) == before


def test_editing_sections_and_questions(db):
    version = protocol_service.create_protocol(
        session=db, name="Editable", definition=small_definition("Editable"), created_by_id=None
    )
    change = editing.add_section({"title": "Outcome", "level": "hearing"})
    protocol_service.update_definition(session=db, version=version, change=change)
    question = editing.question_fields(
        {
            "label": "Sentence components",
            "type": "multi_choice",
            "choices": "Jail\nprobation | Probation\nnone | Nothing | absent",
        },
        ["outcome"],
    )
    assert question["choices"][2] == {"value": "none", "label": "Nothing", "absent": True}
    protocol_service.update_definition(
        session=db, version=version, change=editing.add_question("outcome", question)
    )
    protocol_service.update_definition(
        session=db, version=version, change=editing.move_question("sentence_components", -1)
    )
    keys = [q["key"] for s in version.definition["sections"] for q in s["questions"]]
    assert keys.index("sentence_components") < keys.index("outcome_notes")
    protocol_service.update_definition(
        session=db, version=version, change=editing.move_section("outcome", -1)
    )
    assert [s["key"] for s in version.definition["sections"]] == ["sitting", "outcome", "hearing"]
    protocol_service.update_definition(
        session=db, version=version, change=editing.remove_section("outcome")
    )
    assert [s["key"] for s in version.definition["sections"]] == ["sitting", "hearing"]


def test_renaming_a_key_follows_show_if(db):
    definition = small_definition("Renames")
    definition["sections"][1]["questions"].append(
        {
            "key": "by_whom",
            "type": "short_text",
            "label": "By whom?",
            "show_if": {"question": "safety_mentioned", "equals": "yes"},
        }
    )
    version = protocol_service.create_protocol(
        session=db, name="Renames", definition=definition, created_by_id=None
    )
    renamed = editing.question_fields(
        {"key": "safety_raised", "label": "Safety raised?", "type": "yes_no"}, ["safety"]
    )
    protocol_service.update_definition(
        session=db, version=version, change=editing.update_question("safety_mentioned", renamed)
    )
    by_whom = version.definition["sections"][1]["questions"][2]
    assert by_whom["show_if"]["question"] == "safety_raised"


def test_json_round_trip(db):
    version = published_protocol(db, name="Round trip")
    protocol = db.get(Protocol, version.protocol_id)
    doc = protocol_service.export_document(protocol=protocol, version=version)
    raw = json.dumps(doc).encode()
    # Upload under the same name: a new draft of the same protocol, identical definition.
    draft = protocol_service.import_document(session=db, raw=raw, created_by_id=None)
    assert (
        draft.protocol_id == version.protocol_id and draft.version == 2 and draft.status == "draft"
    )
    assert draft.definition == version.definition
    # Upload under a new name: a new protocol.
    doc["name"] = "Copied elsewhere"
    other = protocol_service.import_document(
        session=db, raw=json.dumps(doc).encode(), created_by_id=None
    )
    assert other.protocol_id != version.protocol_id and other.definition == version.definition


@pytest.mark.parametrize(
    ("raw", "loc"),
    [
        (b"{not json", "file"),
        (b"[1, 2]", "file"),
        (b"\xff\xfe", "file"),
        (
            json.dumps(
                {
                    "format": "courtwatch-protocol",
                    "name": "",
                    "definition": {"title": "x", "sections": []},
                }
            ).encode(),
            "name",
        ),
    ],
)
def test_bad_uploads_list_problems_and_store_nothing(db, raw, loc):
    before = db.exec(select(ProtocolVersion)).all()
    with pytest.raises(protocol_service.DefinitionRejected) as exc:
        protocol_service.import_document(session=db, raw=raw, created_by_id=None)
    assert exc.value.errors[0]["loc"] == loc
    assert db.exec(select(ProtocolVersion)).all() == before


def test_an_upload_with_several_problems_lists_every_one(db):
    definition = small_definition("Many problems")
    definition["sections"][0]["questions"].append(
        {"key": "could_hear", "type": "yes_no", "label": "dup"}
    )
    definition["sections"][1]["questions"].append(
        {"key": "pick", "type": "single_choice", "label": "Pick", "choices": []}
    )
    raw = json.dumps(
        {"format": "courtwatch-protocol", "name": "Many problems", "definition": definition}
    ).encode()
    with pytest.raises(protocol_service.DefinitionRejected) as exc:
        protocol_service.import_document(session=db, raw=raw, created_by_id=None)
    assert len(exc.value.errors) >= 2
    assert all(e["loc"].startswith("definition.") for e in exc.value.errors)
    assert db.exec(select(Protocol)).all() == []


def test_default_protocol_is_seeded_once_and_published(db):
    first = protocol_service.ensure_default_protocol(session=db)
    second = protocol_service.ensure_default_protocol(session=db)
    assert first.id == second.id and first.status == "published"
    definition = protocol_service.definition_of(first)
    tags = {t for q in definition.questions() for t in q.tags}
    assert {"safety", "accountability", "decision", "outcome"} <= tags


def test_discarding_a_draft(db):
    version = protocol_service.create_protocol(session=db, name="Throwaway", created_by_id=None)
    protocol_service.discard_draft(session=db, version=version)
    assert db.exec(select(Protocol)).all() == []


def test_a_condition_on_a_count_question_compares_numbers(db):
    definition = small_definition("Numeric")
    definition["sections"][1]["questions"].append(
        {"key": "jail_days", "type": "count", "label": "Jail days"}
    )
    version = protocol_service.create_protocol(
        session=db, name="Numeric", definition=definition, created_by_id=None
    )
    targets = {"jail_days": "count"}
    question = editing.question_fields(
        {
            "label": "Why no jail?",
            "type": "short_text",
            "show_if_question": "jail_days",
            "show_if_values": "0",
        },
        [],
        targets,
    )
    assert question["show_if"] == {"question": "jail_days", "equals": 0}
    protocol_service.update_definition(
        session=db, version=version, change=editing.add_question("hearing", question)
    )
    with pytest.raises(editing.FormProblems) as exc:
        editing.question_fields(
            {
                "label": "X",
                "type": "short_text",
                "show_if_question": "jail_days",
                "show_if_values": "lots",
            },
            [],
            targets,
        )
    assert "show_if_values" in exc.value.errors
