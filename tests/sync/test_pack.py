"""GET /api/v1/offline-pack: what a phone needs to work with no signal."""

from __future__ import annotations

from datetime import date, timedelta

from app.auth.models import Role
from tests.protocols.factories import published_protocol, small_definition
from tests.sessions import factories as session_factories
from tests.sync.builders import hearing_body, observation_body, send

PACK = "/api/v1/offline-pack"


def test_the_pack_holds_assignments_protocols_roles_and_drafts(db, client_for):
    client, user = client_for(Role.volunteer)
    other_client, other = client_for(Role.volunteer)
    version = published_protocol(db, definition=small_definition())
    unused = published_protocol(db, name="Arraignment watch", definition=small_definition("Arr"))
    today = date.today()
    sitting = session_factories.sitting(db, day=today)
    mine = session_factories.assignment(db, court_session=sitting, volunteer=user, version=version)
    session_factories.assignment(db, court_session=sitting, volunteer=other, version=version)
    old = session_factories.sitting(db, day=today - timedelta(days=30), courtroom="9")
    session_factories.assignment(db, court_session=old, volunteer=user, version=version)

    draft = observation_body(
        version.id, assignment_id=mine.id, hearings=[hearing_body(0, case_reference="CR-1")]
    )
    submitted = observation_body(version.id, status="submitted")
    send(client, draft, submitted)
    send(other_client, observation_body(version.id))

    response = client.get(PACK)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"  # private: never in a shared cache
    pack = response.json()
    assert pack["user"] == {
        "id": user.id,
        "display_name": user.display_name,
        "role": "volunteer",
        "language": "en",  # the capture speaks it offline
    }
    assert len(pack["csrf_token"]) >= 32
    # Only open assignments from a week ago on, with where and when.
    assert [a["id"] for a in pack["assignments"]] == [mine.id]
    entry = pack["assignments"][0]
    assert entry["status"] == "in_progress"
    assert entry["observation_id"] == draft["id"]
    assert entry["court_session"]["courtroom"] == "3B"
    assert entry["court_session"]["judge"] == "Maria Alvarez"
    # Every published version (for ad hoc observations), whole.
    versions = {v["id"]: v for v in pack["protocol_versions"]}
    assert set(versions) == {version.id, unused.id}
    assert versions[version.id]["definition"]["sections"][0]["key"] == "sitting"
    assert versions[unused.id]["protocol_name"] == "Arraignment watch"
    assert [r["key"] for r in pack["roles"]] == ["judge", "prosecutor"]
    # Unsubmitted drafts come back whole; submitted ones and other people's do not.
    assert [d["id"] for d in pack["drafts"]] == [draft["id"]]
    assert pack["drafts"][0]["hearings"][0]["case_reference"] == "CR-1"
    assert pack["drafts"][0]["hearings"][0]["turns"][0] == {
        "role": "judge",
        "start_ms": 0,
        "end_ms": 4000,
    }
    assert pack["limits"]["max_items"] >= 1


def test_the_pack_token_lets_the_phone_send(db, client_for, app):
    from fastapi.testclient import TestClient

    from tests.conftest import login

    version = published_protocol(db, definition=small_definition())
    _, user = client_for(Role.volunteer)
    with TestClient(app, follow_redirects=False) as phone:
        login(phone, user.email)
        phone.headers.pop("X-CSRF-Token")
        token = phone.get(PACK).json()["csrf_token"]
        body = {"observations": [observation_body(version.id)]}
        assert phone.post("/api/v1/observations/batch", json=body).status_code == 403
        response = phone.post(
            "/api/v1/observations/batch", json=body, headers={"X-CSRF-Token": token}
        )
        assert response.status_code == 200
        assert response.json()["results"][0]["result"] == "created"


def test_only_observers_get_a_pack(client, client_for):
    organizer, _ = client_for(Role.organizer)
    assert organizer.get(PACK).status_code == 403
    trainer, _ = client_for(Role.trainer)
    assert trainer.get(PACK).status_code == 200
    assert client.get(PACK).status_code == 401
