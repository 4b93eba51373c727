"""The JSON export read back: into an empty deployment, twice, and when the file is wrong."""

from __future__ import annotations

import json
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, SQLModel, col, select

from app.audit.models import AuditEntry
from app.auth.models import Role, User
from app.auth.security import hash_password
from app.exports.models import PendingImport
from app.main import create_app
from app.observations import service as observations_service
from app.observations.models import Observation, ObservationRevision
from app.protocols.models import ProtocolVersion
from app.sessions import service as sessions_service
from tests.analysis.builders import hearing, send_observation
from tests.conftest import DEFAULT_PASSWORD, login, make_settings, page_csrf_token, sqlite_url
from tests.exports.builders import COURT, make_set, seed
from tests.factories import create_user


@dataclass
class Deployment:
    """A second, empty Courtwatch (its own SQLite database) with an organizer and an admin
    signed in."""

    organizer: TestClient
    admin: TestClient
    db: Session
    app: Any


@pytest.fixture
def other_deployment(tmp_path, sqlite_template) -> Iterator[Deployment]:
    path = tmp_path / "other" / "courtwatch.db"
    path.parent.mkdir()
    shutil.copy(sqlite_template, path)
    # Its own secret, as every deployment has: observer references differ from the source's.
    settings = make_settings(sqlite_url(path), path.parent, secret_key="other-" + "y" * 40)
    app = create_app(settings)
    with (
        Session(app.state.engine, expire_on_commit=False) as db,
        TestClient(app, follow_redirects=False) as organizer,
        TestClient(app, follow_redirects=False) as admin,
    ):
        login(organizer, create_user(db, role=Role.organizer).email)
        login(admin, create_user(db, role=Role.admin).email)
        yield Deployment(organizer=organizer, admin=admin, db=db, app=app)
    app.state.engine.dispose()


def _export(client: TestClient, query: str = "") -> dict[str, Any]:
    set_id = make_set(client, "All")
    response = client.get(f"/sets/{set_id}/export.json{query}")
    assert response.status_code == 200
    return response.json()


def preview(client: TestClient, content: bytes, name: str = "export.json") -> Any:
    return client.post("/import", files={"file": (name, content, "application/json")})


def _hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no {name} in the preview"
    return found.group(1)


def confirm(client: TestClient, previewed: Any, *, map_observers: tuple[int, ...] = ()) -> Any:
    assert previewed.status_code == 200, previewed.text
    return client.post(
        "/import/confirm",
        data={
            "token": _hidden(previewed.text, "token"),
            "sha256": _hidden(previewed.text, "sha256"),
            "map": [str(i) for i in map_observers],
        },
    )


def _import(client: TestClient, content: bytes, name: str = "export.json") -> Any:
    """Preview, then confirm as previewed (no observer mapped)."""
    previewed = preview(client, content, name)
    if previewed.status_code != 200:
        return previewed
    return confirm(client, previewed)


def _comparable(document: dict[str, Any], *, observers: bool = True) -> dict[str, Any]:
    skip = {"exported_at", "set"} | (set() if observers else {"observers"})
    out = {k: v for k, v in document.items() if k not in skip}
    if not observers:
        out["observations"] = [
            {k: v for k, v in o.items() if k != "observer"} for o in document["observations"]
        ]
    return out


