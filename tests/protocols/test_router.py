"""Trainer pages for protocols through the real HTTP app."""

from __future__ import annotations

import copy
import html
import json
import re

import pytest
from sqlmodel import col, select

from app.audit.models import AuditEntry
from app.protocols import service as protocol_service
from app.protocols.models import Protocol, ProtocolVersion
from tests.protocols.factories import published_protocol, small_definition


def _version(db, version_id):
    db.expire_all()
    return db.get(ProtocolVersion, version_id)


def test_trainer_creates_edits_and_publishes_a_protocol(trainer, db):
    client, _ = trainer
    response = client.post("/protocols", data={"name": "Arraignment watch", "start_from": "blank"})
    assert response.status_code == 303
    version_id = int(response.headers["location"].rsplit("/", 1)[1])
    page = client.get(f"/protocols/versions/{version_id}")
    assert (
        page.status_code == 200
        and "Arraignment watch" in page.text
        and "Publish version 1" in page.text
    )

    response = client.post(
        f"/protocols/versions/{version_id}/sections", data={"title": "Sitting", "level": "session"}
    )
    assert response.status_code == 303
    response = client.post(
        f"/protocols/versions/{version_id}/sections/sitting/questions",
        data={
            "label": "Could the gallery hear?",
            "type": "single_choice",
            "choices": "Well\nPartly\nNot at all",
            "required": "on",
        },
    )
    assert response.status_code == 303, response.text
    version = _version(db, version_id)
    question = version.definition["sections"][1]["questions"][1]
    assert question["key"] == "could_the_gallery_hear"
    assert [c["value"] for c in question["choices"]] == ["well", "partly", "not_at_all"]
    assert question["required"] is True

    edit = client.get(f"/protocols/versions/{version_id}/questions/could_the_gallery_hear")
    assert edit.status_code == 200 and "not_at_all | Not at all" in edit.text

    assert client.post(f"/protocols/versions/{version_id}/publish").status_code == 303
    assert _version(db, version_id).status == "published"


def test_a_choice_question_without_choices_gets_a_field_error(trainer, db):
    client, _ = trainer
    version_id = (
        client.post("/protocols", data={"name": "Errors"}).headers["location"].rsplit("/", 1)[1]
    )
    before = _version(db, int(version_id)).definition
    response = client.post(
        f"/protocols/versions/{version_id}/sections/hearing/questions",
        data={"label": "Pick one", "type": "single_choice", "choices": ""},
    )
    assert response.status_code == 422
    assert 'id="e-choices"' in response.text
    assert _version(db, int(version_id)).definition == before


def test_bad_form_values_get_field_errors(trainer):
    client, _ = trainer
    version_id = (
        client.post("/protocols", data={"name": "Form errors"})
        .headers["location"]
        .rsplit("/", 1)[1]
    )
    response = client.post(
        f"/protocols/versions/{version_id}/sections/hearing/questions",
        data={"label": "", "type": "nonsense", "min": "abc"},
    )
    assert response.status_code == 422
    assert 'id="e-label"' in response.text and 'id="e-type"' in response.text


def test_empty_name_is_a_field_error(trainer, db):
    client, _ = trainer
    response = client.post("/protocols", data={"name": "  "})
    assert response.status_code == 422
    assert 'id="e-name"' in response.text
    assert db.exec(select(Protocol)).all() == []


def test_editing_a_published_version_is_refused_with_a_message(trainer, db):
    client, _ = trainer
    version = published_protocol(db, name="Frozen")
    before = json.dumps(version.definition, sort_keys=True)
    response = client.post(f"/protocols/versions/{version.id}/questions/safety_mentioned/delete")
    assert response.status_code == 409
    assert "is published and cannot change" in response.text
    assert json.dumps(_version(db, version.id).definition, sort_keys=True) == before
    # The way forward: a new draft.
    response = client.post(f"/protocols/versions/{version.id}/new-draft")
    assert response.status_code == 303
    draft_id = int(response.headers["location"].rsplit("/", 1)[1])
    assert _version(db, draft_id).version == 2
    assert (
        client.post(f"/protocols/versions/{draft_id}/questions/safety_mentioned/delete").status_code
        == 303
    )
    diff = client.get(f"/protocols/versions/{draft_id}/diff")
    assert (
        diff.status_code == 200 and "safety_mentioned" in diff.text and "Removed (1)" in diff.text
    )


