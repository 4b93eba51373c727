"""Which edit is current: by revision lineage (based_on_revision), not by the phone's clock;
two devices editing from one revision are merged by hearing UUID."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import Session, select

from app.auth.models import Role
from app.observations.models import Hearing, Observation, ObservationRevision
from tests.protocols.factories import published_protocol, small_definition
from tests.sync.builders import hearing_body, observation_body, send


@pytest.fixture
def version(db: Session):
    return published_protocol(db, definition=small_definition())


@pytest.fixture
def phone(client_for):
    client, _ = client_for(Role.volunteer)
    return client


def _current(client, observation_id: str) -> dict:
    return client.get(f"/api/v1/observations/{observation_id}").json()


def _answers(doc: dict) -> list[dict]:
    return [h["answers"] for h in doc["hearings"]]


def test_an_edit_based_on_the_current_revision_is_current_whatever_the_clock(phone, version):
    """A phone clock an hour ahead, then corrected: the later edit has an earlier time, but it
    was made on top of the current revision, so it becomes current."""
    hearing_id = str(uuid.uuid4())
    body = observation_body(version.id, hearings=[hearing_body(0, hearing_id=hearing_id)])
    body["client_edited_at"] = "2026-11-24T10:00:00+00:00"  # fast clock
    body["device_id"] = "phone-a"
    (first,) = send(phone, body)
    assert (first["result"], first["revision"]) == ("created", 1)
    body["hearings"] = [hearing_body(0, hearing_id=hearing_id, answers={"safety_mentioned": "no"})]
    body["client_edited_at"] = "2026-11-24T09:05:00+00:00"  # corrected: earlier than before
    body["based_on_revision"] = 1
    (second,) = send(phone, body)
    assert second["result"] == "updated" and second["revision"] == 2
    assert second["server_copy_differs"] is False
    assert _answers(_current(phone, body["id"])) == [{"safety_mentioned": "no"}]


def test_without_a_base_the_later_clock_still_decides_and_the_phone_is_told(phone, version):
    body = observation_body(version.id, edited=600)
    send(phone, body)
    older = dict(body, notes="written earlier", client_edited_at="2026-11-24T09:01:00+00:00")
    (result,) = send(phone, older)
    assert result["result"] == "unchanged" and result["server_copy_differs"] is True
    assert _current(phone, body["id"])["notes"] == ""
    # Sending it again: stored already, still not the current copy.
    (again,) = send(phone, older)
    assert again["result"] == "unchanged" and again["server_copy_differs"] is True
    # The current copy itself is in sync.
    (same,) = send(phone, body)
    assert same["result"] == "unchanged" and same["server_copy_differs"] is False


def _two_devices(version, hearings):
    body = observation_body(version.id, hearings=hearings, edited=0)
    body["device_id"] = "phone-a"
    return body


def test_two_devices_from_one_revision_merge_by_hearing(db, phone, version):
    """Phone A answers hearing 1 again, phone B (same volunteer) adds hearing 2, both from
    revision 1: the current copy holds both changes, nothing is flagged, and B is told its
    copy is not the server's."""
    first_id, second_id = str(uuid.uuid4()), str(uuid.uuid4())
    base = _two_devices(version, [hearing_body(0, hearing_id=first_id)])
    send(phone, base)
    a = dict(base, based_on_revision=1, client_edited_at="2026-11-24T09:10:00+00:00")
    a["hearings"] = [hearing_body(0, hearing_id=first_id, answers={"safety_mentioned": "no"})]
    (from_a,) = send(phone, a)
    assert from_a["revision"] == 2 and not from_a["server_copy_differs"]
    b = dict(
        base, based_on_revision=1, device_id="phone-b", client_edited_at="2026-11-24T09:08:00+00:00"
    )
    b["hearings"] = [hearing_body(0, hearing_id=first_id), hearing_body(1, hearing_id=second_id)]
    (from_b,) = send(phone, b)
    assert from_b["result"] == "updated" and from_b["server_copy_differs"] is True
    doc = _current(phone, base["id"])
    assert [h["id"] for h in doc["hearings"]] == [first_id, second_id]
    assert _answers(doc)[0] == {"safety_mentioned": "no"}  # A's change kept
    assert doc["revision"] == from_b["revision"] == 4  # B's copy as received (3), the merge (4)
    db.expire_all()
    observation = db.get(Observation, uuid.UUID(base["id"]))
    assert observation.device_conflict is False
    revisions = db.exec(
        select(ObservationRevision.revision, ObservationRevision.based_on_revision)
        .where(ObservationRevision.observation_id == uuid.UUID(base["id"]))
        .order_by(ObservationRevision.revision)
    ).all()
    assert revisions == [(1, None), (2, 1), (3, 1), (4, 2)]
    # B fetches the server's copy and goes on from it: a plain update again.
    hearings = [{k: v for k, v in h.items() if k != "clock_jump"} for h in doc["hearings"]]
    b2 = dict(b, based_on_revision=4, hearings=hearings, notes="after the merge")
    (next_b,) = send(phone, b2)
    assert next_b["revision"] == 5 and not next_b["server_copy_differs"]