def _counts(db: Session) -> dict[str, int]:
    db.expire_all()
    return {
        table.name: db.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        for table in SQLModel.metadata.sorted_tables
        if table.name not in ("login_attempt", "audit_entry", "pending_import")
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

    other = other_deployment
    response = _import(other.organizer, json.dumps(first).encode())
    assert response.status_code == 200, response.text
    assert "3 new" in response.text
    second = _export(other.organizer)
    # The same observations; their protocol versions arrived as imported ones, and their
    # observer (an organizer may not map observers to accounts) as a placeholder.
    assert [p["status"] for p in second["protocols"]] == ["imported", "imported"]
    for p in first["protocols"]:
        p["status"] = "imported"
    assert _comparable(second, observers=False) == _comparable(first, observers=False)
    placeholder = other.db.exec(select(User).where(col(User.is_placeholder))).one()
    assert placeholder.is_active is False and placeholder.role == "volunteer"
    assert placeholder.email.endswith("@imported.invalid")
    assert placeholder.display_name.endswith("(imported)")
    assert {o["observer"] for o in second["observations"]} == {placeholder.email}


def test_an_admin_confirmed_mapping_records_the_observer_as_the_account(
    db, volunteer, organizer, other_deployment
):
    seed(db, volunteer[0])
    document = _export(organizer[0])
    other = other_deployment
    email = document["observers"][0]["email"]
    here = create_user(other.db, role=Role.volunteer, email=email)
    # An organizer is not offered the mapping, and a mapping they post anyway is ignored.
    previewed = preview(other.organizer, json.dumps(document).encode())
    assert 'name="map"' not in previewed.text
    assert "only an administrator can map" in previewed.text
    # An admin is offered it, unticked: not confirming it still makes a placeholder...
    previewed = preview(other.admin, json.dumps(document).encode())
    assert f"Record them as the existing account {here.display_name}" in previewed.text
    assert re.search(r'<input type="checkbox" id="map-0" name="map" value="0">', previewed.text)
    # ...confirming it records the observations as the account's.
    response = confirm(other.admin, previewed, map_observers=(0,))
    assert response.status_code == 200, response.text
    assert (
        "2 new" in response.text and "placeholder" not in response.text.split("Imported:")[1][:300]
    )
    other.db.expire_all()
    observers = {o.observer_id for o in other.db.exec(select(Observation)).all()}
    assert observers == {here.id}
    assert other.db.exec(select(User).where(col(User.is_placeholder))).all() == []
    # And the export from there names them by the account's email, as the source did.
    again = _export(other.admin)
    assert [o["email"] for o in again["observers"]] == [here.email]
    assert {o["observer"] for o in again["observations"]} == {here.email}


def test_an_organizers_mapping_is_ignored(db, volunteer, organizer, other_deployment):
    seed(db, volunteer[0])
    document = _export(organizer[0])
    other = other_deployment
    here = create_user(other.db, role=Role.volunteer, email=document["observers"][0]["email"])
    previewed = preview(other.organizer, json.dumps(document).encode())
    assert confirm(other.organizer, previewed, map_observers=(0,)).status_code == 200
    other.db.expire_all()
    observers = {o.observer_id for o in other.db.exec(select(Observation)).all()}
    assert here.id not in observers
    (placeholder,) = other.db.exec(select(User).where(col(User.is_placeholder))).all()
    assert observers == {placeholder.id}


def test_placeholders_cannot_sign_in_nor_be_assigned(db, volunteer, organizer, other_deployment):
    seed(db, volunteer[0])
    other = other_deployment
    assert _import(other.organizer, json.dumps(_export(organizer[0])).encode()).status_code == 200
    placeholder = other.db.exec(select(User).where(col(User.is_placeholder))).one()
    # Even with a password set and the account switched on, a placeholder never signs in.
    placeholder.password_hash = hash_password(DEFAULT_PASSWORD, cost="fast")
    placeholder.is_active = True
    other.db.add(placeholder)
    other.db.commit()
    with TestClient(other.app, follow_redirects=False) as client:
        token = page_csrf_token(client, "/login")
        response = client.post(
            "/login",
            data={"email": placeholder.email, "password": DEFAULT_PASSWORD, "csrf_token": token},
        )
        assert response.status_code != 303
        assert client.get("/").status_code in (302, 303, 307)
    people = sessions_service.assignable_people(session=other.db)
    assert placeholder.id not in {p.id for p in people}


def test_the_preview_stores_nothing_and_the_confirmation_is_bound(
    db, volunteer, organizer, other_deployment
):
    seed(db, volunteer[0])
    content = json.dumps(_export(organizer[0])).encode()
    other = other_deployment
    before = _counts(other.db)
    previewed = preview(other.organizer, content, name="Ñandú export.json")
    assert previewed.status_code == 200
    assert "2 new, 0 updated, 0 already here, 0 conflicts" in previewed.text
    assert "Nothing is stored until you confirm" in previewed.text
    assert _counts(other.db) == before
    # The token is the uploader's alone, and must come with the digest of the file previewed.
    token, digest = _hidden(previewed.text, "token"), _hidden(previewed.text, "sha256")
    assert (
        other.admin.post("/import/confirm", data={"token": token, "sha256": digest}).status_code
        == 404
    )
    wrong = other.organizer.post("/import/confirm", data={"token": token, "sha256": "0" * 64})
    assert wrong.status_code == 404 and "not the file previewed" in wrong.text
    assert _counts(other.db) == before
    done = other.organizer.post("/import/confirm", data={"token": token, "sha256": digest})
    assert done.status_code == 200 and "2 new" in done.text
    # A second confirmation of the same preview stores nothing more.
    after = _counts(other.db)
    again = other.organizer.post("/import/confirm", data={"token": token, "sha256": digest})
    assert again.status_code == 404
    assert _counts(other.db) == after
    revision = other.db.exec(select(ObservationRevision)).first()
    assert revision.source == "import" and revision.import_file_name == "Ñandú export.json"


def test_an_expired_preview_cannot_be_confirmed(db, volunteer, organizer, other_deployment):
    seed(db, volunteer[0])
    other = other_deployment
    previewed = preview(other.organizer, json.dumps(_export(organizer[0])).encode())
    pending = other.db.exec(select(PendingImport)).one()
    pending.expires_at = pending.created_at - timedelta(seconds=1)
    other.db.add(pending)
    other.db.commit()
    before = _counts(other.db)
    response = confirm(other.organizer, previewed)
    assert response.status_code == 404 and "upload the file again" in response.text
    assert _counts(other.db) == before


def test_importing_twice_changes_nothing(db, volunteer, organizer, other_deployment):
    seed(db, volunteer[0])
    content = json.dumps(_export(organizer[0])).encode()
    other = other_deployment
    assert _import(other.organizer, content).status_code == 200
    before = _counts(other.db)
    previewed = preview(other.organizer, content)
    assert "0 new, 0 updated, 2 already here, 0 conflicts" in previewed.text
    response = confirm(other.organizer, previewed)
    assert response.status_code == 200
    assert "0 new, 0 updated, 2 already here" in response.text
    assert _counts(other.db) == before


@pytest.mark.parametrize("query", ["", "?without_identities=1", "?without_free_text=1"])
def test_importing_your_own_export_says_already_here_for_every_entry(
    db, volunteer, organizer, query
):
    seed(db, volunteer[0], two_versions=True)
    client, _ = organizer
    content = json.dumps(_export(client, query)).encode()
    before = _counts(db)
    previewed = preview(client, content)
    assert previewed.status_code == 200, previewed.text
    assert "0 new, 0 updated, 3 already here, 0 conflicts" in previewed.text
    assert previewed.text.count('data-outcome="unchanged"') == 3
    assert "newer edit" not in previewed.text
    response = confirm(client, previewed)
    assert "0 new, 0 updated, 3 already here, 0 conflicts" in response.text
    assert "placeholder" not in response.text.split("Imported:")[1][:400]
    after = _counts(db)
    for table in ("observation", "observation_revision", "hearing", "turn", "answer",
                  "protocol_version", "user"):  # fmt: skip
        assert after[table] == before[table], table


def test_import_without_identities_makes_placeholder_observers(
    db, volunteer, organizer, other_deployment
):
    seed(db, volunteer[0])
    document = _export(organizer[0], "?without_identities=1")
    assert "email" not in document["observers"][0]
    other = other_deployment
    assert _import(other.organizer, json.dumps(document).encode()).status_code == 200
    placeholders = other.db.exec(
        select(User).where(User.email.like("observer-%@imported.invalid"))  # type: ignore[attr-defined]
    ).all()
    assert len(placeholders) == 1 and not placeholders[0].is_active
    assert placeholders[0].is_placeholder
    again = _export(other.organizer, "?without_identities=1")
    for p in document["protocols"]:
        p["status"] = "imported"
    assert _comparable(again) == _comparable(document)


def _volunteers_observation(db, volunteer_client, *, status: str) -> tuple[Any, str]:
    world = seed(db, volunteer_client)
    observation_id = world.observation_ids[0]
    if status == "draft":
        observation_id = send_observation(
            volunteer_client,
            protocol_version_id=world.v1.id,  # type: ignore[arg-type]
            court=COURT,
            hearings=[hearing([("judge", 0, 1000)], {"nco": "ordered"})],
            status="draft",
        )
    return world, observation_id


def _current(db: Session, observation_id: str) -> dict[str, Any]:
    db.expire_all()
    (document,) = observations_service.observation_document(
        session=db, observation_ids=[uuid.UUID(observation_id)]
    )
    return document


@pytest.mark.parametrize("status", ["submitted", "draft"])
def test_an_import_never_rewrites_a_volunteers_observation(db, volunteer, organizer, status):
    """Submitted is final, and a draft is its observer's: a different copy in a file is kept
    as an imported revision (by the importer, with the file's name) and reported as a conflict."""
    volunteer_client, volunteer_user = volunteer
    _, observation_id = _volunteers_observation(db, volunteer_client, status=status)
    client, organizer_user = organizer
    document = _export(client)
    entry = next(o for o in document["observations"] if o["id"] == observation_id)
    entry["hearings"][0]["answers"]["nco"] = "continued"
    entry["client_edited_at"] = "2031-01-01T00:00:00+00:00"
    entry["revision"] = entry["revision_count"] = 7
    document["observations"] = [entry]
    before = _current(db, observation_id)
    previewed = preview(client, json.dumps(document).encode(), name="rewrite.json")
    assert previewed.status_code == 200, previewed.text
    assert "0 new, 0 updated, 0 already here, 1 conflict" in previewed.text
    assert 'data-outcome="conflict"' in previewed.text
    expected = "final" if status == "submitted" else "draft stays current"
    assert expected in previewed.text
    response = confirm(client, previewed)
    assert "0 new, 0 updated, 0 already here, 1 conflict" in response.text
    assert 'data-outcome="conflict"' in response.text
    after = _current(db, observation_id)
    assert after.pop("revision_count") == before.pop("revision_count") + 1
    assert after == before  # the current copy is untouched
    observation = db.get(Observation, uuid.UUID(observation_id))
    assert observation.observer_id == volunteer_user.id
    revisions = db.exec(
        select(ObservationRevision)
        .where(ObservationRevision.observation_id == observation.id)
        .order_by(ObservationRevision.revision)
    ).all()
    assert [r.source for r in revisions] == ["phone", "import"]
    imported = revisions[-1]
    assert imported.user_id == organizer_user.id  # who really made it
    assert imported.import_file_name == "rewrite.json"
    assert imported.payload["hearings"][0]["answers"]["nco"] == "continued"
    assert observation.current_revision == revisions[0].revision
    # Importing the same file again stores nothing more.
    again = _import(client, json.dumps(document).encode())
    assert "1 already here" in again.text and "kept beside the current copy" in again.text


def test_an_imported_draft_follows_lineage(db, volunteer, organizer, other_deployment):
    volunteer_client, _ = volunteer
    _, observation_id = _volunteers_observation(db, volunteer_client, status="draft")
    document = _export(organizer[0])
    document["observations"] = [o for o in document["observations"] if o["id"] == observation_id]
    other = other_deployment
    assert "1 new" in _import(other.organizer, json.dumps(document).encode()).text
    # A later revision at the source replaces the imported copy...
    later = json.loads(json.dumps(document))
    later["observations"][0]["revision"] = later["observations"][0]["revision_count"] = 2
    later["observations"][0]["hearings"][0]["answers"]["nco"] = "continued"
    assert "0 new, 1 updated" in _import(other.organizer, json.dumps(later).encode()).text
    assert _current(other.db, observation_id)["hearings"][0]["answers"]["nco"] == "continued"
    # ...another copy of the same source revision is a conflict (whatever its clock says).
    rival = json.loads(json.dumps(later))
    rival["observations"][0]["client_edited_at"] = "2035-01-01T00:00:00+00:00"
    rival["observations"][0]["hearings"][0]["answers"]["nco"] = "not_mentioned"
    assert "1 conflict" in _import(other.organizer, json.dumps(rival).encode()).text
    assert _current(other.db, observation_id)["hearings"][0]["answers"]["nco"] == "continued"


def test_imported_protocol_versions_are_offered_to_no_volunteer_until_published(
    db, volunteer, organizer, other_deployment
):
    seed(db, volunteer[0])
    document = _export(organizer[0])
    other = other_deployment
    assert _import(other.organizer, json.dumps(document).encode()).status_code == 200
    (version,) = other.db.exec(select(ProtocolVersion)).all()
    assert version.status == "imported"
    with (
        TestClient(other.app, follow_redirects=False) as v_client,
        TestClient(other.app, follow_redirects=False) as t_client,
    ):
        login(v_client, create_user(other.db, role=Role.volunteer).email)
        trainer_user = create_user(other.db, role=Role.trainer)
        login(t_client, trainer_user.email)
        pack = v_client.get("/api/v1/offline-pack").json()
        assert version.id not in {v["id"] for v in pack["protocol_versions"]}
        assert version.id not in {
            v.id for v in sessions_service.published_versions(session=other.db)
        }
        # Nor can a phone record with it.
        sent = v_client.post(
            "/api/v1/observations/batch",
            json={"observations": [{
                "id": str(uuid.uuid4()), "protocol_version_id": version.id, "court": COURT,
                "status": "draft", "hearings": [],
                "client_edited_at": "2026-03-02T10:00:00+00:00",
            }]},
        )  # fmt: skip
        assert sent.json()["results"][0]["result"] == "invalid"
        page = t_client.get(f"/protocols/versions/{version.id}")
        assert "no volunteer is offered it" in page.text
        assert t_client.post(f"/protocols/versions/{version.id}/publish").status_code == 303
        pack = v_client.get("/api/v1/offline-pack").json()
        assert version.id in {v["id"] for v in pack["protocol_versions"]}
        other.db.expire_all()
        audit = other.db.exec(
            select(AuditEntry).where(AuditEntry.action == "protocol.publish")
        ).one()
        assert audit.actor_id == trainer_user.id and audit.detail["from"] == "imported"
        assert audit.target == f"protocol_version:{version.id}"


def test_import_preview_and_confirm_are_in_the_audit_log(
    db, volunteer, organizer, other_deployment
):
    seed(db, volunteer[0])
    other = other_deployment
    response = _import(other.organizer, json.dumps(_export(organizer[0])).encode(), "a.json")
    assert response.status_code == 200
    other.db.expire_all()
    entries = other.db.exec(
        select(AuditEntry)
        .where(col(AuditEntry.action).startswith("import."))
        .order_by(AuditEntry.id)
    ).all()
    assert [e.action for e in entries] == ["import.preview", "import.confirm"]
    for e in entries:
        assert e.detail["file_name"] == "a.json" and e.detail["size"] > 0
        assert e.detail["counts"] == {"create": 2, "update": 0, "unchanged": 0, "conflict": 0}
        assert e.ip_address
        assert "hearings" not in json.dumps(e.detail)  # never observation content
    assert entries[1].detail["mapped_accounts"] == []


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
    other = other_deployment
    before = _counts(other.db)
    response = _import(other.organizer, json.dumps(broken).encode())
    assert response.status_code == 422
    assert "observations[1].hearings[0].answers.victim_name" in response.text
    assert "observations[1].hearings[0].turns[0]" in response.text
    assert _counts(other.db) == before


def test_a_reference_to_a_missing_protocol_is_reported(db, volunteer, organizer, other_deployment):
    document = _valid(db, volunteer, organizer)
    document["observations"][0]["protocol"]["version"] = 9
    other = other_deployment
    before = _counts(other.db)
    response = _import(other.organizer, json.dumps(document).encode())
    assert response.status_code == 422
    assert "No protocol “Export test protocol” v9 in protocols." in response.text
    assert _counts(other.db) == before
    assert other.db.exec(select(ProtocolVersion)).all() == []