def test_download_and_upload_json(trainer, db):
    client, _ = trainer
    version = published_protocol(db, name="Portable")
    response = client.get(f"/protocols/versions/{version.id}/export.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    doc = response.json()
    assert doc["definition"] == version.definition
    doc["name"] = "Portable copy"
    response = client.post(
        "/protocols/import", files={"file": ("p.json", json.dumps(doc), "application/json")}
    )
    assert response.status_code == 303
    copy = db.exec(select(Protocol).where(Protocol.name == "Portable copy")).one()
    assert copy is not None


def test_upload_with_problems_lists_every_problem_and_stores_nothing(trainer, db):
    client, _ = trainer
    definition = small_definition("Broken")
    definition["sections"][0]["questions"].append(
        {"key": "could_hear", "type": "yes_no", "label": "dup"}
    )
    definition["sections"][1]["questions"].append(
        {"key": "pick", "type": "single_choice", "label": "Pick", "choices": []}
    )
    body = json.dumps({"format": "courtwatch-protocol", "name": "Broken", "definition": definition})
    response = client.post(
        "/protocols/import", files={"file": ("broken.json", body, "application/json")}
    )
    assert response.status_code == 422
    assert "was not stored" in response.text
    assert response.text.count("<li>") >= 2
    assert db.exec(select(Protocol)).all() == []
    assert (
        client.post(
            "/protocols/import", files={"file": ("x.json", b"", "application/json")}
        ).status_code
        == 422
    )


def test_preview_shows_every_question(trainer, db):
    client, _ = trainer
    version = published_protocol(db, name="Previewed")
    page = client.get(f"/protocols/versions/{version.id}/preview")
    assert page.status_code == 200
    for label in ("Could you hear?", "Who speaks", "Judge", "Safety mentioned?"):
        assert label in page.text


@pytest.mark.parametrize("role", ["volunteer", "organizer"])
def test_volunteers_and_organizers_cannot_author(client_for, db, role):
    client, _ = client_for(role)
    assert client.get("/protocols").status_code == 403
    assert client.post("/protocols", data={"name": "Sneaky"}).status_code == 403
    assert db.exec(select(Protocol)).all() == []


def test_unknown_version_is_404(trainer):
    client, _ = trainer
    assert client.get("/protocols/versions/424242").status_code == 404


def _upload(client, doc, **data):
    return client.post(
        "/protocols/import",
        files={"file": ("p.json", json.dumps(doc), "application/json")},
        data=data,
    )


def test_an_upload_never_overwrites_an_open_draft_silently(trainer, db):
    """The protocol named in the file has a draft someone is editing: the trainer is asked
    first; only their yes replaces the draft."""
    client, _ = trainer
    version = published_protocol(db, name="Drafted")
    draft = protocol_service.new_draft(session=db, version=version, created_by_id=None)
    edited = copy.deepcopy(draft.definition)
    edited["sections"][0]["questions"][0]["label"] = "Could you hear well? (draft edit)"
    draft = protocol_service.replace_definition(session=db, version=draft, definition=edited)
    uploaded = copy.deepcopy(version.definition)
    uploaded["sections"][0]["questions"][0]["label"] = "From the upload"
    doc = {"format": "courtwatch-protocol", "name": "Drafted", "definition": uploaded}

    asked = _upload(client, doc)
    assert asked.status_code == 409
    assert "Replace the open draft?" in asked.text and f"version {draft.version}" in asked.text
    db.expire_all()
    assert db.get(ProtocolVersion, draft.id).definition == edited  # nothing stored
    # The answer comes back with the document itself (no second file choice).
    found = re.search(r'name="document" value="([^"]*)"', asked.text)
    assert found is not None
    replaced = client.post(
        "/protocols/import", data={"document": html.unescape(found.group(1)), "replace_draft": "1"}
    )
    assert replaced.status_code == 303
    db.expire_all()
    assert db.get(ProtocolVersion, draft.id).definition == uploaded
    versions = db.exec(
        select(ProtocolVersion).where(ProtocolVersion.protocol_id == version.protocol_id)
    ).all()
    assert len(versions) == 2  # the draft was replaced, not a second draft made


def test_an_upload_makes_a_new_draft_when_none_is_open(trainer, db):
    client, _ = trainer
    version = published_protocol(db, name="Undrafted")
    uploaded = copy.deepcopy(version.definition)
    uploaded["sections"][0]["questions"][0]["label"] = "From the upload"
    response = _upload(client, {"name": "Undrafted", "definition": uploaded})
    assert response.status_code == 303
    db.expire_all()
    versions = db.exec(
        select(ProtocolVersion)
        .where(ProtocolVersion.protocol_id == version.protocol_id)
        .order_by(ProtocolVersion.version)
    ).all()
    assert [(v.version, v.status) for v in versions] == [(1, "published"), (2, "draft")]
    assert versions[1].definition == uploaded
    assert versions[0].definition == version.definition


def test_publish_and_retire_are_in_the_audit_log(trainer, db):
    client, user = trainer
    version = protocol_service.create_protocol(
        session=db, name="Audited", definition=small_definition("Audited"), created_by_id=None
    )
    assert client.post(f"/protocols/versions/{version.id}/publish").status_code == 303
    assert client.post(f"/protocols/versions/{version.id}/retire").status_code == 303
    entries = db.exec(
        select(AuditEntry)
        .where(col(AuditEntry.action).startswith("protocol."))
        .order_by(AuditEntry.id)
    ).all()
    assert [(e.action, e.detail["from"]) for e in entries] == [
        ("protocol.publish", "draft"),
        ("protocol.retire", "published"),
    ]
    assert {e.actor_id for e in entries} == {user.id}
    assert {e.target for e in entries} == {f"protocol_version:{version.id}"}
