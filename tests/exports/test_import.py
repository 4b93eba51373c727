"""The JSON export read back: into an empty deployment, twice, and when the file is wrong."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, SQLModel, select

from app.auth.models import Role, User
from app.main import create_app
from app.observations.models import Observation, ObservationRevision
from app.protocols.models import ProtocolVersion
from tests.conftest import login, make_settings, sqlite_url
from tests.exports.builders import make_set, seed
from tests.factories import create_user


@pytest.fixture
def other_deployment(tmp_path, sqlite_template) -> Iterator[tuple[TestClient, Session]]:
    """A second, empty Courtwatch (its own SQLite database), with an organizer signed in."""
    path = tmp_path / "other" / "courtwatch.db"
    path.parent.mkdir()
    shutil.copy(sqlite_template, path)
    # Its own secret, as every deployment has: observer references differ from the source's.
    settings = make_settings(sqlite_url(path), path.parent, secret_key="other-" + "y" * 40)
    app = create_app(settings)
    with (
        Session(app.state.engine, expire_on_commit=False) as db,
        TestClient(app, follow_redirects=False) as client,
    ):
        user = create_user(db, role=Role.organizer)
        login(client, user.email)
        yield client, db
    app.state.engine.dispose()


def _export(client: TestClient, query: str = "") -> dict[str, Any]:
    set_id = make_set(client, "All")
    response = client.get(f"/sets/{set_id}/export.json{query}")
    assert response.status_code == 200
    return response.json()


def _import(client: TestClient, content: bytes) -> Any:
    return client.post("/import", files={"file": ("export.json", content, "application/json")})


def _comparable(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in ("exported_at", "set")}


def _counts(db: Session) -> dict[str, int]:
    db.expire_all()
    return {
        table.name: db.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        for table in SQLModel.metadata.sorted_tables
        if table.name not in ("login_attempt",)
    }


def test_export_import_into_an_empty_database_then_export_again_is_the_same(
    db, volunteer, organizer, other_deployment
):
    seed(db, volunteer[0], two_versions=True)
    first = _export(organizer[0])
    assert first["format"] == "courtwatch-observations"
    assert [(p["name"], p["version"]) for p in first["protocols"]] == [
        ("Export test protocol", 1),
        ("Export test protocol", 2),
    ]
    assert len(first["observations"]) == 3
    hearing = next(h for o in first["observations"] for h in o["hearings"] if h["case_reference"])
    assert hearing["turns"][0] == {"role": "judge", "start_ms": 0, "end_ms": 5000}

    other, other_db = other_deployment
    response = _import(other, json.dumps(first).encode())
    assert response.status_code == 200, response.text
    assert "3 new" in response.text
    second = _export(other)
    assert _comparable(second) == _comparable(first)

    # The observer came across as an inactive account (no password), found by email.
    observer = other_db.exec(select(User).where(User.email == first["observers"][0]["email"])).one()
    assert observer.is_active is False and observer.role == "volunteer"


def test_importing_twice_changes_nothing(db, volunteer, organizer, other_deployment):
    seed(db, volunteer[0])
    content = json.dumps(_export(organizer[0])).encode()
    other, other_db = other_deployment
    assert _import(other, content).status_code == 200
    before = _counts(other_db)
    response = _import(other, content)
    assert response.status_code == 200
    assert "0 new, 0 updated, 2 already here" in response.text
    assert _counts(other_db) == before


def test_importing_back_into_the_source_changes_nothing(db, volunteer, organizer):
    seed(db, volunteer[0])
    client, _ = organizer
    content = json.dumps(_export(client)).encode()
    before = _counts(db)
    response = _import(client, content)
    assert response.status_code == 200, response.text
    db.expire_all()
    # Already here: no new observations, protocol versions or accounts.
    after = _counts(db)
    for table in ("observation", "hearing", "turn", "answer", "protocol_version", "user"):
        assert after[table] == before[table], table


def test_import_without_identities_makes_placeholder_observers(
    db, volunteer, organizer, other_deployment
):
    seed(db, volunteer[0])
    document = _export(organizer[0], "?without_identities=1")
    assert "email" not in document["observers"][0]
    other, other_db = other_deployment
    assert _import(other, json.dumps(document).encode()).status_code == 200
    placeholders = other_db.exec(
        select(User).where(User.email.like("observer-%@imported.invalid"))
    ).all()  # type: ignore[attr-defined]
    assert len(placeholders) == 1 and not placeholders[0].is_active
    again = _export(other, "?without_identities=1")
    assert _comparable(again) == _comparable(document)


def test_a_set_without_identities_imports_back_into_its_own_deployment(db, volunteer, organizer):
    seed(db, volunteer[0])
    client, _ = organizer
    content = json.dumps(_export(client, "?without_identities=1")).encode()
    before = _counts(db)
    response = _import(client, content)
    assert response.status_code == 200, response.text
    # Recognised as this deployment's own observer: no placeholder account, nothing changed.
    assert "observer account" not in response.text
    after = _counts(db)
    for table in ("observation", "hearing", "turn", "answer", "user"):
        assert after[table] == before[table], table


def test_a_newer_edit_replaces_an_older_one(db, volunteer, organizer, other_deployment):
    seed(db, volunteer[0])
    document = _export(organizer[0])
    other, other_db = other_deployment
    assert _import(other, json.dumps(document).encode()).status_code == 200
    edited = json.loads(json.dumps(document))
    target = edited["observations"][0]
    target["client_edited_at"] = "2030-01-01T00:00:00+00:00"
    target["hearings"][0]["answers"]["nco"] = "continued"
    response = _import(other, json.dumps(edited).encode())
    assert "0 new, 1 updated, 1 already here" in response.text
    other_db.expire_all()
    observation = other_db.get(Observation, uuid.UUID(target["id"]))
    assert observation.revision_count == target["revision_count"] + 1
    revisions = other_db.exec(
        select(ObservationRevision).where(ObservationRevision.observation_id == observation.id)
    ).all()
    assert len(revisions) == 2
    again = _export(other)
    changed = next(o for o in again["observations"] if o["id"] == target["id"])
    assert changed["hearings"][0]["answers"]["nco"] == "continued"
    # The first copy again is already in the history: nothing changes.
    assert "0 updated, 2 already here" in _import(other, json.dumps(document).encode()).text
    # A different but older edit does not overwrite the newer one.
    older = json.loads(json.dumps(document))
    older["observations"][0]["client_edited_at"] = "2001-01-01T00:00:00+00:00"
    older["observations"][0]["hearings"][0]["answers"]["nco"] = "not_mentioned"
    assert "1 kept" in _import(other, json.dumps(older).encode()).text
    final = _export(other)
    kept = next(o for o in final["observations"] if o["id"] == target["id"])
    assert kept["hearings"][0]["answers"]["nco"] == "continued"


def _valid(db, volunteer, organizer) -> dict[str, Any]:
    seed(db, volunteer[0])
    return _export(organizer[0])


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "The file is empty."),
        (b"{not json", "Not valid JSON"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b"[1, 2]", "not a Courtwatch observations export"),
        (b'{"format": "courtwatch-observations", "format_version": 1}', "protocols"),
    ],
)
def test_unreadable_files_get_a_clear_error(organizer, db, content, expected):
    client, _ = organizer
    response = _import(client, content)
    assert response.status_code == 422
    assert expected in response.text
    assert "nothing was imported" in response.text or "nothing was stored" in response.text


def test_a_malformed_import_stores_nothing(db, volunteer, organizer, other_deployment):
    document = _valid(db, volunteer, organizer)
    broken = json.loads(json.dumps(document))
    # The first observation is fine; the second has a turn that ends before it starts and an
    # answer to a question the protocol does not have.
    second = broken["observations"][1]
    second["hearings"][0]["turns"][0]["end_ms"] = 1
    second["hearings"][0]["turns"][0]["start_ms"] = 500
    second["hearings"][0]["answers"]["victim_name"] = "x"
    other, other_db = other_deployment
    before = _counts(other_db)
    response = _import(other, json.dumps(broken).encode())
    assert response.status_code == 422
    assert "observations[1].hearings[0].answers.victim_name" in response.text
    assert "observations[1].hearings[0].turns[0]" in response.text
    assert _counts(other_db) == before


def test_a_reference_to_a_missing_protocol_is_reported(db, volunteer, organizer, other_deployment):
    document = _valid(db, volunteer, organizer)
    document["observations"][0]["protocol"]["version"] = 9
    other, other_db = other_deployment
    before = _counts(other_db)
    response = _import(other, json.dumps(document).encode())
    assert response.status_code == 422
    assert "No protocol “Export test protocol” v9 in protocols." in response.text
    assert _counts(other_db) == before
    assert other_db.exec(select(ProtocolVersion)).all() == []
