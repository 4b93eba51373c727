"""Importing a capture-page backup file through /backup."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlmodel import Session, func, select

from app.auth.models import Role
from app.observations.models import Observation
from tests.protocols.factories import published_protocol, small_definition
from tests.sync.builders import hearing_body, observation_body


@pytest.fixture
def version(db: Session):
    return published_protocol(db, definition=small_definition())


def upload(client, content: bytes, **form):
    return client.post(
        "/backup",
        files={"file": ("courtwatch-backup-2026-11-24.json", content, "application/json")},
        data=form,
    )


def count(db: Session) -> int:
    db.expire_all()
    return db.exec(select(func.count()).select_from(Observation)).one()


def test_a_volunteer_imports_their_backup_once(db, client_for, version):
    client, user = client_for(Role.volunteer)
    assert client.get("/backup").status_code == 200
    body = {
        "observations": [observation_body(version.id, hearings=[hearing_body(0), hearing_body(1)])]
    }
    response = upload(client, json.dumps(body).encode())
    assert response.status_code == 200
    assert 'data-result="created"' in response.text
    stored = db.get(Observation, uuid.UUID(body["observations"][0]["id"]))
    assert stored.observer_id == user.id
    again = upload(client, json.dumps(body).encode())
    assert 'data-result="unchanged"' in again.text and "already on the server" in again.text
    assert count(db) == 1


def test_a_bad_record_is_listed_and_the_good_ones_are_kept(db, client_for, version):
    client, _ = client_for(Role.volunteer)
    good = observation_body(version.id)
    bad = observation_body(version.id, hearings=[hearing_body(0, answers={"nope": "x"})])
    response = upload(client, json.dumps({"observations": [good, bad]}).encode())
    assert response.status_code == 422
    assert 'data-result="created"' in response.text
    assert 'data-result="invalid"' in response.text
    assert "hearings[0].answers.nope" in response.text
    # The bad record's refused hearing is left out; the rest of it is kept as a draft.
    assert count(db) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "Choose the backup file"),
        (b"{not json", "not valid JSON"),
        (b'{"hearings": []}', "no list of observations"),
        (b'{"observations": []}', "holds no observations"),
    ],
)
def test_a_file_that_is_not_a_backup_gets_a_clear_message(db, client_for, content, message):
    client, _ = client_for(Role.volunteer)
    response = upload(client, content)
    assert response.status_code == 422
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert count(db) == 0


def test_an_admin_imports_for_the_observer_they_choose(db, client_for, version):
    admin, _ = client_for(Role.admin)
    _, volunteer = client_for(Role.volunteer)
    body = json.dumps({"observations": [observation_body(version.id)]}).encode()
    missing = upload(admin, body)
    assert missing.status_code == 422
    assert "Choose whose observations these are." in missing.text
    assert count(db) == 0
    response = upload(admin, body, observer_id=str(volunteer.id))
    assert response.status_code == 200
    db.expire_all()
    assert db.exec(select(Observation.observer_id)).all() == [volunteer.id]


def test_organizers_do_not_import_backups(client_for):
    organizer, _ = client_for(Role.organizer)
    assert organizer.get("/backup").status_code == 403
    assert upload(organizer, b'{"observations": []}').status_code == 403
