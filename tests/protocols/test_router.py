"""Trainer pages for protocols through the real HTTP app."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

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