def test_one_hearing_changed_on_both_devices_keeps_both_and_flags_it(db, phone, version):
    hearing_id = str(uuid.uuid4())
    base = _two_devices(version, [hearing_body(0, hearing_id=hearing_id)])
    send(phone, base)
    a = dict(base, based_on_revision=1, client_edited_at="2026-11-24T09:10:00+00:00")
    a["hearings"] = [hearing_body(0, hearing_id=hearing_id, answers={"safety_mentioned": "no"})]
    send(phone, a)
    b = dict(
        base, based_on_revision=1, device_id="phone-b", client_edited_at="2026-11-24T09:20:00+00:00"
    )
    b["hearings"] = [hearing_body(0, hearing_id=hearing_id, turns=[("judge", 0, 500)])]
    (from_b,) = send(phone, b)
    assert from_b["result"] == "updated"
    doc = _current(phone, base["id"])
    # The later received (B) is current for that hearing…
    assert doc["hearings"][0]["turns"] == [{"role": "judge", "start_ms": 0, "end_ms": 500}]
    assert doc["hearings"][0]["answers"] == {"safety_mentioned": "yes"}
    db.expire_all()
    assert db.get(Observation, uuid.UUID(base["id"])).device_conflict is True
    # …and A's version is kept as a revision.
    payloads = db.exec(
        select(ObservationRevision.payload).where(
            ObservationRevision.observation_id == uuid.UUID(base["id"])
        )
    ).all()
    assert any(p["hearings"][0]["answers"] == {"safety_mentioned": "no"} for p in payloads)


def test_a_lost_answer_from_the_same_device_is_not_a_conflict(db, phone, version):
    """The phone's edit was stored but the answer lost: it sends a later edit still based on
    the revision before. Its own copy holds everything; it simply becomes current."""
    hearing_id = str(uuid.uuid4())
    base = _two_devices(version, [hearing_body(0, hearing_id=hearing_id)])
    send(phone, base)
    lost = dict(base, based_on_revision=1, client_edited_at="2026-11-24T09:10:00+00:00")
    lost["hearings"] = [hearing_body(0, hearing_id=hearing_id, answers={"safety_mentioned": "no"})]
    send(phone, lost)
    later = dict(lost, notes="and a note", client_edited_at="2026-11-24T09:11:00+00:00")
    (result,) = send(phone, later)
    assert result["revision"] == 3 and not result["server_copy_differs"]
    db.expire_all()
    assert db.get(Observation, uuid.UUID(base["id"])).device_conflict is False
    assert db.exec(select(Hearing.answers)).all() == [{"safety_mentioned": "no"}]
